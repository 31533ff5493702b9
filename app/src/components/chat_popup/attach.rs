//! Files chosen for the message being written: from the attach button, a
//! drop on the window or a paste into the box. Each shows as a chip (name,
//! size, Remove) above the box; the count and size are checked here against
//! the server's real limits, so a file it would refuse for them is never
//! sent. The bytes go to the runtime at once (`keep_file`), the chips hold
//! only their key; Send hands the keys to the message.

use crate::chat::attachments::human_size;
#[cfg(feature = "hydrate")]
use crate::chat::attachments::{refuse_size, room_for};
use crate::chat::outgoing::{FileUpload, UploadState};
use crate::chat::use_chat;
use leptos::prelude::*;

/// A chosen file, before the send.
#[derive(Clone, Debug, PartialEq)]
pub struct Chosen {
    /// Where the runtime keeps its bytes (empty when refused here).
    pub key: String,
    pub name: String,
    pub size: u64,
    /// Why it cannot go (too large, empty), said before any upload.
    pub error: Option<String>,
}

/// The files chosen for one chat's next message, shared by the window (a
/// drop) and its composer (button, paste, Send).
#[derive(Clone, Copy)]
pub struct Staging {
    pub chosen: RwSignal<Vec<Chosen>>,
    /// Files are being dragged over the window.
    pub dragging: RwSignal<bool>,
    /// What the last choice could not take (too many files).
    pub note: RwSignal<Option<String>>,
    /// Event handlers run outside the component's owner: the context is
    /// kept here.
    chat: crate::chat::ChatContext,
}

impl Staging {
    pub fn new() -> Self {
        let staging = Self {
            chosen: RwSignal::new(Vec::new()),
            dragging: RwSignal::new(false),
            note: RwSignal::new(None),
            chat: use_chat(),
        };
        // The window closed with files chosen but not sent: their bytes go.
        on_cleanup(move || {
            let keys: Vec<String> = staging
                .chosen
                .try_with_untracked(|c| {
                    c.iter()
                        .filter(|f| !f.key.is_empty())
                        .map(|f| f.key.clone())
                        .collect()
                })
                .unwrap_or_default();
            if !keys.is_empty() {
                staging.chat.forget_files(keys);
            }
        });
        staging
    }

    pub fn has_errors(&self) -> bool {
        self.chosen
            .with_untracked(|c| c.iter().any(|f| f.error.is_some()))
    }

    /// The files for the message, emptying the chips (their bytes now
    /// belong to the message).
    pub fn take(&self) -> Vec<FileUpload> {
        self.note.set(None);
        std::mem::take(&mut *self.chosen.write())
            .into_iter()
            .map(|c| FileUpload {
                key: c.key,
                name: c.name,
                size: c.size,
                state: UploadState::Waiting,
            })
            .collect()
    }

    pub fn remove(&self, key: &str, index: usize) {
        let chat = self.chat;
        self.chosen.update(|c| {
            if index < c.len() {
                c.remove(index);
            }
        });
        if !key.is_empty() {
            chat.forget_files(vec![key.to_owned()]);
        }
        self.note.set(None);
    }

    /// Takes files from a picker, a drop or a paste.
    #[cfg(feature = "hydrate")]
    pub fn add(&self, list: Option<web_sys::FileList>) {
        let Some(list) = list else { return };
        let chat = self.chat;
        let limits = chat.settings;
        let files: Vec<web_sys::File> = (0..list.length()).filter_map(|i| list.get(i)).collect();
        let room = room_for(
            self.chosen.with_untracked(Vec::len),
            limits.files_per_message,
        );
        if files.len() > room {
            self.note.set(Some(format!(
                "A message carries up to {} files",
                limits.files_per_message
            )));
        } else {
            self.note.set(None);
        }
        let mut added = Vec::new();
        for f in files.into_iter().take(room) {
            let size = f.size() as u64;
            let mut name = f.name();
            if name.is_empty() || (name == "image.png" && f.type_() == "image/png") {
                // A pasted picture has no name of its own.
                name = pasted_name(&f.type_());
            }
            let error = refuse_size(size, limits.max_file_bytes);
            let key = if error.is_none() {
                chat.keep_file(&f)
            } else {
                String::new()
            };
            added.push(Chosen {
                key,
                name,
                size,
                error,
            });
        }
        self.chosen.update(|c| c.extend(added));
    }
}

#[cfg(feature = "hydrate")]
fn pasted_name(mime: &str) -> String {
    let ext = match mime {
        "image/jpeg" => "jpg",
        "image/webp" => "webp",
        _ => "png",
    };
    format!(
        "pasted-{}.{ext}",
        chrono::Local::now().format("%Y-%m-%d-%H%M%S")
    )
}

/// The server's limits, as the user reads them.
fn limits_hint(limits: crate::settings::Settings) -> Option<String> {
    (limits.max_file_bytes > 0 && limits.files_per_message > 0).then(|| {
        format!(
            "Up to {} files, {} each",
            limits.files_per_message,
            human_size(limits.max_file_bytes)
        )
    })
}

/// The attach button: a styled label over the file picker (the picker
/// itself keeps the focus and the accessible name).
#[component]
pub fn AttachButton(staging: Staging) -> impl IntoView {
    let chat = use_chat();
    let limits = chat.settings;
    let title = limits_hint(limits).map_or_else(
        || "Attach files".to_owned(),
        |h| format!("Attach files ({})", h.to_lowercase()),
    );
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                staging.add(input.files());
                // The same file may be chosen again after a Remove.
                input.set_value("");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, staging);
    };
    view! {
        <label class="attach" title=title>
            <input type="file" multiple class="sr-only" aria-label="Attach files" on:change=on_change/>
            // A paperclip (Feather's, MIT): an emoji is missing from some
            // systems' fonts.
            <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" fill="none" stroke="currentColor"
                stroke-width="2" stroke-linecap="round" stroke-linejoin="round">
                <path d="M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48"/>
            </svg>
        </label>
    }
}

/// The chosen files above the box.
#[component]
pub fn ChosenFiles(staging: Staging) -> impl IntoView {
    let rows = move || {
        staging
            .chosen
            .get()
            .into_iter()
            .enumerate()
            .collect::<Vec<_>>()
    };
    view! {
        <Show when=move || staging.chosen.with(|c| !c.is_empty()) || staging.note.with(Option::is_some)>
            <ul class="chips" aria-label="Files to send">
                <For each=rows key=|(i, c)| (*i, c.key.clone(), c.name.clone()) let:row>
                    {
                        let (i, c) = row;
                        let label = format!("Remove {}", c.name);
                        let key = c.key.clone();
                        view! {
                            <li class="chip" class:refused=c.error.is_some() data-file=c.name.clone()>
                                <span class="chip-name" title=c.name.clone()>{c.name.clone()}</span>
                                <span class="chip-size">{human_size(c.size)}</span>
                                {c.error.clone().map(|e| view! { <span class="chip-error" role="alert">{e}</span> })}
                                <button type="button" class="link chip-remove" aria-label=label
                                    on:click=move |_| staging.remove(&key, i)>"Remove"</button>
                            </li>
                        }
                    }
                </For>
            </ul>
            <Show when=move || staging.note.with(Option::is_some)>
                <p class="error" role="alert">{move || staging.note.get()}</p>
            </Show>
            {limits_hint(use_chat().settings).map(|h| view! { <p class="chips-hint">{h}</p> })}
        </Show>
    }
}
