//! The live state's flows, message by message, without a browser: what
//! each message changes and which effects it asks for. Helpers here; the
//! cases by concern: `rooms` (messages, joins, gaps, the list), `outbox`
//! (sends, drafts, typing), `page` (connection, forms, start-up), `search`,
//! `revisions` (edits and deletions).

mod desktop;
mod moderation;
mod outbox;
mod page;
mod revisions;
mod rooms;
mod search;
mod uploads;

use super::*;
use crate::chat::list::tests::summary;
use crate::chat::outgoing::{OutboxChange, RequestFailure};
use crate::chat::{Delivery, OpenChat};
use crate::error::{AppError, ErrorCode};
use crate::model::{
    ChatId, ConnectionStatus, Me, Message, MessageKind, MessagePage, Notification, PageRequest,
    Role, Seq,
};
use crate::protocol::{
    ChatUser, JoinReply, ParticipantState, Refused, SendReply, SetTyping, Typing, UserJoined,
};

const ME: i64 = 1;
const OTHER: i64 = 2;

fn env(connected: bool) -> Env {
    Env {
        now: chrono::Utc::now(),
        connected,
        tab_hidden: false,
        small_screen: false,
    }
}

fn me() -> Me {
    Me {
        id: ME,
        name: "Me".into(),
        role: Role::Customer,
    }
}

fn state() -> State {
    State::new(Some(me()), Vec::new())
}

fn message(chat: ChatId, seq: Seq, sender: i64) -> Message {
    Message {
        id: 100 * chat + seq,
        chat_id: chat,
        seq,
        sender_id: Some(sender),
        sender_name: Some(format!("user {sender}")),
        sender_role: None,
        content: format!("m{seq}"),
        client_id: None,
        kind: MessageKind::User,
        event: None,
        created_at: chrono::Utc::now(),
        target_id: None,
        revision: None,
        attachments: Vec::new(),
        masked: false,
    }
}

fn page(chat: ChatId, seqs: std::ops::RangeInclusive<Seq>) -> MessagePage {
    MessagePage {
        messages: seqs.map(|seq| message(chat, seq, OTHER)).collect(),
        has_more: false,
    }
}

fn unavailable() -> AppError {
    AppError::new(ErrorCode::Unavailable, "down")
}

fn calls(fx: &[Effect]) -> Vec<&Call> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Call(c) => Some(c),
            _ => None,
        })
        .collect()
}

fn messages_call(chat: ChatId, purpose: PageFor) -> Effect {
    let (before_seq, after_seq) = match purpose {
        PageFor::Latest => (None, None),
        PageFor::Older(s) => (Some(s), None),
        PageFor::Gap(s) => (None, Some(s)),
    };
    Effect::Call(Call::Messages {
        chat,
        page: PageRequest {
            before_seq,
            after_seq,
            limit: Some(50),
            ..PageRequest::default()
        },
        purpose,
    })
}

/// A state with chat 1 open and its newest page (seqs 1..=3) loaded, on a
/// live connection.
fn with_open_chat() -> State {
    let mut s = state();
    s.chats = vec![summary(1), summary(2)];
    s.chats_loaded = true;
    let fx = update(&mut s, &env(true), Msg::OpenChat(1));
    assert!(fx.contains(&Effect::Join {
        chat: 1,
        after: None,
        attempt: 0
    }));
    assert!(fx.contains(&Effect::LoadCache(1)));
    let joined = JoinReply {
        chat_id: 1,
        messages: None,
        has_more: None,
        presence: vec![ParticipantState {
            user_id: OTHER,
            name: "Other".into(),
            role: Role::Provider,
            online: true,
            last_read_message_id: 0,
            last_read_seq: 2,
        }],
    };
    let fx = update(
        &mut s,
        &env(true),
        Msg::Joined {
            chat: 1,
            after: None,
            attempt: 0,
            result: Ok(joined),
        },
    );
    assert_eq!(fx, vec![messages_call(1, PageFor::Latest)]);
    assert_eq!(s.presence.get(&OTHER), Some(&true));
    let fx = answer_page(&mut s, 1, PageFor::Latest, Ok(page(1, 1..=3)));
    assert!(s.is_loaded(1));
    assert!(fx.contains(&Effect::MarkRead {
        chat: 1,
        message: 103
    }));
    s
}

fn answer_page(
    s: &mut State,
    chat: ChatId,
    purpose: PageFor,
    result: Result<MessagePage, AppError>,
) -> Vec<Effect> {
    update(
        s,
        &env(true),
        Msg::Answered(Answer::Messages {
            chat,
            purpose,
            result,
        }),
    )
}
