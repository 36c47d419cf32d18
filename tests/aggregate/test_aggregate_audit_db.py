"""The audit trail in the history database (PostgreSQL and SQLite): the same chain as the file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from secscan.aggregate.history import History
from secscan.audit import dbtrail, trail
from secscan.dbtarget import parse_target
from tests.aggregate.test_aggregate_history import STORY
from tests.support.cli import secscan

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("aggregate-postgres")]

KEYED = {"USER": "alice", "SECSCAN_AUDIT_KEY": "s3cret-key"}


def _db_target(store: str) -> str:
    """The audit location naming the store (a bare path is a JSONL file, so SQLite needs `sqlite:`)."""
    return store if store.startswith("postgresql://") else f"sqlite:{store}"


def _write(where: str, n: int = 5) -> list[dict[str, object]]:
    loc = trail.parse_location(where)
    return [
        trail.record(f"act{i}", {"i": i}, path=loc, env=KEYED, timestamp=f"2024-05-0{i}T10:00:00Z")
        for i in range(1, n + 1)
    ]


def _sql(store: str, statement: str, *params: object) -> None:
    with History(store) as h, h.db.transaction():
        h.db.execute(statement, params)


def test_same_chain_as_the_file_trail_and_tampering_caught(store: str, tmp_path: Path) -> None:
    where = _db_target(store)
    in_db = _write(where)
    in_file = _write(str(tmp_path / "audit.jsonl"))
    assert in_db == in_file  # byte for byte the same entries, so the same head hash
    key = b"s3cret-key"
    res = trail.verify_at(trail.parse_location(where), key)
    assert res.ok and res.entries == 5 and res.head == in_file[-1]["hash"]
    assert (res.first_timestamp, res.last_timestamp) == ("2024-05-01T10:00:00Z", "2024-05-05T10:00:00Z")
    # The row is the canonical line: what the file holds.
    with History(store) as h:
        stored = h.db.execute("SELECT entry FROM audit_entries WHERE seq = 3").fetchone()[0]
    assert stored == (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()[2]

    edited = json.loads(stored)
    edited["payload"]["i"] = 99
    edited["payload_sha256"] = trail.payload_digest(edited["payload"])
    _sql(store, "UPDATE audit_entries SET entry = ? WHERE seq = 3", json.dumps(edited))
    bad = trail.verify_at(trail.parse_location(where), key)
    assert (bad.ok, bad.bad_line) == (False, 3) and "HMAC does not match" in (bad.problem or "")
    _sql(store, "UPDATE audit_entries SET entry = ? WHERE seq = 3", stored)  # put back: only the gap remains
    _sql(store, "DELETE FROM audit_entries WHERE seq = 2")
    gap = trail.verify_at(trail.parse_location(where), key)
    assert (gap.ok, gap.bad_line) == (False, 2) and "entries 2..2 are missing (removed)" in (gap.problem or "")


def test_cut_off_end_caught_with_expected_head(pg_url: str) -> None:
    entries = _write(pg_url)
    head = str(entries[-1]["hash"])
    _sql(pg_url, "DELETE FROM audit_entries WHERE seq = 5")
    target = parse_target(pg_url)
    assert dbtrail.verify(target, b"s3cret-key").ok  # a shorter chain is still a chain...
    cut = dbtrail.verify(target, b"s3cret-key", expected_head=head)
    assert not cut.ok and "cut off the end" in (cut.problem or "")  # ...which the kept head catches


def test_scan_verdicts_land_in_the_database_and_cli_verifies(pg_url: str, tmp_path: Path) -> None:
    env = {"USER": "ci", "SECSCAN_AUDIT_LOG": pg_url}
    trail.record_run(STORY[3], out_dir=tmp_path, env=env)  # a verdict and two suppressions
    assert not (tmp_path / trail.DEFAULT_LOG_NAME).exists()
    actions = [e["action"] for e in (json.loads(x) for x in dbtrail.read_lines(parse_target(pg_url)))]
    assert actions == ["gate.verdict", "suppression.applied", "suppression.applied"]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GITLAB_"))}
    ok = secscan("audit", "verify", environ={**base, "SECSCAN_AUDIT_LOG": pg_url})
    assert ok.returncode == 0, ok.stderr
    assert "(audit table): audit log OK: 3 entries" in ok.stdout
    password = parse_target(pg_url).password()
    assert password and password not in ok.stdout + ok.stderr
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("UPDATE audit_entries SET timestamp = 'x', entry = replace(entry, '\"ci\"', '\"eve\"')")
    bad = secscan("audit", "verify", "--log", pg_url, environ=base)
    assert bad.returncode == 1 and "TAMPERED at entry 1" in bad.stdout


def test_concurrent_appenders_keep_one_chain(store: str) -> None:
    where = _db_target(store)
    code = (
        "import sys\n"
        "from secscan.audit import trail\n"
        "loc = trail.parse_location(sys.argv[1])\n"
        "for i in range(20):\n"
        "    trail.record('job', {'w': sys.argv[2], 'i': i}, path=loc, env={'USER': 'w' + sys.argv[2]})\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, where, str(w)], stderr=subprocess.PIPE) for w in range(8)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    res = trail.verify_at(trail.parse_location(where), None)
    assert res.ok and res.entries == 160, res.describe()
    seen = {(e["payload"]["w"], e["payload"]["i"]) for e in map(json.loads, dbtrail.read_lines(parse_target(where)))}
    assert len(seen) == 160  # none lost, none doubled


def test_locations_name_a_file_or_a_database(tmp_path: Path) -> None:
    # `sqlite:` names the history database's audit table; a plain path stays a JSON-lines file.
    assert trail.parse_location(str(tmp_path / "a.jsonl")) == tmp_path / "a.jsonl"
    assert trail.parse_location("sqlite:" + str(tmp_path / "h.db")) == parse_target("sqlite:" + str(tmp_path / "h.db"))
    env = {"SECSCAN_AUDIT_LOG": "postgresql://u:pw@db.example/h"}
    sink = trail.sink(tmp_path, env)
    assert not isinstance(sink, Path) and sink.is_postgres
    assert trail.describe_location(sink) == "postgresql://u:***@db.example/h (audit table)"
    assert trail.sink(tmp_path, {}) == tmp_path / trail.DEFAULT_LOG_NAME
