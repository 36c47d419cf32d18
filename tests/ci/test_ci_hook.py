"""The pre-push hook on real git repositories: install, then real pushes to a local bare remote."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from secscan import hook
from secscan.errors import ConfigError, InputError
from tests.conftest import VENV_BIN, require_tool

SHA_A = "a" * 40
SHA_B = "b" * 40
ZERO = "0" * 40
CLEAN = "def add(a, b):\n    return a + b\n"
VULN = "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True, env=_env())


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GIT_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["SEMGREP_ENABLE_VERSION_CHECK"] = "0"
    return env


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A clone of a bare remote whose main has one clean commit; on branch `feature`."""
    require_tool("git")
    require_tool("bandit")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    seed = tmp_path / "seed"
    git(tmp_path, "init", "-q", "-b", "main", str(seed))
    for r in (seed,):
        git(r, "config", "user.email", "dev@example.com")
        git(r, "config", "user.name", "Dev")
    (seed / "app.py").write_text(CLEAN)
    # The project's CI settings, which the hook uses too (bandit keeps the test fast).
    (seed / ".secscan.toml").write_text('only = ["bandit"]\n')
    git(seed, "add", ".")
    git(seed, "commit", "-qm", "init")
    git(seed, "push", "-q", str(remote), "main")
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    git(work, "config", "user.email", "dev@example.com")
    git(work, "config", "user.name", "Dev")
    git(work, "checkout", "-qb", "feature")
    return work


def secscan(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "python"), "-m", "secscan", *args], cwd=cwd, capture_output=True, text=True, env=_env()
    )


def remote_sha(repo: Path, branch: str) -> str | None:
    out = git(repo, "ls-remote", "origin", f"refs/heads/{branch}").stdout.split()
    return out[0] if out else None


def test_parse_push_lines() -> None:
    text = f"refs/heads/feature {SHA_A} refs/heads/feature {ZERO}\n(delete) {ZERO} refs/heads/old {SHA_B}\n"
    a, b = hook.parse_push_lines(text)
    assert (a.local_ref, a.local_sha, a.is_new, a.is_delete) == ("refs/heads/feature", SHA_A, True, False)
    assert b.is_delete and not b.is_new
    assert hook.parse_push_lines("\n") == ()
    with pytest.raises(InputError, match="line 1"):
        hook.parse_push_lines("refs/heads/x not-a-sha refs/heads/x 0\n")


def test_pre_commit_variables_become_a_ref_update() -> None:
    (u,) = hook.updates_from_env(
        {"PRE_COMMIT_TO_REF": SHA_A, "PRE_COMMIT_FROM_REF": SHA_B, "PRE_COMMIT_LOCAL_BRANCH": "refs/heads/f"}
    )
    assert (u.local_ref, u.local_sha, u.remote_sha) == ("refs/heads/f", SHA_A, SHA_B)
    assert hook.updates_from_env({}) == ()


def test_render_hook_quotes_the_interpreter_and_carries_the_marker() -> None:
    text = hook.render_hook(python="/opt/my env/bin/python", run_args=["--base", "origin/dev"])
    assert text.startswith("#!/bin/sh\n") and hook.MARKER in text
    assert "SECSCAN_PYTHON='/opt/my env/bin/python'" in text
    assert 'hook run --base origin/dev "$@"' in text


def test_install_refuses_a_foreign_hook_unless_forced(repo: Path) -> None:
    path = repo / ".git" / "hooks" / "pre-push"
    path.write_text("#!/bin/sh\necho mine\n")
    res = secscan(repo, "hook", "install")
    assert res.returncode == 2
    assert "not written by secscan" in res.stderr and "Traceback" not in res.stderr
    assert path.read_text() == "#!/bin/sh\necho mine\n"
    res = secscan(repo, "hook", "install", "--force")
    assert res.returncode == 0, res.stderr
    assert (repo / ".git" / "hooks" / "pre-push.secscan-backup").read_text() == "#!/bin/sh\necho mine\n"
    assert hook.MARKER in path.read_text() and os.access(path, os.X_OK)
    # Our own hook is updated in place without --force.
    assert secscan(repo, "hook", "install").returncode == 0
    with pytest.raises(ConfigError):
        hook.install(repo.parent / "remote.git" / "nope")


@pytest.mark.integration
def test_hook_blocks_a_vulnerable_push_and_lets_a_clean_one_through(repo: Path) -> None:
    assert secscan(repo, "hook", "install").returncode == 0

    (repo / "util.py").write_text(CLEAN.replace("add", "sub").replace("+", "-"))
    git(repo, "add", "util.py")
    git(repo, "commit", "-qm", "clean change")
    ok = git(repo, "push", "-q", "origin", "feature", check=False)
    assert ok.returncode == 0, ok.stderr
    assert remote_sha(repo, "feature") == git(repo, "rev-parse", "HEAD").stdout.strip()
    assert "changes since refs/remotes/origin/main" in ok.stderr

    (repo / "runner.py").write_text(VULN)
    git(repo, "add", "runner.py")
    git(repo, "commit", "-qm", "add a shell call")
    blocked = git(repo, "push", "-q", "origin", "feature", check=False)
    assert blocked.returncode != 0
    assert "push blocked for refs/heads/feature: gate failed" in blocked.stderr
    assert remote_sha(repo, "feature") != git(repo, "rev-parse", "HEAD").stdout.strip()
    # The scan's result stays under .git (never an untracked file in the work tree).
    assert list((repo / ".git" / "secscan" / "pre-push").glob("*/secscan.json"))
    assert git(repo, "status", "--porcelain").stdout == ""

    # Bypass, as documented.
    forced = git(repo, "push", "-q", "--no-verify", "origin", "feature", check=False)
    assert forced.returncode == 0


@pytest.mark.integration
def test_uncommitted_work_does_not_decide_the_push(repo: Path) -> None:
    assert secscan(repo, "hook", "install").returncode == 0
    (repo / "util.py").write_text(CLEAN)
    git(repo, "add", "util.py")
    git(repo, "commit", "-qm", "clean change")
    # A vulnerable file that is not committed is not pushed: the pushed commit is scanned alone.
    (repo / "scratch.py").write_text(VULN)
    ok = git(repo, "push", "-q", "origin", "feature", check=False)
    assert ok.returncode == 0, ok.stderr
    assert git(repo, "worktree", "list").stdout.count("\n") == 1  # the temporary worktree is gone


def test_a_committed_secscan_module_never_runs_instead_of_secscan(repo: Path, tmp_path: Path) -> None:
    # git runs the hook in the work tree; `python -m secscan` there would import a committed
    # secscan.py (or secscan/ package) first, which could pass any push.
    assert secscan(repo, "hook", "install").returncode == 0
    marker = tmp_path / "planted-ran"
    planted = f"import pathlib, sys\npathlib.Path({str(marker)!r}).write_text('ran')\nsys.exit(0)\n"
    (repo / "secscan.py").write_text(planted)
    (repo / "click.py").write_text(planted)
    (repo / "runner.py").write_text(VULN)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "tools")
    blocked = git(repo, "push", "-q", "origin", "feature", check=False)
    assert not marker.exists(), "code from the repository ran in the pre-push hook"
    assert blocked.returncode != 0, blocked.stderr
    assert "push blocked for refs/heads/feature: gate failed" in blocked.stderr


@pytest.mark.integration
def test_hook_says_what_it_did_without_input(repo: Path) -> None:
    """Issue 30: `hook run` with no terminal and no input said nothing and exited 0 (fail open).
    From git (REMOTE and URL given) an empty stdin means "Everything up-to-date"; from a script,
    the push of the current branch is checked."""
    assert secscan(repo, "hook", "install").returncode == 0
    git(repo, "push", "-q", "origin", "feature")
    again = git(repo, "push", "origin", "feature", check=False)
    assert again.returncode == 0 and "secscan: nothing is pushed to origin (git gave no refs): no scan" in again.stderr

    (repo / "runner.py").write_text(VULN)
    git(repo, "add", "runner.py")
    git(repo, "commit", "-qm", "add a shell call")
    scripted = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "secscan", "hook", "run"],
        cwd=repo, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=_env(), check=False,
    )  # fmt: skip
    assert "no pre-push lines on stdin: checking a push of the current branch to origin" in scripted.stderr
    assert scripted.returncode == 1, scripted.stderr
    assert "push blocked for refs/heads/feature: gate failed" in scripted.stderr
