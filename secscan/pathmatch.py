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
from collections.abc import Iterable, Sequence

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


def kept(paths: Iterable[str], matcher: PathMatcher) -> tuple[str, ...]:
    """``paths`` that ``matcher`` does not select (for --changed-only file lists)."""
    return tuple(p for p in paths if not matcher.matches(p))
