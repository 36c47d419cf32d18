"""An incomplete scan is not a clean scan: the imported scanner fails, and the gate fails closed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.importers.importers_support import DATA, SARIF, load
from tests.support.cli import secscan


def _import(tool: str, src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[dict, str]:
    out = tmp_path / "r.json"
    rc, _, err = secscan("import", "--tool", tool, str(src), "-o", str(out), "--root", str(tmp_path))
    assert rc == 0
    return load(out), err


def _gate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> int:
    return secscan("gate", str(tmp_path / "r.json"))[0]


def test_semgrep_rule_error_fails_the_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A rule that failed to parse: semgrep scanned nothing with it, and found nothing.
    doc, err = _import("semgrep", DATA / "semgrep/semgrep-1.182.0_rule-error_generated.json", tmp_path, capsys)
    [status] = doc["scanners"]
    assert status["state"] == "failed" and doc["findings"] == []
    assert "Rule parse error (tmp.gen.badrules.broken)" in status["error"] and "Rule parse error" in err
    assert _gate(tmp_path, capsys) == 3


def test_semgrep_warn_level_errors_are_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = json.loads((DATA / "semgrep/semgrep-1.182.0_rule-error_generated.json").read_text())
    real["errors"][0]["level"] = "warn"  # derived: the same entry at the level semgrep uses for partial parses
    src = tmp_path / "warn.json"
    src.write_text(json.dumps(real))
    doc, err = _import("semgrep", src, tmp_path, capsys)
    assert doc["scanners"][0]["state"] == "ok" and "Rule parse error" in err
    assert _gate(tmp_path, capsys) == 0


def test_bandit_errors_fail_the_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Real bandit 1.9.4: one file could not be parsed, the other's MD5 finding is reported.
    doc, _ = _import("bandit", DATA / "bandit/bandit-1.9.4_syntax-error_generated.json", tmp_path, capsys)
    [status] = doc["scanners"]
    assert status["state"] == "failed"
    # The same accounting as a live run (issue trust-2): the file is named, with bandit's reason.
    assert status["error"].endswith("1 file(s) not analysed: app/broken.py (syntax error while parsing AST from file)")
    assert status["incomplete_files"] == ["app/broken.py (syntax error while parsing AST from file)"]
    assert [f["rule_id"] for f in doc["findings"]] == ["B324"]
    # The high MD5 finding blocks (exit 1 wins over 3); the failed scanner is a reason too.
    gated = tmp_path / "gated.json"
    assert secscan("gate", str(tmp_path / "r.json"), "-o", str(gated))[0] == 1
    assert any(
        "bandit" in r["message"] for r in load(gated)["verdict"]["reasons"] if r["rule"] != "block.new_at_or_above=high"
    )


def test_bandit_report_without_errors_is_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc, _ = _import("bandit", DATA.parent / "triage/bandit-1.9.4_generated.json", tmp_path, capsys)
    assert doc["scanners"][0]["state"] == "ok"


def test_real_spotbugs_run_with_missing_classes_fails_the_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # SpotBugs 4.4.0: executionSuccessful false, and why in an error-level configuration notification.
    doc, err = _import("sarif", SARIF / "spotbugs/spotbugs_4.4.0.sarif", tmp_path, capsys)
    [status] = doc["scanners"]
    assert (status["name"], status["state"], status["version"]) == ("spotbugs", "failed", "4.4.0")
    assert "executionSuccessful: false): Classes needed for analysis were missing" in status["error"]
    assert len(doc["findings"]) == 56 and "incomplete scan" in err
    # Only notes were found, so nothing blocks: the failed scan alone fails the gate (closed).
    assert _gate(tmp_path, capsys) == 3


@pytest.mark.parametrize(
    ("invocation", "reason"),
    [
        (
            {
                "executionSuccessful": False,
                "toolExecutionNotifications": [{"level": "error", "message": {"text": "out of memory"}}],
            },
            "nodejsscan reports an unsuccessful run (executionSuccessful: false): out of memory",
        ),
        (
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [{"level": "error", "message": {"text": "could not parse lib.js"}}],
            },
            "nodejsscan reports an error: could not parse lib.js",
        ),
        (
            # SpotBugs' shape: missing classes reported as an error-level configuration notification.
            {
                "executionSuccessful": True,
                "toolConfigurationNotifications": [
                    {"level": "error", "message": {"text": "Classes needed for analysis were missing"}}
                ],
            },
            "nodejsscan reports an error: Classes needed for analysis were missing",
        ),
    ],
)
def test_unsuccessful_sarif_run_fails_the_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], invocation: dict, reason: str
) -> None:
    real = json.loads((SARIF / "njsscan/njsscan_0.2.3.sarif").read_text())
    real["runs"][0]["invocations"] = [{**real["runs"][0]["invocations"][0], **invocation}]  # derived from the real file
    src = tmp_path / "njsscan.sarif"
    src.write_text(json.dumps(real))
    doc, _ = _import("sarif", src, tmp_path, capsys)
    [status] = doc["scanners"]
    assert (status["name"], status["state"], status["version"]) == ("nodejsscan", "failed", "0.2.3")
    assert status["error"].endswith(reason)
    assert len(doc["findings"]) == 2, "what the run did find is still imported"


def test_successful_sarif_run_with_warnings_is_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = json.loads((SARIF / "njsscan/njsscan_0.2.3.sarif").read_text())
    real["runs"][0]["invocations"][0]["toolExecutionNotifications"] = [{"message": {"text": "Syntax error in a.ts"}}]
    src = tmp_path / "njsscan.sarif"
    src.write_text(json.dumps(real))
    doc, err = _import("sarif", src, tmp_path, capsys)
    assert doc["scanners"][0]["state"] == "ok" and "nodejsscan: Syntax error in a.ts" in err


def test_a_failed_run_makes_the_gate_fail_closed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = json.loads((SARIF / "dockle/dockle_0_3_15.sarif").read_text())
    real["runs"][0]["results"] = [r for r in real["runs"][0]["results"] if r["level"] == "note"]  # nothing blocks
    real["runs"][0]["invocations"] = [{"executionSuccessful": False}]
    src = tmp_path / "dockle.sarif"
    src.write_text(json.dumps(real))
    _import("sarif", src, tmp_path, capsys)
    assert _gate(tmp_path, capsys) == 3
    real["runs"][0]["invocations"] = [{"executionSuccessful": True}]
    src.write_text(json.dumps(real))
    _import("sarif", src, tmp_path, capsys)
    assert _gate(tmp_path, capsys) == 0
