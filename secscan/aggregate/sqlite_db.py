"""The embedded store: one SQLite file, WAL mode, writers serialized by ``BEGIN IMMEDIATE``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from secscan.aggregate.sqldb import Database, HistoryDbError, Rows, TransientDbError
from secscan.dbtarget import DbTarget

# Concurrent `history add` processes wait this long for the write lock before giving up.
BUSY_TIMEOUT_S = 60.0


class SqliteDatabase(Database):
    dialect = "sqlite"

    def __init__(self, target: DbTarget) -> None:
        assert target.path is not None
        self.target = target
        self._in_tx = False
        try:
            target.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are opened explicitly (BEGIN IMMEDIATE), so a reader
            # never holds a lock it later has to upgrade (the classic SQLITE_BUSY deadlock).
            self.con = sqlite3.connect(target.path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        except (OSError, sqlite3.Error) as e:
            raise HistoryDbError(f"cannot open history database {target.display()}: {e}") from e
        try:
            self.con.execute("PRAGMA foreign_keys = ON")
            tables = {r[0] for r in self.con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not tables or "meta" in tables:
                # Only on an empty or secscan database: switching another application's file to
                # WAL would already write into it before the foreign-tables check refuses it.
                self.con.execute("PRAGMA journal_mode = WAL")  # readers (dashboard) never block a writer
            # In WAL mode NORMAL cannot corrupt the database; a power cut may lose the last runs
            # added, which `history add` / `aggregate` simply add again (adds are idempotent).
            self.con.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as e:
            self.con.close()
            raise HistoryDbError(f"{target.display()} is not a secscan history database: {e}") from e

    def _fail(self, e: sqlite3.Error) -> Exception:
        text = str(e)
        if isinstance(e, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
            return TransientDbError(text)
        return HistoryDbError(f"history database {self.target.display()}: {text}")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        try:
            return self.con.execute(sql, tuple(params))
        except sqlite3.Error as e:
            raise self._fail(e) from e

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        try:
            self.con.executemany(sql, rows)
        except sqlite3.Error as e:
            raise self._fail(e) from e

    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_tx:  # nested use joins the outer transaction
            yield
            return
        self.execute("BEGIN IMMEDIATE")
        self._in_tx = True
        try:
            yield
        except BaseException:
            self._in_tx = False
            self.con.execute("ROLLBACK")
            raise
        self._in_tx = False
        self.execute("COMMIT")

    def lock(self, name: str) -> None:
        # BEGIN IMMEDIATE already holds the database's single write lock.
        return None

    def table_names(self) -> set[str]:
        rows = self.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {str(r[0]) for r in rows if not str(r[0]).startswith("sqlite_")}

    def close(self) -> None:
        self.con.close()
