//! The chat list's live updates (newest activity first, unread counts).
//! Pure, so the rules are unit-tested.

use crate::chat::thread::{apply_revision, describes};
use crate::model::{ChatCursor, ChatId, ChatSummary, Message, SystemEvent};

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
    // A step in the job's life moves its status on, never back.
    if let Some(SystemEvent::JobStatusChanged { status, .. }) = message.event.as_deref()
        && status.stage() > c.job_status.stage()
    {
        c.job_status = *status;
    }
    if message.seq >= c.last_seq {
        c.last_seq = message.seq;
        c.last_message = Some(message.clone());
        let c = chats.remove(pos);
        chats.insert(0, c);
    }
    true
}

/// An edit or deletion arrived: the chat keeps its place and its count
/// (it is no new message), and its preview follows when it shows the
/// message changed. Returns `false` when the chat is not in the list.
pub fn revise(chats: &mut [ChatSummary], change: &Message) -> bool {
    let Some(c) = chats.iter_mut().find(|c| c.id == change.chat_id) else {
        return false;
    };
    if let Some(last) = c.last_message.as_mut()
        && last.id == describes(change)
    {
        apply_revision(last, change);
    }
    true
}

/// The user is looking at these chats: nothing in them is unread.
pub fn clear_unread(chats: &mut [ChatSummary], visible: &[ChatId]) {
    for c in chats.iter_mut().filter(|c| visible.contains(&c.id)) {
        c.unread_count = 0;
    }
}

/// Where the next page starts when `page` came back full (there may be
/// more), `None` when it holds the last chats there are.
pub fn next_page(page: &[ChatSummary], full_page: usize) -> Option<ChatCursor> {
    if page.len() < full_page {
        return None;
    }
    page.last().map(ChatSummary::cursor)
}

/// The newest page arrived again (a reload). It replaces the rows it
/// covers; rows below its last one stay, because the user paged them in (or
/// new activity pushed them off the page: they are still the user's chats).
/// A chat that moved up is taken from the page, never kept twice. `more` is
/// where the list's next page starts, as it was before the reload. Returns
/// the list and where its next page starts now.
pub fn merge_newest(
    old: &[ChatSummary],
    more: Option<ChatCursor>,
    newest: Vec<ChatSummary>,
    full_page: usize,
) -> (Vec<ChatSummary>, Option<ChatCursor>) {
    let Some(boundary) = next_page(&newest, full_page) else {
        // Not full: the page is every chat the user has.
        return (newest, None);
    };
    let kept: Vec<ChatSummary> = old
        .iter()
        .filter(|o| o.cursor() < boundary && !newest.iter().any(|n| n.id == o.id))
        .cloned()
        .collect();
    let more = if kept.is_empty() {
        Some(boundary)
    } else {
        more
    };
    let mut list = newest;
    list.extend(kept);
    (list, more)
}

/// An older page arrived ("Show older chats"): its rows go below, any the
/// list already holds are skipped. Returns where the next page starts.
pub fn append_older(
    chats: &mut Vec<ChatSummary>,
    page: Vec<ChatSummary>,
    full_page: usize,
) -> Option<ChatCursor> {
    let more = next_page(&page, full_page);
    for c in page {
        if !chats.iter().any(|o| o.id == c.id) {
            chats.push(c);
        }
    }
    more
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
            job_status: Default::default(),
            muted: false,
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
    fn a_change_keeps_the_place_and_count_and_the_preview_follows() {
        use crate::chat::thread::tests::{deletion, edit};
        let mut chats = vec![summary(2), summary(1)];
        assert!(bump(&mut chats, &at_seq(16, 6, None), false)); // chat 1
        let mut other = msg(40, None);
        other.chat_id = 2;
        assert!(bump(&mut chats, &other, true));
        assert_eq!(ids(&chats), [2, 1]);
        // An edit of an older message: nothing moves, nothing shows.
        assert!(revise(&mut chats, &edit(3, 7, "older one, edited")));
        assert_eq!(ids(&chats), [2, 1], "no move up");
        assert_eq!(chats[1].unread_count, 0, "not counted");
        assert_eq!(
            chats[1].last_message.as_ref().map(|m| m.content.as_str()),
            Some("m16")
        );
        // An edit of the newest message: the preview shows the new text.
        assert!(revise(&mut chats, &edit(16, 8, "newest, edited")));
        let last = chats[1].last_message.as_ref().expect("preview");
        assert_eq!((last.id, last.content.as_str()), (16, "newest, edited"));
        assert!(last.is_edited());
        assert_eq!(ids(&chats), [2, 1]);
        // Then deleted; an older edit arriving late does not bring it back.
        assert!(revise(&mut chats, &deletion(16, 9)));
        assert!(revise(&mut chats, &edit(16, 8, "newest, edited")));
        let last = chats[1].last_message.as_ref().expect("preview");
        assert!(last.is_deleted());
        assert_eq!(last.content, "");
        assert_eq!(chats[1].unread_count, 0);
        assert!(
            !revise(&mut [summary(5)], &edit(16, 8, "x")),
            "unknown chat"
        );
    }

    /// A chat whose newest message has id `message`.
    fn active(id: ChatId, message: i64) -> ChatSummary {
        let mut c = summary(id);
        let mut m = msg(message, None);
        m.chat_id = id;
        c.last_message = Some(m);
        c
    }

    #[test]
    fn a_job_step_moves_the_status_on_never_back() {
        use crate::model::{JobStatus, MessageKind};
        let step = |id: i64, seq: i64, status: JobStatus| {
            let mut m = msg(id, None);
            m.chat_id = 1;
            m.seq = seq;
            m.kind = MessageKind::System;
            m.event = Some(Box::new(SystemEvent::JobStatusChanged {
                status,
                by: Some(2),
                by_name: "Bob".into(),
            }));
            m
        };
        let mut chats = vec![summary(1)];
        assert!(bump(&mut chats, &step(10, 5, JobStatus::InProgress), false));
        assert_eq!(chats[0].job_status, JobStatus::InProgress);
        // The confirmation, caught up late, changes nothing.
        bump(&mut chats, &step(9, 4, JobStatus::Confirmed), false);
        assert_eq!(chats[0].job_status, JobStatus::InProgress);
        bump(&mut chats, &step(11, 6, JobStatus::Completed), false);
        assert_eq!(chats[0].job_status, JobStatus::Completed);
    }

    fn ids(chats: &[ChatSummary]) -> Vec<ChatId> {
        chats.iter().map(|c| c.id).collect()
    }

    #[test]
    fn a_full_page_has_a_next_one_a_short_page_is_the_end() {
        let page = vec![active(3, 30), active(2, 20)];
        let last = ChatCursor {
            message_id: 20,
            chat_id: 2,
        };
        assert_eq!(next_page(&page, 2), Some(last));
        assert_eq!(next_page(&page, 3), None);
        assert_eq!(next_page(&[], 2), None);
        // A chat without messages sorts last, by id.
        assert_eq!(
            summary(9).cursor(),
            ChatCursor {
                message_id: 0,
                chat_id: 9
            }
        );
        assert!(summary(9).cursor() < last);
    }

    #[test]
    fn paging_older_appends_once_and_stops_at_a_short_page() {
        let mut chats = vec![active(4, 40), active(3, 30)];
        let more = append_older(&mut chats, vec![active(3, 30), active(2, 20)], 2);
        assert_eq!(ids(&chats), [4, 3, 2], "3 is not listed twice");
        assert_eq!(
            more,
            Some(ChatCursor {
                message_id: 20,
                chat_id: 2
            })
        );
        assert_eq!(append_older(&mut chats, vec![active(1, 10)], 2), None);
        assert_eq!(ids(&chats), [4, 3, 2, 1]);
    }

    #[test]
    fn a_reload_keeps_the_pages_the_user_paged_in() {
        // Paged to the end: 4 3 | 2 1.
        let old = vec![active(4, 40), active(3, 30), active(2, 20), active(1, 10)];
        // Chat 1 got a message: the newest page is now 1 4.
        let (list, more) = merge_newest(&old, None, vec![active(1, 50), active(4, 40)], 2);
        assert_eq!(ids(&list), [1, 4, 3, 2], "1 moved up, none lost or doubled");
        assert_eq!(more, None, "still at the end");
        assert_eq!(list[0].last_message.as_ref().map(|m| m.id), Some(50));

        // Not paged: the newest page and where it ends.
        let old = vec![active(4, 40), active(3, 30)];
        let (list, more) = merge_newest(
            &old,
            Some(old[1].cursor()),
            vec![active(5, 50), active(4, 40)],
            2,
        );
        assert_eq!(
            ids(&list),
            [5, 4, 3],
            "3 fell off the page, not out of the list"
        );
        assert_eq!(
            more,
            Some(ChatCursor {
                message_id: 30,
                chat_id: 3
            }),
            "the next page starts where it did"
        );

        // A page that is not full is every chat there is.
        let (list, more) = merge_newest(&old, Some(old[1].cursor()), vec![active(4, 40)], 2);
        assert_eq!(ids(&list), [4]);
        assert_eq!(more, None);
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
