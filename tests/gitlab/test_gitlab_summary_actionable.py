"""The merge request's summary note is the terminal's twin (issue 30): each blocking finding with
its code, fix, identifiers, fingerprint and a suppression line, all of it inert in GitLab
(no mention, link, image or quick action from the scanned code) and the suppression line one that
`secscan suppress` writes into the trusted suppressions file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shlex
from pathlib import Path

from markdown_it import MarkdownIt

from secscan.gitlab import notes
from secscan.gitlab.publish import publish_result
from secscan.models import Identifier, Kind, Location, Severity
from secscan.reporters import terminal
from secscan.triage import suppressions
from tests.support.cli import secscan
from tests.support.gitlab_quick_actions import quick_actions
from tests.support.gitlab_standin import GitLabStandIn
from tests.support.gitlab_testkit import MD5, add_mr, finding, result
from tests.support.gitlab_testkit import settings as publish_settings

MD = MarkdownIt("commonmark")
HOSTILE = "@all ![x](https://evil.example/x.png) [click](https://evil.example/) <img src=x>"


def _evil() -> tuple[object, ...]:
    sast = dataclasses.replace(
        finding(
            "v1:ffff0002",
            line=42,
            message=f"{HOSTILE}\n/approve",
            snippet="token = compute()\n```\n/merge\n" + HOSTILE,
        ),
        fix="/close " + HOSTILE,
        identifiers=(Identifier(type="cwe", value="CWE-327"), Identifier(type="cve", value="CVE-2099-1")),
    )
    dep = dataclasses.replace(
        finding("v1:ffff0003", line=1, kind=Kind.DEPENDENCY, severity=Severity.CRITICAL, snippet=None),
        location=Location(path="requirements.txt", package="jinja2", version="2.10"),
        fix="Upgrade jinja2 to 2.10.1 or later.",
        fixed_versions=("2.10.1",),
    )
    return sast, dep


def _summary() -> str:
    sast, dep = _evil()
    return notes.render_summary(
        result(sast, dep, MD5),  # type: ignore[arg-type]
        report="secscan",
        inline=notes.InlineReport(min_severity=Severity.MEDIUM, max_threads=10),
    )


def test_each_blocking_finding_is_in_the_summary_with_what_to_do() -> None:
    body = _summary()
    for fp in ("v1:ffff0002", "v1:ffff0003", MD5.fingerprint):
        assert f"**Fingerprint:** `{fp}`" in body
    assert "**Fix:** Upgrade jinja2 to 2\\.10\\.1 or later\\." in body
    assert "**Identifiers:** CVE\\-2099\\-1, CWE\\-327" in body
    fences = [t for t in MD.parse(body) if t.type == "fence"]
    code = [t.content for t in fences if t.info != "toml"]
    assert any(line.startswith("42 │ token = compute()") for c in code for line in c.splitlines())
    # The policy clause once, with the count: not one line per finding.
    assert body.count("block_new_at_or_above=high") == 1
    assert "3 blocking findings (below)" in body


def test_the_summary_is_inert_in_gitlab() -> None:
    body = _summary()
    assert quick_actions(body) == []
    tokens = MD.parse(body)
    inline = [child for t in tokens if t.type == "inline" for child in (t.children or [])]
    assert not [c for c in inline if c.type in ("link_open", "image")]
    # secscan's own <br> and <sub> only: nothing from the finding becomes HTML.
    assert {c.content for c in inline if c.type == "html_inline"} <= {"<br>", "<sub>", "</sub>"}
    assert not [t for t in tokens if t.type == "html_block" and "<img" in t.content]
    # A mention is only written inside a code block, where GitLab resolves none.
    lines = body.split("\n")
    for fence in (t for t in tokens if t.type == "fence"):
        assert fence.map is not None
        lines[fence.map[0] : fence.map[1]] = [""] * (fence.map[1] - fence.map[0])
    outside = "\n".join(lines)
    assert "@all" not in outside and "&#64;all" in outside


def test_the_suppression_lines_write_entries_to_the_suppressions_file(tmp_path: Path) -> None:
    """Each **Suppress** line, run as it is (after writing a reason), adds the finding's entry to
    the trusted suppressions file."""
    body = _summary()
    lines = [t.content.strip() for t in MD.parse(body) if t.type == "fence" and t.info == "shell"]
    assert len(lines) == 3
    file = tmp_path / "suppressions.toml"
    for line in lines:
        argv = shlex.split(line.replace(terminal.REASON, "reviewed"))
        assert argv[:2] == ["secscan", "suppress"]
        # The test result's fixed clock is in the past: an expiry from today's date instead.
        argv[argv.index("--expires") + 1] = (dt.date.today() + dt.timedelta(days=30)).isoformat()
        # --force: the fingerprints are this test's, in no result file.
        run = secscan(*argv[1:], "--suppressions", file, "--owner", "dev@example.com", "--force")
        assert run.code == 0, run.stderr
    rules = suppressions.load_rules(file)
    assert {r.fingerprint for r in rules} == {"v1:ffff0002", "v1:ffff0003", MD5.fingerprint}


def test_posted_summary_keeps_the_details(gitlab_standin: GitLabStandIn) -> None:
    """Through the real client and the GitLab stand-in (which fails on a posted quick action)."""
    add_mr(gitlab_standin)
    sast, dep = _evil()
    publish_result(result(sast, dep, MD5), publish_settings(gitlab_standin))  # type: ignore[arg-type]
    bodies = [str(n["body"]) for n in gitlab_standin.merge_requests[(7, 3)].notes()]
    [summary] = [b for b in bodies if "### Blocking findings (3)" in b]
    assert re.search(r"^```shell\nsecscan suppress v1:ffff0002 --reason ", summary, re.M)
    assert quick_actions(summary) == []
