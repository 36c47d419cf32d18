"""One builder for hostile merge requests: a real git repository with a trusted base commit and an
attacker's head, and one way to scan it as the CI template's merge-request pipeline does.

``new_repo`` and ``commit`` build any repository history the same way. Contents may be text,
bytes or a :class:`Link` (a symbolic link committed as such); ``None``
deletes the path at the head. ``scan_mr`` runs ``secscan scan . --only NAME`` in the repository
with the job's credentials in the environment and checks that none of them reaches any output.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.conftest import require_tool
from tests.support.cli import secscan

# The job's secrets, as GitLab gives them to a merge request pipeline.
SECRETS = {
    "SECSCAN_GITLAB_TOKEN": "glpat-TOKEN-must-not-leak-1234",
    "SECSCAN_AUDIT_KEY": "audit-key-must-not-leak-5678",
    "CI_JOB_TOKEN": "job-token-must-not-leak-9012",
}


@dataclass(frozen=True)
class Link:
    """A symbolic link to ``target`` (as written, relative or absolute)."""

    target: str


Content = str | bytes | Link | None


def git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    proc = subprocess.run(
        ["git", "-c", "user.email=dev@example.com", "-c", "user.name=Dev", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return proc.stdout.strip()


def _put(repo: Path, name: str, content: Content) -> None:
    path = repo / name
    if content is None:
        if path.is_symlink() or path.is_file():
            path.unlink()
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.is_file():
        path.unlink()
    if isinstance(content, Link):
        path.symlink_to(content.target)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_bytes(content.encode("utf-8"))


def commit(repo: Path, files: Mapping[str, Content], message: str) -> str:
    """Write ``files`` (``None`` deletes), commit everything, return the new commit's sha."""
    for name, content in files.items():
        _put(repo, name, content)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def new_repo(tmp_path: Path, base: Mapping[str, Content], *, branch: str = "feature") -> tuple[Path, str]:
    """A repository with ``base`` committed on ``main`` and ``branch`` checked out from it;
    returns it and the base commit's sha."""
    require_tool("git")
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    base_sha = commit(repo, base, "base")
    git(repo, "checkout", "-qb", branch)
    return repo, base_sha


def make_mr(tmp_path: Path, base: Mapping[str, Content], head: Mapping[str, Content]) -> tuple[Path, str]:
    """A repository at the head of a merge request; returns it and the diff-base sha."""
    repo, base_sha = new_repo(tmp_path, base, branch="attack")
    commit(repo, head, "harmless refactoring")
    return repo, base_sha


def job_env(base_sha: str, **extra: str) -> dict[str, str]:
    """The environment of a merge-request pipeline job, with its credentials."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GITLAB_"))}
    env.update(SECRETS)
    env.update(
        {
            "CI": "true",
            "CI_PIPELINE_SOURCE": "merge_request_event",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": base_sha,
            "SEMGREP_ENABLE_VERSION_CHECK": "0",
        }
    )
    env.update(extra)
    return env


@dataclass(frozen=True)
class Scan:
    code: int
    result: dict[str, Any]
    stdout: str
    stderr: str
    out_dir: Path

    def new_rules(self) -> set[str]:
        return {f["rule_id"] for f in self.result["findings"] if f["status"] == "new"}

    def status(self, scanner: str) -> dict[str, Any]:
        return next(s for s in self.result["scanners"] if s["name"] == scanner)


def scan_mr(
    repo: Path, base_sha: str, *only: str, extra: tuple[str, ...] = (), env: dict[str, str] | None = None
) -> Scan:
    """``secscan scan . --only A --only B ...`` as the pipeline job runs it; asserts no credential
    appears on the terminal or in any file written to the output folder."""
    name = "-".join(only) or "all"
    out = repo / "secscan-results" / name
    args = ["scan", ".", "--out", str(out.relative_to(repo)), "--no-progress"]
    for o in only:
        args += ["--only", o]
    # In-process (tests/support/cli.py): what the command prints goes through the masking streams
    # as in the job; tests/trust/test_trust2_masking.py checks the real process's streams.
    proc = secscan(*args, *extra, cwd=repo, environ=env or job_env(base_sha))
    path = out / "secscan.json"
    assert path.is_file(), proc.stderr
    result = json.loads(path.read_text())
    texts = [proc.stdout, proc.stderr] + [
        p.read_text(errors="replace") for p in out.rglob("*") if p.is_file() and not p.is_symlink()
    ]
    for value in SECRETS.values():
        for text in texts:
            assert value not in text
    return Scan(code=proc.returncode, result=result, stdout=proc.stdout, stderr=proc.stderr, out_dir=out)
