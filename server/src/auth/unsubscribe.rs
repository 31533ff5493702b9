//! The signed link in every email that turns email off for its recipient
//! (RFC 8058 one-click, and the page it opens): an HMAC-SHA256 of the
//! user's id under a key derived from the server's secret, so a link works
//! only for the account it was sent to and cannot be made for another.

use crate::config::JwtSecret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use contract::model::UserId;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub struct UnsubscribeKey([u8; 32]);

impl UnsubscribeKey {
    /// Derived from the server's secret (the same on every node), apart
    /// from the tokens' key so neither can stand in for the other.
    pub fn new(secret: &JwtSecret) -> Self {
        let mut h = Sha256::new();
        h.update(b"jobchat unsubscribe links\0");
        h.update(secret.expose());
        Self(h.finalize().into())
    }

    fn mac(&self, user: UserId) -> Hmac<Sha256> {
        // HMAC takes a key of any length: this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("any key length");
        mac.update(format!("unsubscribe:{user}").as_bytes());
        mac
    }

    /// The signature a link for `user` carries.
    pub fn sign(&self, user: UserId) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(user).finalize().into_bytes())
    }

    /// Whether `signature` is `user`'s (compared in constant time).
    pub fn verify(&self, user: UserId, signature: &str) -> bool {
        match URL_SAFE_NO_PAD.decode(signature) {
            Ok(bytes) => self.mac(user).verify_slice(&bytes).is_ok(),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_works_for_its_account_only() {
        let key = UnsubscribeKey::new(&JwtSecret::new(vec![1; 32]).expect("a secret"));
        let sig = key.sign(7);
        assert!(key.verify(7, &sig));
        assert!(!key.verify(8, &sig));
        assert!(!key.verify(7, "not base64 !"));
        assert!(!key.verify(7, &sig[1..]));
        let other = UnsubscribeKey::new(&JwtSecret::new(vec![2; 32]).expect("a secret"));
        assert!(!other.verify(7, &sig));
    }
}
