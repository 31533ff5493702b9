//! A message's files in its bubble: images as thumbnails that open the
//! lightbox, other files as a card (name, type, size) with a download link;
//! and, while the user's own message is still going out, each file's
//! upload (progress, or the server's refusal with Remove).

use super::lightbox::Lightbox;
use crate::chat::attachments::{human_size, kind_label, thumbnail_box};
use crate::chat::outgoing::{FileUpload, UploadState};
use crate::chat::use_chat;
use crate::model::{Attachment, ChatId};
use leptos::prelude::*;

/// The stored files of one message.
#[component]
pub fn Files(files: Memo<Vec<Attachment>>) -> impl IntoView {
    // Which image the lightbox shows (its index among the images).
    let shown = RwSignal::new(None::<usize>);
    let images = Memo::new(move |_| {
        files.with(|f| {
            f.iter()
                .filter(|a| a.is_image())
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let others = Memo::new(move |_| {
        files.with(|f| {
            f.iter()
                .filter(|a| !a.is_image())
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    view! {
        <Show when=move || files.with(|f| !f.is_empty())>
            <div class="files">
                <Show when=move || images.with(|i| !i.is_empty())>
                    <div class="thumbs">
                        {move || images.get().into_iter().enumerate().map(|(i, a)| {
                            let (w, h) = thumbnail_box(&a);
                            let src = if a.thumbnail {
                                format!("/api/attachments/{}/thumbnail", a.id)
                            } else {
                                format!("/api/attachments/{}", a.id)
                            };
                            view! {
                                <button type="button" class="thumb" id=format!("thumb-{}", a.id)
                                    aria-haspopup="dialog" on:click=move |_| shown.set(Some(i))>
                                    <img src=src alt=a.name.clone() width=w height=h loading="lazy"/>
                                </button>
                            }
                        }).collect_view()}
                    </div>
                    <Lightbox images shown/>
                </Show>
                {move || others.get().into_iter().map(|a| view! { <FileCard file=a/> }).collect_view()}
            </div>
        </Show>
    }
}

#[component]
fn FileCard(file: Attachment) -> impl IntoView {
    let href = format!("/api/attachments/{}", file.id);
    let about = format!(
        "{} · {}",
        kind_label(&file.mime),
        human_size(u64::try_from(file.size).unwrap_or(0))
    );
    view! {
        <div class="file-card">
            <span class="file-name">{file.name.clone()}</span>
            <span class="file-about">{about}</span>
            <a href=href download=file.name.clone() aria-label=format!("Download {}", file.name)>"Download"</a>
        </div>
    }
}

/// The files of the user's message that is still going out: each one's
/// upload, a refused one with the server's reason and Remove (the rest then
/// go).
#[component]
pub fn Uploads(chat_id: ChatId, client_id: String) -> impl IntoView {
    let chat = use_chat();
    let key = client_id.clone();
    let files = Memo::new(move |_| {
        chat.uploads
            .with(|u| u.get(&key).cloned().unwrap_or_default())
    });
    view! {
        <Show when=move || files.with(|f| !f.is_empty())>
            <ul class="chips in-message" aria-label="Files">
                <For each=move || files.get() key=|f| (f.key.clone(), stage(&f.state))
                    children={
                        let client_id = client_id.clone();
                        move |f| view! { <UploadChip chat_id client_id=client_id.clone() file=f/> }
                    }
                />
            </ul>
        </Show>
    }
}

/// A chip is drawn again when its file moves on.
fn stage(s: &UploadState) -> u8 {
    match s {
        UploadState::Waiting => 0,
        UploadState::Done(_) => 1,
        UploadState::Refused(_) => 2,
    }
}

#[component]
fn UploadChip(chat_id: ChatId, client_id: String, file: FileUpload) -> impl IntoView {
    let chat = use_chat();
    let name = file.name.clone();
    let key = file.key.clone();
    let state = file.state.clone();
    let progress = move || {
        chat.progress.with(|p| {
            p.get(&key)
                .copied()
                .unwrap_or(if matches!(state, UploadState::Done(_)) {
                    100
                } else {
                    0
                })
        })
    };
    let refused = match &file.state {
        UploadState::Refused(why) => Some(why.clone()),
        _ => None,
    };
    let remove_key = file.key.clone();
    let is_refused = refused.is_some();
    let remove_label = format!("Remove {name}");
    view! {
        <li class="chip" class:refused=is_refused data-file=name.clone()>
            <span class="chip-name" title=name.clone()>{name.clone()}</span>
            <span class="chip-size">{human_size(file.size)}</span>
            {match refused {
                Some(why) => view! {
                    <span class="chip-error" role="alert">{why}</span>
                    <button type="button" class="link" aria-label=remove_label
                        on:click=move |_| chat.remove_file(chat_id, client_id.clone(), remove_key.clone())>"Remove"</button>
                }.into_any(),
                None => view! {
                    <progress max="100" value=progress aria-label=format!("Uploading {name}")></progress>
                }.into_any(),
            }}
        </li>
    }
}
