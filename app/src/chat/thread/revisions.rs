//! Edits and deletions as a thread holds them. Each arrives as a message of
//! its own (`kind` edit or delete, `targetId` the message it changed) with
//! the chat's next seq, live, in a catch-up, in any page or from the cache,
//! so it may come before its target, after it, twice, or after a newer one.
//! It carries the target's state as the server last knew it (its text,
//! empty once deleted, and its revision), and the target takes that state
//! only when its revision is newer than the one it holds: whatever the
//! order, every copy ends in the newest state.

use super::Thread;
use crate::model::{Message, MessageId};

/// The message whose state `m` carries: the target of an edit or deletion,
/// else `m` itself.
pub fn describes(m: &Message) -> MessageId {
    match m.target_id {
        Some(target) if m.kind.is_change() => target,
        _ => m.id,
    }
}

/// Takes `source`'s text and revision onto `target` when `source` knows of
/// a newer revision than `target` holds (or `target` has none); `true` if
/// it did. `source` is a change of `target` or another copy of it.
pub fn apply_revision(target: &mut Message, source: &Message) -> bool {
    let Some(newer) = &source.revision else {
        return false;
    };
    if target.revision.as_ref().is_some_and(|r| r.seq >= newer.seq) {
        return false;
    }
    target.content.clone_from(&source.content);
    if newer.deleted_at.is_some() {
        // Nothing of a deleted message stays, its files neither.
        target.attachments.clear();
    }
    target.revision = Some(newer.clone());
    true
}

impl Thread {
    /// Brings the message `source` describes up to date, if the thread
    /// holds it; `true` if it changed.
    pub(super) fn revise(&mut self, source: &Message) -> bool {
        let subject = describes(source);
        self.lines
            .iter_mut()
            .filter(|l| l.is_stored() && !l.message.kind.is_change())
            .find(|l| l.message.id == subject)
            .is_some_and(|l| apply_revision(&mut l.message, source))
    }

    /// A message just added takes the newest change of it the thread
    /// already holds (one that came first: a cached or caught-up page).
    pub(super) fn catch_up(&mut self, id: MessageId) {
        let newest = self
            .lines
            .iter()
            .map(|l| &l.message)
            .filter(|m| m.kind.is_change() && m.target_id == Some(id))
            .max_by_key(|m| m.revision.as_ref().map(|r| r.seq))
            .cloned();
        if let Some(change) = newest {
            self.revise(&change);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::tests::at_seq;
    use super::*;
    use crate::model::{MessageKind, MessagePage, Revision, Seq};
    use chrono::Utc;

    /// An edit of `target` stored at `seq` (id `100 + seq`): the target's
    /// text becomes `text`.
    pub(crate) fn edit(target: MessageId, seq: Seq, text: &str) -> Message {
        Message {
            kind: MessageKind::Edit,
            target_id: Some(target),
            content: text.to_owned(),
            revision: Some(Box::new(Revision {
                seq,
                edited_at: Some(Utc::now()),
                deleted_at: None,
                hidden: false,
            })),
            ..at_seq(100 + seq, seq, Some(&format!("edit-{seq}")))
        }
    }

    /// The deletion of `target` stored at `seq` (id `100 + seq`).
    pub(crate) fn deletion(target: MessageId, seq: Seq) -> Message {
        Message {
            kind: MessageKind::Delete,
            target_id: Some(target),
            content: String::new(),
            revision: Some(Box::new(Revision {
                seq,
                edited_at: None,
                deleted_at: Some(Utc::now()),
                hidden: false,
            })),
            ..at_seq(100 + seq, seq, None)
        }
    }

    fn text_of(t: &Thread, id: MessageId) -> (String, Option<Seq>) {
        let m = &t
            .lines
            .iter()
            .find(|l| l.message.id == id)
            .expect("held")
            .message;
        (m.content.clone(), m.revision.as_ref().map(|r| r.seq))
    }

    fn shown_ids(t: &Thread) -> Vec<MessageId> {
        t.shown(None).iter().map(|l| l.message.id).collect()
    }

    #[test]
    fn a_change_after_its_target_rewrites_it_and_is_not_shown() {
        let mut t = Thread::default();
        t.merge_latest(MessagePage {
            messages: vec![at_seq(1, 1, None), at_seq(2, 2, None)],
            has_more: false,
        });
        assert!(t.merge(edit(1, 3, "fixed")));
        assert_eq!(text_of(&t, 1), ("fixed".into(), Some(3)));
        assert!(t.lines[0].message.is_edited());
        assert_eq!(shown_ids(&t), vec![1, 2], "the edit is no line of its own");
        // It holds its place in the run: no gap before the next message.
        assert_eq!(t.held_through(), Some(3));
        assert!(t.merge(at_seq(4, 4, None)));
        assert_eq!(t.gap(), None);
        assert_eq!(t.newest_shown().map(|m| m.id), Some(4));

        assert!(t.merge(deletion(2, 5)));
        let (text, rev) = text_of(&t, 2);
        assert_eq!((text.as_str(), rev), ("", Some(5)));
        assert!(t.lines[1].message.is_deleted());
        assert_eq!(shown_ids(&t), vec![1, 2, 4], "deleted, still in its place");
    }

    #[test]
    fn a_change_before_its_target_is_applied_when_the_target_comes() {
        // A cached page held the edit (seq 9) but not the message (seq 3).
        let mut t = Thread::default();
        assert!(t.merge(edit(3, 9, "second thoughts")));
        assert!(
            t.merge(at_seq(3, 3, None)),
            "the target is new to the thread"
        );
        assert_eq!(text_of(&t, 3), ("second thoughts".into(), Some(9)));
        assert_eq!(t.stored().len(), 2);
        // The cache then holds the target as edited.
        assert!(
            t.stored()
                .iter()
                .any(|m| m.id == 3 && m.content == "second thoughts")
        );
    }

    #[test]
    fn changes_in_any_order_end_in_the_newest_state() {
        let orders: [&[usize]; 6] = [
            &[0, 1, 2, 3],
            &[3, 2, 1, 0],
            &[1, 3, 0, 2],
            &[2, 0, 3, 1],
            &[3, 0, 1, 2],
            &[1, 2, 3, 0],
        ];
        let all = [
            at_seq(1, 1, None),
            edit(1, 2, "first edit"),
            edit(1, 3, "second edit"),
            deletion(1, 4),
        ];
        for order in orders {
            let mut t = Thread::default();
            for &i in order {
                t.merge(all[i].clone());
            }
            assert_eq!(text_of(&t, 1), (String::new(), Some(4)), "order {order:?}");
            assert!(t.lines[0].message.is_deleted());
        }
        // Without the deletion: the newer edit wins, whichever came last.
        for (a, b) in [(1, 2), (2, 1)] {
            let mut t = Thread::default();
            t.merge(all[0].clone());
            t.merge(all[a].clone());
            t.merge(all[b].clone());
            assert_eq!(text_of(&t, 1), ("second edit".into(), Some(3)));
        }
    }

    #[test]
    fn a_duplicate_or_older_change_changes_nothing() {
        let mut t = Thread::default();
        t.merge(at_seq(1, 1, None));
        assert!(t.merge(edit(1, 3, "newest")));
        assert!(!t.merge(edit(1, 3, "newest")), "the same edit again");
        // An older edit stored before it, arriving late (a gap filled):
        // new to the thread, but its text is not the newest.
        assert!(t.merge(edit(1, 2, "older")));
        assert_eq!(text_of(&t, 1), ("newest".into(), Some(3)));
        assert_eq!(t.held_through(), Some(3));
    }

    #[test]
    fn a_copy_of_a_held_message_brings_a_newer_revision() {
        // The thread missed the edit's event beyond what it holds (an
        // older page re-read after a reset): the server's copy of the
        // message itself carries it.
        let mut t = Thread::default();
        t.merge(at_seq(1, 1, None));
        let mut copy = at_seq(1, 1, None);
        copy.content = "from the server".into();
        copy.revision = edit(1, 7, "").revision;
        assert!(!t.merge(copy.clone()), "not new");
        assert_eq!(text_of(&t, 1), ("from the server".into(), Some(7)));
        // An older copy (the cache's) does not undo it.
        assert!(!t.merge(at_seq(1, 1, None)));
        assert_eq!(text_of(&t, 1), ("from the server".into(), Some(7)));
    }

    #[test]
    fn what_a_message_describes() {
        assert_eq!(describes(&edit(4, 9, "x")), 4);
        assert_eq!(describes(&at_seq(4, 4, None)), 4);
        // A change's target is never taken for a user message's.
        let mut odd = at_seq(5, 5, None);
        odd.target_id = Some(4);
        assert_eq!(describes(&odd), 5);
    }
}
