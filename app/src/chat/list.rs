//! The chat list's live updates (newest activity first, unread counts).
//! Pure, so the rules are unit-tested.

use crate::model::{ChatId, ChatSummary, Message};

/// A message new to the browser arrived: it counts as unread when `unread`,
/// and when it is the chat's newest (by seq) the chat moves to the top with
/// it as the preview. One that arrives late (out of order, or filling a
/// gap) never replaces a newer preview nor reorders the list. Returns
/// `false` when the chat is not in the list (a new chat: the caller reloads
/// the list).
pub fn bump(chats: &mut Vec<ChatSummary>, message: &Message, unread: bool) -> bool {
    let Some(pos) = chats.iter().position(|c| c.id == message.chat_id) else {
        return false;
    };
    let c = &mut chats[pos];
    if unread {
        c.unread_count += 1;
    }
    if message.seq >= c.last_seq {
        c.last_seq = message.seq;
        c.last_message = Some(message.clone());
        let c = chats.remove(pos);
        chats.insert(0, c);
    }
    true
}

/// The user is looking at these chats: nothing in them is unread.
pub fn clear_unread(chats: &mut [ChatSummary], visible: &[ChatId]) {
    for c in chats.iter_mut().filter(|c| visible.contains(&c.id)) {
        c.unread_count = 0;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::chat::thread::tests::{at_seq, msg};

    /// A bare chat summary for tests (no people, no messages, nothing unread).
    pub(crate) fn summary(id: ChatId) -> ChatSummary {
        ChatSummary {
            id,
            job_id: id,
            job_title: format!("job {id}"),
            participants: Vec::new(),
            lsm_invited: false,
            dispute: None,
            last_message: None,
            last_seq: 0,
            left: false,
            unread_count: 0,
        }
    }

    #[test]
    fn bump_moves_to_top_and_counts() {
        let mut chats = vec![summary(2), summary(1)];
        let m = msg(5, None); // chat 1
        assert!(bump(&mut chats, &m, true));
        assert_eq!(chats[0].id, 1);
        assert_eq!(chats[0].unread_count, 1);
        assert_eq!(chats[0].last_message.as_ref().map(|m| m.id), Some(5));
        assert!(bump(&mut chats, &m, false));
        assert_eq!(chats[0].unread_count, 1);
        let mut other = vec![summary(2)];
        assert!(!bump(&mut other, &m, true), "unknown chat");
    }

    #[test]
    fn late_messages_count_but_keep_the_newest_preview_and_place() {
        let mut chats = vec![summary(2), summary(1)];
        assert!(bump(&mut chats, &at_seq(16, 6, None), true)); // chat 1
        let mut other = msg(40, None);
        other.chat_id = 2;
        assert!(bump(&mut chats, &other, false));
        assert_eq!(chats[0].id, 2);
        // 4 and 5 of chat 1 arrive after its 6 (a gap filled).
        assert!(bump(&mut chats, &at_seq(15, 5, None), true));
        assert!(bump(&mut chats, &at_seq(14, 4, None), true));
        assert_eq!(chats[0].id, 2, "the list keeps its order");
        let c1 = &chats[1];
        assert_eq!(c1.unread_count, 3);
        assert_eq!(
            (c1.last_seq, c1.last_message.as_ref().map(|m| m.id)),
            (6, Some(16))
        );
    }

    #[test]
    fn visible_chats_have_nothing_unread() {
        let mut chats = vec![summary(1), summary(2)];
        chats[0].unread_count = 3;
        chats[1].unread_count = 2;
        clear_unread(&mut chats, &[1]);
        assert_eq!(chats[0].unread_count, 0);
        assert_eq!(chats[1].unread_count, 2);
    }
}
