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
    hostile_row = next(line for line in text.splitlines() if "flask\\-ssti" in line)
    # the message's own "|" characters are escaped: the row keeps exactly its 5 cells
    assert hostile_row.replace("\\|", "").count("|") == 6


def test_truncates_under_limit_with_count_and_link(result: RunResult) -> None:
    big = _many(result, 3000)
    text = markdown.render(
        big,
        report_url="https://gitlab.example.com/pay/app/-/jobs/4242/artifacts/file/secscan-report.html",
        max_chars=100_000,
    )
    assert len(text) <= 100_000
    shown = sum(1 for line in text.splitlines() if line.startswith("| 🟥 critical"))
    assert 100 < shown < 3000
    assert f"… {3000 - shown} more findings not shown here" in text
    assert (
        "[the full report](https://gitlab.example.com/pay/app/-/jobs/4242/artifacts/file/secscan-report.html)" in text
    )
    # the parts around the table survive the cut
    assert "Security gate failed" in text and "### Scanners" in text
    assert text.rstrip().endswith("</sub>")


def test_default_limit_is_gitlabs_note_limit(result: RunResult) -> None:
    text = markdown.render(_many(result, 6000))
    assert len(text) <= markdown.GITLAB_NOTE_LIMIT
    assert "more findings not shown here" in text
    assert "the full report (job artifacts)" in text  # no URL given: still a pointer


def test_everything_fits_means_no_more_line(result: RunResult) -> None:
    text = markdown.render(result)
    assert "not shown" not in text
    assert text.count("\n| 🟥") + text.count("\n| 🟧") + text.count("\n| 🟨") + text.count("\n| 🟦") >= len(
        result.findings
    )


def test_unsafe_report_url_is_not_linked(result: RunResult) -> None:
    text = markdown.render(_many(result, 50), report_url="javascript:alert(1)", max_chars=5000)
    assert "javascript:" not in text
    assert "more findings not shown" in text


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
