"""The SQLite half of scripts/search-probe: the same archive (20,000 users,
200,000 chats, 2,000,000 messages of 8 words from the same vocabulary, a
customer in 20 chats, an LSM in 5,000) in a database the server migrated,
then the search query of storage/search.rs timed in-process (best of 3):
each word of a message indexed once per chat as `c<chat>x<word>`
(migration 0012), the match naming the caller's chats, 500 per match as
storage does (the hits of the matches then merged).
Run by scripts/search-probe; argument: the SQLite file."""

import random
import sqlite3
import sys
import time

VOCAB = (
    "the a to and is for of on at it we you i can will be this that with your my have "
    "tomorrow today friday monday morning afternoon price quote invoice payment euros hours "
    "job work pipe tap leak boiler heater wall paint door window roof tile floor kitchen "
    "bathroom garden fence light socket wire fuse cable drain gutter ladder parts materials "
    "arrive late early delay cancel confirm booked address street number gate code parking "
    "key neighbour photo picture broken fixed done finished thanks please sorry okay great "
    "sure yes no maybe later soon week next last time start end half full total extra "
    "discount receipt warranty guarantee"
).split()

QUERY = """SELECT m.id, m.content, j.title, bm25(message_words) AS rank FROM message_words f
JOIN messages m ON m.id = f.rowid
JOIN chat_participants p ON p.chat_id = m.chat_id AND p.user_id = ?
JOIN chats c ON c.id = m.chat_id JOIN jobs j ON j.id = c.job_id
LEFT JOIN users u ON u.id = m.sender_id
WHERE message_words MATCH ? AND m.kind = 'user' AND (p.left_seq IS NULL OR m.seq <= p.left_seq)
ORDER BY rank, m.id DESC LIMIT 20"""


def seed(db: sqlite3.Connection) -> None:
    now = "2026-12-06T00:00:00Z"
    db.executemany(
        "INSERT INTO users (email, name, role, password_hash, created_at) VALUES (?, ?, ?, 'x', ?)",
        [(f"u{g}@probe.test", f"User {g}", "customer" if g <= 10000 else "provider", now) for g in range(1, 20001)]
        + [("lsm@probe.test", "LSM", "lsm", now)],
    )
    db.executemany(
        "INSERT INTO jobs (customer_id, provider_id, title, created_at) VALUES (?, ?, ?, ?)",
        [((g % 10000) + 1, 10001 + ((g * 7) % 10000), f"Job {g}", now) for g in range(1, 200001)],
    )
    db.execute("INSERT INTO chats (job_id, created_at, last_seq) SELECT id, ?, 10 FROM jobs", (now,))
    db.execute(
        "INSERT INTO chat_participants (chat_id, user_id, role, joined_at) "
        "SELECT c.id, j.customer_id, 'customer', ?1 FROM chats c JOIN jobs j ON j.id = c.job_id "
        "UNION ALL SELECT c.id, j.provider_id, 'provider', ?1 FROM chats c JOIN jobs j ON j.id = c.job_id "
        "UNION ALL SELECT id, 20001, 'lsm', ?1 FROM chats WHERE id <= 5000",
        (now,),
    )
    rng = random.Random(1)
    db.executemany(
        "INSERT INTO messages (chat_id, kind, content, created_at, seq) VALUES (?, 'user', ?, ?, ?)",
        ((c, " ".join(rng.sample(VOCAB, 8)), now, s) for c in range(1, 200001) for s in range(1, 11)),
    )
    # The index as the server writes it (storage/search.rs `chat_words`):
    # the vocabulary's words are lowercase and joined by single spaces.
    db.execute(
        "INSERT INTO message_words (rowid, words) "
        "SELECT id, 'c' || chat_id || 'x' || replace(content, ' ', ' c' || chat_id || 'x') FROM messages"
    )
    db.commit()
    db.execute("ANALYZE")


def fts5_match(words: list[str], chats: list[int]) -> str:
    """storage/search.rs `fts5_match`: every word, the last a prefix, in one of the chats."""
    parts = []
    for i, w in enumerate(words):
        star = "*" if i == len(words) - 1 else ""
        parts.append("(" + " OR ".join(f'"c{c}x{w}"{star}' for c in chats) + ")")
    return " AND ".join(parts)


def main() -> None:
    db = sqlite3.connect(sys.argv[1])
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    seed(db)
    for who, user in (("customer", 1), ("lsm", 20001)):
        chats = [
            r[0]
            for r in db.execute(
                "SELECT chat_id FROM chat_participants WHERE user_id = ? ORDER BY chat_id DESC", (user,)
            )
        ]
        for q, words in (("boiler", ["boiler"]), ("boiler & warr:*", ["boiler", "warr"]), ("zzz", ["zzz"])):
            best = None
            for _ in range(3):
                t = time.perf_counter()
                hits = []
                for k in range(0, len(chats), 500):
                    hits += db.execute(QUERY, (user, fts5_match(words, chats[k : k + 500]))).fetchall()
                hits.sort(key=lambda h: (h[3], -h[0]))
                ms = (time.perf_counter() - t) * 1000
                best = ms if best is None else min(best, ms)
            print(f"{who:<8} {q:<18} fts5 by chat {best:.3f} ms ({len(chats)} chats)")

main()
