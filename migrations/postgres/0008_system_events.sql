-- System lines become typed events (app::model::SystemEvent, as JSON): the
-- browser renders the product's words itself and sets what people typed
-- apart, so a reason holding "\n\nLena resolved the dispute: …" can no
-- longer draw a fake settlement inside a genuine system bubble.
ALTER TABLE messages ADD COLUMN event TEXT;

-- Lines stored before: taken apart at the first occurrence of the
-- product's own words, in the order they were written by server/src/texts.rs.
UPDATE messages SET event = json_build_object('type', 'job_booked', 'title', substr(content, 13))::text
WHERE kind = 'system' AND event IS NULL AND substr(content, 1, 12) = 'Job booked: ';

UPDATE messages SET event = json_build_object(
    'type', 'dispute_opened',
    'raisedByName', substr(content, 1, strpos(content, ' opened a dispute and added ') - 1),
    'lsmName', substr(
        substr(content, strpos(content, ' opened a dispute and added ') + 28), 1,
        strpos(substr(content, strpos(content, ' opened a dispute and added ') + 28),
               ' (local service manager). Reason: ') - 1),
    'reason', substr(
        substr(content, strpos(content, ' opened a dispute and added ') + 28),
        strpos(substr(content, strpos(content, ' opened a dispute and added ') + 28),
               ' (local service manager). Reason: ') + 34))::text
WHERE kind = 'system' AND event IS NULL
  AND strpos(content, ' opened a dispute and added ') > 0
  AND strpos(substr(content, strpos(content, ' opened a dispute and added ') + 28),
             ' (local service manager). Reason: ') > 0;

UPDATE messages SET event = json_build_object(
    'type', 'dispute_resolved',
    'lsmName', substr(content, 1, strpos(content, ' resolved the dispute: ') - 1),
    'resolution', substr(content, strpos(content, ' resolved the dispute: ') + 23))::text
WHERE kind = 'system' AND event IS NULL AND strpos(content, ' resolved the dispute: ') > 0;

UPDATE messages SET event = json_build_object('type', 'note', 'text', content)::text
WHERE kind = 'system' AND event IS NULL;
