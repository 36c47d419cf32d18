"""The trusted side of a merge request: files as they are at the diff-base commit.

In a merge request the author controls everything in the head: code, but also secscan's settings,
the policy, suppressions, baseline, rule files and advisory database when they live in the tree.
Whatever decides the verdict is therefore read from the merge-base commit (the target branch's
merged state), copied into a private folder outside the tree. The head's changes to those files
are detected and reported as pending: they apply once the merge request is merged and so has
been reviewed.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from secscan.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class TrustedBase:
    """Read access to the tree at the merge-base commit, and a private folder for copies."""

    root: Path
    """The scanned folder (absolute); paths are relative to it."""
    sha: str
    """The merge-base commit."""
    store: Path
    """Private folder (outside the tree) that materialized copies go to."""

    def _git(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        try:
            return subprocess.run(
                ["git", "-c", "core.quotepath=off", "-C", str(self.root), *args],
                capture_output=True,
                env=env,
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ConfigError(f"reading the trusted settings at {self.sha[:12]} failed: {e}") from e

    def blob(self, rel: str) -> bytes | None:
        """The file's bytes at the base (None: it did not exist there, or is not a file)."""
        out = self._git("cat-file", "blob", f"{self.sha}:./{rel}")
        return out.stdout if out.returncode == 0 else None

    def text(self, rel: str) -> str | None:
        data = self.blob(rel)
        return data.decode("utf-8", errors="replace") if data is not None else None

    def files_under(self, rel: str) -> list[str]:
        """Files (repo-relative to root) at or below ``rel`` at the base."""
        # Without --full-name, ls-tree names paths relative to the folder it runs in (root).
        out = self._git("ls-tree", "-r", "-z", "--name-only", self.sha, "--", f"./{rel}")
        if out.returncode != 0:
            return []
        return [n for n in out.stdout.decode("utf-8", errors="replace").split("\0") if n]

    def materialize(self, rel: str) -> Path | None:
        """Copy the base version of a file or folder into the private store; its path there
        (None when it did not exist at the base)."""
        dest = self.store / "trusted" / rel
        data = self.blob(rel)
        if data is not None:
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            return dest
        files = self.files_under(rel)
        if not files:
            return None
        for name in files:
            content = self.blob(name)
            if content is None:
                continue
            target = self.store / "trusted" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        dest.mkdir(parents=True, exist_ok=True)
        return dest


def inside(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` (POSIX) when it lies inside it, else None. Symlinks are not
    followed: a path inside the tree is the tree's, wherever a link in it points."""
    absolute = Path(os.path.normpath(path if path.is_absolute() else Path.cwd() / path))
    base = Path(os.path.normpath(root.resolve()))
    try:
        rel = absolute.relative_to(base)
    except ValueError:
        try:
            rel = absolute.resolve().relative_to(base)
        except (ValueError, OSError):
            return None
    text = PurePosixPath(rel).as_posix()
    return "" if text == "." else text


def differs(trusted: TrustedBase, rel: str) -> bool:
    """Whether the work tree's version of ``rel`` (file or folder) differs from the base's."""
    head = trusted.root / rel
    if head.is_file():
        try:
            return head.read_bytes() != trusted.blob(rel)
        except OSError:
            return True
    if head.is_dir():
        base_files = set(trusted.files_under(rel))
        head_files = {(Path(d) / f).relative_to(trusted.root).as_posix() for d, _dirs, fs in os.walk(head) for f in fs}
        if base_files != head_files:
            return True
        return any((trusted.root / f).read_bytes() != trusted.blob(f) for f in sorted(head_files))
    return trusted.blob(rel) is not None or bool(trusted.files_under(rel))
