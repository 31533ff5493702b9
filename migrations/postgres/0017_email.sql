-- Email to people who are away (issue #24). A stored message makes each
-- other participant's email about the chat due, in the same transaction
-- (one pending row per person and chat holds a whole burst); each node's
-- sender claims due rows (`claimed_until`) and closes them as sent,
-- skipped or failed. Keep migrations/sqlite/0017 in step.

CREATE TABLE email_outbox (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT  NOT NULL REFERENCES users (id),
    chat_id       BIGINT  NOT NULL REFERENCES chats (id),
    due_at        TIMESTAMPTZ NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sent', 'skipped', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    claimed_until TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL,
    sent_at       TIMESTAMPTZ,
    last_error    TEXT
);
CREATE UNIQUE INDEX email_outbox_one_pending ON email_outbox (user_id, chat_id) WHERE state = 'pending';
CREATE INDEX email_outbox_due ON email_outbox (due_at) WHERE state = 'pending';
CREATE INDEX email_outbox_sent ON email_outbox (user_id, chat_id, sent_at) WHERE state = 'sent';
CREATE INDEX email_outbox_chat ON email_outbox (chat_id);

-- The person's choices (README "Email when away"): email at all (the
-- unsubscribe link turns it off), minutes away before one (NULL: the
-- deployment's), quiet hours as minutes of the day in their time zone.
ALTER TABLE users ADD COLUMN email_notifications BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE users ADD COLUMN email_delay_minutes INTEGER;
ALTER TABLE users ADD COLUMN quiet_start INTEGER;
ALTER TABLE users ADD COLUMN quiet_end INTEGER;
ALTER TABLE users ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
-- A chat someone muted: no email and no bell for it, for them.
ALTER TABLE chat_participants ADD COLUMN muted BOOLEAN NOT NULL DEFAULT FALSE;
-- When their last tab closed; NULL while one is open (or never known).
ALTER TABLE users ADD COLUMN last_seen_at TIMESTAMPTZ;
