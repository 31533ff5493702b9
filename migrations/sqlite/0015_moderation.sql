-- Moderation (issue #23): reports and auto-flags (one queue), blocks,
-- suspensions, messages a moderator removed, and the append-only log of
-- every moderation action. Keep migrations/postgres/0015 in step.
--
-- `reports` names chats, messages and users by id without foreign keys to
-- chats and messages: an item and its evidence outlive a chat deleted by
-- the retention rule (which never deletes a chat with an open item).

CREATE TABLE reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL CHECK (kind IN ('report', 'flag')),
    category    TEXT    NOT NULL CHECK (category IN ('harassment', 'spam', 'off_platform_payment',
                    'fraud', 'other', 'repeated_contact', 'new_account_burst')),
    -- NULL for an auto-flag.
    reporter_id INTEGER REFERENCES users (id),
    subject_id  INTEGER NOT NULL REFERENCES users (id),
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER,
    -- The message as its sender wrote it when it was reported.
    evidence    TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'dismissed', 'actioned')),
    created_at  TEXT    NOT NULL,
    closed_at   TEXT,
    closed_by   INTEGER REFERENCES users (id)
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
    blocker_id INTEGER NOT NULL REFERENCES users (id),
    blocked_id INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT    NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id, blocker_id);

-- Suspended until then; '9999-12-31…' is for good. NULL: not suspended.
ALTER TABLE users ADD COLUMN suspended_until TEXT;
ALTER TABLE users ADD COLUMN suspension_reason TEXT;

-- The moderator who removed the message (it is then also deleted).
ALTER TABLE messages ADD COLUMN hidden_by INTEGER REFERENCES users (id);

CREATE TABLE moderation_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT    NOT NULL,
    actor_id    INTEGER NOT NULL REFERENCES users (id),
    actor_name  TEXT    NOT NULL,
    action      TEXT    NOT NULL CHECK (action IN ('dismiss', 'hide', 'warn', 'suspend', 'lift')),
    item_id     INTEGER,
    subject_id  INTEGER,
    subject_name TEXT,
    chat_id     INTEGER,
    message_id  INTEGER,
    reason      TEXT    NOT NULL,
    detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX moderation_log_subject ON moderation_log (subject_id, id);

-- Append-only: nothing a moderator did can be changed or taken back out.
CREATE TRIGGER moderation_log_no_update BEFORE UPDATE ON moderation_log
BEGIN
    SELECT RAISE(ABORT, 'moderation_log is append-only');
END;
CREATE TRIGGER moderation_log_no_delete BEFORE DELETE ON moderation_log
BEGIN
    SELECT RAISE(ABORT, 'moderation_log is append-only');
END;
