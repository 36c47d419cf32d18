"""Publishing to a merge request: API calls and writes for a first run, an identical re-run, a run
with one finding fixed and one added, and the same first run through each kind of GitLab fault
(the loopback stand-in), plus three publishes racing on one merge request.

Figures are counts (machine-independent) and ratios within one run: a fault must cost retries and
look-ups, never an extra write or a duplicate on the merge request.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable

from secscan.gitlab import markers
from secscan.gitlab.publish import PublishFailed, publish_result
from secscan.gitlab.settings import PublishSettings, from_env
from secscan.models import Finding, Status
from tests.support.gitlab_standin import Fault, GitLabStandIn, MergeRequestState
from tests.support.gitlab_testkit import ci_env, finding, result

N_FINDINGS = 200
N_LINES = 400
NEW_TEXT = "".join(f"value_{n} = compute({n})\n" for n in range(N_LINES))
FINDINGS = [finding(f"v1:{n:08x}", line=1 + (n * 2) % N_LINES, path="app/big.py") for n in range(N_FINDINGS)]
FIXED = [dataclasses.replace(FINDINGS[0], status=Status.FIXED), *FINDINGS[1:]]


def _settings(gl: GitLabStandIn, **kw: object) -> PublishSettings:
    s = from_env(ci_env(gl), {"allow_http": True, "max_threads": 25, **kw})
    return dataclasses.replace(s, retry_base_s=0.05, retry_max_s=0.5, timeout_s=1.0)


def _mr(gl: GitLabStandIn) -> MergeRequestState:
    return gl.add_merge_request(project_id=7, iid=3, files={"app/big.py": ("", NEW_TEXT)})


def _publish(gl: GitLabStandIn, findings: list[Finding], s: PublishSettings) -> tuple[float, int, int]:
    gl.reset_calls()
    t0 = time.perf_counter()
    try:
        publish_result(result(*findings), s)
    except PublishFailed as e:
        print(f"  (publish failed: {e.message})")
    return time.perf_counter() - t0, len(gl.calls), gl.write_count()


def _duplicates(mr: MergeRequestState, bot: int) -> tuple[int, int]:
    """(extra summary notes, extra open threads) on the merge request."""
    ours = [d for d in mr.discussions if d["notes"][0]["author"]["id"] == bot]
    summaries = sum(1 for d in ours if markers.is_summary(str(d["notes"][0]["body"]), "secscan"))
    open_keys = [
        markers.thread_key(str(d["notes"][0]["body"]), "secscan")
        for d in ours
        if not d["individual_note"] and not d["notes"][0]["resolved"]
    ]
    return max(0, summaries - 1), len(open_keys) - len(set(open_keys))


FAULTS: dict[str, tuple[str, Callable[[], Fault]]] = {
    # name: (which run gets it, the fault)
    "note lost (500)": ("first", lambda: Fault(status=500, lands=True, route="note_create")),
    "note lost (502)": ("first", lambda: Fault(status=502, lands=True, route="note_create")),
    "thread lost (504)": ("first", lambda: Fault(status=504, lands=True, route="discussion_create", times=3)),
    "reply lost (502)": ("fixed", lambda: Fault(status=502, lands=True, route="discussion_reply")),
    "status lost (502)": ("first", lambda: Fault(status=502, lands=True, route="status_create")),
    "503 on threads": ("first", lambda: Fault(status=503, route="discussion_create", times=3)),
    "429 Retry-After 1": ("first", lambda: Fault(status=429, retry_after="1", route="note_create")),
    "connection reset": ("first", lambda: Fault(reset=True, route="discussion_create", times=2)),
    "slow answer (1.5 s)": ("first", lambda: Fault(delay=1.5, route="discussion_create")),
}


def _scenario(when: str, fault: Fault | None) -> tuple[float, int, int, int, tuple[int, int]]:
    """(seconds, calls, writes, write attempts, duplicates) of one run, with ``fault`` injected."""
    with GitLabStandIn() as gl:
        mr = _mr(gl)
        s = _settings(gl, commit_status=True)
        if when == "fixed":
            _publish(gl, FINDINGS, s)
        if fault is not None:
            gl.inject(fault)
        secs, calls, writes = _publish(gl, FIXED if when == "fixed" else FINDINGS, s)
        return secs, calls, writes, len(gl.write_attempts()), _duplicates(mr, gl.bot_user["id"])


def _through(name: str, when: str, fault: Fault, healthy: dict[str, int]) -> str:
    secs, calls, writes, attempts, extra = _scenario(when, fault)
    base = healthy[when]
    return (
        f"{name:<20} {writes:>3} writes ({writes / base:.2f}x healthy), {attempts:>3} attempts, "
        f"{calls:>3} calls, {secs:5.2f}s, duplicates {extra[0]} summary / {extra[1]} threads"
    )


def _race(n: int) -> str:
    with GitLabStandIn() as gl:
        mr = _mr(gl)
        barrier = threading.Barrier(n, timeout=30)
        gl.on("discussions_list", barrier.wait, times=n)
        workers = [threading.Thread(target=lambda: publish_result(result(*FINDINGS), _settings(gl))) for _ in range(n)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join(120)
        secs = time.perf_counter() - t0
        writes = gl.write_count()
        after = _duplicates(mr, gl.bot_user["id"])
        _publish(gl, FINDINGS, _settings(gl))
        final = _duplicates(mr, gl.bot_user["id"])
    return (
        f"{n} racing publishes: {writes} writes in {secs:.2f}s; duplicates left {after[0]} summary / "
        f"{after[1]} threads, after one more run {final[0]} / {final[1]}"
    )


def main() -> None:
    with GitLabStandIn() as gl:
        _mr(gl)
        s = _settings(gl)
        first = _publish(gl, FINDINGS, s)
        again = _publish(gl, FINDINGS, s)
        changed = [*FIXED, finding("v1:ffffffff", line=399, path="app/big.py")]
        delta = _publish(gl, changed, s)
    print(f"{N_FINDINGS} findings on a {N_LINES}-line new file, thread cap 25")
    print(f"first run:       {first[0]:.3f}s, {first[1]} API calls, {first[2]} writes")
    print(f"identical rerun: {again[0]:.3f}s, {again[1]} API calls, {again[2]} writes")
    print(f"1 fixed + 1 new: {delta[0]:.3f}s, {delta[1]} API calls, {delta[2]} writes")
    print(f"rerun/first time ratio: {again[0] / first[0]:.2f}")
    healthy = {when: _scenario(when, None)[2] for when in ("first", "fixed")}
    print(
        f"through each fault (healthy, with --commit-status: a first run makes {healthy['first']} writes, "
        f"a run with one finding fixed {healthy['fixed']}):"
    )
    for name, (when, make) in FAULTS.items():
        print("  " + _through(name, when, make(), healthy))
    for n in (2, 3):
        print(_race(n))


if __name__ == "__main__":
    main()
