//! UI building blocks. They read and change chat state only through
//! `use_chat()`.

mod chat_list;
mod chat_popup;
mod header;
mod text;

pub use chat_list::ChatList;
pub use chat_popup::ChatDock;
pub use header::Header;
pub use text::MessageText;
