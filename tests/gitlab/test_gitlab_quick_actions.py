"""No text secscan posts can run a GitLab quick action or break out of its code block (issue 14).

The extractor ports in tests/support/gitlab_quick_actions.py are checked first against GitLab's
documented behaviour, then used on everything secscan renders from hostile findings.
"""

from __future__ import annotations

import dataclasses

import gitlab
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from secscan.gitlab import notes
from secscan.gitlab.publish import publish_result
from secscan.models import Identifier, Status, Suppression
from secscan.textsafe import defuse_quick_actions, gitlab_code_block
from tests.support.gitlab_quick_actions import legacy_commands, modern_commands, quick_actions, slash_lines
from tests.support.gitlab_standin import GitLabStandIn
from tests.support.gitlab_testkit import MD5, add_mr, finding, result
from tests.support.gitlab_testkit import settings as publish_settings

MD = MarkdownIt("commonmark")

# ------------------------------------------------------------------ the ports behave like GitLab


@pytest.mark.parametrize(
    ("body", "legacy", "modern"),
    [
        ('hello\n/labels ~foo ~"bar baz"\nworld', ["labels"], ["labels"]),  # the extractor's own example
        ("/approve", ["approve"], ["approve"]),
        ("/MERGE", ["merge"], ["merge"]),  # case-insensitive
        ("```\n/approve\n```", [], []),  # a ``` code block is skipped by both
        (">>>\n/approve\n>>>", [], ["approve"]),  # GLFM quote: skipped by the regex (port is stricter)
        ("<details>\n/approve\n</details>", [], []),  # an HTML block
        ("> /approve", [], []),  # a blockquote line does not start with "/"
        ("- /approve", [], []),  # nor does a list item
        ("\\/approve", [], []),  # an escaped slash is text
        ("/usr/bin/env python", [], []),  # "/usr" followed by "/": not a command
        ("see /approve", [], []),  # not at the start of the line
    ],
)
def test_extractor_ports_follow_gitlab(body: str, legacy: list[str], modern: list[str]) -> None:
    assert [c.name for c in legacy_commands(body)] == legacy
    assert [c.name for c in modern_commands(body)] == modern


def test_a_four_backtick_fence_does_not_hide_commands_from_every_gitlab() -> None:
    """Why secscan cannot rely on code blocks: only ``` fences are known to the regex extractor."""
    body = "x\n````\n/approve\n````\ny"
    assert [c.name for c in slash_lines(body)] == ["approve"]  # secscan's own rule catches it


def test_the_standin_fails_the_test_on_a_posted_quick_action() -> None:
    gl = GitLabStandIn().start()
    try:
        gl.add_merge_request(project_id=7, iid=3, files={"a.py": ("", "x = 1\n")})
        client = gitlab.Gitlab(gl.url, private_token=gl.private_token, timeout=5)
        client.projects.get(7, lazy=True).mergerequests.get(3, lazy=True).notes.create({"body": "LGTM\n/merge"})
    finally:
        with pytest.raises(pytest.fail.Exception, match="/merge"):
            gl.stop()


# ------------------------------------------------------------------ secscan's escaping

HOSTILE_LINES = [
    "/approve",
    "/merge",
    "  /close",
    "````",
    "   ```",
    "~~~",
    ">>>",
    "<details>",
    "`",
    "\t/unassign @me",
]


@given(st.lists(st.sampled_from([*HOSTILE_LINES, "x = 1", "", "a `b` c", "/"]), max_size=12), st.integers(1, 9999))
@settings(max_examples=200, deadline=None)
def test_a_code_block_holds_any_snippet_and_starts_no_line_with_a_slash(lines: list[str], first: int) -> None:
    snippet = "\n".join(lines)
    block = gitlab_code_block(snippet, first_line=first, max_lines=20)
    tokens = [t for t in MD.parse(block + "\n\n/after") if t.level == 0]
    # one fenced block holding every line, then our own paragraph: nothing escaped the fence
    assert tokens[0].type == "fence"
    assert tokens[0].content.count("\n") == max(1, len(snippet.splitlines()))
    assert quick_actions(block) == []


@given(st.lists(st.sampled_from([*HOSTILE_LINES, "text", "", "```", "/x y"]), max_size=12))
@settings(max_examples=200, deadline=None)
def test_defused_text_has_no_quick_action_for_any_extractor(lines: list[str]) -> None:
    assert quick_actions(defuse_quick_actions("\n".join(lines))) == []


def test_defusing_keeps_what_markdown_shows() -> None:
    html = MD.render(defuse_quick_actions("/approve this\nfine"))
    assert "/approve this" in html and "\\" not in html


def test_long_lines_and_many_lines_are_cut() -> None:
    block = gitlab_code_block("a" * 5000 + "\n" + "b\n" * 100, first_line=1, max_lines=10, max_line_chars=200)
    assert len(block) < 3000 and "… 91 more lines" in block


def test_hostile_finding_bodies_run_no_command(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    snippet = "\n".join(["digest = hashlib.md5(x)", *HOSTILE_LINES, "```", "/approve"])
    evil = dataclasses.replace(
        finding("v1:ffff0001", line=6, message="/approve\n/merge now", snippet=snippet),
        title="/close",
        rule_id="/label ~security",
        fix="/assign @me",
        identifiers=(Identifier(type="cwe", value="/unlabel ~x"),),
    )
    suppressed = dataclasses.replace(
        MD5,
        status=Status.SUPPRESSED,
        suppression=Suppression(origin="/close", reason="/approve", owner="/merge", expires="2099-01-01"),
    )
    publish_result(result(evil, MD5), publish_settings(gitlab_standin))
    publish_result(result(evil, suppressed), publish_settings(gitlab_standin))  # resolve reply with a reason
    mr = gitlab_standin.merge_requests[(7, 3)]
    bodies = [str(n["body"]) for n in mr.notes()]
    assert len(bodies) >= 4  # summary, two threads, a reply
    for body in bodies:
        assert quick_actions(body) == [], body
    [thread] = [b for b in bodies if "v1:ffff0001" in b.split("\n", 1)[0]]
    fences = [t for t in MD.parse(thread) if t.type == "fence"]
    assert len(fences) == 1
    for line in snippet.split("\n")[: notes.SNIPPET_LINES]:
        assert line.strip() in fences[0].content  # every snippet line is inside the one block


def test_rendered_bodies_are_defused_before_posting() -> None:
    evil = dataclasses.replace(MD5, message="/approve", title="/merge")
    for body in (
        notes.thread_body(evil, report="secscan", key="v1:1"),
        notes.resolve_reply(dataclasses.replace(evil, status=Status.FIXED), report="s", key="v1:1", commit_sha=None),
        notes.render_summary(
            result(evil),
            report="secscan",
            inline=notes.InlineReport(min_severity=MD5.severity, max_threads=1, unplaced=(evil,)),
        ),
    ):
        assert quick_actions(body) == []
