-- Search over people's messages (not system lines): each message's words
-- in the 'simple' configuration (lower-cased, no stemming, no stop words: a
-- marketplace's chats are in many languages), stored with the row and
-- indexed with GIN. Stored rather than computed in the query: a search
-- that starts from the user's chats (the plan PostgreSQL picks for most
-- users) then checks each of their messages without re-parsing its text;
-- scripts/search-probe (2,000,000 messages, docs/benchmarks.md) measured
-- it 3x faster for an LSM in 5,000 chats. Adding the column rewrites the
-- table once. Keep migrations/sqlite/0009 in step.

ALTER TABLE messages ADD COLUMN search tsvector
    GENERATED ALWAYS AS (
        CASE WHEN kind = 'user' THEN to_tsvector('simple', content) END
    ) STORED;

CREATE INDEX messages_search ON messages USING GIN (search);
