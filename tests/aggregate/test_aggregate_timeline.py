"""The database's compaction (segments) loses nothing: metrics from it equal metrics from walking
every observation of every run, the obvious way, on random histories (both stores)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secscan.aggregate import metrics
from secscan.aggregate.history import History, StreamHistory
from secscan.models import (
    Finding,
    Kind,
    Location,
    RunResult,
    ScannerState,
    ScannerStatus,
    Severity,
    Status,
    Suppression,
    Verdict,
)

NOW = datetime(2024, 9, 1, tzinfo=UTC)
SEVS = [Severity.CRITICAL, Severity.HIGH, Severity.MEDIUM, Severity.LOW]
OPEN = {"new", "existing"}


def _random_history(target: str, seed: int) -> None:
    rng = random.Random(seed)
    with History(target) as h:
        for p in range(3):
            when = NOW - timedelta(days=80)
            for _ in range(rng.randint(5, 40)):
                when += timedelta(hours=rng.randint(1, 60))
                findings = []
                for n in rng.sample(range(15), rng.randint(0, 9)):
                    status = rng.choice([Status.EXISTING] * 6 + [Status.NEW, Status.FIXED, Status.SUPPRESSED])
                    exp = (NOW + timedelta(days=rng.randint(-20, 40))).date().isoformat()
                    findings.append(
                        Finding(
                            kind=Kind.SAST,
                            scanner="bandit" if n % 2 else "semgrep",
                            rule_id=f"R{n}",
                            title=f"t{n}",
                            message="m",
                            severity=rng.choice(SEVS) if rng.random() < 0.2 else SEVS[n % 4],
                            severity_original="x",
                            location=Location(path=f"f{n}.py"),
                            status=status,
                            suppression=Suppression(origin="file", reason=f"r{n % 3}", owner="o", expires=exp)
                            if status is Status.SUPPRESSED
                            else None,
                            fingerprint=f"v1:{n}",
                        )
                    )
                roll = rng.random()
                scanners: tuple[ScannerStatus, ...] = (
                    ScannerStatus(name="bandit", state=ScannerState.FAILED if roll < 0.2 else ScannerState.OK),
                    ScannerStatus(name="semgrep", state=ScannerState.TIMEOUT if roll > 0.85 else ScannerState.OK),
                )
                if rng.random() < 0.1:
                    scanners = ()  # an imported result: absence is taken at its word
                run = RunResult(
                    tool_version="0",
                    target="t",
                    started_at=when.isoformat(),
                    finished_at=when.isoformat(),
                    scanners=scanners,
                    findings=tuple(findings),
                    verdict=Verdict(passed=True, exit_code=0, policy="p"),
                )
                h.add(run, project=f"p{p}", ref="main")


def _oracle(stream: StreamHistory) -> tuple[list[tuple[int, ...]], int, list[int], list[tuple[str, str]], int | None]:
    """Per run: open counts by severity; then fixed total, when findings opened, the last run's
    suppressions, and when the oldest still open finding opened."""
    scanner_of = {fid: info.scanner for fid, info in stream.findings.items()}
    open_since: dict[int, int] = {}
    severity: dict[int, str] = {}
    fixed = 0
    started: list[int] = []
    after: list[tuple[int, ...]] = []
    for run in stream.runs:
        ok = {s.name for s in run.scanners if s.state == "ok"}
        seen = {o.finding_id: o.status for o in run.observations}
        for o in run.observations:
            if o.status in OPEN:
                severity[o.finding_id] = o.severity
        for fid, status in seen.items():
            if status in OPEN and fid not in open_since:
                open_since[fid] = run.finished_epoch
                started.append(run.finished_epoch)
        for fid in list(open_since):
            now_status = seen.get(fid)
            if now_status in OPEN:
                continue
            if now_status == "suppressed":
                del open_since[fid]
            elif not run.scanners or scanner_of[fid] in ok:
                # Absent or reported fixed: fixed when the run covered it (its scanner ran).
                del open_since[fid]
                fixed += 1
        after.append(tuple(sum(1 for f in open_since if severity[f] == sev) for sev in metrics.SEV_ORDER))
    last = stream.runs[-1]
    sups = sorted(
        (stream.findings[o.finding_id].rule_id, o.sup_expires or "")
        for o in last.observations
        if o.status == "suppressed"
    )
    return after, fixed, started, sups, min(open_since.values(), default=None)


def _compare(target: str) -> int:
    with History(target) as h:
        d = metrics.compute(h.iter_streams(), now=NOW, spark_len=10_000, trend_days=120)
        checked = 0
        for row in d.projects:
            after, fixed, started, sups, oldest = _oracle(h.stream(row.project, row.ref))
            now = int(NOW.timestamp())
            assert list(row.sparkline) == [sum(c) for c in after], row.project
            assert row.fixed_total == fixed and row.open_by_severity == after[-1]
            assert row.new_30 == sum(1 for t in started if now - 30 * 86400 < t <= now)
            assert row.oldest_open_days == (None if oldest is None else (now - oldest) / 86400)
            expiring = sorted(
                (e.rule_id, e.expires) for e in d.expiring if e.project == row.project and e.days_left <= 30
            )
            assert expiring == [(r, x) for r, x in sups if (datetime.fromisoformat(x).date() - NOW.date()).days <= 30]
            checked += len(after)
    return checked


@pytest.mark.parametrize("seed", range(12))
def test_compacted_metrics_equal_the_observation_walk_sqlite(tmp_path: Path, seed: int) -> None:
    db = str(tmp_path / "h.sqlite3")
    _random_history(db, seed)
    assert _compare(db) > 0


@pytest.mark.integration
@pytest.mark.xdist_group("aggregate-postgres")
@pytest.mark.parametrize("seed", [101, 202])
def test_compacted_metrics_equal_the_observation_walk_postgres(tmp_path: Path, pg_url: str, seed: int) -> None:
    _random_history(pg_url, seed)
    lite = str(tmp_path / "h.sqlite3")
    _random_history(lite, seed)
    assert _compare(pg_url) > 0
    with History(pg_url) as a, History(lite) as b:
        assert metrics.compute(a.iter_streams(), now=NOW) == metrics.compute(b.iter_streams(), now=NOW)


def test_batches_of_projects_give_the_same_dashboard(tmp_path: Path) -> None:
    from secscan.aggregate.timeline import iter_timelines

    db = str(tmp_path / "h.sqlite3")
    _random_history(db, 7)
    with History(db) as h:
        h.add(_second_ref_run(), project="p1", ref="develop")  # a project with two refs spans no batch edge
        whole = metrics.compute(iter_timelines(h.db), now=NOW)
        for batch in (1, 2):
            assert metrics.compute(iter_timelines(h.db, batch=batch), now=NOW) == whole
        assert [(t.project, t.ref) for t in iter_timelines(h.db, batch=1)] == h.streams()
        assert len(whole.projects) == 4


def _second_ref_run() -> RunResult:
    """A run for a second ref of an existing project."""
    when = NOW - timedelta(days=3)
    return RunResult(
        tool_version="0",
        target="t",
        started_at=when.isoformat(),
        finished_at=when.isoformat(),
        scanners=(ScannerStatus(name="bandit", state=ScannerState.OK),),
        findings=(
            Finding(
                kind=Kind.SAST,
                scanner="bandit",
                rule_id="R1",
                title="t1",
                message="m",
                severity=Severity.HIGH,
                severity_original="x",
                location=Location(path="f1.py"),
                fingerprint="v1:1",
            ),
        ),
        verdict=Verdict(passed=True, exit_code=0, policy="p"),
    )
