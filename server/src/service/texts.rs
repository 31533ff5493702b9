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
            outcome,
            refund_cents,
            currency,
            ..
        } => match outcome {
            None => dispute_resolved(lsm_name, resolution),
            Some(o) => dispute_resolved(
                lsm_name,
                &settlement_words(
                    *o,
                    *refund_cents,
                    currency.as_deref().unwrap_or(""),
                    resolution,
                ),
            ),
        },
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

/// A settlement as both parties read it: "Partial refund of 45.00 EUR.
/// The note".
pub fn settlement_words(
    outcome: contract::model::Outcome,
    refund_cents: Option<i64>,
    currency: &str,
    note: &str,
) -> String {
    match refund_cents {
        Some(c) => format!(
            "{} of {} {currency}. {note}",
            outcome.label(),
            contract::model::format_cents(c)
        ),
        None => format!("{}. {note}", outcome.label()),
    }
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

/// An email's subject: who wrote, in which job's chat.
pub fn email_subject(d: &crate::storage::Digest) -> String {
    let who = super::emails::senders(&d.unread).join(", ");
    let n = d.unread_count;
    match n {
        1 => format!("{who} wrote about \"{}\"", d.job_title),
        _ => format!("{n} new messages about \"{}\" from {who}", d.job_title),
    }
}

/// One quoted message in an email: its text, or what it carries.
fn email_line(m: &contract::model::Message) -> String {
    let text = m.content.trim();
    let files = m.attachments.len();
    match (text.is_empty(), files) {
        (false, _) => text.to_owned(),
        (true, 1) => "(a file)".into(),
        (true, n) => format!("({n} files)"),
    }
}

/// The plain-text part of an email about unread messages.
pub fn email_text(d: &crate::storage::Digest, link: &str, unsubscribe: &str) -> String {
    let mut out = format!(
        "Hello {},\n\nYou have {} unread message{} in the chat about \"{}\":\n\n",
        d.name,
        d.unread_count,
        if d.unread_count == 1 { "" } else { "s" },
        d.job_title
    );
    if d.unread_count > d.unread.len() as i64 {
        out.push_str("…\n");
    }
    for m in &d.unread {
        let who = m.sender_name.as_deref().unwrap_or("Someone");
        out.push_str(&format!("{who}: {}\n", email_line(m)));
    }
    out.push_str(&format!(
        "\nOpen the chat: {link}\n\n--\nYou get this because you were away from jobchat. \
         Stop these emails: {unsubscribe}\n"
    ));
    out
}

/// `text` for an HTML page or email: `&`, `<`, `>`, `"` and `'` escaped.
pub fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The HTML part of an email about unread messages (what people wrote is
/// escaped: it is text, never markup).
pub fn email_html(d: &crate::storage::Digest, link: &str, unsubscribe: &str) -> String {
    let e = html_escape;
    let mut lines = String::new();
    if d.unread_count > d.unread.len() as i64 {
        lines.push_str("<p style=\"color:#5b6475\">…</p>");
    }
    for m in &d.unread {
        let who = m.sender_name.as_deref().unwrap_or("Someone");
        lines.push_str(&format!(
            "<p style=\"margin:0 0 10px\"><strong>{}</strong><br>{}</p>",
            e(who),
            e(&email_line(m)).replace('\n', "<br>")
        ));
    }
    format!(
        "<!doctype html><html lang=\"en\"><body style=\"font-family:sans-serif;color:#1b2230\">\
         <p>Hello {name},</p>\
         <p>You have {n} unread message{s} in the chat about <q>{title}</q>:</p>\
         <div style=\"border-left:3px solid #2b5bd7;padding-left:12px\">{lines}</div>\
         <p><a href=\"{link}\" style=\"font-weight:bold\">Open the chat</a></p>\
         <p style=\"color:#5b6475;font-size:12px\">You get this because you were away from jobchat. \
         <a href=\"{unsubscribe}\">Stop these emails</a>.</p></body></html>",
        name = e(&d.name),
        n = d.unread_count,
        s = if d.unread_count == 1 { "" } else { "s" },
        title = e(&d.job_title),
        link = e(link),
        unsubscribe = e(unsubscribe),
    )
}
