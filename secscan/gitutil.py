"""The one way secscan runs git: real git, no prompts, C locale, a time limit, one-line errors."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from secscan.errors import ConfigError

# Variables that would make git's diff output something else than what secscan parses (an
# external diff program, other diff options); nothing secscan runs git for needs them.
_DROPPED_ENV = ("GIT_EXTERNAL_DIFF", "GIT_DIFF_OPTS")


def _run(root: Path, args: tuple[str, ...], *, check: bool, purpose: str) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
    env.update({"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    try:
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=off", "-C", str(root), *args],
            capture_output=True,
            env=env,
            timeout=120,
            check=False,
        )
    except FileNotFoundError as e:
        raise ConfigError(f"{purpose} needs git, which is not installed") from e
    except subprocess.TimeoutExpired as e:
        raise ConfigError(f"git {args[0]} took longer than 120s in {root}") from e
    if check and proc.returncode != 0:
        stderr = proc.stderr.decode("utf-8", errors="replace")
        err = " ".join(stderr.strip().splitlines()[-1:]) or f"exit code {proc.returncode}"
        raise ConfigError(f"git {args[0]} failed in {root}: {err}")
    return proc


def run_git(root: Path, *args: str, check: bool = True, purpose: str = "secscan") -> str:
    """``git -C root ARGS``; its stdout. Failures become a :class:`ConfigError` naming ``purpose``."""
    return _run(root, args, check=check, purpose=purpose).stdout.decode("utf-8", errors="replace")


def run_git_bytes(root: Path, *args: str, check: bool = True, purpose: str = "secscan") -> bytes:
    """Like :func:`run_git`, stdout as bytes: for file contents and diffs, whose bytes (line
    breaks, file names that are not UTF-8) must reach the parser unchanged."""
    return _run(root, args, check=check, purpose=purpose).stdout


def merge_base(root: Path, base_ref: str) -> str:
    """The merge-base of ``base_ref`` and HEAD (or ``base_ref`` itself when HEAD has no history
    in common with it, e.g. a shallow CI clone that fetched only the base SHA)."""
    if not base_ref or base_ref.startswith("-"):
        raise ConfigError(f"invalid --diff-base {base_ref!r}")

    def git(*args: str) -> str:
        return run_git(root, *args, check=False, purpose="diff-aware mode").strip()

    if git("rev-parse", "--is-inside-work-tree") != "true":
        raise ConfigError(f"--diff-base needs a git work tree, and {root} is not one")
    sha = run_git(
        root, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}", check=False, purpose="diff-aware mode"
    ).strip()
    if not sha:
        raise ConfigError(
            f"--diff-base {base_ref!r} is not a commit in this repository "
            "(in CI, fetch it: a deeper GIT_DEPTH or `git fetch origin <branch>`)"
        )
    mb = git("merge-base", sha, "HEAD")
    return mb or sha
