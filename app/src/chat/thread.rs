//! One chat's messages as the browser has them: stored messages in id order,
//! then the user's own unacknowledged ones. Pure data, so the merge rules
//! (never twice, never out of order) are unit-tested.

use crate::model::{Message, MessageId, MessagePage, UserId};
use std::collections::HashMap;

/// Where a message of the user's own is on its way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Delivery {
    /// Shown optimistically, not yet acknowledged.
    Sending,
    /// Stored by the server.
    Sent,
    /// Refused or timed out; can be retried.
    Failed,
}

/// One line of a chat window.
#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub message: Message,
    pub delivery: Delivery,
    pub error: Option<String>,
}

impl Line {
    /// Stable key: the stored id once known, else the client id.
    pub fn key(&self) -> String {
        if self.message.id > 0 {
            format!("m{}", self.message.id)
        } else {
            format!("c{}", self.message.client_id.clone().unwrap_or_default())
        }
    }

    fn is_pending(&self, client_id: &str) -> bool {
        self.message.id <= 0 && self.message.client_id.as_deref() == Some(client_id)
    }
}

/// The messages of one chat as the browser has them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thread {
    /// Stored messages in id order, then the user's unacknowledged ones.
    pub lines: Vec<Line>,
    /// History from the server has arrived at least once.
    pub loaded: bool,
    /// Older history exists on the server.
    pub has_older: bool,
    pub loading_older: bool,
    /// Read markers of the participants (from `read` events, the chat list
    /// and join acks).
    pub read_up_to: HashMap<UserId, MessageId>,
}

impl Thread {
    pub fn last_stored_id(&self) -> Option<MessageId> {
        self.lines
            .iter()
            .rev()
            .map(|l| l.message.id)
            .find(|id| *id > 0)
    }

    pub fn first_stored_id(&self) -> Option<MessageId> {
        self.lines.iter().map(|l| l.message.id).find(|id| *id > 0)
    }

    /// The stored messages (what the local cache keeps).
    pub fn stored(&self) -> Vec<Message> {
        self.lines
            .iter()
            .filter(|l| l.message.id > 0)
            .map(|l| l.message.clone())
            .collect()
    }

    /// The user's own line still waiting for its ack.
    pub fn pending(&self, client_id: &str) -> Option<&Line> {
        self.lines.iter().find(|l| l.is_pending(client_id))
    }

    /// Adds or replaces a stored message: the same id is never shown twice,
    /// and a pending line with the same client id becomes this message.
    pub fn merge(&mut self, message: Message) {
        if self.lines.iter().any(|l| l.message.id == message.id) {
            return;
        }
        if let Some(cid) = &message.client_id
            && let Some(pos) = self
                .lines
                .iter()
                .position(|l| l.is_pending(cid) && l.message.sender_id == message.sender_id)
        {
            self.lines.remove(pos);
        }
        let insert_at = self
            .lines
            .iter()
            .position(|l| l.message.id <= 0 || l.message.id > message.id)
            .unwrap_or(self.lines.len());
        self.lines.insert(
            insert_at,
            Line {
                message,
                delivery: Delivery::Sent,
                error: None,
            },
        );
    }

    /// The newest page of history arrived: the thread is loaded. The local
    /// cache may hold messages older than this page; the server is the
    /// truth about what is further back.
    pub fn merge_latest(&mut self, page: MessagePage) {
        let had_older = self.first_stored_id();
        let page_first = page.messages.first().map(|m| m.id);
        for m in page.messages {
            self.merge(m);
        }
        self.has_older =
            page.has_more || had_older.is_some_and(|f| page_first.is_some_and(|p| f < p));
        self.loaded = true;
    }

    /// A page before the first stored message arrived.
    pub fn merge_older(&mut self, page: MessagePage) {
        self.loading_older = false;
        self.has_older = page.has_more;
        for m in page.messages {
            self.merge(m);
        }
    }

    pub fn push_pending(&mut self, message: Message) {
        self.lines.push(Line {
            message,
            delivery: Delivery::Sending,
            error: None,
        });
    }

    /// The user discarded a message that was not sent.
    pub fn remove_pending(&mut self, client_id: &str) {
        self.lines.retain(|l| !l.is_pending(client_id));
    }

    /// Forgets the stored history (too much was missed to catch up): the
    /// newest page is loaded again. The user's own unsent lines and the
    /// read markers stay.
    pub fn reset_history(&mut self) {
        self.lines.retain(|l| l.message.id <= 0);
        self.loaded = false;
        self.has_older = false;
        self.loading_older = false;
    }

    pub fn set_delivery(&mut self, client_id: &str, delivery: Delivery, error: Option<String>) {
        for l in self.lines.iter_mut().filter(|l| l.is_pending(client_id)) {
            l.delivery = delivery;
            l.error = error.clone();
        }
    }

    /// A participant has read up to `message`; markers never move back.
    pub fn note_read(&mut self, user: UserId, message: MessageId) {
        let e = self.read_up_to.entry(user).or_insert(0);
        *e = (*e).max(message);
    }

    /// The furthest message anyone but `me` has read ("Read" on mine).
    pub fn read_by_others(&self, me: Option<UserId>) -> MessageId {
        self.read_up_to
            .iter()
            .filter(|(u, _)| Some(**u) != me)
            .map(|(_, m)| *m)
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::MessageKind;

    pub(crate) fn msg(id: i64, client: Option<&str>) -> Message {
        Message {
            id,
            chat_id: 1,
            sender_id: Some(7),
            sender_name: Some("A".into()),
            sender_role: None,
            content: format!("m{id}"),
            client_id: client.map(str::to_owned),
            kind: MessageKind::User,
            created_at: chrono::Utc::now(),
        }
    }

    fn ids(t: &Thread) -> Vec<i64> {
        t.lines.iter().map(|l| l.message.id).collect()
    }

    #[test]
    fn merge_dedupes_and_orders() {
        let mut t = Thread::default();
        t.merge(msg(3, None));
        t.merge(msg(1, None));
        t.push_pending(msg(0, Some("abc")));
        t.merge(msg(2, None));
        t.merge(msg(3, None));
        assert_eq!(
            ids(&t),
            vec![1, 2, 3, 0],
            "stored in order, pending last, no duplicates"
        );
        // The ack (or the echo) replaces the pending line.
        t.merge(msg(4, Some("abc")));
        assert_eq!(ids(&t), vec![1, 2, 3, 4]);
        assert!(t.lines.iter().all(|l| l.delivery == Delivery::Sent));
        // Echo after ack: nothing changes.
        t.merge(msg(4, Some("abc")));
        assert_eq!(t.lines.len(), 4);
        assert_eq!(t.last_stored_id(), Some(4));
        assert_eq!(t.first_stored_id(), Some(1));
    }

    #[test]
    fn pending_lines_change_state_and_are_found() {
        let mut t = Thread::default();
        t.merge(msg(1, Some("old")));
        t.push_pending(msg(0, Some("abc")));
        assert!(t.pending("abc").is_some());
        assert!(t.pending("old").is_none(), "stored lines are not pending");
        t.set_delivery("abc", Delivery::Failed, Some("no".into()));
        let line = t.pending("abc").expect("still pending");
        assert_eq!(line.delivery, Delivery::Failed);
        assert_eq!(line.error.as_deref(), Some("no"));
        assert_eq!(line.key(), "cabc");
        assert_eq!(t.lines[0].key(), "m1");
        assert_eq!(t.stored().len(), 1);
    }

    #[test]
    fn discarding_and_resetting_keep_what_they_should() {
        let mut t = Thread::default();
        t.merge(msg(1, None));
        t.merge(msg(2, Some("sent")));
        t.push_pending(msg(0, Some("a")));
        t.push_pending(msg(0, Some("b")));
        t.note_read(9, 2);
        t.loaded = true;
        t.remove_pending("a");
        t.remove_pending("sent");
        assert_eq!(ids(&t), vec![1, 2, 0], "only the pending line goes");
        t.reset_history();
        assert_eq!(ids(&t), vec![0]);
        assert!(t.pending("b").is_some());
        assert!(!t.loaded);
        assert_eq!(t.read_by_others(None), 2);
    }

    #[test]
    fn latest_page_keeps_older_cache_and_knows_more() {
        // The cache had 1..=2, the newest page is 3..=4 with nothing more:
        // older history still exists (the cached 1, 2 are before the page).
        let mut t = Thread::default();
        t.merge(msg(1, None));
        t.merge(msg(2, None));
        t.merge_latest(MessagePage {
            messages: vec![msg(3, None), msg(4, None)],
            has_more: false,
        });
        assert!(t.loaded);
        assert!(t.has_older);
        assert_eq!(ids(&t), vec![1, 2, 3, 4]);

        let mut fresh = Thread::default();
        fresh.merge_latest(MessagePage {
            messages: vec![msg(3, None)],
            has_more: false,
        });
        assert!(!fresh.has_older);
        fresh.merge_latest(MessagePage {
            messages: vec![msg(3, None)],
            has_more: true,
        });
        assert!(fresh.has_older);
    }

    #[test]
    fn older_page_prepends_and_clears_loading() {
        let mut t = Thread::default();
        t.merge(msg(5, None));
        t.loading_older = true;
        t.has_older = true;
        t.merge_older(MessagePage {
            messages: vec![msg(3, None), msg(4, None)],
            has_more: false,
        });
        assert_eq!(ids(&t), vec![3, 4, 5]);
        assert!(!t.loading_older);
        assert!(!t.has_older);
    }

    #[test]
    fn read_markers_only_move_forward() {
        let mut t = Thread::default();
        t.note_read(1, 5);
        t.note_read(1, 3);
        t.note_read(2, 4);
        assert_eq!(t.read_up_to.get(&1), Some(&5));
        assert_eq!(t.read_by_others(Some(1)), 4);
        assert_eq!(t.read_by_others(Some(2)), 5);
        assert_eq!(Thread::default().read_by_others(None), 0);
    }
}
