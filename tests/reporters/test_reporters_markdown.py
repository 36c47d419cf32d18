"""The Markdown summary: escaping of scanner text and GitLab's 1,000,000-character note limit."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from secscan.models import Finding, Kind, Location, RunResult, Severity
from secscan.reporters import markdown
from secscan.resultio import load

DATA = Path(__file__).resolve().parent.parent / "data" / "reporters"


@pytest.fixture(scope="module")
def result() -> RunResult:
    return load(DATA / "result.json")


def _many(result: RunResult, n: int) -> RunResult:
    base = result.findings[0]
    findings = tuple(
        replace(
            base,
            fingerprint=f"v1:{i:032x}",
            message="x" * 200,
            location=Location(path=f"app/mod{i}.py", start_line=i + 1),
        )
        for i in range(n)
    )
    return replace(result, findings=findings)


def test_hostile_message_is_inert(result: RunResult) -> None:
    text = markdown.render(result)
    # every "<" from the message is backslash-escaped (literal text in Markdown)
    assert not re.search(r"(?<!\\)<(script|img|!--)", text)
    assert "\\<script\\>" in text
    assert "@all" not in text  # no mention
    assert "](javascript:" not in text and "![x](" not in text
    hostile_row = next(line for line in text.splitlines() if "flask-ssti" in line and line.startswith("|"))
    # the message's own "|" characters are escaped: the row keeps exactly its 5 cells
    assert hostile_row.replace("\\|", "").count("|") == 6


def _many_rules(result: RunResult, n: int) -> RunResult:
    big = _many(result, n)
    return replace(big, findings=tuple(replace(f, rule_id=f"R{i}") for i, f in enumerate(big.findings)))


def test_summary_groups_by_rule_and_stays_under_the_cap(result: RunResult) -> None:
    url = "https://gitlab.example.com/pay/app/-/jobs/4242/artifacts/file/secscan-report.html"
    one_rule = markdown.render(_many(result, 6000), report_url=url)
    assert len(one_rule) <= markdown.SUMMARY_MAX_CHARS
    assert "6000 new findings in 1 rule" in one_rule or "6000" in one_rule
    many = markdown.render(_many_rules(result, 6000), report_url=url)
    assert len(many) <= markdown.SUMMARY_MAX_CHARS
    assert "more rules (see the full report)" in many or "more sections not shown here" in many
    assert f"[the full report]({url})" in many or f"[full report]({url})" in many
    # the parts around the tables survive the cut
    assert "Security gate failed" in many and "### Scanners" in many
    assert many.rstrip().endswith("</sub>")


def test_without_a_url_the_pointer_is_the_job_artifacts(result: RunResult) -> None:
    text = markdown.render(_many_rules(result, 6000), max_chars=5000)
    assert len(text) <= 5000
    assert "the full report (job artifacts)" in text


def test_everything_fits_means_no_more_line(result: RunResult) -> None:
    text = markdown.render(result)
    assert "not shown" not in text
    # Blocking findings are shown each in full ("**1. ..."), the others as table rows.
    blocks = len(re.findall(r"^\*\*\d+\. ", text, re.M))
    rows = text.count("\n| 🟥") + text.count("\n| 🟧") + text.count("\n| 🟨") + text.count("\n| 🟦")
    assert blocks == 2 and blocks + rows >= len(result.findings)


def test_unsafe_report_url_is_not_linked(result: RunResult) -> None:
    text = markdown.render(_many_rules(result, 50), report_url="javascript:alert(1)", max_chars=5000)
    assert "javascript:" not in text
    assert "full report" in text


def test_tiny_limit_still_respected(result: RunResult) -> None:
    text = markdown.render(result, max_chars=300)
    assert len(text) <= 300
    assert "truncated" in text


def test_findings_table_helper(result: RunResult) -> None:
    table = markdown.render_findings_table(result.findings, 2)
    assert table.count("\n|") == 3  # separator + 2 rows
    assert f"{len(result.findings) - 2} more findings" in table
    assert markdown.render_findings_table(()) == "_No findings._\n"


def test_no_verdict_and_no_fingerprints() -> None:
    f = Finding(
        kind=Kind.SAST,
        scanner="bandit",
        rule_id="B1",
        title="t",
        message="m",
        severity=Severity.LOW,
        severity_original="",
    )
    r = RunResult(tool_version="0.1.0", target=".", started_at="", finished_at="", findings=(f,))
    text = markdown.render(r)
    assert "not gated yet" in text and "B1" in text
