//! Phone numbers: runs of digits (written as digits or as words, with
//! spaces, dashes, dots, slashes, brackets or line breaks between them) are
//! read from the text, and a stretch of a run is a phone number when
//! libphonenumber's metadata (the `phonenumber` crate) says it is a valid
//! number: international (`+` or `00`), or national with the deployment
//! region's national prefix ("0176 …" in Germany). So prices, dates,
//! quantities, model and order numbers, which are not valid numbers or lack
//! the prefix, stay as they are.

use super::rules::{
    FILLERS, PLUS_WORDS, REPEATS, SPELLED_DIGITS, SPELLED_TEENS, SPELLED_TENS, is_phone_separator,
};
use phonenumber::country::Id as Region;
use std::ops::Range;

/// The most digits a number has (E.164: 15, plus a `00` prefix).
const MAX_DIGITS: usize = 17;
/// The fewest: a national number with its prefix ("030 1234").
const MIN_DIGITS: usize = 7;
/// Groups of digits looked at in one run; a longer run is read in pieces.
const MAX_GROUPS: usize = 64;

/// One group of digits: its digits and where they are in the text.
#[derive(Debug)]
struct Group {
    digits: String,
    range: Range<usize>,
    /// Where the "+" (or "plus") before it starts, if one came first (only
    /// a run's first group can have one).
    plus: Option<usize>,
    /// A tens word ("seventy") that a unit word may complete.
    tens: bool,
}

/// What the text says, in order: digit groups, and breaks between runs.
#[derive(Debug)]
enum Piece {
    Group(Group),
    Break,
}

/// The digits a word stands for: a digit ("seven"), a teen ("twelve"), a
/// German compound ("vierundvierzig"), or a tens word ("seventy", which a
/// following unit completes: `Tens`).
enum Spelled {
    Digits(String),
    Tens(char),
    Repeat(usize),
    Filler,
    Plus,
}

fn spelled(word: &str) -> Option<Spelled> {
    let digit = |w: &str| {
        SPELLED_DIGITS
            .iter()
            .chain(&[("ein", '1')])
            .find(|(d, _)| *d == w)
            .map(|(_, c)| *c)
    };
    let tens = |w: &str| SPELLED_TENS.iter().find(|(t, _)| *t == w).map(|(_, c)| *c);
    if let Some(d) = digit(word).filter(|_| word != "ein") {
        return Some(Spelled::Digits(d.to_string()));
    }
    if let Some(t) = tens(word) {
        return Some(Spelled::Tens(t));
    }
    if let Some((_, n)) = SPELLED_TEENS.iter().find(|(t, _)| *t == word) {
        return Some(Spelled::Digits((*n).to_owned()));
    }
    if let Some((unit, ten)) = word.split_once("und")
        && let (Some(u), Some(t)) = (digit(unit), tens(ten))
    {
        return Some(Spelled::Digits(format!("{t}{u}")));
    }
    if let Some((_, n)) = REPEATS.iter().find(|(r, _)| *r == word) {
        return Some(Spelled::Repeat(*n));
    }
    if FILLERS.contains(&word) {
        return Some(Spelled::Filler);
    }
    PLUS_WORDS.contains(&word).then_some(Spelled::Plus)
}

/// Splits `text` (already lower case) into digit groups and breaks.
/// Digits written as words are groups too; separators and filler words
/// join groups into one run, anything else breaks it.
fn pieces(text: &str) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    let mut chars = text.char_indices().peekable();
    let mut plus: Option<usize> = None;
    // "double" waiting for its digit; a tens word waiting for its unit.
    let mut repeat: Option<usize> = None;
    let mut tens_open = false;
    // The last token was a word that ended where this one starts.
    let mut glued_to_word = false;
    let push =
        |out: &mut Vec<Piece>, digits: String, range: Range<usize>, plus: &mut Option<usize>| {
            out.push(Piece::Group(Group {
                digits,
                range,
                plus: plus.take(),
                tens: false,
            }))
        };
    while let Some((i, c)) = chars.next() {
        let (is_digit, end) = if c.is_ascii_digit() || c.is_alphabetic() {
            let digit = c.is_ascii_digit();
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if d.is_ascii_digit() != digit || !(d.is_ascii_digit() || d.is_alphabetic()) {
                    break;
                }
                end = j + d.len_utf8();
                chars.next();
            }
            (digit, end)
        } else {
            glued_to_word = false;
            if c == '+' {
                plus = Some(i);
                out.push(Piece::Break);
            } else if !is_phone_separator(c) {
                plus = None;
                out.push(Piece::Break);
            }
            continue;
        };
        let word = &text[i..end];
        // Digits glued to a word ("FK0220610", "WAT28400") are a model or
        // part number, not a phone number's start.
        let glued = is_digit && matches!(out.last(), Some(Piece::Break)) && glued_to_word;
        glued_to_word = !is_digit;
        let read = if glued {
            None
        } else if is_digit {
            Some(Spelled::Digits(word.to_owned()))
        } else {
            spelled(word)
        };
        // A tens word not followed by a unit stands for its tens ("70").
        let unit = matches!(&read, Some(Spelled::Digits(d)) if d.len() == 1 && !is_digit);
        if tens_open
            && !unit
            && let Some(Piece::Group(g)) = out.last_mut()
        {
            g.digits.push('0');
        }
        tens_open = false;
        match read {
            Some(Spelled::Digits(mut digits)) => {
                if let Some(n) = repeat.take() {
                    digits = digits.repeat(n);
                }
                let joined = unit
                    && matches!(out.last(), Some(Piece::Group(g)) if g.range.end <= i && g.digits.len() == 1 && g.tens);
                if joined {
                    if let Some(Piece::Group(g)) = out.last_mut() {
                        g.digits.push_str(&digits);
                        g.range.end = end;
                        g.tens = false;
                    }
                } else {
                    push(&mut out, digits, i..end, &mut plus);
                }
            }
            Some(Spelled::Tens(t)) => {
                push(&mut out, t.to_string(), i..end, &mut plus);
                if let Some(Piece::Group(g)) = out.last_mut() {
                    g.tens = true;
                }
                tens_open = true;
            }
            Some(Spelled::Repeat(n)) => repeat = Some(n),
            Some(Spelled::Filler) => {}
            Some(Spelled::Plus) => {
                plus = Some(i);
                out.push(Piece::Break);
            }
            None => {
                plus = None;
                repeat = None;
                out.push(Piece::Break);
            }
        }
    }
    if tens_open && let Some(Piece::Group(g)) = out.last_mut() {
        g.digits.push('0');
    }
    out
}

/// How numbers are dialled in the deployment's region, read from the
/// metadata once (the masker asks for every stretch of digits).
#[derive(Clone, Debug)]
pub struct Numbering {
    pub region: Region,
    /// "0" in Germany; none in regions without one.
    national_prefix: Option<String>,
}

impl Numbering {
    pub fn new(region: Region) -> Self {
        let national_prefix = phonenumber::metadata::DATABASE
            .by_id(region.as_ref())
            .and_then(|m| m.national_prefix().map(str::to_owned));
        Self {
            region,
            national_prefix,
        }
    }

    /// Whether `digits` begins with the region's national prefix (true
    /// where there is none).
    fn national(&self, digits: &str) -> bool {
        self.national_prefix
            .as_deref()
            .is_none_or(|p| digits.starts_with(p))
    }
}

/// Whether `digits` (with `plus` if a "+" came first) is a valid phone
/// number as written in the region.
fn is_number(digits: &str, plus: bool, numbering: &Numbering) -> bool {
    let international = plus || digits.starts_with("00");
    let region = numbering.region;
    let written = if plus {
        format!("+{digits}")
    } else if let Some(rest) = digits.strip_prefix("00") {
        format!("+{rest}")
    } else {
        // Without its prefix a national number is too like a reference
        // number to mask.
        if !numbering.national(digits) {
            return false;
        }
        digits.to_owned()
    };
    let valid = |written: &str| match phonenumber::parse(Some(region), written) {
        // After "+" or "00" a number of a known country with a national
        // number of a plausible length is hidden even where no line is
        // assigned yet (UK 07700 900xxx, kept for fiction, is a number to
        // anyone dialling it); "00" then needs more digits, and not the
        // North American code, as reference numbers start with zeros too.
        Ok(number) if international => {
            let national = number.national().value().to_string().len();
            let code = number.code().value();
            phonenumber::is_valid(&number)
                || (plus && (6..=12).contains(&national))
                || (!plus && code != 1 && (9..=12).contains(&national))
        }
        Ok(number) => phonenumber::is_valid(&number),
        Err(_) => false,
    };
    if valid(&written) {
        return true;
    }
    // A long number one digit off a valid one is a number mistyped, or
    // typed short on purpose: hidden all the same.
    digits.len() >= 10 && (valid(&format!("{written}0")) || valid(&written[..written.len() - 1]))
}

/// A date written with dots, slashes or dashes ("03.12.2026",
/// "2026-03-12"): never a phone number, whatever its digits say.
fn is_date(written: &str) -> bool {
    let parts: Vec<&str> = written.split(['.', '/', '-']).map(str::trim).collect();
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    parts.iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
        && matches!(lens.as_slice(), [1 | 2, 1 | 2, 2 | 4] | [4, 2, 2])
}

/// The phone numbers in `text` (lower case): their byte ranges.
pub fn find(text: &str, numbering: &Numbering) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut run: Vec<Group> = Vec::new();
    for piece in pieces(text)
        .into_iter()
        .chain(std::iter::once(Piece::Break))
    {
        match piece {
            Piece::Group(g) if run.len() < MAX_GROUPS => run.push(g),
            Piece::Group(g) => {
                found.extend(in_run(text, &run, numbering));
                run = vec![g];
            }
            Piece::Break => {
                found.extend(in_run(text, &run, numbering));
                run.clear();
            }
        }
    }
    found
}

/// The numbers in one run of groups: from each group on, the longest
/// stretch of groups that is a valid number; the search goes on after it.
fn in_run(text: &str, run: &[Group], numbering: &Numbering) -> Vec<Range<usize>> {
    let mut found = Vec::new();
    let mut start = 0;
    while start < run.len() {
        let mut digits = String::new();
        let mut best = None;
        for (end, g) in run.iter().enumerate().skip(start) {
            digits.push_str(&g.digits);
            if digits.len() > MAX_DIGITS {
                break;
            }
            if digits.len() >= MIN_DIGITS {
                let range = run[start].range.start..g.range.end;
                if !is_date(&text[range.clone()])
                    && is_number(&digits, run[start].plus.is_some(), numbering)
                {
                    best = Some((end, range));
                }
            }
        }
        match best {
            Some((end, range)) => {
                // The "+" before the number goes with it.
                let mut from = run[start].plus.unwrap_or(range.start);
                // So does a bracket opened just before it: "(030) 1234 567".
                if text[..from].ends_with('(') {
                    from -= 1;
                }
                found.push(from..range.end);
                start = end + 1;
            }
            None => start += 1,
        }
    }
    found
}

/// Words (or marks) allowed around a number's piece at the edge of a
/// message: "my number starts 0151", "second part 4455667".
const EDGE_WORDS: usize = 3;

/// The runs among `pieces`: each one's groups, and how many breaks came
/// before it.
fn runs(pieces: Vec<Piece>) -> Vec<(usize, Vec<Group>)> {
    let mut runs = Vec::new();
    let mut run = Vec::new();
    let mut breaks = 0;
    for piece in pieces {
        match piece {
            Piece::Group(g) => run.push(g),
            Piece::Break if run.is_empty() => breaks += 1,
            Piece::Break => {
                runs.push((breaks, std::mem::take(&mut run)));
                breaks = 1;
            }
        }
    }
    if !run.is_empty() {
        runs.push((breaks, run));
    }
    runs
}

/// The digits of the run that ends `text` (at most a few words after it),
/// with whether a "+" came first, when it is not a whole number itself.
pub fn trailing(text: &str, numbering: &Numbering) -> Option<(String, bool)> {
    let lower = text.to_lowercase();
    let pieces = pieces(&lower);
    let after = pieces
        .iter()
        .rev()
        .take_while(|p| matches!(p, Piece::Break))
        .count();
    if after > EDGE_WORDS {
        return None;
    }
    let (_, run) = runs(pieces).pop()?;
    let digits: String = run.iter().map(|g| g.digits.as_str()).collect();
    (in_run(&lower, &run, numbering).is_empty()).then_some((digits, run[0].plus.is_some()))
}

/// The run that begins `text` (at most a few words before it): where it is
/// and its digits.
pub fn leading(text: &str) -> Option<(Range<usize>, String)> {
    let lower = text.to_lowercase();
    if lower.len() != text.len() {
        return None;
    }
    let (before, run) = runs(pieces(&lower)).into_iter().next()?;
    if before > EDGE_WORDS {
        return None;
    }
    let digits = run.iter().map(|g| g.digits.as_str()).collect();
    Some((run[0].range.start..run[run.len() - 1].range.end, digits))
}

/// Whether `digits` (after a "+" if `plus`) is how a phone number starts in
/// the region and is long enough to be most of one: a number being sent in
/// pieces.
pub fn is_number_begun(digits: &str, plus: bool, numbering: &Numbering) -> bool {
    let starts = plus
        || digits.starts_with("00")
        || numbering
            .national_prefix
            .as_deref()
            .is_some_and(|p| digits.starts_with(p));
    starts && (MIN_DIGITS - 1..=MAX_DIGITS).contains(&digits.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de(text: &str) -> Vec<&str> {
        let lower = text.to_lowercase();
        find(&lower, &Numbering::new(Region::DE))
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn numbers_as_people_write_them() {
        assert_eq!(de("call me on 0176 1234 5678 pls"), ["0176 1234 5678"]);
        assert_eq!(de("(030) 1234 567"), ["(030) 1234 567"]);
        assert_eq!(de("+49 176 12345678"), ["+49 176 12345678"]);
        assert_eq!(de("0049 176 12345678"), ["0049 176 12345678"]);
        assert_eq!(de("+44 7700 900123"), ["+44 7700 900123"]);
        assert_eq!(de("0 1 7 6 1 2 3 4 5 6 7 8"), ["0 1 7 6 1 2 3 4 5 6 7 8"]);
        assert_eq!(de("my number:\n0176\n1234\n5678"), ["0176\n1234\n5678"]);
        assert_eq!(
            de("zero one seven six one two three four five six seven eight"),
            ["zero one seven six one two three four five six seven eight"]
        );
        assert_eq!(
            de("null eins sieben sechs 12345678"),
            ["null eins sieben sechs 12345678"]
        );
        assert_eq!(de("O1 76 12 34 56 78"), ["O1 76 12 34 56 78"]);
        assert_eq!(de("0044 7700 900456"), ["0044 7700 900456"]);
        assert!(de("seventy six").is_empty());
        // One digit short of a valid mobile number: still hidden.
        assert_eq!(de("0152 3344 556"), ["0152 3344 556"]);
    }

    #[test]
    fn other_numbers_stay() {
        for text in [
            "the quote is 2.340 € incl. 19% VAT",
            "Hauptstraße 12, 10115 Berlin",
            "on 03.12.2026 at 14:30",
            "2026-03-12",
            "order #4711-0815",
            "part no. 87186445670",
            "Grohe 32 846 000",
            "booking ref 88214573",
            "one or two hours",
            "Kermi FK0220610, Bosch WAT28400",
        ] {
            assert!(de(text).is_empty(), "{text}: {:?}", de(text));
        }
    }
}
