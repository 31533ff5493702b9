//! Typing indicators: who is typing where, and how often the user's own
//! typing is told to the server. Pure, so the rules are unit-tested.

use crate::model::{ChatId, UserId};
use crate::protocol::Typing;
use std::collections::HashMap;

/// Who is typing, per chat: user id and display name, in arrival order.
pub type Typists = HashMap<ChatId, Vec<(UserId, String)>>;

/// Applies a `typing` event.
pub fn apply(typists: &mut Typists, event: Typing) {
    let list = typists.entry(event.chat_id).or_default();
    list.retain(|(id, _)| *id != event.user_id);
    if event.is_typing {
        list.push((event.user_id, event.name));
    }
}

/// Someone's message arrived: they have stopped typing.
pub fn stopped(typists: &mut Typists, chat: ChatId, user: UserId) {
    if let Some(list) = typists.get_mut(&chat) {
        list.retain(|(id, _)| *id != user);
    }
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
        apply(&mut t, event(2, "Bob", true));
        apply(&mut t, event(3, "Lena", true));
        apply(&mut t, event(2, "Bob", true));
        assert_eq!(t[&1], vec![(3, "Lena".into()), (2, "Bob".into())]);
        apply(&mut t, event(3, "Lena", false));
        assert_eq!(t[&1], vec![(2, "Bob".into())]);
        stopped(&mut t, 1, 2);
        stopped(&mut t, 9, 2);
        assert!(t[&1].is_empty());
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
