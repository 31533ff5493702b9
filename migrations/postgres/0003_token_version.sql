-- Revocation. Every token carries its user's token_version (the `ver`
-- claim) and is refused once the row's has moved on: logout everywhere, a
-- password change, a role change and deleting the account bump it.
-- Keep migrations/sqlite/0003 in step.

ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;

-- Set when an operator deletes the account: sign-in and every token are
-- refused from then on. The row stays, so chats keep their history and names.
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMPTZ;
