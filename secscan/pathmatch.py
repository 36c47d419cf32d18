"""Which repo-relative paths a list of patterns selects: one meaning for suppression paths,
``--exclude`` and the files every scanner is given.

Patterns are gitignore patterns (pathspec implements git's rules): ``tests`` names a file or
folder of that name at any depth, ``tests/`` only folders; a slash at the start or inside anchors
the pattern at the project root (``app/*.py`` is ``app/x.py``, not ``lib/app/x.py``); ``*`` and
``?`` stay within one folder, ``**`` crosses folders; ``!`` re-includes, except below an excluded
folder (as in git). ``./`` at the start means the project root, so ``./.github/**`` is
``/.github/**``: it selects ``.github/ci.yml`` and never ``github/x``.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

# Folders no one wants scanned: virtualenvs, VCS metadata, caches, build output and vendored
# code. Includes bandit's own default excludes (.svn, CVS, .bzr, .hg, .eggs, *.egg), which it
# applies by itself, so that semgrep skips exactly what bandit does.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git",
    ".svn",
    "CVS",
    ".bzr",
    ".hg",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".eggs",
    "*.egg",
    "node_modules",
    "__pycache__",
    "secscan-out",
    ".secscan-cache",  # the CI template's per-file result cache (GitLab `cache:`)
    "build",
    "dist",
)


def normalize(pattern: str) -> str:
    """The gitignore form of a user's pattern: trimmed, a leading ``./`` read as the root."""
    p = pattern.strip()
    if p.startswith("./"):
        while p.startswith("./"):
            p = p[2:]
        p = "/" + p.lstrip("/")
    return p


class PathMatcher:
    """Compiled patterns; ``matches(path)`` says whether the patterns select a repo-relative path."""

    __slots__ = ("_negates", "_spec", "patterns")

    def __init__(self, patterns: Iterable[str]) -> None:
        raw = tuple(patterns)
        self.patterns = tuple(normalize(p) for p in raw)
        for given, p in zip(raw, self.patterns, strict=True):
            if not p or p in ("/", "!", ".") or p.startswith("#"):
                raise ValueError(f"pattern {given!r} selects nothing")
        import pathspec  # loaded by the runs that match paths, not by every import of secscan.triage

        try:
            self._spec = pathspec.GitIgnoreSpec.from_lines(self.patterns)
        except ValueError as e:  # pathspec's pattern errors are ValueErrors naming the pattern
            raise ValueError(f"invalid pattern: {e}") from None
        for given, compiled_pattern in zip(raw, self._spec.patterns, strict=True):
            if compiled_pattern.include is None:
                raise ValueError(f"pattern {given!r} selects nothing")
        self._negates = any(p.startswith("!") for p in self.patterns)

    def matches(self, path: str, *, is_dir: bool = False) -> bool:
        """True when ``path`` (repo-relative, ``/``-separated) or a folder above it is selected."""
        path = path.strip("/")
        if not path or path == ".":
            return False
        if self._negates:
            # git: a file below an excluded folder cannot be re-included; pathspec alone would.
            parts = path.split("/")
            for n in range(1, len(parts)):
                if self._spec.match_file("/".join(parts[:n]) + "/"):
                    return True
        return self._spec.match_file(path + "/" if is_dir else path)

    def __repr__(self) -> str:
        return f"PathMatcher({self.patterns!r})"


@functools.lru_cache(maxsize=256)
def compiled(patterns: tuple[str, ...]) -> PathMatcher:
    """A shared matcher per pattern list (suppression rules ask once per finding)."""
    return PathMatcher(patterns)


def excludes(extra: Sequence[str] = ()) -> PathMatcher:
    """The matcher of what no scanner looks at: :data:`DEFAULT_EXCLUDES` plus the user's excludes."""
    return compiled((*DEFAULT_EXCLUDES, *extra))


def check(patterns: Sequence[str]) -> None:
    """ValueError naming the first pattern that is invalid or can never select anything."""
    for p in patterns:
        PathMatcher((p,))


def targets(root: Path, matcher: PathMatcher) -> tuple[str, ...]:
    """The fewest repo-relative paths that cover every file under ``root`` that ``matcher`` leaves.

    A folder with nothing excluded below it stands for itself, so the list stays short (a scanner
    walks it as it always does); only folders that hold an excluded entry are listed entry by
    entry. ``(".",)`` when nothing is excluded; ``()`` when everything is. Symbolic links inside a
    listed folder are left out: a link named on the command line would be followed, possibly out
    of the tree.
    """

    def walk(rel: str, depth: int = 0) -> list[str] | None:
        """The entries that cover ``rel``, or None when all of ``rel`` is kept."""
        if depth > _MAX_DEPTH:
            # A tree planted this deep is handed over whole (both scanners alike) instead of
            # running out of stack; no real project nests this far.
            return None
        try:
            with os.scandir(root / rel if rel else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            return None  # unreadable: the scanner meets it and reports it, as without excludes
        out: list[str] = []
        whole = True
        for e in entries:
            child = f"{rel}/{e.name}" if rel else e.name
            try:
                is_link = e.is_symlink()
                is_dir = not is_link and e.is_dir()
            except OSError:
                is_link, is_dir = True, False
            if matcher.matches(child, is_dir=is_dir):
                whole = False
                continue
            if is_link:
                continue
            below = walk(child, depth + 1) if is_dir else None
            if below is None:
                out.append(child)
            else:
                whole = False
                out.extend(below)
        return None if whole else out

    found = walk("")
    return (".",) if found is None else tuple(found)


_MAX_DEPTH = 200


def kept(paths: Iterable[str], matcher: PathMatcher) -> tuple[str, ...]:
    """``paths`` that ``matcher`` does not select (for --changed-only file lists)."""
    return tuple(p for p in paths if not matcher.matches(p))


class Selection:
    """The scan targets of one run, computed once and shared by the scanners (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}

    def targets(self, root: Path, extra_excludes: Sequence[str] = ()) -> tuple[str, ...]:
        matcher = excludes(extra_excludes)
        key = (str(root), matcher.patterns)
        with self._lock:
            if key not in self._done:
                self._done[key] = targets(root, matcher)
            return self._done[key]
