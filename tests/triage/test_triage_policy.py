"""Policy files and the verdict that explains itself."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from secscan.errors import ConfigError, ExitCode
from secscan.models import Finding, RunResult, ScannerState, ScannerStatus, Severity, Status, Suppression
from secscan.policy import Policy, evaluate, format_verdict, load_policy
from tests.support import results
from tests.triage.triage_helpers import dast, dep, sast

DEFAULT = load_policy(None)


def result(*findings: Finding, scanners: tuple[ScannerStatus, ...] = ()) -> RunResult:
    fs = (replace(f, fingerprint=f.fingerprint or f"v1:{n:032x}") for n, f in enumerate(findings))
    return results.result(*fs, scanners=scanners)


def policy_file(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "policy.toml"
    p.write_text("version = 1\n" + body, encoding="utf-8")
    return p


def test_default_policy_is_shipped_and_sane() -> None:
    assert DEFAULT.block_at_or_above is Severity.HIGH and DEFAULT.fail_closed
    assert DEFAULT.inline_max_severity is Severity.MEDIUM and DEFAULT.name == "default"


def test_new_high_blocks_and_names_the_rule() -> None:
    v = evaluate(result(sast(severity=Severity.HIGH), sast(severity=Severity.MEDIUM, line=8)), DEFAULT)
    assert not v.passed and v.exit_code == ExitCode.GATE_FAILED
    [reason] = v.reasons
    assert reason.rule == "block.new_at_or_above=high" and reason.fingerprint == "v1:" + "0" * 32
    assert "B324" in reason.message and "app/views.py:16" in reason.message


@pytest.mark.parametrize("status", [Status.EXISTING, Status.FIXED])
def test_only_new_findings_count(status: Status) -> None:
    v = evaluate(result(replace(sast(severity=Severity.CRITICAL), status=status)), DEFAULT)
    assert v.passed and v.exit_code == ExitCode.PASSED


def test_file_suppression_is_accepted_at_any_severity() -> None:
    f = replace(
        sast(severity=Severity.CRITICAL),
        status=Status.SUPPRESSED,
        suppression=Suppression(origin="file", reason="r", owner="o"),
        tags=("underlying:new",),
    )
    assert evaluate(result(f), DEFAULT).passed


def inline(sev: Severity, underlying: str = "new") -> Finding:
    return replace(
        sast(severity=sev),
        status=Status.SUPPRESSED,
        suppression=Suppression(origin="inline", reason="inline comment: # nosec on line 16"),
        tags=(f"underlying:{underlying}",),
    )


def test_inline_suppression_refused_for_high_but_accepted_for_medium() -> None:
    v = evaluate(result(inline(Severity.HIGH)), DEFAULT)
    assert not v.passed and v.reasons[0].rule == "inline_suppressions.max_severity=medium"
    assert "# nosec" in v.reasons[0].message
    assert evaluate(result(inline(Severity.MEDIUM)), DEFAULT).passed
    # An existing finding with a new inline comment does not block, but the verdict says so.
    v = evaluate(result(inline(Severity.HIGH, "existing")), DEFAULT)
    assert v.passed and any("inline suppression" in w for w in v.warnings)


def test_per_kind_thresholds_and_none(tmp_path: Path) -> None:
    pol = load_policy(
        policy_file(
            tmp_path, '[block]\nnew_at_or_above = "critical"\n[block.kinds]\ndast = "low"\ndependency = "none"\n'
        )
    )
    v = evaluate(
        result(dast(severity=Severity.LOW), dep(severity=Severity.CRITICAL), sast(severity=Severity.HIGH)), pol
    )
    assert [r.rule for r in v.reasons] == ["block.kinds.dast=low"]
    assert pol.name == "policy"


def test_max_counts(tmp_path: Path) -> None:
    pol = load_policy(policy_file(tmp_path, '[block]\nnew_at_or_above = "none"\n[max_new]\nmedium = 1\ntotal = 3\n'))
    two = [sast(severity=Severity.MEDIUM, line=n) for n in (1, 2)]
    v = evaluate(result(*two), pol)
    assert [r.rule for r in v.reasons] == ["max_new.medium=1"] and "2 new medium findings" in v.reasons[0].message
    four_low = [sast(severity=Severity.LOW, line=n) for n in range(4)]
    assert [r.rule for r in evaluate(result(*four_low), pol).reasons] == ["max_new.total=3"]
    assert evaluate(result(*four_low[:3]), pol).passed


def failed(name: str = "semgrep") -> ScannerStatus:
    return ScannerStatus(name=name, state=ScannerState.TIMEOUT, error="semgrep exceeded its time limit")


def test_fail_closed_on_scanner_errors() -> None:
    v = evaluate(result(scanners=(failed(),)), DEFAULT)
    assert v.exit_code == ExitCode.SCANNER_FAILED and v.reasons[0].rule == "fail_closed=true"
    assert "semgrep timeout" in v.reasons[0].message
    open_pol = replace(DEFAULT, fail_closed=False)
    v = evaluate(result(scanners=(failed(),)), open_pol)
    assert v.passed and any("fail_closed=false" in w for w in v.warnings)


def test_blocking_findings_win_over_scanner_failure_but_both_are_listed() -> None:
    v = evaluate(result(sast(), scanners=(failed(),)), DEFAULT)
    assert v.exit_code == ExitCode.GATE_FAILED
    assert [r.rule for r in v.reasons] == ["block.new_at_or_above=high", "fail_closed=true"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[block]\nnew_at_or_above = "severe"\n', "block.new_at_or_above: unknown severity 'severe'"),
        ('[block.kinds]\nweb = "high"\n', "unknown kind 'web'"),
        ("[max_new]\nmedium = -1\n", "max_new.medium: expected a non-negative integer"),
        ("fail_closed = 'yes'\n", "fail_closed must be true or false"),
        ("blok = 1\n", "unknown key(s) blok"),
        ("[block\n", "invalid TOML"),
    ],
)
def test_bad_policy_files_are_config_errors(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        load_policy(policy_file(tmp_path, body))
    assert message in e.value.message and "policy.toml" in e.value.message


def test_missing_policy_and_version(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_policy(tmp_path / "nope.toml")
    p = tmp_path / "v.toml"
    p.write_text("version = 2\n")
    with pytest.raises(ConfigError, match="version = 1"):
        load_policy(p)


def test_format_verdict_says_each_policy_clause_once_in_plain_text() -> None:
    # The findings are listed in full above the verdict (secscan/reporters/terminal.py): the
    # clause that blocks them is said once, with their number, not repeated on every line.
    evil = replace(sast(), title="x\x1b[31m red")
    text = format_verdict(evaluate(result(evil, sast(rule_id="B602", line=8, cwe="CWE-78")), DEFAULT))
    lines = text.splitlines()
    assert lines[0].startswith("secscan gate: FAILED (exit 1) - policy default")
    assert [ln.strip() for ln in lines if "block.new_at_or_above" in ln] == [
        "blocked by block.new_at_or_above=high: 2 finding(s) (listed above)"
    ]
    assert "\x1b" not in text


def test_policy_dataclass_default_matches_file() -> None:
    assert Policy().block_at_or_above == DEFAULT.block_at_or_above


def test_a_result_with_no_scanner_at_all_is_not_a_pass() -> None:
    v = evaluate(result(), DEFAULT)
    assert not v.passed and v.exit_code == ExitCode.SCANNER_FAILED
    assert "no scanner run" in v.reasons[0].message
    # Skipped scanners (e.g. --changed-only with nothing to scan) did run: that passes.
    skipped = ScannerStatus(name="bandit", state=ScannerState.SKIPPED, error="no changed Python files")
    assert evaluate(result(scanners=(skipped,)), DEFAULT).passed
    assert evaluate(result(), replace(DEFAULT, fail_closed=False)).passed
