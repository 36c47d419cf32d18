"""Real SARIF files from ten producers nobody here wrote, imported through the real CLI.

For every file: results in = findings out + counted duplicates + counted non-findings, and the
duplicates the summary counts are exactly the results that repeat another one (same rule, same
file, same region) - computed here from the raw JSON, independently of secscan's code.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.importers.importers_support import SARIF, load
from tests.support.cli import secscan

# file, results, findings, duplicates, not findings, scanners (driver names, normalized)
PRODUCERS: list[tuple[str, int, int, int, int, set[str]]] = [
    ("gitleaks/gitleaks_7.5.0.sarif", 8, 4, 4, 0, {"gitleaks"}),
    ("dockle/dockle_0_3_15.sarif", 4, 4, 0, 0, {"dockle"}),
    ("njsscan/njsscan_0.2.3.sarif", 2, 2, 0, 0, {"nodejsscan"}),
    ("mobsfscan/mobsfscan_0.0.8.json", 9, 9, 0, 0, {"mobsfscan"}),
    ("codescanner/suppression_test.sarif", 5, 5, 0, 0, {"codescanner"}),
    ("codescanner/appendix_k1.sarif", 0, 0, 0, 0, {"codescanner"}),
    ("sentinel/sentinel_fingerprints.sarif", 4, 4, 0, 0, {"sentinelscanner"}),
    ("blackduck/blackduck_nested_fingerprints.sarif", 5, 5, 0, 0, {"example-application"}),
    ("composer/composer-audit_sarif-php-converters.sarif.json", 1, 1, 0, 0, {"composer"}),
    ("bandit/bandit-1.9.4_generated.sarif", 8, 8, 0, 0, {"bandit"}),
    ("semgrep/semgrep-1.182.0_generated.sarif", 3, 3, 0, 0, {"semgrep"}),
    ("flawfinder/flawfinder_2.0.19.sarif", 54, 53, 0, 1, {"flawfinder"}),
    ("spotbugs/spotbugs_4.4.0.sarif", 56, 56, 0, 0, {"spotbugs"}),
    ("sast-scan/taint-python-report.sarif", 11, 10, 1, 0, {"python-security-analysis"}),
]


def _raw_results(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [res for run in doc.get("runs", []) for res in run.get("results", [])]


def _identity(res: dict[str, Any]) -> tuple[object, ...]:
    """What makes a raw result the same problem as another: rule, file and region; with no
    line at all, the message too (nothing else tells such results apart)."""
    rule = res.get("ruleId") or res.get("rule", {}).get("id") or res.get("ruleIndex") or res["message"].get("text")
    locs = res.get("locations") or [{}]
    phys = locs[0].get("physicalLocation", {})
    region = phys.get("region", {})
    place = tuple(region.get(k) for k in ("startLine", "startColumn", "endLine", "endColumn"))
    message = res["message"].get("text") if not region.get("startLine") else None
    return (rule, phys.get("artifactLocation", {}).get("uri"), place, message)


def _exact_duplicates(doc: dict[str, Any]) -> int:
    seen: set[tuple[object, ...]] = set()
    dupes = 0
    for res in _raw_results(doc):
        if res.get("kind") in ("pass", "notApplicable") or res.get("baselineState") == "absent":
            continue
        key = _identity(res)
        dupes += key in seen
        seen.add(key)
    return dupes


def test_at_least_ten_producers() -> None:
    names = {json.loads((SARIF / f).read_text())["runs"][0]["tool"]["driver"]["name"] for f, *_ in PRODUCERS}
    assert len(names) >= 10, names
    on_disk = {str(p.relative_to(SARIF)) for p in SARIF.glob("*/*") if p.name != "README.md"}
    assert on_disk == {f for f, *_ in PRODUCERS}, "every copied file is tested, and only those"


@pytest.mark.parametrize("case", PRODUCERS, ids=[p[0] for p in PRODUCERS])
def test_every_result_is_a_finding_or_a_counted_duplicate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: tuple[str, int, int, int, int, set[str]]
) -> None:
    name, results, findings, duplicates, skipped, scanners = case
    src = SARIF / name
    raw = json.loads(src.read_text(encoding="utf-8"))
    out = tmp_path / "secscan.json"
    argv = ("import", "--tool", "sarif", str(src), "-o", str(out), "--root", str(tmp_path))
    rc, stdout, _ = secscan(*argv)
    assert rc == 0
    doc = load(out)
    meta = doc["meta"]
    # The counts, from three independent places: the raw file, secscan.json, the summary line.
    assert len(_raw_results(raw)) == results == int(meta["import_results"])
    assert _exact_duplicates(raw) == duplicates == int(meta["import_duplicates"])
    assert len(doc["findings"]) == findings == int(meta["import_findings"])
    assert results == findings + duplicates + skipped == findings + duplicates + int(meta["import_skipped"])
    assert f"{results} result(s): {findings} finding(s)" in stdout
    assert ("duplicate(s) merged" in stdout) == bool(duplicates)
    assert {s["name"] for s in doc["scanners"]} == scanners
    assert {f["scanner"] for f in doc["findings"]} <= scanners
    assert all(f["fingerprint"].startswith("v1:") for f in doc["findings"])
    assert len({f["fingerprint"] for f in doc["findings"]}) == findings, "distinct findings keep distinct identities"


def test_gitleaks_repeats_merge_into_findings_that_keep_every_commit_as_a_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Gitleaks reports one leak once per commit that holds it: same message, file and line.
    out = tmp_path / "r.json"
    secscan("import", "--tool", "sarif", str(SARIF / "gitleaks/gitleaks_7.5.0.sarif"), "-o", str(out))
    found = {(f["rule_id"], f["location"]["path"], f["location"]["start_line"]) for f in load(out)["findings"]}
    reports = "dojo/unittests/scans/gitlab_secret_detection_report/gitlab_secret_detection_report_"
    aws, key = "AWS Access Key secret detected", "Asymmetric Private Key secret detected"
    assert found == {
        (aws, reports + "1_vuln.json", 13),
        (key, reports + "3_vuln.json", 13),
        (aws, reports + "3_vuln.json", 44),
        (aws, "dojo/unittests/tools/test_gitlab_secret_detection_report_parser.py", 37),
    }
    # A result with no ruleId is named by its message, and so is its title.
    assert {f["title"] for f in load(out)["findings"]} == {aws, key}
