"""History store and metrics: a hand-checked story of one project's findings over four runs."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from secscan import resultio
from secscan.aggregate import metrics
from secscan.aggregate.history import History, add_file
from secscan.dbtarget import default_target
from secscan.errors import ConfigError, InputError
from secscan.models import (
    Finding,
    Identifier,
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

NOW = datetime(2024, 6, 30, 12, 0, tzinfo=UTC)


def _f(
    fp: str,
    sev: Severity,
    *,
    scanner: str = "bandit",
    rule: str | None = None,
    status: Status = Status.EXISTING,
    cwe: str = "CWE-78",
    pci: tuple[str, ...] = (),
    expires: str | None = None,
) -> Finding:
    return Finding(
        kind=Kind.SAST,
        scanner=scanner,
        rule_id=rule or f"R-{fp}",
        title=f"title {fp}",
        message="m",
        severity=sev,
        severity_original=sev.value,
        location=Location(path=f"src/{fp}.py", start_line=1),
        identifiers=(Identifier(type="cwe", value=cwe),),
        compliance=pci,
        status=status,
        suppression=Suppression(origin="file", reason="accepted", owner="sec", expires=expires) if expires else None,
        fingerprint=f"v1:{fp}",
    )


def _run(
    when: str, findings: list[Finding], *, bandit: ScannerState = ScannerState.OK, passed: bool = False
) -> RunResult:
    return RunResult(
        tool_version="0.1.0",
        target="app",
        started_at=when,
        finished_at=when,
        scanners=(
            ScannerStatus(name="bandit", state=bandit, error="bandit crashed" if bandit.is_error else None),
            ScannerStatus(name="semgrep", state=ScannerState.OK),
        ),
        findings=tuple(findings),
        verdict=Verdict(passed=passed, exit_code=0 if passed else 1, policy="default"),
        meta=(("ci_job_url", "https://gitlab.example/job/1"),),
    )


PCI_624 = ("PCI-DSS-4.0:6.2.4", "OWASP-2021:A03")
G_SUP = dict(status=Status.SUPPRESSED, expires="2024-06-15")

STORY = [
    _run(
        "2024-06-01T00:00:00Z",
        [
            _f("A", Severity.HIGH, pci=PCI_624),
            _f("B", Severity.MEDIUM, rule="B608"),
            _f("C", Severity.LOW, rule="B608"),
            _f("G", Severity.LOW),
        ],
    ),
    _run(
        "2024-06-10T00:00:00Z",
        [_f("A", Severity.HIGH, pci=PCI_624), _f("B", Severity.MEDIUM, rule="B608"), _f("G", Severity.LOW, **G_SUP)],  # type: ignore[arg-type]
    ),
    # bandit crashed: its findings are not reported, but that is no fix.
    _run(
        "2024-06-25T00:00:00Z",
        [
            _f(
                "D",
                Severity.CRITICAL,
                scanner="semgrep",
                cwe="CWE-327",
                pci=("PCI-DSS-4.0:6.2.4", "PCI-DSS-4.0:3.5.1"),
            )
        ],
        bandit=ScannerState.FAILED,
    ),
    _run(
        "2024-06-28T00:00:00Z",
        [
            _f("A", Severity.HIGH, pci=PCI_624),
            _f(
                "D", Severity.CRITICAL, scanner="semgrep", cwe="CWE-327", pci=("PCI-DSS-4.0:6.2.4", "PCI-DSS-4.0:3.5.1")
            ),
            _f("E", Severity.MEDIUM, status=Status.SUPPRESSED, expires="2024-07-10"),
            _f("F", Severity.HIGH, status=Status.FIXED),
            _f("G", Severity.LOW, **G_SUP),  # type: ignore[arg-type]
        ],
    ),
]


@pytest.fixture
def story_db(tmp_path: Path) -> Path:
    db = tmp_path / "h.sqlite3"
    with History(db) as h:
        for r in STORY:
            assert h.add(r, project="alpha", ref="main").added
        h.add(_run("2024-06-29T00:00:00Z", [_f("X", Severity.HIGH)], passed=True), project="beta", ref="main")
    return db


def _dash(db: Path) -> metrics.Dashboard:
    with History(db) as h:
        return metrics.compute(h.iter_streams(), now=NOW)


def test_project_metrics_follow_findings_by_fingerprint(story_db: Path) -> None:
    d = _dash(story_db)
    alpha = next(p for p in d.projects if p.project == "alpha")
    assert alpha.runs == 4
    assert dict(zip(metrics.SEV_ORDER, alpha.open_by_severity, strict=True)) == {
        "critical": 1,
        "high": 1,
        "medium": 0,
        "low": 0,
        "info": 0,
    }
    assert (alpha.new_7, alpha.new_30) == (1, 5)  # D; then A, B, C, G (06-01) and D
    assert (alpha.fixed_7, alpha.fixed_30) == (1, 2)  # B on 06-28 (not 06-25: bandit failed); C on 06-10
    assert alpha.fixed_total == 2  # G was suppressed, not fixed; F only ever reported as fixed
    assert alpha.oldest_open_days == pytest.approx(29.5)  # A, open since 06-01 00:00
    assert alpha.mttf_days == pytest.approx((9 + 27) / 2)
    assert alpha.sparkline == (4, 2, 3, 2)
    assert alpha.last_job_url == "https://gitlab.example/job/1"
    # Worst project first.
    assert [p.project for p in d.projects] == ["alpha", "beta"]
    assert d.totals is not None and d.totals.open_total == 3 and d.total_runs == 5


def test_trend_is_the_open_count_as_of_each_day(story_db: Path) -> None:
    d = _dash(story_db)
    by_day = {t.day: t for t in d.trend}
    # 60 days asked for; the empty ones before the first run are dropped but one.
    assert (len(d.trend), d.trend[0].day, d.trend[-1].day) == (31, "2024-05-31", "2024-06-30")
    assert sum(by_day["2024-05-31"].open_by_severity) == 0
    assert sum(by_day["2024-06-05"].open_by_severity) == 4
    assert sum(by_day["2024-06-12"].open_by_severity) == 2
    assert sum(by_day["2024-06-26"].open_by_severity) == 3
    assert by_day["2024-06-30"].open_by_severity == (1, 2, 0, 0, 0)  # alpha A, D + beta X
    assert by_day["2024-06-01"].new == 4 and by_day["2024-06-10"].fixed == 1 and by_day["2024-06-28"].fixed == 1
    assert by_day["2024-06-25"].fixed == 0


def test_top_rules_cwes_and_pci_view(story_db: Path) -> None:
    d = _dash(story_db)
    assert [(r.rule_id, r.open, r.projects, r.worst) for r in d.top_rules] == [
        ("R-A", 1, 1, "high"),
        ("R-D", 1, 1, "critical"),
        ("R-X", 1, 1, "high"),
    ]
    cwes = {c.cwe: (c.open, c.projects, c.worst) for c in d.top_cwes}
    assert cwes == {"CWE-78": (2, 2, "high"), "CWE-327": (1, 1, "critical")}
    groups = {g.number: g for g in d.pci}
    assert len(groups) == 12
    assert (groups["6"].open, groups["6"].projects) == (2, 1)
    assert [(r.requirement, r.open, r.worst) for r in groups["6"].requirements] == [("6.2.4", 2, "critical")]
    assert [(r.requirement, r.rules) for r in groups["3"].requirements] == [("3.5.1", ("R-D",))]
    assert groups["10"].open == 0


def test_expiring_suppressions_and_scanner_failures(story_db: Path) -> None:
    d = _dash(story_db)
    assert [(e.project, e.rule_id, e.expires, e.days_left, e.owner) for e in d.expiring] == [
        ("alpha", "R-G", "2024-06-15", -15, "sec"),
        ("alpha", "R-E", "2024-07-10", 10, "sec"),
    ]
    assert [(f.project, f.scanner, f.state, f.failed_runs, f.of_runs, f.failing_now) for f in d.failures] == [
        ("alpha", "bandit", "failed", 1, 4, False)
    ]
    assert d.failures[0].error == "bandit crashed"


def test_same_result_added_twice_is_stored_once(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    f = tmp_path / "secscan.json"
    f.write_text(resultio.dumps(STORY[0]), encoding="utf-8")
    with History(db) as h:
        first = add_file(h, f, project="alpha")
        again = add_file(h, f, project="alpha")
        assert first.added and not again.added and first.run_id == again.run_id
        assert first.ref == "default"
        assert h.counts() == (1, 1)
        backfilled = add_file(h, f, project="gamma", ref="develop", at="2024-01-02T03:04:05+01:00")
        assert backfilled.finished_at == "2024-01-02T02:04:05Z"
        assert h.streams() == [("alpha", "default"), ("gamma", "develop")]


def test_bad_inputs_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope", encoding="utf-8")
    notdb = tmp_path / "not.sqlite3"
    notdb.write_text("this is not sqlite, just text " * 100, encoding="utf-8")
    with History(tmp_path / "h.sqlite3") as h:
        with pytest.raises(InputError, match="not valid JSON"):
            add_file(h, bad, project="p")
        with pytest.raises(InputError, match="not an ISO-8601"):
            h.add(STORY[0], project="p", finished_at="yesterday")
        with pytest.raises(ConfigError, match="project name"):
            h.add(STORY[0], project="  ")
        assert h.counts() == (0, 0)  # nothing half-stored
    with pytest.raises(ConfigError, match="not a secscan history database"):
        History(notdb)


def test_schema_is_versioned(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    History(db).close()
    con = sqlite3.connect(db)
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.commit()
    con.close()
    with pytest.raises(ConfigError, match="schema version 99"):
        History(db)


def test_default_db_path_honours_env(tmp_path: Path) -> None:
    assert default_target({"SECSCAN_HISTORY_DB": str(tmp_path / "x.db")}).path == tmp_path / "x.db"
    default = default_target({})
    assert default.path is not None and default.path.name == "history.sqlite3"
    pg = default_target({"SECSCAN_HISTORY_DB": "postgresql://u:pw@db.example:5432/h"})
    assert pg.is_postgres and pg.path is None
