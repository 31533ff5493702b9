-- What follows the count in a bumped new-message notification's title
-- (" new messages from Bob — Fix the sink"): the bump that writes the
-- count happens in SQL, in the message's own transaction.
ALTER TABLE notifications ADD COLUMN title_suffix TEXT;
