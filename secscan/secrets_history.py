"""The merge request's history for the secret scan: the lines each commit added.

A key that was pushed is leaked even when a later commit removed it, so every commit between
the diff base and HEAD is scanned, added lines only. Nothing is checked out: ``git log -p``
gives each commit's added lines, :func:`materialize` writes them into a private folder (one
sub-folder per commit, every added line at its own line number, the other lines blank) that the
secret scanner reads, and :func:`origin` maps a reported path back to (commit, path).

Only :func:`parse_log` is pure; :func:`read_history` asks the real git.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from secscan.gitutil import run_git
from secscan.pathmatch import PathMatcher

_COMMIT = "\x1ecommit "
_HUNK = re.compile(r"^@@+ (?:-\d+(?:,\d+)? )+\+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True, kw_only=True)
class FileAdditions:
    """What one commit added to one file."""

    path: str
    """Repo-relative path (relative to the scanned root) in that commit."""
    lines: tuple[tuple[int, str], ...] = ()
    """(1-based line number in that commit's version, text) of every added line."""


@dataclass(frozen=True, kw_only=True)
class CommitAdditions:
    sha: str
    files: tuple[FileAdditions, ...] = ()
    binary: tuple[str, ...] = ()
    """Binary files the commit added or changed: they have no lines to scan."""


@dataclass(frozen=True, kw_only=True)
class History:
    base: str
    """The commit the range starts after (the merge base)."""
    commits: tuple[CommitAdditions, ...] = field(default_factory=tuple)


def _unquote(path: str) -> str:
    """git's C-style quoting of unusual paths (``"a\\tb"``); quotepath=off leaves UTF-8 alone."""
    if len(path) >= 2 and path[0] == path[-1] == '"':
        raw = codecs.escape_decode(path[1:-1].encode("utf-8"))[0]
        return bytes(raw).decode("utf-8", errors="replace")
    return path


def _strip_prefix(path: str, prefix: str) -> str:
    path = _unquote(path)
    return path[len(prefix) :] if path.startswith(prefix) else path


def parse_log(text: str) -> tuple[CommitAdditions, ...]:
    """``git log -p -U0 --format=%x1ecommit %H`` output -> added lines per commit (pure).

    Deleted files add nothing; a pure rename adds nothing (its lines were added by an earlier
    commit, which is the one reported); ``Binary files ... differ`` is recorded as binary.
    """
    commits = []
    for chunk in text.split(_COMMIT)[1:]:
        head, _, body = chunk.partition("\n")
        commits.append(_parse_commit(head.strip(), body))
    return tuple(commits)


def _parse_commit(sha: str, body: str) -> CommitAdditions:
    files: list[FileAdditions] = []
    binary: list[str] = []
    path: str | None = None
    lines: list[tuple[int, str]] = []
    next_no = 0
    in_hunk = False
    for line in [*body.split("\n"), "diff --git (end)"]:
        if line.startswith("diff --git "):
            if path is not None and lines:
                files.append(FileAdditions(path=path, lines=tuple(lines)))
            path, lines, in_hunk = None, [], False
            continue
        m = _HUNK.match(line)
        if m:
            in_hunk = True
            next_no = int(m.group(1))
            continue
        if not in_hunk:
            path = _header(line, path, binary)
        elif path is not None:
            next_no = _hunk_line(line, next_no, lines)
    return CommitAdditions(sha=sha, files=tuple(files), binary=tuple(binary))


def _header(line: str, path: str | None, binary: list[str]) -> str | None:
    """A line of a file's header: where the file goes (``+++``), or that it is binary."""
    if line.startswith("+++ "):
        target = _unquote(line[4:])
        return None if target == "/dev/null" else _strip_prefix(target, "b/")
    if line.startswith("Binary files ") and line.endswith(" differ"):
        b = re.match(r"^Binary files (.*) and (.*) differ$", line)
        if b and b.group(2) != "/dev/null":
            binary.append(_strip_prefix(b.group(2), "b/"))
    return path


def _hunk_line(line: str, next_no: int, lines: list[tuple[int, str]]) -> int:
    """An added line is kept with its number; the number of the next line of the new file."""
    if line.startswith("+"):
        lines.append((next_no, line[1:]))
        return next_no + 1
    return next_no + 1 if line.startswith(" ") else next_no


def read_history(root: Path, base: str) -> History:
    """Added lines of every commit in ``base..HEAD`` (oldest first), relative to ``root``."""
    text = run_git(
        root,
        "log",
        "--reverse",
        "--no-merges",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        # Every file as text, whatever .gitattributes says: a merge request that adds
        # `* -diff` must not turn its own history into "binary files differ" (issue trust-2).
        "--text",
        "-p",
        "-U0",
        "-M",
        "--relative",
        "--format=%x1ecommit %H",
        f"{base}..HEAD",
        "--",
        ".",
        purpose="the secret history scan",
    )
    return History(base=base, commits=parse_log(text))


def materialize(history: History, dest: Path, *, excluded: PathMatcher | None = None) -> list[Path]:
    """Write each commit's added lines under ``dest/<sha>/<path>`` (other lines blank, so line
    numbers stay the commit's own); return the files written. Paths the scan's excludes select
    (virtualenvs, excluded folders: :mod:`secscan.pathmatch`) are left out."""
    written: list[Path] = []
    root = dest.resolve()
    for commit in history.commits:
        for fa in commit.files:
            if not fa.lines or (excluded is not None and excluded.matches(fa.path)):
                continue
            target = (root / commit.sha / fa.path).resolve()
            # git never reports ".." or absolute paths; refuse them anyway rather than write outside.
            if not target.is_relative_to(root / commit.sha):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            by_no = dict(fa.lines)
            last = max(by_no)
            with open(target, "w", encoding="utf-8", errors="replace", newline="\n") as out:
                out.writelines((by_no.get(n, "") + "\n") for n in range(1, last + 1))
            written.append(target)
    return written


def origin(reported: str) -> tuple[str, str] | None:
    """``<sha>/<path>`` (a path in the materialized folder) -> (sha, path)."""
    sha, sep, rest = reported.replace(os.sep, "/").partition("/")
    if not sep or not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha):
        return None
    return sha, rest


def unpushed(root: Path, base: str) -> frozenset[str]:
    """Commits of ``base..HEAD`` that no remote-tracking branch holds: they have not left this
    machine (the pre-push hook, a local scan). In CI every scanned commit was pushed, and when
    git cannot tell, the commit counts as pushed (the advice that follows is to rotate the key)."""
    if os.environ.get("CI") or os.environ.get("GITLAB_CI"):
        return frozenset()
    out = run_git(
        root, "rev-list", f"{base}..HEAD", "--not", "--remotes", check=False, purpose="the secret history scan"
    )
    return frozenset(line.strip() for line in out.splitlines() if re.fullmatch(r"[0-9a-f]{40,64}", line.strip()))
