"""The team's store: a PostgreSQL server through psycopg 3.

Connections run in autocommit mode and open explicit transactions for writes, at READ COMMITTED:
concurrent ``history add`` jobs are made safe by unique keys with ``ON CONFLICT`` (the loser of a
race waits for the winner's commit and then sees its row), by a consistent order of row locks,
and by retrying the rare deadlock (see ``Database.retrying``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import errors as pgerrors

from secscan.aggregate.sqldb import Database, HistoryDbError, Rows, TransientDbError
from secscan.dbtarget import DbTarget, scrub

CONNECT_TIMEOUT_S = 10
_TRANSIENT = (pgerrors.DeadlockDetected, pgerrors.SerializationFailure, pgerrors.LockNotAvailable)


def _one_line(e: BaseException, target: DbTarget) -> str:
    """libpq's multi-line message as one line, without the password."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return scrub("; ".join(lines) or type(e).__name__, target)


def _lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name``."""
    return int.from_bytes(hashlib.sha256(b"secscan:" + name.encode()).digest()[:8], "big", signed=True)


class PostgresDatabase(Database):
    dialect = "postgresql"

    def __init__(self, target: DbTarget) -> None:
        assert target.url is not None
        self.target = target
        try:
            self.con = psycopg.connect(
                target.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="secscan"
            )
        except psycopg.Error as e:
            raise HistoryDbError(
                f"cannot connect to history database {target.display()}: {_one_line(e, target)}"
            ) from None
        except Exception as e:  # noqa: BLE001 - a malformed URL raises ProgrammingError or ValueError
            raise HistoryDbError(
                f"history database {target.display()}: unusable connection URL ({_one_line(e, target)})"
            ) from None

    def _fail(self, e: psycopg.Error) -> Exception:
        if isinstance(e, _TRANSIENT):
            return TransientDbError(_one_line(e, self.target))
        return HistoryDbError(f"history database {self.target.display()}: {_one_line(e, self.target)}")

    @staticmethod
    def _sql(sql: str) -> str:
        # The shared SQL has `?` placeholders and no literal `%` or `?`.
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        try:
            return self.con.execute(self._sql(sql), tuple(params))
        except psycopg.Error as e:
            raise self._fail(e) from None

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            with self.con.cursor() as cur:
                cur.executemany(self._sql(sql), rows)
        except psycopg.Error as e:
            raise self._fail(e) from None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        try:
            with self.con.transaction():
                yield
        except psycopg.Error as e:
            raise self._fail(e) from None

    def lock(self, name: str) -> None:
        self.execute("SELECT pg_advisory_xact_lock(?)", (_lock_key(name),))

    def table_names(self) -> set[str]:
        rows = self.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()
        return {str(r[0]) for r in rows}

    def close(self) -> None:
        self.con.close()
