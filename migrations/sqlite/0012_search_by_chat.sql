-- The search index keyed by chat: each word of a message is one token
-- `c<chat>x<word>` (storage/search.rs, `chat_words`), so a search reads its
-- caller's chats' entries only and its cost does not grow with the archive
-- (with the word and the chat as two columns, FTS5 walked the word's
-- entries in every chat: docs/benchmarks.md).
-- The server writes the tokens as it stores, edits and deletes messages
-- (the words are cut in Rust, exactly as a query's are); no trigger can.
-- Contentless, like the index it replaces; an edit or deletion takes the
-- old tokens out with FTS5's 'delete' command.
-- Messages stored before this migration are indexed by the server right
-- after it (`Db::migrate`), a batch at a time from `search_reindex.next_id`,
-- before it serves anyone.

DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_insert;
DROP TABLE messages_fts;

CREATE VIRTUAL TABLE message_words USING fts5(
    words,
    content = '',
    tokenize = 'unicode61 remove_diacritics 0'
);

CREATE TABLE search_reindex (next_id INTEGER NOT NULL);
INSERT INTO search_reindex (next_id) VALUES (0);
