"""secscan.json: round trip, streaming serializer identical to json.dumps, clear errors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from secscan import resultio
from secscan.errors import InputError
from secscan.models import (
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
from secscan.scanners import bandit
from secscan.sourcefiles import SourceTree

DATA = Path(__file__).resolve().parent.parent / "data" / "scanners"


def sample_result() -> RunResult:
    findings = bandit.parse((DATA / "bandit-1.9.4_generated.json").read_text(), tree=SourceTree(None))
    f0 = replace(
        findings[0],
        fingerprint="v1:abc",
        status=Status.SUPPRESSED,
        suppression=Suppression(origin="file", reason="accepted «risk»", owner="sec@example.com", expires="2027-01-01"),
        identifiers=(*findings[0].identifiers, Identifier(type="owasp", value="A08:2021")),
    )
    dep = replace(
        findings[1],
        kind=Kind.DEPENDENCY,
        severity=Severity.CRITICAL,
        location=Location(path="requirements.txt", package="requests", version="2.19.1"),
        other_locations=(Location(path="requirements-dev.txt", package="requests", version="2.19.1"),),
        fixed_versions=("2.20.0",),
        sources=(
            Source(
                scanner="pip-audit", rule_id="PYSEC-2018-28", severity_original="", message="m", location=Location()
            ),
        ),
    )
    return RunResult(
        tool_version="0.1.0",
        target="app",
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:01:00Z",
        scanners=(ScannerStatus(name="bandit", state=ScannerState.OK, version="1.9.4", duration_s=1.5, findings=8),),
        findings=(f0, dep, *findings[2:]),
        advisory_db="sha256:x@2024",
        warnings=("w",),
        meta=(("ci_job_url", "https://gitlab.example.com/j/1"),),
    )


def test_round_trip_is_lossless() -> None:
    r = sample_result()
    assert resultio.loads(resultio.dumps(r)) == r


@pytest.mark.parametrize("n", [0, 1, 8])
def test_streaming_dumps_equals_plain_json_dumps(n: int) -> None:
    r = sample_result()
    r = replace(r, findings=r.findings[:n])
    assert resultio.dumps(r) == json.dumps(resultio.result_to_dict(r), indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{", "not valid JSON"),
        ('{"schema": "other/2"}', "expected 'secscan/1'"),
        ('{"schema": "secscan/1", "findings": [{"kind": "sast"}]}', "findings[0]: missing field 'scanner'"),
        (
            '{"schema": "secscan/1", "findings": '
            '[{"kind": "nope", "scanner": "s", "rule_id": "r", "severity": "low"}]}',
            "findings[0].kind: 'nope' is not one of",
        ),
        ('{"schema": "secscan/1", "scanners": [{"name": "b", "state": "ok", "duration_s": "x"}]}', "duration_s"),
    ],
)
def test_malformed_documents_name_the_problem(doc: str, message: str) -> None:
    with pytest.raises(InputError, match=r"res\.json") as exc:
        resultio.loads(doc, origin="res.json")
    assert message in exc.value.message


def test_unreadable_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        resultio.load(tmp_path / "missing.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="not UTF-8"):
        resultio.load(tmp_path / "bin.json")
