//! A minimal Socket.IO v5 client (Engine.IO v4, WebSocket transport only,
//! main namespace `/` only), written for load generation.
//!
//! `rust_socketio` cannot keep up with thousands of sockets, so the load
//! generator speaks the protocol itself over tokio-tungstenite. It is small:
//!
//! * Every Engine.IO packet is one WebSocket text frame: a type digit, then
//!   its data. `0{…}` open (carries `pingInterval`), `1` close, `2` ping
//!   (from the server; we answer `3` pong), `4…` a Socket.IO packet.
//! * A Socket.IO packet is a type digit, an optional ack id, then JSON:
//!   `0{auth}` CONNECT (the server answers `0{"sid":…}`), `4{message}`
//!   CONNECT_ERROR, `2["name",data]` EVENT, `2<id>["name",data]` an event
//!   that wants an ack, `3<id>[reply]` ACK, `1` DISCONNECT. Binary packets
//!   (`5`, `6`) are not used by jobchat and are ignored.
//!
//! One tokio task per socket owns the WebSocket: it reads frames, answers
//! pings, resolves pending acks from its own map and hands events to a
//! callback, and writes the frames the [`Client`] queues. Every ack and event
//! carries the [`Instant`] its frame was read, so latencies are not skewed by
//! how long a waiting task takes to be scheduled.
//!
//! This module knows packets, not jobchat's events: `socket` sends the
//! contract's requests through it and reads its acks and events back.

use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

// ---- packets (pure) -----------------------------------------------------------

/// An Engine.IO v4 packet, borrowed from one WebSocket text frame.
#[derive(Debug, PartialEq, Eq)]
pub enum EioPacket<'a> {
    /// `0{"sid":…,"pingInterval":…,"pingTimeout":…,…}`
    Open(&'a str),
    /// `1`
    Close,
    /// `2` (the server checks we are alive; answer with a pong, same data)
    Ping(&'a str),
    /// `3`
    Pong(&'a str),
    /// `4…`: a Socket.IO packet
    Message(&'a str),
    /// `5`
    Upgrade,
    /// `6`
    Noop,
}

/// Splits a text frame into its Engine.IO packet. `None` for an empty frame
/// or an unknown type.
pub fn decode_eio(frame: &str) -> Option<EioPacket<'_>> {
    let (kind, rest) = frame.split_at_checked(1)?;
    Some(match kind {
        "0" => EioPacket::Open(rest),
        "1" => EioPacket::Close,
        "2" => EioPacket::Ping(rest),
        "3" => EioPacket::Pong(rest),
        "4" => EioPacket::Message(rest),
        "5" => EioPacket::Upgrade,
        "6" => EioPacket::Noop,
        _ => return None,
    })
}

/// The Engine.IO answer to a ping: a pong echoing its data (usually none).
pub fn encode_pong(ping_data: &str) -> String {
    format!("3{ping_data}")
}

/// The fields of the Engine.IO open packet we use.
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OpenInfo {
    pub sid: String,
    /// Milliseconds between the server's pings.
    pub ping_interval: u64,
    /// Milliseconds the server waits for our pong.
    pub ping_timeout: u64,
}

/// The data of the namespace's CONNECT answer (Socket.IO's own).
#[derive(Debug, Deserialize)]
struct ConnectAccepted {
    #[allow(dead_code)] // only checked for: an answer without one is not a CONNECT
    sid: String,
}

/// The data of a CONNECT_ERROR: why the connect middleware refused us.
#[derive(Debug, Deserialize)]
struct ConnectRefused {
    message: String,
}

/// A Socket.IO v5 packet on the main namespace.
#[derive(Debug, PartialEq)]
pub enum SioPacket {
    /// `0{"sid":…}`: the namespace accepted our CONNECT.
    Connect(Value),
    /// `1`
    Disconnect,
    /// `2[id]["name", data]`; `data` is the first argument (`null` if none).
    Event {
        id: Option<u64>,
        name: String,
        data: Value,
    },
    /// `3<id>[reply]`; `data` is the first argument.
    Ack { id: u64, data: Value },
    /// `4{"message":…}`: the connect middleware refused us.
    ConnectError(Value),
}

#[derive(Debug, PartialEq, Eq)]
pub enum PacketError {
    Empty,
    /// A packet of another namespace (`/admin,…`): we only join `/`.
    OtherNamespace,
    /// Binary events and acks (types 5 and 6).
    Binary,
    UnknownType(char),
    /// ACK without an id.
    MissingAckId,
    /// The JSON part is not what the type needs.
    BadData(String),
}

impl std::fmt::Display for PacketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

/// Reads a Socket.IO packet (the text after the Engine.IO `4`).
pub fn decode_sio(packet: &str) -> Result<SioPacket, PacketError> {
    let mut chars = packet.chars();
    let kind = chars.next().ok_or(PacketError::Empty)?;
    let rest = chars.as_str();
    if rest.starts_with('/') {
        return Err(PacketError::OtherNamespace);
    }
    // An ack id is the run of digits before the JSON.
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (id, json) = rest.split_at(digits);
    let id = if digits == 0 {
        None
    } else {
        Some(
            id.parse::<u64>()
                .map_err(|e| PacketError::BadData(e.to_string()))?,
        )
    };
    let parse = |json: &str| -> Result<Value, PacketError> {
        if json.is_empty() {
            Ok(Value::Null)
        } else {
            serde_json::from_str(json).map_err(|e| PacketError::BadData(e.to_string()))
        }
    };
    match kind {
        '0' => Ok(SioPacket::Connect(parse(json)?)),
        '1' => Ok(SioPacket::Disconnect),
        '2' => {
            let Value::Array(mut args) = parse(json)? else {
                return Err(PacketError::BadData("event is not an array".into()));
            };
            if args.is_empty() {
                return Err(PacketError::BadData("event without a name".into()));
            }
            let data = if args.len() > 1 {
                args.swap_remove(1)
            } else {
                Value::Null
            };
            let Value::String(name) = args.swap_remove(0) else {
                return Err(PacketError::BadData("event name is not a string".into()));
            };
            Ok(SioPacket::Event { id, name, data })
        }
        '3' => {
            let id = id.ok_or(PacketError::MissingAckId)?;
            let Value::Array(mut args) = parse(json)? else {
                return Err(PacketError::BadData("ack is not an array".into()));
            };
            let data = if args.is_empty() {
                Value::Null
            } else {
                args.swap_remove(0)
            };
            Ok(SioPacket::Ack { id, data })
        }
        '4' => Ok(SioPacket::ConnectError(parse(json)?)),
        '5' | '6' => Err(PacketError::Binary),
        other => Err(PacketError::UnknownType(other)),
    }
}

/// The Engine.IO frame that CONNECTs to `/` with an auth payload.
pub fn encode_connect<T: Serialize + ?Sized>(auth: &T) -> Result<String, serde_json::Error> {
    Ok(format!("40{}", serde_json::to_string(auth)?))
}

/// The Engine.IO frame of an EVENT, asking for an ack when `ack_id` is set:
/// its arguments are the JSON array `[name, data]`.
pub fn encode_event<T: Serialize + ?Sized>(
    ack_id: Option<u64>,
    name: &str,
    data: &T,
) -> Result<String, serde_json::Error> {
    let args = serde_json::to_string(&(name, data))?;
    Ok(match ack_id {
        Some(id) => format!("42{id}{args}"),
        None => format!("42{args}"),
    })
}

// ---- the client ---------------------------------------------------------------

/// Called from the socket's task for every event the server pushes: its
/// name, its first argument, and when its frame was read.
pub type OnEvent = Arc<dyn Fn(&str, &Value, Instant) + Send + Sync>;

/// An ack's first argument and when its frame was read.
#[derive(Debug)]
pub struct Ack {
    pub data: Value,
    pub at: Instant,
}

#[derive(Debug)]
pub enum SioError {
    Ws(tokio_tungstenite::tungstenite::Error),
    /// The server refused the Socket.IO CONNECT (its `message`).
    Refused(String),
    /// Something other than the protocol expects.
    Protocol(String),
    /// The socket's task has ended (closed by either side).
    Closed,
    Timeout,
}

impl std::fmt::Display for SioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ws(e) => write!(f, "websocket: {e}"),
            Self::Refused(m) => write!(f, "connect refused: {m}"),
            Self::Protocol(m) => write!(f, "protocol: {m}"),
            Self::Closed => f.write_str("socket closed"),
            Self::Timeout => f.write_str("timed out"),
        }
    }
}

impl std::error::Error for SioError {}

impl From<tokio_tungstenite::tungstenite::Error> for SioError {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::Ws(e)
    }
}

/// A frame for the socket's task to write, and where its ack goes.
struct Outgoing {
    frame: String,
    ack: Option<(u64, oneshot::Sender<Ack>)>,
}

/// One connected Socket.IO socket. Dropping it closes the connection.
pub struct Client {
    out: mpsc::UnboundedSender<Outgoing>,
    next_ack_id: AtomicU64,
    /// Turns `true` when the socket's task ends.
    closed: watch::Receiver<bool>,
}

impl Client {
    /// Opens `ws_url` (`ws://host/socket.io/?EIO=4&transport=websocket`),
    /// CONNECTs to `/` with the `auth` payload and waits for the server to
    /// accept. Events from then on go to `on_event`.
    pub async fn connect<A: Serialize + ?Sized>(
        ws_url: &str,
        auth: &A,
        on_event: Option<OnEvent>,
    ) -> Result<Self, SioError> {
        // Nagle off: we write many small frames and measure their latency.
        let (mut ws, _response) =
            tokio_tungstenite::connect_async_with_config(ws_url, None, true).await?;

        // 1. Engine.IO open. We only need to answer pings, so the interval
        //    is just checked for sanity.
        let open = next_text(&mut ws).await?;
        let info: OpenInfo = match decode_eio(&open) {
            Some(EioPacket::Open(json)) => serde_json::from_str(json)
                .map_err(|e| SioError::Protocol(format!("open packet: {e}")))?,
            _ => return Err(SioError::Protocol(format!("expected open, got {open:?}"))),
        };
        if info.ping_interval == 0 {
            return Err(SioError::Protocol("pingInterval is 0".into()));
        }

        // 2. Socket.IO CONNECT to `/` with the auth payload.
        let connect =
            encode_connect(auth).map_err(|e| SioError::Protocol(format!("auth payload: {e}")))?;
        ws.send(Frame::text(connect)).await?;

        // 3. Wait for the namespace's answer, answering pings meanwhile.
        loop {
            let text = next_text(&mut ws).await?;
            match decode_eio(&text) {
                Some(EioPacket::Ping(data)) => ws.send(Frame::text(encode_pong(data))).await?,
                Some(EioPacket::Message(packet)) => match decode_sio(packet) {
                    Ok(SioPacket::Connect(v)) => {
                        if ConnectAccepted::deserialize(&v).is_err() {
                            return Err(SioError::Protocol(format!("CONNECT without sid: {v}")));
                        }
                        break;
                    }
                    Ok(SioPacket::ConnectError(v)) => {
                        let message = ConnectRefused::deserialize(&v)
                            .map_or_else(|_| "?".to_owned(), |r| r.message);
                        return Err(SioError::Refused(message));
                    }
                    _ => {}
                },
                Some(EioPacket::Close) => return Err(SioError::Closed),
                _ => {}
            }
        }

        let (out, rx) = mpsc::unbounded_channel();
        let (closed_tx, closed) = watch::channel(false);
        tokio::spawn(run(ws, rx, on_event, closed_tx));
        Ok(Self {
            out,
            next_ack_id: AtomicU64::new(0),
            closed,
        })
    }

    /// Emits `name` with `data` and returns where its ack will arrive. The
    /// receiver errs if the socket closes first.
    pub fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        name: &str,
        data: &T,
    ) -> Result<oneshot::Receiver<Ack>, SioError> {
        let id = self.next_ack_id.fetch_add(1, Ordering::Relaxed);
        let frame = encode_event(Some(id), name, data).map_err(|e| encode_error(name, &e))?;
        let (tx, rx) = oneshot::channel();
        self.out
            .send(Outgoing {
                frame,
                ack: Some((id, tx)),
            })
            .map_err(|_| SioError::Closed)?;
        Ok(rx)
    }

    /// Emits without asking for an ack.
    #[allow(dead_code)] // part of the client; the scenarios all want acks
    pub fn emit<T: Serialize + ?Sized>(&self, name: &str, data: &T) -> Result<(), SioError> {
        let frame = encode_event(None, name, data).map_err(|e| encode_error(name, &e))?;
        self.out
            .send(Outgoing { frame, ack: None })
            .map_err(|_| SioError::Closed)
    }

    /// Emits and waits for the ack, at most `timeout`.
    pub async fn request_raw<T: Serialize + ?Sized>(
        &self,
        name: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<Ack, SioError> {
        let rx = self.emit_with_ack(name, data)?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(ack)) => Ok(ack),
            Ok(Err(_)) => Err(SioError::Closed),
            Err(_) => Err(SioError::Timeout),
        }
    }

    /// Whether the connection has ended (either side closed it).
    pub fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Resolves once the connection has ended (at once if it already has).
    pub async fn closed(&self) {
        let mut closed = self.closed.clone();
        // An error means the task is gone without saying so: closed too.
        let _ = closed.wait_for(|c| *c).await;
    }
}

/// A payload that would not serialise (none of the contract's do).
fn encode_error(name: &str, e: &serde_json::Error) -> SioError {
    SioError::Protocol(format!("cannot encode {name}: {e}"))
}

/// The next text frame (WebSocket pings are answered by tungstenite itself).
async fn next_text(ws: &mut Ws) -> Result<String, SioError> {
    loop {
        match ws.next().await {
            Some(Ok(Frame::Text(t))) => return Ok(t.as_str().to_owned()),
            Some(Ok(Frame::Close(_))) | None => return Err(SioError::Closed),
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
        }
    }
}

/// The socket's task: reads frames and writes queued ones until either side
/// closes. Pending acks live here, so no lock is needed.
async fn run(
    mut ws: Ws,
    mut out: mpsc::UnboundedReceiver<Outgoing>,
    on_event: Option<OnEvent>,
    closed: watch::Sender<bool>,
) {
    let mut pending: HashMap<u64, oneshot::Sender<Ack>> = HashMap::new();
    'socket: loop {
        tokio::select! {
            queued = out.recv() => {
                let Some(first) = queued else {
                    // The Client was dropped: say goodbye and stop.
                    let _ = ws.close(None).await;
                    break;
                };
                // Write everything queued so far with a single flush.
                let mut next = Some(first);
                while let Some(o) = next {
                    if let Some((id, tx)) = o.ack {
                        pending.insert(id, tx);
                    }
                    if ws.feed(Frame::text(o.frame)).await.is_err() {
                        break 'socket;
                    }
                    next = out.try_recv().ok();
                }
                if ws.flush().await.is_err() {
                    break;
                }
            }
            frame = ws.next() => {
                let at = Instant::now();
                let text = match frame {
                    Some(Ok(Frame::Text(t))) => t,
                    Some(Ok(Frame::Close(_))) | Some(Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                };
                let pong = match decode_eio(&text) {
                    Some(EioPacket::Ping(data)) => Some(encode_pong(data)),
                    Some(EioPacket::Message(packet)) => match decode_sio(packet) {
                        Ok(SioPacket::Ack { id, data }) => {
                            if let Some(tx) = pending.remove(&id) {
                                let _ = tx.send(Ack { data, at });
                            }
                            None
                        }
                        Ok(SioPacket::Event { name, data, .. }) => {
                            if let Some(f) = &on_event {
                                f(&name, &data, at);
                            }
                            None
                        }
                        Ok(SioPacket::Disconnect) => break,
                        _ => None,
                    },
                    Some(EioPacket::Close) => break,
                    _ => None,
                };
                if let Some(pong) = pong
                    && ws.send(Frame::text(pong)).await.is_err()
                {
                    break;
                }
            }
        }
    }
    closed.send_replace(true);
    // `pending` is dropped here: every waiting ack sees the socket closed.
}

#[cfg(test)]
mod tests {
    use super::*;
    use contract::protocol::HandshakeAuth;
    use contract::protocol::{JoinChat, Request, SendMessage, SetTyping};
    use serde_json::json;

    #[test]
    fn engine_io_packets_decode() {
        assert_eq!(decode_eio("0{\"a\":1}"), Some(EioPacket::Open("{\"a\":1}")));
        assert_eq!(decode_eio("1"), Some(EioPacket::Close));
        assert_eq!(decode_eio("2"), Some(EioPacket::Ping("")));
        assert_eq!(decode_eio("2probe"), Some(EioPacket::Ping("probe")));
        assert_eq!(decode_eio("3"), Some(EioPacket::Pong("")));
        assert_eq!(decode_eio("40"), Some(EioPacket::Message("0")));
        assert_eq!(decode_eio("5"), Some(EioPacket::Upgrade));
        assert_eq!(decode_eio("6"), Some(EioPacket::Noop));
        assert_eq!(decode_eio(""), None);
        assert_eq!(decode_eio("9x"), None);
        assert_eq!(encode_pong(""), "3");
        assert_eq!(encode_pong("probe"), "3probe");
    }

    #[test]
    fn open_packet_fields() {
        let open = r#"{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":100000}"#;
        let info: OpenInfo = serde_json::from_str(open).expect("open packet");
        assert_eq!(
            info,
            OpenInfo {
                sid: "abc".into(),
                ping_interval: 25000,
                ping_timeout: 20000
            }
        );
    }

    #[test]
    fn socket_io_packets_decode() {
        assert_eq!(
            decode_sio(r#"0{"sid":"xyz"}"#),
            Ok(SioPacket::Connect(json!({"sid":"xyz"})))
        );
        assert_eq!(decode_sio("0"), Ok(SioPacket::Connect(Value::Null)));
        assert_eq!(decode_sio("1"), Ok(SioPacket::Disconnect));
        assert_eq!(
            decode_sio(r#"4{"message":"unauthorized"}"#),
            Ok(SioPacket::ConnectError(json!({"message":"unauthorized"})))
        );
        assert_eq!(
            decode_sio(r#"2["news",{"id":7,"seq":2}]"#),
            Ok(SioPacket::Event {
                id: None,
                name: "news".into(),
                data: json!({"id":7,"seq":2})
            })
        );
        assert_eq!(
            decode_sio(r#"2["ping_me"]"#),
            Ok(SioPacket::Event {
                id: None,
                name: "ping_me".into(),
                data: Value::Null
            })
        );
        assert_eq!(
            decode_sio(r#"215["ask",1,2]"#),
            Ok(SioPacket::Event {
                id: Some(15),
                name: "ask".into(),
                data: json!(1)
            })
        );
        assert_eq!(
            decode_sio(r#"312[{"ok":true,"chatId":3}]"#),
            Ok(SioPacket::Ack {
                id: 12,
                data: json!({"ok":true,"chatId":3})
            })
        );
        assert_eq!(
            decode_sio("30[]"),
            Ok(SioPacket::Ack {
                id: 0,
                data: Value::Null
            })
        );
    }

    #[test]
    fn socket_io_malformed_packets_are_errors() {
        assert_eq!(decode_sio(""), Err(PacketError::Empty));
        assert_eq!(
            decode_sio(r#"2/admin,["x"]"#),
            Err(PacketError::OtherNamespace)
        );
        assert_eq!(decode_sio(r#"3["x"]"#), Err(PacketError::MissingAckId));
        assert_eq!(
            decode_sio(r#"51-["x",{"_placeholder":true,"num":0}]"#),
            Err(PacketError::Binary)
        );
        assert_eq!(decode_sio("9"), Err(PacketError::UnknownType('9')));
        assert!(matches!(decode_sio("2{}"), Err(PacketError::BadData(_))));
        assert!(matches!(decode_sio("2[]"), Err(PacketError::BadData(_))));
        assert!(matches!(decode_sio("2[1]"), Err(PacketError::BadData(_))));
        assert!(matches!(decode_sio("2[nope"), Err(PacketError::BadData(_))));
        assert!(matches!(
            decode_sio("399999999999999999999999[]"),
            Err(PacketError::BadData(_))
        ));
    }

    #[test]
    fn frames_encode() {
        assert_eq!(
            encode_connect(&HandshakeAuth {
                token: "t.j.w".into()
            })
            .expect("encodes"),
            r#"40{"token":"t.j.w"}"#
        );
        let send = SendMessage {
            chat_id: 3,
            content: "hi \"you\"".into(),
            client_id: "c-1".into(),
            attachments: Vec::new(),
        };
        let frame = encode_event(Some(7), SendMessage::NAME, &send).expect("encodes");
        let args = frame.strip_prefix("427").expect("event with ack id 7");
        assert_eq!(
            serde_json::from_str::<Value>(args).expect("JSON args"),
            json!([SendMessage::NAME, {"chatId": 3, "content": "hi \"you\"", "clientId": "c-1"}])
        );
        let typing = SetTyping {
            chat_id: 3,
            is_typing: true,
        };
        assert_eq!(
            encode_event(None, SetTyping::NAME, &typing).expect("encodes"),
            format!(
                r#"42["{}",{{"chatId":3,"isTyping":true}}]"#,
                SetTyping::NAME
            )
        );
    }

    #[test]
    fn encoded_event_decodes_back() {
        let join = JoinChat {
            chat_id: 12,
            after_seq: Some(41),
            after_message_id: None,
        };
        let frame = encode_event(Some(99), JoinChat::NAME, &join).expect("encodes");
        let Some(EioPacket::Message(packet)) = decode_eio(&frame) else {
            panic!("not a message: {frame}");
        };
        let Ok(SioPacket::Event { id, name, data }) = decode_sio(packet) else {
            panic!("not an event: {packet}");
        };
        assert_eq!((id, name.as_str()), (Some(99), JoinChat::NAME));
        assert_eq!(
            serde_json::from_value::<JoinChat>(data).expect("a join"),
            join
        );
    }
}
