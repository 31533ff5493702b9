//! The jobchat server: axum + Leptos SSR + Socket.IO over one storage layer.
//!
//! * `config` — every setting, from the environment
//! * `storage` — SQLite / PostgreSQL persistence
//! * `auth` — JWT, password hashing, the session cookie / bearer token
//! * `service` — the product's rules; everything else calls it
//! * `http` — the REST API and its OpenAPI document
//! * `backend` — `app::api::Backend` over the service, for server functions
//! * `realtime` — the Socket.IO gateway; delivers the service's events
//!
//! Dependencies point one way: `http`, `backend` and `realtime` call
//! `service`; `service` calls `storage` and `auth` and announces events
//! through `service::Broadcaster`, which `realtime` implements.
//! * `application` — wiring, start-up and graceful shutdown
//! * `seed` — development demo data
//! * `texts` — what the product says (system messages, bell texts), used
//!   by `service` and by `storage` (which writes a message's bells in the
//!   message's own transaction)

pub mod application;
pub mod auth;
pub mod backend;
pub mod cluster;
pub mod config;
pub mod http;
pub mod metrics;
pub mod realtime;
pub mod seed;
pub mod service;
pub mod storage;
pub mod telemetry;
pub mod texts;

pub use application::{Application, Tuning};
