//! The list of the user's chats: title, people, the newest message with its
//! time, unread count.

use super::clock::Clock;
use crate::chat::attachments::text_of;
use crate::chat::use_chat;
use crate::model::{ChatSummary, DisputeStatus, MessageKind, Role, UserId};
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use leptos::prelude::*;

/// The newest message in a line: the user's own as "You: …" (their own
/// name would read as someone else's), others' with their name; edited,
/// its new text; deleted, only that it was.
fn preview(c: &ChatSummary, me: Option<UserId>) -> String {
    match &c.last_message {
        None => "No messages yet".into(),
        Some(m) if m.kind == MessageKind::System => m.content.clone(),
        Some(m) if m.is_deleted() => "This message was deleted".into(),
        Some(m) if me.is_some() && m.sender_id == me => format!("You: {}", text_of(m)),
        Some(m) => format!(
            "{}: {}",
            m.sender_name.clone().unwrap_or_default(),
            text_of(m)
        ),
    }
}

/// When the newest message was sent, as chat lists show it: the time for
/// today's ("14:05"), the date for earlier ones ("23 Nov"), with the year
/// when it is not this year's ("23 Nov 2025"); before the viewer's day
/// is known, the full date.
fn row_time(at: NaiveDateTime, today: Option<NaiveDate>) -> String {
    let Some(today) = today else {
        // Before the browser knows the viewer's day: the date, in full.
        return at.format("%-d %b %Y").to_string();
    };
    if at.date() == today {
        at.format("%H:%M").to_string()
    } else if at.year() == today.year() {
        at.format("%-d %b").to_string()
    } else {
        at.format("%-d %b %Y").to_string()
    }
}

/// What the list's first frame shows: the chats, an error, or "loading".
#[derive(Clone, Copy, PartialEq, Eq)]
enum First {
    List,
    Failed,
    Loading,
}

impl First {
    fn as_str(self) -> &'static str {
        match self {
            First::List => "list",
            First::Failed => "failed",
            First::Loading => "loading",
        }
    }
}

/// Browser only, while hydrating: what the server's HTML holds (the
/// `data-chat-list-first` it wrote), so the hydrating frame follows the
/// HTML and never a value that could differ from it. A CI run once saw
/// the server send "Loading chats…" while the browser held a list, and the
/// mismatch stopped the page for good (docs/reliability.md).
fn first_in_page(kind: &str) -> Option<First> {
    #[cfg(feature = "hydrate")]
    {
        let v = web_sys::window()?
            .document()?
            .query_selector(&format!("[data-chat-list-first][data-list='{kind}']"))
            .ok()??
            .get_attribute("data-chat-list-first")?;
        Some(match v.as_str() {
            "list" => First::List,
            "failed" => First::Failed,
            _ => First::Loading,
        })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = kind;
        None
    }
}

/// `filter` keeps only some chats (the LSM's disputes view).
#[component]
pub fn ChatList(
    #[prop(optional, into)] empty_text: Option<String>,
    #[prop(optional)] disputes_only: bool,
) -> impl IntoView {
    let chat = use_chat();
    let me = chat.me().map(|m| m.id);
    let clock = Clock::new();
    let chats = move || {
        let mut list = chat.chat_list().unwrap_or_default();
        if disputes_only {
            list.retain(|c| c.dispute.is_some());
            // Open disputes first, then by recent activity (already sorted).
            list.sort_by_key(|c| c.dispute.as_ref().map(|d| d.status != DisputeStatus::Open));
        }
        list
    };
    let empty_text = empty_text.unwrap_or_else(|| "No chats yet.".into());
    let loading = || view! { <p class="muted">"Loading chats…"</p> };
    // What the list shows, from the live list or the first page the server
    // read (tracked).
    let state = move || match chat.chat_list() {
        Some(_) => First::List,
        None if chat.first_list_failed() => First::Failed,
        None => First::Loading,
    };
    // The hydrating frame shows what the server rendered; once hydrated
    // (an effect runs only then), the state decides. A mismatch can then
    // never stop hydration: at worst the list appears a tick later.
    let kind = if disputes_only { "disputes" } else { "all" };
    let pinned = RwSignal::new(first_in_page(kind));
    Effect::new(move |_| pinned.set(None));
    let shown = move || pinned.get().unwrap_or_else(state);
    let first_chats = chat.first_chats;
    // The list's box is made only once the first list has been read: the
    // server awaits it before it renders a row (so its HTML can never hold
    // "Loading chats…" beside a list it serialised), and hydration finds
    // the serialised list at once.
    view! {
        <Suspense fallback=loading>
        {move || {
        let empty_text = empty_text.clone();
        Suspend::new(async move {
        if let Some(first) = first_chats {
            let _ = first.await;
        }
        view! {
        <div class="chat-list-box" data-list=kind data-chat-list-first=move || shown().as_str()>
        <Show
            when=move || shown() == First::List
            fallback=move || if shown() == First::Failed {
                view! {
                    <p class="error" role="alert">"Your chats could not be loaded. "
                        <button class="link" on:click=move |_| chat.reload_chats()>"Try again"</button>
                    </p>
                }.into_any()
            } else {
                loading().into_any()
            }
        >
            <Show when=move || !chats().is_empty() fallback={
                let t = empty_text.clone();
                move || view! { <p class="empty">{t.clone()}</p> }
            }>
                <ul class="chat-list">
                    <For
                        each=chats
                        key=|c| (c.id, c.last_message.as_ref().map(|m| (m.id, m.revision.as_ref().map(|r| r.seq))), c.unread_count, c.participants.len(), c.dispute.clone().map(|d| d.status == DisputeStatus::Open), c.muted)
                        children=move |c| {
                            let id = c.id;
                            let others: Vec<_> = c.participants.iter().filter(|p| Some(p.id) != me).cloned().collect();
                            let names = others.iter().map(|p| p.name.clone()).collect::<Vec<_>>().join(", ");
                            let text = preview(&c, me);
                            let sent_at = c.last_message.as_ref().map(|m| m.created_at);
                            let unread = c.unread_count;
                            let open_dispute = c.dispute.as_ref().is_some_and(|d| d.status == DisputeStatus::Open);
                            let resolved = c.dispute.as_ref().is_some_and(|d| d.status == DisputeStatus::Resolved);
                            view! {
                                <li>
                                    <button class="chat-row" data-chat-id=id on:click=move |_| chat.open_chat(id)>
                                        <span class="chat-row-main">
                                            <span class="chat-title">{c.job_title.clone()}
                                                {c.lsm_invited.then(|| view! { <span class="pill pill-lsm">"LSM"</span> })}
                                                {open_dispute.then(|| view! { <span class="pill pill-open">"Dispute open"</span> })}
                                                {resolved.then(|| view! { <span class="pill pill-resolved">"Resolved"</span> })}
                                                {c.muted.then(|| view! { <span class="pill pill-muted" title="No email and no bell for this chat">"Muted"</span> })}
                                            </span>
                                            <span class="chat-people">
                                                {others.into_iter().map(|p| {
                                                    let (pid, listed) = (p.id, p.online);
                                                    // Live presence once known, else what the list said.
                                                    let online = move || chat.presence.with(|m| m.get(&pid).copied().unwrap_or(listed));
                                                    let lsm = p.role == Role::Lsm;
                                                    view! {
                                                        <span class="person">
                                                            <span class="presence" class:online=online aria-hidden="true"></span>
                                                            {p.name.clone()}{lsm.then_some(" (LSM)")}
                                                        </span>
                                                    }
                                                }).collect_view()}
                                            </span>
                                            <span class="chat-preview">{text}</span>
                                        </span>
                                        <span class="chat-row-side">
                                            {sent_at.map(|at| {
                                                let datetime = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                                                view! { <time class="chat-time" datetime=datetime>{move || row_time(clock.local(at), clock.today())}</time> }
                                            })}
                                            <Show when=move || { unread > 0 }>
                                                <span class="badge"><span aria-hidden="true">{unread}</span><span class="sr-only">{format!("{unread} unread")}</span></span>
                                            </Show>
                                        </span>
                                        <span class="sr-only">{format!("Chat with {names}")}</span>
                                    </button>
                                </li>
                            }
                        }
                    />
                </ul>
                <Show when=move || chat.has_older_chats()>
                    <button class="secondary older-chats" on:click=move |_| chat.show_older_chats()>"Show older chats"</button>
                </Show>
            </Show>
        </Show>
        </div>
        }
        })
        }}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::list::tests::summary;
    use crate::chat::thread::tests::msg;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test time")
    }

    #[test]
    fn my_own_last_message_says_you() {
        let mut c = summary(1);
        assert_eq!(preview(&c, Some(7)), "No messages yet");
        // `msg` is from user 7, "A".
        c.last_message = Some(msg(3, None));
        assert_eq!(preview(&c, Some(7)), "You: m3");
        assert_eq!(preview(&c, Some(8)), "A: m3");
        assert_eq!(preview(&c, None), "A: m3");
        let mut system = msg(4, None);
        system.kind = MessageKind::System;
        system.sender_id = None;
        system.content = "Job booked".into();
        c.last_message = Some(system);
        assert_eq!(preview(&c, Some(7)), "Job booked");
    }

    #[test]
    fn an_edited_last_message_shows_its_new_text_a_deleted_one_that_it_was() {
        use crate::chat::thread::apply_revision;
        use crate::chat::thread::tests::{deletion, edit};
        let mut c = summary(1);
        let mut last = msg(3, None);
        apply_revision(&mut last, &edit(3, 4, "new words"));
        c.last_message = Some(last.clone());
        assert_eq!(preview(&c, Some(7)), "You: new words");
        assert_eq!(preview(&c, Some(8)), "A: new words");
        apply_revision(&mut last, &deletion(3, 5));
        c.last_message = Some(last);
        assert_eq!(preview(&c, Some(7)), "This message was deleted");
        assert_eq!(preview(&c, Some(8)), "This message was deleted");
    }

    #[test]
    fn rows_show_the_time_today_and_a_date_before() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 26);
        assert_eq!(row_time(at("2026-11-26 14:05"), today), "14:05");
        assert_eq!(row_time(at("2026-11-26 00:00"), today), "00:00");
        assert_eq!(row_time(at("2026-11-25 23:59"), today), "25 Nov");
        assert_eq!(row_time(at("2026-01-02 09:00"), today), "2 Jan");
        assert_eq!(row_time(at("2025-12-31 09:00"), today), "31 Dec 2025");
        // The server's HTML and the first frame: no "today" yet.
        assert_eq!(row_time(at("2026-11-26 14:05"), None), "26 Nov 2026");
    }
}
