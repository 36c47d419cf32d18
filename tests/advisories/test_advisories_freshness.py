"""The store `advisories update` builds, used offline by a real scan: severity from every record
of a vulnerability (Flask 2.2.4, CVE-2023-30861, gates as high), the snapshot and its age in
secscan.json, and a stale store warning, then failing the gate."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from secscan import policy
from secscan.advisories import update
from secscan.advisories.store import AdvisoryStore
from secscan.errors import ConfigError, ExitCode
from secscan.models import AdvisorySnapshot, RunResult, ScannerState, ScannerStatus
from tests.advisories.advisories_support import EXAMPLES
from tests.advisories.export_support import export_server
from tests.conftest import require_tool
from tests.support.cli import secscan


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store built by `advisories update` from the loopback server's real archives."""
    path = tmp_path_factory.mktemp("store") / "advisories.sqlite"
    for srv in export_server():
        update.update(path, base_url=srv.url, timeout=10)
    yield path


def _project(root: Path, requirements: str) -> Path:
    root.mkdir()
    (root / "requirements.txt").write_text(requirements)
    return root


def _scan(project: Path, db: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any], str]:
    require_tool("pip-audit")
    run = secscan(
        "scan", project, "--only", "pip-audit", "--advisory-db", db, "--out", out, "--no-progress", *extra, clean=True
    )
    return run.returncode, json.loads((out / "secscan.json").read_text()), run.stdout + run.stderr


def _flask(result: dict[str, Any]) -> dict[str, Any]:
    (found,) = [
        f for f in result["findings"] if f["location"].get("package") == "flask" and f["rule_id"] == "PYSEC-2023-62"
    ]
    return found


@pytest.mark.integration
def test_flask_2_2_4_gates_high_offline_with_the_updated_store(store: Path, tmp_path: Path) -> None:
    project = _project(tmp_path / "app", "flask==2.2.4\n")
    code, result, output = _scan(project, store, tmp_path / "out")
    assert code == ExitCode.GATE_FAILED, output
    flask = _flask(result)
    # PYSEC-2023-62 has no CVSS; GitHub's record of the same CVE scores it 7.5.
    assert flask["severity"] == "high"
    assert "GHSA-m2qf-hxjv-5gpq" in flask["severity_original"] and "7.5" in flask["severity_original"]
    assert any("PYSEC-2023-62" in r["message"] for r in result["verdict"]["reasons"])
    # The snapshot it was judged with, and its age, next to judged_with.
    keys = list(result)
    assert keys.index("advisories") == keys.index("judged_with") + 1
    adv = result["advisories"]
    s = AdvisoryStore(store)
    try:
        assert adv["snapshot"] == s.snapshot == result["advisory_db"]
        assert adv["taken_at"] == s.info.fetched_at and adv["fetched"] is True
        assert adv["digest"] == s.info.digest and adv["records"] == dict(s.info.records)
    finally:
        s.close()
    assert 0 <= adv["age_days"] < 1


@pytest.mark.integration
def test_without_the_github_record_the_same_advisory_is_not_high(tmp_path: Path) -> None:
    """The control: the PyPA records alone (no GHSA record) leave CVE-2023-30861 unscored."""
    db = tmp_path / "pypa.sqlite"
    assert secscan("advisories", "import", EXAMPLES / "pypa", "--db", db).returncode == 0
    project = _project(tmp_path / "app", "flask==2.2.4\n")
    code, result, output = _scan(project, db, tmp_path / "out")
    assert _flask(result)["severity"] != "high" and _flask(result)["severity_original"] == "unknown"
    assert code == ExitCode.PASSED, output
    assert result["advisories"]["fetched"] is False  # imported: aged from the import


def _age(store: Path, tmp_path: Path, days: float) -> Path:
    """A copy of the store as it would be ``days`` after its fetch."""
    old = tmp_path / f"aged-{days}.sqlite"
    old.write_bytes(store.read_bytes())
    then = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sqlite3.connect(old) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'fetched_at'", (then,))
    return old


@pytest.mark.integration
def test_a_stale_store_warns_then_fails_the_gate(store: Path, tmp_path: Path) -> None:
    project = _project(tmp_path / "app", "flask==2.3.2\n")  # past every fix: no finding
    code, result, output = _scan(project, _age(store, tmp_path, 3), tmp_path / "warn")
    assert code == ExitCode.PASSED, output
    assert 2.9 < result["advisories"]["age_days"] < 3.1
    assert any("advisories.warn_after_days=2" in w for w in result["verdict"]["warnings"])

    code, result, output = _scan(project, _age(store, tmp_path, 10), tmp_path / "fail")
    assert code == ExitCode.SCANNER_FAILED, output
    (reason,) = result["verdict"]["reasons"]
    assert reason["rule"] == "advisories.max_age_days=7" and "secscan advisories update" in reason["message"]
    # `gate` in another job judges the recorded age the same way; a policy may lift the limit.
    gate = secscan("gate", tmp_path / "fail" / "secscan.json", clean=True)
    assert gate.returncode == ExitCode.SCANNER_FAILED, gate.stdout + gate.stderr
    lenient = tmp_path / "lenient.toml"
    lenient.write_text('version = 1\n[advisories]\nwarn_after_days = 30\nmax_age_days = "none"\n')
    gate = secscan("gate", tmp_path / "fail" / "secscan.json", "--policy", lenient, clean=True)
    assert gate.returncode == ExitCode.PASSED, gate.stdout + gate.stderr


def _result(age: float | None) -> RunResult:
    adv = AdvisorySnapshot(snapshot="sha256:x@2024-01-01T00:00:00Z", source="s", age_days=age)
    ran = (ScannerStatus(name="pip-audit", state=ScannerState.OK),)
    return RunResult(tool_version="t", target=".", started_at="", finished_at="", scanners=ran, advisories=adv)


@pytest.mark.parametrize(
    ("age", "passed", "warned"),
    [(0.5, True, False), (2.5, True, True), (7.0, True, True), (7.01, False, False), (None, False, False)],
)
def test_the_default_policy_limits(age: float | None, passed: bool, warned: bool) -> None:
    verdict = policy.evaluate(_result(age), policy.load_policy(None))
    assert verdict.passed is passed
    assert any("warn_after_days" in w for w in verdict.warnings) is warned
    if not passed:
        assert verdict.exit_code == ExitCode.SCANNER_FAILED
        assert verdict.reasons[0].rule == "advisories.max_age_days=7"


def test_the_limits_are_policy_settings_that_keep_old_digests() -> None:
    default = policy.load_policy(None)
    assert "advisories" not in policy.to_dict(default)  # recorded policies from before keep their digest
    custom = policy.parse_policy({"version": 1, "advisories": {"max_age_days": 1}}, origin="p.toml")
    assert policy.from_dict(policy.to_dict(custom), origin="p.toml") == custom
    assert not policy.evaluate(_result(1.5), custom).passed
    with pytest.raises(ConfigError, match=r"advisories\.max_age_days: expected a number of days"):
        policy.parse_policy({"version": 1, "advisories": {"max_age_days": "soon"}}, origin="p.toml")
    with pytest.raises(ConfigError, match="unknown key"):
        policy.parse_policy({"version": 1, "advisories": {"max_age": 3}}, origin="p.toml")
