"""The history on a real PostgreSQL server (started by the test run) and on SQLite, side by side.

Both stores must give the same dashboard for the same runs, migrate themselves, store a result
added twice (or by eight jobs at once) exactly once, and fail with one clear line, without the
password, when the server cannot be used.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from secscan import resultio
from secscan.aggregate import dashboard, metrics, migrations
from secscan.aggregate.history import History
from secscan.errors import ConfigError
from secscan.models import Finding, Kind, Location, RunResult, ScannerState, ScannerStatus, Severity, Verdict
from tests.aggregate.test_aggregate_history import NOW, STORY, _f, _run
from tests.support.postgres import PgServer

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("aggregate-postgres")]


def _secscan(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GITLAB_", "PG"))}
    return subprocess.run(
        [sys.executable, "-m", "secscan", *args],
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _fill(target: str) -> None:
    with History(target) as h:
        for r in STORY:
            assert h.add(r, project="alpha", ref="main").added
        h.add(_run("2024-06-29T00:00:00Z", [_f("X", Severity.HIGH)], passed=True), project="beta", ref="main")


def test_dashboard_is_the_same_on_both_stores(tmp_path: Path, pg_url: str) -> None:
    lite = str(tmp_path / "h.sqlite3")
    _fill(lite)
    _fill(pg_url)
    with History(lite) as a, History(pg_url) as b:
        da = metrics.compute(a.iter_streams(), now=NOW)
        db = metrics.compute(b.iter_streams(), now=NOW)
        assert b.target.is_postgres and b.counts() == (2, 5)
    alpha = next(p for p in db.projects if p.project == "alpha")
    # The hand-checked story (see test_aggregate_history): B fixed only once bandit ran again.
    assert alpha.open_by_severity == (1, 1, 0, 0, 0) and (alpha.fixed_7, alpha.fixed_30) == (1, 2)
    assert [(e.rule_id, e.days_left) for e in db.expiring] == [("R-G", -15), ("R-E", 10)]
    assert da == db
    assert dashboard.render(da) == dashboard.render(db)


def test_same_result_twice_is_one_run_and_migrations_are_versioned(pg_url: str) -> None:
    with History(pg_url) as h:
        first = h.add(STORY[0], project="alpha", ref="main")
        again = h.add(STORY[0], project="alpha", ref="main")
        assert first.added and not again.added and first.run_id == again.run_id
        assert h.counts() == (1, 1)
        assert migrations.current_version(h.db) == migrations.LATEST
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(ConfigError, match="schema version 99 is not supported"):
        History(pg_url)


def test_foreign_tables_of_the_same_name_are_refused(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as con:
        con.execute("CREATE TABLE projects (id int, owner text)")
    with pytest.raises(ConfigError, match="projects exist but were not created by secscan"):
        History(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as con:
        tables = {r[0] for r in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"projects"}  # nothing written next to it


def test_a_version_1_sqlite_file_is_migrated_in_place(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "old.sqlite3"
    con = sqlite3.connect(db)
    for statement in migrations.MIGRATIONS[1]["sqlite"]:
        con.execute(statement)
    con.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '1')")
    con.commit()
    con.close()
    with History(db) as h:
        assert migrations.current_version(h.db) == migrations.LATEST
        assert "audit_entries" in h.db.table_names()
        assert h.add(STORY[0], project="alpha").added


# ---------------------------------------------------------------- concurrent writers

PROCS, PER_PROC, SHARED = 8, 50, 10


def _result(i: int, n: int) -> RunResult:
    """Run ``n`` of writer ``i``: findings overlapping with every other writer's (same project)."""
    when = datetime(2024, 5, 1, tzinfo=UTC) + timedelta(minutes=i * 1000 + n)
    fps = sorted({(i * 7 + n * 3 + k) % 40 for k in range(12)})
    findings = tuple(
        Finding(
            kind=Kind.SAST,
            scanner="bandit",
            rule_id=f"B{600 + fp % 9}",
            title=f"issue {fp}",
            message="m",
            severity=Severity.HIGH if fp % 3 else Severity.LOW,
            severity_original="x",
            location=Location(path=f"src/m{fp}.py", start_line=fp),
            fingerprint=f"v1:conc{fp:03d}",
        )
        for fp in fps
    )
    return RunResult(
        tool_version="0.1.0",
        target="app",
        started_at=when.isoformat(),
        finished_at=when.isoformat(),
        scanners=(ScannerStatus(name="bandit", state=ScannerState.OK),),
        findings=findings,
        verdict=Verdict(passed=False, exit_code=1, policy="default"),
    )


def _concurrent_adds(tmp_path: Path, target: str) -> None:
    shared = []
    for s in range(SHARED):
        f = tmp_path / f"shared{s}.json"
        f.write_text(resultio.dumps(_result(99, s)), encoding="utf-8")
        shared.append(f)
    expected: dict[str, int] = {}  # digest -> findings
    argv = []
    for i in range(PROCS):
        files = []
        own = iter(range(PER_PROC - SHARED))
        for k in range(PER_PROC):
            # Every writer reaches shared file k/5 at about the same moment: a real race on one run.
            if k % 5 == 0:
                f = shared[k // 5]
            else:
                f = tmp_path / f"w{i}_{k}.json"
                f.write_text(resultio.dumps(_result(i, next(own))), encoding="utf-8")
            files.append(f)
        for f in files:
            expected[hashlib.sha256(f.read_bytes()).hexdigest()] = len(resultio.loads(f.read_text()).findings)
        argv.append([sys.executable, "-m", "secscan", "history", "add", *map(str, files), "--project", "team/app"])
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECSCAN_")}
    env["SECSCAN_HISTORY_DB"] = target
    # All eight start at once on an empty database: they race on the migration too.
    procs = [subprocess.Popen(a, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for a in argv]
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    added = sum(out.count(" added as run ") for out, _ in outs)
    already = sum(out.count(" already stored ") for out, _ in outs)
    total = PROCS * (PER_PROC - SHARED) + SHARED
    assert len(expected) == total
    assert (added, already) == (total, (PROCS - 1) * SHARED)  # each shared result added by exactly one job
    with History(target) as h:
        rows = h.db.execute(
            "SELECT r.result_sha256, COUNT(o.finding_id) FROM runs r LEFT JOIN observations o ON o.run_id = r.id"
            " GROUP BY r.id, r.result_sha256"
        ).fetchall()
        assert h.counts() == (1, total)
        n_findings = h.db.execute("SELECT COUNT(*) FROM findings").fetchone()[0]
    stored = {str(d): int(n) for d, n in rows}
    assert len(rows) == total and stored == expected  # every run once, each with all its findings
    assert n_findings == 40  # one row per fingerprint, however many writers upserted it


def test_eight_writers_at_once_on_postgres(tmp_path: Path, pg_url: str) -> None:
    _concurrent_adds(tmp_path, pg_url)


def test_eight_writers_at_once_on_sqlite(tmp_path: Path) -> None:
    _concurrent_adds(tmp_path, str(tmp_path / "h.sqlite3"))


# ---------------------------------------------------------------- errors


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_and_credential_errors_are_one_line_without_the_password(
    tmp_path: Path, pg_server: PgServer, pg_url: str
) -> None:
    secret = "Wr0ng-pa55-%40word"  # percent-encoded '@': the decoded form must not leak either
    f = tmp_path / "r.json"
    f.write_text(resultio.dumps(STORY[0]), encoding="utf-8")
    cases = {
        pg_server.url(password=secret): "password authentication failed",
        f"postgresql://secscan:{secret}@127.0.0.1:{_closed_port()}/h": "Connection refused",
        pg_server.url("no_such_db", password=secret.replace("Wr0ng", "x")): "password authentication failed",
        pg_server.url("no_such_db"): 'database "no_such_db" does not exist',
    }
    for url, why in cases.items():
        res = _secscan("history", "add", str(f), "--project", "p", "--db", url)
        assert res.returncode == 2, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("secscan: error: cannot connect to history database")
        assert why in lines[0] and "Traceback" not in res.stderr
        assert ":***@127.0.0.1" in lines[0]
        for leaked in (secret, "Wr0ng-pa55-@word", pg_server.password):
            assert leaked not in res.stdout + res.stderr
    bad = _secscan("dashboard", "--db", "mysql://u:pw@h/db")
    assert bad.returncode == 2 and "unsupported scheme 'mysql'" in bad.stderr and "pw" not in bad.stderr
    # The environment variable takes the same URLs.
    ok = _secscan("history", "add", str(f), "--project", "p", env={"SECSCAN_HISTORY_DB": pg_url})
    assert ok.returncode == 0, ok.stderr
    assert "added as run 1 of p@default" in ok.stdout


def test_cli_end_to_end_on_postgres(tmp_path: Path, pg_url: str) -> None:
    files = []
    for i, r in enumerate(STORY):
        f = tmp_path / f"r{i}.json"
        f.write_text(resultio.dumps(r), encoding="utf-8")
        files.append(str(f))
    env = {"SECSCAN_HISTORY_DB": pg_url}
    add = _secscan("history", "add", *files, "--project", "alpha", "--ref", "main", env=env)
    assert add.returncode == 0 and add.stdout.count("added as run") == 4, add.stderr
    listed = _secscan("history", "list", env=env)
    assert listed.stdout.split("\t")[:3] == ["alpha", "main", "4 runs"]
    html = tmp_path / "d.html"
    dash = _secscan("dashboard", "-o", str(html), "--now", "2024-06-30T12:00:00Z", env=env)
    assert dash.returncode == 0, dash.stderr
    assert "(1 projects, 4 runs;" in dash.stdout and "alpha" in html.read_text(encoding="utf-8")


# ---------------------------------------------------------------- retention


def test_prune_keeps_a_year_the_audit_trail_and_each_projects_newest_run(store: str) -> None:
    now = datetime(2025, 6, 30, tzinfo=UTC)

    def at(days_ago: int) -> str:
        return (now - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")

    from secscan.audit import trail

    target = History(store).target
    with History(store) as h:
        for days in (800, 500, 400, 100, 10):
            h.add(_run(at(days), [_f(f"A{days}", Severity.HIGH), _f("KEEP", Severity.LOW)]), project="live")
        h.add(_run(at(700), [_f("OLD", Severity.HIGH)]), project="stale")  # its only run: kept
        h.add(_run(at(900), [_f("GONE", Severity.HIGH)]), project="stale2")
        h.add(_run(at(450), [_f("NEWER", Severity.HIGH)]), project="stale2")
    for i in range(3):
        trail.record("gate.verdict", {"i": i}, path=target, env={"USER": "u"}, timestamp=at(1000 - i))
    with History(store) as h:
        with pytest.raises(ConfigError, match="at least 365 days"):
            h.prune(keep_days=30, now=now)
        out = h.prune(keep_days=365, now=now)
        assert (out.runs_removed, out.runs_kept_latest) == (4, 2)  # live 800/500/400, stale2 900
        assert out.findings_removed == 4  # A800, A500, A400, GONE
        kept = {(p, r, n) for p, r, n, _ in h.stream_summaries()}
        assert kept == {("live", "default", 2), ("stale", "default", 1), ("stale2", "default", 1)}
        fps = {str(r[0]) for r in h.db.execute("SELECT fingerprint FROM findings").fetchall()}
        assert fps == {"v1:A100", "v1:A10", "v1:KEEP", "v1:OLD", "v1:NEWER"}
        assert h.prune(keep_days=365, now=now).runs_removed == 0  # idempotent
    res = trail.verify_at(target, None)
    assert res.ok and res.entries == 3  # the audit trail is never pruned


def test_prune_cli_refuses_less_than_a_year_before_opening_anything(tmp_path: Path) -> None:
    res = _secscan("history", "prune", "--keep-days", "30", "--db", str(tmp_path / "none.sqlite3"))
    assert res.returncode == 2 and "at least 365 days" in res.stderr
    assert not (tmp_path / "none.sqlite3").exists()
    missing = _secscan("history", "prune", "--keep-days", "400", "--db", str(tmp_path / "none.sqlite3"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_history_reads_stay_ordered_like_sqlite(pg_url: str, tmp_path: Path) -> None:
    # PostgreSQL's collation could order names differently from SQLite's bytes: streams are sorted alike.
    names = ["b/Zeta", "B/alpha", "a-b", "a_b", "a/b"]
    for target in (pg_url, str(tmp_path / "h.sqlite3")):
        with History(target) as h:
            for n in names:
                h.add(replace(STORY[0], target=n), project=n, ref="main")
    with History(pg_url) as a, History(str(tmp_path / "h.sqlite3")) as b:
        assert a.streams() == b.streams() == sorted((n, "main") for n in names)
