//! The OpenAPI document: well-formed, complete, and true to the server.

use crate::both_backends;
use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Every endpoint of the REST contract.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/auth/register"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/logout"),
    ("post", "/api/auth/logout-all"),
    ("post", "/api/auth/password"),
    ("get", "/api/me"),
    ("get", "/api/providers"),
    ("post", "/api/jobs"),
    ("get", "/api/chats"),
    ("get", "/api/chats/{chat_id}/messages"),
    ("get", "/api/chats/{chat_id}/messages/{message_id}"),
    ("patch", "/api/chats/{chat_id}/messages/{message_id}"),
    ("delete", "/api/chats/{chat_id}/messages/{message_id}"),
    ("get", "/api/chats/{chat_id}/messages/{message_id}/versions"),
    ("post", "/api/chats/{chat_id}/read"),
    ("post", "/api/chats/{chat_id}/dispute"),
    ("get", "/api/disputes"),
    ("get", "/api/disputes/{dispute_id}"),
    ("post", "/api/disputes/{dispute_id}/take"),
    ("post", "/api/disputes/{dispute_id}/handover"),
    ("post", "/api/disputes/{dispute_id}/resolve"),
    ("get", "/api/disputes/{dispute_id}/transcript"),
    ("get", "/api/lsms"),
    ("get", "/api/transcripts/key"),
    ("get", "/api/notifications"),
    ("post", "/api/notifications/{id}/read"),
    ("post", "/api/notifications/read-all"),
    ("get", "/api/search"),
    ("post", "/api/chats/{chat_id}/attachments"),
    ("get", "/api/attachments/{id}"),
    ("get", "/api/attachments/{id}/thumbnail"),
    ("post", "/api/jobs/{job_id}/status"),
    ("get", "/api/me/email"),
    ("put", "/api/me/email"),
    ("put", "/api/chats/{chat_id}/mute"),
    ("post", "/api/reports"),
    ("get", "/api/blocks"),
    ("put", "/api/blocks/{user_id}"),
    ("delete", "/api/blocks/{user_id}"),
    ("get", "/api/moderation/items"),
    ("post", "/api/moderation/items/{item_id}/actions"),
    ("post", "/api/moderation/users/{user_id}/actions"),
    ("get", "/api/moderation/log"),
    ("get", "/api/moderation/log.csv"),
    ("get", "/healthz"),
];

fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    let path = reference.strip_prefix("#/")?;
    path.split('/').try_fold(doc, |node, key| node.get(key))
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get("$ref") {
                out.push(r.clone());
            }
            map.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(items) => items.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

fn schema_props<'a>(doc: &'a Value, name: &str) -> Vec<&'a str> {
    doc["components"]["schemas"][name]["properties"]
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

both_backends!(document_matches_the_router, |app: TestApp| async move {
    let (status, doc) = app.get("/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    assert!(doc["info"]["title"].is_string());

    // Documented = served, in both directions.
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} has no responses"
            );
            documented.push((method.clone(), path.clone()));
        }
    }
    for (method, path) in ROUTES {
        assert!(
            documented.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is not documented"
        );
    }
    for (method, path) in &documented {
        assert!(
            ROUTES.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is documented but not in the contract"
        );
        // The router answers it with something other than "no such endpoint".
        let concrete = path
            .replace("{chat_id}", "1")
            .replace("{dispute_id}", "1")
            .replace("{id}", "1");
        let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let (s, body) = app
            .request(
                m,
                &concrete,
                None,
                if method == "post" {
                    Some(json!({}))
                } else {
                    None
                },
            )
            .await;
        assert!(
            !(s == StatusCode::NOT_FOUND && body["error"]["message"] == "no such API endpoint")
                && s != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path} is documented but not served ({s})"
        );
    }

    // Every $ref points at something.
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(!refs.is_empty());
    for r in refs {
        assert!(resolve(&doc, &r).is_some(), "dangling $ref {r}");
    }

    // What the server really answers has the documented fields.
    let customer = app.register("customer").await;
    let provider = app.register("provider").await;
    let chat = app.book(&customer, &provider).await;
    let (_, chats) = app.get("/api/chats", Some(&customer.token)).await;
    let real: Vec<&str> = chats[0]
        .as_object()
        .expect("obj")
        .keys()
        .map(String::as_str)
        .collect();
    let mut documented_props = schema_props(&doc, "ChatSummary");
    documented_props.sort();
    let mut real_sorted = real.clone();
    real_sorted.sort();
    assert_eq!(real_sorted, documented_props);
    // A page holding every kind of message, so every optional field shows:
    // a system line (`event`), an edited message (`revision`), the edit
    // (`targetId`) and a message with a file (`attachments`).
    let said = app.say(&customer, chat, "Ten o'clock").await;
    let file_for = crate::helpers::uuid_like();
    let res = app
        .client
        .post(format!("{}/api/chats/{chat}/attachments", app.addr))
        .query(&[("clientId", file_for.as_str()), ("name", "note.txt")])
        .bearer_auth(&customer.token)
        .body("A note")
        .send()
        .await
        .expect("uploaded");
    assert_eq!(res.status(), StatusCode::CREATED);
    let file: contract::model::Attachment = res.json().await.expect("an attachment");
    app.socket(&customer)
        .await
        .request(&contract::protocol::SendMessage {
            chat_id: chat,
            content: String::new(),
            client_id: file_for,
            attachments: vec![file.id],
        })
        .await
        .expect("sent");
    let (status, _) = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/chats/{chat}/messages/{}", said.id),
            Some(&customer.token),
            Some(json!({ "content": "Eleven o'clock", "clientId": crate::helpers::uuid_like() })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // And a message whose contact details were hidden (`masked`).
    app.say(&customer, chat, "Call me on 0176 1234 5678").await;
    let (_, page) = app
        .get(
            &format!("/api/chats/{chat}/messages"),
            Some(&customer.token),
        )
        .await;
    let mut msg_keys: Vec<&str> = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .flat_map(|m| m.as_object().expect("m").keys().map(String::as_str))
        .collect();
    msg_keys.sort();
    msg_keys.dedup();
    let mut msg_doc = schema_props(&doc, "Message");
    msg_doc.sort();
    assert_eq!(msg_keys, msg_doc);
    let (_, err) = app.get("/api/me", None).await;
    let mut err_keys: Vec<&str> = err["error"]
        .as_object()
        .expect("e")
        .keys()
        .map(String::as_str)
        .collect();
    err_keys.sort();
    assert!(
        err_keys
            .iter()
            .all(|k| schema_props(&doc, "ErrorDetail").contains(k)),
        "{err_keys:?}"
    );
});
