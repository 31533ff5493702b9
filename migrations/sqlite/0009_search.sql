-- Search over people's messages (not system lines): an FTS5 index of each
-- message's words and, as a second column, its chat as one token ("c12"),
-- so a search can name the caller's chats inside the match and FTS5 reads
-- only their entries (scripts/search-probe: a common word among 2,000,000
-- messages, 116 ms unfiltered, 10 ms for a caller in 20 chats).
-- Contentless (the text stays in messages); a later edit or deletion
-- takes a message out with FTS5's 'delete' command and the old values.
-- (Not `contentless_delete`: SQLite older than 3.43, such as Debian's
-- sqlite3 shell, could not open the file.) Kept by a trigger as messages
-- are inserted (they are never updated or deleted today).
-- unicode61 without diacritics folding, so words match as in PostgreSQL's
-- 'simple' configuration. Keep migrations/postgres/0009 in step.

CREATE VIRTUAL TABLE messages_fts USING fts5(
    content,
    chat,
    content = '',
    tokenize = 'unicode61 remove_diacritics 0'
);

INSERT INTO messages_fts (rowid, content, chat)
    SELECT id, content, 'c' || chat_id FROM messages WHERE kind = 'user';

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.kind = 'user'
BEGIN
    INSERT INTO messages_fts (rowid, content, chat)
        VALUES (new.id, new.content, 'c' || new.chat_id);
END;
