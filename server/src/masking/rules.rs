//! The masking rules as data: what counts as a contact detail, each with a
//! name (reported by the corpus benchmark and in logs), the kind of detail
//! and where it is looked for. Phone numbers are not a pattern here: they
//! are read as digit runs (`phones.rs`) and confirmed by libphonenumber's
//! metadata, which knows every country's numbering plan better than a
//! regex could.
//!
//! Every rule has cases in this file's tests and in the labelled corpus
//! (`server/tests/data/masking-corpus.tsv`, `server masking bench`).

use super::Kind;

/// Which text a rule reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The message in lower case.
    Plain,
    /// Lower case, with the ways people write "@" and "." in words ("at",
    /// "(at)", "[dot]", "punkt", " . ") turned into the characters.
    Spoken,
}

pub struct Rule {
    pub name: &'static str,
    pub kind: Kind,
    pub view: View,
    /// A regex; what its group 1 matches (else the whole match) is masked.
    pub pattern: String,
}

/// Top-level domains a bare domain is recognised by (a file name such as
/// "invoice.pdf" is not a link).
const TLDS: &str =
    "com|de|net|org|info|eu|io|me|co|uk|at|ch|nl|fr|es|it|pl|biz|shop|online|app|xyz|site";

/// Messenger and social apps whose handle may follow their name.
const APPS: &str = "insta(?:gram)?|ig|telegram|tg|snap(?:chat)?|skype|signal|whats\\s?app|wa|tiktok|facebook|fb|discord|threema|viber|wechat|kik|twitter";

/// The rules, tried in this order; overlapping finds are merged.
pub fn rules() -> Vec<Rule> {
    vec![
        Rule {
            name: "email",
            kind: Kind::Email,
            view: View::Spoken,
            pattern: r"[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,12}\b".into(),
        },
        Rule {
            name: "url-with-scheme",
            kind: Kind::Link,
            view: View::Plain,
            pattern: r"\b(?:https?://|www\.)[^\s<>]+[^\s<>.,;:!?)]".into(),
        },
        Rule {
            name: "short-link",
            kind: Kind::Link,
            view: View::Plain,
            pattern:
                r"\b(?:wa\.me|t\.me|m\.me|bit\.ly|tinyurl\.com|linktr\.ee)/[^\s<>]*[^\s<>.,;:!?)]"
                    .into(),
        },
        Rule {
            name: "bare-domain",
            kind: Kind::Link,
            view: View::Plain,
            pattern: format!(
                r"\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.(?:{TLDS})\b(?:/[^\s<>]*[^\s<>.,;:!?)])?"
            ),
        },
        Rule {
            name: "handle-after-app",
            kind: Kind::Handle,
            view: View::Plain,
            // "insta: bob.fixes", "my whatsapp is bob_m", "skype live:bob.m":
            // a word after the app's name and a marker (":", "is", "@", "id"…).
            pattern: format!(
                r"\b(?:{APPS})\b(?:\s*(?:handle|name|username|user|id|account|acc))?\s*(?::|=|-|–|\bis\b|\bist\b|\bid\b)\s*(@?(?:live:)?[a-z0-9_][a-z0-9_.]{{1,29}}[a-z0-9_](?:#\d{{4}})?)"
            ),
        },
        Rule {
            name: "handle-near-app",
            kind: Kind::Handle,
            view: View::Plain,
            // "find me on insta bob.fixes", "fb messenger, search
            // ria.renovates": without a marker only a handle-shaped word
            // (with a digit, "_" or ".") within three words of the app's
            // name counts, so "text me on whatsapp please" stays as it is.
            pattern: format!(
                r"\b(?:{APPS})\b(?:[\s,:>=-]+[a-z]+){{0,3}}?[\s,:>=@-]+((?:live:)?@?[a-z0-9]*[_.0-9][a-z0-9_.]*[a-z0-9_](?:#\d{{4}})?)"
            ),
        },
        Rule {
            name: "handle-at",
            kind: Kind::Handle,
            view: View::Plain,
            // "@bobplumber" on its own (an email's "@" has a word before it).
            pattern: r"(?:^|[^a-z0-9_.@])(@[a-z0-9_][a-z0-9_.]{2,29}[a-z0-9_])".into(),
        },
    ]
}

/// Words that stand for "@" and "." when people write an address out,
/// turned into the characters in the `Spoken` view. Bracketed forms first.
pub const SPOKEN: &[(&str, char)] = &[
    (
        r"\s*[\(\[\{<]\s*(?:at|ät|@|klammeraffe)\s*[\)\]\}>]\s*",
        '@',
    ),
    (r"\s*[\(\[\{<]\s*(?:d[o0]t|punkt|\.)\s*[\)\]\}>]\s*", '.'),
    (r"(?:\.{2,}|…)\s*(?:d[o0]t|punkt)\s+", '.'),
    (r"\s+(?:at|ät|klammeraffe)\s+", '@'),
    (r"\s+(?:d[o0]t|punkt)\s+", '.'),
    (r"\s+@\s*|\s*@\s+", '@'),
    (r"\s+\.\s+", '.'),
];

/// Digits written as words (English and German), read as digits in a
/// phone number; "o"/"oh" only count there too.
pub const SPELLED_DIGITS: &[(&str, char)] = &[
    ("zero", '0'),
    ("oh", '0'),
    ("o", '0'),
    ("null", '0'),
    ("one", '1'),
    ("eins", '1'),
    ("two", '2'),
    ("zwei", '2'),
    ("zwo", '2'),
    ("three", '3'),
    ("drei", '3'),
    ("four", '4'),
    ("vier", '4'),
    ("five", '5'),
    ("fünf", '5'),
    ("fuenf", '5'),
    ("six", '6'),
    ("sechs", '6'),
    ("seven", '7'),
    ("sieben", '7'),
    ("eight", '8'),
    ("acht", '8'),
    ("nine", '9'),
    ("neun", '9'),
];

/// Tens and teens written as words: "seventy six" is 76, "seventy" alone
/// 70; "vierundvierzig" (German, unit first) 44.
pub const SPELLED_TENS: &[(&str, char)] = &[
    ("twenty", '2'),
    ("zwanzig", '2'),
    ("thirty", '3'),
    ("dreißig", '3'),
    ("dreissig", '3'),
    ("forty", '4'),
    ("vierzig", '4'),
    ("fifty", '5'),
    ("fünfzig", '5'),
    ("sixty", '6'),
    ("sechzig", '6'),
    ("seventy", '7'),
    ("siebzig", '7'),
    ("eighty", '8'),
    ("achtzig", '8'),
    ("ninety", '9'),
    ("neunzig", '9'),
];
pub const SPELLED_TEENS: &[(&str, &str)] = &[
    ("ten", "10"),
    ("zehn", "10"),
    ("eleven", "11"),
    ("elf", "11"),
    ("twelve", "12"),
    ("zwölf", "12"),
    ("thirteen", "13"),
    ("dreizehn", "13"),
    ("fourteen", "14"),
    ("vierzehn", "14"),
    ("fifteen", "15"),
    ("fünfzehn", "15"),
    ("sixteen", "16"),
    ("sechzehn", "16"),
    ("seventeen", "17"),
    ("siebzehn", "17"),
    ("eighteen", "18"),
    ("achtzehn", "18"),
    ("nineteen", "19"),
    ("neunzehn", "19"),
];

/// "double five" is 55, "triple 0" 000.
pub const REPEATS: &[(&str, usize)] = &[("double", 2), ("doppel", 2), ("triple", 3)];

/// Words people put between the pieces of a number they spell out ("0157,
/// then 3344"): they do not end it.
pub const FILLERS: &[&str] = &["then", "dann", "and", "und", "next", "danach"];

/// Written out, the "+" of an international number.
pub const PLUS_WORDS: &[&str] = &["plus"];

/// Characters that may stand between the digits of one phone number
/// (a line break too: a number split over lines is still one). Not ":"
/// (times) and not letters.
pub fn is_phone_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '–'
                | '—'
                | '.'
                | '/'
                | '\\'
                | '('
                | ')'
                | '['
                | ']'
                | '_'
                | '·'
                | ','
                | ';'
                | '~'
                | '*'
                | '|'
                | '\''
        )
}
