-- Sessions ended by signing out. Every token names its session (the `sid`
-- claim); a token whose session is listed here is refused, as one whose
-- `ver` is behind the account's is (0003). A row is needed only while a
-- token of that session could still be valid, so each keeps the token's
-- expiry (`exp`, unix seconds) and a periodic sweep deletes the expired.
-- Keep migrations/postgres/0007 in step.

CREATE TABLE revoked_sessions (
    sid        TEXT   NOT NULL PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_sessions_expiry ON revoked_sessions (expires_at);
