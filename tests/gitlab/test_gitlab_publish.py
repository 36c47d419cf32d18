"""publish_result against the GitLab stand-in (real python-gitlab over HTTP): write counts per scenario."""

from __future__ import annotations

import dataclasses
import re
import time
from typing import Any

import pytest

from secscan.gitlab import markers
from secscan.gitlab.publish import PublishFailed, publish_result
from secscan.models import Severity, Status
from tests.support.gitlab_standin import Fault, GitLabStandIn
from tests.support.gitlab_testkit import KEY, LOW, MD5, OLD, SHELL, add_mr, finding, result, settings


def bodies(mr_notes: list[dict[str, Any]]) -> list[str]:
    return [str(n["body"]) for n in mr_notes]


def our_threads(gl: GitLabStandIn) -> list[dict[str, Any]]:
    mr = gl.merge_requests[(7, 3)]
    return [d for d in mr.threads() if d["notes"][0]["author"]["id"] == gl.bot_user["id"]]


def summary_notes(gl: GitLabStandIn) -> list[str]:
    mr = gl.merge_requests[(7, 3)]
    return [b for b in bodies(mr.notes()) if markers.is_summary(b, "secscan")]


def test_first_run_posts_one_note_and_threads_on_changed_lines(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    out = publish_result(result(MD5, SHELL, KEY, LOW, OLD), settings(gitlab_standin))
    # 3 threads (MD5, SHELL, KEY: new, >= medium, on added lines) + 1 summary note; LOW is below
    # the threshold and OLD is an existing finding.
    assert gitlab_standin.write_count("discussion_create") == 3
    assert gitlab_standin.write_count("note_create") == 1
    assert gitlab_standin.write_count() == 4
    assert (out.note, out.threads_created) == ("created", 3)
    positions = sorted(
        (t["notes"][0]["position"]["new_path"], t["notes"][0]["position"]["new_line"])
        for t in our_threads(gitlab_standin)
    )
    assert positions == [("app/config.py", 1), ("app/pay.py", 6), ("app/pay.py", 11)]
    for t in our_threads(gitlab_standin):
        pos = t["notes"][0]["position"]
        assert pos["old_line"] is None and pos["head_sha"] == "04e58de1fa97502d7e28c1394d471bb8fb1fc4a8"
    [note] = summary_notes(gitlab_standin)
    assert "Security gate failed" in note
    assert "(3 open)" in note
    assert "jobs/42" in note


def test_identical_rerun_makes_zero_writes(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    r = result(MD5, SHELL, KEY, LOW, OLD)
    publish_result(r, settings(gitlab_standin))
    gitlab_standin.reset_calls()
    out = publish_result(r, settings(gitlab_standin))
    assert gitlab_standin.write_attempts() == []
    assert (out.note, out.threads_created, out.threads_kept) == ("unchanged", 0, 3)


def test_rerun_with_changed_result_edits_the_note_in_place(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    publish_result(result(MD5, SHELL), settings(gitlab_standin))
    gitlab_standin.reset_calls()
    publish_result(result(MD5, SHELL, started="2026-01-05T11:00:00Z"), settings(gitlab_standin))
    assert [c.route for c in gitlab_standin.writes()] == ["note_update"]
    assert len(summary_notes(gitlab_standin)) == 1
    assert "11\\:00\\:00" in summary_notes(gitlab_standin)[0]


def test_crlf_bodies_from_gitlab_still_count_as_unchanged() -> None:
    with GitLabStandIn(crlf_bodies=True) as gl:
        add_mr(gl)
        r = result(MD5, SHELL)
        publish_result(r, settings(gl))
        assert "\r\n" in summary_notes(gl)[0]
        gl.reset_calls()
        assert publish_result(r, settings(gl)).note == "unchanged"
        assert gl.write_attempts() == []


def test_fixed_finding_thread_resolved_and_new_one_opened(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    publish_result(result(MD5, SHELL), settings(gitlab_standin))
    gitlab_standin.reset_calls()
    fixed_md5 = dataclasses.replace(MD5, status=Status.FIXED)
    out = publish_result(result(fixed_md5, SHELL, KEY), settings(gitlab_standin))
    routes = sorted(c.route or "" for c in gitlab_standin.writes())
    assert routes == ["discussion_create", "discussion_reply", "discussion_resolve", "note_update"]
    assert (out.threads_created, out.threads_resolved, out.threads_kept) == (1, 1, 1)
    by_key = {markers.thread_key(t["notes"][0]["body"], "secscan"): t for t in our_threads(gitlab_standin)}
    md5_thread = by_key["v1:aaaa0001"]
    assert md5_thread["notes"][0]["resolved"] is True
    assert "no longer reported" in md5_thread["notes"][-1]["body"]
    assert by_key["v1:aaaa0002"]["notes"][0]["resolved"] is False
    # and a further identical run changes nothing (the resolved thread is not re-resolved)
    gitlab_standin.reset_calls()
    publish_result(result(fixed_md5, SHELL, KEY), settings(gitlab_standin))
    assert gitlab_standin.write_attempts() == []


def test_thread_cap_counts_rest_in_summary_and_is_stable(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    r = result(MD5, SHELL, KEY)
    out = publish_result(r, settings(gitlab_standin, max_threads=2))
    assert (out.threads_created, out.threads_over_cap) == (2, 1)
    assert "1 more new finding" in summary_notes(gitlab_standin)[0]
    gitlab_standin.reset_calls()
    publish_result(r, settings(gitlab_standin, max_threads=2))
    assert gitlab_standin.write_attempts() == []  # the overflow is not opened on the re-run


def test_min_severity_threshold(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    out = publish_result(result(MD5, SHELL, LOW), settings(gitlab_standin, min_severity="critical"))
    assert out.threads_created == 1
    assert [markers.thread_key(t["notes"][0]["body"], "secscan") for t in our_threads(gitlab_standin)] == [
        "v1:aaaa0002"
    ]


def test_rejected_position_goes_into_the_summary_and_is_not_retried(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.reject_positions.add(("app/pay.py", 11))
    r = result(MD5, SHELL)
    out = publish_result(r, settings(gitlab_standin))
    assert (out.threads_created, out.threads_unplaced) == (1, 1)
    [note] = summary_notes(gitlab_standin)
    assert "Not placed inline" in note and "subprocess call with shell" in note
    gitlab_standin.reset_calls()
    publish_result(r, settings(gitlab_standin))
    assert gitlab_standin.write_attempts() == []  # remembered in the summary's hidden state


def test_two_report_names_two_notes(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    publish_result(result(MD5), settings(gitlab_standin))
    publish_result(result(MD5), settings(gitlab_standin, report_name="dast"))
    mr = gitlab_standin.merge_requests[(7, 3)]
    assert sum(markers.is_summary(b, "secscan") for b in bodies(mr.notes())) == 1
    assert sum(markers.is_summary(b, "dast") for b in bodies(mr.notes())) == 1
    assert gitlab_standin.write_count("note_create") == 2


def test_planted_markers_by_others_are_ignored(gitlab_standin: GitLabStandIn) -> None:
    """A human (or the MR author) posting our markers can neither hijack the note nor suppress a thread."""
    mr = add_mr(gitlab_standin)
    gitlab_standin.add_note(mr, markers.summary_marker("secscan") + "\r\nfake summary")
    gitlab_standin.add_thread(mr, markers.thread_marker("secscan", "v1:aaaa0001") + "\nfake thread")
    out = publish_result(result(MD5), settings(gitlab_standin))
    assert (out.note, out.threads_created) == ("created", 1)
    assert gitlab_standin.write_count("note_update") == 0


def test_commit_status_posted_once(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    out = publish_result(result(MD5), settings(gitlab_standin, commit_status=True))
    assert out.commit_status == "posted"
    [status] = gitlab_standin.statuses[(7, "04e58de1fa97502d7e28c1394d471bb8fb1fc4a8")]
    assert (status["name"], status["status"]) == ("secscan", "failed")
    assert status["target_url"].endswith("/jobs/42")
    gitlab_standin.reset_calls()
    assert publish_result(result(MD5), settings(gitlab_standin, commit_status=True)).commit_status == "unchanged"
    assert gitlab_standin.write_attempts() == []
    out = publish_result(result(passed=True), settings(gitlab_standin, commit_status=True))
    assert out.commit_status == "posted"
    assert gitlab_standin.statuses[(7, "04e58de1fa97502d7e28c1394d471bb8fb1fc4a8")][-1]["status"] == "success"


def test_dry_run_writes_nothing_and_shows_bodies(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    out = publish_result(result(MD5, SHELL), settings(gitlab_standin, dry_run=True, commit_status=True))
    assert gitlab_standin.write_attempts() == []
    text = "\n".join(out.planned)
    assert "would open inline thread at app/pay.py:6" in text
    assert "would create the summary note" in text
    assert "would set commit status" in text
    assert out.note == "would create"


# ------------------------------------------------------------------ faults


@pytest.mark.parametrize("status", [500, 502, 503])
def test_transient_errors_are_retried_without_duplicates(gitlab_standin: GitLabStandIn, status: int) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(status=status, times=2, route="note_create"))
    gitlab_standin.inject(Fault(status=status, times=1, route="discussions_list"))
    out = publish_result(result(MD5), settings(gitlab_standin))
    assert out.ok and out.retries == 3
    assert len(gitlab_standin.write_attempts("note_create")) == 3
    assert gitlab_standin.write_count("note_create") == 1
    assert len(summary_notes(gitlab_standin)) == 1


def test_429_retry_after_is_honoured(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(status=429, retry_after="1", route="discussion_create"))
    t0 = time.monotonic()
    out = publish_result(result(MD5), settings(gitlab_standin))
    assert time.monotonic() - t0 >= 1.0  # our backoff base is 0.05s: only Retry-After explains 1s
    assert out.ok and gitlab_standin.write_count("discussion_create") == 1


def test_retry_after_beyond_budget_fails_fast_and_is_reported(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(status=429, retry_after="3600", route="mr_get"))
    t0 = time.monotonic()
    with pytest.raises(PublishFailed) as e:
        publish_result(result(MD5), settings(gitlab_standin))
    assert time.monotonic() - t0 < 5
    assert "exceed the time budget" in e.value.message
    assert gitlab_standin.write_attempts() == []


def test_slow_answer_on_create_does_not_duplicate_the_thread(gitlab_standin: GitLabStandIn) -> None:
    """The POST lands but the answer comes after our timeout: the retry must find it, not re-post."""
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(delay=1.5, route="discussion_create"))
    out = publish_result(result(MD5), dataclasses.replace(settings(gitlab_standin), timeout_s=0.5))
    assert out.ok and out.threads_created == 1
    assert gitlab_standin.write_count("discussion_create") == 1
    assert len(our_threads(gitlab_standin)) == 1


def test_connection_reset_is_retried(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(reset=True, route="note_create"))
    out = publish_result(result(MD5), settings(gitlab_standin))
    assert out.ok and out.note == "created"
    assert len(summary_notes(gitlab_standin)) == 1


def test_circuit_breaker_stops_calling_a_failing_gitlab(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(status=503, times=None, route="discussion_create"))
    s = dataclasses.replace(settings(gitlab_standin), breaker_threshold=3, max_attempts=4)
    many = [finding(f"v1:bbbb{n:04d}", line=line) for n, line in enumerate((6, 10, 11))]
    with pytest.raises(PublishFailed) as e:
        publish_result(result(*many), s)
    # 3 attempts open the breaker; the other threads are not even tried. The summary is not tried
    # either (the breaker stays open): a failing GitLab is left alone.
    assert len(gitlab_standin.write_attempts("discussion_create")) == 3
    assert gitlab_standin.write_attempts("note_create") == []
    assert any("circuit breaker open" in x for x in e.value.outcome.errors)


def test_403_for_a_job_token_style_refusal_is_not_retried(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(status=403, route="note_create", message="403 Forbidden"))
    with pytest.raises(PublishFailed) as e:
        publish_result(result(), settings(gitlab_standin))
    assert len(gitlab_standin.write_attempts("note_create")) == 1
    assert "403" in e.value.message


# ------------------------------------------------------------------ hostile text

FENCED = re.compile(r"^(`{3,})[^\n]*\n.*?\n\1$", re.S | re.M)
UNESCAPED_TAG = re.compile(r"(?<!\\)</?[A-Za-z!]+")
UNESCAPED_CLOSE = re.compile(r"(?<!\\)-(?<!\\)->")
UNESCAPED_LINK = re.compile(r"(?<!\\)\]\(([^)]*)\)")

HOSTILE = (
    "@all please look: [click](https://evil.example/x) ![img](https://evil.example/p.png) "
    "<img src=x onerror=alert(1)> --> `code` ``` <!-- secscan:summary report=secscan -->"
)


def test_hostile_finding_text_is_neutralised(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    evil = dataclasses.replace(
        finding(
            "v1:cccc0001", line=6, message=HOSTILE, snippet="x = 1  # ``` -->\n<!-- secscan:summary report=secscan -->"
        ),
        title="@group [t](https://evil.example)",
    )
    publish_result(result(evil), settings(gitlab_standin))
    mr = gitlab_standin.merge_requests[(7, 3)]
    for body in bodies(mr.notes()):
        first, rest = body.split("\n", 1)
        assert first.startswith("<!-- secscan:") and first.endswith(" -->")
        # Outside fenced code blocks (inert), no unescaped HTML but our own <sub>/<br> and the
        # collapsible sections of the summary, and no comment opener or closer: nothing can hide
        # text, inject markup or end a marker.
        prose = FENCED.sub("", rest)
        tags = set(UNESCAPED_TAG.findall(prose))
        assert tags <= {"<sub", "</sub", "<br", "<details", "</details", "<summary", "</summary"}, tags
        assert not UNESCAPED_CLOSE.search(prose)
        assert "@all" not in body and "@group" not in body
        # the only links are ours (job, pipeline from CI variables)
        assert all(t.startswith("https://gitlab.example.com/") for t in UNESCAPED_LINK.findall(prose))
    # one summary and one thread, and a re-run still finds exactly them
    assert len(summary_notes(gitlab_standin)) == 1
    gitlab_standin.reset_calls()
    publish_result(result(evil), settings(gitlab_standin))
    assert gitlab_standin.write_attempts() == []


def test_severity_parse_error_is_a_usage_error(gitlab_standin: GitLabStandIn) -> None:
    from secscan.errors import ConfigError

    with pytest.raises(ConfigError):
        settings(gitlab_standin, min_severity="urgent")
    assert Severity.parse("HIGH") is Severity.HIGH
