//! A queued message's files. `outbox::flush` uploads the first queued
//! message's waiting files one at a time before its send; each answer comes
//! here. A stored file is kept in the outbox (so a reload does not upload it
//! again); a refused one holds its message back as "Not sent" with the
//! server's reason on the file, until the user removes it (the rest then
//! go) or retries; no answer (offline, a broken connection) keeps it
//! waiting, to go again after a back-off or the next connect, exactly like
//! a send.

use super::msg::{Effect, Env, Msg};
use super::outbox::{change, flush};
use super::store::State;
use crate::chat::Delivery;
use crate::chat::outgoing::{FileUpload, OutboxChange, UploadFailure, UploadState, retry_delay_ms};
use crate::model::{Attachment, ChatId};

/// The most bytes of waiting files the browser keeps across a reload: a
/// message with files chosen offline is sent after a reload too, within
/// this; beyond it the files wait in memory only, and the user is told.
pub const KEPT_BYTES_MAX: u64 = 25 * 1024 * 1024;

/// What the user is told when the files are past `KEPT_BYTES_MAX`.
pub const NOT_KEPT: &str =
    "These files are more than 25 MB waiting in all: keep this page open until they are sent";

/// A message with files joined the outbox: their bytes are kept across a
/// reload while all that waits stays within `KEPT_BYTES_MAX`.
pub fn keep(s: &mut State, fx: &mut Vec<Effect>, files: &[FileUpload]) {
    if files.is_empty() {
        return;
    }
    let waiting: u64 = s
        .outbox
        .iter()
        .flat_map(|o| o.files.iter())
        .filter(|f| !matches!(f.state, UploadState::Done(_)))
        .map(|f| f.size)
        .sum();
    if waiting <= KEPT_BYTES_MAX {
        fx.push(Effect::KeepFiles(
            files.iter().map(|f| f.key.clone()).collect(),
        ));
    } else {
        s.toast = Some(NOT_KEPT.into());
    }
}

/// What the message says when one of its files was refused.
pub const FILE_REFUSED: &str = "A file was refused: remove it to send the rest";

fn files_of(s: &State, client_id: &str) -> Option<Vec<FileUpload>> {
    s.outbox
        .iter()
        .find(|o| o.client_id == client_id)
        .map(|o| o.files.clone())
}

fn set_state(files: &mut [FileUpload], key: &str, state: UploadState) {
    for f in files.iter_mut().filter(|f| f.key == key) {
        f.state = state.clone();
    }
}

/// An upload answered.
pub fn answered(
    s: &mut State,
    env: &Env,
    fx: &mut Vec<Effect>,
    (chat, client_id, key): (ChatId, String, String),
    result: Result<Attachment, UploadFailure>,
) {
    if s.uploading.as_deref() == Some(key.as_str()) {
        s.uploading = None;
    }
    s.progress.remove(&key);
    // Discarded meanwhile: nothing to do but go on.
    let Some(mut files) = files_of(s, &client_id) else {
        flush(s, env, fx);
        return;
    };
    match result {
        Ok(stored) => {
            s.send_attempts = 0;
            set_state(&mut files, &key, UploadState::Done(stored));
            change(s, fx, OutboxChange::Files { client_id, files });
            flush(s, env, fx);
        }
        Err(UploadFailure::Refused(e)) if e.code.is_definite() => {
            refuse(s, fx, chat, client_id, files, &key, e.message);
            flush(s, env, fx);
        }
        Err(UploadFailure::Missing) => {
            let why = "This browser no longer has the file".to_owned();
            refuse(s, fx, chat, client_id, files, &key, why);
            flush(s, env, fx);
        }
        // A quota, the server's trouble, or no answer while the socket is
        // up: the same file again after the back-off.
        Err(UploadFailure::Refused(_)) | Err(UploadFailure::Network) if env.connected => {
            let attempt = s.send_attempts;
            s.send_attempts += 1;
            fx.push(Effect::later(retry_delay_ms(attempt), Msg::FlushNow));
        }
        // Offline: it waits for the next connect, which flushes.
        Err(_) => {}
    }
}

fn refuse(
    s: &mut State,
    fx: &mut Vec<Effect>,
    chat: ChatId,
    client_id: String,
    mut files: Vec<FileUpload>,
    key: &str,
    why: String,
) {
    s.send_attempts = 0;
    set_state(&mut files, key, UploadState::Refused(why));
    if let Some(th) = s.threads.get_mut(&chat) {
        th.set_delivery(&client_id, Delivery::Failed, Some(FILE_REFUSED.into()));
    }
    change(
        s,
        fx,
        OutboxChange::Files {
            client_id: client_id.clone(),
            files,
        },
    );
    change(
        s,
        fx,
        OutboxChange::Failed {
            client_id,
            reason: FILE_REFUSED.into(),
        },
    );
}

/// The user removed a file from their queued message. Once no refused file
/// is left, the rest go (a message left with neither text nor files is
/// dropped: there is nothing to send).
pub fn remove(
    s: &mut State,
    env: &Env,
    fx: &mut Vec<Effect>,
    (chat, client_id, key): (ChatId, String, String),
) {
    let Some(out) = s.outbox.iter().find(|o| o.client_id == client_id).cloned() else {
        return;
    };
    let files: Vec<FileUpload> = out.files.iter().filter(|f| f.key != key).cloned().collect();
    fx.push(Effect::ForgetFiles(vec![key]));
    if files.is_empty() && out.content.trim().is_empty() {
        if let Some(th) = s.threads.get_mut(&chat) {
            th.remove_pending(&client_id);
        }
        change(s, fx, OutboxChange::Remove(client_id));
        return;
    }
    let refused_left = files
        .iter()
        .any(|f| matches!(f.state, UploadState::Refused(_)));
    change(
        s,
        fx,
        OutboxChange::Files {
            client_id: client_id.clone(),
            files,
        },
    );
    if !refused_left && out.failed.as_deref() == Some(FILE_REFUSED) {
        if let Some(th) = s.threads.get_mut(&chat) {
            th.set_delivery(&client_id, Delivery::Sending, None);
        }
        let again = s.outbox.iter().find(|o| o.client_id == client_id).cloned();
        if let Some(again) = again {
            change(s, fx, OutboxChange::Requeue(again));
        }
        flush(s, env, fx);
    }
}

/// How far an upload is (shown on its file).
pub fn progress(s: &mut State, key: String, percent: u8) {
    s.progress.insert(key, percent.min(100));
}
