//! Routed pages.

mod auth;
mod home;
mod moderation;

pub use auth::{LoginPage, RegisterPage};
pub use home::HomePage;
pub use moderation::ModerationPage;
