//! What a window's history shows between and under the messages, as pure
//! data so the rules are unit-tested: a separator before the first message
//! of each of the viewer's calendar days, "Seen by …" under the user's own
//! latest message the others have read (chats of three or more), and how
//! many messages arrived while the user was scrolled up.

use crate::chat::{Delivery, Line};
use crate::model::{Attachment, MessageId, MessageKind, Revision, Seq, UserId};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use std::collections::HashMap;

/// One row of the history list.
#[derive(Clone, Debug, PartialEq)]
pub enum Row {
    /// Before the first message of a calendar day (the viewer's).
    Day(NaiveDate),
    Message(Line),
    /// Under the user's own message `after`: who has read it.
    SeenBy {
        after: MessageId,
        names: Vec<String>,
    },
}

/// Keys rows for `<For>`. A message row keeps its key (and its element)
/// for life, from "Sending…" through its ack to "Read": the list is a live
/// log, and a row inserted again would be read out again. What changes in
/// it (delivery, id, seq) it reads from [`line_states`]. A "Seen by" row is
/// rebuilt when its names change.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RowKey {
    Day(NaiveDate),
    Message(String),
    SeenBy(MessageId, String),
}

impl Row {
    pub fn key(&self) -> RowKey {
        match self {
            Row::Day(d) => RowKey::Day(*d),
            Row::Message(l) => RowKey::Message(l.key()),
            Row::SeenBy { after, names } => RowKey::SeenBy(*after, names.join(", ")),
        }
    }
}

/// What may change in a message's row while it stays on screen: its
/// delivery, and its text once edited or deleted.
#[derive(Clone, Debug, PartialEq)]
pub struct LineState {
    pub id: MessageId,
    pub seq: Seq,
    pub delivery: Delivery,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub content: String,
    pub revision: Option<Box<Revision>>,
    /// Its stored files (none while it goes out, nor once deleted).
    pub attachments: Vec<Attachment>,
    /// Contact details in it were hidden by the server.
    pub masked: bool,
}

impl LineState {
    pub fn of(line: &Line) -> Self {
        let m = &line.message;
        Self {
            id: m.id,
            seq: m.seq,
            delivery: line.delivery,
            error: line.error.clone(),
            created_at: m.created_at,
            content: m.content.clone(),
            revision: m.revision.clone(),
            attachments: m.attachments.clone(),
            masked: m.masked,
        }
    }

    pub fn is_deleted(&self) -> bool {
        self.revision
            .as_ref()
            .is_some_and(|r| r.deleted_at.is_some())
    }

    /// Removed by a moderator ("Removed by a moderator").
    pub fn is_hidden(&self) -> bool {
        self.revision.as_ref().is_some_and(|r| r.hidden)
    }

    /// When it was last edited, unless deleted since.
    pub fn edited_at(&self) -> Option<DateTime<Utc>> {
        self.revision
            .as_ref()
            .filter(|r| r.deleted_at.is_none())
            .and_then(|r| r.edited_at)
    }
}

/// How much longer a message sent at `sent_at` may be edited, given the
/// server's edit window; `None` once it has passed (or editing is off).
/// By the browser's clock: the server's answer is what counts in the end.
pub fn edit_time_left(
    sent_at: DateTime<Utc>,
    now: DateTime<Utc>,
    window: TimeDelta,
) -> Option<TimeDelta> {
    let left = sent_at + window - now;
    (left > TimeDelta::zero()).then_some(left)
}

/// Each line's current state by its row key.
pub fn line_states(lines: &[Line]) -> HashMap<String, LineState> {
    lines.iter().map(|l| (l.key(), LineState::of(l))).collect()
}

/// "Today", "Yesterday", or e.g. "Mon 23 Nov 2026" (always the date before
/// the viewer's day is known).
pub fn day_label(day: NaiveDate, today: Option<NaiveDate>) -> String {
    let Some(today) = today else {
        // Before the browser knows the viewer's day: the date, in full.
        return day.format("%a %-d %b %Y").to_string();
    };
    if day == today {
        "Today".to_owned()
    } else if today.pred_opt() == Some(day) {
        "Yesterday".to_owned()
    } else {
        day.format("%a %-d %b %Y").to_string()
    }
}

/// Whose read marker reached the user's own latest message that anyone
/// else has read: `(that message, their names in participant order)`.
/// `others` are the chat's other participants. Only for chats with two or
/// more others: between two people the message's own "Read" says it all.
pub fn seen_by(
    lines: &[Line],
    me: Option<UserId>,
    others: &[(UserId, String)],
    read_up_to: &HashMap<UserId, Seq>,
) -> Option<(MessageId, Vec<String>)> {
    if me.is_none() || others.len() < 2 {
        return None;
    }
    let marker = |u: &UserId| read_up_to.get(u).copied().unwrap_or(0);
    let furthest = others.iter().map(|(u, _)| marker(u)).max().unwrap_or(0);
    let target = lines
        .iter()
        .rev()
        .map(|l| &l.message)
        .find(|m| m.seq > 0 && !m.kind.is_change() && m.sender_id == me && m.seq <= furthest)?;
    let names: Vec<String> = others
        .iter()
        .filter(|(u, _)| marker(u) >= target.seq)
        .map(|(_, n)| n.clone())
        .collect();
    Some((target.id, names))
}

/// The rows for `lines`: day separators by `day_of`, and the "Seen by" row
/// after its message.
pub fn rows(
    lines: &[Line],
    day_of: impl Fn(DateTime<Utc>) -> NaiveDate,
    seen: Option<(MessageId, Vec<String>)>,
) -> Vec<Row> {
    let mut out = Vec::with_capacity(lines.len() + 4);
    let mut current = None;
    for line in lines {
        let day = day_of(line.message.created_at);
        if current != Some(day) {
            out.push(Row::Day(day));
            current = Some(day);
        }
        let id = line.message.id;
        out.push(Row::Message(line.clone()));
        if let Some((after, names)) = &seen
            && *after == id
        {
            out.push(Row::SeenBy {
                after: id,
                names: names.clone(),
            });
        }
    }
    out
}

/// Messages from others after seq `since` (the newest message shown when
/// the user scrolled away from the bottom): the "↓ N new" count. By seq, so
/// a message that arrives late to fill a gap counts too.
pub fn arrived_since(lines: &[Line], since: Seq, me: Option<UserId>) -> usize {
    lines
        .iter()
        .map(|l| &l.message)
        .filter(|m| {
            m.id > 0 && m.seq > since && (m.kind == MessageKind::System || m.sender_id != me)
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::clock::day_in;
    use crate::model::Message;
    use chrono::FixedOffset;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test timestamp")
            .with_timezone(&Utc)
    }

    fn line(id: MessageId, sender: UserId, when: &str) -> Line {
        Line {
            message: Message {
                id,
                chat_id: 1,
                seq: id,
                sender_id: Some(sender),
                sender_name: Some(format!("user {sender}")),
                sender_role: None,
                content: format!("m{id}"),
                client_id: None,
                kind: MessageKind::User,
                event: None,
                created_at: at(when),
                target_id: None,
                revision: None,
                attachments: Vec::new(),
                masked: false,
            },
            delivery: Delivery::Sent,
            error: None,
        }
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("test date")
    }

    /// Rows as short strings: `D2026-11-23`, `M5`, `S5:Bob,Lena`.
    fn render(rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|r| match r {
                Row::Day(d) => format!("D{d}"),
                Row::Message(l) => format!("M{}", l.message.id),
                Row::SeenBy { after, names } => format!("S{after}:{}", names.join(",")),
            })
            .collect()
    }

    #[test]
    fn labels_today_yesterday_then_dates() {
        let today = Some(date(2026, 11, 26));
        assert_eq!(day_label(date(2026, 11, 26), today), "Today");
        assert_eq!(day_label(date(2026, 11, 25), today), "Yesterday");
        assert_eq!(day_label(date(2026, 11, 23), today), "Mon 23 Nov 2026");
        assert_eq!(day_label(date(2025, 12, 31), today), "Wed 31 Dec 2025");
        // Across a month and a year boundary.
        assert_eq!(
            day_label(date(2026, 2, 28), Some(date(2026, 3, 1))),
            "Yesterday"
        );
        assert_eq!(
            day_label(date(2025, 12, 31), Some(date(2026, 1, 1))),
            "Yesterday"
        );
        // The server's HTML and the first frame: no "today" yet.
        assert_eq!(day_label(date(2026, 11, 26), None), "Thu 26 Nov 2026");
    }

    #[test]
    fn one_separator_per_day_in_order() {
        let lines = vec![
            line(1, 7, "2026-11-23T09:00:00Z"),
            line(2, 8, "2026-11-23T18:30:00Z"),
            line(3, 7, "2026-11-25T08:00:00Z"),
            line(4, 7, "2026-11-26T07:00:00Z"),
            line(5, 8, "2026-11-26T07:05:00Z"),
        ];
        let r = rows(&lines, |t| day_in(t, &Utc), None);
        assert_eq!(
            render(&r),
            vec![
                "D2026-11-23",
                "M1",
                "M2",
                "D2026-11-25",
                "M3",
                "D2026-11-26",
                "M4",
                "M5"
            ]
        );
        assert!(rows(&[], |t| day_in(t, &Utc), None).is_empty());
    }

    #[test]
    fn days_are_the_viewers_local_days() {
        // 22:30 and 23:30 UTC on the 25th, 00:30 UTC on the 26th.
        let lines = vec![
            line(1, 7, "2026-11-25T22:30:00Z"),
            line(2, 7, "2026-11-25T23:30:00Z"),
            line(3, 7, "2026-11-26T00:30:00Z"),
        ];
        let days = |offset_secs: i32| {
            let zone = FixedOffset::east_opt(offset_secs).expect("offset");
            render(&rows(&lines, |t| day_in(t, &zone), None))
        };
        // UTC: midnight falls between 2 and 3.
        assert_eq!(
            days(0),
            vec!["D2026-11-25", "M1", "M2", "D2026-11-26", "M3"]
        );
        // Berlin in winter (+01:00): already the 26th from 23:00 UTC.
        assert_eq!(
            days(3600),
            vec!["D2026-11-25", "M1", "D2026-11-26", "M2", "M3"]
        );
        // Kathmandu (+05:45): all on the 26th.
        assert_eq!(
            days(5 * 3600 + 45 * 60),
            vec!["D2026-11-26", "M1", "M2", "M3"]
        );
        // New York in winter (-05:00): all still on the 25th.
        assert_eq!(days(-5 * 3600), vec!["D2026-11-25", "M1", "M2", "M3"]);
    }

    #[test]
    fn seen_by_names_under_my_latest_read_message() {
        let me = Some(1);
        let others = vec![
            (2, "Bob Plumber".to_owned()),
            (3, "Lena Manager".to_owned()),
        ];
        let lines = vec![
            line(10, 1, "2026-11-26T07:00:00Z"),
            line(11, 2, "2026-11-26T07:01:00Z"),
            line(12, 1, "2026-11-26T07:02:00Z"),
            line(13, 1, "2026-11-26T07:03:00Z"),
        ];
        let read = |pairs: &[(UserId, MessageId)]| pairs.iter().copied().collect::<HashMap<_, _>>();

        // Both read everything: under 13, both names in participant order.
        let both = read(&[(3, 13), (2, 13), (1, 13)]);
        assert_eq!(
            seen_by(&lines, me, &others, &both),
            Some((13, vec!["Bob Plumber".into(), "Lena Manager".into()]))
        );
        // Bob is further than Lena: under 13, only Bob.
        let bob = read(&[(2, 13), (3, 12)]);
        assert_eq!(
            seen_by(&lines, me, &others, &bob),
            Some((13, vec!["Bob Plumber".into()]))
        );
        // Only up to the other person's message: under my 10.
        let early = read(&[(2, 11), (3, 10)]);
        assert_eq!(
            seen_by(&lines, me, &others, &early),
            Some((10, vec!["Bob Plumber".into(), "Lena Manager".into()]))
        );
        // My own marker never counts; nobody else read anything: nothing.
        assert_eq!(seen_by(&lines, me, &others, &read(&[(1, 13)])), None);
        // Two-person chats keep the plain "Read".
        assert_eq!(seen_by(&lines, me, &others[..1], &both), None);
        assert_eq!(seen_by(&lines, None, &others, &both), None);

        let r = rows(
            &lines,
            |t| day_in(t, &Utc),
            seen_by(&lines, me, &others, &bob),
        );
        assert_eq!(
            render(&r),
            vec!["D2026-11-26", "M10", "M11", "M12", "M13", "S13:Bob Plumber"]
        );
    }

    #[test]
    fn a_message_keeps_its_row_from_sending_to_read() {
        let mut pending = line(0, 1, "2026-11-26T07:05:00Z");
        pending.message.client_id = Some("abc".into());
        pending.delivery = Delivery::Sending;
        let mut acked = line(12, 1, "2026-11-26T07:05:01Z");
        acked.message.client_id = Some("abc".into());
        let day = |t| day_in(t, &Utc);
        let before = rows(std::slice::from_ref(&pending), day, None);
        let after = rows(std::slice::from_ref(&acked), day, None);
        assert_eq!(
            before.iter().map(Row::key).collect::<Vec<_>>(),
            after.iter().map(Row::key).collect::<Vec<_>>(),
            "same rows: nothing is inserted again"
        );
        // What changed is in its state.
        let states = line_states(&[acked.clone()]);
        let st = &states[&acked.key()];
        assert_eq!((st.id, st.seq, st.delivery), (12, 12, Delivery::Sent));
    }

    #[test]
    fn an_edit_is_never_the_line_seen_by_stands_under() {
        // My edit (seq 12) of my 10 is the newest they read: "Seen by"
        // goes under 10, a line that shows.
        let mut edit = line(12, 1, "2026-11-26T07:02:00Z");
        edit.message.kind = MessageKind::Edit;
        edit.message.target_id = Some(10);
        let lines = vec![line(10, 1, "2026-11-26T07:00:00Z"), edit];
        let others = vec![(2, "B".to_owned()), (3, "C".to_owned())];
        let read: HashMap<UserId, Seq> = [(2, 12), (3, 12)].into_iter().collect();
        assert_eq!(
            seen_by(&lines, Some(1), &others, &read).map(|s| s.0),
            Some(10)
        );
    }

    #[test]
    fn a_row_follows_its_message_through_edits_and_deletion() {
        let mut l = line(10, 1, "2026-11-26T07:00:00Z");
        let st = LineState::of(&l);
        assert!(!st.is_deleted() && st.edited_at().is_none());
        let when = at("2026-11-26T07:03:00Z");
        l.message.content = "better words".into();
        l.message.revision = Some(Box::new(Revision {
            seq: 11,
            edited_at: Some(when),
            deleted_at: None,
            hidden: false,
        }));
        let st = LineState::of(&l);
        assert_eq!(
            (st.content.as_str(), st.edited_at()),
            ("better words", Some(when))
        );
        l.message.content.clear();
        l.message.revision = Some(Box::new(Revision {
            seq: 12,
            edited_at: Some(when),
            deleted_at: Some(when),
            hidden: false,
        }));
        let st = LineState::of(&l);
        assert!(st.is_deleted() && !st.is_hidden());
        assert_eq!(st.edited_at(), None, "deleted, not \"edited\"");
        assert_eq!(line_states(&[l.clone()])[&l.key()], st);
        // Removed by a moderator: deleted, and said so.
        if let Some(r) = l.message.revision.as_mut() {
            r.hidden = true;
        }
        let st = LineState::of(&l);
        assert!(st.is_deleted() && st.is_hidden());
    }

    #[test]
    fn editing_closes_when_the_window_passes() {
        let sent = at("2026-11-26T07:00:00Z");
        let window = TimeDelta::minutes(15);
        assert_eq!(
            edit_time_left(sent, at("2026-11-26T07:05:00Z"), window),
            Some(TimeDelta::minutes(10))
        );
        assert_eq!(
            edit_time_left(sent, at("2026-11-26T07:15:00Z"), window),
            None
        );
        assert_eq!(
            edit_time_left(sent, at("2026-11-26T08:00:00Z"), window),
            None
        );
        // Editing turned off (a window of 0).
        assert_eq!(edit_time_left(sent, sent, TimeDelta::zero()), None);
    }

    #[test]
    fn pending_messages_are_never_seen() {
        let mut pending = line(0, 1, "2026-11-26T07:05:00Z");
        pending.delivery = Delivery::Sending;
        let lines = vec![line(10, 1, "2026-11-26T07:00:00Z"), pending];
        let others = vec![(2, "B".to_owned()), (3, "C".to_owned())];
        let read: HashMap<UserId, MessageId> = [(2, 10), (3, 10)].into_iter().collect();
        assert_eq!(
            seen_by(&lines, Some(1), &others, &read).map(|s| s.0),
            Some(10)
        );
    }

    #[test]
    fn counts_what_others_sent_since_leaving_the_bottom() {
        let lines = vec![
            line(10, 2, "2026-11-26T07:00:00Z"),
            line(11, 1, "2026-11-26T07:01:00Z"),
            line(12, 2, "2026-11-26T07:02:00Z"),
            line(13, 3, "2026-11-26T07:03:00Z"),
            line(0, 1, "2026-11-26T07:04:00Z"),
        ];
        assert_eq!(arrived_since(&lines, 10, Some(1)), 2, "mine never count");
        assert_eq!(arrived_since(&lines, 13, Some(1)), 0);
        // By seq, not id: one stored later under a lower id counts too.
        let mut late = line(9, 2, "2026-11-26T07:00:30Z");
        late.message.seq = 14;
        let mut with_late = lines.clone();
        with_late.push(late);
        assert_eq!(arrived_since(&with_late, 11, Some(1)), 3);
        let mut system = line(14, 1, "2026-11-26T07:05:00Z");
        system.message.kind = MessageKind::System;
        system.message.sender_id = None;
        let mut with_system = lines.clone();
        with_system.push(system);
        assert_eq!(arrived_since(&with_system, 13, Some(1)), 1);
    }
}
