//! The server's signature on a transcript: Ed25519 over its digest.
//!
//! A digest and a hash chain show that a file is whole, but whoever
//! rewrites a transcript can recompute both. The signature is what only
//! the server can make: its key is derived from the server's secret (the
//! same on every node, so any node signs alike and a restart keeps it),
//! and its public half is published at `GET /api/transcripts/key`, so
//! anyone holding a transcript can check it against that key with
//! `server transcript verify FILE --key KEY`.
//!
//! Ed25519 signatures are deterministic: every export of an unchanged
//! chat carries the same digest and the same signature. A new
//! `JWT_SECRET` means a new key; transcripts signed before are checked
//! with the old public key, which each of them names.

use crate::config::JwtSecret;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// The one algorithm a transcript is signed with.
pub const ALG: &str = "Ed25519";
/// How a public key is written: this prefix, then its 32 bytes in
/// unpadded base64url.
const KEY_PREFIX: &str = "ed25519:";

/// A signature as an export carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Signature {
    /// `Ed25519`.
    pub alg: String,
    /// The public key that checks it (`ed25519:…`).
    pub key: String,
    /// The signature's 64 bytes, unpadded base64url.
    pub value: String,
}

/// The public half, as published and as `--key` takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey([u8; 32]);

impl PublicKey {
    /// Reads `ed25519:` and 43 base64url characters.
    pub fn parse(text: &str) -> Result<Self, String> {
        let say = || {
            format!(
                "{text:?} is not a transcript key (expected {KEY_PREFIX} and 43 base64url characters, as GET /api/transcripts/key gives)"
            )
        };
        let b64 = text.trim().strip_prefix(KEY_PREFIX).ok_or_else(say)?;
        let bytes = URL_SAFE_NO_PAD.decode(b64).map_err(|_| say())?;
        Ok(Self(bytes.try_into().map_err(|_| say())?))
    }

    /// Whether `signature` is this key's over `digest`.
    pub fn check(&self, digest: &str, signature: &Signature) -> Result<(), String> {
        if signature.alg != ALG {
            return Err(format!("it is signed with {:?}, not {ALG}", signature.alg));
        }
        let named = Self::parse(&signature.key)?;
        if named != *self {
            return Err(format!(
                "it is signed by the key {}, not by the trusted key {self}",
                signature.key
            ));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(&signature.value)
            .map_err(|_| "its signature is not base64url".to_owned())?;
        UnparsedPublicKey::new(&ED25519, &self.0)
            .verify(&signed_bytes(digest), &bytes)
            .map_err(|_| "its signature does not match its digest: it was changed after export, or signed by someone else".to_owned())
    }
}

impl std::fmt::Display for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(self.0))
    }
}

/// The server's signing key.
#[derive(Clone)]
pub struct SigningKey(Arc<Ed25519KeyPair>);

impl SigningKey {
    /// Derived from the server's secret, apart from the tokens' and the
    /// unsubscribe links' keys so none can stand in for another.
    pub fn new(secret: &JwtSecret) -> Self {
        let mut h = Sha256::new();
        h.update(b"jobchat transcript signing key\0");
        h.update(secret.expose());
        let seed: [u8; 32] = h.finalize().into();
        // Any 32 bytes are an Ed25519 seed: this cannot fail.
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).expect("a 32-byte seed");
        Self(Arc::new(pair))
    }

    pub fn public(&self) -> PublicKey {
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(self.0.public_key().as_ref());
        PublicKey(bytes)
    }

    /// The signature over `digest`.
    pub fn sign(&self, digest: &str) -> Signature {
        Signature {
            alg: ALG.to_owned(),
            key: self.public().to_string(),
            value: URL_SAFE_NO_PAD.encode(self.0.sign(&signed_bytes(digest)).as_ref()),
        }
    }
}

/// What is signed: the format's name, a zero byte, and the digest, so a
/// signature over a transcript cannot be passed off as one over anything
/// else the key might sign later.
fn signed_bytes(digest: &str) -> Vec<u8> {
    let mut b = Vec::with_capacity(64 + digest.len());
    b.extend_from_slice(super::document::FORMAT.as_bytes());
    b.push(0);
    b.extend_from_slice(digest.as_bytes());
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SigningKey {
        SigningKey::new(&JwtSecret::new(vec![byte; 32]).expect("a secret"))
    }

    #[test]
    fn a_signature_checks_only_with_its_key_and_digest() {
        let k = key(1);
        let s = k.sign("sha256:abc");
        assert_eq!(s, k.sign("sha256:abc"), "deterministic");
        k.public().check("sha256:abc", &s).expect("its own");
        assert!(
            k.public().check("sha256:abd", &s).is_err(),
            "another digest"
        );
        let other = key(2);
        let err = other
            .public()
            .check("sha256:abc", &s)
            .expect_err("another key");
        assert!(err.contains("not by the trusted key"), "{err}");
        // A forger's own key named in the file does not help.
        let forged = other.sign("sha256:abc");
        assert!(k.public().check("sha256:abc", &forged).is_err());
        // The same secret gives the same key (every node, every restart).
        assert_eq!(key(1).public(), k.public());
    }

    #[test]
    fn keys_read_back_as_written() {
        let p = key(3).public();
        assert_eq!(PublicKey::parse(&p.to_string()), Ok(p.clone()));
        assert!(p.to_string().starts_with("ed25519:"));
        for bad in ["", "ed25519:", "ed25519:abc", "rsa:AAAA", "ed25519:!!!!"] {
            assert!(PublicKey::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_changed_signature_or_algorithm_is_refused() {
        let k = key(4);
        let mut s = k.sign("sha256:x");
        s.alg = "HS256".into();
        assert!(k.public().check("sha256:x", &s).is_err());
        let mut s = k.sign("sha256:x");
        s.value = s.value.chars().rev().collect();
        assert!(k.public().check("sha256:x", &s).is_err());
    }
}
