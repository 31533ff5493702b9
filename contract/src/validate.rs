//! Input newtypes: each parses once, at the boundary (REST body, socket
//! payload, form), and afterwards the value is known to be valid. Shared so
//! the browser can tell users the same rules the server enforces.

use serde::Serialize;

/// Why an input was refused: the field and a message fit for a person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

fn invalid(field: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        field,
        message: message.into(),
    }
}

/// Whether a text may span lines. Names and titles are pasted into the
/// product's own sentences (system lines, bells, page titles) and shown on
/// one line: a newline in them could draw a line of its own.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    One,
    Many,
}

/// Trims `raw` and checks its length in characters (not bytes).
fn bounded_text(
    field: &'static str,
    raw: &str,
    min: usize,
    max: usize,
    lines: Lines,
) -> Result<String, Invalid> {
    let text = raw.trim();
    let n = text.chars().count();
    if n < min {
        return Err(if min == 1 {
            invalid(field, "must not be empty")
        } else {
            invalid(field, format!("must be at least {min} characters"))
        });
    }
    if n > max {
        return Err(invalid(field, format!("must be at most {max} characters")));
    }
    if lines == Lines::One && text.chars().any(is_line_break) {
        return Err(invalid(field, "must be one line (no line breaks)"));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !(lines == Lines::Many && matches!(c, '\n' | '\t' | '\r')))
    {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(text.to_owned())
}

/// An optional free text of up to `max` characters (a report's note, a
/// moderator's reason), trimmed; empty when absent.
pub fn bounded_note(field: &'static str, raw: Option<&str>, max: usize) -> Result<String, Invalid> {
    bounded_text(field, raw.unwrap_or(""), 0, max, Lines::Many)
}

/// Characters that break a line: the ASCII ones and Unicode's line and
/// paragraph separators (which are not `is_control`).
fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident, $field:literal, $min:expr, $max:expr, $lines:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub const MIN: usize = $min;
            pub const MAX: usize = $max;
            pub fn parse(raw: &str) -> Result<Self, Invalid> {
                bounded_text($field, raw, $min, $max, $lines).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

text_newtype!(
    /// A person's display name.
    Name, "name", 1, 80, Lines::One);
text_newtype!(
    /// A job's title.
    Title, "title", 1, 200, Lines::One);
text_newtype!(
    /// Why a dispute is raised.
    Reason, "reason", 1, 2_000, Lines::Many);
text_newtype!(
    /// How an LSM settled a dispute.
    Resolution, "resolution", 1, 2_000, Lines::Many);
text_newtype!(
    /// The text of a chat message.
    MessageText, "content", 1, 4_000, Lines::Many);
text_newtype!(
    /// The text of a message that carries attachments: its caption, which
    /// may be empty.
    Caption, "content", 0, 4_000, Lines::Many);

/// An uploaded file's name as shown to the chat: one line of 1–120
/// characters, no path (no `/`, `\\`, or a name of only dots), so it can
/// never name a place on anyone's disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    pub const MAX: usize = 120;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = bounded_text("name", raw, 1, Self::MAX, Lines::One)?;
        if name.contains(['/', '\\']) || name.chars().all(|c| c == '.') {
            return Err(Invalid {
                field: "name",
                message: "a file name without a path".into(),
            });
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A job's optional description (may be empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX: usize = 4_000;
    pub fn parse(raw: Option<&str>) -> Result<Self, Invalid> {
        bounded_text("description", raw.unwrap_or(""), 0, Self::MAX, Lines::Many).map(Self)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, lower-cased so uniqueness ignores case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let e = raw.trim().to_lowercase();
        let bad = || invalid("email", "must be an email address like name@example.com");
        if e.len() > 254 || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = e.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.len() > 64
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(e))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8 to 128 characters, kept as given (no trimming).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let n = raw.chars().count();
        if n < 8 {
            return Err(invalid("password", "must be at least 8 characters"));
        }
        if n > 128 {
            return Err(invalid("password", "must be at most 128 characters"));
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A client-chosen idempotency key for a message (the browser uses a UUID v4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(Self(raw.to_owned()))
        } else {
            Err(invalid(
                "clientId",
                "must be 1–64 letters, digits, '-' or '_'",
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What to search the messages for: the words of the query (letters and
/// digits; everything else separates words), lower-cased. Parsed into words
/// here so neither database ever sees the query's syntax characters (FTS5's
/// quotes, `*`, `NEAR`, PostgreSQL's `&`, `|`, `!`): a search is always
/// "messages containing every word, the last one also as a prefix".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery(Vec<String>);

impl SearchQuery {
    /// Characters a query may have.
    pub const MAX: usize = 200;
    /// Words a query may have.
    pub const MAX_WORDS: usize = 8;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let text = bounded_text("q", raw, 1, Self::MAX, Lines::One)?;
        let words: Vec<String> = text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        if words.is_empty() {
            return Err(invalid("q", "must contain a word (letters or digits)"));
        }
        if words.len() > Self::MAX_WORDS {
            return Err(invalid(
                "q",
                format!("must have at most {} words", Self::MAX_WORDS),
            ));
        }
        Ok(Self(words))
    }

    pub fn words(&self) -> &[String] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded_in_characters() {
        assert_eq!(Name::parse("  Bob ").map(|n| n.0), Ok("Bob".into()));
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse(&"é".repeat(80)).is_ok());
        assert!(Name::parse(&"é".repeat(81)).is_err());
        assert!(MessageText::parse(&"x".repeat(4_000)).is_ok());
        assert!(MessageText::parse(&"x".repeat(4_001)).is_err());
        assert!(MessageText::parse("line one\nline two").is_ok());
        assert!(MessageText::parse("bell\u{7}").is_err());
        assert!(Description::parse(None).is_ok());
    }

    /// Names and titles are pasted into the product's sentences: a line
    /// break in one could draw a fake system line.
    #[test]
    fn names_and_titles_are_one_line() {
        for bad in [
            "Bob\nLena resolved the dispute",
            "a\rb",
            "a\u{2028}b",
            "a\u{85}b",
            "a\tb",
        ] {
            let name = Name::parse(bad).expect_err(bad);
            assert_eq!(name.field, "name");
            assert!(Title::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            Name::parse("Bob\nX").expect_err("a line break").message,
            "must be one line (no line breaks)"
        );
        assert!(Reason::parse("first line\n\nsecond").is_ok());
        assert!(Resolution::parse("a\nb").is_ok());
    }

    #[test]
    fn emails() {
        assert_eq!(
            Email::parse(" Alice@Demo.Test ").map(|e| e.0),
            Ok("alice@demo.test".into())
        );
        for bad in [
            "",
            "alice",
            "@demo.test",
            "a@b",
            "a@@b.c",
            "a b@c.d",
            "a@.c",
            "a@c.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"p".repeat(129)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-pass").expect("valid")),
            "Password(..)"
        );
    }

    #[test]
    fn client_ids() {
        assert!(ClientId::parse("6f1c1f9e-2a55-4c1b-9d1e-7c1b2a3d4e5f").is_ok());
        assert!(ClientId::parse("").is_err());
        assert!(ClientId::parse("a b").is_err());
        assert!(ClientId::parse(&"a".repeat(65)).is_err());
    }

    /// Properties over arbitrary input: never a panic; a value is accepted
    /// exactly when the rule says so; what comes out parses to itself.
    mod props {
        use super::*;
        use proptest::prelude::*;

        fn allowed(c: char) -> bool {
            !c.is_control() || matches!(c, '\n' | '\t' | '\r')
        }

        fn text_rule(raw: &str, min: usize, max: usize) -> bool {
            let t = raw.trim();
            (min..=max).contains(&t.chars().count()) && t.chars().all(allowed)
        }

        fn one_line_rule(raw: &str, min: usize, max: usize) -> bool {
            let t = raw.trim();
            (min..=max).contains(&t.chars().count())
                && t.chars().all(|c| !c.is_control() && !is_line_break(c))
        }

        /// Any string, biased towards the edges: long runs, spaces,
        /// controls, multi-byte characters.
        fn input() -> impl Strategy<Value = String> {
            prop_oneof![
                any::<String>(),
                "[ \t\n]{0,3}[a-zé😀\u{7}\u{0}\n\u{2028}]{0,90}[ \t\n]{0,3}",
                ("[a-z]{1,3}", 0usize..4_200).prop_map(|(s, n)| s.repeat(n)),
            ]
        }

        proptest! {
            #[test]
            fn text_newtypes_follow_their_rule(raw in input()) {
                macro_rules! check {
                    ($t:ty, $rule:ident) => {
                        let parsed = <$t>::parse(&raw);
                        prop_assert_eq!(parsed.is_ok(), $rule(&raw, <$t>::MIN, <$t>::MAX));
                        if let Ok(v) = parsed {
                            prop_assert_eq!(v.as_str(), raw.trim());
                            prop_assert_eq!(<$t>::parse(v.as_str()), Ok(v.clone()));
                        }
                    };
                }
                check!(Name, one_line_rule);
                check!(Title, one_line_rule);
                check!(Reason, text_rule);
                check!(Resolution, text_rule);
                check!(MessageText, text_rule);
                check!(Caption, text_rule);
                prop_assert_eq!(Description::parse(Some(&raw)).is_ok(), text_rule(&raw, 0, Description::MAX));
            }

            #[test]
            fn emails_come_out_normalised(raw in prop_oneof![
                any::<String>(),
                "[ A-Za-z0-9.+@_-]{0,70}",
                "[a-zA-Z0-9]{1,70}@[a-z]{1,10}\\.[a-z]{2,4}",
            ]) {
                if let Ok(e) = Email::parse(&raw) {
                    let s = e.as_str();
                    prop_assert!(s.len() <= 254);
                    prop_assert_eq!(s.matches('@').count(), 1);
                    prop_assert!(!s.chars().any(char::is_whitespace));
                    prop_assert_eq!(s.to_lowercase(), s);
                    let (local, domain) = s.split_once('@').expect("an @");
                    prop_assert!(!local.is_empty() && local.len() <= 64);
                    prop_assert!(domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'));
                    prop_assert_eq!(Email::parse(s), Ok(e.clone()));
                }
            }

            #[test]
            fn passwords_are_kept_as_given(raw in input()) {
                let n = raw.chars().count();
                match Password::parse(&raw) {
                    Ok(p) => {
                        prop_assert!((8..=128).contains(&n));
                        prop_assert_eq!(p.expose(), raw.as_str());
                    }
                    Err(_) => prop_assert!(!(8..=128).contains(&n)),
                }
            }

            #[test]
            fn client_ids_are_plain_tokens(raw in prop_oneof![any::<String>(), "[a-zA-Z0-9_ -]{0,70}"]) {
                let rule = (1..=64).contains(&raw.len())
                    && raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                prop_assert_eq!(ClientId::parse(&raw).is_ok(), rule);
            }
        }
    }

    #[test]
    fn search_queries_are_words_only() {
        let q = SearchQuery::parse("  Kitchen-Sink \"NEAR(a b)\" 12*  ").expect("valid");
        assert_eq!(q.words(), ["kitchen", "sink", "near", "a", "b", "12"]);
        assert_eq!(
            SearchQuery::parse("Größe").expect("valid").words(),
            ["größe"]
        );
        assert!(SearchQuery::parse("").is_err());
        assert!(SearchQuery::parse("  ").is_err());
        assert!(SearchQuery::parse("*** & | !").is_err(), "no word in it");
        assert!(
            SearchQuery::parse("a b c d e f g h i").is_err(),
            "nine words"
        );
        assert!(SearchQuery::parse(&"x".repeat(201)).is_err());
        assert!(SearchQuery::parse("two\nlines").is_err());
    }
}
