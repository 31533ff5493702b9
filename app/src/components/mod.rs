//! UI building blocks: chat list, message search, chat windows, header,
//! the moderation queue and log, the dispute console,
//! tab title, the desktop notifications prompt (and
//! `clock`, the viewer's days and times, hydration-safe). They
//! read and change chat state only through `use_chat()`.

mod chat_list;
mod chat_popup;
mod clock;
mod desktop_prompt;
pub(crate) mod disputes;
pub(crate) mod focus;
mod header;
pub(crate) mod moderation;
mod search;
mod tab_title;
mod text;

pub use chat_list::ChatList;
pub use chat_popup::ChatDock;
pub use desktop_prompt::DesktopPrompt;
pub use disputes::{CasePanel, CaseQueue, SettleForm};
pub use header::Header;
pub use moderation::{ModerationLog, ModerationQueue};
pub use search::Searchable;
pub use tab_title::TabTitle;
pub use text::MessageText;
