-- The newest message seq a new-message notification stands for: reading a
-- chat up to seq N clears that chat's bell entries up to N (and recounts a
-- newer one), so the bell and the chat's unread badge agree.
ALTER TABLE notifications ADD COLUMN seq BIGINT;
