"""The audit trail in the history database: one table, the same hash chain as the file trail.

Each row keeps the entry's canonical JSON line verbatim (``entry``), so verification checks
exactly what a JSON-lines file would hold, with :func:`secscan.audit.trail.verify_lines`. Writers
from many pipelines are serialized by a lock held for the transaction (PostgreSQL: an advisory
lock; SQLite: the write lock), and ``seq`` is the primary key, so two jobs can never both write
entry N.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from secscan.aggregate import migrations, sqldb
from secscan.audit import trail
from secscan.dbtarget import DbTarget

# Rows fetched per query while verifying: a year of entries never sits in memory at once.
_PAGE = 2000


@contextmanager
def _open(target: DbTarget) -> Iterator[sqldb.Database]:
    db = sqldb.connect(target)
    try:
        migrations.migrate(db)
        yield db
    finally:
        db.close()


def append(
    target: DbTarget,
    action: str,
    payload: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    timestamp: str | None = None,
) -> dict[str, Any]:
    """Append one entry chained to the table's last entry; returns the entry written."""
    return append_many(target, [(action, payload)], env=env, timestamp=timestamp)[-1]


def append_many(
    target: DbTarget,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    env: Mapping[str, str],
    timestamp: str | None = None,
) -> list[dict[str, Any]]:
    """Append several entries, in order, in one transaction; returns the entries written."""
    key = trail.key_from_env(env)
    with _open(target) as db:

        def work() -> list[dict[str, Any]]:
            written: list[dict[str, Any]] = []
            with db.transaction():
                db.lock("audit")
                row = db.execute("SELECT entry FROM audit_entries ORDER BY seq DESC LIMIT 1").fetchone()
                prev, seq = (trail.GENESIS, 1) if row is None else trail.tail_link(row[0], where=target.display())
                for action, payload in items:
                    entry = trail.build_entry(
                        prev=prev, seq=seq, action=action, payload=payload, env=env, timestamp=timestamp, key=key
                    )
                    db.execute(
                        "INSERT INTO audit_entries (seq, timestamp, action, hash, entry) VALUES (?, ?, ?, ?, ?)",
                        (seq, entry["timestamp"], action, entry["hash"], trail.canonical(entry).decode("utf-8")),
                    )
                    written.append(entry)
                    prev, seq = str(entry["hash"]), seq + 1
            return written

        return db.retrying(work)


def _rows(db: sqldb.Database) -> Iterator[tuple[Any, ...]]:
    """Every row (seq, timestamp, action, hash, entry) in ``seq`` order, a page at a time (keyset
    pagination, no OFFSET scans)."""
    after = None
    args: tuple[Any, ...]
    while True:
        if after is None:  # the first page: no lower bound, so even a row with a negative seq is seen
            query, args = "SELECT seq, timestamp, action, hash, entry FROM audit_entries ORDER BY seq LIMIT ?", (_PAGE,)
        else:
            query = "SELECT seq, timestamp, action, hash, entry FROM audit_entries WHERE seq > ? ORDER BY seq LIMIT ?"
            args = (after, _PAGE)
        rows = db.execute(query, args).fetchall()
        if not rows:
            return
        yield from (tuple(row) for row in rows)
        after = rows[-1][0]


def _lines(db: sqldb.Database) -> Iterator[str]:
    for row in _rows(db):
        yield str(row[4])


def verify(target: DbTarget, key: bytes | None, *, expected_head: str | None = None) -> trail.VerifyResult:
    """Verify the database's audit table like a file trail (a deleted row is a missing entry), and
    every column stored beside the entry: ``seq``, ``timestamp``, ``action`` and ``hash`` are what
    queries and people read, so one edited there is tampering too."""
    with _open(target) as db:
        check = trail.ChainCheck(key)
        for seq, timestamp, action, hash_, entry in _rows(db):
            stored = {"seq": seq, "timestamp": timestamp, "action": action, "hash": hash_}
            problem = check.feed(str(entry), stored=stored)
            if problem is not None:
                return check.failed(problem)
        return check.finish(expected_head)


def read_lines(target: DbTarget) -> list[str]:
    """Every entry's JSON line, in order (for display and tests)."""
    with _open(target) as db:
        return list(_lines(db))


def count(target: DbTarget) -> int:
    with _open(target) as db:
        return int(db.execute("SELECT COUNT(*) FROM audit_entries").fetchone()[0])
