//! Files in a chat: uploading one for a message about to be sent, checking
//! a send names every file uploaded for it, serving a file to the chat's
//! people only, and sweeping uploads whose message never came.
//!
//! A file is uploaded first, under the client id of the message it is
//! for; the message (stored later, through the usual send path) carries
//! every file uploaded under its client id. So a stored message always has
//! its files (they were stored before it), and a failed or abandoned send
//! leaves files no message points to, which `sweep` removes after
//! `ORPHAN_AGE`.

use super::{AuthUser, Result, Service, ServiceError};
use crate::files::Files;
use crate::storage::{Db, NewAttachment};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use contract::model::{Attachment, AttachmentId, ChatId, Role};
use contract::validate::{ClientId, FileName, Invalid};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How often uploads without a message are looked for.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// An upload whose message has not come after this long is removed.
pub const ORPHAN_AGE: chrono::TimeDelta = chrono::TimeDelta::hours(24);

/// A send refuses files uploaded longer ago than this (half `ORPHAN_AGE`),
/// so no message can be stored for a file the sweep is removing.
pub const UPLOAD_FRESH: chrono::TimeDelta = chrono::TimeDelta::hours(12);

/// Uploads swept per run (the rest wait for the next).
const SWEEP_BATCH: i64 = 500;

/// One file to upload, parsed at the boundary.
pub struct Upload {
    pub chat: ChatId,
    /// The client id of the message it is for.
    pub client_id: ClientId,
    pub name: FileName,
    pub bytes: Bytes,
}

/// A file's bytes and how to serve them.
pub struct Download {
    pub bytes: Bytes,
    pub mime: String,
    pub name: String,
}

impl Service {
    /// Checks a file (its bytes, not its name), stores it and records it
    /// for the caller's message `client_id` in `chat`; the same file again
    /// for the same message answers with the one stored first. Refused: outsiders
    /// (404), someone who left (403), a message already sent or one with
    /// `JOBCHAT_FILES_PER_MESSAGE` files (409), the chat's daily bytes used
    /// up (429), and every `files::Refused`. Nothing refused is stored.
    #[tracing::instrument(skip_all, fields(user_id = actor.id, chat_id = up.chat, bytes = up.bytes.len()))]
    pub async fn upload_attachment(&self, actor: &AuthUser, up: Upload) -> Result<Attachment> {
        let db = &self.inner.db;
        let files = &self.inner.files;
        let limits = files.limits().clone();
        self.authorize_chat(actor, up.chat).await?;
        let client_id = up.client_id.as_str();
        if db.message_exists(up.chat, actor.id, client_id).await? {
            return Err(conflict(
                "that message was sent already; attach files before sending",
            ));
        }
        let since = Utc::now() - chrono::TimeDelta::hours(24);
        let today = db.uploaded_bytes_since(up.chat, since).await?.max(0) as u64;
        if today + up.bytes.len() as u64 > limits.bytes_per_chat_per_day {
            return Err(ServiceError::TooSoon {
                message: "this chat's uploads for the day are used up",
                retry_after_secs: 3600,
            });
        }
        let checked = files.check(up.bytes).await?;
        let on = self.masking_on(up.chat).await?;
        let name = self
            .inner
            .masking
            .file_name(&with_extension(up.name.as_str(), checked.extension), on);
        let size = checked.bytes.len() as i64;
        // Checking is deterministic: the same upload again (its answer was
        // lost) has the same digest, and gets the file stored the first
        // time rather than a second one its send would not name.
        let sha256 = format!("{:x}", Sha256::digest(&checked.bytes));
        if let Some(same) = db
            .same_upload(up.chat, actor.id, client_id, &sha256, &name)
            .await?
        {
            return Ok(same);
        }
        if db.uploaded_for(up.chat, actor.id, client_id).await?.len() >= limits.per_message as usize
        {
            return Err(conflict(&format!(
                "a message takes at most {} files",
                limits.per_message
            )));
        }
        let key = format!("chats/{}/{}", up.chat, uuid::Uuid::new_v4());
        let thumbnail_key = format!("{key}-thumbnail");
        let unavailable = |e: object_store::Error| {
            tracing::warn!(error = %e, "the file store refused a write");
            ServiceError::Unavailable("the file could not be stored; try again".into())
        };
        files.put(&key, checked.bytes).await.map_err(unavailable)?;
        let thumbnail = match checked.thumbnail {
            Some(t) => {
                if let Err(e) = files.put(&thumbnail_key, t.bytes).await {
                    remove(files, &[&key]).await;
                    return Err(unavailable(e));
                }
                Some((thumbnail_key.clone(), t.mime.to_owned()))
            }
            None => None,
        };
        let new = NewAttachment {
            chat_id: up.chat,
            uploader_id: actor.id,
            client_id: client_id.to_owned(),
            name,
            mime: checked.mime.to_owned(),
            size,
            dimensions: checked.dimensions,
            sha256,
            object_key: key.clone(),
            thumbnail,
            created_at: crate::storage::now(),
        };
        match db.insert_attachment(&new).await {
            Ok(a) => {
                crate::metrics::attachment_stored(size as u64);
                Ok(a)
            }
            Err(e) => {
                remove(files, &[&key, &thumbnail_key]).await;
                Err(e.into())
            }
        }
    }

    /// Before a send with files: `ids` must be exactly the files uploaded
    /// for the message, all recent enough; a resend of a stored message is
    /// not checked again (it is answered with what was stored).
    pub(super) async fn check_send_files(
        &self,
        actor: &AuthUser,
        chat: ChatId,
        client_id: &str,
        ids: &[AttachmentId],
    ) -> Result<()> {
        let db = &self.inner.db;
        let max = self.inner.files.limits().per_message as usize;
        let mut want = ids.to_vec();
        want.sort_unstable();
        want.dedup();
        if want.len() != ids.len() || ids.len() > max {
            return Err(ServiceError::Invalid(Invalid {
                field: "attachments",
                message: format!("at most {max} different files"),
            }));
        }
        if db.message_exists(chat, actor.id, client_id).await? {
            return Ok(());
        }
        let uploaded = db.uploaded_for(chat, actor.id, client_id).await?;
        let have: Vec<AttachmentId> = uploaded.iter().map(|(id, _)| *id).collect();
        if have != want {
            return Err(conflict(
                "the message's files are not the ones uploaded for it; upload them again",
            ));
        }
        let fresh_after: DateTime<Utc> = Utc::now() - UPLOAD_FRESH;
        if uploaded.iter().any(|(_, at)| *at < fresh_after) {
            return Err(conflict(
                "the files were uploaded too long ago; upload them again",
            ));
        }
        Ok(())
    }

    /// A file's bytes (or its thumbnail's), for the people of its chat: a
    /// file not yet sent only to its uploader, one of a deleted message
    /// only to the chat's LSM (the evidence stays), and someone who left
    /// only what was sent before they left. Anyone else: not found.
    pub async fn download_attachment(
        &self,
        actor: &AuthUser,
        id: AttachmentId,
        thumbnail: bool,
    ) -> Result<Download> {
        let missing = ServiceError::NotFound("attachment");
        let Some(file) = self.inner.db.stored_file(id).await? else {
            return Err(missing);
        };
        let Some(m) = self.inner.db.membership(file.chat_id, actor.id).await? else {
            return Err(missing);
        };
        let allowed = match file.message_seq {
            None => file.uploader_id == actor.id,
            Some(seq) => {
                m.left_seq.is_none_or(|left| seq <= left)
                    && (file.message_deleted.is_none() || m.role == Role::Lsm)
            }
        };
        if !allowed {
            return Err(missing);
        }
        let (key, mime) = match (thumbnail, file.thumbnail_key, file.thumbnail_mime) {
            (false, _, _) => (file.object_key, file.mime),
            (true, Some(key), Some(mime)) => (key, mime),
            (true, _, _) => return Err(missing),
        };
        let bytes = self.inner.files.get(&key).await.map_err(|e| {
            ServiceError::Internal(anyhow::anyhow!("attachment {id}: object {key}: {e}"))
        })?;
        Ok(Download {
            bytes,
            mime,
            name: file.name,
        })
    }

    /// Sweeps uploads older than `before` whose message never came (the
    /// periodic sweep uses `ORPHAN_AGE`); returns how many.
    pub async fn sweep_uploads(&self, before: DateTime<Utc>) -> usize {
        sweep(&self.inner.db, &self.inner.files, before).await
    }
}

impl Service {
    /// Removes every file `user` uploaded, sent or not (their account was
    /// deleted): objects first, then rows. Their messages keep their text.
    pub(super) async fn remove_uploads_of(&self, user: contract::model::UserId) -> Result<usize> {
        let files = &self.inner.files;
        let mut removed = 0;
        for o in self.inner.db.uploads_of(user).await? {
            let keys: Vec<&str> = std::iter::once(o.object_key.as_str())
                .chain(o.thumbnail_key.as_deref())
                .collect();
            if remove(files, &keys).await {
                self.inner.db.forget_attachment(o.id).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Objects first, then the row: a crash in between leaves a row whose
/// objects are gone, which the next sweep finishes; never an object
/// without a row.
pub(super) async fn sweep(db: &Db, files: &Files, before: DateTime<Utc>) -> usize {
    let orphans = match db.orphans(before, SWEEP_BATCH).await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e, "uploads not swept");
            return 0;
        }
    };
    let mut swept = 0;
    for o in orphans {
        let keys: Vec<&str> = std::iter::once(o.object_key.as_str())
            .chain(o.thumbnail_key.as_deref())
            .collect();
        if remove(files, &keys).await && db.forget_attachment(o.id).await.is_ok() {
            swept += 1;
        }
    }
    if swept > 0 {
        tracing::info!(swept, "uploads without a message swept");
    }
    swept
}

/// Deletes objects; false (logged) when one could not be.
async fn remove(files: &Files, keys: &[&str]) -> bool {
    let mut all = true;
    for key in keys {
        if let Err(e) = files.delete(key).await {
            tracing::warn!(key, error = %e, "object not deleted");
            all = false;
        }
    }
    all
}

fn conflict(message: &str) -> ServiceError {
    ServiceError::Conflict {
        message: message.to_owned(),
        details: None,
    }
}

/// The name with the extension of what the file really is: its own when
/// it already says so, else in place of a short extension it had, else
/// added (an "invoice.exe" that is a PDF is shown as "invoice.pdf").
fn with_extension(name: &str, extension: &str) -> String {
    let (stem, current) = match name.rsplit_once('.') {
        Some((stem, ext))
            if !stem.is_empty()
                && ext.len() <= 5
                && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            (stem, Some(ext.to_ascii_lowercase()))
        }
        _ => (name, None),
    };
    let same = current.as_deref() == Some(extension)
        || (extension == "jpg" && current.as_deref() == Some("jpeg"));
    if same {
        return name.to_owned();
    }
    // Within the name's limit once the extension is added.
    let room = FileName::MAX.saturating_sub(extension.len() + 1);
    let stem: String = stem.chars().take(room).collect();
    format!("{stem}.{extension}")
}

#[cfg(test)]
mod tests {
    use super::with_extension;

    #[test]
    fn names_say_what_the_file_is() {
        assert_eq!(with_extension("sink.jpg", "jpg"), "sink.jpg");
        assert_eq!(with_extension("sink.JPEG", "jpg"), "sink.JPEG");
        assert_eq!(with_extension("invoice.exe", "pdf"), "invoice.pdf");
        assert_eq!(with_extension("invoice", "pdf"), "invoice.pdf");
        assert_eq!(with_extension(".bashrc", "txt"), ".bashrc.txt");
        assert_eq!(
            with_extension("notes v1.2 final", "txt"),
            "notes v1.2 final.txt"
        );
        let long = "x".repeat(120);
        assert_eq!(with_extension(&long, "pdf").chars().count(), 120);
    }
}
