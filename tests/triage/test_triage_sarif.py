"""SARIF 2.1.0 importer: real bandit/semgrep SARIF and the variants other tools write."""

from __future__ import annotations

import json
from typing import Any

import pytest

from secscan import fingerprint
from secscan.errors import ParseError
from secscan.importers import sarif
from secscan.models import Confidence, Kind, Severity
from secscan.scanners import bandit
from secscan.sourcefiles import SourceTree
from tests.triage.triage_helpers import DATA, PROJECT

TREE = SourceTree(PROJECT)


def log(results: list[dict[str, Any]], rules: list[dict[str, Any]] | None = None, **run: Any) -> str:
    driver: dict[str, Any] = {"name": "CodeQL", "rules": rules or []}
    return json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": driver}, "results": results, **run}]})


def result(uri: str = "app/views.py", line: int = 16, **extra: Any) -> dict[str, Any]:
    return {
        "ruleId": "py/weak-hash",
        "message": {"text": "weak hash"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}}}],
        **extra,
    }


def test_bandit_sarif_matches_bandit_json() -> None:
    from_sarif = sarif.parse((DATA / "bandit-1.9.4_generated.sarif").read_text(), tree=TREE)
    from_json = bandit.parse((DATA / "bandit-1.9.4_generated.json").read_text(), tree=TREE)
    assert len(from_sarif) == len(from_json) == 8
    assert [(f.rule_id, f.severity, f.location.start_line) for f in from_sarif] == [
        (f.rule_id, f.severity, f.location.start_line) for f in from_json
    ]
    assert all(f.scanner == "bandit" for f in from_sarif)
    # Same kinds as the JSON parser: the hard-coded password (B105, CWE-259) is a secret.
    assert [f.kind for f in from_sarif] == [f.kind for f in from_json]
    assert {f.rule_id for f in from_sarif if f.kind is Kind.SECRET} == {"B105"}
    md5 = next(f for f in from_sarif if f.rule_id == "B324")
    assert md5.cwe_ids() == ("CWE-327",) and md5.confidence is Confidence.HIGH
    # Same fingerprints whichever format the report came in (B110's range differs: bandit JSON
    # reports the whole try/except, SARIF one line).
    fa = {f.rule_id: f.fingerprint for f in fingerprint.assign(from_sarif, tree=TREE)}
    fb = {f.rule_id: f.fingerprint for f in fingerprint.assign(from_json, tree=TREE)}
    assert {k for k in fa if fa[k] == fb[k]} >= {"B324", "B602", "B301", "B403", "B404", "B506", "B105"}


def test_semgrep_sarif_severity_from_rule_default_level() -> None:
    out = sarif.parse((DATA / "semgrep-1.182.0_generated.sarif").read_text(), tree=TREE)
    sev = {f.rule_id: f.severity for f in out}
    assert sev == {
        "tmp.subprocess-shell-true": Severity.HIGH,  # error
        "tmp.avoid-pickle": Severity.LOW,  # note
        "tmp.insecure-hash-md5": Severity.MEDIUM,  # warning
    }
    assert {f.scanner for f in out} == {"semgrep"}
    assert next(f for f in out if f.rule_id == "tmp.insecure-hash-md5").cwe_ids() == ("CWE-327",)


def test_security_severity_score_wins_over_level() -> None:
    rules = [{"id": "py/weak-hash", "properties": {"security-severity": "9.8", "tags": ["external/cwe/cwe-328"]}}]
    [f] = sarif.parse(log([result(level="note")], rules), tree=TREE)
    assert f.severity is Severity.CRITICAL and f.severity_original == "note (9.8)" and f.cwe_ids() == ("CWE-328",)


def test_rule_by_index_and_message_strings() -> None:
    rules = [
        {"id": "R1", "messageStrings": {"m": {"text": "call to {0} with {1}"}}, "shortDescription": {"text": "Weak"}}
    ]
    res = {
        "rule": {"index": 0},
        "message": {"id": "m", "arguments": ["md5", "data"]},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"}, "region": {"startLine": 1}}}],
    }
    [f] = sarif.parse(log([res], rules), tree=TREE)
    assert (f.rule_id, f.message, f.title, f.severity) == ("R1", "call to md5 with data", "Weak", Severity.MEDIUM)


@pytest.mark.parametrize(
    ("uri", "bases", "expected"),
    [
        ("app\\views.py", {}, "app/views.py"),
        ("file:///C:/work/proj/app/views.py", {"SRCROOT": {"uri": "file:///C:/work/proj/"}}, "app/views.py"),
        # Another machine's absolute path is kept as it is (and reported by the import).
        ("file:///C:/elsewhere/app/views.py", {}, "C:/elsewhere/app/views.py"),
        ("src/my%20file.py", {}, "src/my file.py"),
        ("./app/views.py", {"%SRCROOT%": {"uri": "file:///builds/x/"}}, "app/views.py"),
    ],
)
def test_paths_become_repo_relative(uri: str, bases: dict[str, Any], expected: str) -> None:
    [f] = sarif.parse(log([result(uri=uri)], originalUriBaseIds=bases), tree=TREE)
    assert f.location.path == expected


def test_url_locations_are_dast_and_pass_results_are_skipped() -> None:
    out = sarif.parse(log([result(uri="https://app.example.com/login"), result(kind="pass")]), tree=TREE)
    assert [(f.kind, f.location.url) for f in out] == [(Kind.DAST, "https://app.example.com/login")]


def test_in_source_suppressions_are_kept_and_marked() -> None:
    [f] = sarif.parse(log([result(suppressions=[{"kind": "inSource"}])]), tree=TREE)
    assert f.suppression is not None and f.suppression.origin == "inline"
    [g] = sarif.parse(log([result(suppressions=[{"kind": "external", "status": "rejected"}])]), tree=TREE)
    assert g.suppression is None


def test_empty_logs() -> None:
    assert sarif.parse(json.dumps({"version": "2.1.0", "runs": []}), tree=TREE) == []
    assert sarif.parse(log([]), tree=TREE) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"version": "2.0.0", "runs": []}', "expected SARIF version '2.1.0'"),
        ('{"version": "2.1.0", "runs": {}}', "runs: expected an array"),
        (log([result(locations=[{"physicalLocation": {"region": {"startLine": "7"}}}])]), "region.startLine"),
    ],
)
def test_malformed_sarif_names_file_and_place(text: str, message: str) -> None:
    with pytest.raises(ParseError) as e:
        sarif.parse(text, tree=TREE, origin="reports/codeql.sarif")
    assert e.value.message.startswith("reports/codeql.sarif: ") and message in e.value.message
