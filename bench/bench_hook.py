"""Pre-push hook benchmark: the hook's wall time against a full scan of the same tree.

A git repository of Django's source (about 2,800 Python files) with a bare remote; a feature
branch changes one file. Measured in one run on one machine:

- the full scan: `secscan scan <repo>` (the project's settings: bandit and semgrep);
- the push: `git push origin feature` with the installed pre-push hook, i.e. git's own work plus
  the hook (base detection, merge-base, the diff-aware scan of the changed file).

Bar: push-with-hook wall time under 15% of the full scan.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_core import DJANGO, django_tree

ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GIT_"))},
    "SEMGREP_ENABLE_VERSION_CHECK": "0",
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}
CHANGED = "django/utils/text.py"


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True, text=True)


def timed(argv: list[str], cwd: Path) -> tuple[float, int]:
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0, proc.returncode


def main() -> None:
    python = sys.executable
    src = django_tree()
    with tempfile.TemporaryDirectory(prefix="bench-hook-") as tmp:
        root = Path(tmp)
        remote = root / "remote.git"
        repo = root / "django"
        git(root, "init", "-q", "--bare", "-b", "main", str(remote))
        shutil.copytree(src, repo)
        (repo / ".secscan.toml").write_text('only = ["bandit", "semgrep"]\n')
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "django")
        git(repo, "remote", "add", "origin", str(remote))
        git(repo, "push", "-q", "origin", "main")
        git(repo, "fetch", "-q", "origin")
        git(repo, "remote", "set-head", "origin", "main")
        n_files = sum(1 for _ in repo.rglob("*.py"))
        print(f"target: {DJANGO} source as a git repository, {n_files} Python files, {os.cpu_count()} cores")

        git(repo, "checkout", "-qb", "feature")
        with (repo / CHANGED).open("a", encoding="utf-8") as fh:
            fh.write("\n\ndef _bench_helper(value):\n    return str(value).strip()\n")
        git(repo, "commit", "-qam", "one changed file")
        subprocess.run([python, "-m", "secscan", "hook", "install", "-C", str(repo)], env=ENV, check=True)

        out = root / "full"
        t_full, rc_full = timed([python, "-m", "secscan", "scan", str(repo), "--out", str(out), "--no-progress"], repo)
        print(f"full scan (bandit + semgrep, whole tree): {t_full:.1f} s (exit {rc_full})")

        t_hook, rc_hook = timed(["git", "push", "-q", "origin", "feature"], repo)
        print(f"git push with the pre-push hook (1 changed file): {t_hook:.1f} s (exit {rc_hook})")
        git(repo, "push", "-q", "origin", "--delete", "feature")
        t_plain, _ = timed(["git", "push", "-q", "--no-verify", "origin", "feature"], repo)
        print(f"git push --no-verify (git's own share): {t_plain:.2f} s")

        ratio = t_hook / t_full
        print(f"RATIO hook / full scan: {ratio:.3f} (bar < 0.15) {'OK' if ratio < 0.15 else 'OVER'}")
        if rc_hook != 0:
            print("note: the hook blocked the push (gate or scanner failure); the figure is still its wall time")


if __name__ == "__main__":
    main()
