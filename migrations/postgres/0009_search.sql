-- Search over people's messages (not system lines): a GIN index over the
-- words of messages.content in the 'simple' configuration (lower-cased, no
-- stemming, no stop words: a marketplace's chats are in many languages).
-- Queries must use the same expression and predicate to use it. Keep
-- migrations/sqlite/0009 in step.

CREATE INDEX messages_search ON messages
    USING GIN (to_tsvector('simple', content))
    WHERE kind = 'user';
