//! The merge rules: never twice, never out of order, never a hole.

pub(crate) use super::revisions::tests::{deletion, edit};
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
        target_id: None,
        revision: None,
        attachments: Vec::new(),
        masked: false,
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
