-- The whole jobchat schema. Keep migrations/postgres/0001_schema.sql in step:
-- same version, same name, same tables and constraints.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT    NOT NULL,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('customer', 'provider', 'lsm')),
    password_hash TEXT    NOT NULL,
    created_at    TEXT    NOT NULL
);
-- Emails are unique whatever their case.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_role ON users (role, id);

CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER NOT NULL REFERENCES users (id),
    provider_id INTEGER NOT NULL REFERENCES users (id),
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL DEFAULT 'booked'
                CHECK (status IN ('booked', 'in_progress', 'completed', 'cancelled')),
    created_at  TEXT    NOT NULL
);
CREATE INDEX jobs_customer ON jobs (customer_id);
CREATE INDEX jobs_provider ON jobs (provider_id);

CREATE TABLE chats (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id          INTEGER NOT NULL UNIQUE REFERENCES jobs (id),
    lsm_invited     BOOLEAN NOT NULL DEFAULT FALSE,
    -- Denormalised from messages so the chat list sorts without scanning them.
    last_message_id INTEGER,
    last_message_at TEXT,
    created_at      TEXT    NOT NULL
);

CREATE TABLE chat_participants (
    chat_id              INTEGER NOT NULL REFERENCES chats (id),
    user_id              INTEGER NOT NULL REFERENCES users (id),
    role                 TEXT    NOT NULL CHECK (role IN ('customer', 'provider', 'lsm')),
    joined_at            TEXT    NOT NULL,
    last_read_message_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, user_id)
);
CREATE INDEX chat_participants_user ON chat_participants (user_id, chat_id);

CREATE TABLE messages (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL REFERENCES chats (id),
    -- NULL for system messages ("Job booked", "LSM joined").
    sender_id  INTEGER REFERENCES users (id),
    kind       TEXT    NOT NULL CHECK (kind IN ('user', 'system')),
    content    TEXT    NOT NULL,
    -- The sender's idempotency key: a resend with the same one stores nothing new.
    client_id  TEXT,
    created_at TEXT    NOT NULL
);
CREATE UNIQUE INDEX messages_client_key ON messages (chat_id, sender_id, client_id);
CREATE INDEX messages_chat_page ON messages (chat_id, id);

CREATE TABLE disputes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL REFERENCES chats (id),
    raised_by   INTEGER NOT NULL REFERENCES users (id),
    lsm_id      INTEGER NOT NULL REFERENCES users (id),
    reason      TEXT    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    resolution  TEXT,
    created_at  TEXT    NOT NULL,
    resolved_at TEXT
);
-- At most one open dispute per chat, enforced by the database under races.
CREATE UNIQUE INDEX disputes_one_open_per_chat ON disputes (chat_id) WHERE status = 'open';
CREATE INDEX disputes_lsm ON disputes (lsm_id, status);

CREATE TABLE notifications (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    kind       TEXT    NOT NULL,
    chat_id    INTEGER REFERENCES chats (id),
    title      TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    -- Coalesced new-message notifications count the messages they stand for.
    count      INTEGER NOT NULL DEFAULT 1,
    read_at    TEXT,
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, id);
-- One unread new-message notification per user and chat: later messages bump it.
CREATE UNIQUE INDEX notifications_coalesce ON notifications (user_id, chat_id, kind)
    WHERE read_at IS NULL AND kind = 'new_message';
