//! What jobchat's clients and its server agree on, with no Leptos in it:
//! the browser (`app`), the server and the load generator (`loadgen`) all
//! speak through these types, so a renamed field breaks the build of each,
//! not a running system.
//!
//! * `model` — the data every side shares (messages, chats, users, bells)
//! * `protocol` — the Socket.IO contract: each event's name with its
//!   payload, requests with their reply types, the ack envelope, the
//!   handshake's refusal reasons
//! * `error` — `AppError`, the one error shape of REST, acks and server
//!   functions
//! * `validate` — input newtypes, parsed once at the boundary (both sides)

pub mod error;
pub mod model;
pub mod protocol;
pub mod validate;
