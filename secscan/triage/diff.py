"""Diff-aware mode: what changed since the merge-base with a base ref.

Paths are relative to the scanned root (``git diff --relative`` run inside it), which is what
findings carry, even when the root is a sub-folder of the repository. Changes include
uncommitted and untracked files: a developer runs the same check before committing.

Only :func:`parse_unified_diff` is pure; the rest asks git (the real one) and wraps its errors in
a :class:`ConfigError` (a bad ``--diff-base`` is a usage problem, exit 2).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from secscan.errors import ConfigError
from secscan.gitutil import run_git

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True, kw_only=True)
class FileChange:
    path: str
    """Path in the working tree (relative to the scanned root)."""
    old_path: str | None
    """Path at the base (differs after a rename; None for a new file)."""
    added: frozenset[int] = frozenset()
    """1-based line numbers in the working tree that were added or changed."""
    whole_file: bool = False
    """New or untracked file: every line counts as added."""

    def touches(self, start: int, end: int | None = None) -> bool:
        if self.whole_file:
            return True
        stop = end if end is not None and end >= start else start
        return any(n in self.added for n in range(start, stop + 1))


@dataclass(frozen=True, kw_only=True)
class DiffInfo:
    base_ref: str
    base_sha: str
    """The merge-base commit the comparison is against."""
    files: Mapping[str, FileChange] = field(default_factory=dict)

    def changed_paths(self) -> tuple[str, ...]:
        return tuple(sorted(self.files))


def parse_unified_diff(text: str) -> dict[str, FileChange]:
    """Added/changed lines per new path from ``git diff -U0`` output (pure).

    Deleted files are left out (nothing to scan); pure renames appear with no added lines.
    """
    files: dict[str, FileChange] = {}
    old: str | None = None
    new: str | None = None
    is_new_file = False
    added: set[int] = set()

    def flush() -> None:
        if new is not None:
            files[new] = FileChange(path=new, old_path=None if is_new_file else old, added=frozenset(added))

    for line in text.splitlines():
        if line.startswith("diff --git "):
            flush()
            old, new, is_new_file, added = None, None, False, set()
            m = re.match(r"^diff --git a/(.*) b/(.*)$", line)
            if m:
                old, new = m.group(1), m.group(2)
        elif line.startswith("new file mode"):
            is_new_file = True
        elif line.startswith("deleted file mode"):
            new = None
            old = None
        elif line.startswith("rename from "):
            old = line[len("rename from ") :]
        elif line.startswith("rename to "):
            new = line[len("rename to ") :]
        elif line.startswith("--- "):
            old = None if line == "--- /dev/null" else line[len("--- a/") :]
        elif line.startswith("+++ "):
            new = None if line == "+++ /dev/null" else line[len("+++ b/") :]
        elif line.startswith("@@"):
            m = _HUNK.match(line)
            if m:
                start = int(m.group(1))
                count = int(m.group(2)) if m.group(2) is not None else 1
                added.update(range(start, start + count))
    flush()
    return files


def _git(root: Path, *args: str, check: bool = True) -> str:
    return run_git(root, *args, check=check, purpose="diff-aware mode")


def merge_base(root: Path, base_ref: str) -> str:
    """The merge-base of ``base_ref`` and HEAD (or ``base_ref`` itself when HEAD has no history
    in common with it, e.g. a shallow CI clone that fetched only the base SHA)."""
    if not base_ref or base_ref.startswith("-"):
        raise ConfigError(f"invalid --diff-base {base_ref!r}")
    if _git(root, "rev-parse", "--is-inside-work-tree", check=False).strip() != "true":
        raise ConfigError(f"--diff-base needs a git work tree, and {root} is not one")
    sha = _git(root, "rev-parse", "--verify", "--quiet", f"{base_ref}^{{commit}}", check=False).strip()
    if not sha:
        raise ConfigError(
            f"--diff-base {base_ref!r} is not a commit in this repository "
            "(in CI, fetch it: a deeper GIT_DEPTH or `git fetch origin <branch>`)"
        )
    mb = _git(root, "merge-base", sha, "HEAD", check=False).strip()
    return mb or sha


def diff_info(root: Path, base_ref: str) -> DiffInfo:
    """Changed files and lines since the merge-base, uncommitted and untracked work included."""
    base_sha = merge_base(root, base_ref)
    text = _git(root, "diff", "--no-color", "--no-ext-diff", "--relative", "-U0", "-M", base_sha, "--")
    files = parse_unified_diff(text)
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    for path in untracked.split("\0"):
        if path:
            files[path] = FileChange(path=path, old_path=None, whole_file=True)
    # A file new since the base: all of it is new (git -U0 already lists every line, but say so).
    for path, change in list(files.items()):
        if change.old_path is None and not change.whole_file:
            files[path] = FileChange(path=path, old_path=None, added=change.added, whole_file=True)
    return DiffInfo(base_ref=base_ref, base_sha=base_sha, files=files)


def base_text(root: Path, base_sha: str, path: str) -> str | None:
    """A file's text at the base commit (``path`` relative to root), or None if it did not exist."""
    out = subprocess.run(
        ["git", "-C", str(root), "show", f"{base_sha}:./{path}"],
        capture_output=True,
        check=False,
        timeout=60,
    )
    if out.returncode != 0:
        return None
    return out.stdout.decode("utf-8", errors="replace")
