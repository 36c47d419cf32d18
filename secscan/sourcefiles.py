"""Read the scanned project's source files (cached), for snippets and fingerprints.

Scanners report paths; parsers and the fingerprinter stay pure by receiving a ``SourceTree``
and asking it for text instead of opening files themselves.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath

from secscan import files


def to_repo_path(path: str, root: Path | None = None) -> str:
    """Normalize a scanner-reported path to a repo-relative POSIX path.

    Handles Windows backslashes, ``./`` prefixes and absolute paths under ``root``.
    """
    p = path.replace("\\", "/") if ("\\" in path and "/" not in path) or PureWindowsPath(path).drive else path
    p = p.replace("\\", "/")
    if root is not None:
        r = str(root.resolve()).replace("\\", "/").rstrip("/") + "/"
        if p.startswith(r):
            p = p[len(r) :]
    while p.startswith("./"):
        p = p[2:]
    return str(PurePosixPath(p)) if p else p


class SourceTree:
    """Cached, read-only access to text files under ``root`` by repo-relative path."""

    def __init__(self, root: Path | None) -> None:
        self.root = root.resolve() if root is not None else None
        self._cache: dict[str, str | None] = {}
        self.selection = files.Selection()
        """The run's one walk of the tree (the scanners' files; the core's test-code and scope checks)."""

    def text(self, rel_path: str) -> str | None:
        """The file's text, or None when absent/unreadable/binary or outside the root."""
        if self.root is None:
            return None
        if rel_path in self._cache:
            return self._cache[rel_path]
        result: str | None = None
        try:
            # The one rule for links (secscan.files): a report naming a link out of the tree, or
            # into git's metadata, gets no snippet from it (read_bytes refuses it, and a folder).
            result = files.read_bytes(self.root, rel_path).decode("utf-8", errors="replace")
        except (OSError, ValueError):
            result = None
        self._cache[rel_path] = result
        return result

    def lines(self, rel_path: str, start: int, end: int | None = None) -> str | None:
        """Lines ``start``..``end`` (1-based, inclusive) joined with newlines."""
        text = self.text(rel_path)
        if text is None or start < 1:
            return None
        all_lines = text.splitlines()
        stop = end if end is not None and end >= start else start
        chunk = all_lines[start - 1 : stop]
        return "\n".join(chunk) if chunk else None
