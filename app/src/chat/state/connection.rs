//! The Socket.IO connection as the page shows it: the status badge
//! (Connecting, Connected, Reconnecting… (attempt n), Offline), catching up
//! after every (re)connect, and the browser's own online/offline events.

use super::msg::{Effect, Env, Msg};
use super::store::{SESSION_ENDED, State};
use super::{bell, chat_list, outbox, rooms};
use crate::model::ConnectionStatus;
use crate::protocol::Refused;

/// How long after the server closed the connection on purpose it is opened
/// again.
pub const RECONNECT_AFTER_MS: u32 = 1_000;

pub fn connected(s: &mut State, env: &Env, fx: &mut Vec<Effect>) {
    s.status = ConnectionStatus::Connected;
    // The seed's recovery: re-join every open chat with what we last saw,
    // so the gap closes in one round trip, then send what waited.
    rooms::rejoin_open(s, env, fx);
    outbox::flush(s, env, fx);
    chat_list::refresh(fx);
    bell::refresh(fx);
}

pub fn disconnected(s: &mut State, fx: &mut Vec<Effect>, reason: &str) {
    // A send in flight is answered by the resend after reconnecting.
    outbox::connection_lost(s);
    if s.status != ConnectionStatus::Offline {
        s.status = ConnectionStatus::Reconnecting(0);
    }
    s.typing.clear();
    // socket.io-client does not retry after the server closed the
    // connection on purpose; a restarting server does exactly that, so
    // reconnect anyway (an ended session then fails the handshake with
    // `unauthorized`, which leads to the sign-in page).
    if reason == "io server disconnect" {
        fx.push(Effect::later(RECONNECT_AFTER_MS, Msg::ReconnectNow));
    }
}

pub fn connect_failed(s: &mut State, fx: &mut Vec<Effect>, why: Option<Refused>) {
    if why == Some(Refused::Unauthorized) {
        // The session ended (expired or logged out elsewhere).
        fx.push(Effect::GoTo(SESSION_ENDED));
    } else if s.status == ConnectionStatus::Connected {
        s.status = ConnectionStatus::Reconnecting(0);
    }
}

pub fn reconnect_attempt(s: &mut State, attempt: u32) {
    if s.status != ConnectionStatus::Offline {
        s.status = ConnectionStatus::Reconnecting(attempt);
    }
}

pub fn network_online(s: &mut State, env: &Env) {
    if s.status == ConnectionStatus::Offline {
        s.status = if env.connected {
            ConnectionStatus::Connected
        } else {
            ConnectionStatus::Reconnecting(0)
        };
    }
}
