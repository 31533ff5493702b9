//! The labelled corpus (`server/tests/data/masking-corpus.tsv`) and how well
//! the masker does on it: recall per category of contact detail, false
//! positives per category of harmless message. Printed by
//! `server masking bench [FILE]` (docs/benchmarks.md) and held to the
//! issue's targets by a test.
//!
//! A line is `id, category, contacts, text`: `\n` in the text is a line
//! break, ` ||| ` separates consecutive messages of one sender, and the
//! contacts (` ‖ `-separated, `-` for none) are the exact parts that must be
//! hidden. A contact counts as caught when every letter and digit of it is
//! inside a hidden stretch; a split number when every fragment after the
//! first is (the first was sent before the rest could be seen); a harmless
//! message is a false positive when anything in it is hidden.

use super::Masker;
use std::collections::BTreeMap;

/// Categories whose messages hold contact details written to slip past a
/// filter (the "evasions" target).
pub const EVASIONS: &[&str] = &[
    "evasion_spelled",
    "evasion_spaced",
    "evasion_at_dot",
    "split_lines",
    "split_messages",
];

/// One category's figures.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tally {
    pub messages: usize,
    /// Contact categories: messages whose every contact was caught.
    /// Harmless ones: messages with something hidden (false positives).
    pub hits: usize,
}

/// What the masker did on the corpus, by category.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub contacts: BTreeMap<String, Tally>,
    pub harmless: BTreeMap<String, Tally>,
    /// The lines it got wrong, for reading: id, category, what it made.
    pub misses: Vec<(u32, String, String)>,
}

impl Report {
    fn sum(map: &BTreeMap<String, Tally>, pick: impl Fn(&str) -> bool) -> Tally {
        map.iter()
            .filter(|(k, _)| pick(k))
            .fold(Tally::default(), |a, (_, t)| Tally {
                messages: a.messages + t.messages,
                hits: a.hits + t.hits,
            })
    }

    /// Recall over every contact category.
    pub fn recall(&self) -> f64 {
        ratio(&Self::sum(&self.contacts, |_| true))
    }

    /// Recall over the evasion categories.
    pub fn evasion_recall(&self) -> f64 {
        ratio(&Self::sum(&self.contacts, |k| EVASIONS.contains(&k)))
    }

    /// Share of harmless messages with something hidden.
    pub fn false_positive_rate(&self) -> f64 {
        ratio(&Self::sum(&self.harmless, |_| true))
    }

    /// The report as a table (Markdown), then the misses.
    pub fn render(&self) -> String {
        let mut out = String::from(
            "| category | messages | caught / hidden by mistake | rate |\n|---|---|---|---|\n",
        );
        for (name, t) in self.contacts.iter().chain(&self.harmless) {
            out.push_str(&format!(
                "| {name} | {} | {} | {:.1} % |\n",
                t.messages,
                t.hits,
                100.0 * ratio(t)
            ));
        }
        out.push_str(&format!(
            "\nrecall {:.1} % (evasions {:.1} %), false positives {:.1} % of harmless messages\n",
            100.0 * self.recall(),
            100.0 * self.evasion_recall(),
            100.0 * self.false_positive_rate()
        ));
        for (id, category, made) in &self.misses {
            out.push_str(&format!("miss {id} {category}: {made}\n"));
        }
        out
    }
}

fn ratio(t: &Tally) -> f64 {
    if t.messages == 0 {
        0.0
    } else {
        t.hits as f64 / t.messages as f64
    }
}

/// Runs the masker over the corpus; an error names a malformed line.
pub fn evaluate(masker: &Masker, corpus: &str) -> Result<Report, String> {
    let mut report = Report::default();
    for (n, line) in corpus.lines().enumerate().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [id, category, contacts, text] = fields.as_slice() else {
            return Err(format!("line {}: not four fields", n + 1));
        };
        let id: u32 = id.parse().map_err(|_| format!("line {}: bad id", n + 1))?;
        let messages: Vec<String> = text
            .split(" ||| ")
            .map(|m| m.replace("\\n", "\n"))
            .collect();
        // Each message masked as the server would: after the earlier ones.
        let mut hidden: Vec<Vec<std::ops::Range<usize>>> = Vec::new();
        let mut made = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            let earlier: Vec<&str> = messages[..i].iter().map(String::as_str).collect();
            let masked = masker.mask_following(&earlier, m);
            hidden.push(masked.found.iter().map(|f| f.range.clone()).collect());
            made.push(masked.text);
        }
        let made = made.join(" ||| ");
        if *contacts == "-" {
            let t = report.harmless.entry(category.to_string()).or_default();
            t.messages += 1;
            if hidden.iter().any(|h| !h.is_empty()) {
                t.hits += 1;
                report.misses.push((id, category.to_string(), made));
            }
            continue;
        }
        let mut caught = true;
        for (k, contact) in contacts.split(" ‖ ").enumerate() {
            let contact = contact.replace("\\n", "\n");
            // The message holding it (fragments in order, one a message).
            let Some((i, start)) = messages
                .iter()
                .enumerate()
                .skip(if messages.len() > 1 { k } else { 0 })
                .find_map(|(i, m)| m.find(&contact).map(|s| (i, s)))
            else {
                return Err(format!(
                    "line {}: contact {contact:?} not in its text",
                    n + 1
                ));
            };
            if messages.len() > 1 && k == 0 && *category == "split_messages" {
                continue;
            }
            let covered = contact.char_indices().all(|(j, c)| {
                !c.is_alphanumeric() || hidden[i].iter().any(|r| r.contains(&(start + j)))
            });
            caught &= covered;
        }
        let t = report.contacts.entry(category.to_string()).or_default();
        t.messages += 1;
        if caught {
            t.hits += 1;
        } else {
            report.misses.push((id, category.to_string(), made));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use phonenumber::country::Id as Region;

    /// The targets on the corpus: recall ≥ 97 % overall and ≥ 90 %
    /// on evasions, false positives ≤ 1 % of harmless messages.
    #[test]
    fn the_corpus_meets_the_targets() {
        let corpus = include_str!("../../tests/data/masking-corpus.tsv");
        let report = evaluate(&Masker::new(Region::DE), corpus).expect("well-formed");
        let total: usize = report
            .contacts
            .values()
            .chain(report.harmless.values())
            .map(|t| t.messages)
            .sum();
        assert!(total >= 300, "{total} messages");
        assert!(report.recall() >= 0.97, "{}", report.render());
        assert!(report.evasion_recall() >= 0.90, "{}", report.render());
        assert!(report.false_positive_rate() <= 0.01, "{}", report.render());
    }
}
