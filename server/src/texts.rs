//! What the product says in chats and on the bell: system messages and
//! notification texts, in one place.

/// How much of a message a new-message notification quotes.
const PREVIEW_CHARS: usize = 140;

pub fn job_booked(title: &str) -> String {
    format!("Job booked: {title}")
}

pub fn dispute_opened(raised_by: &str, lsm: &str, reason: &str) -> String {
    format!(
        "{raised_by} opened a dispute and added {lsm} (local service manager). Reason: {reason}"
    )
}

pub fn dispute_resolved(lsm: &str, resolution: &str) -> String {
    format!("{lsm} resolved the dispute: {resolution}")
}

/// The LSM's notification title when added to a dispute.
pub fn added_to_dispute_title(job_title: &str) -> String {
    format!("You were added to a dispute — {job_title}")
}

pub fn added_to_dispute_body(raised_by: &str, reason: &str) -> String {
    format!("{raised_by}: {reason}")
}

pub fn dispute_resolved_title(job_title: &str) -> String {
    format!("Dispute resolved — {job_title}")
}

/// The first new-message notification of a chat.
pub fn new_message_title(sender: &str, job_title: &str) -> String {
    format!("New message from {sender} — {job_title}")
}

/// What follows the count once messages pile up ("3 new messages from …").
pub fn new_messages_after_count(sender: &str, job_title: &str) -> String {
    format!(" new messages from {sender} — {job_title}")
}

/// A new-message bell's texts for `count` messages from `sender` (the
/// newest one's `content` quoted): the title a new notification gets, what
/// follows the count when an unread one is bumped, and the body.
pub fn message_bell(sender: &str, job_title: &str, count: i64, content: &str) -> BellText {
    let suffix = new_messages_after_count(sender, job_title);
    BellText {
        title: if count == 1 {
            new_message_title(sender, job_title)
        } else {
            format!("{count}{suffix}")
        },
        suffix,
        body: preview(content),
    }
}

/// See `message_bell`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BellText {
    pub title: String,
    pub suffix: String,
    pub body: String,
}

pub fn preview(content: &str) -> String {
    content.chars().take(PREVIEW_CHARS).collect()
}
