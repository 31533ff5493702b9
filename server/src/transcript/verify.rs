//! Checking a transcript: its digest, and its chain from the first
//! chained message to the head (`server transcript verify FILE`).
//!
//! What passes: a JSON export as the server wrote it (any whitespace or
//! key order: the digest is over the canonical JSON), or an HTML export
//! whose visible page is exactly what the server renders from the JSON
//! it carries, signed by the trusted key. What the check proves: the
//! file is whole (no character changed since export), the server that
//! holds that key exported it (a forger who recomputes the digest and
//! every link still cannot sign), and its messages form an unbroken
//! chain in seq order, so none was altered, removed or reordered between
//! storing and export without the chain showing it.

use super::chain::{GENESIS, Link, next};
use super::document::{Entry, FORMAT, Transcript, digest_of};
use super::signing::PublicKey;
use chrono::{DateTime, Utc};

/// Where and why a chain does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broken {
    pub seq: i64,
    pub why: String,
}

/// Recomputes every link from `from_seq` on and compares it with the one
/// the entry carries; then the last with `head`. Seqs must follow each
/// other without a gap.
pub fn check_chain(
    chat: i64,
    from_seq: i64,
    entries: &[Entry],
    head: Option<&str>,
) -> Result<(), Broken> {
    let mut prev = GENESIS.to_owned();
    let mut expect_seq = None;
    for e in entries.iter().filter(|e| e.seq >= from_seq) {
        let broken = |why: String| Broken { seq: e.seq, why };
        if let Some(s) = expect_seq
            && e.seq != s
        {
            return Err(broken(format!("seq {s} is missing")));
        }
        if expect_seq.is_none() && e.seq != from_seq {
            return Err(broken(format!("seq {from_seq} is missing")));
        }
        let at: DateTime<Utc> = DateTime::parse_from_rfc3339(&e.at)
            .map_err(|_| broken(format!("time {:?} is not RFC 3339", e.at)))?
            .with_timezone(&Utc);
        let link = next(
            &prev,
            &Link {
                chat,
                seq: e.seq,
                kind: &e.kind,
                change: e.change.as_deref(),
                target: e.target_id,
                sender: e.sender.as_ref().map(|p| p.id),
                at,
                text: &e.written,
                event: e.event.as_deref(),
            },
        );
        match e.chain.as_deref() {
            Some(stored) if stored == link => {}
            Some(_) => {
                return Err(broken(
                    "its link does not follow from it and the one before".into(),
                ));
            }
            None => return Err(broken("it has no link".into())),
        }
        prev = link;
        expect_seq = Some(e.seq + 1);
    }
    let last = expect_seq.map(|_| prev.as_str());
    match (last, head) {
        (None, None) => Ok(()),
        (Some(l), Some(h)) if l == h => Ok(()),
        _ => Err(Broken {
            seq: expect_seq.unwrap_or(from_seq),
            why: "the last link is not the chain's head: messages are missing at the end".into(),
        }),
    }
}

/// What a successful check found.
#[derive(Debug, PartialEq, Eq)]
pub struct Verified {
    pub digest: String,
    pub messages: usize,
    pub chained: usize,
    pub head: Option<String>,
    /// The key it is signed by (the trusted one).
    pub key: String,
}

/// Checks a JSON export against the server's public key.
pub fn verify_json(text: &str, trusted: &PublicKey) -> Result<(Verified, Transcript), String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a transcript: {e}"))?;
    let claimed = value
        .get("digest")
        .and_then(|d| d.as_str())
        .ok_or("not a transcript: no digest")?
        .to_owned();
    let actual = digest_of(&value);
    if claimed != actual {
        return Err(format!(
            "the digest does not match: the file says {claimed}, its content hashes to {actual}; it was changed after export"
        ));
    }
    let t: Transcript =
        serde_json::from_value(value).map_err(|e| format!("not a transcript: {e}"))?;
    if t.format != FORMAT {
        return Err(format!(
            "unknown format {:?} (this tool reads {FORMAT})",
            t.format
        ));
    }
    if let Some(seq) = t.chain.broken_at_seq {
        return Err(format!(
            "the server found its stored chain broken at seq {seq} when it exported this"
        ));
    }
    check_chain(
        t.chat.id,
        t.chain.from_seq,
        &t.messages,
        t.chain.head.as_deref(),
    )
    .map_err(|b| format!("the chain breaks at seq {}: {}", b.seq, b.why))?;
    // Last, so a changed message is named by the chain (where it breaks)
    // rather than by the signature alone.
    let signature = t
        .signature
        .as_ref()
        .ok_or("it is not signed, so nothing shows the server exported it")?;
    trusted.check(&actual, signature)?;
    let chained = t
        .messages
        .iter()
        .filter(|e| e.seq >= t.chain.from_seq)
        .count();
    Ok((
        Verified {
            digest: actual,
            messages: t.messages.len(),
            chained,
            head: t.chain.head.clone(),
            key: trusted.to_string(),
        },
        t,
    ))
}

/// Checks an HTML export: the JSON it carries, and that the page is
/// exactly what that JSON renders to.
pub fn verify_html(text: &str, trusted: &PublicKey) -> Result<Verified, String> {
    let json = super::render::embedded_json(text)
        .ok_or("not a jobchat transcript page: it carries no transcript data")?;
    let (verified, transcript) = verify_json(&json, trusted)?;
    if super::render::html(&transcript) != text {
        return Err("the page's visible text differs from the transcript it carries; it was changed after export".into());
    }
    Ok(verified)
}

/// Checks a file by its content: HTML when it starts like a page, else JSON.
pub fn verify_file(text: &str, trusted: &PublicKey) -> Result<Verified, String> {
    let start = text.trim_start();
    if start.starts_with("<!DOCTYPE") || start.starts_with("<html") {
        verify_html(text, trusted)
    } else {
        verify_json(text, trusted).map(|(v, _)| v)
    }
}
