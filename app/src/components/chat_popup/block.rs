//! A person's card, opened from their name in a chat window's header:
//! "Report" (a report about the person) and "Block" / "Unblock". Blocking
//! asks first and says what it does; in a chat whose job may still go to
//! an LSM it offers to open the dispute form ("Add LSM") right after.
//! Whom the user blocks is read once (`blocked_users`) and kept per page.

use super::report::{RECEIVED, ReportForm, Reported};
use crate::components::focus;
use crate::components::moderation::said;
use crate::model::{ChatId, Participant, Role, UserId};
use leptos::ev::KeyboardEvent;
use leptos::prelude::*;
use std::collections::HashSet;

/// What blocking does, as the confirmation says it.
pub const BLOCK_EFFECT: &str = "They can't book you or start a new chat with you, and their messages won't ring your bell. Blocks are private.";

/// Whom the user blocks (`None` until read), shared by every window.
#[derive(Clone, Copy)]
pub struct Blocks(RwSignal<Option<HashSet<UserId>>>);

impl Blocks {
    /// One for the page (the dock provides it to every window).
    pub fn provide() {
        provide_context(Self(RwSignal::new(None)));
    }

    /// The page's (a window's own if none was provided).
    pub fn get() -> Self {
        use_context::<Self>().unwrap_or_else(|| Self(RwSignal::new(None)))
    }

    /// Reads the list once (in the browser, when a card first opens).
    fn load(self) {
        if self.0.with_untracked(Option::is_some) {
            return;
        }
        leptos::task::spawn_local(async move {
            if let Ok(list) = crate::api::blocked_users().await {
                self.0
                    .try_set(Some(list.into_iter().map(|b| b.user.id).collect()));
            }
        });
    }

    pub fn has(self, user: UserId) -> bool {
        self.0
            .with(|b| b.as_ref().is_some_and(|b| b.contains(&user)))
    }

    fn set(self, user: UserId, blocked: bool) {
        self.0.try_update(|b| {
            let b = b.get_or_insert_with(HashSet::new);
            if blocked {
                b.insert(user);
            } else {
                b.remove(&user);
            }
        });
    }
}

/// Which person's card is open in a window, owned by the window.
#[derive(Clone, Copy, Default)]
pub struct CardState {
    pub person: RwSignal<Option<Participant>>,
}

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Menu,
    Reporting,
    ConfirmBlock,
    Done(String),
}

#[component]
pub fn PersonCard(
    chat_id: ChatId,
    state: CardState,
    /// The window may open a dispute ("Add LSM"): blocking offers it.
    can_dispute: Signal<bool>,
    /// Opens the window's dispute form.
    dispute_open: RwSignal<bool>,
) -> impl IntoView {
    let blocks = Blocks::get();
    let me = crate::chat::use_chat().me();
    let step = RwSignal::new(Step::Menu);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let also_dispute = RwSignal::new(false);
    let here = format!(".popup[data-chat-id=\"{chat_id}\"] .person-card");
    // A card opened on someone: the list of blocks is read, the first step
    // shows and takes the focus.
    Effect::new({
        let here = here.clone();
        move |_| {
            if state.person.get().is_some() {
                blocks.load();
                step.set(Step::Menu);
                error.set(None);
                also_dispute.set(false);
                let here = here.clone();
                request_animation_frame(move || {
                    focus::focus_first_in(&format!("{here} .card-body"))
                });
            }
        }
    });
    // Each later step takes the focus too.
    Effect::new({
        let here = here.clone();
        move |prev: Option<Step>| {
            let now = step.get();
            if prev.is_some_and(|p| p != now) && now != Step::Reporting {
                let here = here.clone();
                request_animation_frame(move || {
                    focus::focus_first_in(&format!("{here} .card-body"))
                });
            }
            now
        }
    });
    let close = move || {
        let who = state.person.get_untracked().map(|p| p.id);
        state.person.set(None);
        if let Some(id) = who {
            focus::focus(&format!(
                ".popup[data-chat-id=\"{chat_id}\"] .person[data-user-id=\"{id}\"]"
            ));
        }
    };
    let on_keydown = move |ev: KeyboardEvent| {
        if ev.key() == "Escape" && step.get_untracked() != Step::Reporting {
            ev.prevent_default();
            ev.stop_propagation();
            close();
        }
    };
    let set_block = move |person: Participant, block: bool| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let dispute = block && also_dispute.get_untracked() && can_dispute.get_untracked();
        leptos::task::spawn_local(async move {
            let answer = crate::api::set_block(person.id, block).await;
            busy.try_set(false);
            match answer {
                Ok(()) => {
                    blocks.set(person.id, block);
                    if dispute {
                        state.person.set(None);
                        dispute_open.set(true);
                        let form =
                            format!(".popup[data-chat-id=\"{chat_id}\"] .dispute-form textarea");
                        request_animation_frame(move || {
                            focus::focus(&form);
                        });
                    } else if block {
                        step.set(Step::Done(format!("You blocked {}.", person.name)));
                    } else {
                        step.set(Step::Done(format!("You unblocked {}.", person.name)));
                    }
                }
                Err(e) => {
                    error.try_set(Some(said(e)));
                }
            }
        });
    };
    let my_role = me.as_ref().map(|m| m.role);
    let card = move || {
        state.person.get().map(|p| {
            let name = p.name.clone();
            let pid = p.id;
            // LSMs are reported, never blocked (nor do LSMs block).
            let blockable = p.role != Role::Lsm && my_role.is_some_and(|r| r != Role::Lsm);
            let role = crate::components::moderation::role_label(p.role);
            let title_id = format!("card-{chat_id}-{pid}");
            let (p_block, p_unblock) = (p.clone(), p.clone());
            let body_key = title_id.clone();
            let labelled_by = title_id.clone();
            let body = move || match step.get() {
                Step::Menu => view! {
                    <div class="row">
                        <button type="button" class="small secondary" on:click=move |_| step.set(Step::Reporting)>"Report"</button>
                        {blockable.then(|| {
                            let p = p_unblock.clone();
                            view! {
                                <Show when=move || blocks.has(pid)
                                    fallback=move || view! {
                                        <button type="button" class="small danger" on:click=move |_| step.set(Step::ConfirmBlock)>"Block"</button>
                                    }>
                                    {
                                        let p = p.clone();
                                        view! {
                                            <button type="button" class="small secondary" disabled=move || busy.get()
                                                on:click=move |_| set_block(p.clone(), false)>"Unblock"</button>
                                        }
                                    }
                                </Show>
                            }
                        })}
                    </div>
                }
                .into_any(),
                Step::Reporting => {
                    let done = Callback::new(move |sent: bool| {
                        if sent {
                            step.set(Step::Done(RECEIVED.into()));
                        } else {
                            step.set(Step::Menu);
                        }
                    });
                    view! { <ReportForm chat_id about=Reported::Person(pid) done/> }.into_any()
                }
                Step::ConfirmBlock => {
                    let p = p_block.clone();
                    let question_id = format!("{body_key}-block");
                    let question = format!("Block {}? {BLOCK_EFFECT}", p.name);
                    view! {
                        <p class="card-question" id=question_id.clone()>{question}</p>
                        <Show when=move || can_dispute.get()>
                            <label class="inline check">
                                <input type="checkbox" prop:checked=move || also_dispute.get()
                                    on:change=move |ev| also_dispute.set(event_target_checked(&ev))/>
                                "Also ask a local service manager to settle this job"
                            </label>
                        </Show>
                        <div class="row">
                            <button type="button" class="small danger" aria-describedby=question_id disabled=move || busy.get()
                                on:click=move |_| set_block(p.clone(), true)>
                                {move || if busy.get() { "Blocking…" } else { "Block" }}
                            </button>
                            <button type="button" class="small secondary" on:click=move |_| step.set(Step::Menu)>"Cancel"</button>
                        </div>
                    }
                    .into_any()
                }
                Step::Done(text) => view! {
                    <p class="card-done" role="status">{text}</p>
                    <div class="row">
                        <button type="button" class="small secondary" on:click=move |_| close()>"Done"</button>
                    </div>
                }
                .into_any(),
            };
            view! {
                <div class="person-card" role="dialog" aria-labelledby=labelled_by on:keydown=on_keydown>
                    <div class="row spread">
                        <p class="card-title" id=title_id>
                            <b>{name}</b>
                            <span class="muted">" · "{role}</span>
                            <Show when=move || blocks.has(pid)>
                                <span class="tag tag-danger">"Blocked"</span>
                            </Show>
                        </p>
                        <button type="button" class="icon-button" aria-label="Close card" on:click=move |_| close()>"×"</button>
                    </div>
                    <div class="card-body">{body}</div>
                    <Show when=move || error.get().is_some()>
                        <p class="error" role="alert">{move || error.get()}</p>
                    </Show>
                </div>
            }
        })
    };
    view! { {card} }
}
