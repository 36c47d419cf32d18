"""SLAs per severity (issue 31): open findings past the policy's fix-by days are listed by
`compliance check` (a control of its own, PCI DSS 6.3.3) and on the dashboard."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secscan.aggregate.history import History
from secscan.errors import ConfigError
from secscan.models import Finding, Kind, Location, Severity, Status
from secscan.policy import DEFAULT_SLA_DAYS, load_policy
from tests.support.cli import secscan
from tests.support.results import result, scanner


def _finding(fp: str, severity: Severity, path: str, status: Status = Status.EXISTING) -> Finding:
    return Finding(
        kind=Kind.SAST,
        scanner="bandit",
        rule_id=f"R-{fp}",
        title=f"issue {fp}",
        message="m",
        severity=severity,
        severity_original=severity.value,
        location=Location(path=path, start_line=1),
        fingerprint=f"v1:{fp}",
        status=status,
    )


HIGH = _finding("high", Severity.HIGH, "app/a.py")
MEDIUM = _finding("medium", Severity.MEDIUM, "app/b.py")
FIXED_HIGH = _finding("gone", Severity.HIGH, "app/c.py")


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Opened 2026-01-01: a high and a medium still open on 2026-02-20 (50 days), a high fixed on
    2026-01-20 (never past its SLA)."""
    path = str(tmp_path / "h.sqlite3")
    ok = [scanner("bandit")]
    with History(path) as h:
        h.add(result(HIGH, MEDIUM, FIXED_HIGH, scanners=ok, finished_at="2026-01-01T00:00:00Z"), project="shop")
        h.add(result(HIGH, MEDIUM, scanners=ok, finished_at="2026-01-20T00:00:00Z"), project="shop")
        h.add(result(HIGH, MEDIUM, scanners=ok, finished_at="2026-02-19T00:00:00Z"), project="shop")
    return path


def test_compliance_check_lists_open_findings_past_their_sla(db: str, tmp_path: Path) -> None:
    now = "2026-02-20T00:00:00Z"
    proc = secscan("compliance", "check", "--db", db, "--now", now, "--format", "json", "--audit-log", "x.jsonl")
    report = json.loads(proc.stdout)
    sla = [v for v in report["violations"] if v["control"] == "sla"]
    # High: 30 days (PCI DSS 6.3.3) -> due 2026-01-31, 20 days over. Medium: 90 days -> not yet.
    assert [(v["project"], v["requirement"]) for v in sla] == [("shop", "6.3.3")]
    assert "v1:high" in sla[0]["message"] and "due 2026-01-31, 20 days over" in sla[0]["message"]
    text = secscan("compliance", "check", "--db", db, "--now", now, "--audit-log", "x.jsonl")
    assert text.returncode == 1 and "FAIL sla (PCI DSS 6.3.3) shop@default" in text.stdout

    lenient = tmp_path / "policy.toml"
    lenient.write_text("version = 1\n[sla]\nhigh = 60\nmedium = 40\n")
    again = secscan(
        "compliance", "check", "--db", db, "--now", now, "--format", "json", "--policy", str(lenient),
        "--audit-log", "x.jsonl",
    )  # fmt: skip
    moved = [v["message"] for v in json.loads(again.stdout)["violations"] if v["control"] == "sla"]
    assert len(moved) == 1 and "v1:medium" in moved[0] and "due 2026-02-10, 10 days over" in moved[0]


def test_the_dashboard_lists_the_breaches(db: str, tmp_path: Path) -> None:
    out = tmp_path / "d.html"
    proc = secscan("dashboard", "--db", db, "--now", "2026-02-20T00:00:00Z", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text()
    section = html.split("Open findings past their SLA", 1)[1].split("</section>", 1)[0]
    assert "R-high" in section and "20 d" in section and "R-medium" not in section and "R-gone" not in section


def test_sla_days_in_the_policy_are_checked(tmp_path: Path) -> None:
    assert load_policy(None).sla_days == DEFAULT_SLA_DAYS  # the shipped file says what the code defaults to
    for body, message in (
        ("[sla]\nurgent = 3\n", "unknown severity 'urgent'"),
        ("[sla]\nhigh = 0\n", "expected a positive number of days"),
        ('[sla]\nhigh = "soon"\n', "expected a positive number of days"),
    ):
        bad = tmp_path / "p.toml"
        bad.write_text("version = 1\n" + body)
        with pytest.raises(ConfigError, match=message):
            load_policy(bad)
    ok = tmp_path / "none.toml"
    ok.write_text('version = 1\n[sla]\nlow = "none"\n')
    assert load_policy(ok).sla_days[Severity.LOW] is None
