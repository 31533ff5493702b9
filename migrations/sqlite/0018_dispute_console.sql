-- The dispute console and the verifiable transcript (issue #24). Keep
-- migrations/postgres/0018 in step; the comments there say why.
ALTER TABLE disputes ADD COLUMN outcome TEXT
    CHECK (outcome IN ('no_refund', 'partial_refund', 'full_refund', 'other'));
ALTER TABLE disputes ADD COLUMN refund_cents INTEGER CHECK (refund_cents > 0);
ALTER TABLE disputes ADD COLUMN currency TEXT;
UPDATE disputes SET outcome = 'other' WHERE status = 'resolved';
CREATE INDEX disputes_status ON disputes (status, id);

ALTER TABLE chats ADD COLUMN chain_head TEXT;
ALTER TABLE chats ADD COLUMN chain_from_seq INTEGER NOT NULL DEFAULT 1;
UPDATE chats SET chain_from_seq = last_seq + 1;
ALTER TABLE messages ADD COLUMN chain TEXT;

CREATE TRIGGER messages_chain_fixed BEFORE UPDATE OF chain ON messages
    WHEN OLD.chain IS NOT NULL AND NEW.chain IS NOT OLD.chain
BEGIN
    SELECT RAISE(ABORT, 'a message''s chain link never changes');
END;
