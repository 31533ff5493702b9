//! One message's images at full size, in a modal `<dialog>`: named by the
//! file's name, Left/Right between the message's images, Escape or Close
//! shuts it and the focus goes back to the thumbnail that opened it (the
//! browser's modal dialog keeps Tab inside and the page inert meanwhile).

use crate::chat::attachments::{human_size, kind_label};
use crate::components::focus;
use crate::model::Attachment;
use leptos::html;
use leptos::prelude::*;

#[component]
pub fn Lightbox(images: Memo<Vec<Attachment>>, shown: RwSignal<Option<usize>>) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let current = Memo::new(move |_| {
        shown
            .get()
            .and_then(|i| images.with(|im| im.get(i).cloned()))
    });
    let count = move || images.with(Vec::len);
    // The thumbnail to focus again once it closes.
    let opener = RwSignal::new(None::<i64>);

    Effect::new(move |_| {
        let Some(d) = dialog.get() else { return };
        match current.get() {
            Some(a) => {
                if opener.get_untracked().is_none() {
                    opener.set(Some(a.id));
                }
                if !d.open() {
                    let _ = d.show_modal();
                }
            }
            None => {
                if d.open() {
                    d.close();
                }
                if let Some(id) = opener.get_untracked() {
                    opener.set(None);
                    focus::focus(&format!("#thumb-{id}"));
                }
            }
        }
    });
    let step = move |by: isize| {
        let n = count() as isize;
        if n > 1 {
            shown.update(|s| {
                if let Some(i) = s {
                    *i = ((*i as isize + by).rem_euclid(n)) as usize;
                }
            });
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        // Handled here: the chat window closes itself on Escape too.
        "Escape" => {
            ev.prevent_default();
            ev.stop_propagation();
            shown.set(None);
        }
        "ArrowLeft" => {
            ev.prevent_default();
            step(-1);
        }
        "ArrowRight" => {
            ev.prevent_default();
            step(1);
        }
        _ => {}
    };
    let name = move || current.with(|a| a.as_ref().map(|a| a.name.clone()).unwrap_or_default());
    let about = move || {
        current.with(|a| {
            a.as_ref()
                .map(|a| {
                    format!(
                        "{} · {}",
                        kind_label(&a.mime),
                        human_size(u64::try_from(a.size).unwrap_or(0))
                    )
                })
                .unwrap_or_default()
        })
    };
    let position = move || {
        shown
            .get()
            .filter(|_| count() > 1)
            .map(|i| format!("{} of {}", i + 1, count()))
    };
    let href = move || current.with(|a| a.as_ref().map(|a| format!("/api/attachments/{}", a.id)));
    view! {
        <dialog class="lightbox" node_ref=dialog aria-label=name on:keydown=on_keydown
            on:close=move |_| shown.set(None)>
            <div class="lightbox-bar">
                <span class="lightbox-name">{name}</span>
                <span class="lightbox-about">{about}" "{position}</span>
                <a class="lightbox-download" href=href download=name>"Download"</a>
                <button type="button" class="secondary" autofocus on:click=move |_| shown.set(None)>"Close"</button>
            </div>
            {move || current.get().map(|a| view! {
                <img src=format!("/api/attachments/{}", a.id) alt=a.name.clone()/>
            })}
            <Show when=move || { count() > 1 }>
                <div class="lightbox-nav">
                    <button type="button" class="secondary" aria-label="Previous image" on:click=move |_| step(-1)>"←"</button>
                    <button type="button" class="secondary" aria-label="Next image" on:click=move |_| step(1)>"→"</button>
                </div>
            </Show>
        </dialog>
    }
}
