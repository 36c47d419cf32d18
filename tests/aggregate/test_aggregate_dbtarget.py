"""Naming the history database: paths, sqlite: and postgresql:// URLs, and the password kept out of text."""

from __future__ import annotations

from pathlib import Path

import pytest

from secscan.dbtarget import DbTarget, parse_target, redact_url, resolve, scrub
from secscan.errors import ConfigError


def test_paths_and_sqlite_urls_name_files(tmp_path: Path) -> None:
    assert parse_target(str(tmp_path / "h.db")) == DbTarget(kind="sqlite", path=tmp_path / "h.db")
    assert parse_target(f"sqlite://{tmp_path}/h.db").path == tmp_path / "h.db"
    assert parse_target("sqlite:rel/h.db").path == Path("rel/h.db")
    assert resolve(None, {"SECSCAN_HISTORY_DB": "x.db"}).path == Path("x.db")
    assert resolve("y.db", {"SECSCAN_HISTORY_DB": "x.db"}).path == Path("y.db")  # --db wins


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://sec:s3cr%40t@db:5432/h", "postgresql://sec:***@db:5432/h"),
        ("postgres://sec@db/h?sslmode=require", "postgres://sec@db/h?sslmode=require"),
        (
            "postgresql://db/h?user=sec&password=s3cr3t&sslmode=require",
            "postgresql://db/h?user=sec&password=***&sslmode=require",
        ),
        ("postgresql:///h", "postgresql:///h"),
    ],
)
def test_postgres_urls_are_shown_without_the_password(url: str, shown: str) -> None:
    t = parse_target(url)
    assert t.is_postgres and t.url == url and t.display() == shown


def test_scrub_removes_raw_and_decoded_password() -> None:
    t = parse_target("postgresql://sec:s3cr%40t@db/h")
    assert t.password() == "s3cr@t"
    text = "failed for postgresql://sec:s3cr%40t@db/h with s3cr@t and s3cr%40t"
    assert scrub(text, t) == "failed for postgresql://sec:***@db/h with *** and ***"
    assert redact_url("postgresql://u:p@h/d") == "postgresql://u:***@h/d"


@pytest.mark.parametrize("bad", ["", "   ", "mysql://u:pw@h/db", "sqlite:"])
def test_unusable_values_are_config_errors_without_secrets(bad: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_target(bad)
    assert "pw" not in e.value.message
