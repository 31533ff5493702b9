//! The jobchat server: axum + Leptos SSR + Socket.IO over one storage layer.
//!
//! * `config` — every setting, from the environment
//! * `storage` — SQLite / PostgreSQL persistence; stores what it is given
//! * `files` — attachments' bytes: checked, then kept in an object store
//! * `auth` — JWT, password hashing, the session cookie / bearer token
//! * `client_ip` — the caller's address (the peer, or a trusted proxy's header)
//! * `service` — the product's rules, one module per resource, and what the
//!   product says (`service::texts`); everything else calls it
//! * `http` — the REST API and its OpenAPI document
//! * `backend` — `app::api::Backend` over the service, for server functions
//! * `realtime` — the Socket.IO gateway; delivers the service's events
//! * `cluster` — the Redis side of several nodes (adapter, registry)
//! * `metrics`, `telemetry` — Prometheus metrics, tracing
//! * `application` — wiring, start-up and graceful shutdown
//! * `seed` — development demo data
//!
//! Dependencies point one way: `http`, `backend` and `realtime` call
//! `service` (none of the three imports another); `service` calls
//! `storage`, `files` and `auth` and announces events through
//! `service::Broadcaster`, which `realtime` implements.

pub mod application;
pub mod auth;
pub mod backend;
pub mod client_ip;
pub mod cluster;
pub mod config;
pub mod files;
pub mod http;
pub mod masking;
pub mod metrics;
pub mod realtime;
pub mod seed;
pub mod service;
pub mod spreadsheet;
pub mod storage;
pub mod telemetry;
pub mod transcript;

pub use application::{Application, Tuning};
