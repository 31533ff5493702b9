//! Routed pages.

mod auth;
mod home;

pub use auth::{LoginPage, RegisterPage};
pub use home::HomePage;
