//! The one integration-test binary: every case runs against SQLite (a temp
//! file) and PostgreSQL (a fresh database on 127.0.0.1:5432, dropped after);
//! the `cluster` cases run several nodes on PostgreSQL and Redis.

mod helpers;

mod accounts;
mod attachments;
mod bells;
mod cases;
mod chats;
mod churn;
mod cluster;
mod cluster_failover;
mod disputes;
mod emails;
mod faults;
mod hostile;
mod jobs;
mod left_rooms;
mod masking;
mod migrations;
mod moderation;
mod moderation_matrix;
mod openapi;
mod private_pg;
mod read_replica;
mod realtime;
mod retention;
mod revisions;
mod search;
mod security;
mod server_fns;
mod sessions;
mod slow_redis;
mod storage;
mod transcripts;
