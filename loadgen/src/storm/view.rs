//! What each socket received of its chat, and the delivery counts summed
//! over sockets.

use crate::stats::round2;
use contract::model::{Message, Seq};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Instant;

/// How a message reached a socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// A `new_message` event.
    Live,
    /// The messages of a `join_chat` ack (or the REST pages after it).
    CatchUp,
    /// Fetched over REST after a `resync` event.
    Resync,
}

#[derive(Debug)]
struct Arrival {
    /// Every arrival, live and catch-up.
    count: u32,
    /// The distinct seqs it came with (more than one: stored twice).
    seqs: Vec<Seq>,
    first_at: Instant,
    first_via: Via,
}

/// What one socket has received of its chat.
#[derive(Debug, Default)]
pub struct View {
    /// The highest seq seen.
    pub max_seq: Seq,
    seqs: BTreeSet<Seq>,
    arrivals: HashMap<String, Arrival>,
}

impl View {
    /// One message arrived (system messages have no clientId).
    pub fn note(&mut self, seq: Seq, client_id: Option<&str>, at: Instant, via: Via) {
        self.max_seq = self.max_seq.max(seq);
        self.seqs.insert(seq);
        let Some(id) = client_id else { return };
        match self.arrivals.get_mut(id) {
            Some(a) => {
                a.count += 1;
                if !a.seqs.contains(&seq) {
                    a.seqs.push(seq);
                }
            }
            None => {
                self.arrivals.insert(
                    id.to_owned(),
                    Arrival {
                        count: 1,
                        seqs: vec![seq],
                        first_at: at,
                        first_via: via,
                    },
                );
            }
        }
    }

    /// Every message of a catch-up or page; the last seq in it, if any.
    pub fn note_all(&mut self, messages: &[Message], at: Instant, via: Via) -> Option<Seq> {
        for m in messages {
            self.note(m.seq, m.client_id.as_deref(), at, via);
        }
        messages.last().map(|m| m.seq)
    }

    /// Whether the seqs seen are anything but 1..=max_seq (a message lost
    /// between them that no catch-up brought; the browser would fetch it).
    pub fn has_gap(&self) -> bool {
        self.seqs.len() as i64 != self.max_seq || self.seqs.first().is_some_and(|&s| s != 1)
    }

    /// The highest seq up to which every message has arrived: what a
    /// rejoin, or a fetch after `resync`, asks to get what came after.
    pub fn held_through(&self) -> Seq {
        let mut through = 0;
        for &seq in &self.seqs {
            if seq == through + 1 {
                through = seq;
            } else if seq > through + 1 {
                break;
            }
        }
        through
    }

    /// Those of `expected` that never arrived.
    pub fn missing<'a>(&self, expected: impl Iterator<Item = &'a String>) -> Vec<&'a String> {
        expected
            .filter(|id| !self.arrivals.contains_key(*id))
            .collect()
    }

    /// Whether every one of `expected` has arrived.
    pub fn has_all<'a>(&self, mut expected: impl Iterator<Item = &'a String>) -> bool {
        expected.all(|id| self.arrivals.contains_key(id))
    }

    /// This socket's deliveries of `expected` (the acked messages it must
    /// get), and its duplicates of any message.
    pub fn tally<'a>(&self, expected: impl Iterator<Item = &'a String>) -> Tally {
        let mut t = Tally::default();
        for id in expected {
            t.expected += 1;
            match self.arrivals.get(id) {
                Some(a) => {
                    t.delivered += 1;
                    match a.first_via {
                        Via::Live => t.delivered_live += 1,
                        Via::CatchUp => t.delivered_catch_up += 1,
                        Via::Resync => t.delivered_resync += 1,
                    }
                    t.last_at = t.last_at.max(Some(a.first_at));
                }
                None => t.missing += 1,
            }
        }
        for a in self.arrivals.values() {
            t.duplicated_raw += u64::from(a.count - 1);
            t.duplicated += a.seqs.len() as u64 - 1;
        }
        t
    }
}

/// Delivery counts, summed over sockets.
///
/// `duplicated_raw` counts every arrival of a message at a socket after its
/// first: a `new_message` that also comes in the next join's catch-up (the
/// socket joins the room before the server reads what it missed, so a
/// message stored in between comes both ways; and a rejoin after a lost
/// event asks from the highest seq seen). A real client never shows these:
/// the browser merges messages by seq (`app/src/chat/thread.rs`), so they
/// cost bandwidth, not correctness. `duplicated` is what a client would see
/// after that merge: the same clientId under two different seqs, i.e. stored
/// twice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub expected: u64,
    pub delivered: u64,
    pub delivered_live: u64,
    pub delivered_catch_up: u64,
    pub delivered_resync: u64,
    pub missing: u64,
    pub duplicated_raw: u64,
    pub duplicated: u64,
    /// When the last expected delivery first arrived.
    pub last_at: Option<Instant>,
}

impl Tally {
    pub fn add(&mut self, o: &Tally) {
        self.expected += o.expected;
        self.delivered += o.delivered;
        self.delivered_live += o.delivered_live;
        self.delivered_catch_up += o.delivered_catch_up;
        self.delivered_resync += o.delivered_resync;
        self.missing += o.missing;
        self.duplicated_raw += o.duplicated_raw;
        self.duplicated += o.duplicated;
        self.last_at = self.last_at.max(o.last_at);
    }
}

/// Percent of `times` (seconds) at or below each threshold, out of `of`.
pub fn within(times: &[f64], of: usize, thresholds: &[u64]) -> BTreeMap<String, f64> {
    thresholds
        .iter()
        .map(|&s| {
            let n = times.iter().filter(|&&t| t <= s as f64).count();
            (s.to_string(), round2(100.0 * n as f64 / of.max(1) as f64))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socket::message;
    use std::time::Duration;

    fn ids(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn deliveries_missing_and_duplicates() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        let mut v = View::default();
        v.note(1, None, at(0), Via::CatchUp); // the booking message
        v.note(2, Some("a"), at(10), Via::Live);
        v.note(3, Some("b"), at(20), Via::Live);
        // The rejoin's catch-up brings b again (same seq): raw duplicate only.
        v.note(3, Some("b"), at(30), Via::CatchUp);
        v.note(4, Some("c"), at(40), Via::CatchUp);
        // x under a second seq: stored twice, a duplicate the user sees.
        v.note(5, Some("x"), at(50), Via::Live);
        v.note(6, Some("x"), at(60), Via::Live);
        assert_eq!(v.max_seq, 6);
        assert!(!v.has_gap());
        let expected = ids(&["a", "b", "c", "d", "x"]);
        assert!(!v.has_all(expected.iter()));
        assert_eq!(v.missing(expected.iter()), [&expected[3]]);
        assert!(v.has_all(expected[..3].iter()));
        let t = v.tally(expected.iter());
        assert_eq!(
            t,
            Tally {
                expected: 5,
                delivered: 4,
                delivered_live: 3,
                delivered_catch_up: 1,
                delivered_resync: 0,
                missing: 1,
                duplicated_raw: 2,
                duplicated: 1,
                last_at: Some(at(50)),
            }
        );
        let mut sum = Tally::default();
        sum.add(&t);
        sum.add(&View::default().tally(expected.iter()));
        assert_eq!((sum.expected, sum.delivered, sum.missing), (10, 4, 6));
        assert_eq!(sum.last_at, Some(at(50)));
    }

    #[test]
    fn catch_up_messages_and_gaps() {
        let now = Instant::now();
        let mut v = View::default();
        let msgs = vec![
            message(1, None),
            message(2, Some("a")),
            message(4, Some("c")),
        ];
        assert_eq!(v.note_all(&msgs, now, Via::CatchUp), Some(4));
        assert!(v.has_gap(), "3 never came");
        assert_eq!(v.held_through(), 2, "a fetch after resync asks after 2");
        assert_eq!(v.note_all(&[], now, Via::CatchUp), None);
        v.note(3, Some("b"), now, Via::Resync);
        assert!(!v.has_gap());
        assert_eq!((v.max_seq, v.held_through()), (4, 4));
        let t = v.tally(ids(&["a", "b", "c"]).iter());
        assert_eq!(
            (t.delivered_catch_up, t.delivered_resync, t.missing),
            (2, 1, 0)
        );
        let mut late = View::default();
        late.note(2, Some("a"), now, Via::Live);
        assert!(late.has_gap(), "1 is missing");
        assert_eq!(late.held_through(), 0);
        assert_eq!(View::default().held_through(), 0);
    }

    #[test]
    fn a_refused_join_does_not_move_the_rejoin_past_a_gap() {
        // Held 1..=3; a join refused after the server put the socket in the
        // room lets seq 7 arrive live while 4..=6 were stored meanwhile.
        let now = Instant::now();
        let mut v = View::default();
        for seq in 1..=3 {
            v.note(seq, None, now, Via::CatchUp);
        }
        v.note(7, Some("g"), now, Via::Live);
        assert_eq!(v.max_seq, 7);
        assert_eq!(v.held_through(), 3, "the retry asks after 3, not 7");
        // Its catch-up brings 4..=7: 7 again is a raw duplicate only.
        for (seq, id) in [(4, "d"), (5, "e"), (6, "f"), (7, "g")] {
            v.note(seq, Some(id), now, Via::CatchUp);
        }
        let t = v.tally(ids(&["d", "e", "f", "g"]).iter());
        assert_eq!((t.missing, t.duplicated_raw, t.duplicated), (0, 1, 0));
        assert_eq!(v.held_through(), 7);
    }

    #[test]
    fn percent_back_within() {
        let times = [0.4, 1.0, 1.7, 4.9, 12.0];
        let w = within(&times, 8, &[1, 2, 5, 60]);
        assert_eq!(w["1"], 25.0);
        assert_eq!(w["2"], 37.5);
        assert_eq!(w["5"], 50.0);
        assert_eq!(w["60"], 62.5);
        assert_eq!(within(&[], 0, &[1])["1"], 0.0);
    }
}
