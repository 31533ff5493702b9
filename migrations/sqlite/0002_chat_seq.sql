-- One gap-free order per chat: every message gets seq 1, 2, 3, … within its
-- chat, taken from chats.last_seq in the transaction that stores the message
-- (the UPDATE of the chat's row serialises writers of one chat), so seq order
-- is commit order on any number of nodes. Keep migrations/postgres/0002 in step.

ALTER TABLE chats ADD COLUMN last_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE chat_participants ADD COLUMN last_read_seq BIGINT NOT NULL DEFAULT 0;

-- Existing messages are numbered in id order.
UPDATE messages SET seq = (
    SELECT COUNT(*) FROM messages older
    WHERE older.chat_id = messages.chat_id AND older.id <= messages.id
);
UPDATE chats SET last_seq = COALESCE((SELECT MAX(seq) FROM messages WHERE chat_id = chats.id), 0);
UPDATE chat_participants SET last_read_seq = COALESCE((
    SELECT MAX(seq) FROM messages
    WHERE chat_id = chat_participants.chat_id AND id <= chat_participants.last_read_message_id
), 0);

-- messages_chat_page (chat_id, id) stays: id-based cursors of older clients
-- are translated to seqs through it.
CREATE UNIQUE INDEX messages_chat_seq ON messages (chat_id, seq);
