//! The bell's rules, pure so they are unit-tested. One rule ties the bell to
//! the chat badges: reading a chat up to seq N clears that chat's
//! new-message entries up to N (the server does it in the read's
//! transaction and tells every tab, `ChatRead`). A new-message entry counts
//! as the messages it stands for, so with only messages unread the bell's
//! number is the sum of the chat badges (and the tab title's); dispute
//! notices, which have no badge, add one each.

use crate::model::{Notification, Seq};
use crate::protocol::ChatRead;

const NEW_MESSAGE: &str = "new_message";

/// The bell's number: unread entries, a new-message entry counting its
/// messages.
pub fn count(list: &[Notification]) -> i64 {
    list.iter()
        .filter(|n| n.read_at.is_none())
        .map(|n| {
            if n.kind == NEW_MESSAGE {
                n.count.max(0)
            } else {
                1
            }
        })
        .sum()
}

/// A new or bumped entry arrived. `read_up_to` is how far the user has
/// read its chat (as this tab knows): an entry standing only for messages
/// up to there is already read (the read and the bell crossed on the way).
pub fn arrived(list: &mut Vec<Notification>, mut n: Notification, read_up_to: Option<Seq>) {
    if n.kind == NEW_MESSAGE
        && n.read_at.is_none()
        && let (Some(seq), Some(read)) = (n.seq, read_up_to)
        && seq <= read
    {
        n.read_at = Some(n.created_at);
    }
    list.retain(|x| x.id != n.id);
    list.insert(0, n);
}

/// The user read a chat (in this tab or another): the entries the read
/// changed replace ours, and any other unread new-message entry of that
/// chat up to the read seq is read too.
pub fn read(list: &mut [Notification], read: &ChatRead) {
    for n in list.iter_mut() {
        if let Some(changed) = read.notifications.iter().find(|c| c.id == n.id) {
            *n = changed.clone();
        } else if n.kind == NEW_MESSAGE
            && n.chat_id == Some(read.chat_id)
            && n.read_at.is_none()
            && n.seq.is_none_or(|s| s <= read.seq)
        {
            n.read_at = Some(n.created_at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, kind: &str, chat: i64, count: i64, seq: Option<Seq>) -> Notification {
        Notification {
            id,
            kind: kind.into(),
            chat_id: Some(chat),
            title: String::new(),
            body: String::new(),
            count,
            seq,
            created_at: chrono::Utc::now(),
            read_at: None,
        }
    }

    #[test]
    fn a_message_entry_counts_its_messages_and_a_notice_one() {
        let mut list = vec![
            entry(1, NEW_MESSAGE, 1, 2, Some(5)),
            entry(2, NEW_MESSAGE, 2, 1, Some(3)),
            entry(3, "dispute_opened", 1, 1, None),
        ];
        assert_eq!(count(&list), 4);
        list[0].read_at = Some(chrono::Utc::now());
        assert_eq!(count(&list), 2);
    }

    #[test]
    fn reading_a_chat_clears_its_entries_up_to_the_seq() {
        let mut list = vec![
            entry(1, NEW_MESSAGE, 1, 2, Some(5)),
            entry(2, NEW_MESSAGE, 2, 1, Some(3)),
        ];
        let ev = ChatRead {
            chat_id: 1,
            seq: 5,
            unread: 0,
            notifications: Vec::new(),
        };
        read(&mut list, &ev);
        assert!(list[0].read_at.is_some());
        assert!(list[1].read_at.is_none(), "another chat's entry stays");
        assert_eq!(count(&list), 1);
    }

    #[test]
    fn a_recounted_entry_from_the_server_replaces_ours() {
        let mut list = vec![entry(1, NEW_MESSAGE, 1, 3, Some(7))];
        let recounted = entry(1, NEW_MESSAGE, 1, 1, Some(7));
        let ev = ChatRead {
            chat_id: 1,
            seq: 6,
            unread: 1,
            notifications: vec![recounted],
        };
        read(&mut list, &ev);
        assert_eq!(count(&list), 1);
    }

    #[test]
    fn an_entry_arriving_after_its_read_is_read() {
        let mut list = Vec::new();
        arrived(&mut list, entry(1, NEW_MESSAGE, 1, 1, Some(4)), Some(4));
        assert_eq!(count(&list), 0);
        arrived(&mut list, entry(1, NEW_MESSAGE, 1, 2, Some(5)), Some(4));
        assert_eq!(list.len(), 1, "bumped, not added");
        assert_eq!(count(&list), 2);
    }
}
