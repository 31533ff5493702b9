//! What the product says in chats and on the bell: system messages and
//! notification texts, in one place.

use crate::storage::{BellText, BellWording};

use contract::model::SystemEvent;

/// A system line's words in English: what previews, bells and older
/// clients show. The browser renders the typed event instead, with what
/// people typed set apart.
pub fn system_line(event: &SystemEvent) -> String {
    match event {
        SystemEvent::JobBooked { title } => job_booked(title),
        SystemEvent::DisputeOpened {
            raised_by_name,
            lsm_name,
            reason,
            ..
        } => dispute_opened(raised_by_name, lsm_name, reason),
        SystemEvent::DisputeResolved {
            lsm_name,
            resolution,
            ..
        } => dispute_resolved(lsm_name, resolution),
        SystemEvent::DisputeReassigned {
            from_name, to_name, ..
        } => dispute_reassigned(from_name, to_name),
        SystemEvent::Warning {
            user_name,
            lsm_name,
            reason,
            ..
        } => warning(user_name, lsm_name, reason),
        SystemEvent::JobStatusChanged {
            status, by_name, ..
        } => format!("{by_name} {}", status.step_words()),
        SystemEvent::Note { text } => text.clone(),
    }
}

/// A moderator's warning to a participant, shown in the chat.
pub fn warning(user: &str, lsm: &str, reason: &str) -> String {
    format!("{lsm} (local service manager) warned {user} to keep to the platform's rules: {reason}")
}

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

/// An open dispute moved to another LSM (the first was deleted or is no
/// longer an LSM).
pub fn dispute_reassigned(from: &str, to: &str) -> String {
    format!("{to} (local service manager) took over the dispute from {from}")
}

/// The LSM's notification title when added to a dispute.
pub fn added_to_dispute_title(job_title: &str) -> String {
    format!("You were added to a dispute — {job_title}")
}

pub fn added_to_dispute_body(raised_by: &str, reason: &str) -> String {
    format!("{raised_by}: {reason}")
}

/// The new LSM's notification body when a dispute is handed to them.
pub fn dispute_taken_over_body(from: &str, reason: &str) -> String {
    format!("Taken over from {from}. Reason: {reason}")
}

pub fn dispute_resolved_title(job_title: &str) -> String {
    format!("Dispute resolved — {job_title}")
}

/// The first new-message notification of a chat.
pub fn new_message_title(sender: &str, job_title: &str) -> String {
    format!("{NEW_MESSAGE} from {sender} — {job_title}")
}

/// A one-message bell's title, before " from …".
pub const NEW_MESSAGE: &str = "New message";

/// What a count's title says after the number; a stored title suffix
/// starts with it (`storage::messages` recounts titles in SQL).
pub const NEW_MESSAGES: &str = " new messages";

/// What follows the count once messages pile up ("3 new messages from …").
pub fn new_messages_after_count(sender: &str, job_title: &str) -> String {
    format!("{NEW_MESSAGES} from {sender} — {job_title}")
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
        // Only a message with files may have no text (a send without files
        // needs some): the bell says so rather than quote nothing.
        body: if content.trim().is_empty() {
            FILES_ONLY.to_owned()
        } else {
            preview(content)
        },
    }
}

/// A bell's body for a message of files without a caption.
pub const FILES_ONLY: &str = "📎 Attachments";

/// How new-message bells are worded, handed to storage with every write
/// that rings or recounts one.
pub const BELLS: BellWording = BellWording {
    compose: message_bell,
    one: NEW_MESSAGE,
    many: NEW_MESSAGES,
};

pub fn preview(content: &str) -> String {
    content.chars().take(PREVIEW_CHARS).collect()
}
