//! Who is online and who is in which chat room, over all nodes.
//!
//! Each socket's facts are Redis set members: `jobchat:on:USER` holds one
//! member per connected socket of that user, `jobchat:room:CHAT:USER` one
//! per socket of that user in the chat's room. A member is `NODE|SID`.
//! Adding and removing run as Lua scripts on that one set that also answer
//! "was this the first / the last", so "came online", "went offline",
//! `user_joined` and `user_left` are each announced once per user across
//! nodes.
//!
//! A node that dies without a goodbye cannot remove its members, so every
//! node also lists what it added (`jobchat:{node:NODE}:entries`) and keeps a
//! heartbeat key alive (`jobchat:{node:NODE}:alive`, 15 s). Every node sweeps
//! every 5 s: a listed node whose heartbeat lapsed is reaped by whichever
//! node claims it first, which removes its members and announces whoever
//! that left offline or out of a room.
//!
//! The list and the set are two keys in two hash slots, so on a Redis
//! Cluster they cannot change in one script. The order keeps them honest
//! through a crash in between: an entry is listed before its member is
//! added and unlisted after its member is removed, so a member is never
//! left without the listing that lets a reaper remove it, and removing a
//! member twice announces nothing the second time.

use super::{Cluster, Result};
use contract::model::{ChatId, UserId};
use redis::Script;
use std::collections::HashSet;
use std::sync::LazyLock;
use std::time::Duration;

/// How long a heartbeat keeps a node alive…
pub const HEARTBEAT_TTL: Duration = Duration::from_secs(15);
/// …and how often each node renews it and sweeps for dead nodes.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

/// One fact about one socket.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Entry {
    Online {
        user: UserId,
        sid: String,
    },
    InRoom {
        chat: ChatId,
        user: UserId,
        sid: String,
    },
}

/// What a removal left behind: a user with no socket left anywhere, or no
/// socket left in a chat's room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Departed {
    Offline(UserId),
    LeftRoom { chat: ChatId, user: UserId },
}

impl Entry {
    fn encode(&self) -> String {
        match self {
            Self::Online { user, sid } => format!("on|{user}|{sid}"),
            Self::InRoom { chat, user, sid } => format!("room|{chat}|{user}|{sid}"),
        }
    }

    fn decode(s: &str) -> Option<Self> {
        let mut parts = s.split('|');
        match parts.next()? {
            "on" => Some(Self::Online {
                user: parts.next()?.parse().ok()?,
                sid: parts.next()?.to_owned(),
            }),
            "room" => Some(Self::InRoom {
                chat: parts.next()?.parse().ok()?,
                user: parts.next()?.parse().ok()?,
                sid: parts.next()?.to_owned(),
            }),
            _ => None,
        }
    }

    /// The set this entry is a member of.
    fn set_key(&self, cluster: &Cluster) -> String {
        match self {
            Self::Online { user, .. } => cluster.key(format_args!("on:{user}")),
            Self::InRoom { chat, user, .. } => cluster.key(format_args!("room:{chat}:{user}")),
        }
    }

    fn sid(&self) -> &str {
        match self {
            Self::Online { sid, .. } | Self::InRoom { sid, .. } => sid,
        }
    }

    fn departed(&self) -> Departed {
        match self {
            Self::Online { user, .. } => Departed::Offline(*user),
            Self::InRoom { chat, user, .. } => Departed::LeftRoom {
                chat: *chat,
                user: *user,
            },
        }
    }
}

/// KEYS: the entry's set. ARGV: the member. Returns 1 when the member is
/// the set's first.
static ADD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local added = redis.call('SADD', KEYS[1], ARGV[1])
          if added == 1 and redis.call('SCARD', KEYS[1]) == 1 then return 1 end
          return 0",
    )
});

/// KEYS and ARGV as `ADD`. Returns 1 when the member was the set's last.
static REMOVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local removed = redis.call('SREM', KEYS[1], ARGV[1])
          if removed == 1 and redis.call('SCARD', KEYS[1]) == 0 then return 1 end
          return 0",
    )
});

impl Cluster {
    fn nodes_key(&self) -> String {
        self.key(format_args!("nodes"))
    }
    // One node's keys share a hash tag, so they live in one slot.
    fn entries_key(&self, node: &str) -> String {
        self.key(format_args!("{{node:{node}}}:entries"))
    }
    fn alive_key(&self, node: &str) -> String {
        self.key(format_args!("{{node:{node}}}:alive"))
    }
    fn reaper_key(&self, node: &str) -> String {
        self.key(format_args!("{{node:{node}}}:reaper"))
    }
    /// A node's key as the release before hash tags named it
    /// (`node:ID:entries`, `node:ID:alive`), read while reaping so a rolling
    /// upgrade leaves nothing behind.
    fn legacy_key(&self, node: &str, what: &str) -> String {
        self.key(format_args!("node:{node}:{what}"))
    }
    fn member(node: &str, entry: &Entry) -> String {
        format!("{node}|{}", entry.sid())
    }

    /// Records a fact of this node; true when it is the first of its kind
    /// (the user's first socket anywhere, or first in that room).
    pub async fn enter(&self, entry: &Entry) -> Result<bool> {
        let mut conn = self.conn();
        let _: () = redis::cmd("SADD")
            .arg(self.entries_key(self.node()))
            .arg(entry.encode())
            .query_async(&mut conn)
            .await?;
        let first: i64 = ADD
            .key(entry.set_key(self))
            .arg(Self::member(self.node(), entry))
            .invoke_async(&mut conn)
            .await?;
        Ok(first == 1)
    }

    /// Removes a fact of this node; true when it was the last of its kind.
    pub async fn leave(&self, entry: &Entry) -> Result<bool> {
        self.remove(self.node(), entry).await
    }

    async fn remove(&self, node: &str, entry: &Entry) -> Result<bool> {
        let mut conn = self.conn();
        let last: i64 = REMOVE
            .key(entry.set_key(self))
            .arg(Self::member(node, entry))
            .invoke_async(&mut conn)
            .await?;
        let _: () = redis::cmd("SREM")
            .arg(self.entries_key(node))
            .arg(entry.encode())
            .query_async(&mut conn)
            .await?;
        Ok(last == 1)
    }

    /// Which of `users` have a socket on any node.
    pub async fn online(&self, users: &[UserId]) -> Result<HashSet<UserId>> {
        if users.is_empty() {
            return Ok(HashSet::new());
        }
        // One command per user, all in flight at once on the multiplexed
        // connection (a pipeline would have to stay in one slot).
        let found = futures_util::future::try_join_all(users.iter().map(|user| {
            let mut conn = self.conn();
            let key = self.key(format_args!("on:{user}"));
            async move {
                redis::cmd("EXISTS")
                    .arg(key)
                    .query_async::<bool>(&mut conn)
                    .await
            }
        }))
        .await?;
        Ok(users
            .iter()
            .zip(found)
            .filter_map(|(u, on)| on.then_some(*u))
            .collect())
    }

    /// Renews this node's heartbeat. Returns false when the heartbeat was
    /// gone (the first beat, or Redis lost it: restarted empty, or this node
    /// stalled past the TTL): the caller then writes its facts back.
    pub async fn heartbeat(&self) -> Result<bool> {
        let node = self.node();
        // The heartbeat before the listing: a sweeping node never sees
        // this node listed without its heartbeat.
        let mut conn = self.conn();
        let previous: Option<String> = redis::cmd("SET")
            .arg(self.alive_key(node))
            .arg(1)
            .arg("EX")
            .arg(HEARTBEAT_TTL.as_secs())
            .arg("GET")
            .query_async(&mut conn)
            .await?;
        let _: () = redis::cmd("SADD")
            .arg(self.nodes_key())
            .arg(node)
            .query_async(&mut conn)
            .await?;
        Ok(previous.is_some())
    }

    /// Makes Redis hold exactly `local` for this node, after Redis lost
    /// updates (it was down, or restarted empty). Returns what that removed
    /// (sockets that closed meanwhile) and what it added as first of its
    /// kind, for the caller to announce.
    pub async fn resync(&self, local: &[Entry]) -> Result<(Vec<Departed>, Vec<Entry>)> {
        let node = self.node();
        let listed: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.entries_key(node))
            .query_async(&mut self.conn())
            .await?;
        let keep: HashSet<&Entry> = local.iter().collect();
        let mut departed = Vec::new();
        for stale in listed.iter().filter_map(|s| Entry::decode(s)) {
            if !keep.contains(&stale) && self.remove(node, &stale).await? {
                departed.push(stale.departed());
            }
        }
        let mut arrived = Vec::new();
        for entry in local {
            if self.enter(entry).await? {
                arrived.push(entry.clone());
            }
        }
        Ok((departed, arrived))
    }

    /// Removes what dead nodes left behind (those whose heartbeat lapsed),
    /// each dead node by one live node only.
    pub async fn reap(&self) -> Result<Vec<Departed>> {
        let nodes: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.nodes_key())
            .query_async(&mut self.conn())
            .await?;
        let mut departed = Vec::new();
        for node in nodes.iter().filter(|n| n.as_str() != self.node()) {
            // A node of the release before hash tags beats under the old
            // key (`legacy`): alive all the same during a rolling upgrade.
            let mut alive = false;
            for key in [self.alive_key(node), self.legacy_key(node, "alive")] {
                alive |= redis::cmd("EXISTS")
                    .arg(key)
                    .query_async::<bool>(&mut self.conn())
                    .await?;
            }
            if alive {
                continue;
            }
            let claim = self.reaper_key(node);
            let claimed: Option<String> = redis::cmd("SET")
                .arg(&claim)
                .arg(self.node())
                .arg("NX")
                .arg("EX")
                .arg(60)
                .query_async(&mut self.conn())
                .await?;
            if claimed.is_none() {
                continue;
            }
            let mut listed: Vec<String> = Vec::new();
            for key in [self.entries_key(node), self.legacy_key(node, "entries")] {
                listed.extend(
                    redis::cmd("SMEMBERS")
                        .arg(key)
                        .query_async::<Vec<String>>(&mut self.conn())
                        .await?,
                );
            }
            tracing::warn!(node = %node, entries = listed.len(), "reaping a node that stopped without a goodbye");
            for entry in listed.iter().filter_map(|s| Entry::decode(s)) {
                if self.remove(node, &entry).await? {
                    departed.push(entry.departed());
                }
            }
            let mut conn = self.conn();
            for key in [self.entries_key(node), self.legacy_key(node, "entries")] {
                redis::cmd("DEL")
                    .arg(key)
                    .query_async::<()>(&mut conn)
                    .await?;
            }
            redis::cmd("SREM")
                .arg(self.nodes_key())
                .arg(node)
                .query_async::<()>(&mut conn)
                .await?;
        }
        Ok(departed)
    }

    /// A graceful stop: the heartbeat goes at once, so the other nodes reap
    /// whatever this node's sockets did not remove themselves within one sweep.
    pub async fn retire(&self) -> Result<()> {
        redis::cmd("DEL")
            .arg(self.alive_key(self.node()))
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip() {
        for e in [
            Entry::Online {
                user: 7,
                sid: "abc".into(),
            },
            Entry::InRoom {
                chat: 3,
                user: 7,
                sid: "x-Y_z".into(),
            },
        ] {
            assert_eq!(Entry::decode(&e.encode()), Some(e));
        }
        assert_eq!(Entry::decode("on|x|y"), None);
        assert_eq!(Entry::decode("nope"), None);
    }
}
