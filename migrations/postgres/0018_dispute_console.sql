-- The dispute console and the verifiable transcript (issue #24). Keep
-- migrations/sqlite/0018 in step.
--
-- A settlement's structured outcome: `resolution` stays the note both
-- parties read; settlements from before outcomes read as `other`.
ALTER TABLE disputes ADD COLUMN outcome TEXT
    CHECK (outcome IN ('no_refund', 'partial_refund', 'full_refund', 'other'));
ALTER TABLE disputes ADD COLUMN refund_cents BIGINT CHECK (refund_cents > 0);
ALTER TABLE disputes ADD COLUMN currency TEXT;
UPDATE disputes SET outcome = 'other' WHERE status = 'resolved';
CREATE INDEX disputes_status ON disputes (status, id);

-- Each chat's messages form a hash chain: a message's `chain` is the
-- SHA-256 of its content as stored and the previous message's `chain`
-- (server/src/transcript/chain.rs), computed in the transaction that
-- stores it, under the chat row's lock. `chain_head` is the newest link.
-- Messages stored before this migration are not in any chain: a chat's
-- chain starts at `chain_from_seq`.
ALTER TABLE chats ADD COLUMN chain_head TEXT;
ALTER TABLE chats ADD COLUMN chain_from_seq BIGINT NOT NULL DEFAULT 1;
UPDATE chats SET chain_from_seq = last_seq + 1;
ALTER TABLE messages ADD COLUMN chain TEXT;

-- A link, once written, never changes.
CREATE FUNCTION messages_chain_fixed() RETURNS trigger AS $$
BEGIN
    IF OLD.chain IS NOT NULL AND NEW.chain IS DISTINCT FROM OLD.chain THEN
        RAISE EXCEPTION 'a message''s chain link never changes';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER messages_chain_fixed BEFORE UPDATE OF chain ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_chain_fixed();
