"""Every GitLab report validates against GitLab's 15.2.1 schema and SARIF against both SARIF
2.1.0 schemas (copies in tests/data/reporters/schemas), for a rich result and for edge cases."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from secscan import reporters
from secscan.models import Finding, Kind, Location, RunResult, ScannerState, ScannerStatus, Severity
from secscan.resultio import load

DATA = Path(__file__).resolve().parent.parent / "data" / "reporters"
SCHEMAS = DATA / "schemas"

CASES = [
    ("gitlab-sast", "sast-report-format.json"),
    ("gitlab-dependency-scanning", "dependency-scanning-report-format.json"),
    ("gitlab-dast", "dast-report-format.json"),
    ("gitlab-secret-detection", "secret-detection-report-format.json"),
    ("sarif", "sarif-schema-2.1.0.json"),
    ("sarif", "sarif-schema-2.1.0.draft-07.json"),
]


def _validator(name: str) -> Any:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _errors(fmt: str, schema: str, result: RunResult) -> list[str]:
    doc = json.loads(reporters.render(fmt, result))
    return [f"{e.json_path}: {e.message[:200]}" for e in _validator(schema).iter_errors(doc)]


def _edge_results() -> dict[str, RunResult]:
    base = load(DATA / "result.json")
    bare = [
        Finding(
            kind=k,
            scanner="x",
            rule_id="R1",
            title="",
            message="",
            severity=Severity.INFO,
            severity_original="",
            location=Location(),
        )
        for k in Kind
    ]
    return {
        "rich": base,
        "empty": RunResult(
            tool_version="", target="", started_at="2024-05-01T12:00:00+02:00", finished_at="2024-05-01T12:00:01"
        ),
        # Before [triage]: no fingerprints, no verdict, no statuses; bare locations.
        "untriaged": replace(
            base, verdict=None, findings=tuple(replace(f, fingerprint="") for f in base.findings) + tuple(bare)
        ),
        "scanner-failed": replace(
            base,
            scanners=(
                ScannerStatus(name="zap", state=ScannerState.FAILED, error="docker: no such image"),
                ScannerStatus(name="bandit", state=ScannerState.TIMEOUT, error="timed out after 600 s"),
            ),
            findings=(),
        ),
    }


EDGE = _edge_results()


@pytest.mark.parametrize("case", sorted(EDGE))
@pytest.mark.parametrize(("fmt", "schema"), CASES, ids=[f"{f}-{s}" for f, s in CASES])
def test_report_matches_schema(fmt: str, schema: str, case: str) -> None:
    assert _errors(fmt, schema, EDGE[case]) == []


def test_schema_check_is_not_vacuous() -> None:
    # The validator must reject what GitLab rejects, or the tests above prove nothing.
    doc = json.loads(reporters.render("gitlab-dast", EDGE["rich"]))
    del doc["scan"]["scanned_resources"]
    doc["scan"]["start_time"] = "2024-05-01T12:00:00Z"
    msgs = [e.message for e in _validator("dast-report-format.json").iter_errors(doc)]
    assert any("scanned_resources" in m for m in msgs)
    assert any("does not match" in m for m in msgs)


def test_gitlab_times_are_utc_without_zone() -> None:
    doc = json.loads(reporters.render("gitlab-sast", EDGE["empty"]))
    # 12:00+02:00 is 10:00 UTC: converted, not just cut.
    assert doc["scan"]["start_time"] == "2024-05-01T10:00:00"
    assert doc["scan"]["end_time"] == "2024-05-01T12:00:01"
