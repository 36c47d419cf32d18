"""Every SARIF the tests produce passes Microsoft's SARIF Multitool with no error and no warning.

The Multitool (npm ``@microsoft/sarif-multitool``, installed by .ci/run) reads SARIF the way
Microsoft's SARIF SDK does. Checked here, in one run of it: the golden SARIF, the SARIF of a
real scan of the example app, a hostile result, every imported producer's file rendered back,
and - so the check is known to bite - the golden SARIF as secscan wrote it before (rule names
equal to their ids: SARIF1001, the warnings the issue counted).
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest

from secscan import reporters
from secscan.models import (
    Confidence,
    Finding,
    Identifier,
    Kind,
    Location,
    RunResult,
    ScannerState,
    ScannerStatus,
    Severity,
    Source,
    Status,
    Suppression,
)
from secscan.reporters import sarif as sarif_reporter
from secscan.resultio import load as load_result
from tests.conftest import DATA, ROOT, require_tool
from tests.importers.importers_support import SARIF, multitool_problems
from tests.support.cli import secscan

GOLDEN = DATA / "reporters" / "golden" / "secscan.sarif"


def hostile_result() -> RunResult:
    """Everything a hostile merge request or an odd scanner can put into a SARIF log."""
    evil = "<script>alert(1)</script> @all ![x](javascript:alert(1)) ```\x1b[31m|pipe| \u202etxet"
    loc = Location(
        path="app/we ird/ünï%20code.py", start_line=3, end_line=3, start_column=5, end_column=2, snippet=evil
    )
    findings = [
        Finding(
            kind=Kind.SAST,
            scanner="semgrep",
            rule_id="rules.semgrep.<b>bold</b> id",
            title=evil,
            message=evil * 20,
            severity=Severity.CRITICAL,
            severity_original="ERROR",
            confidence=Confidence.HIGH,
            location=loc,
            other_locations=(Location(path="/other/machine/x.py", start_line=1), Location(path="C:/code/file1.c")),
            related_locations=(Location(path="app/views.py", start_line=9),),
            identifiers=(Identifier(type="cwe", value="CWE-79"), Identifier(type="fingerprint", value="k:v")),
            references=("javascript:alert(1)", "https://example.com/<x>"),
            fix=evil,
            fingerprint="v1:" + "a" * 32,
            sources=(Source(scanner="semgrep", rule_id="x", severity_original="ERROR", message=evil, location=loc),),
        ),
        Finding(
            kind=Kind.SECRET,
            scanner="gitleaks",
            rule_id="AWS Access Key secret detected",
            title="AWS Access Key",
            message="AKIAIOSFODNN7EXAMPLE",
            severity=Severity.HIGH,
            severity_original="error",
            location=Location(path="config.py", start_line=7, snippet="KEY = 'AKIAIOSFODNN7EXAMPLE'"),
            status=Status.SUPPRESSED,
            suppression=Suppression(origin="inline", reason=evil, matched_by="sarif:external"),
            fingerprint="v1:" + "b" * 32,
        ),
        Finding(
            kind=Kind.DEPENDENCY,
            scanner="pip-audit",
            rule_id="PYSEC-2018-28",
            title="requests",
            message="",
            severity=Severity.MEDIUM,
            severity_original="",
            location=Location(path="requirements.txt", package="requests", version="2.19.0"),
            fixed_versions=("2.20.0",),
            status=Status.EXISTING,
            fingerprint="v1:" + "c" * 32,
        ),
        Finding(
            kind=Kind.DAST,
            scanner="zap",
            rule_id="10020-1",
            title="Missing Anti-clickjacking Header",
            message=evil,
            severity=Severity.LOW,
            severity_original="Medium (Medium)",
            location=Location(url="https://app.example.com/pay?card=4111111111111111&x=<y>", method="GET"),
            fingerprint="v1:" + "d" * 32,
        ),
        Finding(
            kind=Kind.SAST,
            scanner="a tool/with odd name",
            rule_id="",
            title="",
            message="",
            severity=Severity.INFO,
            severity_original="",
            fingerprint="v1:" + "e" * 32,
        ),
    ]
    return RunResult(
        tool_version="0.1.0",
        target="/builds/x",
        started_at="2026-01-01T10:00:00Z",
        finished_at="2026-01-01T10:01:00Z",
        scanners=(
            ScannerStatus(name="semgrep", state=ScannerState.OK, version="1.182.0"),
            ScannerStatus(name="gitleaks", state=ScannerState.OK, version="v7.4.0"),
            ScannerStatus(name="pip-audit", state=ScannerState.FAILED, error=evil, not_audited=("x==1: " + evil,)),
            ScannerStatus(name="zap", state=ScannerState.NOT_INSTALLED, error="zap is not installed"),
            ScannerStatus(name="bandit", state=ScannerState.TIMEOUT, version="@package_version@", error="timed out"),
        ),
        findings=tuple(findings),
        baseline="baseline.json",
    )


def _old_style_golden(dest: Path) -> Path:
    """The golden SARIF as secscan wrote it before: every rule named after its own id."""
    doc = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for run in doc["runs"]:
        for rule in run["tool"]["driver"]["rules"]:
            rule["name"] = rule["id"]
    dest.write_text(json.dumps(doc), encoding="utf-8")
    return dest


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every SARIF file to check, by label."""
    work = tmp_path_factory.mktemp("sarif")
    files: dict[str, Path] = {"golden": GOLDEN}
    files["hostile"] = work / "hostile.sarif"
    files["hostile"].write_text(reporters.render("sarif", hostile_result()), encoding="utf-8")
    files["reporters result.json"] = work / "reporters-result.sarif"
    files["reporters result.json"].write_text(
        reporters.render("sarif", load_result(DATA / "reporters" / "result.json")), encoding="utf-8"
    )
    return files


@pytest.mark.integration
def test_every_sarif_the_tests_produce_passes_the_multitool(
    produced: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = dict(produced)
    # A real scan of the example app (bandit, semgrep, pip-audit with the bundled advisories).
    require_tool("bandit")
    require_tool("semgrep")
    app = tmp_path / "payment-app"
    shutil.copytree(ROOT / "examples" / "payment-app", app)
    out = tmp_path / "scan"
    rc, _, err = secscan(
        "scan", str(app), "--advisory-db", str(ROOT / "examples" / "advisories"), "--out", str(out),
        "--format", "sarif", "--no-progress"
    )  # fmt: skip
    assert rc == 1, err  # the example app is vulnerable on purpose: its findings block
    files["example app scan"] = out / "secscan.sarif"
    # Every imported producer's file, rendered back to SARIF by secscan.
    for src in sorted(p for p in SARIF.glob("*/*") if p.name != "README.md"):
        label = f"import of {src.parent.name}/{src.name}"
        result = tmp_path / f"{src.parent.name}-{src.name}.json"
        assert secscan("import", "--tool", "sarif", str(src), "-o", str(result))[0] == 0
        files[label] = tmp_path / f"{src.parent.name}-{src.name}.sarif"
        assert secscan("report", str(result), "--format", "sarif", "-o", str(files[label]))[0] == 0
    control = _old_style_golden(tmp_path / "old-style-golden.sarif")

    problems = multitool_problems([*files.values(), control], tmp_path)

    by_file: dict[str, list[str]] = defaultdict(list)
    for p in problems:
        by_file[p.rsplit(" in ", 1)[-1]].append(p)
    bad = {
        label: by_file[path.resolve().as_uri()] for label, path in files.items() if by_file.get(path.resolve().as_uri())
    }
    assert bad == {}
    # The check bites: the old output's SARIF1001 warnings (one per rule) are found.
    old = by_file[control.resolve().as_uri()]
    assert old and all(p.startswith("SARIF1001 warning") for p in old)
    assert len(old) == sum(len(r["tool"]["driver"]["rules"]) for r in json.loads(GOLDEN.read_text())["runs"])
    # And nothing else was reported that the per-file grouping could have missed.
    assert len(problems) == len(old)


def test_why_the_golden_sarif_changed() -> None:
    # The golden SARIF was regenerated for exactly these Multitool rules; nothing else moved.
    for label, doc in (
        ("golden", json.loads(GOLDEN.read_text())),
        ("hostile", sarif_reporter.to_dict(hostile_result())),
    ):
        for run in doc["runs"]:
            driver = run["tool"]["driver"]
            # SARIF1001: a name equal to the id must be omitted (we have no friendlier one).
            assert all("name" not in rule for rule in driver["rules"]), label
            # SARIF2005: a version that starts with a number, and where to read about the tool.
            assert driver["version"][:1].isdigit() and driver["informationUri"], label
            assert len(driver["name"].split()) <= 3, label
            for result in run["results"]:
                for loc in result.get("locations", []):
                    phys = loc["physicalLocation"]
                    # SARIF2017: every physical location has a region (a whole file: its first line).
                    assert phys["region"]["startLine"] >= 1, label
                    art = phys["artifactLocation"]
                    # SARIF1004: an absolute location is a file: URI with no uriBaseId.
                    assert art["uri"].startswith(("file:", "https:", "http:")) != ("uriBaseId" in art), (label, art)
