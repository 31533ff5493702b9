//! The chat list's live updates (newest activity first, unread counts).
//! Pure, so the rules are unit-tested.

use crate::model::{ChatId, ChatSummary, Message};

/// A message arrived: its chat moves to the top with it as the preview, and
/// counts as unread when `unread`. Returns `false` when the chat is not in
/// the list (a new chat: the caller reloads the list).
pub fn bump(chats: &mut Vec<ChatSummary>, message: &Message, unread: bool) -> bool {
    let Some(pos) = chats.iter().position(|c| c.id == message.chat_id) else {
        return false;
    };
    let mut c = chats.remove(pos);
    if unread {
        c.unread_count += 1;
    }
    c.last_message = Some(message.clone());
    chats.insert(0, c);
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
    use crate::chat::thread::tests::msg;

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
    fn visible_chats_have_nothing_unread() {
        let mut chats = vec![summary(1), summary(2)];
        chats[0].unread_count = 3;
        chats[1].unread_count = 2;
        clear_unread(&mut chats, &[1]);
        assert_eq!(chats[0].unread_count, 0);
        assert_eq!(chats[1].unread_count, 2);
    }
}
