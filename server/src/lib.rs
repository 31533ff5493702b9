//! The jobchat server: axum + Leptos SSR + Socket.IO over one storage layer.
//!
//! * `config` — every setting, from the environment
//! * `storage` — SQLite / PostgreSQL persistence
//! * `auth` — JWT and password hashing
//! * `service` — the product's rules; everything else calls it
//! * `http` — the REST API and its OpenAPI document
//! * `realtime` — the Socket.IO gateway and the emitter
//! * `application` — wiring, start-up and graceful shutdown
//! * `seed` — development demo data

pub mod application;
pub mod auth;
pub mod config;
pub mod http;
pub mod realtime;
pub mod seed;
pub mod service;
pub mod storage;
pub mod telemetry;

pub use application::{Application, Tuning};
