-- Contact masking (issue #23): when masking changed a message, `content`
-- holds what everyone sees (contact details replaced by markers) and
-- `original` what its sender wrote, which only the LSM of a dispute on the
-- chat reads (through its versions) and search never sees. NULL when
-- nothing was masked. Keep both folders' 0014 in step.
ALTER TABLE messages ADD COLUMN original TEXT;
