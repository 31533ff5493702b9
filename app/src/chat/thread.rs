//! One chat's messages as the browser has them: stored messages in seq
//! order, then the user's own unacknowledged ones. Pure data, so the merge
//! rules (never twice, never out of order, never a hole) are unit-tested.
//!
//! Seqs are gap-free per chat (1, 2, 3, …), so the thread knows when it
//! misses something: it holds an unbroken run of seqs from its floor (0, or
//! just below the oldest page it has) up to [`Thread::held_through`], and
//! anything it holds or knows of beyond that is a gap to fetch at once
//! ([`Thread::start_gap_fetch`]). Until the gap is filled, windows show the
//! run and the user's own messages ([`Thread::shown`]), never a hole.

use crate::model::{Message, MessagePage, Seq, UserId};
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
    /// Stable key: the sender's client id where there is one, so a message
    /// keeps its key (and its element on screen) from "Sending…" through
    /// its ack; else the stored id. A message re-inserted under a new key
    /// would be read out again by screen readers (the list is a live log).
    pub fn key(&self) -> String {
        match &self.message.client_id {
            Some(cid) => format!("c{}:{cid}", self.message.sender_id.unwrap_or(0)),
            None => format!("m{}", self.message.id),
        }
    }

    fn is_stored(&self) -> bool {
        self.message.id > 0
    }

    fn is_pending(&self, client_id: &str) -> bool {
        !self.is_stored() && self.message.client_id.as_deref() == Some(client_id)
    }
}

/// The messages of one chat as the browser has them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thread {
    /// Stored messages in seq order, then the user's unacknowledged ones.
    pub lines: Vec<Line>,
    /// History from the server has arrived at least once.
    pub loaded: bool,
    /// Older history exists on the server.
    pub has_older: bool,
    pub loading_older: bool,
    /// Read markers of the participants (from `read` events, the chat list
    /// and join acks).
    pub read_up_to: HashMap<UserId, Seq>,
    /// The newest seq the server is known to have (the chat list's
    /// `lastSeq`): a lost last message is a gap too.
    known_last: Seq,
    /// The gap fetch in flight: the seq it asked for what came after.
    gap_fetch: Option<Seq>,
    /// A gap fetch after this seq came back without filling it (the server
    /// has nothing there): it is not asked for again, and windows show what
    /// lies beyond rather than hide it for good.
    dead_end: Option<Seq>,
}

impl Thread {
    /// The stored messages' seqs, ascending.
    fn stored_seqs(&self) -> impl DoubleEndedIterator<Item = Seq> + '_ {
        self.lines
            .iter()
            .filter(|l| l.is_stored())
            .map(|l| l.message.seq)
    }

    /// The oldest seq held (where a page of older history ends).
    pub fn first_seq(&self) -> Option<Seq> {
        self.stored_seqs().next()
    }

    /// The newest seq held (what a re-join asks to catch up after).
    pub fn last_seq(&self) -> Option<Seq> {
        self.stored_seqs().next_back()
    }

    /// The seq just below what the thread claims to hold without a gap: 0
    /// once it holds the chat from its first message, else just below its
    /// oldest message (older history is paged in before it, never a gap).
    fn floor(&self) -> Option<Seq> {
        if self.loaded && !self.has_older {
            return Some(0);
        }
        match self.first_seq() {
            Some(first) => Some(first - 1),
            None => self.loaded.then_some(0),
        }
    }

    /// The highest seq up to which the thread holds every message, from
    /// its floor on; `None` while it holds nothing and has not loaded.
    pub fn held_through(&self) -> Option<Seq> {
        let mut through = self.floor()?;
        for seq in self.stored_seqs() {
            if seq == through + 1 {
                through = seq;
            } else if seq > through + 1 {
                break;
            }
        }
        Some(through)
    }

    /// Stored messages up to this seq are shown: the held run, or all of
    /// them once the gap above it proved a dead end.
    fn shown_through(&self) -> Seq {
        match self.held_through() {
            Some(through) if self.dead_end != Some(through) => through,
            _ => Seq::MAX,
        }
    }

    /// The lines a window shows: the unbroken run of stored messages, the
    /// user's own (acknowledged or not, so a sent message never vanishes),
    /// nothing of others' beyond a gap until the gap is filled.
    pub fn shown(&self, me: Option<UserId>) -> Vec<Line> {
        let through = self.shown_through();
        self.lines
            .iter()
            .filter(|l| {
                !l.is_stored()
                    || l.message.seq <= through
                    || (me.is_some() && l.message.sender_id == me)
            })
            .cloned()
            .collect()
    }

    /// The newest stored message a window shows below any gap (what
    /// reading the chat to its bottom marks read).
    pub fn newest_shown(&self) -> Option<&Message> {
        let through = self.shown_through();
        self.lines
            .iter()
            .rev()
            .map(|l| &l.message)
            .find(|m| m.id > 0 && m.seq <= through)
    }

    /// The stored messages (what the local cache keeps).
    pub fn stored(&self) -> Vec<Message> {
        self.lines
            .iter()
            .filter(|l| l.is_stored())
            .map(|l| l.message.clone())
            .collect()
    }

    /// The user's own line still waiting for its ack.
    pub fn pending(&self, client_id: &str) -> Option<&Line> {
        self.lines.iter().find(|l| l.is_pending(client_id))
    }

    /// Adds a stored message in seq order; `false` when the thread already
    /// had it (same id, or same seq). A pending line with the same client
    /// id becomes this message.
    pub fn merge(&mut self, message: Message) -> bool {
        if self
            .lines
            .iter()
            .any(|l| l.message.id == message.id || (l.is_stored() && l.message.seq == message.seq))
        {
            return false;
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
            .position(|l| !l.is_stored() || l.message.seq > message.seq)
            .unwrap_or(self.lines.len());
        self.lines.insert(
            insert_at,
            Line {
                message,
                delivery: Delivery::Sent,
                error: None,
            },
        );
        true
    }

    /// The newest page of history arrived: the thread is loaded. Cached
    /// messages older than the page stay only where they join it without a
    /// gap; the server is the truth about what is further back.
    pub fn merge_latest(&mut self, page: MessagePage) {
        let page_first = page.messages.iter().map(|m| m.seq).min();
        for m in page.messages {
            self.merge(m);
        }
        let mut lowest = page_first;
        if let Some(first) = page_first {
            let mut low = first;
            for seq in self.stored_seqs().rev().filter(|s| *s < first) {
                if seq != low - 1 {
                    break;
                }
                low = seq;
            }
            self.lines
                .retain(|l| !l.is_stored() || l.message.seq >= low);
            lowest = Some(low);
        }
        self.has_older = page.has_more && lowest.is_none_or(|low| low > 1);
        self.loaded = true;
    }

    /// A page before the oldest stored message arrived. A page that does
    /// not end right below it (asked before the history was reset) is
    /// dropped: it would open a gap under the thread.
    pub fn merge_older(&mut self, page: MessagePage) {
        self.loading_older = false;
        let joins = match (page.messages.iter().map(|m| m.seq).max(), self.first_seq()) {
            (Some(last), Some(first)) => last + 1 == first,
            _ => true,
        };
        if !joins {
            return;
        }
        self.has_older = page.has_more;
        for m in page.messages {
            self.merge(m);
        }
    }

    /// The chat list says the server has messages up to `seq`.
    pub fn note_last_seq(&mut self, seq: Seq) {
        self.known_last = self.known_last.max(seq);
    }

    /// Where a fetch must start to fill the thread's gap: `Some(after)`
    /// when it holds (or knows the server has) a seq beyond the unbroken
    /// run that ends at `after`. `None` before the first page (which fills
    /// it), with nothing missing, while a fetch is in flight, or at a dead
    /// end.
    pub fn gap(&self) -> Option<Seq> {
        if !self.loaded || self.gap_fetch.is_some() {
            return None;
        }
        let through = self.held_through()?;
        let top = self.last_seq().unwrap_or(0).max(self.known_last);
        (top > through && self.dead_end != Some(through)).then_some(through)
    }

    /// [`Self::gap`], noting the fetch as in flight so it is not repeated.
    pub fn start_gap_fetch(&mut self) -> Option<Seq> {
        let after = self.gap()?;
        self.gap_fetch = Some(after);
        Some(after)
    }

    /// The page after `after` arrived: merged, and the fetch is over.
    /// Returns the messages new to the thread (the rest came live in the
    /// meantime). A page the thread no longer waits for (its history was
    /// reset since) is dropped.
    pub fn merge_gap(&mut self, after: Seq, page: MessagePage) -> Vec<Message> {
        if self.gap_fetch != Some(after) {
            return Vec::new();
        }
        self.gap_fetch = None;
        let mut fresh = Vec::new();
        for m in page.messages {
            if self.merge(m.clone()) {
                fresh.push(m);
            }
        }
        if self.held_through() == Some(after) {
            // Nothing to fill the gap with: asking again would loop.
            self.dead_end = Some(after);
        }
        fresh
    }

    /// The fetch after `after` failed. Unless `for_good`, the gap is asked
    /// for again by the next trigger (a message, a retry, a re-join).
    pub fn gap_fetch_failed(&mut self, after: Seq, for_good: bool) {
        if self.gap_fetch == Some(after) {
            self.gap_fetch = None;
            if for_good {
                self.dead_end = Some(after);
            }
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
    /// newest page is loaded again. The user's own unsent lines, the read
    /// markers and the newest seq known stay; a gap fetch in flight is
    /// forgotten (its page is dropped).
    pub fn reset_history(&mut self) {
        self.lines.retain(|l| !l.is_stored());
        self.loaded = false;
        self.has_older = false;
        self.loading_older = false;
        self.gap_fetch = None;
        self.dead_end = None;
    }

    pub fn set_delivery(&mut self, client_id: &str, delivery: Delivery, error: Option<String>) {
        for l in self.lines.iter_mut().filter(|l| l.is_pending(client_id)) {
            l.delivery = delivery;
            l.error = error.clone();
        }
    }

    /// A participant has read up to `message`; markers never move back.
    /// Moves `user`'s read marker to `seq` (never back).
    pub fn note_read(&mut self, user: UserId, seq: Seq) {
        let e = self.read_up_to.entry(user).or_insert(0);
        *e = (*e).max(seq);
    }

    /// `user`'s read marker (0: nothing read yet).
    pub fn read_marker(&self, user: UserId) -> Seq {
        self.read_up_to.get(&user).copied().unwrap_or(0)
    }

    /// How far the plain "Read" under the user's own messages reaches, given
    /// the chat's other current participants. Between two people it is the
    /// other person's marker: "Read" means they read it. With two or more
    /// others it reaches nowhere: one reader must never stand for all (an
    /// LSM reading says nothing about the provider), so "Seen by …" names
    /// who has (see `timeline::seen_by`). Markers of people no longer in the
    /// chat (a settled LSM) never count.
    pub fn read_receipt_through(&self, others: &[UserId]) -> Seq {
        match others {
            [other] => self.read_marker(*other),
            _ => 0,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::MessageKind;

    /// A stored message of chat 1 from user 7 whose seq is its id.
    pub(crate) fn msg(id: i64, client: Option<&str>) -> Message {
        at_seq(id, id, client)
    }

    /// A stored message with its own seq (ids and seqs need not agree).
    pub(crate) fn at_seq(id: crate::model::MessageId, seq: Seq, client: Option<&str>) -> Message {
        Message {
            id,
            chat_id: 1,
            seq,
            sender_id: Some(7),
            sender_name: Some("A".into()),
            sender_role: None,
            content: format!("m{id}"),
            client_id: client.map(str::to_owned),
            kind: MessageKind::User,
            event: None,
            created_at: chrono::Utc::now(),
        }
    }

    /// Seq `seq` from someone else (user 8), id `100 + seq`.
    fn theirs(seq: Seq) -> Message {
        Message {
            sender_id: Some(8),
            ..at_seq(100 + seq, seq, None)
        }
    }

    fn page(seqs: impl IntoIterator<Item = Seq>, has_more: bool) -> MessagePage {
        MessagePage {
            messages: seqs.into_iter().map(theirs).collect(),
            has_more,
        }
    }

    /// A loaded thread holding seqs `1..=n`, all there is.
    fn holding(n: Seq) -> Thread {
        let mut t = Thread::default();
        t.merge_latest(page(1..=n, false));
        t
    }

    fn ids(t: &Thread) -> Vec<i64> {
        t.lines.iter().map(|l| l.message.id).collect()
    }

    fn seqs(lines: &[Line]) -> Vec<Seq> {
        lines.iter().map(|l| l.message.seq).collect()
    }

    #[test]
    fn merge_dedupes_and_orders() {
        let mut t = Thread::default();
        assert!(t.merge(msg(3, None)));
        assert!(t.merge(msg(1, None)));
        t.push_pending(at_seq(0, 0, Some("abc")));
        assert!(t.merge(msg(2, None)));
        assert!(!t.merge(msg(3, None)), "same id");
        assert!(!t.merge(at_seq(99, 2, None)), "same seq");
        assert_eq!(
            ids(&t),
            vec![1, 2, 3, 0],
            "stored in order, pending last, no duplicates"
        );
        // The ack (or the echo) replaces the pending line.
        assert!(t.merge(msg(4, Some("abc"))));
        assert_eq!(ids(&t), vec![1, 2, 3, 4]);
        assert!(t.lines.iter().all(|l| l.delivery == Delivery::Sent));
        // Echo after ack: nothing changes.
        assert!(!t.merge(msg(4, Some("abc"))));
        assert_eq!(t.lines.len(), 4);
        assert_eq!((t.first_seq(), t.last_seq()), (Some(1), Some(4)));
    }

    #[test]
    fn order_is_by_seq_not_id() {
        // Ids and seqs disagree: the seq (commit order) decides.
        let mut t = Thread::default();
        t.merge(at_seq(30, 1, None));
        t.merge(at_seq(10, 3, None));
        t.merge(at_seq(20, 2, None));
        assert_eq!(ids(&t), vec![30, 20, 10]);
        assert_eq!(t.last_seq(), Some(3));
        assert_eq!(t.newest_shown().map(|m| m.id), Some(10));
    }

    #[test]
    fn pending_lines_change_state_and_are_found() {
        let mut t = Thread::default();
        t.merge(msg(1, Some("old")));
        t.push_pending(at_seq(0, 0, Some("abc")));
        assert!(t.pending("abc").is_some());
        assert!(t.pending("old").is_none(), "stored lines are not pending");
        t.set_delivery("abc", Delivery::Failed, Some("no".into()));
        let line = t.pending("abc").expect("still pending");
        assert_eq!(line.delivery, Delivery::Failed);
        assert_eq!(line.error.as_deref(), Some("no"));
        assert_eq!(line.key(), "c7:abc");
        assert_eq!(t.lines[0].key(), "c7:old");
        // The ack keeps the pending line's key.
        t.merge(msg(2, Some("abc")));
        assert_eq!(t.lines[1].key(), "c7:abc");
        t.merge(at_seq(3, 3, None));
        assert_eq!(t.lines[2].key(), "m3", "no client id: the stored id");
        assert_eq!(t.stored().len(), 3);
    }

    #[test]
    fn discarding_and_resetting_keep_what_they_should() {
        let mut t = Thread::default();
        t.merge(msg(1, None));
        t.merge(msg(2, Some("sent")));
        t.push_pending(at_seq(0, 0, Some("a")));
        t.push_pending(at_seq(0, 0, Some("b")));
        t.note_read(9, 2);
        t.loaded = true;
        t.remove_pending("a");
        t.remove_pending("sent");
        assert_eq!(ids(&t), vec![1, 2, 0], "only the pending line goes");
        t.reset_history();
        assert_eq!(ids(&t), vec![0]);
        assert!(t.pending("b").is_some());
        assert!(!t.loaded);
        assert_eq!(t.read_marker(9), 2, "read markers stay");
    }

    #[test]
    fn latest_page_keeps_a_cache_that_joins_it() {
        // The cache had 1..=2, the newest page is 3..=4: one unbroken run
        // from the first message, so nothing older is left to load.
        let mut t = Thread::default();
        t.merge(msg(1, None));
        t.merge(msg(2, None));
        t.merge_latest(MessagePage {
            messages: vec![msg(3, None), msg(4, None)],
            has_more: true,
        });
        assert!(t.loaded);
        assert!(!t.has_older);
        assert_eq!(ids(&t), vec![1, 2, 3, 4]);
        assert_eq!(t.held_through(), Some(4));

        let mut fresh = Thread::default();
        fresh.merge_latest(page(3..=4, true));
        assert!(fresh.has_older);
        assert_eq!(fresh.held_through(), Some(4), "the run starts at the page");
        let mut empty = Thread::default();
        empty.merge_latest(page([], false));
        assert!(empty.loaded && !empty.has_older);
        assert_eq!(empty.held_through(), Some(0));
    }

    #[test]
    fn latest_page_drops_a_cache_that_does_not_join_it() {
        // The cache had 1..=3 from an earlier visit; 10..=12 is the newest
        // page: 4..=9 would be a hole, so the cache goes and paging back
        // fetches them in order.
        let mut t = Thread::default();
        for s in 1..=3 {
            t.merge(theirs(s));
        }
        t.push_pending(at_seq(0, 0, Some("mine")));
        t.merge_latest(page(10..=12, true));
        assert_eq!(seqs(&t.lines), vec![10, 11, 12, 0]);
        assert!(t.has_older);
        assert_eq!(t.first_seq(), Some(10), "where the next older page ends");
    }

    #[test]
    fn older_page_prepends_and_clears_loading() {
        let mut t = Thread::default();
        t.merge_latest(page(5..=6, true));
        t.loading_older = true;
        t.merge_older(page(3..=4, true));
        assert_eq!(seqs(&t.lines), vec![3, 4, 5, 6]);
        assert!(!t.loading_older);
        assert!(t.has_older);
        t.merge_older(page(1..=2, false));
        assert!(!t.has_older);
        assert_eq!(t.held_through(), Some(6));
        assert_eq!(t.gap(), None);
    }

    #[test]
    fn an_older_page_that_does_not_join_is_dropped() {
        // Asked before a reset: it ends far below what the thread holds now.
        let mut t = Thread::default();
        t.merge_latest(page(50..=51, true));
        t.loading_older = true;
        t.merge_older(page(10..=11, true));
        assert_eq!(seqs(&t.lines), vec![50, 51]);
        assert!(!t.loading_older);
        assert!(t.has_older);
        assert_eq!(t.gap(), None);
    }

    #[test]
    fn a_gap_is_fetched_after_the_held_run_and_only_once() {
        // Held 1..=3, 6 arrives: 4 and 5 are missing.
        let mut t = holding(3);
        assert!(t.merge(theirs(6)));
        assert_eq!(t.held_through(), Some(3));
        assert_eq!(t.start_gap_fetch(), Some(3), "fetch after 3");
        // While it is in flight, more arrivals ask nothing more.
        assert!(t.merge(theirs(7)));
        assert_eq!(t.start_gap_fetch(), None, "already in flight");
        // The page brings 4..=7; only 4 and 5 are new.
        let fresh = t.merge_gap(3, page(4..=7, false));
        assert_eq!(fresh.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![4, 5]);
        assert_eq!(t.held_through(), Some(7));
        assert_eq!(t.start_gap_fetch(), None, "nothing missing");
        assert_eq!(seqs(&t.lines), vec![1, 2, 3, 4, 5, 6, 7]);
    }

    #[test]
    fn out_of_order_arrivals_need_no_fetch_once_contiguous() {
        let mut t = holding(3);
        assert!(t.merge(theirs(4)));
        assert_eq!(t.gap(), None, "the next one: no gap");
        // 6 before 5: a gap for as long as 5 is missing.
        t.merge(theirs(6));
        assert_eq!(t.gap(), Some(4));
        t.merge(theirs(5));
        assert_eq!(t.gap(), None, "contiguous again: nothing to fetch");
        assert_eq!(seqs(&t.lines), vec![1, 2, 3, 4, 5, 6]);

        // The late one may also land while the fetch is under way: the
        // page then brings nothing new and nothing more is asked.
        let mut u = holding(3);
        u.merge(theirs(5));
        assert_eq!(u.start_gap_fetch(), Some(3));
        u.merge(theirs(4));
        assert!(u.merge_gap(3, page(4..=5, false)).is_empty());
        assert_eq!(u.start_gap_fetch(), None);
        assert_eq!(u.held_through(), Some(5));
    }

    #[test]
    fn duplicates_change_nothing() {
        let mut t = holding(3);
        assert!(!t.merge(theirs(2)));
        assert!(!t.merge(theirs(3)));
        assert_eq!(t.gap(), None);
        assert_eq!(t.lines.len(), 3);
    }

    #[test]
    fn a_long_gap_is_paged_through() {
        let mut t = holding(3);
        t.merge(theirs(120));
        assert_eq!(t.start_gap_fetch(), Some(3));
        assert_eq!(t.merge_gap(3, page(4..=53, true)).len(), 50);
        assert_eq!(t.start_gap_fetch(), Some(53), "the next page");
        t.merge_gap(53, page(54..=103, true));
        assert_eq!(t.start_gap_fetch(), Some(103));
        t.merge_gap(103, page(104..=120, false));
        assert_eq!(t.start_gap_fetch(), None);
        assert_eq!(t.held_through(), Some(120));
    }

    #[test]
    fn a_lost_last_message_is_a_gap_once_the_list_tells() {
        let mut t = holding(3);
        t.note_last_seq(2);
        assert_eq!(t.gap(), None, "the list may be older than the thread");
        t.note_last_seq(4);
        assert_eq!(t.start_gap_fetch(), Some(3));
        t.merge_gap(3, page([4], false));
        assert_eq!(t.gap(), None);
    }

    #[test]
    fn no_gap_is_fetched_before_the_first_page() {
        // The cache and a live message: the newest page fills in.
        let mut t = Thread::default();
        t.merge(theirs(1));
        t.merge(theirs(4));
        assert_eq!(t.gap(), None);
        assert_eq!(seqs(&t.shown(None)), vec![1], "but no hole is shown");
        t.merge_latest(page(1..=3, false));
        assert_eq!(t.gap(), None);
        assert_eq!(seqs(&t.shown(None)), vec![1, 2, 3, 4]);
        // A loaded empty chat whose first message was lost.
        let mut empty = holding(0);
        empty.merge(theirs(2));
        assert_eq!(empty.gap(), Some(0));
    }

    #[test]
    fn windows_show_no_hole_but_the_users_own_messages() {
        let mut t = holding(3);
        t.merge(theirs(5));
        let mine = Message {
            client_id: Some("c".into()),
            ..at_seq(206, 6, None)
        };
        t.push_pending(at_seq(0, 0, Some("c")));
        t.merge(mine);
        t.push_pending(at_seq(0, 0, Some("d")));
        // Others' 5 waits for 4; my own 6 and my pending line stay shown.
        assert_eq!(seqs(&t.shown(Some(7))), vec![1, 2, 3, 6, 0]);
        assert_eq!(seqs(&t.shown(None)), vec![1, 2, 3, 0]);
        assert_eq!(t.newest_shown().map(|m| m.seq), Some(3));
        t.merge(theirs(4));
        assert_eq!(seqs(&t.shown(Some(7))), vec![1, 2, 3, 4, 5, 6, 0]);
        assert_eq!(t.newest_shown().map(|m| m.seq), Some(6));
    }

    #[test]
    fn a_gap_the_server_cannot_fill_is_a_dead_end() {
        let mut t = holding(3);
        t.merge(theirs(6));
        assert_eq!(t.start_gap_fetch(), Some(3));
        // The server has nothing at 4 and 5: asking again would loop.
        assert!(t.merge_gap(3, page([6], false)).is_empty());
        assert_eq!(t.start_gap_fetch(), None);
        assert_eq!(seqs(&t.shown(None)), vec![1, 2, 3, 6], "shown after all");
        assert_eq!(t.newest_shown().map(|m| m.seq), Some(6));
        // Once the run moves past it, gaps are fetched again.
        t.merge(theirs(4));
        t.merge(theirs(5));
        t.merge(theirs(8));
        assert_eq!(t.start_gap_fetch(), Some(6));
    }

    #[test]
    fn failed_gap_fetches_are_asked_again_unless_refused_for_good() {
        let mut t = holding(3);
        t.merge(theirs(5));
        assert_eq!(t.start_gap_fetch(), Some(3));
        t.gap_fetch_failed(9, false);
        assert_eq!(t.start_gap_fetch(), None, "another fetch's failure");
        t.gap_fetch_failed(3, false);
        assert_eq!(t.start_gap_fetch(), Some(3), "asked again");
        t.gap_fetch_failed(3, true);
        assert_eq!(t.start_gap_fetch(), None);
        assert_eq!(seqs(&t.shown(None)), vec![1, 2, 3, 5]);
    }

    #[test]
    fn a_gap_page_after_a_reset_is_dropped() {
        let mut t = holding(3);
        t.merge(theirs(600));
        assert_eq!(t.start_gap_fetch(), Some(3));
        t.reset_history();
        assert!(t.merge_gap(3, page(4..=53, true)).is_empty());
        assert!(t.lines.is_empty());
        t.merge_latest(page(551..=600, true));
        assert_eq!(t.gap(), None);
        assert_eq!(t.held_through(), Some(600));
    }

    #[test]
    fn cached_messages_keep_their_seq() {
        // What live::backup stores for a window is `stored()` as JSON.
        let mut t = holding(2);
        t.push_pending(at_seq(0, 0, Some("p")));
        let json = serde_json::to_string(&t.stored()).expect("json");
        assert!(json.contains(r#""seq":2"#));
        let back: Vec<Message> = serde_json::from_str(&json).expect("json");
        assert_eq!(back, t.stored());
        let mut restored = Thread::default();
        for m in back {
            restored.merge(m);
        }
        assert_eq!(restored.last_seq(), Some(2));
        // A cache written before seqs does not parse (and is dropped).
        let old = json.replace(r#""seq":1,"#, "");
        assert!(serde_json::from_str::<Vec<Message>>(&old).is_err());
    }

    #[test]
    fn read_markers_only_move_forward() {
        let mut t = Thread::default();
        t.note_read(1, 5);
        t.note_read(1, 3);
        t.note_read(2, 4);
        assert_eq!(t.read_marker(1), 5);
        assert_eq!(t.read_marker(2), 4);
        assert_eq!(t.read_marker(3), 0);
    }

    #[test]
    fn read_means_the_other_person_read_it() {
        // Alice (1) and Bob (2); Lena (3), an LSM, was in the chat for a
        // dispute and read further than Bob before she left.
        let mut t = Thread::default();
        t.note_read(1, 9);
        t.note_read(2, 4);
        t.note_read(3, 8);
        assert_eq!(t.read_receipt_through(&[2]), 4, "Bob's marker, not Lena's");
        assert_eq!(t.read_receipt_through(&[3]), 8);
        assert_eq!(t.read_receipt_through(&[4]), 0, "never read anything");
    }

    #[test]
    fn with_three_or_more_no_reader_stands_for_all() {
        // Lena read everything, Bob nothing: nothing of Alice's is "Read".
        let mut t = Thread::default();
        t.note_read(3, 8);
        assert_eq!(t.read_receipt_through(&[2, 3]), 0);
        t.note_read(2, 8);
        assert_eq!(t.read_receipt_through(&[2, 3]), 0, "Seen by names them");
        assert_eq!(t.read_receipt_through(&[]), 0, "nobody else");
    }
}
