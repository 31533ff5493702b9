-- Edits and deletions (issue #22). Each is a row of its own in `messages`
-- with the chat's next seq, so it rides the same order, catch-up and
-- idempotency (client_id) as any message: `change` says which, `target_id`
-- which message it changed. Its `content` stays empty (the search index
-- and unread counts skip it); the changed message holds its current text
-- (empty once deleted), when it was edited or deleted, and the seq of its
-- newest change, which clients compare so changes applied in any order end
-- in the same state. Every text it had before is kept in
-- `message_versions`, for the LSM of a dispute on the chat. Keep
-- migrations/postgres/0010 in step.

ALTER TABLE messages ADD COLUMN change TEXT CHECK (change IN ('edit', 'delete'));
ALTER TABLE messages ADD COLUMN target_id INTEGER REFERENCES messages (id);
ALTER TABLE messages ADD COLUMN revised_seq INTEGER;
ALTER TABLE messages ADD COLUMN edited_at TEXT;
ALTER TABLE messages ADD COLUMN deleted_at TEXT;

CREATE INDEX messages_target ON messages (target_id) WHERE target_id IS NOT NULL;

CREATE TABLE message_versions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id INTEGER NOT NULL REFERENCES messages (id),
    content    TEXT    NOT NULL,
    written_at TEXT    NOT NULL,
    replaced_seq INTEGER NOT NULL
);
CREATE INDEX message_versions_message ON message_versions (message_id, id);

-- The search index follows the text: change rows are not indexed, and an
-- edited or deleted message's old words leave it (FTS5's 'delete' command
-- takes the values that were indexed) before its new ones go in.
DROP TRIGGER messages_fts_insert;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.kind = 'user' AND new.target_id IS NULL
BEGIN
    INSERT INTO messages_fts (rowid, content, chat)
        VALUES (new.id, new.content, 'c' || new.chat_id);
END;

CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages
WHEN old.kind = 'user' AND old.target_id IS NULL
BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content, chat)
        VALUES ('delete', old.id, old.content, 'c' || old.chat_id);
    INSERT INTO messages_fts (rowid, content, chat)
        VALUES (new.id, new.content, 'c' || new.chat_id);
END;
