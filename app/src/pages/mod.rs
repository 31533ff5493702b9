//! Routed pages.

mod auth;
mod disputes;
mod home;
mod moderation;
mod settings;

pub use auth::{LoginPage, RegisterPage};
pub use disputes::DisputesPage;
pub use home::HomePage;
pub use moderation::ModerationPage;
pub use settings::SettingsPage;
