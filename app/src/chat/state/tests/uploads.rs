//! A message with files: uploaded one at a time under its client id, then
//! sent naming exactly them; a refused file holds it back until removed;
//! offline it waits, and goes on the next connect.

use super::*;
use crate::chat::outgoing::{FileUpload, UploadFailure, UploadState};
use crate::model::Attachment;

fn file(key: &str) -> FileUpload {
    FileUpload {
        key: key.into(),
        name: format!("{key}.png"),
        size: 100,
        state: UploadState::Waiting,
    }
}

fn stored(id: i64, key: &str) -> Attachment {
    Attachment {
        id,
        name: format!("{key}.png"),
        mime: "image/png".into(),
        size: 90,
        width: Some(10),
        height: Some(10),
        thumbnail: true,
        sha256: String::new(),
    }
}

fn send_files(s: &mut State, connected: bool, client_id: &str, keys: &[&str]) -> Vec<Effect> {
    update(
        s,
        &env(connected),
        Msg::Send {
            chat: 1,
            text: String::new(),
            client_id: client_id.into(),
            files: keys.iter().map(|k| file(k)).collect(),
        },
    )
}

fn uploaded(
    s: &mut State,
    connected: bool,
    key: &str,
    result: Result<Attachment, UploadFailure>,
) -> Vec<Effect> {
    update(
        s,
        &env(connected),
        Msg::Uploaded {
            chat: 1,
            client_id: "m".into(),
            key: key.into(),
            result,
        },
    )
}

fn upload_of(key: &str) -> Effect {
    Effect::Upload {
        chat: 1,
        client_id: "m".into(),
        key: key.into(),
        name: format!("{key}.png"),
    }
}

fn sends(fx: &[Effect]) -> Vec<&crate::chat::outgoing::Outgoing> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send(o) => Some(o),
            _ => None,
        })
        .collect()
}

#[test]
fn files_go_one_at_a_time_then_the_send_names_exactly_them() {
    let mut s = with_open_chat();
    let fx = send_files(&mut s, true, "m", &["a", "b"]);
    assert!(fx.contains(&upload_of("a")));
    assert!(sends(&fx).is_empty(), "no send before its files");
    assert!(
        fx.contains(&Effect::KeepFiles(vec!["a".into(), "b".into()])),
        "kept across a reload"
    );
    assert!(s.threads[&1].pending("m").is_some(), "shown at once");
    assert_eq!(s.uploads()["m"].len(), 2, "its files show on its line");

    update(
        &mut s,
        &env(true),
        Msg::UploadProgress {
            key: "a".into(),
            percent: 40,
        },
    );
    assert_eq!(s.progress.get("a"), Some(&40));

    let fx = uploaded(&mut s, true, "a", Ok(stored(7, "a")));
    assert!(fx.contains(&upload_of("b")));
    assert!(!s.progress.contains_key("a"));
    assert!(matches!(s.outbox[0].files[0].state, UploadState::Done(_)));
    // Kept in the outbox (localStorage), so a reload does not upload it again.
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Outbox(OutboxChange::Files { .. })))
    );

    let fx = uploaded(&mut s, true, "b", Ok(stored(8, "b")));
    let out = sends(&fx);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].request().attachments, vec![7, 8]);
    assert_eq!(out[0].request().content, "", "a message of files alone");

    // Stored: the bytes are let go.
    let mut message = message(1, 4, ME);
    message.client_id = Some("m".into());
    message.attachments = vec![stored(7, "a"), stored(8, "b")];
    let fx = update(
        &mut s,
        &env(true),
        Msg::SendAnswered {
            chat: 1,
            client_id: "m".into(),
            result: Ok(SendReply { message }),
        },
    );
    assert!(fx.contains(&Effect::ForgetFiles(vec!["a".into(), "b".into()])));
    assert!(s.outbox.is_empty());
    assert!(s.uploads().is_empty());
}

#[test]
fn a_refused_file_holds_the_message_until_removed_then_the_rest_go() {
    let mut s = with_open_chat();
    send_files(&mut s, true, "m", &["bad", "good"]);
    let refusal = AppError::new(
        ErrorCode::UnsupportedType,
        "This type of file is not accepted",
    );
    let fx = uploaded(&mut s, true, "bad", Err(UploadFailure::Refused(refusal)));
    assert!(sends(&fx).is_empty(), "nothing is sent");
    assert!(!fx.contains(&upload_of("good")), "the message is held");
    let line = s.threads[&1].pending("m").expect("pending");
    assert_eq!(line.delivery, Delivery::Failed);
    assert_eq!(
        s.uploads()["m"][0].state,
        UploadState::Refused("This type of file is not accepted".into()),
        "the server's reason on the file"
    );

    let fx = update(
        &mut s,
        &env(true),
        Msg::RemoveFile {
            chat: 1,
            client_id: "m".into(),
            key: "bad".into(),
        },
    );
    assert!(fx.contains(&Effect::ForgetFiles(vec!["bad".into()])));
    assert!(fx.contains(&upload_of("good")), "the rest go");
    assert_eq!(
        s.threads[&1].pending("m").expect("pending").delivery,
        Delivery::Sending
    );
    assert_eq!(s.outbox[0].files.len(), 1);
}

#[test]
fn removing_the_only_file_of_a_message_without_text_drops_it() {
    let mut s = with_open_chat();
    send_files(&mut s, true, "m", &["bad"]);
    let refusal = AppError::new(ErrorCode::BadFile, "corrupt");
    uploaded(&mut s, true, "bad", Err(UploadFailure::Refused(refusal)));
    update(
        &mut s,
        &env(true),
        Msg::RemoveFile {
            chat: 1,
            client_id: "m".into(),
            key: "bad".into(),
        },
    );
    assert!(s.outbox.is_empty());
    assert!(s.threads[&1].pending("m").is_none());
}

#[test]
fn offline_it_waits_and_goes_on_the_next_connect() {
    let mut s = with_open_chat();
    update(
        &mut s,
        &env(false),
        Msg::Disconnected("transport close".into()),
    );
    let fx = send_files(&mut s, false, "m", &["a"]);
    assert!(!fx.contains(&upload_of("a")), "nothing goes offline");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Outbox(OutboxChange::Push(o)) if o.files.len() == 1))
    );

    let fx = update(&mut s, &env(true), Msg::Connected);
    assert!(fx.contains(&upload_of("a")), "the reconnect uploads it");
    // The network broke mid-upload, socket down too: it waits again.
    let fx = uploaded(&mut s, false, "a", Err(UploadFailure::Network));
    assert!(fx.is_empty());
    assert_eq!(s.outbox[0].files[0].state, UploadState::Waiting);
    // With the socket up a lost upload is tried again after a back-off.
    update(&mut s, &env(true), Msg::Connected);
    let fx = uploaded(&mut s, true, "a", Err(UploadFailure::Network));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Later { msg, .. } if **msg == Msg::FlushNow))
    );
}

#[test]
fn a_file_the_browser_lost_is_refused_and_retry_tries_again() {
    let mut s = with_open_chat();
    send_files(&mut s, true, "m", &["a"]);
    uploaded(&mut s, true, "a", Err(UploadFailure::Missing));
    assert!(matches!(
        s.outbox[0].files[0].state,
        UploadState::Refused(_)
    ));
    let fx = update(
        &mut s,
        &env(true),
        Msg::Retry {
            chat: 1,
            client_id: "m".into(),
        },
    );
    assert!(fx.contains(&upload_of("a")));
}

#[test]
fn files_past_the_cap_are_not_kept_and_the_user_is_told() {
    let mut s = with_open_chat();
    let big = |key: &str| FileUpload {
        size: 10 * 1024 * 1024,
        ..file(key)
    };
    let mut fx = Vec::new();
    for (i, key) in ["a", "b", "c"].iter().enumerate() {
        fx = update(
            &mut s,
            &env(false),
            Msg::Send {
                chat: 1,
                text: String::new(),
                client_id: format!("m{i}"),
                files: vec![big(key)],
            },
        );
        if i < 2 {
            assert!(fx.contains(&Effect::KeepFiles(vec![(*key).into()])));
        }
    }
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::KeepFiles(_))),
        "30 MB > 25 MB"
    );
    assert_eq!(s.toast.as_deref(), Some(super::super::uploads::NOT_KEPT));
}
