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
//!
//! Edits and deletions are messages of their own with the chat's next seq:
//! the thread keeps them among its lines (so the run has no hole where one
//! is) but never shows them; each brings its target up to date instead
//! (`revisions`).

mod revisions;

pub use revisions::{apply_revision, describes};

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
    /// nothing of others' beyond a gap until the gap is filled, and no
    /// edit or deletion (its target shows it).
    pub fn shown(&self, me: Option<UserId>) -> Vec<Line> {
        let through = self.shown_through();
        self.lines
            .iter()
            .filter(|l| !l.message.kind.is_change())
            .filter(|l| {
                !l.is_stored()
                    || l.message.seq <= through
                    || (me.is_some() && l.message.sender_id == me)
            })
            .cloned()
            .collect()
    }

    /// The newest stored message a window shows below any gap (what
    /// reading the chat to its bottom marks read); an edit or deletion
    /// counts, as the place in the chat it takes.
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
    /// id becomes this message. An edit or deletion brings its target up
    /// to date, and a message takes the newest change that came before it;
    /// a copy of a message held may still bring a newer revision.
    pub fn merge(&mut self, message: Message) -> bool {
        if self.lines.iter().any(|l| l.message.id == message.id) {
            self.revise(&message);
            return false;
        }
        if self
            .lines
            .iter()
            .any(|l| l.is_stored() && l.message.seq == message.seq)
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
        let change = message.kind.is_change().then(|| message.clone());
        let id = message.id;
        self.lines.insert(
            insert_at,
            Line {
                message,
                delivery: Delivery::Sent,
                error: None,
            },
        );
        match change {
            Some(change) => {
                self.revise(&change);
            }
            None => self.catch_up(id),
        }
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
pub(crate) mod tests;
