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

/// Trims `raw` and checks its length in characters (not bytes).
fn bounded_text(field: &'static str, raw: &str, min: usize, max: usize) -> Result<String, Invalid> {
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
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(invalid(field, "must not contain control characters"));
    }
    Ok(text.to_owned())
}

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident, $field:literal, $min:expr, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub const MIN: usize = $min;
            pub const MAX: usize = $max;
            pub fn parse(raw: &str) -> Result<Self, Invalid> {
                bounded_text($field, raw, $min, $max).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
}

text_newtype!(
    /// A person's display name.
    Name, "name", 1, 80);
text_newtype!(
    /// A job's title.
    Title, "title", 1, 200);
text_newtype!(
    /// Why a dispute is raised.
    Reason, "reason", 1, 2_000);
text_newtype!(
    /// How an LSM settled a dispute.
    Resolution, "resolution", 1, 2_000);
text_newtype!(
    /// The text of a chat message.
    MessageText, "content", 1, 4_000);

/// A job's optional description (may be empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    pub const MAX: usize = 4_000;
    pub fn parse(raw: Option<&str>) -> Result<Self, Invalid> {
        bounded_text("description", raw.unwrap_or(""), 0, Self::MAX).map(Self)
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
}
