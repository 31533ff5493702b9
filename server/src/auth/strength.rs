//! How hard a new password is to guess, estimated by zxcvbn (dictionaries
//! of common passwords, names and words, keyboard patterns, dates, l33t
//! substitutions). Server-side only: its dictionaries would weigh on the
//! WASM bundle, and the server must check anyway.
//!
//! zxcvbn's score runs 0–4 by the guesses an attacker needs: 3 is more
//! than 10^8 (safe against online guessing, with the login limits), 4 more
//! than 10^10. LSMs settle disputes and see every disputed chat, so they
//! need 4.

use contract::model::Role;
use contract::validate::{Invalid, Password};

/// The lowest score accepted for customers and providers…
pub const MIN_SCORE: u8 = 3;
/// …and for LSM accounts.
pub const MIN_SCORE_LSM: u8 = 4;

/// The lowest score a password of an account of `role` may have.
pub fn min_score(role: Role) -> u8 {
    match role {
        Role::Lsm => MIN_SCORE_LSM,
        Role::Customer | Role::Provider => MIN_SCORE,
    }
}

/// Refuses a password too easy to guess for an account of `role`, as a
/// field error on `field` whose message carries zxcvbn's advice.
/// `context` is what an attacker would try first for this account (its
/// email, its name). CPU-bound (milliseconds for a long password), so it
/// runs off the async runtime.
pub async fn check_strength(
    password: &Password,
    role: Role,
    context: &[&str],
    field: &'static str,
) -> Result<(), Invalid> {
    let password = password.expose().to_owned();
    let context: Vec<String> = context.iter().map(|s| (*s).to_owned()).collect();
    let verdict = tokio::task::spawn_blocking(move || {
        let inputs: Vec<&str> = context.iter().map(String::as_str).collect();
        judge(&password, role, &inputs)
    })
    .await;
    match verdict {
        Ok(verdict) => verdict.map_err(|message| Invalid { field, message }),
        // The estimator panicked: that is no reason to refuse a password.
        Err(e) => {
            tracing::error!(error = %e, "password strength check failed");
            Ok(())
        }
    }
}

/// `Err` with a message for a person when the password scores too low.
fn judge(password: &str, role: Role, context: &[&str]) -> Result<(), String> {
    // zxcvbn matches each input as one dictionary word: besides the email
    // and name as a whole, an email's local part and every word of them.
    let mut words: Vec<&str> = Vec::new();
    for input in context {
        words.push(input);
        if let Some((local, _)) = input.split_once('@') {
            words.push(local);
        }
        words.extend(
            input
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.chars().count() >= 3),
        );
    }
    let entropy = zxcvbn::zxcvbn(password, &words);
    let score = u8::from(entropy.score());
    let needed = min_score(role);
    if score >= needed {
        return Ok(());
    }
    let mut message = if role == Role::Lsm {
        "is too easy to guess for an LSM account".to_owned()
    } else {
        "is too easy to guess".to_owned()
    };
    let mut advice = Vec::new();
    if let Some(feedback) = entropy.feedback() {
        if let Some(warning) = feedback.warning() {
            advice.push(warning.to_string());
        }
        advice.extend(feedback.suggestions().iter().map(ToString::to_string));
    }
    if advice.is_empty() {
        advice.push("Add another word or two. Uncommon words are better.".to_owned());
    }
    message.push_str(&format!(" (strength {score} of 4, needs {needed}): "));
    message.push_str(&advice.join(" "));
    Err(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_are_refused_with_advice() {
        let err = judge("password123", Role::Customer, &[]).expect_err("weak");
        assert!(
            err.starts_with("is too easy to guess (strength 0 of 4"),
            "{err}"
        );
        assert!(err.contains("very common password"), "{err}");
    }

    #[test]
    fn passphrases_pass_and_lsms_need_more() {
        assert!(judge("plum-orbit-velvet-42", Role::Customer, &[]).is_ok());
        assert!(judge("plum-orbit-velvet-42", Role::Lsm, &[]).is_ok());
        // Strength 3: enough for a customer, not for an LSM.
        assert!(judge("loadgen-password", Role::Provider, &[]).is_ok());
        let err = judge("loadgen-password", Role::Lsm, &[]).expect_err("lsm");
        assert!(err.contains("for an LSM account"), "{err}");
    }

    #[test]
    fn the_account_s_own_details_count_against_it() {
        let account = ["zanzibarquokka77@example.test", "Quokka Zanzibar"];
        for password in ["zanzibarquokka77", "quokkazanzibar"] {
            assert!(judge(password, Role::Customer, &[]).is_ok(), "{password}");
            assert!(
                judge(password, Role::Customer, &account).is_err(),
                "{password} with the account's email and name"
            );
        }
    }

    #[test]
    fn the_demo_password_would_not_pass() {
        // Why the demo seed (development only) skips the check.
        assert!(judge(crate::seed::DEMO_PASSWORD, Role::Customer, &[]).is_err());
    }
}
