//! The one way a message row is added inside an open transaction (system
//! lines, and through them every write path but group commit's and
//! revisions'): numbered with the chat's next seq under the chat row's
//! lock, and linked into the chat's hash chain (`transcript::chain`).

/// `insert_message_tx!` found no chat row to number the message in: no such
/// chat, or the sender is not a participant.
#[derive(Debug)]
pub struct Refused;

/// Appends a message to a chat inside an open transaction, numbered with the
/// chat's next seq and linked into the chat's hash chain, and moves the
/// chat's last-message pointer and chain head. Group commit (`batch.rs`)
/// and edits (`revisions.rs`) do the same in their own statements.
///
/// Its first statement takes the seq by updating the chat's row, which locks
/// that row (PostgreSQL) or the database (SQLite) until the transaction
/// ends: writers of one chat queue there, so seq order is commit order on any
/// number of nodes. With `$member` = `Some(user)` the row only matches when
/// that user is a participant, so the membership check costs no round trip
/// and cannot race a change of membership.
///
/// Evaluates to `Err(Refused)` when the chat is missing or `$member` is not
/// in it, `Ok(None)` when `(sender, client_id)` was stored before (the seq
/// taken is given back at once, still under the row's lock, so no gap is
/// left and the transaction can go on), else `Ok(Some((id, seq)))`.
macro_rules! insert_message_tx {
    ($tx:expr, $chat:expr, $member:expr, $sender:expr, $kind:expr, $content:expr, $client_id:expr, $event:expr) => {{
        let at = $crate::storage::now();
        let member: Option<i64> = $member;
        let event: Option<String> = $event;
        let taken: Option<(i64, Option<String>)> = sqlx::query_as(
            "UPDATE chats SET last_seq = last_seq + 1 \
             WHERE id = $1 AND ($2 IS NULL OR EXISTS ( \
                 SELECT 1 FROM chat_participants WHERE chat_id = $1 AND user_id = $2 AND left_seq IS NULL)) \
             RETURNING last_seq, chain_head",
        )
        .bind($chat)
        .bind(member)
        .fetch_optional(&mut *$tx)
        .await?;
        match taken {
            None => Err($crate::storage::message_inserts::Refused),
            Some((seq, head)) => {
                let sender: Option<i64> = $sender;
                let kind: &str = $kind;
                let content: &str = ::std::convert::AsRef::<str>::as_ref(&$content);
                let chain = $crate::transcript::chain::next(
                    head.as_deref().unwrap_or($crate::transcript::chain::GENESIS),
                    &$crate::transcript::chain::Link {
                        chat: $chat,
                        seq,
                        kind,
                        change: None,
                        target: None,
                        sender,
                        at,
                        text: content,
                        event: event.as_deref(),
                    },
                );
                let inserted: Option<(i64,)> = sqlx::query_as(
                    "INSERT INTO messages (chat_id, seq, sender_id, kind, content, client_id, created_at, event, chain) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                     ON CONFLICT (chat_id, sender_id, client_id) DO NOTHING RETURNING id",
                )
                .bind($chat)
                .bind(seq)
                .bind(sender)
                .bind(kind)
                .bind(content)
                .bind($client_id)
                .bind(at)
                .bind(event.as_deref())
                .bind(&chain)
                .fetch_optional(&mut *$tx)
                .await?;
                match inserted {
                    Some((id,)) => {
                        sqlx::query(
                            "UPDATE chats SET last_message_id = $1, last_message_at = $2, chain_head = $4 WHERE id = $3",
                        )
                        .bind(id)
                        .bind(at)
                        .bind($chat)
                        .bind(&chain)
                        .execute(&mut *$tx)
                        .await?;
                        Ok(Some((id, seq)))
                    }
                    None => {
                        sqlx::query("UPDATE chats SET last_seq = last_seq - 1 WHERE id = $1")
                            .bind($chat)
                            .execute(&mut *$tx)
                            .await?;
                        Ok(None)
                    }
                }
            }
        }
    }};
}
pub(super) use insert_message_tx;

/// Appends a system message (no sender, no client id) inside an open
/// transaction: its English words and its typed event; evaluates to its
/// id. A missing chat is `NotFound`.
macro_rules! insert_system_message_tx {
    ($tx:expr, $chat:expr, $content:expr, $event:expr) => {{
        let event: &contract::model::SystemEvent = $event;
        let kind = contract::model::MessageKind::System.as_str();
        let json = serde_json::to_string(event)
            .map_err(|e| $crate::storage::StorageError::Corrupt(format!("system event: {e}")))?;
        match $crate::storage::message_inserts::insert_message_tx!(
            $tx,
            $chat,
            None,
            None::<i64>,
            kind,
            $content,
            None::<String>,
            Some(json)
        ) {
            Ok(Some((id, _seq))) => id,
            Ok(None) => {
                return Err($crate::storage::StorageError::Corrupt(
                    "system message not stored".into(),
                )
                .into());
            }
            Err($crate::storage::message_inserts::Refused) => {
                return Err($crate::storage::StorageError::NotFound.into());
            }
        }
    }};
}
pub(super) use insert_system_message_tx;
