//! The transcript as data: what an export holds, its canonical JSON and
//! its digest. The same types are read back by `verify.rs`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What the `format` field of every export says.
pub const FORMAT: &str = "jobchat-transcript/1";

/// At most this many messages (edits and deletions count) in one export.
pub const MAX_MESSAGES: usize = 20_000;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transcript {
    pub format: String,
    pub exported_at: String,
    pub exported_by: Person,
    pub chat: ChatInfo,
    pub participants: Vec<Person>,
    pub disputes: Vec<DisputeRecord>,
    pub chain: ChainInfo,
    pub messages: Vec<Entry>,
    /// `sha256:` and the SHA-256 of the canonical JSON of the record
    /// (`digest_of`: all but this and the two `exported` fields).
    #[serde(default)]
    pub digest: String,
    /// The server's Ed25519 signature over `digest` (`signing.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<super::signing::Signature>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub role: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatInfo {
    pub id: i64,
    pub job_id: i64,
    pub job_title: String,
    pub job_status: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisputeRecord {
    pub id: i64,
    pub opened_at: String,
    pub raised_by: String,
    pub reason: String,
    pub lsm: String,
    pub status: String,
    pub outcome: Option<String>,
    pub refund_cents: Option<i64>,
    pub currency: Option<String>,
    pub note: Option<String>,
    pub resolved_at: Option<String>,
}

/// Where the chat's hash chain starts and ends, and whether the server
/// found its stored links to hold when it exported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainInfo {
    /// The first seq in the chain (messages before it predate the chain).
    pub from_seq: i64,
    /// The newest link, as stored.
    pub head: Option<String>,
    /// The first seq whose stored link does not follow from the messages
    /// (none when the chain holds).
    pub broken_at_seq: Option<i64>,
}

/// One row of the chat: a message, a system line, or an edit or deletion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    pub seq: i64,
    pub id: i64,
    /// `user` or `system`.
    pub kind: String,
    /// `edit` or `delete`, with the message it changes.
    pub change: Option<String>,
    pub target_id: Option<i64>,
    pub sender: Option<Person>,
    /// When it was stored (`chain::chain_time`).
    pub at: String,
    /// The text as its sender wrote it when it was stored (before
    /// masking; an edit's new text; empty for a deletion).
    pub written: String,
    /// What the chat shows now (masked; empty once deleted).
    pub shown: String,
    pub masked: bool,
    /// A system line's typed event, as stored.
    pub event: Option<String>,
    /// Every text the message had before its current one, oldest first.
    pub versions: Vec<Version>,
    pub edited_at: Option<String>,
    pub deleted_at: Option<String>,
    pub removed_by_moderator: bool,
    pub attachments: Vec<FileRecord>,
    /// Its link of the chat's hash chain (none before the chain began).
    pub chain: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    pub text: String,
    pub written_at: String,
    pub replaced_seq: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileRecord {
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
}

/// JSON with every object's keys sorted and no spaces: the same value
/// always gives the same bytes, whatever order its fields came in.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Fields the digest leaves out: the digest itself, its signature, and
/// when and by whom the file was made. So every export of a chat that did
/// not change meanwhile has the same digest, whatever its format or time:
/// a CSV's digest matches the JSON exported beside it.
const NOT_DIGESTED: [&str; 4] = ["digest", "signature", "exportedAt", "exportedBy"];

/// The digest of a transcript as JSON: the canonical JSON of the object
/// without the fields in `NOT_DIGESTED`.
pub fn digest_of(value: &serde_json::Value) -> String {
    let mut v = value.clone();
    if let Some(map) = v.as_object_mut() {
        for key in NOT_DIGESTED {
            map.remove(key);
        }
    }
    format!(
        "sha256:{}",
        super::chain::hex(&Sha256::digest(canonical_json(&v).as_bytes()))
    )
}

impl Transcript {
    /// Fills in `digest`.
    pub fn seal(mut self) -> Self {
        self.digest.clear();
        self.signature = None;
        let value = serde_json::to_value(&self).unwrap_or_default();
        self.digest = digest_of(&value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let a = json!({"b": 1, "a": {"d": [1, {"z": "x", "y": null}], "c": "é\"<"}});
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":"é\"<","d":[1,{"y":null,"z":"x"}]},"b":1}"#
        );
    }

    #[test]
    fn the_digest_ignores_only_the_digest_its_signature_and_the_export_fields() {
        let a = json!({"x": "1", "digest": "sha256:old", "signature": {"alg": "Ed25519"}});
        let b = json!({"x": "1", "exportedAt": "later"});
        assert_eq!(digest_of(&a), digest_of(&b));
        assert_ne!(digest_of(&a), digest_of(&json!({"x": "2"})));
    }
}
