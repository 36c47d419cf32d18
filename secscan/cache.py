"""A content-addressed cache of per-file scanner results that cannot lie.

bandit and open-source semgrep analyse one file at a time, so what they report for a file is a
function of that file's content and path, the scanner's version, its rules and the options that
change results, and of secscan's own version (its parsers made the findings). That is the key
(:meth:`FileCache.key`); the value is the file's findings as the scanner's parser produced them
(before fingerprinting, triage and masking, which the core redoes on every run). A file with no
findings is cached too (an empty entry), which is what makes an unchanged tree cost nothing to
re-scan.

An entry is believed only if it proves itself. Its first line is a seal over the key it answers
and over every byte after that line: a SHA-256 digest, or, where the operator sets
``SECSCAN_CACHE_KEY``, an HMAC-SHA-256 with that key. So a flipped byte, a truncated file, an
emptied findings list, an entry copied to another file's key or written for another scanner,
rule set or secscan version is a miss, and with a key an entry written by anyone who does not
hold it (a merge request's job sharing the GitLab cache with the default branch) is a miss too.
Without a key the digest stops corruption and misplaced entries, not a forger: that is what the
key is for. A miss only means the scanner runs on the file; rejected entries are counted and
reported (:class:`Lookup`), then overwritten by the fresh result.

Nothing in the folder is trusted to be what it looks like: links (at the folder, at a shard
folder, at an entry) are never followed, reads are size-capped regular files, writes go to a
temp file created in place and renamed (a killed run leaves at most a stray temp file, never
half an entry), and pruning (least-recently-used, to a size bound) removes only what secscan
itself writes, plus any link or special file planted there.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import hmac
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from secscan import __version__, credentials, resultio
from secscan.errors import SecscanError
from secscan.models import Finding, RunResult

FORMAT = "secscan-cache/2"
"""The entry format (part of every key and every seal: an older format is never read)."""
KEY_ENV = "SECSCAN_CACHE_KEY"
"""The operator's HMAC key for entries (a CI/CD variable, masked and protected)."""
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
MAX_ENTRY_BYTES = 64 * 1024 * 1024
"""An entry larger than this is not read (no one file's findings come near it)."""

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW
_ENTRY = re.compile(r"[0-9a-f]{64}\.json")
_TEMP_PREFIX = ".tmp-"
_DIGEST = "sha256"
_HMAC = "hmac-sha256"


def default_dir() -> Path:
    """The user cache folder (``SECSCAN_CACHE_DIR`` or ``--cache-dir`` override it)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("secscan")) / "results"


def operator_key(environ: Mapping[str, str]) -> bytes | None:
    """The HMAC key the operator set (``SECSCAN_CACHE_KEY``), or None."""
    value = environ.get(KEY_ENV, "")
    return value.encode("utf-8", errors="surrogateescape") if value else None


def _as_text(path: str) -> str:
    """A file name as JSON can carry it: any byte sequence is a valid name, and one that is not
    UTF-8 arrives with surrogate escapes (shown as ``\\xNN``; the key holds the exact bytes)."""
    return path.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def context_digest(parts: Iterable[str]) -> str:
    """What besides the file decides a scanner's results: version, rules' content, options."""
    h = hashlib.sha256(FORMAT.encode())
    for p in parts:
        h.update(b"\0")
        h.update(p.encode("utf-8", errors="surrogateescape"))
    return h.hexdigest()


def seal(key: str, body: bytes, secret: bytes | None) -> str:
    """The first line's proof: over the format, the key the entry answers, and its body."""
    message = FORMAT.encode() + b"\0" + key.encode() + b"\0" + body
    if secret:
        return f"{_HMAC}:{hmac.new(secret, message, hashlib.sha256).hexdigest()}"
    return f"{_DIGEST}:{hashlib.sha256(message).hexdigest()}"


@dataclass(frozen=True, kw_only=True)
class CacheStats:
    hits: int = 0
    misses: int = 0
    stored: int = 0


@dataclass(frozen=True, kw_only=True)
class Lookup:
    """What the cache says about one file."""

    findings: tuple[Finding, ...] | None = None
    """The cached findings (a hit), or None (a miss)."""
    rejected: str | None = None
    """Why an entry that was there was not believed (None: a hit, or simply absent)."""
    incomplete: str | None = None
    """A hit on a file the scanner could not fully analyse: why (the run is incomplete for it
    exactly as when the scanner says so afresh; the file is not rescanned while unchanged)."""


class _Rejected(Exception):
    """An entry is there and does not check (the message says why, in a few words)."""


def _verify(data: bytes, key: str, secret: bytes | None) -> bytes:
    """The body of an entry whose seal checks; :class:`_Rejected` otherwise."""
    head, newline, body = data.partition(b"\n")
    if not newline:
        raise _Rejected("truncated or not an entry")
    fmt, _, found = head.decode("ascii", errors="replace").partition(" ")
    if fmt != FORMAT:
        raise _Rejected("not a " + FORMAT + " entry")
    kind = found.partition(":")[0]
    if secret and kind != _HMAC:
        raise _Rejected(f"no HMAC (written without {KEY_ENV})")
    if not secret and kind == _HMAC:
        raise _Rejected(f"sealed with a key, and {KEY_ENV} is not set")
    if not hmac.compare_digest(found.encode(), seal(key, body, secret).encode()):
        what = "HMAC" if secret else "digest"
        raise _Rejected(f"{what} does not match (altered, truncated, or written for another file)")
    return body


class FileCache:
    """Per-file results of one scanner under one context."""

    def __init__(
        self,
        root: Path,
        *,
        scanner: str,
        context: str,
        max_bytes: int = DEFAULT_MAX_BYTES,
        secret: bytes | None = None,
    ) -> None:
        self.root = Path(root)
        self.scanner = scanner
        self.context = context
        self.max_bytes = max_bytes
        self._secret = secret

    def key(self, path: str, content_digest: str) -> str:
        return context_digest((__version__, self.scanner, self.context, path, content_digest))

    # -------------------------------------------------------------- reading

    def lookup(self, path: str, content_digest: str) -> Lookup:
        """The cached findings of ``path`` with this content, or a miss (and why, when an entry
        was there but did not check)."""
        key = self.key(path, content_digest)
        try:
            with self._open_entry(key) as fd:
                if fd is None:
                    return Lookup()
                findings, incomplete = self._decode(_verify(_read_capped(fd), key, self._secret), key, path)
                with contextlib.suppress(OSError):
                    os.utime(fd)  # least-recently-used pruning keeps what is still in use
        except _Rejected as e:
            return Lookup(rejected=str(e))
        return Lookup(findings=findings, incomplete=incomplete)

    def get(self, path: str, content_digest: str) -> tuple[Finding, ...] | None:
        """The cached findings, or None (a miss: absent, or an entry that does not check)."""
        return self.lookup(path, content_digest).findings

    @contextlib.contextmanager
    def _open_entry(self, key: str) -> Iterator[int | None]:
        """The entry's file descriptor (None: absent), opened without following any link."""
        try:
            sub = self._open_shard(key[:2], create=False)
        except FileNotFoundError:
            yield None
            return
        except OSError as e:
            raise _Rejected(f"the cache folder or its shard {key[:2]} is a link or not a folder ({e.strerror})") from e
        try:
            fd = os.open(f"{key}.json", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=sub)
        except FileNotFoundError:
            fd = -1
        except OSError as e:
            raise _Rejected(f"a link or unreadable ({e.strerror})") from e
        finally:
            os.close(sub)
        if fd < 0:
            yield None
            return
        try:
            yield fd
        finally:
            os.close(fd)

    def _decode(self, body: bytes, key: str, path: str) -> tuple[tuple[Finding, ...], str | None]:
        """The findings of a sealed body; a body that checks yet says something else (another
        file, a finding placed elsewhere) is still rejected."""

        try:
            result: RunResult = resultio.loads(body.decode("utf-8"), origin="cache entry")
        except (SecscanError, ValueError) as e:
            raise _Rejected("sealed but unreadable") from e
        name = _as_text(path)
        if result.meta_dict().get("cache_key") != key or result.target != name:
            raise _Rejected("answers another key")
        if any((f.location.path or "") != name for f in result.findings):
            raise _Rejected("holds findings of another file")
        return result.findings, result.meta_dict().get("incomplete") or None

    # -------------------------------------------------------------- writing

    def put(
        self, path: str, content_digest: str, findings: Sequence[Finding], *, incomplete: str | None = None
    ) -> bool:
        """Store (atomically); False when the cache folder is not writable (never an error: a
        cache that cannot be written only means the next run scans again). ``incomplete``: why
        the scanner could not fully analyse the file (the findings are what it did find)."""

        key = self.key(path, content_digest)
        doc = RunResult(
            tool_version=FORMAT,
            target=_as_text(path),
            started_at="",
            finished_at="",
            findings=tuple(replace(f, fingerprint="") for f in findings),
            meta=(
                ("cache_key", key),
                ("scanner", self.scanner),
                *((("incomplete", incomplete),) if incomplete else ()),
            ),
        )
        # Masked for the operator's credentials like every file secscan writes (a scanner's
        # message may quote them), field by field so the entry stays valid JSON, before the
        # seal: the seal covers what is stored.
        body = resultio.dumps(credentials.current().structure(doc)).encode("utf-8")
        data = f"{FORMAT} {seal(key, body, self._secret)}\n".encode() + body
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            sub = self._open_shard(key[:2], create=True)
        except OSError:
            return False
        try:
            _write_atomic(sub, f"{key}.json", data)
        except OSError:
            return False
        finally:
            os.close(sub)
        return True

    def _open_shard(self, name: str, *, create: bool) -> int:
        """A shard folder's descriptor, never through a link (the cache folder itself included:
        it may sit in the checkout, where a restored or planted link could point anywhere). With
        ``create``, a link or file planted in a shard's place is replaced by a folder."""
        root = os.open(self.root, _DIR_FLAGS)
        try:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o700, dir_fd=root)
            try:
                return os.open(name, _DIR_FLAGS, dir_fd=root)
            except OSError as e:
                if not create or e.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                os.unlink(name, dir_fd=root)  # the link itself, never what it points to
                os.mkdir(name, 0o700, dir_fd=root)
                return os.open(name, _DIR_FLAGS, dir_fd=root)
        finally:
            os.close(root)

    # -------------------------------------------------------------- pruning

    def prune(self) -> int:
        """Drop least-recently-used entries until the folder is under ``max_bytes``, and anything
        secscan never writes there (links, special files); how many were removed."""
        try:
            root = os.open(self.root, _DIR_FLAGS)
        except OSError:
            return 0
        shards: dict[str, int] = {}
        try:
            removed = _drop_foreign(root, shards)
            entries, total = _list_entries(shards)
            for _mtime, size, shard, name in sorted(entries):
                if total <= self.max_bytes:
                    break
                with contextlib.suppress(OSError):
                    os.unlink(name, dir_fd=shards[shard])
                    total -= size
                    removed += 1
        finally:
            for fd in shards.values():
                os.close(fd)
            os.close(root)
        return removed


def _read_capped(fd: int) -> bytes:
    """A regular file's bytes, at most :data:`MAX_ENTRY_BYTES` (else rejected)."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise _Rejected("not a regular file")
    if st.st_size > MAX_ENTRY_BYTES:
        raise _Rejected("too large")
    chunks = []
    size = 0
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_ENTRY_BYTES:
            raise _Rejected("too large")
    return b"".join(chunks)


def _write_atomic(dir_fd: int, name: str, data: bytes) -> None:
    """Write ``name`` in a folder by descriptor: a fresh temp file (never a link's target), then
    a rename over whatever had the name (a link there is replaced, not followed)."""
    tmp = f"{_TEMP_PREFIX}{secrets.token_hex(8)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=dir_fd)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


def _drop_foreign(root: int, shards: dict[str, int]) -> int:
    """Open the shard folders (into ``shards``) and remove links and special files planted in
    the cache folder: secscan writes only folders and regular files there."""
    removed = 0
    with os.scandir(root) as it:
        for entry in it:
            if len(entry.name) != 2:
                continue
            if entry.is_symlink():
                with contextlib.suppress(OSError):
                    os.unlink(entry.name, dir_fd=root)
                    removed += 1
                continue
            with contextlib.suppress(OSError):
                shards[entry.name] = os.open(entry.name, _DIR_FLAGS, dir_fd=root)
    for fd in shards.values():
        with os.scandir(fd) as it:
            for entry in it:
                if not entry.is_file(follow_symlinks=False) and not entry.is_dir(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.name, dir_fd=fd)
                        removed += 1
    return removed


def _list_entries(shards: Mapping[str, int]) -> tuple[list[tuple[float, int, str, str]], int]:
    """(mtime, size, shard, name) of every entry and temp file, and their total size. A temp
    file is a killed run's leftover: harmless, but first to go."""
    entries = []
    total = 0
    for shard, fd in shards.items():
        with os.scandir(fd) as it:
            for entry in it:
                temp = entry.name.startswith(_TEMP_PREFIX)
                if not (temp or _ENTRY.fullmatch(entry.name)):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    entries.append((0.0 if temp else st.st_mtime, st.st_size, shard, entry.name))
                    total += st.st_size
    return entries, total
