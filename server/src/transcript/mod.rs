//! The verifiable transcript of a chat (issue #24): the hash chain kept
//! as messages are stored (`chain`), the export built from the stored
//! chat (`assemble`, `document`) in JSON, CSV and printable HTML
//! (`render`), the server's Ed25519 signature over its digest
//! (`signing`), and the check `server transcript verify FILE` runs on an
//! export (`verify`).

pub mod assemble;
pub mod chain;
pub mod document;
pub mod render;
pub mod signing;
pub mod verify;

pub use document::Transcript;
pub use render::Format;
