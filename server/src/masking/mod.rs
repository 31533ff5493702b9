//! Contact details in messages (issue #23): phone numbers, email addresses,
//! links and messenger handles, as people write them and as they write them
//! to slip past a filter ("zero one seven six…", "0 1 7 6…", "bob at gmail
//! dot com", a number over several lines or messages). Found by the rules
//! in `rules.rs` (data, with tests) and, for phone numbers, by libphonenumber's
//! metadata (`phones.rs`); replaced by a marker naming what was hidden.
//!
//! Masking runs on the server before a message is stored for others. How
//! well it does is measured on a labelled corpus (`server masking bench`,
//! docs/benchmarks.md), not guessed.

pub mod corpus;
mod phones;
pub mod rules;

use phonenumber::country::Id as Region;
use regex::Regex;
use rules::{Rule, SPOKEN, View};
use std::ops::Range;

/// What kind of contact detail was hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Phone,
    Email,
    Link,
    Handle,
}

impl Kind {
    /// The marker the others see in its place.
    pub fn marker(self) -> &'static str {
        match self {
            Kind::Phone => "[phone number hidden]",
            Kind::Email => "[email hidden]",
            Kind::Link => "[link hidden]",
            Kind::Handle => "[contact hidden]",
        }
    }
}

/// One contact detail found: where it is in the text, what it is, and the
/// rule that found it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub range: Range<usize>,
    pub kind: Kind,
    pub rule: &'static str,
}

/// A text with its contact details replaced by markers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Masked {
    pub text: String,
    pub found: Vec<Found>,
}

/// The rules, compiled once, and how the region's numbers are dialled.
pub struct Masker {
    numbering: phones::Numbering,
    rules: Vec<(Rule, Regex)>,
    spoken: Vec<(Regex, char)>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("region", &self.numbering.region)
            .finish()
    }
}

/// A lower-case copy of a text that remembers, for each of its bytes,
/// which bytes of the original it came from; finds in the copy are
/// mapped back to the original through it.
struct Lowered {
    text: String,
    from: Vec<Range<usize>>,
}

impl Lowered {
    fn new(original: &str) -> Self {
        let mut text = String::with_capacity(original.len());
        let mut from = Vec::with_capacity(original.len());
        for (i, c) in original.char_indices() {
            let source = i..i + c.len_utf8();
            for l in c.to_lowercase() {
                text.push(l);
                from.extend(std::iter::repeat_n(source.clone(), l.len_utf8()));
            }
        }
        Self { text, from }
    }

    /// `text` with each match of each pattern replaced by its character.
    fn replaced(&self, patterns: &[(Regex, char)]) -> Self {
        let mut hits: Vec<(Range<usize>, char)> = Vec::new();
        for (re, c) in patterns {
            for m in re.find_iter(&self.text) {
                if !hits
                    .iter()
                    .any(|(r, _)| r.start < m.end() && m.start() < r.end)
                {
                    hits.push((m.range(), *c));
                }
            }
        }
        hits.sort_by_key(|(r, _)| r.start);
        let mut text = String::with_capacity(self.text.len());
        let mut from = Vec::with_capacity(self.from.len());
        let mut at = 0;
        for (r, c) in hits {
            text.push_str(&self.text[at..r.start]);
            from.extend_from_slice(&self.from[at..r.start]);
            text.push(c);
            let source = self.from[r.start].start..self.from[r.end - 1].end;
            from.extend(std::iter::repeat_n(source, c.len_utf8()));
            at = r.end;
        }
        text.push_str(&self.text[at..]);
        from.extend_from_slice(&self.from[at..]);
        Self { text, from }
    }

    /// The original's bytes behind `range` of this copy.
    fn original(&self, range: Range<usize>) -> Range<usize> {
        self.from[range.start].start..self.from[range.end - 1].end
    }
}

impl Masker {
    /// A masker reading national numbers as `region` writes them.
    pub fn new(region: Region) -> Self {
        let rules = rules::rules()
            .into_iter()
            .map(|r| {
                let re = Regex::new(&r.pattern).expect("the masking rules compile (tested)");
                (r, re)
            })
            .collect();
        let spoken = SPOKEN
            .iter()
            .map(|(p, c)| {
                (
                    Regex::new(p).expect("the spoken forms compile (tested)"),
                    *c,
                )
            })
            .collect();
        Self {
            numbering: phones::Numbering::new(region),
            rules,
            spoken,
        }
    }

    /// Every contact detail in `text`, in order, overlapping finds merged.
    pub fn find(&self, text: &str) -> Vec<Found> {
        if text.is_empty() {
            return Vec::new();
        }
        let plain = Lowered::new(text);
        let spoken = plain.replaced(&self.spoken);
        let mut found: Vec<Found> = phones::find(&plain.text, &self.numbering)
            .into_iter()
            .map(|r| Found {
                range: plain.original(r),
                kind: Kind::Phone,
                rule: "phone-number",
            })
            .collect();
        for (rule, re) in &self.rules {
            let view = match rule.view {
                View::Plain => &plain,
                View::Spoken => &spoken,
            };
            for caps in re.captures_iter(&view.text) {
                let Some(m) = caps.get(1).or_else(|| caps.get(0)) else {
                    continue;
                };
                if m.is_empty() {
                    continue;
                }
                let range = view.original(m.range());
                if rule.kind == Kind::Handle && is_mention(&text[range.clone()]) {
                    continue;
                }
                found.push(Found {
                    range,
                    kind: rule.kind,
                    rule: rule.name,
                });
            }
        }
        merge(found)
    }

    /// `text` with every contact detail replaced by its marker.
    pub fn mask(&self, text: &str) -> Masked {
        masked(text, self.find(text))
    }

    /// Whether `text` ends with digits that are not a whole number (written
    /// as digits or words, a few words at most after them): how the first
    /// piece of a number sent in pieces looks.
    pub fn ends_in_digits(&self, text: &str) -> bool {
        phones::trailing(text, &self.numbering).is_some()
    }

    /// Like `mask`, for a message that follows `earlier` messages of the
    /// same sender a moment before (oldest first): a number begun in them
    /// and finished here is hidden here (the part already sent is not
    /// taken back, but the whole number never reaches anyone).
    pub fn mask_following(&self, earlier: &[&str], text: &str) -> Masked {
        if earlier.is_empty() {
            return self.mask(text);
        }
        let mut joined = earlier.join("\n");
        joined.push('\n');
        let offset = joined.len();
        joined.push_str(text);
        let mut found: Vec<Found> = self
            .find(&joined)
            .into_iter()
            .filter(|f| f.range.end > offset)
            .map(|f| Found {
                range: f.range.start.max(offset) - offset..f.range.end - offset,
                ..f
            })
            .collect();
        // A number still being sent: the earlier messages end with how a
        // number starts, and this one goes on with digits ("0176" then
        // "1234" then "5678"): each piece after the first is hidden, so no
        // one ever holds the whole number.
        // The pieces so far: the run each of the latest earlier messages
        // ends with, in order ("first part 0172", "second part 887").
        let mut pieces: Vec<(String, bool)> = earlier
            .iter()
            .rev()
            .map_while(|m| phones::trailing(m, &self.numbering))
            .collect();
        pieces.reverse();
        let begun = (!pieces.is_empty()).then(|| {
            let head: String = pieces.iter().map(|(d, _)| d.as_str()).collect();
            (head, pieces[0].1)
        });
        if let (Some((head, plus)), Some((range, tail))) = (begun, phones::leading(text))
            && !found
                .iter()
                .any(|f| f.range.start < range.end && range.start < f.range.end)
            && phones::is_number_begun(&format!("{head}{tail}"), plus, &self.numbering)
        {
            found.push(Found {
                range,
                kind: Kind::Phone,
                rule: "phone-in-pieces",
            });
        }
        masked(text, merge(found))
    }
}

/// "@Markus": a person addressed by their first name (capitalised
/// letters only), not a handle to contact elsewhere.
fn is_mention(handle: &str) -> bool {
    let Some(name) = handle.strip_prefix('@') else {
        return false;
    };
    let mut chars = name.chars();
    chars.next().is_some_and(char::is_uppercase) && chars.all(char::is_lowercase)
}

/// Sorts finds and merges those that overlap (the earlier rule's kind wins).
fn merge(mut found: Vec<Found>) -> Vec<Found> {
    found.sort_by_key(|f| (f.range.start, std::cmp::Reverse(f.range.end)));
    let mut out: Vec<Found> = Vec::with_capacity(found.len());
    for f in found {
        match out.last_mut() {
            Some(last) if f.range.start < last.range.end => {
                last.range.end = last.range.end.max(f.range.end);
            }
            _ => out.push(f),
        }
    }
    out
}

fn masked(text: &str, found: Vec<Found>) -> Masked {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in &found {
        out.push_str(&text[at..f.range.start]);
        out.push_str(f.kind.marker());
        at = f.range.end;
    }
    out.push_str(&text[at..]);
    Masked { text: out, found }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masker() -> Masker {
        Masker::new(Region::DE)
    }

    #[test]
    fn every_rule_compiles() {
        for r in rules::rules() {
            Regex::new(&r.pattern).unwrap_or_else(|e| panic!("{}: {e}", r.name));
        }
        for (p, _) in SPOKEN {
            Regex::new(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        }
    }

    #[test]
    fn contact_details_are_replaced() {
        let m = masker();
        let cases = [
            (
                "call me on 0176 1234 5678!",
                "call me on [phone number hidden]!",
            ),
            (
                "mail bob.k+jobs@web.de please",
                "mail [email hidden] please",
            ),
            ("bob at gmail dot com", "[email hidden]"),
            ("bob (at) gmail (dot) com", "[email hidden]"),
            ("Anna [at] posteo [dot] de", "[email hidden]"),
            ("see https://bobs-plumbing.de/about.", "see [link hidden]."),
            (
                "www.bobfix.com or bobs-plumbing.de",
                "[link hidden] or [link hidden]",
            ),
            ("wa.me/4917612345678", "[link hidden]"),
            (
                "add me on insta: bob.fixes",
                "add me on insta: [contact hidden]",
            ),
            ("my whatsapp is bob_m", "my whatsapp is [contact hidden]"),
            ("telegram @bobplumber", "telegram [contact hidden]"),
            ("skype live:bob.m", "skype [contact hidden]"),
            ("snapchat -> dennis.roofs", "snapchat -> [contact hidden]"),
            ("hans klammeraffe web punkt de", "[email hidden]"),
        ];
        for (text, expected) in cases {
            assert_eq!(m.mask(text).text, expected, "{text}");
        }
    }

    #[test]
    fn harmless_text_stays() {
        let m = masker();
        for text in [
            "I'll be there at noon",
            "the dot on the wall is a screw hole",
            "text me on whatsapp please, no wait, keep it here",
            "invoice.pdf and photo_2026.jpg attached",
            "the @ key on my keyboard is broken",
            "@Markus yes, that's the right room",
            "Hauptstraße 12, 10115 Berlin, 2nd floor",
            "€1.250,00 incl. 19% VAT, 3.5 h at 45€/h",
            "Bosch WAT28400, serial 2106-4421-88",
        ] {
            assert_eq!(m.mask(text).found, Vec::new(), "{text}");
        }
    }

    #[test]
    fn a_number_over_two_messages_is_hidden_in_the_second() {
        let m = masker();
        let second = m.mask_following(&["call me 0176"], "1234 5678");
        assert_eq!(second.text, "[phone number hidden]");
        let unrelated = m.mask_following(&["we need 2 taps"], "at 14:30");
        assert!(unrelated.found.is_empty());
    }

    #[test]
    fn ranges_are_the_originals_whatever_the_case() {
        let m = masker();
        let text = "İ: BOB AT GMX DOT NET";
        let found = m.find(text);
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].range.clone()], "BOB AT GMX DOT NET");
    }
}
