-- Search over people's messages (not system lines): an FTS5 index over
-- messages.content, kept by a trigger as messages are inserted (they are
-- never updated or deleted today; the edit/delete work adds its triggers).
-- unicode61 without diacritics folding, so words match as in PostgreSQL's
-- 'simple' configuration. Keep migrations/postgres/0009 in step.

CREATE VIRTUAL TABLE messages_fts USING fts5(
    content,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 0'
);

INSERT INTO messages_fts (rowid, content)
    SELECT id, content FROM messages WHERE kind = 'user';

CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
WHEN new.kind = 'user'
BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
