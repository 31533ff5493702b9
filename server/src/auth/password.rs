//! argon2id hashing, off the async runtime (it is deliberately slow and
//! works in ~19 MiB of memory per hash).
//!
//! At most one hash per core runs at a time (`PERMITS`), and each runs in a
//! memory buffer taken from a pool and put back after (`BUFFERS`), so the
//! process holds at most one buffer per core, for good, instead of
//! allocating 19 MiB per hash. Unbounded, a burst of 2,000 registrations ran
//! dozens of hashes at once on the blocking pool and took the process to
//! ~2 GB, which the allocator then kept.

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, SaltString, rand_core::OsRng},
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex};
use tokio::sync::Semaphore;

/// One argon2 at a time per core.
static PERMITS: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(hash_slots()));
/// Work buffers, one per slot at most, reused from hash to hash.
static BUFFERS: Mutex<Vec<Vec<Block>>> = Mutex::new(Vec::new());
static RUNNING: AtomicUsize = AtomicUsize::new(0);
static MOST_AT_ONCE: AtomicUsize = AtomicUsize::new(0);

/// Verified against when the email is unknown, so a wrong email costs the same
/// time as a wrong password and login does not reveal which accounts exist.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let mut memory = vec![Block::default(); Params::default().block_count()];
    hash_with(b"not-a-real-password", &mut memory).expect("argon2 with default parameters hashes")
});

/// How many hashes may run at once: the cores available.
pub fn hash_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// The most hashes that ever ran at once in this process.
pub fn most_hashes_at_once() -> usize {
    MOST_AT_ONCE.load(Ordering::Relaxed)
}

/// Runs `work` with a pooled buffer on the blocking pool once a slot is free.
async fn bounded<T: Send + 'static>(
    work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
) -> anyhow::Result<T> {
    let _slot = PERMITS.acquire().await?;
    let running = RUNNING.fetch_add(1, Ordering::Relaxed) + 1;
    MOST_AT_ONCE.fetch_max(running, Ordering::Relaxed);
    let result = tokio::task::spawn_blocking(move || {
        let mut memory = BUFFERS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default();
        let out = work(&mut memory);
        BUFFERS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(memory);
        out
    })
    .await;
    RUNNING.fetch_sub(1, Ordering::Relaxed);
    Ok(result?)
}

/// Sizes `memory` for `params` (it keeps its size between hashes with the
/// same parameters, so this allocates once per buffer).
fn fit(memory: &mut Vec<Block>, params: &Params) {
    memory.resize(params.block_count(), Block::default());
}

/// argon2id with the default parameters and a fresh salt, as a PHC string.
fn hash_with(password: &[u8], memory: &mut Vec<Block>) -> anyhow::Result<String> {
    let params = Params::default();
    fit(memory, &params);
    let salt = SaltString::generate(&mut OsRng);
    let mut raw_salt = [0u8; 64];
    let raw_salt = salt
        .decode_b64(&mut raw_salt)
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let output = Output::init_with(
        params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN),
        |out| {
            argon
                .hash_password_into_with_memory(password, raw_salt, out, &mut memory[..])
                .map_err(|_| argon2::password_hash::Error::Crypto)
        },
    )
    .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: (&params)
            .try_into()
            .map_err(|e| anyhow::anyhow!("params: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `hash` (its own parameters).
fn verify_with(password: &[u8], hash: &str, memory: &mut Vec<Block>) -> anyhow::Result<bool> {
    let parsed =
        PasswordHash::new(hash).map_err(|e| anyhow::anyhow!("stored hash unreadable: {e}"))?;
    let algorithm = Algorithm::try_from(parsed.algorithm)
        .map_err(|e| anyhow::anyhow!("stored hash algorithm: {e}"))?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(|e| anyhow::anyhow!("stored hash version: {e}"))?
        .unwrap_or_default();
    let params =
        Params::try_from(&parsed).map_err(|e| anyhow::anyhow!("stored hash params: {e}"))?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        anyhow::bail!("stored hash without salt or output");
    };
    fit(memory, &params);
    let mut raw_salt = [0u8; 64];
    let raw_salt = salt
        .decode_b64(&mut raw_salt)
        .map_err(|e| anyhow::anyhow!("stored salt: {e}"))?;
    let argon = Argon2::new(algorithm, version, params);
    let computed = Output::init_with(expected.len(), |out| {
        argon
            .hash_password_into_with_memory(password, raw_salt, out, &mut memory[..])
            .map_err(|_| argon2::password_hash::Error::Crypto)
    });
    // `Output`'s equality is constant-time.
    Ok(computed.is_ok_and(|c| c == expected))
}

pub async fn hash_password(password: String) -> anyhow::Result<String> {
    bounded(move |memory| hash_with(password.as_bytes(), memory)).await?
}

/// `hash` is `None` for an unknown account: a dummy hash is checked instead.
pub async fn verify_password(password: String, hash: Option<String>) -> anyhow::Result<bool> {
    bounded(move |memory| {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = verify_with(password.as_bytes(), &hash, memory)?;
        Ok(known && ok)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_at_once_than_cores() {
        let all: Vec<_> = (0..4 * hash_slots() + 2)
            .map(|i| tokio::spawn(hash_password(format!("password {i}"))))
            .collect();
        for h in all {
            h.await.expect("joined").expect("hashed");
        }
        assert!(most_hashes_at_once() >= 1);
        assert!(
            most_hashes_at_once() <= hash_slots(),
            "{} at once with {} slots",
            most_hashes_at_once(),
            hash_slots()
        );
    }

    #[test]
    fn interoperates_with_the_argon2_crate() {
        use argon2::{PasswordHasher, PasswordVerifier};
        let mut memory = Vec::new();
        // Ours verifies with theirs…
        let ours = hash_with(b"pw one", &mut memory).expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(
            Argon2::default()
                .verify_password(b"pw one", &parsed)
                .is_ok()
        );
        // …theirs (what earlier releases stored) with ours.
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"pw two", &salt)
            .expect("hash")
            .to_string();
        assert!(verify_with(b"pw two", &theirs, &mut memory).expect("verify"));
        assert!(!verify_with(b"pw three", &theirs, &mut memory).expect("verify"));
        assert!(verify_with(b"x", "not a phc string", &mut memory).is_err());
    }

    #[tokio::test]
    async fn verifies_only_the_right_password() {
        let h = hash_password("correct horse".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse".into(), Some(h.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("wrong horse".into(), Some(h))
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("not-a-real-password".into(), None)
                .await
                .expect("verify")
        );
    }
}
