//! Contact masking in the send and edit paths (issue #23): the text is
//! masked before it is stored for the others (`crate::masking`); what the
//! sender wrote is kept apart (`messages.original`) for the LSM of a
//! dispute. A number sent in pieces over several messages is caught by
//! remembering, per chat and sender, the last few messages that ended in
//! digits, for a minute.
//!
//! Under `until_started` a chat is masked until its job starts. Whether it
//! has is read from the database and remembered: a start for good (a job
//! never goes back), a "not yet" for `UNSTARTED_FOR`, so another node's
//! start is seen within that time and a chat is masked a little longer
//! rather than less.

use crate::config::{MaskingConfig, MaskingPolicy};
use crate::masking::Masker;
use contract::model::{ChatId, UserId};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a message's digits may still begin a number the next one ends.
const PIECES_WINDOW: Duration = Duration::from_secs(60);
/// Earlier messages remembered per chat and sender.
const PIECES_PER_SENDER: usize = 2;
/// Senders remembered at once on a node; past it the oldest are forgotten
/// (a number in pieces is then only caught within one message).
const PIECES_SENDERS: usize = 10_000;
/// Of each remembered message, its end (where a number would begin).
const PIECES_TAIL: usize = 200;
/// How long a chat whose job had not started is believed not to have.
const UNSTARTED_FOR: Duration = Duration::from_secs(2);
/// Chats remembered as started, and as not yet, at most (then forgotten
/// all at once: they are read again).
const STARTED_CHATS: usize = 100_000;
const UNSTARTED_CHATS: usize = 10_000;

/// What is known of chats' jobs having started (`until_started`).
#[derive(Default)]
struct Starts {
    started: HashSet<ChatId>,
    unstarted: HashMap<ChatId, Instant>,
}

/// A text as stored: what everyone sees, and what its sender wrote when
/// masking changed it.
#[derive(Debug, PartialEq, Eq)]
pub struct Stored {
    pub shown: String,
    pub original: Option<String>,
}

/// Per (chat, sender): the ends of their last messages that ended in
/// digits, oldest first, with when they were sent.
type Recent = HashMap<(ChatId, UserId), VecDeque<(Instant, String)>>;

pub struct Masking {
    masker: Option<Masker>,
    until_started: bool,
    recent: Mutex<Recent>,
    starts: Mutex<Starts>,
}

/// Whether a chat's messages are masked now, or whether that depends on
/// its job (then the caller reads it and tells `note_job`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    Yes,
    No,
    AskTheJob,
}

impl Masking {
    pub fn new(config: &MaskingConfig) -> Self {
        Self {
            masker: (config.policy != MaskingPolicy::Off).then(|| Masker::new(config.region)),
            until_started: config.policy == MaskingPolicy::UntilStarted,
            recent: Mutex::new(HashMap::new()),
            starts: Mutex::new(Starts::default()),
        }
    }

    /// Whether masking applies to `chat` now, as far as is known.
    pub fn applies(&self, chat: ChatId) -> Applies {
        if self.masker.is_none() {
            return Applies::No;
        }
        if !self.until_started {
            return Applies::Yes;
        }
        let starts = self.starts.lock().unwrap_or_else(|p| p.into_inner());
        if starts.started.contains(&chat) {
            return Applies::No;
        }
        match starts.unstarted.get(&chat) {
            Some(at) if at.elapsed() < UNSTARTED_FOR => Applies::Yes,
            _ => Applies::AskTheJob,
        }
    }

    /// What the database said of the chat's job.
    pub fn note_job(&self, chat: ChatId, started: bool) {
        let mut starts = self.starts.lock().unwrap_or_else(|p| p.into_inner());
        if started {
            if starts.started.len() >= STARTED_CHATS {
                starts.started.clear();
            }
            starts.started.insert(chat);
            starts.unstarted.remove(&chat);
        } else {
            if starts.unstarted.len() >= UNSTARTED_CHATS {
                starts
                    .unstarted
                    .retain(|_, at| at.elapsed() < UNSTARTED_FOR);
                if starts.unstarted.len() >= UNSTARTED_CHATS {
                    starts.unstarted.clear();
                }
            }
            starts.unstarted.insert(chat, Instant::now());
        }
    }

    /// The chat's job started on this node: masking stops at once here.
    pub fn started(&self, chat: ChatId) {
        self.note_job(chat, true);
    }

    /// A message's text as it is to be stored (`on`: masking applies to
    /// its chat now).
    pub fn message(&self, chat: ChatId, sender: UserId, text: &str, on: bool) -> Stored {
        let Some(masker) = self.masker.as_ref().filter(|_| on) else {
            return unchanged(text);
        };
        let now = Instant::now();
        let key = (chat, sender);
        let earlier: Vec<String> = {
            let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            recent
                .get(&key)
                .map(|q| {
                    q.iter()
                        .filter(|(at, _)| now.duration_since(*at) < PIECES_WINDOW)
                        .map(|(_, t)| t.clone())
                        .collect()
                })
                .unwrap_or_default()
        };
        let earlier: Vec<&str> = earlier.iter().map(String::as_str).collect();
        let masked = masker.mask_following(&earlier, text);
        self.remember(key, now, text, masker.ends_in_digits(text));
        stored(text, masked)
    }

    /// An edit's text (on its own: an edit does not continue a message).
    pub fn edit(&self, text: &str, on: bool) -> Stored {
        match self.masker.as_ref().filter(|_| on) {
            Some(m) => stored(text, m.mask(text)),
            None => unchanged(text),
        }
    }

    /// A file's name as shown (its extension stays; a name cannot carry a
    /// number past the masker either).
    pub fn file_name(&self, name: &str, on: bool) -> String {
        match self.masker.as_ref().filter(|_| on) {
            Some(m) => m.mask(name).text,
            None => name.to_owned(),
        }
    }

    /// Remembers the end of `text` when it ends in digits (what a number
    /// sent in pieces looks like), forgetting what is too old; a message
    /// that does not breaks the sequence.
    fn remember(&self, key: (ChatId, UserId), now: Instant, text: &str, ends_in_digit: bool) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        if !ends_in_digit {
            recent.remove(&key);
            return;
        }
        if recent.len() >= PIECES_SENDERS && !recent.contains_key(&key) {
            recent.retain(|_, q| {
                q.back()
                    .is_some_and(|(at, _)| now.duration_since(*at) < PIECES_WINDOW)
            });
            if recent.len() >= PIECES_SENDERS {
                return;
            }
        }
        let tail_start = text
            .char_indices()
            .rev()
            .nth(PIECES_TAIL)
            .map_or(0, |(i, _)| i);
        let q = recent.entry(key).or_default();
        q.push_back((now, text[tail_start..].to_owned()));
        while q.len() > PIECES_PER_SENDER {
            q.pop_front();
        }
    }
}

fn unchanged(text: &str) -> Stored {
    Stored {
        shown: text.to_owned(),
        original: None,
    }
}

fn stored(text: &str, masked: crate::masking::Masked) -> Stored {
    if masked.found.is_empty() {
        unchanged(text)
    } else {
        Stored {
            shown: masked.text,
            original: Some(text.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on() -> Masking {
        Masking::new(&MaskingConfig::default())
    }

    #[test]
    fn off_keeps_everything() {
        let off = Masking::new(&MaskingConfig {
            policy: MaskingPolicy::Off,
            ..MaskingConfig::default()
        });
        let s = off.message(1, 1, "call 0176 1234 5678", true);
        assert_eq!(
            (s.shown.as_str(), s.original),
            ("call 0176 1234 5678", None)
        );
    }

    #[test]
    fn pieces_are_per_chat_and_sender() {
        let m = on();
        assert_eq!(m.message(1, 7, "call me 0176", true).original, None);
        // Another sender, another chat: not a continuation.
        assert_eq!(m.message(1, 8, "1234 5678", true).original, None);
        assert_eq!(m.message(2, 7, "1234 5678", true).original, None);
        let s = m.message(1, 7, "1234 5678", true);
        assert_eq!(s.shown, "[phone number hidden]");
        assert_eq!(s.original.as_deref(), Some("1234 5678"));
    }

    #[test]
    fn until_started_asks_the_job_then_remembers() {
        let m = Masking::new(&MaskingConfig {
            policy: MaskingPolicy::UntilStarted,
            ..MaskingConfig::default()
        });
        assert_eq!(m.applies(5), Applies::AskTheJob);
        m.note_job(5, false);
        assert_eq!(m.applies(5), Applies::Yes);
        m.started(5);
        assert_eq!(m.applies(5), Applies::No);
        // Masking is off for the message when the caller says so.
        let s = m.message(5, 1, "call 0176 1234 5678", false);
        assert_eq!(s.original, None);
        assert_eq!(on().applies(5), Applies::Yes);
    }

    #[test]
    fn memory_is_bounded() {
        let m = on();
        for sender in 0..(PIECES_SENDERS as i64 + 50) {
            m.message(1, sender, "room 12", true);
        }
        assert!(m.recent.lock().expect("lock").len() <= PIECES_SENDERS);
    }
}
