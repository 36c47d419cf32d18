"""The one file walker and the one rule for links, for every scanner, manifest, cache and secret scan.

The scanned tree is written by the merge request's author, symbolic links included. A link is a
request to read somewhere else, and secscan grants it only inside the checkout:

- a link whose target (after every link on the way) stays inside the tree is resolved, once, to
  its tree path; the file is read (and scanned) under that path, never twice;
- a link that leaves the tree (``requirements.txt -> /proc/self/environ``,
  ``x.py -> ../../.ssh/id_rsa``, ``vendor -> /``), dangles or points at something that is not a
  regular file or folder is never followed, read or handed to a tool; it is listed in
  :attr:`Listing.escaping` so it can be reported (see :mod:`secscan.scanners.tree`).

The walk never descends into a linked folder (the real folder is walked where it is), applies the
excludes of :mod:`secscan.pathmatch`, and keeps every name, whatever its bytes: a name that is
not UTF-8 comes back with surrogate escapes (``os.fsdecode``), so it round-trips to the file.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from secscan import pathmatch, reach
from secscan.pathmatch import PathMatcher

_MAX_DEPTH = 200
"""A tree planted deeper than this is not walked further (listed as escaping): no real project
nests this far, and the walk must not run out of stack or time."""


@dataclass(frozen=True, kw_only=True)
class EscapingLink:
    """A symbolic link in the tree that secscan does not follow."""

    path: str
    """The link's repo-relative path."""
    target: str
    """What the link says (``readlink``), for the report; never opened."""
    reason: str
    """Why it is not followed: ``leaves the checkout``, ``dangling``, ``not a regular file``."""


@dataclass(frozen=True, kw_only=True)
class Listing:
    """The files of one tree, walked once."""

    files: tuple[str, ...] = ()
    """Regular files, repo-relative, sorted; excludes applied; no link among them."""
    links: tuple[tuple[str, str], ...] = ()
    """Links to regular files and folders inside the tree: (link path, the tree path it resolves
    to). Never walked or scanned under their own name: the target is, where it is."""
    escaping: tuple[EscapingLink, ...] = ()
    """Links that are not followed (outside, dangling, special, into git's metadata); a link the
    excludes select, or inside an excluded folder, is neither followed nor listed."""
    excluded_files: tuple[str, ...] = field(default=())
    """Regular files left out by the excludes, in the folders the walk entered."""
    excluded_dirs: tuple[str, ...] = field(default=())
    """Folders left out by the excludes (not entered)."""
    imported: tuple[str, ...] = field(default=())
    """Files in default-excluded folders that the kept files import: they run in production, so
    they are in :attr:`files` too (:func:`with_imported`)."""


def resolve(root: Path, rel: str) -> str | None:
    """The tree path ``rel`` names once every link on the way is followed, or None when that
    leaves the tree, dangles, or is not a regular file or folder. ``rel`` itself may be a link."""
    base = Path(os.path.realpath(root))
    try:
        real = Path(os.path.realpath(base / rel, strict=True))
        mode = os.stat(real).st_mode
    except (OSError, RuntimeError, ValueError):
        return None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return None
    try:
        inner = real.relative_to(base)
    except ValueError:
        return None
    text = inner.as_posix()
    if _GIT_DIR in inner.parts:
        return None  # git's metadata is not the tree: .git/config holds the runner's clone URL and token
    return "" if text == "." else text


_GIT_DIR = ".git"


def escape_reason(root: Path, rel: str) -> str | None:
    """Why the link at ``rel`` is not followed (None: it resolves inside the tree)."""
    if resolve(root, rel) is not None:
        return None
    full = Path(root) / rel
    try:
        os.stat(full)
    except (OSError, RuntimeError):
        return "dangling"
    base = Path(os.path.realpath(root))
    real = Path(os.path.realpath(full))
    if not real.is_relative_to(base):
        return "leaves the checkout"
    return "points into git's metadata" if _GIT_DIR in real.relative_to(base).parts else "not a regular file"


def is_inside(root: Path, rel: str) -> bool:
    """Whether ``rel`` (a file, folder or link) may be read: it resolves inside the tree."""
    return resolve(root, rel) is not None


def read_bytes(root: Path, rel: str, *, limit: int | None = None) -> bytes:
    """A tree file's bytes, ``rel`` resolved by :func:`resolve` first: OSError (ELOOP) when it
    leaves the tree, so no caller can read outside the checkout by accident."""
    inner = resolve(root, rel)
    if inner is None:
        raise OSError(40, "a symbolic link that leaves the checkout is not followed", rel)
    path = Path(os.path.realpath(root)) / inner
    # O_NOFOLLOW on the resolved path: it is no link any more, unless the tree changes under us.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        return fh.read() if limit is None else fh.read(limit)


def walk(root: Path, matcher: PathMatcher) -> Listing:
    """Every regular file under ``root`` that ``matcher`` leaves, the links in the tree sorted
    into followed (inside) and not followed; links inside excluded folders are ignored."""
    files: list[str] = []
    excluded: list[str] = []
    excluded_dirs: list[str] = []
    links: list[tuple[str, str]] = []
    escaping: list[EscapingLink] = []
    stack: list[tuple[str, int]] = [("", 0)]
    while stack:
        rel, depth = stack.pop()
        try:
            with os.scandir(root / rel if rel else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        dirs: list[str] = []
        for e in entries:
            child = f"{rel}/{e.name}" if rel else e.name
            kind = _kind(e)
            if kind == "dir":
                if matcher.matches(child, is_dir=True) or depth >= _MAX_DEPTH:
                    excluded_dirs.append(child)
                    continue
                dirs.append(child)
            elif kind == "file":
                (excluded if matcher.matches(child) else files).append(child)
            elif kind == "link":
                if matcher.matches(child):
                    continue
                _link(root, child, links, escaping)
        stack.extend((d, depth + 1) for d in reversed(dirs))
    return Listing(
        files=tuple(sorted(files)),
        links=tuple(sorted(links)),
        escaping=tuple(sorted(escaping, key=lambda x: x.path)),
        excluded_files=tuple(sorted(excluded)),
        excluded_dirs=tuple(sorted(excluded_dirs)),
    )


def _kind(e: os.DirEntry[str]) -> str:
    try:
        if e.is_symlink():
            return "link"
        if e.is_dir(follow_symlinks=False):
            return "dir"
        if e.is_file(follow_symlinks=False):
            return "file"
    except OSError:
        return "other"
    return "other"  # FIFOs, sockets, devices: never read


def _link(root: Path, rel: str, links: list[tuple[str, str]], escaping: list[EscapingLink]) -> None:
    inner = resolve(root, rel)
    if inner is None:
        try:
            target = os.readlink(root / rel)
        except OSError:
            target = "?"
        escaping.append(EscapingLink(path=rel, target=target, reason=escape_reason(root, rel) or "not followed"))
    else:
        links.append((rel, inner))


def regular_files(root: Path, paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """(kept, refused): ``paths`` that are regular files inside the tree (links resolved to their
    tree path, each once), and those that are not followed. For explicit lists (--changed-only)."""
    kept: dict[str, None] = {}
    refused: list[str] = []
    for rel in paths:
        full = root / rel
        if full.is_symlink():
            inner = resolve(root, rel)
            if inner is None:
                refused.append(rel)
            elif (Path(os.path.realpath(root)) / inner).is_file():
                kept.setdefault(inner, None)
            continue
        try:
            regular = stat.S_ISREG(os.lstat(full).st_mode)
        except OSError:
            continue
        if regular and is_inside(root, rel):
            kept.setdefault(rel, None)
        elif regular:
            refused.append(rel)  # a folder on its way is a link that leaves the tree
    return list(kept), refused


class Selection:
    """The files of one run, walked once and shared by every scanner (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done: dict[tuple[str, tuple[str, ...]], Listing] = {}

    def listing(self, root: Path, extra_excludes: Sequence[str] = ()) -> Listing:
        matcher = pathmatch.excludes(extra_excludes)
        key = (str(root), matcher.patterns)
        with self._lock:
            if key not in self._done:
                self._done[key] = with_imported(root, walk(root, matcher), extra_excludes)
            return self._done[key]


_READ_LIMIT = 4 * 1024 * 1024
"""Imports are at the top of a module: no need to read more of a huge generated file."""


def text_of(root: Path, rel: str) -> str | None:
    """A tree file's text (links resolved inside the tree only), or None."""
    try:
        return read_bytes(root, rel, limit=_READ_LIMIT).decode("utf-8", errors="replace")
    except OSError:
        return None


def _walked_text(root: Path, rel: str) -> str | None:
    """A file the walk listed (a regular file with no link on its way): opened without resolving
    it again, O_NOFOLLOW in case the tree changed since."""
    try:
        fd = os.open(root / rel, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            return fh.read(_READ_LIMIT).decode("utf-8", errors="replace")
    except OSError:
        return None


def is_tree_file(root: Path, rel: str) -> bool:
    """A regular file at exactly ``rel``: no link on the way, inside the tree."""
    return resolve(root, rel) == rel and (root / rel).is_file()


def canonical(rel: str, links: dict[str, str]) -> str:
    """The tree path ``rel`` stands for once the tree's own links (``links``: link -> target)
    on its way are replaced by their targets; no file system access."""
    for _ in range(40):  # as many links as the kernel follows (ELOOP past that)
        parts = rel.split("/")
        for n in range(len(parts), 0, -1):
            head = "/".join(parts[:n])
            if head in links:
                rel = "/".join([links[head], *parts[n:]]).strip("/")
                break
        else:
            return rel
    return rel


def with_imported(root: Path, listing: Listing, extra_excludes: Sequence[str] = ()) -> Listing:
    """``listing`` with the code files that default excludes hid but the kept files import
    (``payments/build/refunds.py``, imported by ``app.py``): a folder name does not decide what
    runs. The operator's own excludes are trusted decisions and keep what they exclude."""

    defaults = pathmatch.excludes(())
    operator = pathmatch.compiled(tuple(extra_excludes)) if extra_excludes else None
    hidden = frozenset(
        d
        for d in listing.excluded_dirs
        if defaults.matches(d, is_dir=True) and not (operator is not None and operator.matches(d, is_dir=True))
    )
    if not hidden:
        return listing  # no folder a default exclude hid: nothing to look for (most trees)
    kept = frozenset(listing.files)
    links = dict(listing.links)

    def real(rel: str) -> str:
        return canonical(rel, links) if links else rel

    def wanted(rel: str) -> bool:
        parts = real(rel).split("/")
        return any("/".join(parts[:n]) in hidden for n in range(1, len(parts)))

    imported = reach.imported(
        listing.files,
        lambda rel: _walked_text(root, rel) if rel in kept else text_of(root, rel),
        wanted=wanted,
        exists=lambda rel: real(rel) in kept or is_tree_file(root, real(rel)),
    )
    # `app/lib.py -> ../build/lib.py`: imported by its link's name, scanned under its own.
    found = {real(rel) for rel in imported}
    if not found:
        return listing
    return replace(listing, files=tuple(sorted({*listing.files, *found})), imported=tuple(sorted(found)))
