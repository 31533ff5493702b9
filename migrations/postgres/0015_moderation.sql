-- Moderation (issue #23): reports and auto-flags (one queue), blocks,
-- suspensions, messages a moderator removed, and the append-only log of
-- every moderation action. Keep migrations/sqlite/0015 in step.
--
-- `reports` names chats, messages and users by id without foreign keys to
-- chats and messages: an item and its evidence outlive a chat deleted by
-- the retention rule (which never deletes a chat with an open item).

CREATE TABLE reports (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT        NOT NULL CHECK (kind IN ('report', 'flag')),
    category    TEXT        NOT NULL CHECK (category IN ('harassment', 'spam', 'off_platform_payment',
                    'fraud', 'other', 'repeated_contact', 'new_account_burst')),
    -- NULL for an auto-flag.
    reporter_id BIGINT REFERENCES users (id),
    subject_id  BIGINT      NOT NULL REFERENCES users (id),
    chat_id     BIGINT      NOT NULL,
    message_id  BIGINT,
    -- The message as its sender wrote it when it was reported.
    evidence    TEXT        NOT NULL DEFAULT '',
    note        TEXT        NOT NULL DEFAULT '',
    status      TEXT        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'actioned')),
    created_at  TIMESTAMPTZ NOT NULL,
    closed_at   TIMESTAMPTZ,
    closed_by   BIGINT REFERENCES users (id)
);
CREATE INDEX reports_by_status ON reports (status, id);
CREATE INDEX reports_subject ON reports (subject_id);
CREATE INDEX reports_reporter ON reports (reporter_id);
CREATE INDEX reports_chat ON reports (chat_id, status);
-- Reporting the same message twice files one report.
CREATE UNIQUE INDEX reports_once_per_message ON reports (reporter_id, message_id)
    WHERE kind = 'report' AND message_id IS NOT NULL;
-- An auto-flag is raised once per person, reason and chat.
CREATE UNIQUE INDEX flags_once ON reports (subject_id, category, chat_id) WHERE kind = 'flag';
-- A new account writing in many chats is flagged once, not once per chat.
CREATE UNIQUE INDEX flags_new_account_once ON reports (subject_id)
    WHERE kind = 'flag' AND category = 'new_account_burst';

CREATE TABLE blocks (
    blocker_id BIGINT      NOT NULL REFERENCES users (id),
    blocked_id BIGINT      NOT NULL REFERENCES users (id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id, blocker_id);

-- Suspended until then; year 9999 is for good. NULL: not suspended.
ALTER TABLE users ADD COLUMN suspended_until TIMESTAMPTZ;
ALTER TABLE users ADD COLUMN suspension_reason TEXT;

-- The moderator who removed the message (it is then also deleted).
ALTER TABLE messages ADD COLUMN hidden_by BIGINT REFERENCES users (id);

CREATE TABLE moderation_log (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    BIGINT      NOT NULL REFERENCES users (id),
    actor_name  TEXT        NOT NULL,
    action      TEXT        NOT NULL CHECK (action IN ('dismiss', 'hide', 'warn', 'suspend', 'lift')),
    item_id     BIGINT,
    subject_id  BIGINT,
    subject_name TEXT,
    chat_id     BIGINT,
    message_id  BIGINT,
    reason      TEXT        NOT NULL,
    detail      TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX moderation_log_subject ON moderation_log (subject_id, id);

-- Append-only: nothing a moderator did can be changed or taken back out.
CREATE FUNCTION moderation_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'moderation_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER moderation_log_no_change BEFORE UPDATE OR DELETE ON moderation_log
    FOR EACH ROW EXECUTE FUNCTION moderation_log_append_only();
CREATE TRIGGER moderation_log_no_truncate BEFORE TRUNCATE ON moderation_log
    FOR EACH STATEMENT EXECUTE FUNCTION moderation_log_append_only();
