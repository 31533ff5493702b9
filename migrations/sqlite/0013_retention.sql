-- A chat's retention rule (JOBCHAT_CHAT_RETENTION_DAYS): a chat quiet for
-- longer is deleted with everything in it. Its rows go in one transaction,
-- which also queues its files' objects here; the store's objects are
-- deleted afterwards, then their rows here (service/retention.rs), so a
-- crash in between leaves a queued key, never an object nobody knows of.
-- Keep migrations/postgres/0013 in step.

CREATE TABLE object_deletions (
    object_key TEXT PRIMARY KEY,
    queued_at  TEXT NOT NULL
);
