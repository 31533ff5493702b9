-- Nothing to change here: SQLite's search index became one keyed by chat
-- in its migration 0012 (migrations/sqlite/0012_search_by_chat.sql).
-- PostgreSQL's search starts from the caller's chats already (the stored
-- tsvector of migration 0009, checked per message of those chats), so its
-- cost does not grow with the archive (docs/benchmarks.md). Kept so both
-- folders have the same versions.
SELECT 1;
