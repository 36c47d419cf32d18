"""Publishing to a merge request: API calls and time for a first run, an identical re-run, a run
with one finding fixed and one added, and a run against a flaky GitLab (the loopback stand-in).

Figures are ratios within one run (re-run vs first run) plus absolute call counts, which do not
depend on the machine.
"""

from __future__ import annotations

import dataclasses
import time

from secscan.gitlab.publish import publish_result
from secscan.gitlab.settings import PublishSettings, from_env
from secscan.models import Finding, Status
from tests.support.gitlab_standin import Fault, GitLabStandIn
from tests.support.gitlab_testkit import ci_env, finding, result

N_FINDINGS = 200
N_LINES = 400


def _settings(gl: GitLabStandIn, **kw: object) -> PublishSettings:
    s = from_env(ci_env(gl), {"allow_http": True, "max_threads": 25, **kw})
    return dataclasses.replace(s, retry_base_s=0.05, retry_max_s=0.5, timeout_s=2.0)


def _timed(gl: GitLabStandIn, findings: list[Finding], s: PublishSettings) -> tuple[float, int, int]:
    gl.reset_calls()
    t0 = time.perf_counter()
    publish_result(result(*findings), s)
    return time.perf_counter() - t0, len(gl.calls), gl.write_count()


def main() -> None:
    new_text = "".join(f"value_{n} = compute({n})\n" for n in range(N_LINES))
    findings = [finding(f"v1:{n:08x}", line=1 + (n * 2) % N_LINES, path="app/big.py") for n in range(N_FINDINGS)]
    with GitLabStandIn() as gl:
        gl.add_merge_request(project_id=7, iid=3, files={"app/big.py": ("", new_text)})
        s = _settings(gl)
        first = _timed(gl, findings, s)
        again = _timed(gl, findings, s)
        changed = [dataclasses.replace(findings[0], status=Status.FIXED), *findings[1:]]
        changed.append(finding("v1:ffffffff", line=399, path="app/big.py"))
        delta = _timed(gl, changed, s)
        gl.inject(Fault(status=503, times=3, route="discussions_list"))
        gl.inject(Fault(status=429, retry_after="1", times=1, route="note_update"))
        flaky_findings = [*changed, finding("v1:eeeeeeee", line=397, path="app/big.py")]
        flaky = _timed(gl, flaky_findings, s)
    print(f"{N_FINDINGS} findings on a {N_LINES}-line new file, thread cap 25")
    print(f"first run:      {first[0]:.3f}s, {first[1]} API calls, {first[2]} writes")
    print(f"identical rerun:{again[0]:.3f}s, {again[1]} API calls, {again[2]} writes")
    print(f"1 fixed + 1 new:{delta[0]:.3f}s, {delta[1]} API calls, {delta[2]} writes")
    print(f"flaky GitLab:   {flaky[0]:.3f}s, {flaky[1]} API calls, {flaky[2]} writes (3x503 + 429 Retry-After: 1)")
    print(f"rerun/first time ratio: {again[0] / first[0]:.2f}")


if __name__ == "__main__":
    main()
