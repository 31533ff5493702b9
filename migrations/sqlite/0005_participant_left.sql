-- An LSM leaves the chat when they settle its dispute: left_seq is the
-- chat's seq at that moment (the resolution message). From then on they
-- read the transcript up to it and nothing after, are out of the live
-- room, cannot post and ring no bells; NULL means in the chat. A new
-- dispute in the chat brings the same LSM back (left_seq NULL again).
-- Keep migrations/postgres/0005 in step.

ALTER TABLE chat_participants ADD COLUMN left_seq INTEGER;
