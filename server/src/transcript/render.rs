//! A transcript as a file: JSON (the record), CSV (one row per message,
//! for spreadsheets) and a printable HTML page that carries its JSON, so
//! the page itself can be verified. Rendering is deterministic: the same
//! transcript always gives the same bytes, which is what lets `verify`
//! compare a page with what its JSON renders to.

use super::document::{Entry, Transcript};
use crate::service::texts::html_escape as esc;
use crate::spreadsheet::cell;
use contract::validate::Invalid;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
    Html,
}

impl Format {
    pub fn parse(raw: Option<&str>) -> Result<Self, Invalid> {
        match raw {
            None | Some("json") => Ok(Self::Json),
            Some("csv") => Ok(Self::Csv),
            Some("html") => Ok(Self::Html),
            Some(_) => Err(Invalid {
                field: "format",
                message: "must be json, csv or html".into(),
            }),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Csv => "csv",
            Self::Html => "html",
        }
    }

    /// The file and its content type.
    pub fn render(self, t: &Transcript) -> (String, &'static str) {
        match self {
            Self::Json => (json(t), "application/json"),
            Self::Csv => (csv(t), "text/csv; charset=utf-8"),
            Self::Html => (html(t), "text/html; charset=utf-8"),
        }
    }
}

pub fn json(t: &Transcript) -> String {
    serde_json::to_string_pretty(t).unwrap_or_default()
}

/// One row per message; the first row names the transcript, its digest
/// (which covers the JSON export of the same transcript) and the server's
/// signature over that digest.
pub fn csv(t: &Transcript) -> String {
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String| {
        let row: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    };
    line(
        &[
            t.format.clone(),
            format!("chat {}", t.chat.id),
            t.chat.job_title.clone(),
            t.digest.clone(),
            format!("chain head {}", t.chain.head.as_deref().unwrap_or("none")),
            t.signature
                .as_ref()
                .map(|sig| format!("signed {} {} {}", sig.alg, sig.key, sig.value))
                .unwrap_or_default(),
        ],
        &mut out,
    );
    line(
        &[
            "seq",
            "id",
            "at",
            "kind",
            "change",
            "target",
            "sender",
            "role",
            "written",
            "shown",
            "masked",
            "removed by moderator",
            "earlier versions",
            "attachments (sha256)",
            "chain",
        ]
        .map(str::to_owned),
        &mut out,
    );
    for e in &t.messages {
        let versions: Vec<String> = e.versions.iter().map(|v| v.text.clone()).collect();
        let files: Vec<String> = e
            .attachments
            .iter()
            .map(|f| format!("{} ({} bytes, {})", f.name, f.size, f.sha256))
            .collect();
        line(
            &[
                e.seq.to_string(),
                e.id.to_string(),
                e.at.clone(),
                e.kind.clone(),
                e.change.clone().unwrap_or_default(),
                e.target_id.map(|t| t.to_string()).unwrap_or_default(),
                e.sender
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                e.sender
                    .as_ref()
                    .map(|p| p.role.clone())
                    .unwrap_or_default(),
                e.written.clone(),
                e.shown.clone(),
                e.masked.to_string(),
                e.removed_by_moderator.to_string(),
                versions.join(" | "),
                files.join(" | "),
                e.chain.clone().unwrap_or_default(),
            ],
            &mut out,
        );
    }
    out
}

const DATA_OPEN: &str = "<script type=\"application/json\" id=\"jobchat-transcript\">";
const DATA_CLOSE: &str = "</script>";

/// The JSON inside a page: `<`, `>` and `&` written as `\u003c`…, so
/// nothing in a message can end the script element.
fn embedded(t: &Transcript) -> String {
    serde_json::to_string(t)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The JSON a page carries, if it is a transcript page.
pub fn embedded_json(page: &str) -> Option<String> {
    let start = page.find(DATA_OPEN)? + DATA_OPEN.len();
    let len = page[start..].find(DATA_CLOSE)?;
    Some(page[start..start + len].to_owned())
}

fn who(e: &Entry) -> String {
    match &e.sender {
        Some(p) => format!("{} ({})", p.name, p.role),
        None => "jobchat".to_owned(),
    }
}

fn money(cents: Option<i64>, currency: Option<&str>) -> String {
    cents.map_or_else(String::new, |c| {
        format!(
            " of {} {}",
            contract::model::format_cents(c),
            currency.unwrap_or("")
        )
    })
}

/// A printable page (print to PDF from the browser).
pub fn html(t: &Transcript) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    h.push_str(&format!(
        "<title>Transcript: {} (chat {})</title>\n",
        esc(&t.chat.job_title),
        t.chat.id
    ));
    h.push_str("<link rel=\"stylesheet\" href=\"/transcript.css\">\n</head>\n<body class=\"transcript\">\n<header>\n");
    h.push_str(&format!(
        "<h1>{}</h1>\n<p>Chat {} · job {} · {}</p>\n<p>Exported {} by {}</p>\n",
        esc(&t.chat.job_title),
        t.chat.id,
        t.chat.job_id,
        esc(&t.chat.job_status),
        esc(&t.exported_at),
        esc(&t.exported_by.name)
    ));
    h.push_str("<p>People: ");
    let people: Vec<String> = t
        .participants
        .iter()
        .map(|p| format!("{} ({})", esc(&p.name), esc(&p.role)))
        .collect();
    h.push_str(&people.join(", "));
    h.push_str("</p>\n</header>\n<section class=\"outcome\">\n<h2>Disputes</h2>\n<ul>\n");
    for d in &t.disputes {
        h.push_str(&format!(
            "<li>#{} opened {} by {}: {} · LSM {} · {}",
            d.id,
            esc(&d.opened_at),
            esc(&d.raised_by),
            esc(&d.reason),
            esc(&d.lsm),
            esc(&d.status)
        ));
        if let Some(o) = &d.outcome {
            h.push_str(&format!(
                " · {}{} · {} · {}",
                esc(o),
                esc(&money(d.refund_cents, d.currency.as_deref())),
                esc(d.note.as_deref().unwrap_or("")),
                esc(d.resolved_at.as_deref().unwrap_or(""))
            ));
        }
        h.push_str("</li>\n");
    }
    h.push_str("</ul>\n</section>\n<table class=\"messages\">\n<thead><tr><th>Seq</th><th>Time</th><th>From</th><th>Message</th></tr></thead>\n<tbody>\n");
    for e in &t.messages {
        let class = match (e.kind.as_str(), e.change.as_deref()) {
            ("system", _) => "system",
            (_, Some(_)) => "change",
            _ => "message",
        };
        h.push_str(&format!(
            "<tr class=\"{class}\"><td>{}</td><td>{}</td><td>{}</td><td>",
            e.seq,
            esc(&e.at),
            esc(&who(e))
        ));
        match (e.change.as_deref(), e.target_id) {
            (Some("delete"), Some(t)) => h.push_str(&format!("Deleted message {t}")),
            (Some(_), Some(t)) => {
                h.push_str(&format!("Edited message {t} to: {}", esc(&e.written)))
            }
            _ => h.push_str(&esc(&e.written)),
        }
        if e.masked {
            h.push_str(&format!(
                "<div class=\"masked\">Shown to the others as: {}</div>",
                esc(&e.shown)
            ));
        }
        if e.removed_by_moderator {
            h.push_str("<div class=\"removed\">Removed by a moderator</div>");
        }
        if !e.versions.is_empty() {
            h.push_str("<ol class=\"versions\">");
            for v in &e.versions {
                h.push_str(&format!(
                    "<li>{} (until seq {})</li>",
                    esc(&v.text),
                    v.replaced_seq
                ));
            }
            h.push_str("</ol>");
        }
        for f in &e.attachments {
            h.push_str(&format!(
                "<div class=\"file\">{} · {} · {} bytes · SHA-256 {}</div>",
                esc(&f.name),
                esc(&f.content_type),
                f.size,
                esc(&f.sha256)
            ));
        }
        h.push_str(&format!(
            "<div class=\"link\">{}</div></td></tr>\n",
            esc(e.chain.as_deref().unwrap_or("before the chain"))
        ));
    }
    h.push_str("</tbody>\n</table>\n<footer class=\"digest\">\n");
    h.push_str(&format!(
        "<p>Digest {} · chain from seq {} · head {}</p>\n",
        esc(&t.digest),
        t.chain.from_seq,
        esc(t.chain.head.as_deref().unwrap_or("none"))
    ));
    if let Some(sig) = &t.signature {
        h.push_str(&format!(
            "<p>Signed by the server ({}, key {})</p>\n",
            esc(&sig.alg),
            esc(&sig.key)
        ));
    }
    h.push_str(
        "<p>Check this file with <code>server transcript verify FILE</code> on the server, or anywhere with <code>--key</code> and the key the server publishes at <code>/api/transcripts/key</code>.</p>\n</footer>\n",
    );
    h.push_str(DATA_OPEN);
    h.push_str(&embedded(t));
    h.push_str(DATA_CLOSE);
    h.push_str("\n</body>\n</html>\n");
    h
}
