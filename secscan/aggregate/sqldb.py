"""One small interface over the two stores' drivers (sqlite3 and psycopg 3).

The history, the audit table and the compliance queries write their SQL once, with ``?``
placeholders and the subset of SQL both SQLite (>= 3.35) and PostgreSQL accept (``ON CONFLICT``,
``RETURNING``, window functions). Each backend module maps placeholders, opens transactions the
way its engine serializes writers, and turns driver errors into one clear line without the
password (:class:`HistoryDbError`), or into :class:`TransientDbError` for a deadlock or
serialization failure that the caller may simply retry.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from secscan.dbtarget import DbTarget
from secscan.errors import ConfigError

T = TypeVar("T")


class HistoryDbError(ConfigError):
    """The history database cannot be reached or used (exit 2); the message holds no password."""


class TransientDbError(Exception):
    """A deadlock, serialization failure or busy database: the transaction may be retried."""


class Rows(Protocol):
    """What both drivers' cursors offer."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Database(ABC):
    """An open connection to one history database."""

    dialect: str
    target: DbTarget

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        """Run one statement (``?`` placeholders) and return its cursor."""

    @abstractmethod
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run one statement for each row of parameters."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction: committed on success, rolled back on any exception."""

    @abstractmethod
    def lock(self, name: str) -> None:
        """Inside a transaction: wait until no other writer holds ``name`` (released at commit)."""

    @abstractmethod
    def table_names(self) -> set[str]:
        """The tables visible to this connection (PostgreSQL: in the current schema)."""

    @abstractmethod
    def close(self) -> None: ...

    def retrying(self, work: Callable[[], T], *, attempts: int = 6) -> T:
        """Run ``work`` (which opens its own transaction) again after a transient failure.

        Backoff doubles from 20 ms: concurrent CI jobs that collide on the same project's rows
        succeed on a later attempt instead of losing their run.
        """
        delay = 0.02
        for attempt in range(attempts):
            try:
                return work()
            except TransientDbError as e:
                if attempt == attempts - 1:
                    raise HistoryDbError(
                        f"history database {self.target.display()}: still conflicting after {attempts} attempts: {e}"
                    ) from None
                time.sleep(delay)
                delay *= 2
        raise AssertionError("unreachable")


def connect(target: DbTarget) -> Database:
    """Open ``target`` with the driver for its kind."""
    if target.is_postgres:
        from secscan.aggregate.postgres_db import PostgresDatabase

        return PostgresDatabase(target)
    from secscan.aggregate.sqlite_db import SqliteDatabase

    return SqliteDatabase(target)
