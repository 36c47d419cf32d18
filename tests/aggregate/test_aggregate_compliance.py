"""Compliance guardrails on both stores: a history with a stale project, a project whose last scan
failed, a stale dependency audit, an expired suppression and a truncated audit trail; each is
reported per project and the exit code says so."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from secscan.aggregate import guardrails
from secscan.aggregate.history import History
from secscan.audit import trail
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
from tests.support.cli import Run, secscan

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("aggregate-postgres")]

NOW = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
OK, FAILED, SKIPPED = ScannerState.OK, ScannerState.FAILED, ScannerState.SKIPPED


def _ts(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _run(
    days_ago: float, *, bandit: ScannerState = OK, pip: ScannerState = OK, sup: dict[str, str] | None = None
) -> RunResult:
    findings = [
        Finding(
            kind=Kind.SAST,
            scanner="bandit",
            rule_id=rule,
            title=f"{rule} accepted",
            message="m",
            severity=Severity.MEDIUM,
            severity_original="MEDIUM",
            location=Location(path=f"src/{rule}.py", start_line=3),
            status=Status.SUPPRESSED,
            suppression=Suppression(origin="file", reason="accepted risk", owner="sec@example.com", expires=exp),
            fingerprint=f"v1:{rule}",
        )
        for rule, exp in (sup or {}).items()
    ]
    return RunResult(
        tool_version="0.1.0",
        target="app",
        started_at=_ts(days_ago),
        finished_at=_ts(days_ago),
        scanners=(
            ScannerStatus(name="bandit", state=bandit, error="bandit crashed: exit 2" if bandit is FAILED else None),
            ScannerStatus(name="pip-audit", state=pip),
        ),
        findings=tuple(findings),
        verdict=Verdict(passed=True, exit_code=0, policy="default"),
    )


HISTORY: dict[str, list[RunResult]] = {
    "good/app": [_run(d) for d in (400, 200, 30, 5, 1)],
    "stale/app": [_run(d) for d in (60, 20)],
    "broken/app": [_run(3), _run(1, bandit=FAILED)],
    "deps/app": [_run(10), _run(4, pip=SKIPPED), _run(1, pip=SKIPPED)],
    "nodeps/app": [_run(d, pip=SKIPPED) for d in (6, 2)],
    "sup/app": [_run(1, sup={"B105": "2024-06-20", "B324": "2024-08-01", "B608": "2024-07-01"})],
}


def _audit_location(store: str) -> str:
    return store if store.startswith("postgresql://") else f"sqlite:{store}"


def _build(store: str, *, audit_from_days: int = 401) -> list[dict[str, object]]:
    with History(store) as h:
        for project, runs in HISTORY.items():
            for r in runs:
                h.add(r, project=project, ref="main")
    loc = trail.parse_location(_audit_location(store))
    return [
        trail.record("gate.verdict", {"n": d}, path=loc, env={"USER": "ci"}, timestamp=_ts(d))
        for d in range(audit_from_days, 0, -50)
    ]


def _check(store: str, *args: str) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GITLAB_"))}
    return secscan("compliance", "check", "--db", store, "--now", NOW.isoformat(), *args, environ=env)


def _violations(res: Run) -> set[tuple[str, str | None]]:
    doc = json.loads(res.stdout)
    return {(v["control"], v["project"]) for v in doc["violations"]}


def test_each_failing_control_is_reported_per_project(store: str) -> None:
    _build(store)
    res = _check(store)
    assert res.returncode == 1, res.stderr
    out = res.stdout
    assert "FAIL scan-age (PCI DSS 11.3) stale/app@main: last scan 20.0 days ago (limit 7 days)" in out
    assert "FAIL scanner-failed (PCI DSS 11.3) broken/app@main: last run: scanner bandit failed: bandit crashed" in out
    assert "FAIL dependency-audit-age (PCI DSS 6.3) deps/app@main: last clean dependency audit 10.0 days ago" in out
    assert (
        "FAIL suppression-expired (PCI DSS 6.3) sup/app@main: suppression of B105 at src/B105.py expired 2024-06-20"
        in out
    )
    assert "B324" not in out and "B608" not in out  # not yet expired (expires today counts as valid)
    assert "ok   audit-trail" in out
    assert "compliance: FAILED: 4 of 6 controls failing, 5 violations, 6 projects/refs checked" in out
    as_json = _check(store, "--format", "json")
    assert as_json.returncode == 1
    assert _violations(as_json) == {
        ("scan-age", "stale/app"),
        ("scanner-failed", "broken/app"),
        ("dependency-audit-age", "deps/app"),
        ("dependency-audit-age", "stale/app"),  # a stale project's dependencies are stale too
        ("suppression-expired", "sup/app"),
    }
    # Thresholds are configurable: a monthly scan and a three-week dependency audit policy pass those.
    relaxed = _check(store, "--max-scan-age", "30", "--max-dependency-age", "21", "--format", "json")
    assert _violations(relaxed) == {("scanner-failed", "broken/app"), ("suppression-expired", "sup/app")}


def test_truncated_audit_trail_fails_the_check(store: str) -> None:
    entries = _build(store)
    # Only the audit trail is at fault below: every other control is relaxed.
    relax = ["--max-scan-age", "90", "--max-dependency-age", "90", "--dependency-scanner", "none"]
    with History(store) as h:
        for table in ("observations", "scanner_runs"):
            h.db.execute(
                f"DELETE FROM {table} WHERE run_id IN (SELECT id FROM runs WHERE project_id IN"  # noqa: S608
                " (SELECT id FROM projects WHERE name IN ('broken/app', 'sup/app')))"
            )
        h.db.execute(
            "DELETE FROM runs WHERE project_id IN (SELECT id FROM projects WHERE name IN ('broken/app', 'sup/app'))"
        )
    clean = _check(store, *relax)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "compliance: PASSED: 0 of 6 controls failing" in clean.stdout
    head = str(entries[-1]["hash"])
    with History(store) as h:
        h.db.execute("DELETE FROM audit_entries WHERE seq = (SELECT MAX(seq) FROM audit_entries)")
    assert _check(store, *relax).returncode == 0  # a shorter chain is still a chain...
    cut = _check(store, *relax, "--expect-head", head)
    assert cut.returncode == 1  # ...but not the one whose head was kept
    assert "FAIL audit-trail (PCI DSS 10.5.1)" in cut.stdout and "entries cut off the end" in cut.stdout
    with History(store) as h:
        h.db.execute("DELETE FROM audit_entries WHERE seq IN (1, 2)")  # the oldest year removed
    front = _check(store, *relax)
    assert front.returncode == 1
    assert "does not verify" in front.stdout and "entries 1..2 are missing (removed)" in front.stdout


def test_audit_trail_keeping_less_than_a_year_fails(store: str, tmp_path: Path) -> None:
    _build(store, audit_from_days=120)  # a valid chain, but the history goes back 400 days
    res = _check(store, "--max-scan-age", "90", "--max-dependency-age", "90", "--format", "json")
    doc = json.loads(res.stdout)
    audit = [v for v in doc["violations"] if v["control"] == "audit-trail"]
    assert res.returncode == 1 and len(audit) == 1
    assert "reaches back only to 2024-03-03T12:00:00Z (120.0 days)" in audit[0]["message"]
    # A file trail given explicitly is checked instead; a missing one is a failed control, not a crash.
    missing = _check(store, "--audit-log", str(tmp_path / "none.jsonl"))
    assert missing.returncode == 1 and "FAIL audit-trail" in missing.stdout and "does not exist" in missing.stdout


def test_no_audit_trail_at_all_fails_and_bad_db_is_usage_error(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    with History(db) as h:
        h.add(_run(1), project="p", ref="main")
    res = _check(str(db))
    assert res.returncode == 1 and "FAIL audit-trail (PCI DSS 10.5.1): no audit trail found" in res.stdout
    gone = _check(str(tmp_path / "nope.sqlite3"))
    assert gone.returncode == 2 and gone.stderr.startswith("secscan: error:") and "does not exist" in gone.stderr


def test_evaluate_thresholds_are_inclusive_limits() -> None:
    day = 86400
    now_epoch = int(NOW.timestamp())
    facts = [
        guardrails.StreamFacts(project="edge", ref="main", last_run_epoch=now_epoch - 7 * day),
        guardrails.StreamFacts(project="over", ref="main", last_run_epoch=now_epoch - 7 * day - 1),
        guardrails.StreamFacts(
            project="never", ref="main", last_run_epoch=now_epoch, dependency_applies=True, last_dependency_epoch=None
        ),
    ]
    audit = guardrails.AuditFacts(location="log", ok=True, entries=3, first_timestamp=_ts(365))
    rep = guardrails.evaluate(facts, audit, now=NOW, thresholds=guardrails.Thresholds())
    assert [(v.control, v.project) for v in rep.violations] == [
        ("dependency-audit-age", "never"),
        ("scan-age", "over"),
    ]
    assert "never audited cleanly" in rep.violations[0].message
    assert rep.passed_controls == ("scanner-failed", "suppression-expired", "audit-trail", "sla") and not rep.ok


def test_dashboard_shows_the_guardrails_panel_escaped(store: str, tmp_path: Path) -> None:
    _build(store)
    evil = _run(1, sup={"<img src=x onerror=alert(1)>": "2024-06-01"})
    with History(store) as h:
        h.add(evil, project="<script>p</script>", ref="main")
    html = tmp_path / "d.html"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GITLAB_"))}
    res = secscan("dashboard", "--db", store, "--now", NOW.isoformat(), "-o", str(html), environ=env)
    assert res.returncode == 0, res.stderr  # the dashboard reports; only `compliance check` fails the job
    assert "4 compliance controls failing" in res.stdout
    text = html.read_text(encoding="utf-8")
    panel = text.split('<section class="card compliance">', 1)[1].split("</section>", 1)[0]
    assert '<span class="badge fail">FAIL</span> scan-age' in panel
    assert '<span class="badge pass">ok</span> audit-trail' in panel
    assert "stale/app" in panel and "last scan 20.0 days ago" in panel and "bandit crashed: exit 2" in panel
    assert "<script>p" not in text and "&lt;script&gt;p&lt;/script&gt; <span" in panel
    assert "<img" not in text and "suppression of &lt;img src=x onerror=alert(1)&gt;" in panel
