"""What each format must say: identities, statuses, blocking, suppressions, escaping, secrets."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from secscan import reporters
from secscan.errors import InputError
from secscan.models import Finding, Kind, RunResult, Status
from secscan.reporters import Format, sarif
from secscan.resultio import load

DATA = Path(__file__).resolve().parent.parent / "data" / "reporters"
SECRET = "sk_live_51Habc9zyxWVUTsrq8765"


@pytest.fixture(scope="module")
def result() -> RunResult:
    return load(DATA / "result.json")


def _by_fp(result: RunResult) -> dict[str, Finding]:
    return {f.fingerprint: f for f in result.findings}


def test_sarif_one_run_per_scanner_with_identity_and_state(result: RunResult) -> None:
    doc = json.loads(reporters.render("sarif", result))
    assert doc["version"] == "2.1.0"
    assert [r["tool"]["driver"]["name"] for r in doc["runs"]] == ["bandit", "semgrep", "pip-audit", "zap"]
    results = {r["partialFingerprints"][sarif.FINGERPRINT_KEY]: (run, r) for run in doc["runs"] for r in run["results"]}
    findings = _by_fp(result)
    assert set(results) == set(findings)  # fixed and suppressed ones are kept too
    expected_state = {Status.NEW: "new", Status.EXISTING: "unchanged", Status.FIXED: "absent"}
    for fp, (run, r) in results.items():
        f = findings[fp]
        rule = run["tool"]["driver"]["rules"][r["ruleIndex"]]
        assert rule["id"] == r["ruleId"] == f.rule_id
        assert float(rule["properties"]["security-severity"]) >= 0
        assert rule["help"]["text"]
        if f.status in expected_state:
            assert r["baselineState"] == expected_state[f.status]
        for cwe in f.cwe_ids():
            assert f"external/cwe/cwe-{cwe.split('-')[1]}" in rule["properties"]["tags"]
        assert ("suppressions" in r) == (f.suppression is not None)
    _, inline = results["v1:00112233445566778899aabbccddeeff"]
    assert inline["suppressions"][0]["kind"] == "inSource"
    _, filed = results["v1:99887766554433221100ffeeddccbbaa"]
    assert filed["suppressions"][0]["kind"] == "external"
    assert "payments-team" in filed["suppressions"][0]["justification"]
    _, crit = results["v1:5f2c0a9e1b7d4c3a8e6f0b1d2c3a4e5f"]
    assert crit["level"] == "error" and crit["properties"]["secscan/blocking"] is True
    assert crit["locations"][0]["physicalLocation"]["region"]["startLine"] == 42


def test_sarif_severity_scores_follow_github_bands(result: RunResult) -> None:
    bands = {"critical": (9.0, 10.0), "high": (7.0, 8.9), "medium": (4.0, 6.9), "low": (0.1, 3.9)}
    for sev, score in sarif.SECURITY_SEVERITY.items():
        if sev.value in bands:
            lo, hi = bands[sev.value]
            assert lo <= float(score) <= hi, sev


def test_gitlab_reports_split_by_kind_and_drop_fixed(result: RunResult) -> None:
    kinds = {
        "gitlab-sast": Kind.SAST,
        "gitlab-dependency-scanning": Kind.DEPENDENCY,
        "gitlab-dast": Kind.DAST,
        "gitlab-secret-detection": Kind.SECRET,
    }
    for fmt, kind in kinds.items():
        doc = json.loads(reporters.render(fmt, result))
        fps = [v["tracking"]["items"][0]["signatures"][0]["value"] for v in doc["vulnerabilities"]]
        expected = [f.fingerprint for f in result.findings if f.kind is kind and f.status is not Status.FIXED]
        assert sorted(fps) == sorted(expected), fmt
        ids = [v["id"] for v in doc["vulnerabilities"]]
        assert len(set(ids)) == len(ids)
        assert doc["scan"]["analyzer"]["version"] == result.tool_version


def test_gitlab_identifiers_primary_first(result: RunResult) -> None:
    dep = json.loads(reporters.render("gitlab-dependency-scanning", result))["vulnerabilities"][0]
    assert [i["type"] for i in dep["identifiers"]] == ["pysec", "cwe", "cve", "ghsa"]
    assert dep["identifiers"][1]["value"] == "522"
    assert dep["location"]["dependency"] == {"package": {"name": "requests"}, "version": "2.19.0"}
    dast = json.loads(reporters.render("gitlab-dast", result))
    first = dast["vulnerabilities"][0]
    assert first["identifiers"][0] == {
        "type": "ZAProxy_PluginId",
        "name": "Missing Anti-clickjacking Header (10020)",
        "value": "10020",
    }
    assert first["location"] == {
        "hostname": "http://payments.test:8080",
        "path": "/checkout?step=2",
        "method": "GET",
        "param": "X-Frame-Options",
    }
    urls = {r["url"] for r in dast["scan"]["scanned_resources"]}
    assert urls == {"http://payments.test:8080/checkout?step=2", "http://payments.test:8080/"}


def test_gitlab_ids_are_stable_and_follow_the_fingerprint(result: RunResult) -> None:
    a = json.loads(reporters.render("gitlab-sast", result))["vulnerabilities"]
    moved = replace(
        result,
        findings=tuple(
            replace(f, location=replace(f.location, start_line=(f.location.start_line or 0) + 7))
            for f in result.findings
        ),
    )
    b = json.loads(reporters.render("gitlab-sast", moved))["vulnerabilities"]
    assert [v["id"] for v in a] == [v["id"] for v in b]
    other = replace(result, findings=tuple(replace(f, fingerprint=f.fingerprint + "0") for f in result.findings))
    c = json.loads(reporters.render("gitlab-sast", other))["vulnerabilities"]
    assert not {v["id"] for v in a} & {v["id"] for v in c}


def test_secret_detection_has_commit_and_never_the_secret(result: RunResult) -> None:
    doc = json.loads(reporters.render("gitlab-secret-detection", result))
    loc = doc["vulnerabilities"][0]["location"]
    assert loc["commit"]["sha"] == "8c1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e"
    no_sha = replace(result, meta=())
    doc = json.loads(reporters.render("gitlab-secret-detection", no_sha))
    assert doc["vulnerabilities"][0]["location"]["commit"]["sha"] == "0000000"
    for fmt in Format:
        if fmt is Format.JSON:
            continue  # secscan.json is the raw interchange document
        assert SECRET not in reporters.render(fmt, result), fmt


def test_codequality(result: RunResult) -> None:
    entries = json.loads(reporters.render("codequality", result))
    assert all(e["location"]["path"] and e["location"]["lines"]["begin"] >= 1 for e in entries)
    assert {e["severity"] for e in entries} <= {"info", "minor", "major", "critical", "blocker"}
    assert len({e["fingerprint"] for e in entries}) == len(entries)
    by_rule = {e["check_name"]: e for e in entries}
    assert "10020" not in by_rule  # DAST has no file
    assert "B403" not in by_rule  # fixed
    assert by_rule["rules.semgrep.payment-sql-string-concat"]["severity"] == "blocker"
    assert by_rule["B101"]["severity"] == "info" and by_rule["B101"]["description"].startswith("[suppressed]")


def test_junit_failures_are_exactly_the_blocking_findings(result: RunResult) -> None:
    root = ET.fromstring(reporters.render("junit", result))  # noqa: S314 - our own output
    failed = [tc for tc in root.iter("testcase") if tc.find("failure") is not None]
    skipped = [tc for tc in root.iter("testcase") if tc.find("skipped") is not None]
    assert result.verdict is not None
    assert len(failed) == len(result.verdict.reasons) == int(root.get("failures", "-1"))
    assert sorted(tc.get("file") or "" for tc in failed) == ["app/crypto/tokens.py", "app/payments/refund.py"]
    assert len(skipped) == 2 == int(root.get("skipped", "-1"))
    assert int(root.get("tests", "0")) == len(result.findings) + len(result.scanners)


def test_junit_failed_scanner_is_an_error_and_xml_stays_valid(result: RunResult) -> None:
    from secscan.models import ScannerState, ScannerStatus

    broken = replace(
        result,
        scanners=(ScannerStatus(name="zap", state=ScannerState.FAILED, error="bad \x00\x1b[31m byte"),),
        findings=(replace(result.findings[0], message="ctrl \x01\x02 and \ud800 surrogate"),),
    )
    root = ET.fromstring(reporters.render("junit", broken))  # noqa: S314 - our own output
    errors = [tc for tc in root.iter("testcase") if tc.find("error") is not None]
    assert [tc.get("classname") for tc in errors] == ["secscan.zap.health"]
    assert root.get("errors") == "1"


def test_terminal_strips_escape_sequences(result: RunResult) -> None:
    evil = replace(result, findings=(replace(result.findings[0], message="ok\x1b[2J\x1b]0;owned\x07 \u202edone"),))
    text = reporters.render("terminal", evil)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "VERDICT: FAILED, exit 1" in text


def test_timestamps_come_from_the_result_only(result: RunResult) -> None:
    other = replace(result, started_at="2031-02-03T04:05:06Z", finished_at="2031-02-03T04:06:07Z")
    assert "2031-02-03T04:05:06" in reporters.render("gitlab-sast", other)
    assert 'timestamp="2031-02-03T04:05:06"' in reporters.render("junit", other)
    assert "2031-02-03T04:05:06Z" in reporters.render("sarif", other)


def test_bad_timestamp_is_a_clear_input_error(result: RunResult) -> None:
    with pytest.raises(InputError, match="started_at 'yesterday' is not an ISO-8601 timestamp"):
        reporters.render("gitlab-sast", replace(result, started_at="yesterday"))


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=60, deadline=None)
@given(doc=_json_values, depth=st.integers(min_value=0, max_value=3))
def test_dumps_json_round_trips(doc: object, depth: int) -> None:
    from secscan.reporters._common import dumps_json

    text = dumps_json(doc, one_line=lambda p: len(p) == depth)
    assert json.loads(text) == doc
    if depth == 0:  # nothing compacted: byte-identical to json.dumps(indent=2)
        assert text == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
