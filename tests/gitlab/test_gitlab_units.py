"""Pure parts of secscan.gitlab: settings, markers, diff map, redaction, retry policy."""

from __future__ import annotations

import logging
import random

import pytest

from secscan.errors import ConfigError
from secscan.gitlab import markers
from secscan.gitlab.diffmap import DiffRefs, changed_files, parse_hunks, position_for
from secscan.gitlab.redact import MASK, RedactingFilter, Redactor
from secscan.gitlab.resilience import Attempt, CallFailed, CircuitBreaker, CircuitOpen, Retrier, parse_retry_after
from secscan.gitlab.settings import from_env
from secscan.models import Severity
from tests.support.gitlab_standin import load_fixture
from tests.support.gitlab_testkit import MD5

# ------------------------------------------------------------------ settings

CI = {
    "CI_API_V4_URL": "https://gitlab.example.com/api/v4",
    "CI_MERGE_REQUEST_PROJECT_ID": "7",
    "CI_MERGE_REQUEST_IID": "3",
    "CI_COMMIT_SHA": "04e58de1fa97502d7e28c1394d471bb8fb1fc4a8",
    "SECSCAN_GITLAB_TOKEN": "glpat-abcdefghijklmnop1234",
}


def test_settings_from_ci_variables_and_flag_overrides() -> None:
    s = from_env(CI, {"mr_iid": 5, "min_severity": "HIGH", "max_threads": None})
    assert (s.base_url, s.project_id, s.mr_iid, s.min_severity, s.max_threads) == (
        "https://gitlab.example.com",
        "7",
        5,
        Severity.HIGH,
        10,
    )
    assert s.problems() == []
    assert "glpat" not in repr(s)
    assert s.token_source == "SECSCAN_GITLAB_TOKEN"


def test_settings_token_fallback_and_job_token_message() -> None:
    env = {k: v for k, v in CI.items() if k != "SECSCAN_GITLAB_TOKEN"}
    assert from_env({**env, "GITLAB_TOKEN": "glpat-other-token-value"}, {}).token_source == "GITLAB_TOKEN"
    [problem] = from_env({**env, "CI_JOB_TOKEN": "glcbt-64_xyz"}, {}).problems()
    assert problem.startswith("CI_JOB_TOKEN cannot post merge request notes")
    assert "api" in problem and "SECSCAN_GITLAB_TOKEN" in problem


def test_settings_problems_for_missing_context_and_http() -> None:
    problems = from_env({"CI_API_V4_URL": "http://gitlab.local/api/v4", "CI_MERGE_REQUEST_IID": "x"}, {}).problems()
    text = "\n".join(problems)
    assert "CI_MERGE_REQUEST_IID" in text and "refusing to send the GitLab token over plain HTTP" in text
    assert "no GitLab token" in text
    ok = from_env({**CI, "CI_API_V4_URL": "http://gitlab.local/api/v4"}, {"allow_http": True})
    assert ok.problems() == []


@pytest.mark.parametrize(
    "overrides",
    [{"report_name": "a -->b"}, {"min_severity": "urgent"}, {"max_threads": -1}, {"commit_sha": "not-a-sha"}, {"x": 1}],
)
def test_settings_bad_flags_are_usage_errors(overrides: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        from_env(CI, overrides)


# ------------------------------------------------------------------ markers


def test_markers_only_count_on_the_first_line() -> None:
    marker = markers.summary_marker("secscan")
    assert markers.is_summary(marker + "\r\nbody", "secscan")
    assert not markers.is_summary(marker + "\n", "other")
    assert not markers.is_summary("quoted:\n" + marker, "secscan")  # e.g. inside a snippet
    body = markers.thread_marker("secscan", "v1:ab12") + "\ntext"
    assert markers.thread_key(body, "secscan") == "v1:ab12"
    assert markers.thread_key(body, "dast") is None


def test_finding_key_is_marker_safe() -> None:
    import dataclasses

    assert markers.finding_key(MD5) == "v1:aaaa0001"
    evil = dataclasses.replace(MD5, fingerprint="v1:x --> <b>")
    key = markers.finding_key(evil)
    assert key.startswith("x:") and "-->" not in key
    assert markers.finding_key(dataclasses.replace(MD5, fingerprint="")).startswith("x:")


def test_state_marker_round_trip_per_head() -> None:
    line = markers.state_marker("abcdef1", ["v1:b", "v1:a", "v1:a"])
    assert markers.read_state("x\n" + line + "\n", "abcdef1") == {"v1:a", "v1:b"}
    assert markers.read_state(line, "1234567") == frozenset()


def test_same_body_ignores_crlf_and_trailing_space() -> None:
    assert markers.same_body("a  \r\nb\r\n", "a\nb")
    assert not markers.same_body("a\nb", "a\nc")


# ------------------------------------------------------------------ diff map


def test_diff_map_on_gitlabs_recorded_changes() -> None:
    changes = load_fixture("danger_merge_request_1_changes_response.json")["changes"]
    files = changed_files(changes)
    assert set(files) == {"Dangerfile", "a", "b"}
    # "@@ -1,13 +1,11 @@": new lines 3 and 6 replace old ones, 8-10 replace old 8-9; the blank
    # new line 11 is old line 10
    assert files["Dangerfile"].added == {3, 6, 8, 9, 10}
    assert files["Dangerfile"].context[1] == 1 and files["Dangerfile"].context[7] == 7
    assert files["Dangerfile"].context[11] == 10
    assert files["a"].added == {1}


def test_position_uses_first_added_line_in_range() -> None:
    added, context = parse_hunks("@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n\\ No newline at end of file\n")
    assert added == {2, 3} and context == {1: 1, 4: 3}
    files = changed_files(
        [{"old_path": "old.py", "new_path": "new.py", "diff": "@@ -1,3 +1,4 @@\n a\n-b\n+B\n+C\n c\n"}]
    )
    refs = DiffRefs(base_sha="b" * 40, start_sha="s" * 40, head_sha="h" * 40)
    pos = position_for(files, refs, "new.py", 1, 3)
    assert pos is not None
    assert (pos["old_path"], pos["new_path"], pos["new_line"]) == ("old.py", "new.py", 2)
    assert "old_line" not in pos  # an added line has no old line
    assert position_for(files, refs, "new.py", 4, None) is None  # unchanged line: no thread
    assert position_for(files, refs, "other.py", 2, None) is None
    assert changed_files([{"new_path": "gone.py", "deleted_file": True, "diff": "@@ -1 +0,0 @@\n-x\n"}]) == {}


# ------------------------------------------------------------------ redaction


def test_redactor_masks_token_and_token_shapes() -> None:
    r = Redactor(["s3cr3t-value"])
    text = r("a s3cr3t-value b glpat-ZZZZZZZZZZZZZZZZZZZZ c PRIVATE-TOKEN: hunter2hunter2 d")
    assert "s3cr3t-value" not in text and "glpat-ZZZ" not in text and "hunter2" not in text
    assert text.count(MASK) == 3


def test_redacting_filter_scrubs_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("secscan.gitlab.test")
    f = RedactingFilter(Redactor(["tok-123456"]))
    logger.addFilter(f)
    try:
        with caplog.at_level(logging.DEBUG, logger="secscan.gitlab.test"):
            logger.debug("header %s", "tok-123456")
            try:
                raise RuntimeError("boom tok-123456")
            except RuntimeError:
                logger.debug("failed", exc_info=True)
    finally:
        logger.removeFilter(f)
    assert "tok-123456" not in caplog.text
    assert MASK in caplog.text


# ------------------------------------------------------------------ retries


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.now += s


def retrier(clock: FakeClock, **kw: float) -> Retrier:
    return Retrier(
        budget_s=kw.get("budget_s", 60.0),
        base_s=0.5,
        max_sleep_s=8.0,
        max_attempts=int(kw.get("max_attempts", 5)),
        breaker=CircuitBreaker(int(kw.get("threshold", 10))),
        clock=clock,
        sleep=clock.sleep,
        rng=random.Random(1),
    )


class Flaky:
    def __init__(self, failures: int, attempt: Attempt) -> None:
        self.failures = failures
        self.attempt = attempt
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError("flaky")
        return "ok"

    def classify(self, e: BaseException) -> Attempt:
        return self.attempt


def test_backoff_is_exponential_with_jitter_and_honours_retry_after() -> None:
    clock = FakeClock()
    fn = Flaky(3, Attempt(retryable=True, message="503"))
    assert retrier(clock).call("x", fn, fn.classify) == "ok"
    # equal jitter: attempt n sleeps within [cap/2, cap], cap = 0.5 * 2**n
    for n, s in enumerate(clock.sleeps):
        cap = 0.5 * 2**n
        assert cap / 2 <= s <= cap
    clock2 = FakeClock()
    fn2 = Flaky(1, Attempt(retryable=True, message="429", retry_after=7.0))
    retrier(clock2).call("x", fn2, fn2.classify)
    assert clock2.sleeps == [7.0]


def test_budget_stops_retrying() -> None:
    clock = FakeClock()
    fn = Flaky(100, Attempt(retryable=True, message="503", retry_after=30.0))
    with pytest.raises(CallFailed, match="exceed the time budget"):
        retrier(clock, budget_s=45.0).call("x", fn, fn.classify)
    assert fn.calls == 2 and clock.now <= 45.0


def test_non_retryable_fails_at_once_and_breaker_opens() -> None:
    clock = FakeClock()
    fn = Flaky(100, Attempt(retryable=False, message="401"))
    with pytest.raises(CallFailed):
        retrier(clock).call("x", fn, fn.classify)
    assert fn.calls == 1
    r = retrier(clock, threshold=3, max_attempts=10)
    fn2 = Flaky(100, Attempt(retryable=True, message="503"))
    with pytest.raises(CallFailed):
        r.call("a", fn2, fn2.classify)
    assert fn2.calls == 3
    with pytest.raises(CircuitOpen):
        r.call("b", fn2, fn2.classify)
    assert fn2.calls == 3  # not called while open


def test_ambiguous_write_is_rechecked_before_resending() -> None:
    clock = FakeClock()
    fn = Flaky(1, Attempt(retryable=True, ambiguous=True, message="timeout"))
    assert retrier(clock).call("x", fn, fn.classify, recheck=lambda: "found") == "found"
    assert fn.calls == 1


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


# ------------------------------------------------------------------ thread planning


def test_plan_resolves_suppressed_and_vanished_and_keeps_one_thread_per_key() -> None:
    import dataclasses

    from secscan.gitlab.plan import ExistingThread, plan_threads
    from secscan.models import Status, Suppression

    files = changed_files(
        [{"old_path": "app/pay.py", "new_path": "app/pay.py", "diff": "@@ -0,0 +1,8 @@\n" + "+x\n" * 8}]
    )
    refs = DiffRefs(base_sha="b" * 40, start_sha="b" * 40, head_sha="c" * 40)
    suppressed = dataclasses.replace(
        MD5, status=Status.SUPPRESSED, suppression=Suppression(origin="file", reason="accepted @all", owner="sec")
    )
    existing = [
        ExistingThread(discussion_id="d1", key="v1:aaaa0001", resolved=False),  # now suppressed
        ExistingThread(discussion_id="d2", key="v1:gone", resolved=False),  # no longer reported
        ExistingThread(discussion_id="d3", key="v1:old", resolved=True),  # already resolved: left alone
    ]
    twice = dataclasses.replace(MD5, fingerprint="v1:dup", location=dataclasses.replace(MD5.location, start_line=2))
    plan = plan_threads(
        [suppressed, twice, twice], existing, files, refs, report="secscan", min_severity=Severity.LOW, max_threads=5
    )
    assert [n.key for n in plan.create] == ["v1:dup"]  # a duplicate in the input gets one thread
    replies = {r.discussion_id: r.reply for r in plan.resolve}
    assert set(replies) == {"d1", "d2"}
    assert "suppressed" in replies["d1"] and "&#64;all" in replies["d1"] and "@all" not in replies["d1"]
    assert "no longer reported" in replies["d2"]


# ------------------------------------------------------------------ issue 15: pure parts


def test_unknown_outcome_statuses_are_ambiguous_and_503_is_not() -> None:
    from secscan.gitlab.api import RETRYABLE_STATUS, UNKNOWN_OUTCOME_STATUS

    assert frozenset({500, 502, 504}) == UNKNOWN_OUTCOME_STATUS
    assert 503 in RETRYABLE_STATUS and 503 not in UNKNOWN_OUTCOME_STATUS


@pytest.mark.parametrize(
    ("status", "detail", "kind"),
    [
        (400, 'Note {:note=>["is too long (maximum is 1000000 characters)"]}', "BodyTooLong"),
        (400, 'Note {:base=>["Maximum number of comments exceeded"]}', "CommentLimit"),
        (403, "insufficient_scope", "Forbidden"),
        (403, "403 Forbidden", "Forbidden"),
        (404, "404 Not found", "NotFound"),
        (400, 'Note {:line_code=>["can\'t be blank"]}', "CallFailed"),
    ],
)
def test_gitlab_errors_are_told_apart(status: int, detail: str, kind: str) -> None:
    from secscan.gitlab.api import Forbidden, is_position_error, refine

    refined = refine(CallFailed("x", status=status, detail=detail))
    assert type(refined).__name__ == kind
    if isinstance(refined, Forbidden):
        assert refined.scope is (detail == "insufficient_scope")
    assert is_position_error(refined) is ("line_code" in detail)


def test_retrier_looks_once_more_before_giving_up_on_an_unknown_outcome() -> None:
    clock = [0.0]
    r = Retrier(
        budget_s=10,
        base_s=0.1,
        max_sleep_s=0.1,
        max_attempts=2,
        breaker=CircuitBreaker(10),
        clock=lambda: clock[0],
        sleep=lambda s: None,
        rng=random.Random(1),
    )
    looked: list[int] = []

    def fail() -> str:
        raise RuntimeError("lost")

    def recheck() -> str | None:
        looked.append(1)
        return "found" if len(looked) == 2 else None  # not there yet after try 1, there after try 2

    lost = Attempt(retryable=True, ambiguous=True, message="502")
    assert r.call("creating", fail, lambda e: lost, recheck=recheck) == "found"
    assert len(looked) == 2


def test_existing_notes_oldest_first_duplicates_and_replies() -> None:
    from secscan.gitlab.existing import read_existing
    from secscan.gitlab.plan import duplicate_threads

    me = {"id": 1}
    other = {"id": 2}

    def note(i: int, body: str, author: dict[str, int], **kw: object) -> dict[str, object]:
        return {"id": i, "body": body, "author": author, "system": False, **kw}

    tm = markers.thread_marker("secscan", "v1:k")
    discussions = [
        {"id": "s2", "individual_note": True, "notes": [note(20, markers.summary_marker("secscan"), me)]},
        {"id": "s1", "individual_note": True, "notes": [note(10, markers.summary_marker("secscan"), me)]},
        {"id": "fake", "individual_note": True, "notes": [note(5, markers.summary_marker("secscan"), other)]},
        {"id": "t2", "individual_note": False, "notes": [note(40, tm, me, resolved=False)]},
        {
            "id": "t1",
            "individual_note": False,
            "notes": [
                note(30, tm, me, resolved=False),
                note(31, markers.reply_marker("secscan", "v1:k", "resolved") + "\nok", me),
            ],
        },
        {"id": "sys", "individual_note": True, "notes": [{"id": 1, "body": "added 1 commit", "system": True}]},
    ]
    ex = read_existing(discussions, me=1, report="secscan")
    assert [n["id"] for n in ex.summaries] == [10, 20]  # oldest first; the other user's is ignored
    assert [t.discussion_id for t in ex.threads] == ["t1", "t2"]
    assert ex.threads[0].replies == frozenset({"resolved"})
    assert ex.note_count == 7  # system notes count towards GitLab's limit
    [dup] = duplicate_threads(ex.threads)
    assert (dup.thread.discussion_id, dup.kept.discussion_id) == ("t2", "t1")
