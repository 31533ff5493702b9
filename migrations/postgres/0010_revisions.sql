-- Edits and deletions (issue #22). Each is a row of its own in `messages`
-- with the chat's next seq, so it rides the same order, catch-up and
-- idempotency (client_id) as any message: `change` says which, `target_id`
-- which message it changed. Its `content` stays empty (the search index
-- and unread counts skip it); the changed message holds its current text
-- (empty once deleted), when it was edited or deleted, and the seq of its
-- newest change, which clients compare so changes applied in any order end
-- in the same state. Every text it had before is kept in
-- `message_versions`, for the LSM of a dispute on the chat. Keep
-- migrations/sqlite/0010 in step.

ALTER TABLE messages ADD COLUMN change TEXT CHECK (change IN ('edit', 'delete'));
ALTER TABLE messages ADD COLUMN target_id BIGINT REFERENCES messages (id);
ALTER TABLE messages ADD COLUMN revised_seq BIGINT;
ALTER TABLE messages ADD COLUMN edited_at TIMESTAMPTZ;
ALTER TABLE messages ADD COLUMN deleted_at TIMESTAMPTZ;

-- A deletion is looked up by its target (deleting twice answers with the
-- first); only change rows are in it.
CREATE INDEX messages_target ON messages (target_id) WHERE target_id IS NOT NULL;

-- The texts a message had before each edit or its deletion, since when it
-- had each (sent or edited at), and the seq of the change that replaced
-- it; oldest first by id.
CREATE TABLE message_versions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id BIGINT NOT NULL REFERENCES messages (id),
    content    TEXT   NOT NULL,
    written_at TIMESTAMPTZ NOT NULL,
    -- The seq of the change that replaced it (what an LSM who left the
    -- chat at a seq may see stops there).
    replaced_seq BIGINT NOT NULL
);
CREATE INDEX message_versions_message ON message_versions (message_id, id);
