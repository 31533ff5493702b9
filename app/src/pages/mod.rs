//! Routed pages.

mod auth;
mod home;
mod moderation;
mod settings;

pub use auth::{LoginPage, RegisterPage};
pub use home::HomePage;
pub use moderation::ModerationPage;
pub use settings::SettingsPage;
