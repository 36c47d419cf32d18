"""`secscan publish` as a real process against the stand-in: exit codes, messages, and the token
never appearing in any output (stdout, stderr, --debug logs, files)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secscan import resultio
from tests.conftest import require_tool
from tests.support.cli import Run, secscan
from tests.support.gitlab_standin import Fault, GitLabStandIn
from tests.support.gitlab_testkit import MD5, SHELL, add_mr, ci_env, result

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], env: dict[str, str], cwd: Path) -> Run:
    return secscan(*args, cwd=cwd, clean=True, env=env)


@pytest.fixture
def result_file(tmp_path: Path) -> Path:
    path = tmp_path / "secscan.json"
    path.write_text(resultio.dumps(result(MD5, SHELL)), encoding="utf-8")
    return path


def assert_no_secret(secret: str, proc: Run, tmp: Path) -> None:
    assert secret not in proc.stdout
    assert secret not in proc.stderr
    for f in tmp.rglob("*"):
        if f.is_file():
            assert secret not in f.read_text(encoding="utf-8", errors="replace"), f


def test_cli_publishes_then_reruns_with_zero_writes(
    gitlab_standin: GitLabStandIn, result_file: Path, tmp_path: Path
) -> None:
    add_mr(gitlab_standin)
    env = ci_env(gitlab_standin)
    first = run(["publish", str(result_file), "--allow-http"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "summary note created" in first.stdout
    assert gitlab_standin.write_count() == 3
    gitlab_standin.reset_calls()
    second = run(["publish", str(result_file), "--allow-http"], env, tmp_path)
    assert second.returncode == 0
    assert "summary note unchanged" in second.stdout
    assert gitlab_standin.write_attempts() == []


def test_token_never_in_any_output_even_with_debug_and_echoing_errors(
    gitlab_standin: GitLabStandIn, result_file: Path, tmp_path: Path
) -> None:
    add_mr(gitlab_standin)
    token = gitlab_standin.private_token
    # GitLab (or a proxy) echoing the request header back in an error body: python-gitlab puts
    # that text into its exception message.
    echo = f"bad request header PRIVATE-TOKEN: {token}"
    gitlab_standin.inject(Fault(status=503, times=1, route="discussions_list", message=echo))
    gitlab_standin.inject(Fault(status=429, retry_after="0", times=1, route="note_create"))
    gitlab_standin.inject(Fault(status=500, times=None, route="status_create", message=echo))
    env = ci_env(gitlab_standin)
    args = ["--debug", "publish", str(result_file), "--allow-http", "--commit-status", "--timeout-budget", "30"]
    proc = run(args, env, tmp_path)
    assert proc.returncode == 0  # not required: reported, exit 0
    assert "publish failed" in proc.stderr and "[MASKED]" in proc.stderr
    assert "secscan: debug:" in proc.stderr  # the debug log really was on
    assert_no_secret(token, proc, tmp_path)

    required = run([*args, "--require-publish"], env, tmp_path)
    assert required.returncode == 4
    assert_no_secret(token, required, tmp_path)

    wrong = "glpat-WrongTokenValue-0000000000"
    bad = run(
        ["--debug", "publish", str(result_file), "--allow-http"], {**env, "SECSCAN_GITLAB_TOKEN": wrong}, tmp_path
    )
    assert "rejected the token (401" in bad.stderr
    assert_no_secret(wrong, bad, tmp_path)


def test_job_token_only_explains_what_to_create(
    gitlab_standin: GitLabStandIn, result_file: Path, tmp_path: Path
) -> None:
    add_mr(gitlab_standin)
    env = ci_env(gitlab_standin)
    del env["SECSCAN_GITLAB_TOKEN"]
    env["CI_JOB_TOKEN"] = gitlab_standin.job_token
    proc = run(["publish", str(result_file), "--allow-http"], env, tmp_path)
    assert proc.returncode == 0
    assert "CI_JOB_TOKEN cannot post merge request notes" in proc.stderr
    assert "project access token" in proc.stderr and "`api`" in proc.stderr
    assert gitlab_standin.calls == []
    assert run(["publish", str(result_file), "--allow-http", "--require-publish"], env, tmp_path).returncode == 4
    assert_no_secret(gitlab_standin.job_token, proc, tmp_path)


def test_plain_http_refused_without_allow_http(
    gitlab_standin: GitLabStandIn, result_file: Path, tmp_path: Path
) -> None:
    add_mr(gitlab_standin)
    proc = run(["publish", str(result_file), "--require-publish"], ci_env(gitlab_standin), tmp_path)
    assert proc.returncode == 4
    assert "refusing to send the GitLab token over plain HTTP" in proc.stderr
    assert gitlab_standin.calls == []  # not even a read: the token never went out


def test_dry_run_prints_and_writes_nothing(gitlab_standin: GitLabStandIn, result_file: Path, tmp_path: Path) -> None:
    add_mr(gitlab_standin)
    proc = run(["publish", str(result_file), "--allow-http", "--dry-run"], ci_env(gitlab_standin), tmp_path)
    assert proc.returncode == 0
    assert "--- would create the summary note" in proc.stdout
    assert "--- would open inline thread at app/pay.py:6" in proc.stdout
    assert gitlab_standin.write_attempts() == []


def test_flags_override_ci_variables_and_bad_flags_exit_2(
    gitlab_standin: GitLabStandIn, result_file: Path, tmp_path: Path
) -> None:
    add_mr(gitlab_standin)
    gitlab_standin.add_merge_request(project_id=7, iid=9, files={"app/pay.py": ("", "x = 1\n")})
    env = ci_env(gitlab_standin)
    proc = run(
        ["publish", str(result_file), "--allow-http", "--mr-iid", "9", "--report-name", "nightly"], env, tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "merge request 7!9" in proc.stdout
    assert (
        gitlab_standin.merge_requests[(7, 9)].notes()[0]["body"].startswith("<!-- secscan:summary report=nightly -->")
    )
    assert gitlab_standin.merge_requests[(7, 3)].notes() == []
    bad = run(["publish", str(result_file), "--min-severity", "urgent"], env, tmp_path)
    assert bad.returncode == 2 and "unknown severity" in bad.stderr
    missing = run(["publish", str(tmp_path / "nope.json")], env, tmp_path)
    assert missing.returncode == 2


def test_scan_publish_end_to_end_with_real_bandit(gitlab_standin: GitLabStandIn, tmp_path: Path) -> None:
    """`secscan scan --publish`: real bandit on a small app, its findings on the MR's added lines."""
    require_tool("bandit")
    app = tmp_path / "repo" / "app"
    app.mkdir(parents=True)
    source = (
        "import hashlib\nimport subprocess\n\n\ndef pay(amount):\n    return hashlib.md5(str(amount).encode())\n"
        "\n\ndef refund(cmd):\n    subprocess.call(cmd, shell=True)\n"
    )
    (app / "pay.py").write_text(source, encoding="utf-8")
    gitlab_standin.add_merge_request(project_id=7, iid=3, files={"app/pay.py": ("", source)})
    env = {**ci_env(gitlab_standin), "SECSCAN_GITLAB_ALLOW_HTTP": "1"}
    # this checkout is not a git work tree: no diff-aware statuses (every finding is new)
    del env["CI_MERGE_REQUEST_DIFF_BASE_SHA"]
    out = tmp_path / "out"
    args = ["scan", str(tmp_path / "repo"), "--only", "bandit", "--publish", "--out", str(out)]
    proc = run(args, env, tmp_path)
    assert proc.returncode == 1, proc.stderr  # the gate's verdict stands (B324/B602 are high)
    positions = sorted(d["notes"][0]["position"]["new_line"] for d in gitlab_standin.merge_requests[(7, 3)].threads())
    assert positions == [6, 10]  # md5 and shell=True, both on added lines
    assert gitlab_standin.write_count("note_create") == 1
    gitlab_standin.reset_calls()
    again = run(args, env, tmp_path)
    assert again.returncode == 1
    assert [c.route for c in gitlab_standin.writes()] in ([], ["note_update"])  # at most the note (new start time)
    assert_no_secret(gitlab_standin.private_token, again, tmp_path)


def test_cli_token_without_write_scope_one_clear_line_and_exit_4_when_required(
    gitlab_standin: GitLabStandIn, result_file: Path, tmp_path: Path
) -> None:
    add_mr(gitlab_standin)
    token = gitlab_standin.add_token("glpat-ReadApiOnly-cli-0123456789", scopes=("read_api",))
    env = {**ci_env(gitlab_standin), "SECSCAN_GITLAB_TOKEN": token}
    proc = run(["publish", str(result_file), "--allow-http", "--require-publish"], env, tmp_path)
    assert proc.returncode == 4
    failed = [ln for ln in proc.stderr.splitlines() if ln.startswith("secscan: publish failed:")]
    assert len(failed) == 1 and "`api` scope" in failed[0] and "no further writes" in failed[0]
    assert "Traceback" not in proc.stderr
    assert len(gitlab_standin.write_attempts()) == 1
    assert_no_secret(token, proc, tmp_path)


def test_scan_publish_takes_the_gitlab_url_as_an_option(gitlab_standin: GitLabStandIn, tmp_path: Path) -> None:
    """Issue 30: `scan --publish --gitlab-url URL` (the URL came only from CI_API_V4_URL); the
    option wins over the variable, and without --publish it is a usage error, not ignored."""
    require_tool("bandit")
    app = tmp_path / "repo"
    app.mkdir()
    source = "import hashlib\n\n\ndef pay(amount):\n    return hashlib.md5(str(amount).encode())\n"
    (app / "pay.py").write_text(source, encoding="utf-8")
    gitlab_standin.add_merge_request(project_id=7, iid=3, files={"pay.py": ("", source)})
    env = {**ci_env(gitlab_standin), "SECSCAN_GITLAB_ALLOW_HTTP": "1", "CI_API_V4_URL": "http://127.0.0.1:9/api/v4"}
    del env["CI_MERGE_REQUEST_DIFF_BASE_SHA"]
    args = ["scan", str(app), "--only", "bandit", "--out", str(tmp_path / "out"), "--require-publish"]
    proc = run([*args, "--publish", "--gitlab-url", gitlab_standin.api_url], env, tmp_path)
    assert proc.returncode == 1, proc.stderr  # published (else exit 4), the gate's verdict stands
    assert gitlab_standin.write_count("note_create") == 1
    alone = run([*args, "--gitlab-url", gitlab_standin.api_url], env, tmp_path)
    assert alone.returncode == 2 and "--gitlab-url is used only with --publish" in alone.stderr
