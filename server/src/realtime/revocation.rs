//! The safety net under revocation. A service that ends a user's sessions
//! (or signs one out) closes their sockets at once through the sink, on
//! every node. This sweep catches what that cannot reach: changes made by
//! the operators' CLI (which serves no sockets), a disconnect lost while
//! Redis was down, and a handshake that read the old token version (or a
//! session not yet signed out) just before the change. Every `SWEEP`, each
//! node compares its own sockets' token versions with the database (one
//! query per 500 users), looks their sessions up among the signed-out ones
//! (one query per 500 sessions), and closes the stale ones.

use super::SocketSink;
use crate::service::Service;
use contract::model::UserId;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// How often each node checks its sockets' tokens (and, `membership`,
/// their chat rooms).
pub const SWEEP: Duration = Duration::from_secs(5);

pub fn start(service: Service, sink: Arc<SocketSink>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(SWEEP);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sweep(&service, &sink).await;
            super::membership::sweep(&service, &sink).await;
        }
    });
}

async fn sweep(service: &Service, sink: &SocketSink) {
    let sockets = sink.local_sessions();
    if sockets.is_empty() {
        return;
    }
    let mut users: Vec<UserId> = sockets.iter().map(|(_, s)| s.user.id).collect();
    users.sort_unstable();
    users.dedup();
    let current: HashMap<UserId, i64> = match service.token_versions(&users).await {
        Ok(versions) => versions.into_iter().collect(),
        Err(e) => {
            tracing::warn!(error = %e, "revocation sweep skipped");
            return;
        }
    };
    let mut sessions: Vec<String> = sockets
        .iter()
        .map(|(_, s)| s.session_id.clone())
        .filter(|s| !s.is_empty())
        .collect();
    sessions.sort_unstable();
    sessions.dedup();
    let signed_out: HashSet<String> = match service.revoked_sessions(&sessions).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "signed-out sessions not checked this sweep");
            HashSet::new()
        }
    };
    for (sid, sess) in sockets {
        if current.get(&sess.user.id) != Some(&sess.token_version) {
            tracing::info!(user_id = sess.user.id, %sid, "token revoked: disconnecting");
            sink.disconnect_local(sid);
        } else if signed_out.contains(&sess.session_id) {
            tracing::info!(user_id = sess.user.id, %sid, "session signed out: disconnecting");
            sink.disconnect_local(sid);
        }
    }
}
