"""secscan.json: round trip, the writer's exact text, clear errors naming file and JSON path."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan import resultio, schema
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


HOSTILE = 'quote " backslash \\ tab \t nul \x00 del \x7f sep \u2028 bom \ufeff «é» 🔑 </script>'


@pytest.mark.parametrize("n", [0, 1, 8, schema._BATCH, schema._BATCH * 2 + 3])
def test_text_is_exactly_the_standard_json_pretty_print(n: int) -> None:
    """The writer's text is what ``json.dumps(indent=2, ensure_ascii=False)`` gives (the format
    secscan/1 files have always had), also where findings are spliced in batch by batch."""
    r = sample_result()
    base = (*r.findings, replace(r.findings[0], message=HOSTILE, title=HOSTILE, fingerprint="v1:hostile"))
    findings = tuple(replace(base[i % len(base)], rule_id=f"R{i}") for i in range(n))
    r = replace(r, findings=findings, scanners=(*r.scanners, replace(r.scanners[0], duration_s=1234.5678)))
    text = resultio.dumps(r)
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    assert [f["rule_id"] for f in json.loads(text)["findings"]] == [f"R{i}" for i in range(n)]
    assert resultio.loads(text) == replace(r, scanners=(*r.scanners[:-1], replace(r.scanners[-1], duration_s=1234.568)))


@settings(max_examples=200, deadline=None)
@given(text=st.text(), number=st.floats(min_value=0, max_value=1e9, allow_nan=False), line=st.integers(1, 2**40))
def test_any_text_is_written_like_the_standard_library_and_read_back(text: str, number: float, line: int) -> None:
    r = sample_result()
    f = replace(r.findings[0], message=text, location=replace(r.findings[0].location, snippet=text, start_line=line))
    r = replace(r, findings=(f,), target=text, scanners=(replace(r.scanners[0], duration_s=number),))
    out = resultio.dumps(r)
    assert out == json.dumps(json.loads(out), indent=2, ensure_ascii=False) + "\n"
    back = resultio.loads(out)
    assert back.findings == r.findings and back.target == text
    assert back.scanners[0].duration_s == round(number, 3)


@pytest.mark.parametrize("name", ["result.json", "golden/secscan.json"])
def test_committed_result_files_round_trip_byte_for_byte(name: str) -> None:
    text = (DATA.parent / "reporters" / name).read_text(encoding="utf-8")
    assert resultio.dumps(resultio.loads(text, origin=name)) == text


def test_empty_and_absent_fields_follow_the_format() -> None:
    """Lists that are left out when empty stay out; those always written stay in."""
    r = sample_result()
    doc = json.loads(resultio.dumps(replace(r, findings=(replace(r.findings[2], fix=None, tags=()),))))
    [f] = doc["findings"]
    assert "fix" not in f and "tags" not in f and "other_locations" not in f and "suppression" not in f
    assert f["references"] == list(r.findings[2].references) and "compliance" in f and "identifiers" in f
    assert list(doc) == [
        *("schema", "tool", "target", "started_at", "finished_at", "scanners"),
        *("advisory_db", "warnings", "meta", "findings"),
    ]
    assert doc["scanners"][0] == {
        "name": "bandit",
        "state": "ok",
        "version": "1.9.4",
        "duration_s": 1.5,
        "findings": 8,
    }


_FINDING = '"kind": "sast", "scanner": "s", "rule_id": "r", "severity": "low"'


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{", "res.json: not valid JSON: the document ends too early"),
        ('{"schema": "secscan/1",\n "findings": [}', "res.json: not valid JSON: invalid character at line 2 column 15"),
        ('{"schema": "other/2"}', "res.json: $.schema: expected 'secscan/1', got 'other/2'"),
        ('{"target": "x"}', "res.json: $.schema: expected 'secscan/1', got nothing"),
        ('{"schema": "secscan-baseline/1", "entries": []}', "res.json: $.schema: this is a baseline"),
        ("[]", "res.json: $: expected an object, got an array"),
        (
            '{"schema": "secscan/1", "findings": [{"kind": "sast"}]}',
            "res.json: $.findings[0]: missing required field 'scanner'",
        ),
        (
            '{"schema": "secscan/1", "findings": [{' + _FINDING + "}, {" + _FINDING.replace("low", "urgent") + "}]}",
            "res.json: $.findings[1].severity: expected one of info, low, medium, high, critical, got 'urgent'",
        ),
        (
            '{"schema": "secscan/1", "findings": [{' + _FINDING.replace("sast", "nope") + "}]}",
            "res.json: $.findings[0].kind: expected one of sast, dependency, dast, secret, got 'nope'",
        ),
        (
            '{"schema": "secscan/1", "findings": [{' + _FINDING + ', "sources": [{"scanner": "s", "rule_id": "r", '
            '"location": {"start_line": "3"}}]}]}',
            "res.json: $.findings[0].sources[0].location.start_line: expected an integer or null, got a string",
        ),
        (
            '{"schema": "secscan/1", "scanners": [{"name": "b", "state": "ok", "duration_s": "x"}]}',
            "res.json: $.scanners[0].duration_s: expected a number, got a string",
        ),
        (
            '{"schema": "secscan/1", "scanners": [{"name": "b", "state": "crashed"}]}',
            "res.json: $.scanners[0].state: expected one of ok, failed, timeout, not_installed, skipped, got 'crashed'",
        ),
        ('{"schema": "secscan/1", "verdict": {"passed": "yes"}}', "res.json: $.verdict.passed: expected true or false"),
    ],
)
def test_malformed_documents_name_the_file_and_json_path(doc: str, message: str) -> None:
    with pytest.raises(InputError) as exc:
        resultio.loads(doc, origin="res.json")
    assert exc.value.message.startswith(message)
    assert "\n" not in exc.value.message


def test_unreadable_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        resultio.load(tmp_path / "missing.json")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="not UTF-8"):
        resultio.load(tmp_path / "bin.json")
