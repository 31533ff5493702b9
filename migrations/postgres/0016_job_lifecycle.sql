-- A job's life after booking (issue #24, used by contact masking's
-- `until_started`): when the provider confirmed, started and completed it,
-- or the customer cancelled it. `status` keeps its four values (booked,
-- in_progress, completed, cancelled); a booked job with `confirmed_at` is
-- confirmed. Keep migrations/sqlite/0016 in step.
ALTER TABLE jobs ADD COLUMN confirmed_at TIMESTAMPTZ;
ALTER TABLE jobs ADD COLUMN started_at TIMESTAMPTZ;
ALTER TABLE jobs ADD COLUMN completed_at TIMESTAMPTZ;
ALTER TABLE jobs ADD COLUMN cancelled_at TIMESTAMPTZ;
