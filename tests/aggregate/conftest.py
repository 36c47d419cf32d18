"""A real PostgreSQL server for the history tests (started once per test session and worker).

Locally a machine without the server binaries skips the PostgreSQL tests; in CI
(SECSCAN_REQUIRE_COMPONENTS=1) they fail, like every other missing component.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tests.support import postgres


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres.PgServer]:
    bindir = postgres.find_bindir()
    require(bindir is not None, "PostgreSQL server (initdb, pg_ctl: Debian package postgresql)")
    assert bindir is not None
    server = postgres.start(bindir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: postgres.PgServer) -> Iterator[str]:
    """The URL of a new, empty database on the test server (dropped afterwards)."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url.rsplit("/", 1)[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh history target of each kind: an SQLite path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite3")
    return str(request.getfixturevalue("pg_url"))
