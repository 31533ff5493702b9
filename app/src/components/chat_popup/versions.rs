//! "Versions": what the LSM of a dispute sees of an edited or deleted
//! message: every text it had and when (as sent, each edit), and the
//! deletion with its time. The only place a deleted text shows. Read from
//! the server when opened (`message_versions`), and again when the message
//! changes while open; this bubble is all that needs it, so it does not
//! pass through the live state.

use super::timeline::LineState;
use crate::components::clock::Clock;
use crate::model::{ChatId, MessageHistory, MessageKind};
use leptos::prelude::*;

/// How a version came to be, as the list says it.
fn kind_label(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Edit => "Edited",
        MessageKind::Delete => "Deleted",
        MessageKind::User | MessageKind::System => "Sent",
    }
}

#[component]
pub fn Versions(chat_id: ChatId, current: Memo<LineState>, clock: Clock) -> impl IntoView {
    let open = RwSignal::new(false);
    let history = RwSignal::new(None::<Result<MessageHistory, String>>);
    let list_id = format!("versions-{chat_id}-{}", current.with_untracked(|c| c.id));
    // Read when opened, and again when another change lands while open.
    let revision = Memo::new(move |_| current.with(|c| c.revision.as_ref().map(|r| r.seq)));
    Effect::new(move |_| {
        revision.track();
        if !open.get() {
            return;
        }
        let message = current.with_untracked(|c| c.id);
        leptos::task::spawn_local(async move {
            let answer = crate::api::message_versions(chat_id, message).await;
            history.try_set(Some(answer.map_err(|e| e.message)));
        });
    });
    let when = move |at: chrono::DateTime<chrono::Utc>| {
        clock.local(at).format("%-d %b %Y, %H:%M").to_string()
    };
    let toggle = move |_| {
        if open.get_untracked() {
            history.set(None);
        }
        open.update(|o| *o = !*o);
    };
    view! {
        <button type="button" class="link msg-versions-toggle" aria-expanded=move || open.get().to_string()
            aria-controls=list_id.clone() on:click=toggle>"Versions"</button>
        // Always there (hidden while closed), so the button's
        // `aria-controls` names an element that exists.
        <div class="versions" id=list_id hidden=move || !open.get()>
            {move || match (open.get(), history.get()) {
                    (false, _) => ().into_any(),
                    (true, None) => view! { <p class="muted" role="status">"Loading versions…"</p> }.into_any(),
                    (true, Some(Err(why))) => view! { <p class="error" role="alert">{why}</p> }.into_any(),
                    (true, Some(Ok(h))) => view! {
                        <ol aria-label="Versions, oldest first">
                            {h.versions.into_iter().map(|v| {
                                let datetime = v.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                                let deleted = v.kind == MessageKind::Delete;
                                view! {
                                    <li class="version" data-kind=v.kind.as_str()>
                                        <span class="version-head">
                                            <span class="version-kind">{kind_label(v.kind)}</span>
                                            <time datetime=datetime>{move || when(v.at)}</time>
                                        </span>
                                        {(!deleted).then(|| view! { <span class="version-text">{v.content}</span> })}
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                    }.into_any(),
            }}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_say_how_they_came_to_be() {
        assert_eq!(kind_label(MessageKind::User), "Sent");
        assert_eq!(kind_label(MessageKind::Edit), "Edited");
        assert_eq!(kind_label(MessageKind::Delete), "Deleted");
    }
}
