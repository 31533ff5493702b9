//! Typing indicators: who is typing where, and how often the user's own
//! typing is told to the server. Pure, so the rules are unit-tested.

use crate::model::{ChatId, UserId};
use crate::protocol::Typing;
use std::collections::HashMap;

/// A typing flag not refreshed for this long is gone. The server refreshes
/// it at least every 3 s while the user types and says "stopped" when they
/// stop, but that word never comes when the typer's server node dies.
pub const TYPING_TTL_MS: f64 = 6_000.0;

/// Someone typing in a chat.
#[derive(Clone, Debug, PartialEq)]
pub struct Typist {
    pub user_id: UserId,
    pub name: String,
    /// When their flag last came (ms since the epoch, the browser's clock).
    pub seen_at_ms: f64,
}

/// Who is typing, per chat, in order of their latest flag.
pub type Typists = HashMap<ChatId, Vec<Typist>>;

/// Applies a `typing` event that arrived at `now_ms`.
pub fn apply(typists: &mut Typists, event: Typing, now_ms: f64) {
    let list = typists.entry(event.chat_id).or_default();
    list.retain(|t| t.user_id != event.user_id);
    if event.is_typing {
        list.push(Typist {
            user_id: event.user_id,
            name: event.name,
            seen_at_ms: now_ms,
        });
    }
}

/// Someone's message arrived: they have stopped typing.
pub fn stopped(typists: &mut Typists, chat: ChatId, user: UserId) {
    if let Some(list) = typists.get_mut(&chat) {
        list.retain(|t| t.user_id != user);
    }
}

/// Whether a flag has gone unrefreshed for [`TYPING_TTL_MS`] at `now_ms`.
pub fn any_expired(typists: &Typists, now_ms: f64) -> bool {
    typists
        .values()
        .flatten()
        .any(|t| now_ms - t.seen_at_ms >= TYPING_TTL_MS)
}

/// Drops the flags not refreshed for [`TYPING_TTL_MS`] at `now_ms`.
pub fn expire(typists: &mut Typists, now_ms: f64) {
    for list in typists.values_mut() {
        list.retain(|t| now_ms - t.seen_at_ms < TYPING_TTL_MS);
    }
    typists.retain(|_, list| !list.is_empty());
}

/// The names of who is typing in `chat`, for [`describe`].
pub fn names(typists: &Typists, chat: ChatId) -> Vec<String> {
    typists
        .get(&chat)
        .map(|l| l.iter().map(|t| t.name.clone()).collect())
        .unwrap_or_default()
}

/// The line under the messages: "Bob is typing…", or empty.
pub fn describe(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => format!("{one} is typing…"),
        many => format!("{} are typing…", many.join(", ")),
    }
}

/// The server forgets a typing flag after 5 s; refresh it at most this often.
const REFRESH_MS: f64 = 3_000.0;

/// Which chats we told the others we are typing in, and when.
#[derive(Clone, Debug, Default)]
pub struct TypingThrottle {
    sent: HashMap<ChatId, f64>,
}

impl TypingThrottle {
    /// Whether to tell the server that the user is (or stopped) typing at
    /// `now_ms`: a start at most every 3 s, a stop only after a start.
    pub fn should_send(&mut self, chat: ChatId, typing: bool, now_ms: f64) -> bool {
        match (typing, self.sent.get(&chat).copied()) {
            (true, Some(at)) if now_ms - at < REFRESH_MS => false,
            (true, _) => {
                self.sent.insert(chat, now_ms);
                true
            }
            (false, Some(_)) => {
                self.sent.remove(&chat);
                true
            }
            (false, None) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(user: UserId, name: &str, is_typing: bool) -> Typing {
        Typing {
            chat_id: 1,
            user_id: user,
            name: name.into(),
            is_typing,
        }
    }

    #[test]
    fn typists_come_and_go() {
        let mut t = Typists::new();
        apply(&mut t, event(2, "Bob", true), 0.0);
        apply(&mut t, event(3, "Lena", true), 0.0);
        apply(&mut t, event(2, "Bob", true), 0.0);
        assert_eq!(names(&t, 1), vec!["Lena".to_owned(), "Bob".into()]);
        apply(&mut t, event(3, "Lena", false), 0.0);
        assert_eq!(names(&t, 1), vec!["Bob".to_owned()]);
        stopped(&mut t, 1, 2);
        stopped(&mut t, 9, 2);
        assert!(names(&t, 1).is_empty());
        assert!(names(&t, 9).is_empty());
    }

    #[test]
    fn flags_without_a_refresh_expire_after_six_seconds() {
        let mut t = Typists::new();
        apply(&mut t, event(2, "Bob", true), 0.0);
        apply(&mut t, event(3, "Lena", true), 2_000.0);
        // Bob's refresh comes 3 s later: his flag lives on.
        apply(&mut t, event(2, "Bob", true), 3_000.0);
        assert!(!any_expired(&t, 7_999.0));
        expire(&mut t, 7_999.0);
        assert_eq!(names(&t, 1), vec!["Lena".to_owned(), "Bob".into()]);
        // Lena's node died: no refresh, no "stopped", gone at 6 s.
        assert!(any_expired(&t, 8_000.0));
        expire(&mut t, 8_000.0);
        assert_eq!(names(&t, 1), vec!["Bob".to_owned()]);
        assert!(!any_expired(&t, 8_999.0));
        // Bob stops refreshing too: gone 6 s after his last flag.
        expire(&mut t, 9_000.0);
        assert!(t.is_empty(), "chats with nobody typing go too");
        assert!(!any_expired(&t, 30_000.0));
    }

    #[test]
    fn describes_who_types() {
        assert_eq!(describe(&[]), "");
        assert_eq!(describe(&["Bob".into()]), "Bob is typing…");
        assert_eq!(
            describe(&["Bob".into(), "Lena".into()]),
            "Bob, Lena are typing…"
        );
    }

    #[test]
    fn throttle_refreshes_every_three_seconds_and_stops_once() {
        let mut t = TypingThrottle::default();
        assert!(!t.should_send(1, false, 0.0), "no stop without a start");
        assert!(t.should_send(1, true, 0.0));
        assert!(!t.should_send(1, true, 2_999.0));
        assert!(t.should_send(2, true, 1_000.0), "per chat");
        assert!(t.should_send(1, true, 3_000.0));
        assert!(t.should_send(1, false, 3_100.0));
        assert!(!t.should_send(1, false, 3_200.0));
        assert!(t.should_send(1, true, 3_300.0), "a new start after a stop");
    }
}
