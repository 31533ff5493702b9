//! An LSM settles a dispute while Redis is down, so the node holding the
//! LSM's socket never hears "take them out of the room". Its sweep of the
//! live rooms checks membership against the database and takes the socket
//! out (telling it with a `user_left` naming its own user); once Redis is
//! back, nothing of the chat reaches that socket.

use crate::cluster::{PrivateRedis, private_cluster, send_until_heard};
use crate::helpers::pair;
use contract::protocol::{NewMessage, UserLeft};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_settled_lsm_on_another_node_is_taken_out_of_the_room_though_redis_failed() {
    let Some((mut redis, a)) = private_cluster().await else {
        return;
    };
    let port = redis.port;
    let b = a.spawn_node().await;
    let (customer, provider, chat) = pair(&a).await;
    let lsm = a.create_lsm().await;
    let (status, body) = a
        .post(
            &format!("/api/chats/{chat}/dispute"),
            Some(&customer.token),
            json!({ "reason": "The tap still drips" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let dispute = body["disputeId"].as_i64().expect("dispute id");
    let mut c = a.socket(&customer).await;
    let mut lsm_b = b.socket(&lsm).await;
    let mut provider_b = b.socket(&provider).await;
    c.join(chat).await;
    lsm_b.join(chat).await;
    provider_b.join(chat).await;

    // Redis goes down; the LSM settles on node A. Node B cannot be told.
    redis.stop();
    let (status, body) = a
        .post(
            &format!("/api/disputes/{dispute}/resolve"),
            Some(&lsm.token),
            json!({ "resolution": "Half refunded" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Node B's sweep finds the LSM no longer in the chat and takes the
    // socket out of the room, telling it.
    lsm_b
        .expect_event_where(|e: &UserLeft| e.chat_id == chat && e.user.id == lsm.id)
        .await;

    // Redis is back: node B hears node A again (its provider socket
    // proves each delivery), and the LSM's socket hears none of it.
    let _redis = PrivateRedis::start(port);
    let heard = send_until_heard(&c, chat, "just the two of us now", &mut provider_b).await;
    let to_lsm = lsm_b
        .take_events::<NewMessage>(Duration::from_millis(300))
        .await;
    // Nothing was said in the chat between the LSM's socket joining and
    // Redis going down, so anything it heard is from after it left.
    assert!(
        to_lsm.is_empty(),
        "the settled LSM still hears the chat (up to seq {}): {to_lsm:?}",
        heard.seq
    );
}
