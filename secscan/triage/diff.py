"""Diff-aware mode: what changed since the merge-base with a base ref.

Paths are relative to the scanned root, which is what findings carry, even when the root is a
sub-folder of the repository. Changes include uncommitted and untracked files: a developer runs
the same check before committing.

The merge request's author writes the diff, its file names and ``.gitattributes``, so nothing
here trusts git's output to be line-oriented text (threat model: when in doubt, a finding is
new):

- the file list comes from ``git diff --raw -z`` (NUL-separated, never quoted); the patch is
  read as bytes, as text whatever ``.gitattributes`` says (``--text --no-textconv
  --no-ext-diff``), with explicit prefixes and ``-c`` overrides for every setting that changes
  its format, and its hunks are consumed by their line counts (a state machine: an added line
  that starts with ``++ `` is an added line, not a header);
- a file the diff cannot describe line by line (a submodule, a type change, a file whose
  working-tree bytes are not the blob git compared: filters, ``eol``, ``working-tree-encoding``)
  is wholly new;
- a path that is not in the diff is unchanged only if its working-tree bytes are the base's
  regular blob at that path (see :meth:`DiffInfo.unchanged`).

Line numbers here are git's (lines end with ``\\n``); :class:`LineScheme` maps other ways of
counting lines onto them. Only the ``parse_*`` functions and :class:`Lines` are pure; the rest
asks git (the real one) and wraps its errors in a :class:`ConfigError` (a bad ``--diff-base`` is
a usage problem, exit 2).
"""

from __future__ import annotations

import bisect
import hashlib
import os
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from secscan.gitutil import merge_base, run_git, run_git_bytes

_HUNK = re.compile(rb"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_REGULAR = frozenset({"100644", "100755"})
_GITLINK = "160000"

# Settings (system, global, repository) that change what `git diff` prints; each is pinned so
# that the parser sees one format whatever the runner's or the developer's git config says.
_DIFF_CONFIG = (
    "diff.noprefix=false",
    "diff.mnemonicPrefix=false",
    "diff.relative=false",
    "diff.submodule=short",
    "diff.suppressBlankEmpty=false",
    "diff.ignoreSubmodules=none",
    "diff.external=",
    "color.ui=never",
    "color.diff=never",
    "core.quotePath=true",
)
_DIFF_FLAGS = (
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--text",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    "--no-relative",
    "--ignore-submodules=none",
    "--submodule=short",
    "--full-index",
    "-M",
)


class DiffFormatError(ValueError):
    """git printed something the parser did not expect: the diff cannot be trusted."""


@dataclass(frozen=True, kw_only=True)
class FileChange:
    path: str
    """Path in the working tree (relative to the scanned root)."""
    old_path: str | None
    """Path at the base (differs after a rename; None for a new file)."""
    added: frozenset[int] = frozenset()
    """1-based line numbers (git's ``\\n`` lines) in the working tree that were added or changed."""
    whole_file: bool = False
    """New, untracked, or not describable line by line: every line counts as added."""
    old_blob: str | None = None
    """The base's blob (the text the added lines were compared with)."""
    head_blob: str | None = None
    """The blob git compared on the head side; None when git read the working tree itself."""

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
    """Every path that exists at the head and differs from the base (or is untracked)."""
    deleted: frozenset[str] = frozenset()
    """Paths the diff deletes: nothing found there can be an unchanged line of the base."""
    base_blobs: Mapping[str, str] = field(default_factory=dict)
    """Regular files of the base commit (relative to the scanned root) and their blob ids."""
    object_format: str = "sha1"
    """The repository's hash (``sha1`` or ``sha256``), to compare working-tree bytes with blobs."""
    warnings: tuple[str, ...] = ()
    """What the comparison could not tell (it then fails closed: the files count as new)."""

    def changed_paths(self) -> tuple[str, ...]:
        return tuple(sorted(self.files))

    def blob_id(self, data: bytes) -> str:
        """The id git gives ``data`` as a blob, without filters."""
        return hashlib.new(self.object_format, b"blob %d\0" % len(data) + data).hexdigest()

    def is_blob(self, data: bytes, blob: str) -> bool:
        """Whether ``data`` (working-tree bytes) is ``blob``, or is it with LF turned into CRLF
        at checkout (``eol=crlf``, ``core.autocrlf``): a conversion that moves no line in any
        scheme, as every one counts CRLF as one break. Any other filter makes them differ."""
        if self.blob_id(data) == blob:
            return True
        return b"\r\n" in data and self.blob_id(data.replace(b"\r\n", b"\n")) == blob

    def unchanged(self, path: str, data: bytes | None) -> bool:
        """Whether ``path``, not in the diff, holds exactly the base's regular file: only then are
        its lines the base's lines. Not so for a submodule's files, ignored files, anything under
        a path the diff deleted or whose bytes differ (a filter or conversion at checkout)."""
        if data is None or path in self.files or path in self.deleted:
            return False
        blob = self.base_blobs.get(path)
        return blob is not None and self.is_blob(data, blob)


# --- line schemes ---------------------------------------------------------------------------


class LineScheme(Enum):
    """Ways tools count lines. git and most scanners: ``\\n``; Python's tokenizer (bandit, ast):
    ``\\n``, ``\\r\\n`` and a bare ``\\r``; ``str.splitlines()`` (secscan's snippets, tools
    written in Python): those and ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``, ``\\x85``, U+2028/9."""

    GIT = "\n"
    PYTHON = "\r\n|\r|\n"
    SPLITLINES = "\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]"


_BARE_CR = re.compile("\r(?!\n)")
_OTHER_BREAKS = re.compile("[\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_SCHEME_RE = {s: re.compile(s.value) for s in LineScheme}


def schemes_for(*texts: str) -> tuple[LineScheme, ...]:
    """The schemes that disagree on where the lines of ``texts`` are (git's always): a finding
    is judged under each, since which one its scanner used is not known."""
    out = [LineScheme.GIT]
    if any(_BARE_CR.search(t) for t in texts):
        out.append(LineScheme.PYTHON)
        out.append(LineScheme.SPLITLINES)
    elif any(_OTHER_BREAKS.search(t) for t in texts):
        out.append(LineScheme.SPLITLINES)
    return tuple(out)


@dataclass(frozen=True)
class Lines:
    """The lines of a text under one scheme, as character offsets (pure)."""

    text: str
    starts: tuple[int, ...]
    """Offset where each line begins."""
    ends: tuple[int, ...]
    """Offset where each line's content ends (before its line break)."""

    @classmethod
    def of(cls, text: str, scheme: LineScheme) -> Lines:
        starts, ends, pos = [], [], 0
        for m in _SCHEME_RE[scheme].finditer(text):
            starts.append(pos)
            ends.append(m.start())
            pos = m.end()
        if pos < len(text):  # a last line without a line break
            starts.append(pos)
            ends.append(len(text))
        return cls(text, tuple(starts), tuple(ends))

    def __len__(self) -> int:
        return len(self.starts)

    def content(self, line: int) -> str:
        return self.text[self.starts[line - 1] : self.ends[line - 1]]

    def line_at(self, offset: int) -> int:
        """The 1-based line holding ``offset``."""
        return max(bisect.bisect_right(self.starts, offset), 1)

    def span_in(self, other: Lines, start: int, end: int) -> tuple[int, int] | None:
        """Lines ``start``..``end`` of this scheme as lines of ``other``; None when ``start`` is
        past the end (the finding cannot be placed)."""
        if start < 1 or start > len(self):
            return None
        end = min(max(end, start), len(self))
        first = other.line_at(self.starts[start - 1])
        last = other.line_at(max(self.ends[end - 1] - 1, self.starts[start - 1]))
        return first, max(first, last)


# --- parsing git's output (pure) ------------------------------------------------------------

_ESCAPES = {
    ord("a"): 7,
    ord("b"): 8,
    ord("t"): 9,
    ord("n"): 10,
    ord("v"): 11,
    ord("f"): 12,
    ord("r"): 13,
    ord('"'): 34,
    ord("\\"): 92,
}


def unquote_path(raw: bytes) -> bytes:
    """A path as git prints it in a patch header: C-quoted (``"a/x\\"y\\303\\251"``: escapes and
    octal bytes) when it holds special characters, else as is."""
    if not raw.startswith(b'"'):
        return raw
    if len(raw) < 2 or not raw.endswith(b'"'):
        raise DiffFormatError(f"unterminated quoted path {raw!r}")
    out, body, i = bytearray(), raw[1:-1], 0
    while i < len(body):
        c = body[i]
        if c != ord("\\"):
            out.append(c)
            i += 1
        elif body[i + 1 : i + 2].isdigit():
            out.append(int(body[i + 1 : i + 4], 8))
            i += 4
        elif i + 1 < len(body) and body[i + 1] in _ESCAPES:
            out.append(_ESCAPES[body[i + 1]])
            i += 2
        else:
            raise DiffFormatError(f"bad escape in quoted path {raw!r}")
    return bytes(out)


@dataclass(frozen=True, kw_only=True)
class RawEntry:
    """One line of ``git diff --raw -z``."""

    status: str
    """A, M, D, R, C, T, U, X (the score of R/C dropped)."""
    old_mode: str
    new_mode: str
    old_blob: str
    new_blob: str
    old_path: bytes
    new_path: bytes


def parse_raw(data: bytes) -> tuple[RawEntry, ...]:
    """``git diff --raw -z --no-abbrev`` output (pure)."""
    fields = data.split(b"\0")
    out: list[RawEntry] = []
    i = 0
    while i < len(fields) and fields[i]:
        meta = fields[i].decode("ascii", errors="replace")
        parts = meta.lstrip(":").split(" ")
        if not meta.startswith(":") or len(parts) != 5:
            raise DiffFormatError(f"unexpected raw diff record {meta!r}")
        status = parts[4][:1]
        n = 2 if status in "RC" else 1
        paths = fields[i + 1 : i + 1 + n]
        if len(paths) != n:
            raise DiffFormatError("truncated raw diff")
        out.append(
            RawEntry(
                status=status,
                old_mode=parts[0],
                new_mode=parts[1],
                old_blob=parts[2],
                new_blob=parts[3],
                old_path=paths[0],
                new_path=paths[-1],
            )
        )
        i += 1 + n
    return tuple(out)


def _header_path(header: bytes) -> bytes | None:
    """The path of ``diff --git a/P b/P`` when both sides name the same path (the case of a
    patch without ``---``/``+++`` lines and without a rename: a mode change)."""
    rest = header[len(b"diff --git ") :]
    if rest.startswith(b'"'):
        end = _quoted_end(rest)
        old, new = unquote_path(rest[:end]), unquote_path(rest[end + 1 :])
        return new[2:] if old[2:] == new[2:] else None
    half = (len(rest) - 1) // 2
    old, new = rest[:half], rest[half + 1 :]
    return new[2:] if old.startswith(b"a/") and new.startswith(b"b/") and old[2:] == new[2:] else None


def _quoted_end(s: bytes) -> int:
    i = 1
    while i < len(s) and s[i] != ord('"'):
        i += 2 if s[i] == ord("\\") else 1
    return i + 1


def _side_path(value: bytes, prefix: bytes) -> bytes | None:
    """The path on a ``---``/``+++`` line. git appends a tab when the name holds a space (quoted
    or not); a tab in the name itself is always quoted, so one trailing tab is never the name's."""
    if value == b"/dev/null":
        return None
    path = unquote_path(value.removesuffix(b"\t"))
    if not path.startswith(prefix):
        raise DiffFormatError(f"path without its prefix {path!r}")
    return path[len(prefix) :]


@dataclass(frozen=True, kw_only=True)
class PatchFile:
    """One file's part of a patch."""

    path: bytes
    """The new path, as git names it (relative to the repository)."""
    old_path: bytes | None
    """The old path; None for a new file."""
    added: frozenset[int] = frozenset()


_HEADER_KEYS = (
    (b"--- ", "minus"),
    (b"+++ ", "plus"),
    (b"rename from ", "rename_from"),
    (b"rename to ", "rename_to"),
    (b"new file mode ", "new"),
    (b"Binary files ", "binary"),
    (b"GIT binary patch", "binary"),
)


def _file_header(lines: list[bytes], i: int) -> tuple[int, PatchFile | None]:
    """Read one file's header from its ``diff --git`` line: the index of its first hunk (or of
    the next file) and what it names (None for a deletion)."""
    header = lines[i]
    seen: dict[str, bytes] = {}
    i += 1
    while i < len(lines) and not lines[i].startswith((b"@@ ", b"diff --git ")):
        for prefix, key in _HEADER_KEYS:
            if lines[i].startswith(prefix):
                seen[key] = lines[i][len(prefix) :]
        i += 1
    if "binary" in seen:
        raise DiffFormatError("a binary patch despite --text")
    if "plus" in seen:
        new = _side_path(seen["plus"], b"b/")
        old = _side_path(seen.get("minus", b"/dev/null"), b"a/")
    elif "rename_to" in seen:
        new, old = unquote_path(seen["rename_to"]), unquote_path(seen.get("rename_from", b""))
    else:
        new = old = _header_path(header)
    if new is None:
        return i, None
    return i, PatchFile(path=new, old_path=None if "new" in seen else old)


def _hunk(lines: list[bytes], i: int) -> tuple[int, set[int]]:
    """Consume one hunk by its line counts; the index after it and the new lines it adds."""
    m = _HUNK.match(lines[i])
    if not m:
        raise DiffFormatError(f"bad hunk header {lines[i][:80]!r}")
    old_left = int(m.group(1)) if m.group(1) is not None else 1
    new_no = int(m.group(2))
    new_left = int(m.group(3)) if m.group(3) is not None else 1
    added: set[int] = set()
    i += 1
    while old_left or new_left:
        if i >= len(lines):
            raise DiffFormatError("hunk cut short")
        kind = lines[i][:1]
        if kind == b"+" and new_left:
            added.add(new_no)
            new_no, new_left = new_no + 1, new_left - 1
        elif kind == b"-" and old_left:
            old_left -= 1
        elif kind in (b" ", b"") and old_left and new_left:
            new_no, old_left, new_left = new_no + 1, old_left - 1, new_left - 1
        elif kind != b"\\":
            raise DiffFormatError(f"hunk line does not match its counts: {lines[i][:80]!r}")
        i += 1
    while i < len(lines) and lines[i].startswith(b"\\"):  # "\ No newline at end of file"
        i += 1
    return i, added


def parse_patch(data: bytes) -> dict[bytes, PatchFile]:
    """Files and their added lines, by new path (as git printed it: relative to the repository,
    bytes) from ``git diff -p`` output with the options :func:`diff_info` passes (pure). Deleted
    files are left out; a file without hunks (a pure rename, a mode change) has no added lines.
    Raises :class:`DiffFormatError` on anything unexpected rather than guess."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out: dict[bytes, PatchFile] = {}
    i = 0
    while i < len(lines):
        if not lines[i].startswith(b"diff --git "):
            raise DiffFormatError(f"expected a file header, got {lines[i][:80]!r}")
        i, pf = _file_header(lines, i)
        added: set[int] = set()
        while i < len(lines) and lines[i].startswith(b"@@ "):
            i, more = _hunk(lines, i)
            added |= more
        if pf is not None:
            # A type change prints a deletion and a creation of one path: their lines add up.
            before = out.get(pf.path)
            out[pf.path] = PatchFile(
                path=pf.path,
                old_path=pf.old_path if before is None else before.old_path,
                added=frozenset(added) | (before.added if before is not None else frozenset()),
            )
    return out


def parse_unified_diff(text: str) -> dict[str, FileChange]:
    """:func:`parse_patch` of text (kept for its callers): added/changed lines per new path."""
    files = parse_patch(text.encode("utf-8", errors="surrogateescape"))
    return {
        os.fsdecode(p): FileChange(
            path=os.fsdecode(p),
            old_path=None if f.old_path is None else os.fsdecode(f.old_path),
            added=f.added,
        )
        for p, f in files.items()
    }


# --- asking git ------------------------------------------------------------------------------


def _git(root: Path, *args: str, check: bool = True) -> str:
    return run_git(root, *args, check=check, purpose="diff-aware mode")


def _git_bytes(root: Path, *args: str) -> bytes:
    return run_git_bytes(root, *args, purpose="diff-aware mode")


@dataclass(frozen=True)
class Scope:
    """Where the scanned root sits in its repository: git prints paths from the top."""

    prefix: str
    """The root's path from the top of the work tree, with a trailing ``/`` ("" at the top)."""

    def local(self, raw: bytes) -> str | None:
        """A repository path, relative to the scanned root; None outside it."""
        path = os.fsdecode(raw)
        return path[len(self.prefix) :] if path.startswith(self.prefix) else None

    def relative(self, raw: bytes) -> str:
        """A repository path relative to the root, with ``..`` when outside it (a rename's source)."""
        return posixpath.relpath(os.fsdecode(raw), self.prefix or ".")


def _scope(root: Path) -> Scope:
    top = _git(root, "rev-parse", "--show-toplevel").removesuffix("\n")
    rel = Path(root).resolve().relative_to(Path(top).resolve()).as_posix()
    return Scope("" if rel == "." else rel + "/")


def _diff_args(*args: str) -> tuple[str, ...]:
    pinned = [x for c in _DIFF_CONFIG for x in ("-c", c)]
    return (*pinned, "diff", *_DIFF_FLAGS, *args)


def _change(entry: RawEntry, added: frozenset[int] | None, scope: Scope, path: str) -> FileChange:
    zero = not entry.new_blob.strip("0")
    head_blob = None if zero else entry.new_blob
    if entry.status == "A":
        return FileChange(path=path, old_path=None, whole_file=True, head_blob=head_blob)
    describable = (
        entry.status in ("M", "R")
        and entry.old_mode in _REGULAR
        and entry.new_mode in _REGULAR
        and added is not None  # no patch found for it: do not guess
    )
    return FileChange(
        path=path,
        old_path=scope.relative(entry.old_path),
        added=added or frozenset(),
        whole_file=not describable,
        old_blob=entry.old_blob if entry.old_mode in _REGULAR else None,
        head_blob=head_blob,
    )


def _changes(root: Path, base_sha: str, scope: Scope) -> tuple[dict[str, FileChange], frozenset[str], tuple[str, ...]]:
    raw = _git_bytes(root, *_diff_args("--raw", "-z", "--no-abbrev", base_sha, "--"))
    return changes_from(raw, _git_bytes(root, *_diff_args("-p", "-U0", base_sha, "--")), scope)


def changes_from(
    raw_output: bytes, patch_output: bytes, scope: Scope
) -> tuple[dict[str, FileChange], frozenset[str], tuple[str, ...]]:
    """Changed files (by path), deleted paths and warnings from ``git diff --raw -z`` and
    ``git diff -p`` output (pure). A patch the parser cannot read is not guessed at: every changed
    file is then judged wholly new (fail closed), and a warning says so."""
    raw = parse_raw(raw_output)
    warnings: tuple[str, ...] = ()
    try:
        patch: dict[bytes, PatchFile] | None = parse_patch(patch_output)
    except DiffFormatError as e:
        patch = None
        warnings = (
            f"git's diff could not be read ({e}): all {len(raw)} changed file(s) are judged new, "
            "not only their changed lines",
        )
    files: dict[str, FileChange] = {}
    deleted: set[str] = set()
    for entry in raw:
        if entry.status in ("D", "R"):
            old = scope.local(entry.old_path)
            if old is not None:
                deleted.add(old)
        path = scope.local(entry.new_path)
        if entry.status == "D" or path is None:
            continue
        pf = patch.get(entry.new_path) if patch is not None else None
        files[path] = _change(entry, pf.added if pf is not None else None, scope, path)
    return files, frozenset(deleted - set(files)), warnings


def _base_blobs(root: Path, base_sha: str, scope: Scope) -> dict[str, str]:
    out: dict[str, str] = {}
    for record in _git_bytes(root, "ls-tree", "-r", "-z", "--full-tree", base_sha).split(b"\0"):
        meta, _, raw_path = record.partition(b"\t")
        parts = meta.split(b" ")
        path = scope.local(raw_path)
        if len(parts) == 3 and parts[0].decode() in _REGULAR and path is not None:
            out[path] = parts[2].decode()
    return out


def diff_info(root: Path, base_ref: str) -> DiffInfo:
    """Changed files and lines since the merge-base, uncommitted and untracked work included."""
    base_sha = merge_base(root, base_ref)
    scope = _scope(root)
    files, deleted, warnings = _changes(root, base_sha, scope)
    top = _git(root, "rev-parse", "--show-cdup").strip() or "."
    untracked = _git_bytes(root, "-C", top, "ls-files", "--others", "--exclude-standard", "-z")
    for raw in untracked.split(b"\0"):
        path = scope.local(raw) if raw else None
        if path:
            files[path] = FileChange(path=path, old_path=None, whole_file=True)
    fmt = _git(root, "rev-parse", "--show-object-format", check=False).strip() or "sha1"
    return DiffInfo(
        base_ref=base_ref,
        base_sha=base_sha,
        files=files,
        deleted=deleted,
        base_blobs=_base_blobs(root, base_sha, scope),
        object_format=fmt,
        warnings=warnings,
    )


def blob_text(root: Path, blob: str) -> str:
    """A blob's text (as the scanned files are read: UTF-8, undecodable bytes replaced); never
    through a textconv filter."""
    return _git_bytes(root, "cat-file", "blob", blob).decode("utf-8", errors="replace")


def base_text(root: Path, base_sha: str, path: str) -> str | None:
    """A file's text at the base commit (``path`` relative to root), or None if it did not exist."""
    blob = _git(root, "rev-parse", "--verify", "--quiet", f"{base_sha}:./{path}", check=False).strip()
    return blob_text(root, blob) if blob else None


def worktree_hash(root: Path, path: str) -> str:
    """The blob id git gives the working-tree file after its clean filters and conversions: the
    blob ``git diff`` compared when the file was not the index's copy."""
    return _git(root, "hash-object", "--", path).strip()


def worktree_bytes(root: Path, path: str) -> bytes | None:
    """The working tree's bytes at ``path`` (relative to root), or None if it is not a regular
    file reached without a symbolic link: a link's bytes are not the file the diff describes."""
    candidate = Path(root) / path
    try:
        if candidate.resolve() != candidate.absolute() or not candidate.is_file():
            return None
        return candidate.read_bytes()
    except OSError:
        return None
