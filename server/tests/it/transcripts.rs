//! A transcript is signed by the server (Ed25519 over its digest), so a
//! forger who changes a message and recomputes every link and the digest
//! is still caught, and so is one who signs the forgery with a key of
//! their own. Anyone can check: the public key is served without an
//! account, and `server transcript verify FILE --key KEY` takes it.

use crate::both_backends;
use crate::helpers::{TestApp, pair, uuid_like};
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::transcript::chain::{GENESIS, Link, next};
use server::transcript::document::digest_of;
use server::transcript::signing::{PublicKey, SigningKey};
use server::transcript::verify::verify_json;

/// Rewrites every link from the first message on, and the head, as a
/// forger who knows the chain's rule would.
fn relink(v: &mut Value) {
    let chat = v["chat"]["id"].as_i64().expect("chat");
    let mut prev = GENESIS.to_owned();
    for e in v["messages"].as_array_mut().expect("messages") {
        let at = chrono::DateTime::parse_from_rfc3339(e["at"].as_str().expect("at"))
            .expect("rfc 3339")
            .with_timezone(&chrono::Utc);
        let link = next(
            &prev,
            &Link {
                chat,
                seq: e["seq"].as_i64().expect("seq"),
                kind: e["kind"].as_str().expect("kind"),
                change: e["change"].as_str(),
                target: e["targetId"].as_i64(),
                sender: e["sender"]["id"].as_i64(),
                at,
                text: e["written"].as_str().expect("written"),
                event: e["event"].as_str(),
            },
        );
        e["chain"] = json!(link);
        prev = link;
    }
    v["chain"]["head"] = json!(prev);
    v["digest"] = json!(digest_of(v));
}

/// `server transcript verify FILE [--key KEY]` with the given secret in
/// the environment: whether it said OK, and what it printed.
fn cli(file: &std::path::Path, key: Option<&str>, secret: &str) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_server"));
    cmd.args(["transcript", "verify"]).arg(file);
    if let Some(k) = key {
        cmd.args(["--key", k]);
    }
    let out = cmd
        .env("JWT_SECRET", secret)
        .env("JOBCHAT_ENV", "production")
        .env("RUST_LOG", "warn")
        .output()
        .expect("runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), said)
}

both_backends!(
    a_transcript_is_signed_and_a_recomputed_forgery_is_not,
    |app: TestApp| async move {
        let (customer, provider, chat) = pair(&app).await;
        let lsm = app.create_lsm().await;
        app.say(&customer, chat, "The tap still drips").await;
        app.say(&provider, chat, "I will come back on Friday at no charge")
            .await;
        let (status, body) = app
            .post(
                &format!("/api/chats/{chat}/dispute"),
                Some(&customer.token),
                json!({ "reason": "The tap still drips after the visit" }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let dispute = body["disputeId"].as_i64().expect("dispute id");

        // The key, served to anyone (no account), is the one it signs with.
        let (status, body) = app.get("/api/transcripts/key", None).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["alg"], "Ed25519");
        let published = body["key"].as_str().expect("key").to_owned();
        let key = PublicKey::parse(&published).expect("a key");
        assert_eq!(key, app.service.transcript_key());

        let exported = app.transcript(&lsm, dispute, "json").await;
        let (verified, t) = verify_json(&exported, &key).expect("signed and intact");
        assert_eq!(verified.key, published);
        let signature = t.signature.clone().expect("signed");
        assert_eq!(signature.key, published);
        // Deterministic: the same unchanged chat, the same signature.
        let again = app.transcript(&lsm, dispute, "json").await;
        let (_, t2) = verify_json(&again, &key).expect("again");
        assert_eq!(t2.signature, Some(signature));

        // A forger changes what the provider said and recomputes every
        // link, the head and the digest: only the signature is left.
        let mut forged: Value = serde_json::from_str(&exported).expect("json");
        let said = forged["messages"]
            .as_array_mut()
            .expect("messages")
            .iter_mut()
            .find(|e| e["written"] == "I will come back on Friday at no charge")
            .expect("the provider's message");
        said["written"] = json!("I will come back on Friday for 80 EUR");
        said["shown"] = json!("I will come back on Friday for 80 EUR");
        relink(&mut forged);
        let err = verify_json(&forged.to_string(), &key).expect_err("forged");
        assert!(err.contains("signature does not match"), "{err}");
        // …and signs it with a key of their own, named in the file.
        let theirs = SigningKey::new(
            &server::config::JwtSecret::new(b"a forger's very own secret, 32 bytes+".to_vec())
                .expect("secret"),
        );
        forged["signature"] =
            serde_json::to_value(theirs.sign(forged["digest"].as_str().expect("digest")))
                .expect("json");
        let err = verify_json(&forged.to_string(), &key).expect_err("forged and signed");
        assert!(err.contains("not by the trusted key"), "{err}");
        // It would pass only against the forger's key: who holds the
        // server's key is what the check rests on.
        verify_json(&forged.to_string(), &theirs.public()).expect("the forger's own key");
        // No signature at all is refused too.
        let mut unsigned: Value = serde_json::from_str(&exported).expect("json");
        unsigned
            .as_object_mut()
            .expect("object")
            .remove("signature");
        let err = verify_json(&unsigned.to_string(), &key).expect_err("unsigned");
        assert!(err.contains("not signed"), "{err}");

        // The command: with the published key anywhere, or with the
        // server's own secret; never with the forger's file.
        let dir = std::env::temp_dir().join(format!("jobchat-signed-{}", uuid_like()));
        std::fs::create_dir_all(&dir).expect("dir");
        let good = dir.join("t.json");
        let bad = dir.join("forged.json");
        std::fs::write(&good, &exported).expect("written");
        std::fs::write(&bad, forged.to_string()).expect("written");
        let secret = "test-secret-test-secret-test-secret!!";
        let other = "another-secret-another-secret-another!!";
        let (ok, said) = cli(&good, Some(&published), other);
        assert!(ok && said.starts_with("OK"), "{said}");
        assert!(said.contains(&published), "{said}");
        let (ok, said) = cli(&good, None, secret);
        assert!(ok, "the server's own key: {said}");
        let (ok, said) = cli(&good, None, other);
        assert!(
            !ok && said.contains("NOT VERIFIED"),
            "another server: {said}"
        );
        let (ok, said) = cli(&bad, Some(&published), other);
        assert!(!ok && said.contains("not by the trusted key"), "{said}");
        // No key and no secret: refused, and nothing is written.
        let empty = dir.join("no-data");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_server"))
            .args(["transcript", "verify"])
            .arg(&good)
            .env_remove("JWT_SECRET")
            .env("JOBCHAT_DATA_DIR", &empty)
            .env("RUST_LOG", "warn")
            .output()
            .expect("runs");
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("pass --key"),
            "{out:?}"
        );
        assert!(!empty.exists(), "verify made a data directory");
        let (ok, said) = cli(&good, Some("ed25519:short"), secret);
        assert!(!ok && said.contains("not a transcript key"), "{said}");
        let _ = std::fs::remove_dir_all(&dir);
    }
);
