"""A content-addressed cache of per-file scanner results.

bandit and open-source semgrep analyse one file at a time, so what they report for a file is a
function of that file's content and path, the scanner's version, its rules and the options that
change results. That is the key (:meth:`FileCache.key`); the value is the file's findings as the
scanner's parser produced them (before fingerprinting, triage and masking, which the core redoes
on every run). A file with no findings is cached too (an empty entry), which is what makes an
unchanged tree cost nothing to re-scan.

Safe to share between jobs: entries are written to a temp file and renamed into place (a killed
run leaves at most a stray temp file, never half an entry), a corrupt or foreign entry is a miss,
and the folder is pruned least-recently-used (hits refresh an entry's mtime) to a size bound.
Nothing here decides a verdict: a miss only means the scanner runs on that file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from secscan.models import Finding, RunResult

FORMAT = "secscan-cache/1"
DEFAULT_MAX_BYTES = 512 * 1024 * 1024


def default_dir() -> Path:
    """The user cache folder (``SECSCAN_CACHE_DIR`` or ``--cache-dir`` override it)."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("secscan")) / "results"


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


@dataclass(frozen=True, kw_only=True)
class CacheStats:
    hits: int = 0
    misses: int = 0
    stored: int = 0


class FileCache:
    """Per-file results of one scanner under one context."""

    def __init__(self, root: Path, *, scanner: str, context: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.scanner = scanner
        self.context = context
        self.max_bytes = max_bytes

    def key(self, path: str, content_digest: str) -> str:
        return context_digest((self.scanner, self.context, path, content_digest))

    def _file(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, path: str, content_digest: str) -> tuple[Finding, ...] | None:
        """The cached findings of ``path`` with this content, or None (a miss: absent, corrupt,
        written for another key)."""
        from secscan import resultio
        from secscan.errors import SecscanError

        key = self.key(path, content_digest)
        entry = self._file(key)
        try:
            data = entry.read_bytes()
            result = resultio.loads(data.decode("utf-8"), origin=str(entry))
        except (OSError, SecscanError, ValueError, UnicodeDecodeError):
            return None
        if result.meta_dict().get("cache_key") != key or result.target != _as_text(path):
            return None
        with contextlib.suppress(OSError):
            os.utime(entry)  # least-recently-used pruning keeps what is still in use
        return result.findings

    def put(self, path: str, content_digest: str, findings: Sequence[Finding]) -> bool:
        """Store (atomically); False when the cache folder is not writable (never an error: a
        cache that cannot be written only means the next run scans again)."""
        from secscan import resultio

        key = self.key(path, content_digest)
        entry = self._file(key)
        doc = RunResult(
            tool_version=FORMAT,
            target=_as_text(path),
            started_at="",
            finished_at="",
            findings=tuple(replace(f, fingerprint="") for f in findings),
            meta=(("cache_key", key), ("scanner", self.scanner)),
        )
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=entry.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(resultio.dumps(doc).encode("utf-8"))
                os.replace(tmp, entry)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError:
            return False
        return True

    def prune(self) -> int:
        """Drop least-recently-used entries until the folder is under ``max_bytes``; how many."""
        entries = []
        total = 0
        for sub in self.root.glob("??"):
            for f in sub.iterdir():
                try:
                    st = f.stat()
                except OSError:
                    continue
                if f.name.startswith(".tmp-"):
                    # A killed run's leftover: harmless, but not forever.
                    entries.append((0.0, st.st_size, f))
                else:
                    entries.append((st.st_mtime, st.st_size, f))
                total += st.st_size
        removed = 0
        for _mtime, size, f in sorted(entries):
            if total <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                f.unlink()
                total -= size
                removed += 1
        return removed
