//! HS256 tokens with `sub`, `role`, `ver`, `sid`, `iss`, `aud`, `exp`,
//! validated strictly: the algorithm is pinned (so `alg: none` and RS/HS
//! confusion are refused), expiry is checked with no leeway, and `iss` and
//! `aud` must be this API's (so a token another service signed with a
//! shared or reused secret is not taken for a session). `ver` is the user's
//! token version when the token was issued; the service refuses a token
//! whose version is no longer the account's (sign out everywhere). `sid`
//! names this one session, so signing out can revoke it alone.

use crate::config::JwtSecret;
use contract::model::{Role, UserId};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Who issues session tokens (`iss`). Fixed, not configured: only this
/// server signs and reads them, and a per-deployment value would be one
/// more thing to get wrong between nodes.
pub const ISSUER: &str = "jobchat";
/// Who session tokens are for (`aud`).
pub const AUDIENCE: &str = "jobchat-api";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    /// The user id, as a string per RFC 7519.
    pub sub: String,
    pub role: Role,
    pub name: String,
    /// The account's token version at issue (tokens from before versions
    /// existed have none: 0, what every account started with).
    #[serde(default)]
    pub ver: i64,
    /// This session's id (random): signing out revokes it alone. Tokens
    /// from before session ids have none (empty).
    #[serde(default)]
    pub sid: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    pub fn user_id(&self) -> Option<UserId> {
        self.sub.parse().ok()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("token expired")]
    Expired,
    #[error("invalid token")]
    Invalid,
}

#[derive(Clone)]
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
    /// Signs dispute transcripts; derived from the same secret.
    transcripts: crate::transcript::signing::SigningKey,
}

impl Keys {
    pub fn new(secret: &JwtSecret, ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.expose()),
            decoding: DecodingKey::from_secret(secret.expose()),
            ttl,
            transcripts: crate::transcript::signing::SigningKey::new(secret),
        }
    }

    pub fn transcripts(&self) -> &crate::transcript::signing::SigningKey {
        &self.transcripts
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(
        &self,
        user_id: UserId,
        role: Role,
        name: &str,
        version: i64,
    ) -> Result<(String, Claims), JwtError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            role,
            name: name.to_owned(),
            ver: version,
            sid: uuid::Uuid::new_v4().simple().to_string(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
        };
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|_| JwtError::Invalid)?;
        Ok((token, claims))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_exp = true;
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        let data =
            decode::<Claims>(token, &self.decoding, &validation).map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => JwtError::Expired,
                _ => JwtError::Invalid,
            })?;
        if data.claims.user_id().is_none() {
            return Err(JwtError::Invalid);
        }
        // RFC 7519 §4.1.4: not accepted on or after `exp`; jsonwebtoken only
        // refuses after it, which let a socket closed at expiry reconnect
        // with the same token for up to a second.
        if data.claims.exp <= chrono::Utc::now().timestamp() {
            return Err(JwtError::Expired);
        }
        Ok(data.claims)
    }

    /// Signs arbitrary claims (tests forge expired tokens with this).
    pub fn sign_claims(&self, claims: &Claims) -> Result<String, JwtError> {
        encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|_| JwtError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &[u8]) -> Keys {
        Keys::new(
            &JwtSecret::new(secret.to_vec()).expect("long secret"),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn round_trip() {
        let k = keys(&[1; 32]);
        let (token, claims) = k.issue(7, Role::Lsm, "Lee", 3).expect("sign");
        assert_eq!(k.verify(&token).expect("valid"), claims);
    }

    #[test]
    fn tokens_without_a_version_are_version_0() {
        let k = keys(&[1; 32]);
        #[derive(Serialize)]
        struct Old<'a> {
            sub: &'a str,
            role: Role,
            name: &'a str,
            iss: &'a str,
            aud: &'a str,
            iat: i64,
            exp: i64,
        }
        let now = chrono::Utc::now().timestamp();
        let old = Old {
            sub: "7",
            role: Role::Customer,
            name: "A",
            iss: ISSUER,
            aud: AUDIENCE,
            iat: now,
            exp: now + 60,
        };
        let token = encode(&Header::new(Algorithm::HS256), &old, &k.encoding).expect("sign");
        let claims = k.verify(&token).expect("valid");
        assert_eq!((claims.ver, claims.sid.as_str()), (0, ""));
    }

    #[test]
    fn each_session_has_its_own_id() {
        let k = keys(&[1; 32]);
        let (_, a) = k.issue(7, Role::Customer, "A", 0).expect("sign");
        let (_, b) = k.issue(7, Role::Customer, "A", 0).expect("sign");
        assert_eq!(a.sid.len(), 32);
        assert_ne!(a.sid, b.sid);
    }

    #[test]
    fn a_missing_or_wrong_issuer_or_audience_is_refused() {
        let k = keys(&[1; 32]);
        let (_, claims) = k.issue(7, Role::Customer, "A", 0).expect("sign");
        let with = |iss: &str, aud: &str| {
            let mut c = claims.clone();
            c.iss = iss.to_owned();
            c.aud = aud.to_owned();
            k.sign_claims(&c).expect("sign")
        };
        assert!(k.verify(&with(ISSUER, AUDIENCE)).is_ok());
        for (iss, aud) in [
            ("other", AUDIENCE),
            (ISSUER, "other-api"),
            ("", AUDIENCE),
            (ISSUER, ""),
        ] {
            assert!(
                matches!(k.verify(&with(iss, aud)), Err(JwtError::Invalid)),
                "iss {iss:?}, aud {aud:?}"
            );
        }
        // Absent altogether (a token shaped like those before iss/aud).
        let now = chrono::Utc::now().timestamp();
        let bare = serde_json::json!({
            "sub": "7", "role": "customer", "name": "A", "iat": now, "exp": now + 60,
        });
        let token = encode(&Header::new(Algorithm::HS256), &bare, &k.encoding).expect("sign");
        assert!(matches!(k.verify(&token), Err(JwtError::Invalid)));
        let no_aud = serde_json::json!({
            "sub": "7", "role": "customer", "name": "A", "iss": ISSUER, "iat": now, "exp": now + 60,
        });
        let token = encode(&Header::new(Algorithm::HS256), &no_aud, &k.encoding).expect("sign");
        assert!(matches!(k.verify(&token), Err(JwtError::Invalid)));
    }

    #[test]
    fn other_secret_refused() {
        let (token, _) = keys(&[1; 32])
            .issue(7, Role::Customer, "A", 0)
            .expect("sign");
        assert!(matches!(
            keys(&[2; 32]).verify(&token),
            Err(JwtError::Invalid)
        ));
    }

    #[test]
    fn expired_refused() {
        let k = keys(&[1; 32]);
        let (_, mut claims) = k.issue(7, Role::Customer, "A", 0).expect("sign");
        claims.exp = chrono::Utc::now().timestamp() - 1;
        let token = k.sign_claims(&claims).expect("sign");
        assert!(matches!(k.verify(&token), Err(JwtError::Expired)));
    }

    #[test]
    fn refused_from_the_second_of_exp() {
        let k = keys(&[1; 32]);
        let (_, mut claims) = k.issue(7, Role::Customer, "A", 0).expect("sign");
        claims.exp = chrono::Utc::now().timestamp();
        let token = k.sign_claims(&claims).expect("sign");
        assert!(matches!(k.verify(&token), Err(JwtError::Expired)));
    }

    #[test]
    fn alg_none_refused() {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let exp = chrono::Utc::now().timestamp() + 600;
        let body = b64.encode(format!(
            r#"{{"sub":"1","role":"lsm","name":"x","iat":0,"exp":{exp}}}"#
        ));
        let token = format!("{header}.{body}.");
        assert!(keys(&[1; 32]).verify(&token).is_err());
    }
}
