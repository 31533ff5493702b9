-- Attachments (issue #22): what is known about each uploaded file; its
-- bytes are in the object store under `object_key` (and a thumbnail under
-- `thumbnail_key`). A file is uploaded before its message is sent, under
-- the message's client id: the message (chat, sender, client_id) carries
-- every file uploaded for it, so a message is never stored without its
-- files, and a file whose message never came is swept after a day.
-- Keep migrations/sqlite/0011 in step.

CREATE TABLE attachments (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    chat_id        BIGINT  NOT NULL REFERENCES chats (id),
    uploader_id    BIGINT  NOT NULL REFERENCES users (id),
    client_id      TEXT    NOT NULL,
    name           TEXT    NOT NULL,
    mime           TEXT    NOT NULL,
    size           BIGINT  NOT NULL,
    width          INTEGER,
    height         INTEGER,
    sha256         TEXT    NOT NULL,
    object_key     TEXT    NOT NULL,
    thumbnail_key  TEXT,
    thumbnail_mime TEXT,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachments_message ON attachments (chat_id, client_id, uploader_id);
CREATE INDEX attachments_created ON attachments (created_at);
