//! From a chat as stored to its transcript: each message's text as it was
//! written (the chain's input), its earlier versions, its files, and the
//! check that the stored chain still follows from the messages.

use super::chain::chain_time;
use super::document::{
    ChainInfo, ChatInfo, DisputeRecord, Entry, FORMAT, FileRecord, Person, Transcript, Version,
};
use super::verify::check_chain;
use crate::storage::ChatRecord;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// The transcript of `record` (chat `chat_id`), exported by `by` at `at`,
/// sealed with its digest.
pub fn assemble(
    chat_id: i64,
    job_status: &str,
    record: ChatRecord,
    by: Person,
    at: DateTime<Utc>,
) -> Transcript {
    let time = |t: DateTime<Utc>| chain_time(t);
    let mut versions: HashMap<i64, Vec<Version>> = HashMap::new();
    for v in &record.versions {
        versions.entry(v.message_id).or_default().push(Version {
            text: v.content.clone(),
            written_at: time(v.written_at),
            replaced_seq: v.replaced_seq,
        });
    }
    // A message's texts in order: each earlier version, then the current
    // one. Its n-th change brought text n (a deletion brings none).
    let current: HashMap<i64, String> = record
        .messages
        .iter()
        .map(|m| {
            (
                m.id,
                m.original.clone().unwrap_or_else(|| m.content.clone()),
            )
        })
        .collect();
    let mut changes_seen: HashMap<i64, usize> = HashMap::new();
    let mut files: HashMap<(i64, &str), Vec<FileRecord>> = HashMap::new();
    for f in &record.files {
        files
            .entry((f.uploader_id, f.client_id.as_str()))
            .or_default()
            .push(FileRecord {
                name: f.name.clone(),
                content_type: f.mime.clone(),
                size: f.size,
                sha256: f.sha256.clone(),
            });
    }
    let mut messages = Vec::with_capacity(record.messages.len());
    for m in &record.messages {
        let earlier = versions.remove(&m.id).unwrap_or_default();
        let written = match (m.change.as_deref(), m.target_id) {
            (Some("delete"), _) => String::new(),
            (Some(_), Some(target)) => {
                let n = changes_seen.entry(target).or_insert(0);
                *n += 1;
                let texts = &record.versions;
                // The text this edit brought: the target's version after
                // the n-th, or its current text when it is the newest.
                let of_target: Vec<&str> = texts
                    .iter()
                    .filter(|v| v.message_id == target)
                    .map(|v| v.content.as_str())
                    .collect();
                of_target
                    .get(*n)
                    .map(|s| (*s).to_owned())
                    .or_else(|| current.get(&target).cloned())
                    .unwrap_or_default()
            }
            _ => earlier
                .first()
                .map(|v| v.text.clone())
                .unwrap_or_else(|| current.get(&m.id).cloned().unwrap_or_default()),
        };
        let sender = m.sender_id.map(|id| Person {
            id,
            name: m.sender_name.clone().unwrap_or_default(),
            role: m.sender_role.clone().unwrap_or_default(),
        });
        let attached = match (m.sender_id, m.client_id.as_deref(), m.change.is_none()) {
            (Some(s), Some(k), true) => files.remove(&(s, k)).unwrap_or_default(),
            _ => Vec::new(),
        };
        messages.push(Entry {
            seq: m.seq,
            id: m.id,
            kind: m.kind.clone(),
            change: m.change.clone(),
            target_id: m.target_id,
            sender,
            at: time(m.created_at),
            written,
            shown: m.content.clone(),
            masked: m.original.is_some(),
            event: m.event.clone(),
            versions: earlier,
            edited_at: m.edited_at.map(time),
            deleted_at: m.deleted_at.map(time),
            removed_by_moderator: m.hidden,
            attachments: attached,
            chain: m.chain.clone(),
        });
    }
    let from_seq = record.chat.chain_from_seq;
    let broken_at_seq = check_chain(
        chat_id,
        from_seq,
        &messages,
        record.chat.chain_head.as_deref(),
    )
    .err()
    .map(|b| b.seq);
    Transcript {
        format: FORMAT.to_owned(),
        exported_at: time(at),
        exported_by: by,
        chat: ChatInfo {
            id: chat_id,
            job_id: record.chat.job_id,
            job_title: record.chat.job_title.clone(),
            job_status: job_status.to_owned(),
        },
        participants: record
            .people
            .into_iter()
            .map(|(id, name, role)| Person { id, name, role })
            .collect(),
        disputes: record
            .disputes
            .into_iter()
            .map(|d| DisputeRecord {
                id: d.id,
                opened_at: time(d.created_at),
                raised_by: d.raised_by,
                reason: d.reason,
                lsm: d.lsm,
                status: d.status,
                outcome: d.outcome,
                refund_cents: d.refund_cents,
                currency: d.currency,
                note: d.resolution,
                resolved_at: d.resolved_at.map(time),
            })
            .collect(),
        chain: ChainInfo {
            from_seq,
            head: record.chat.chain_head,
            broken_at_seq,
        },
        messages,
        digest: String::new(),
        signature: None,
    }
    .seal()
}
