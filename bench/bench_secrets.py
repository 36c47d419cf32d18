"""Secret history benchmark: the history scan of a merge request of 50 commits.

A git repository whose base is secscan's own source tree (real Python code, ~100 files); a
feature branch of 50 commits, each adding 10-40 lines of real code (slices of secscan's modules)
to one file, five of them adding a fake provider key that a later commit removes. Measured in
one run on one machine:

- reading the history (``git log -p`` of the 50 commits) and writing the added lines;
- ``secscan scan --only detect-secrets`` of the tree alone, and with the history
  (``--diff-base`` of the merge request): the difference is what the history costs.

Checked: every key added and removed inside the merge request is found at its commit.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GIT_"))},
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
COMMITS = 50


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True, text=True).stdout


def _fake_key(rng: random.Random) -> str:
    alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    return "sk_" + "live_" + "".join(rng.choice(alnum) for _ in range(24)) + "7Q"


def build(repo: Path) -> tuple[str, list[str]]:
    """The repository; returns the base sha and the commits that added a key."""
    shutil.copytree(ROOT / "secscan", repo / "secscan", ignore=shutil.ignore_patterns("__pycache__"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-qb", "feature")
    rng = random.Random(18)
    sources = sorted((ROOT / "secscan").rglob("*.py"))
    targets = sorted((repo / "secscan").rglob("*.py"))
    adders: list[str] = []
    pending: list[tuple[Path, str]] = []
    for n in range(COMMITS):
        lines = rng.choice(sources).read_text().splitlines()
        start = rng.randrange(max(1, len(lines) - 40))
        chunk = lines[start : start + rng.randint(10, 40)]
        target = rng.choice(targets)
        text = target.read_text()
        key_line = None
        if n % 10 == 2:
            key_line = f'STRIPE_KEY_{n} = "{_fake_key(rng)}"'
            chunk.append(key_line)
        if n % 10 == 7 and pending:
            path, line = pending.pop(0)
            path.write_text(path.read_text().replace(line + "\n", ""))
        target.write_text(text + "\n" + "\n".join(chunk) + "\n")
        git(repo, "commit", "-qam", f"change {n}")
        if key_line is not None:
            adders.append(git(repo, "rev-parse", "HEAD").strip())
            pending.append((target, key_line))
    return base, adders


def timed(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=ENV, check=False, capture_output=True, text=True)
    return time.perf_counter() - started


def main() -> None:
    from secscan import resultio, secrets_history

    with tempfile.TemporaryDirectory(prefix="bench-secrets-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        base, adders = build(repo)
        files = sum(1 for _ in (repo / "secscan").rglob("*.py"))
        started = time.perf_counter()
        history = secrets_history.read_history(repo, base)
        written = secrets_history.materialize(history, Path(tmp) / "added")
        git_s = time.perf_counter() - started
        added = sum(len(fa.lines) for c in history.commits for fa in c.files)
        cmd = [sys.executable, "-m", "secscan", "scan", str(repo), "--only", "detect-secrets", "--no-progress"]
        tree_s = timed([*cmd, "--out", str(Path(tmp) / "tree")])
        full_s = timed([*cmd, "--out", str(Path(tmp) / "hist"), "--diff-base", base])
        result = resultio.load(Path(tmp) / "hist" / "secscan.json")
        found = {f.location.commit for f in result.findings if f.location.commit}
        print(
            f"merge request: {len(history.commits)} commits, {added} added lines in {len(written)} files;"
            f" tree {files} files"
        )
        print(f"git log -p + writing the added lines: {git_s:.2f} s")
        print(f"scan of the tree alone: {tree_s:.2f} s; tree + history: {full_s:.2f} s")
        print(f"history scan cost: {full_s - tree_s:.2f} s (ratio tree+history / tree: {full_s / tree_s:.2f})")
        hits = [c for c in adders if c in found]
        print(
            f"keys added then removed inside the MR, found at the commit that added them: {len(hits)} of {len(adders)}"
        )
