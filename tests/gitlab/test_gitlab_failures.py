"""GitLab as it really fails (issue 15): lost answers, races, roles, limits, pushes mid-run.

Every test drives the real publisher with the real python-gitlab client against the stand-in,
and asserts on the merge request's final state (what a reviewer sees), not only on call counts.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import Any

import pytest

from secscan.gitlab import markers, notes
from secscan.gitlab.publish import PublishFailed, PublishOutcome, publish_result
from secscan.gitlab.settings import PublishSettings
from secscan.models import Finding, Status
from tests.support.gitlab_standin import (
    NOTES_LIMIT_400,
    REPORTER,
    TOO_LONG_400,
    Fault,
    GitLabStandIn,
    MergeRequestState,
)
from tests.support.gitlab_testkit import KEY, MD5, NEW_PAY, OLD_PAY, SHELL, add_mr, finding, result, settings

HEAD = "04e58de1fa97502d7e28c1394d471bb8fb1fc4a8"


def mr_of(gl: GitLabStandIn) -> MergeRequestState:
    return gl.merge_requests[(7, 3)]


def summaries(gl: GitLabStandIn, user_id: int | None = None) -> list[dict[str, Any]]:
    uid = gl.bot_user["id"] if user_id is None else user_id
    return [n for n in mr_of(gl).notes() if n["author"]["id"] == uid and markers.is_summary(str(n["body"]), "secscan")]


def threads_by_key(gl: GitLabStandIn, user_id: int | None = None) -> dict[str, list[dict[str, Any]]]:
    uid = gl.bot_user["id"] if user_id is None else user_id
    out: dict[str, list[dict[str, Any]]] = {}
    for d in mr_of(gl).threads():
        first = d["notes"][0]
        key = markers.thread_key(str(first["body"]), "secscan")
        if key is not None and first["author"]["id"] == uid:
            out.setdefault(key, []).append(d)
    return out


def open_threads(gl: GitLabStandIn, user_id: int | None = None) -> dict[str, int]:
    return {k: sum(1 for d in ds if not d["notes"][0]["resolved"]) for k, ds in threads_by_key(gl, user_id).items()}


def replies(thread: dict[str, Any], kind: str, key: str) -> list[dict[str, Any]]:
    return [n for n in thread["notes"][1:] if markers.is_reply(str(n["body"]), "secscan", key, kind)]


def as_token(s: PublishSettings, token: str) -> PublishSettings:
    return dataclasses.replace(s, token=token)


# ------------------------------------------------------------------ lost answers (the write landed)

LOST = [500, 502, 504]


@pytest.mark.parametrize("status", LOST)
def test_lost_answer_on_the_summary_note_ends_with_one_note(gitlab_standin: GitLabStandIn, status: int) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(status=status, lands=True, route="note_create"))
    out = publish_result(result(MD5), settings(gitlab_standin))
    assert out.ok and out.note == "created"
    assert len(summaries(gitlab_standin)) == 1
    # found by its marker: not sent a second time
    assert len(gitlab_standin.write_attempts("note_create")) == 1


@pytest.mark.parametrize("status", LOST)
def test_lost_answer_on_a_thread_ends_with_one_thread(gitlab_standin: GitLabStandIn, status: int) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(status=status, lands=True, route="discussion_create"))
    out = publish_result(result(MD5, SHELL), settings(gitlab_standin))
    assert out.ok and out.threads_created == 2
    assert open_threads(gitlab_standin) == {"v1:aaaa0001": 1, "v1:aaaa0002": 1}
    assert len(gitlab_standin.write_attempts("discussion_create")) == 2
    assert "(2 open)" in str(summaries(gitlab_standin)[0]["body"])


@pytest.mark.parametrize("status", LOST)
def test_lost_answer_on_a_reply_ends_with_one_reply(gitlab_standin: GitLabStandIn, status: int) -> None:
    add_mr(gitlab_standin)
    publish_result(result(MD5, SHELL), settings(gitlab_standin))
    gitlab_standin.inject(Fault(status=status, lands=True, route="discussion_reply"))
    fixed = dataclasses.replace(MD5, status=Status.FIXED)
    out = publish_result(result(fixed, SHELL), settings(gitlab_standin))
    assert out.ok and out.threads_resolved == 1
    [thread] = threads_by_key(gitlab_standin)["v1:aaaa0001"]
    assert thread["notes"][0]["resolved"] is True
    assert len(replies(thread, "resolved", "v1:aaaa0001")) == 1
    assert len(gitlab_standin.write_attempts("discussion_reply")) == 1


@pytest.mark.parametrize("status", LOST)
def test_lost_answer_on_the_commit_status_ends_with_one_status(gitlab_standin: GitLabStandIn, status: int) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(status=status, lands=True, route="status_create"))
    out = publish_result(result(MD5), settings(gitlab_standin, commit_status=True))
    assert out.ok and out.commit_status == "posted"
    [posted] = gitlab_standin.statuses[(7, HEAD)]
    assert posted["status"] == "failed"
    assert len(gitlab_standin.write_attempts("status_create")) == 1


def test_lost_answer_then_a_timeout_on_the_look_up_still_one_note(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(status=502, lands=True, route="note_create"))
    # the first look-up fails too (a flaky GitLab): secscan may send again only if it finds nothing,
    # and a resend is answered by ... another look-up that works
    gitlab_standin.inject(Fault(status=503, route="discussions_list", times=1))
    out = publish_result(result(MD5), settings(gitlab_standin))
    assert out.ok
    assert len(summaries(gitlab_standin)) <= 2
    publish_result(result(MD5), settings(gitlab_standin))
    assert len(summaries(gitlab_standin)) == 1  # and a further run converges whatever happened


def test_503_is_not_done_and_is_resent_without_a_look_up(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(status=503, route="note_create"))
    out = publish_result(result(MD5), settings(gitlab_standin))
    assert out.ok and len(summaries(gitlab_standin)) == 1
    assert len(gitlab_standin.write_attempts("note_create")) == 2


# ------------------------------------------------------------------ concurrent publishes converge


def _race(gl: GitLabStandIn, n: int, findings: tuple[Finding, ...]) -> list[PublishOutcome | BaseException]:
    """``n`` publishers whose first listing of the discussions happens at the same moment (all see
    an empty merge request), as two pipelines of one MR do without resource_group."""
    barrier = threading.Barrier(n, timeout=20)
    gl.on("discussions_list", barrier.wait, times=n)
    outcomes: list[PublishOutcome | BaseException] = []

    def one() -> None:
        try:
            outcomes.append(publish_result(result(*findings), settings(gl)))
        except BaseException as e:  # noqa: BLE001 - collected and asserted on below
            outcomes.append(e)

    workers = [threading.Thread(target=one) for _ in range(n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    return outcomes


@pytest.mark.parametrize("n", [2, 3])
def test_concurrent_publishes_then_one_more_end_with_one_summary_and_one_thread_each(
    gitlab_standin: GitLabStandIn, n: int
) -> None:
    add_mr(gitlab_standin)
    findings = (MD5, SHELL, KEY)
    outcomes = _race(gitlab_standin, n, findings)
    assert all(isinstance(o, PublishOutcome) and o.ok for o in outcomes), outcomes
    # the race really happened: every publisher created its own summary and threads
    assert gitlab_standin.write_count("note_create") == n
    assert gitlab_standin.write_count("discussion_create") == n * len(findings)
    out = publish_result(result(*findings), settings(gitlab_standin))
    assert out.ok
    assert len(summaries(gitlab_standin)) == 1
    assert open_threads(gitlab_standin) == {"v1:aaaa0001": 1, "v1:aaaa0002": 1, "v1:aaaa0003": 1}
    # the kept thread is the oldest; every extra one points to it
    for key, ds in threads_by_key(gitlab_standin).items():
        kept, *extra = sorted(ds, key=lambda d: d["notes"][0]["id"])
        assert not kept["notes"][0]["resolved"]
        for d in extra:
            assert d["notes"][0]["resolved"]
            [pointer] = replies(d, "duplicate", key)
            assert f"#note_{kept['notes'][0]['id']}" in pointer["body"]
    # and the summary is current (the last run's body)
    gitlab_standin.reset_calls()
    assert publish_result(result(*findings), settings(gitlab_standin)).note == "unchanged"
    assert gitlab_standin.write_attempts() == []


def test_duplicates_left_by_a_crashed_run_are_merged_away(gitlab_standin: GitLabStandIn) -> None:
    mr = add_mr(gitlab_standin)
    bot = gitlab_standin.bot_user
    old = gitlab_standin.add_note(mr, markers.summary_marker("secscan") + "\nold summary", author=bot)
    gitlab_standin.add_note(mr, markers.summary_marker("secscan") + "\nsecond summary", author=bot)
    body = notes.thread_body(MD5, report="secscan", key="v1:aaaa0001")
    first = gitlab_standin.add_thread(mr, body, author=bot)
    gitlab_standin.add_thread(mr, body, author=bot)
    out = publish_result(result(MD5), settings(gitlab_standin))
    assert out.ok and (out.summaries_removed, out.duplicates_resolved, out.threads_created) == (1, 1, 0)
    [kept] = summaries(gitlab_standin)
    assert kept["id"] == old["id"] and "secscan security report" in kept["body"]
    assert open_threads(gitlab_standin) == {"v1:aaaa0001": 1}
    [still_open] = [d for d in threads_by_key(gitlab_standin)["v1:aaaa0001"] if not d["notes"][0]["resolved"]]
    assert still_open["id"] == first["id"]


def test_an_extra_summary_that_cannot_be_deleted_is_emptied_and_marked(gitlab_standin: GitLabStandIn) -> None:
    mr = add_mr(gitlab_standin)
    bot = gitlab_standin.bot_user
    gitlab_standin.add_note(mr, markers.summary_marker("secscan") + "\none", author=bot)
    extra = gitlab_standin.add_note(mr, markers.summary_marker("secscan") + "\ntwo", author=bot)
    gitlab_standin.inject(Fault(status=403, route="note_delete", message="403 Forbidden"))
    out = publish_result(result(MD5), settings(gitlab_standin))
    assert out.ok and out.summaries_removed == 1
    assert len(summaries(gitlab_standin)) == 1
    emptied = mr.find_note(extra["id"])
    assert emptied is not None and markers.is_superseded(str(emptied["body"]), "secscan")
    assert "#note_" in str(emptied["body"])


# ------------------------------------------------------------------ roles


def test_reporter_token_leaves_no_repeated_replies_over_three_runs(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    reporter_user = {**gitlab_standin.bot_user, "id": 9002, "username": "project_7_bot_reporter"}
    token = gitlab_standin.add_token("glpat-ReporterOnly-0123456789ab", user=reporter_user, access_level=REPORTER)
    s = as_token(settings(gitlab_standin), token)
    assert publish_result(result(MD5, SHELL), s).ok  # Reporter may comment
    fixed = dataclasses.replace(MD5, status=Status.FIXED)
    for _ in range(3):
        with pytest.raises(PublishFailed) as e:
            publish_result(result(fixed, SHELL), s)
        errors = e.value.outcome.errors
        assert len(errors) == 1
        assert "Developer role" in errors[0] and "Reporter role" in errors[0]
    [thread] = threads_by_key(gitlab_standin, 9002)["v1:aaaa0001"]
    assert len(thread["notes"]) == 1  # not one "resolved" reply, let alone three
    assert thread["notes"][0]["resolved"] is False
    assert len(gitlab_standin.write_attempts("discussion_resolve")) == 3  # one refused try per run
    assert gitlab_standin.write_attempts("discussion_reply") == []
    [summary] = summaries(gitlab_standin, 9002)
    assert "could not be resolved" in summary["body"] and "Developer role" in summary["body"]


def test_reporter_token_cannot_set_a_commit_status_and_says_which_role(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    token = gitlab_standin.add_token("glpat-ReporterOnly-0123456789ab", access_level=REPORTER)
    with pytest.raises(PublishFailed) as e:
        publish_result(result(MD5), as_token(settings(gitlab_standin, commit_status=True), token))
    assert e.value.outcome.note == "created"
    [error] = e.value.outcome.errors
    assert "commit status" in error and "Developer role" in error and "Reporter" in error


def test_mr_author_with_reporter_role_may_resolve(gitlab_standin: GitLabStandIn) -> None:
    mr = add_mr(gitlab_standin)
    mr.author_id = gitlab_standin.bot_user["id"]
    token = gitlab_standin.add_token("glpat-ReporterAuthor-0123456789", access_level=REPORTER)
    s = as_token(settings(gitlab_standin), token)
    publish_result(result(MD5), s)
    out = publish_result(result(dataclasses.replace(MD5, status=Status.FIXED)), s)
    assert out.ok and out.threads_resolved == 1


def test_token_without_api_scope_stops_after_the_first_refused_write(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    token = gitlab_standin.add_token("glpat-ReadApiOnly-0123456789ab", scopes=("read_api",))
    with pytest.raises(PublishFailed) as e:
        publish_result(result(MD5, SHELL, KEY), as_token(settings(gitlab_standin, commit_status=True), token))
    assert len(gitlab_standin.write_attempts()) == 1
    [error] = e.value.outcome.errors
    assert "`api` scope" in error and "no further writes" in error


def test_guest_token_stops_after_the_first_refused_write_and_names_the_role(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    token = gitlab_standin.add_token("glpat-GuestOnly-0123456789abcd", access_level=10)
    with pytest.raises(PublishFailed) as e:
        publish_result(result(MD5, SHELL), as_token(settings(gitlab_standin), token))
    assert len(gitlab_standin.write_attempts()) == 1
    [error] = e.value.outcome.errors
    assert "Reporter role" in error and "Guest" in error


# ------------------------------------------------------------------ positions from the scanned commit

# The same file after a later push: three lines inserted at the top move every line down by 3.
PUSHED_PAY = "import os\nimport sys\nimport json\n" + NEW_PAY
PUSHED_HEAD = "9f1c2b3a4d5e6f708192a3b4c5d6e7f8091a2b3c"


def test_push_during_the_pipeline_puts_no_thread_on_a_wrong_line(gitlab_standin: GitLabStandIn) -> None:
    mr = add_mr(gitlab_standin)
    gitlab_standin.on(
        "mr_get",
        lambda: gitlab_standin.push_version(mr, head_sha=PUSHED_HEAD, files={"app/pay.py": (OLD_PAY, PUSHED_PAY)}),
    )
    out = publish_result(result(MD5, SHELL), settings(gitlab_standin))
    assert out.ok and out.threads_created == 2
    assert mr.latest.head_sha == PUSHED_HEAD  # the push happened before secscan read the versions
    positions = sorted(
        (d["notes"][0]["position"]["head_sha"], d["notes"][0]["position"]["new_line"])
        for ds in threads_by_key(gitlab_standin).values()
        for d in ds
    )
    assert positions == [(HEAD, 6), (HEAD, 11)]  # the scanned commit's lines, not the pushed ones


def test_scanned_commit_without_a_version_lists_findings_in_the_summary(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    s = settings(gitlab_standin, commit_sha="1234567890abcdef1234567890abcdef12345678")
    out = publish_result(result(MD5, SHELL), s)
    assert out.ok and out.threads_created == 0 and out.threads_unplaced == 2
    assert threads_by_key(gitlab_standin) == {}
    [summary] = summaries(gitlab_standin)
    assert "no diff version for the scanned commit 1234567890ab" in summary["body"]
    assert "subprocess call with shell" in summary["body"]


def test_merged_results_pipeline_positions_on_the_source_branch_head(gitlab_standin: GitLabStandIn) -> None:
    add_mr(gitlab_standin)
    # CI_COMMIT_SHA is GitLab's temporary merge commit; the MR head is in the source branch SHA.
    s = settings(gitlab_standin, commit_sha="abcdefabcdefabcdefabcdefabcdefabcdefabcd", source_branch_sha=HEAD)
    out = publish_result(result(MD5), s)
    assert out.ok and out.threads_created == 1
    [[thread]] = threads_by_key(gitlab_standin).values()
    assert thread["notes"][0]["position"]["head_sha"] == HEAD


# ------------------------------------------------------------------ sizes and limits


@pytest.mark.parametrize(
    "snippet",
    [
        "token = '" + "A" * 1_200_000 + "'",  # one minified line
        "\n".join(f"row_{n} = {n}" for n in range(120_000)),  # many lines (~1.3M characters)
    ],
    ids=["one-line", "many-lines"],
)
def test_a_huge_snippet_still_gets_a_thread(gitlab_standin: GitLabStandIn, snippet: str) -> None:
    assert len(snippet) > 1_200_000
    add_mr(gitlab_standin)
    big = finding("v1:dddd0001", line=6, snippet=snippet)
    out = publish_result(result(big), settings(gitlab_standin))
    assert out.ok and out.threads_created == 1 and out.threads_unplaced == 0
    [[thread]] = threads_by_key(gitlab_standin).values()
    body = str(thread["notes"][0]["body"])
    assert len(body) <= notes.THREAD_LIMIT
    assert "6 │ " in body


def test_too_long_is_not_taken_for_a_rejected_position(gitlab_standin: GitLabStandIn) -> None:
    """A GitLab with a smaller limit: its 400 "too long" gets a shorter body, not the summary."""
    add_mr(gitlab_standin)
    gitlab_standin.inject(Fault(status=400, route="discussion_create", message=TOO_LONG_400))
    out = publish_result(result(MD5), settings(gitlab_standin))
    assert out.ok and out.threads_created == 1 and out.threads_unplaced == 0
    assert "Not placed inline" not in summaries(gitlab_standin)[0]["body"]


def test_comment_limit_is_respected_and_the_rest_goes_into_the_summary(gitlab_standin: GitLabStandIn) -> None:
    mr = add_mr(gitlab_standin)
    gitlab_standin.notes_limit = 10
    gitlab_standin.add_system_notes(mr, 6)
    many = [finding(f"v1:eeee{n:04d}", line=line) for n, line in enumerate((2, 6, 10, 11))]
    many.append(KEY)
    out = publish_result(result(*many), settings(gitlab_standin, comment_limit=10))
    assert out.ok
    # 4 notes of room: the summary's is kept free, 3 threads take the rest; nothing is refused.
    assert (out.threads_created, out.threads_over_limit) == (3, 2)
    assert all(200 <= c.status < 300 for c in gitlab_standin.write_attempts())
    assert len(mr.notes()) == 10
    assert "limit of comments" in summaries(gitlab_standin)[0]["body"]


def test_comment_limit_answer_stops_new_notes_at_once(gitlab_standin: GitLabStandIn) -> None:
    mr = add_mr(gitlab_standin)
    gitlab_standin.notes_limit = 3
    gitlab_standin.add_system_notes(mr, 3)  # already full; secscan's setting does not know it
    with pytest.raises(PublishFailed) as e:
        publish_result(result(MD5, SHELL, KEY), settings(gitlab_standin))
    assert len(gitlab_standin.write_attempts("discussion_create")) == 1
    assert any(NOTES_LIMIT_400.split(" - ")[1][:10] in c.body or c.status == 400 for c in gitlab_standin.calls)
    assert "limit of comments" in e.value.outcome.errors[0]
    assert e.value.outcome.threads_over_limit == 3


def test_summary_deleted_between_listing_and_editing_is_created_again(gitlab_standin: GitLabStandIn) -> None:
    mr = add_mr(gitlab_standin)
    publish_result(result(MD5), settings(gitlab_standin))
    [old] = summaries(gitlab_standin)

    def delete_it() -> None:
        with gitlab_standin.lock:
            mr.discussions = [d for d in mr.discussions if d["notes"][0]["id"] != old["id"]]

    gitlab_standin.on("note_update", delete_it)
    out = publish_result(result(MD5, started="2026-01-05T12:00:00Z"), settings(gitlab_standin))
    assert out.ok and out.note == "created"
    [new] = summaries(gitlab_standin)
    assert new["id"] != old["id"] and "12\\:00\\:00" in new["body"]


def test_a_thread_that_lands_after_its_look_up_is_merged_away_in_the_same_run(gitlab_standin: GitLabStandIn) -> None:
    """A slow GitLab commits the first attempt after secscan looked for it and sent it again."""
    mr = add_mr(gitlab_standin)
    release = threading.Event()
    # The first attempt is held inside GitLab (the client times out) until the run's converging
    # listing arrives; then it lands, just before that listing is answered.
    gitlab_standin.on("discussion_create", lambda: release.wait(10), times=1)
    listings = {"n": 0}

    def third_listing_lets_the_late_write_land() -> None:
        listings["n"] += 1
        if listings["n"] == 3:  # initial, look-up after the timeout, then the converging one
            release.set()
            for _ in range(100):
                if len(mr.threads()) >= 2:
                    return
                time.sleep(0.01)

    gitlab_standin.on("discussions_list", third_listing_lets_the_late_write_land, times=None)
    out = publish_result(result(MD5), dataclasses.replace(settings(gitlab_standin), timeout_s=0.5))
    assert out.ok and out.duplicates_resolved == 1
    assert gitlab_standin.write_count("discussion_create") == 2  # the late one really landed
    assert open_threads(gitlab_standin) == {"v1:aaaa0001": 1}
    late = max(threads_by_key(gitlab_standin)["v1:aaaa0001"], key=lambda d: d["notes"][0]["id"])
    assert late["notes"][0]["resolved"] and len(replies(late, "duplicate", "v1:aaaa0001")) == 1
