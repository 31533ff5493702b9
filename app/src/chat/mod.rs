//! The browser's chat state: one `ChatContext`, provided at the root and read
//! through `use_chat()`. Components never touch the socket directly.

#[cfg(feature = "hydrate")]
mod socket;

use crate::model::ConnectionStatus;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct ChatContext {
    pub status: RwSignal<ConnectionStatus>,
}

/// Provides the context once, at the app root. On the server it only holds the
/// initial state; in the browser it also opens the Socket.IO connection.
pub fn provide_chat_context() {
    let ctx = ChatContext {
        status: RwSignal::new(ConnectionStatus::Connecting),
    };
    provide_context(ctx);

    #[cfg(feature = "hydrate")]
    {
        // Effects run only in the browser, after hydration.
        Effect::new(move |_| socket::connect(ctx));
    }
}

pub fn use_chat() -> ChatContext {
    expect_context::<ChatContext>()
}
