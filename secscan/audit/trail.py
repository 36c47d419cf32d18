"""An append-only, hash-chained JSON-lines audit log of verdicts, suppressions and publish actions.

Each line is one entry::

    {"seq": 3, "timestamp": "...", "actor": {...}, "action": "gate.verdict", "payload": {...},
     "payload_sha256": "<hex>", "alg": "sha256", "prev": "<hash of entry 2>", "hash": "<hex>"}

``hash`` covers every other field (canonical JSON) and the previous entry's hash, so editing,
removing, inserting or reordering any entry breaks the chain at that point. Anyone can recompute
a plain SHA-256 chain, so with ``SECSCAN_AUDIT_KEY`` set the chain is keyed (HMAC-SHA256,
``alg: hmac-sha256``): only a holder of the key can forge entries. Cutting entries off the end
leaves a valid shorter chain; ``verify(..., expected_head=...)`` catches that against a head
hash kept elsewhere (the CLI prints the head after each verification).
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secscan import credentials, interrupts
from secscan.dbtarget import DbTarget, parse_target
from secscan.errors import InputError, SecscanError
from secscan.models import RunResult, Status

GENESIS = "0" * 64
"""The ``prev`` of the first entry."""
ALG_PLAIN = "sha256"
ALG_KEYED = "hmac-sha256"
KEY_ENV = "SECSCAN_AUDIT_KEY"
LOG_ENV = "SECSCAN_AUDIT_LOG"
DEFAULT_LOG_NAME = "secscan-audit.jsonl"
TORN_ACTION = "audit.torn_dropped"
"""The entry recording that the next append removed a torn last entry left by a crash."""
_ENTRY_FIELDS = ("seq", "timestamp", "actor", "action", "payload", "payload_sha256", "alg", "prev", "hash")


class AuditError(SecscanError):
    """The audit log cannot be read or appended to (exit 2)."""


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no insignificant whitespace, UTF-8.

    The same value always hashes the same, whatever order a dict was built in.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def payload_digest(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(dict(payload))).hexdigest()


def entry_hash(entry: Mapping[str, Any], key: bytes | None) -> str:
    """The hash of an entry: over every field except ``hash`` itself (``prev`` included)."""
    body = canonical({k: v for k, v in entry.items() if k != "hash"})
    if key is not None:
        return hmac.new(key, body, hashlib.sha256).hexdigest()
    return hashlib.sha256(body).hexdigest()


def key_from_env(env: Mapping[str, str]) -> bytes | None:
    value = env.get(KEY_ENV, "")
    return value.encode("utf-8") if value else None


def log_path(out_dir: Path, env: Mapping[str, str]) -> Path:
    """``$SECSCAN_AUDIT_LOG`` when set (a log shared by many runs), else ``<out_dir>/secscan-audit.jsonl``."""
    configured = env.get(LOG_ENV, "")
    return Path(configured) if configured else Path(out_dir) / DEFAULT_LOG_NAME


def actor_from_env(env: Mapping[str, str]) -> dict[str, str]:
    """Who acted: the GitLab user and job in CI, else the local user name."""
    if env.get("GITLAB_CI") == "true" or env.get("CI_JOB_ID"):
        ci = {
            "user": env.get("GITLAB_USER_LOGIN", ""),
            "job_id": env.get("CI_JOB_ID", ""),
            "job_url": env.get("CI_JOB_URL", ""),
            "project": env.get("CI_PROJECT_PATH", ""),
            "pipeline_id": env.get("CI_PIPELINE_ID", ""),
        }
        return {"kind": "ci", **{k: v for k, v in ci.items() if v}}
    user = env.get("USER") or env.get("LOGNAME") or env.get("USERNAME")
    if not user:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (e.g. an arbitrary uid in a container)
            user = f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return {"kind": "local", "user": user}


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- appending


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[int]:
    """Open the log for appending under an exclusive lock, so concurrent runs never interleave."""
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_APPEND: every write lands at the end even if another process appended first.
    # O_NOFOLLOW: a log committed as a symlink must not make secscan write somewhere else.
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise SecscanError(f"audit log {path} is a symlink; refusing to write through it") from e
        raise SecscanError(f"cannot open audit log {path}: {e.strerror or e}") from e
    try:
        try:
            import fcntl  # POSIX only: where it is missing, appends are still atomic lines

            fcntl.flock(fd, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows: no advisory locks; appends are still atomic lines
            pass
        if created:
            _fsync_dir(path.parent)  # the new log's name survives a power cut with its first entry
        yield fd
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True, kw_only=True)
class _Tail:
    """How the log file ends, as the next append sees it."""

    last: bytes | None
    """The last entry's line (None: the log holds no entry)."""
    keep: int
    """Where the chain's bytes end: the file's size without a torn last entry."""
    torn: bytes = b""
    """A torn last entry (a write cut short by a crash: no newline, not JSON), else empty."""
    newline: bool = False
    """Whether the last entry lacks its newline (the next entry must start on a line of its own)."""


def _line_before(fd: int, end: int) -> tuple[int, bytes]:
    """(start, bytes) of the line ending at offset ``end`` (read backwards in blocks: logs grow large)."""
    pos = end
    buf = b""
    while pos > 0:
        step = min(65536, pos)
        pos -= step
        buf = os.pread(fd, step, pos) + buf
        cut = buf.rfind(b"\n")
        if cut >= 0:
            return pos + cut + 1, buf[cut + 1 :]
    return 0, buf


def _parses(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return True


def _read_tail(fd: int) -> _Tail:
    """The last entry, and a torn write after it if there is one.

    Entries are canonical JSON (no raw newline inside), each written with its newline in one
    ``write``; so bytes after the last newline that do not parse are the start of an entry whose
    write was cut short (SIGKILL, power loss), not an entry someone edited.
    """
    size = os.fstat(fd).st_size
    if size == 0:
        return _Tail(last=None, keep=0)
    start, tail = _line_before(fd, size)
    if not tail:  # ends with a newline: the line before it is the last entry
        _, line = _line_before(fd, size - 1)
        return _Tail(last=line, keep=size)
    if _parses(tail):
        return _Tail(last=tail, keep=size, newline=True)
    last = _line_before(fd, start - 1)[1] if start > 0 else None
    return _Tail(last=last, keep=start, torn=tail)


def build_entry(
    *,
    prev: str,
    seq: int,
    action: str,
    payload: Mapping[str, Any],
    env: Mapping[str, str],
    timestamp: str | None,
    key: bytes | None,
) -> dict[str, Any]:
    """The next entry of a chain whose last entry has hash ``prev`` (both sinks build it here).

    The operator's credentials are masked before the digest and the hash are computed, so the
    chain covers exactly the bytes that are stored and verifies as before."""
    masker = credentials.current(env)
    entry = _chained(
        prev=prev,
        seq=seq,
        action=action,
        payload=masker.structure(dict(payload)),
        actor=masker.structure(actor_from_env(env)),
        timestamp=timestamp or _utc_now(),
        key=key,
    )
    line = canonical(entry).decode("utf-8")
    final = masker(line)
    if final != line:
        # A value seen only in the entry's JSON form (split across fields, or in an escape the
        # strings did not show): the stored line is the masked one, so the entry is rebuilt from it.
        try:
            again = json.loads(final)
            payload_final, actor_final = dict(again["payload"]), dict(again["actor"])
        except (ValueError, KeyError, TypeError):
            payload_final = {"withheld": "the payload held an operator credential and could not be masked"}
            actor_final = {"kind": str(entry["actor"].get("kind", ""))}
        entry = _chained(
            prev=prev,
            seq=seq,
            action=action,
            payload=payload_final,
            actor=actor_final,
            timestamp=str(entry["timestamp"]),
            key=key,
        )
    return entry


def _chained(
    *,
    prev: str,
    seq: int,
    action: str,
    payload: Mapping[str, Any],
    actor: Mapping[str, Any],
    timestamp: str,
    key: bytes | None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "seq": seq,
        "timestamp": timestamp,
        "actor": dict(actor),
        "action": action,
        "payload": dict(payload),
        "payload_sha256": payload_digest(payload),
        "alg": ALG_KEYED if key is not None else ALG_PLAIN,
        "prev": prev,
    }
    entry["hash"] = entry_hash(entry, key)
    return entry


def tail_link(line: bytes | str, *, where: str) -> tuple[str, int]:
    """(hash, next seq) from the chain's last entry; AuditError when it is damaged.

    Chaining onto a damaged entry would hide the damage.
    """
    try:
        tail = json.loads(line)
        return str(tail["hash"]), int(tail["seq"]) + 1
    except (ValueError, KeyError, TypeError) as e:
        raise AuditError(
            f"audit log {where}: the last entry is damaged; run `secscan audit verify --log {where}`"
        ) from e


def sink(out_dir: Path, env: Mapping[str, str]) -> Path | DbTarget:
    """Where this run's entries go: ``$SECSCAN_AUDIT_LOG`` as a file, or as a database
    (``postgresql://...`` or ``sqlite:PATH``: the history database's audit table); else the
    file in ``out_dir``."""
    configured = env.get(LOG_ENV, "")
    if is_db_location(configured):
        return parse_target(configured)
    return log_path(out_dir, env)


def parse_location(value: str) -> Path | DbTarget:
    """A ``--log`` value: a database URL (``postgresql://``, ``sqlite:PATH``) or a file path."""
    return parse_target(value) if is_db_location(value) else Path(value)


def describe_location(where: Path | DbTarget) -> str:
    """For messages: the path, or the database without its password."""
    return where.display() + " (audit table)" if isinstance(where, DbTarget) else str(where)


def verify_at(where: Path | DbTarget, key: bytes | None, *, expected_head: str | None = None) -> VerifyResult:
    """Verify a file trail or a database's audit table."""
    if isinstance(where, DbTarget):
        from secscan.audit import dbtrail

        return dbtrail.verify(where, key, expected_head=expected_head)
    return verify(where, key, expected_head=expected_head)


def is_db_location(value: str) -> bool:
    return value.strip().lower().startswith(("postgresql://", "postgres://", "sqlite:"))


def append_to(
    where: Path | DbTarget,
    action: str,
    payload: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    timestamp: str | None = None,
) -> dict[str, Any]:
    """Append to a file trail or to a database's audit table."""
    if isinstance(where, DbTarget):
        from secscan.audit import dbtrail

        return dbtrail.append(where, action, payload, env=env, timestamp=timestamp)
    return append(where, action, payload, env=env, timestamp=timestamp)


def append(
    path: Path,
    action: str,
    payload: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    timestamp: str | None = None,
) -> dict[str, Any]:
    """Append one entry chained to the current last entry; returns the entry written."""
    return append_many(path, [(action, payload)], env=env, timestamp=timestamp)[-1]


def append_many(
    path: Path,
    items: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    env: Mapping[str, str],
    timestamp: str | None = None,
) -> list[dict[str, Any]]:
    """Append several entries, in order, durably or not at all; returns the entries written.

    All of them go in one ``write`` on an O_APPEND descriptor and are fsynced; a short or failed
    write (a full disk, a file-size limit) is truncated away, so the log ends where it did. A
    torn last entry that a crash left is removed first and recorded as an ``audit.torn_dropped``
    entry (its size and digest), chained before the new ones. Refuses (AuditError) to extend a
    log whose last complete line is not an entry: chaining onto a damaged entry would hide the
    damage.
    """

    key = key_from_env(env)
    path = Path(path)
    # Held from SIGINT/SIGTERM: a stop lands before the entry or after it is on disk.
    with interrupts.deferred(), _locked(path) as fd:
        tail = _read_tail(fd)
        prev, seq = (GENESIS, 1) if tail.last is None else tail_link(tail.last, where=str(path))
        todo = [*([(TORN_ACTION, _torn_payload(tail))] if tail.torn else []), *items]
        entries = []
        for action, payload in todo:
            entry = build_entry(
                prev=prev, seq=seq, action=action, payload=payload, env=env, timestamp=timestamp, key=key
            )
            entries.append(entry)
            prev, seq = str(entry["hash"]), seq + 1
        data = (b"\n" if tail.newline else b"") + b"".join(canonical(e) + b"\n" for e in entries)
        _write_whole(fd, data, tail=tail, where=path)
    return entries[len(todo) - len(items) :]


def _torn_payload(tail: _Tail) -> dict[str, Any]:
    return {
        "reason": "a torn last entry (a write cut short by a crash) was removed before this append",
        "offset": tail.keep,
        "bytes": len(tail.torn),
        "sha256": hashlib.sha256(tail.torn).hexdigest(),
    }


def _write_whole(fd: int, data: bytes, *, tail: _Tail, where: Path) -> None:
    """Write ``data`` at the end (after cutting a torn entry off) with one ``write`` and fsync it;
    on any failure put the file back as it was and raise AuditError."""
    try:
        if tail.torn:
            os.ftruncate(fd, tail.keep)
        written = os.write(fd, data)
        if written != len(data):  # a file-size limit, or a full disk part way
            raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes could be written")
        os.fsync(fd)
    except OSError as e:
        _restore(fd, tail)
        raise AuditError(f"cannot append to audit log {where}: {e.strerror or e} (nothing was appended)") from e


def _restore(fd: int, tail: _Tail) -> None:
    """Cut a partial entry off; put a torn entry back (it is reported again and removed by the next append)."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, tail.keep)
        if tail.torn:
            os.write(fd, tail.torn)
        os.fsync(fd)


def record(
    action: str,
    payload: Mapping[str, Any],
    *,
    path: Path | DbTarget,
    env: Mapping[str, str],
    timestamp: str | None = None,
) -> dict[str, Any]:
    """Append one action (e.g. ``publish.note``) to the log at ``path`` (a file or a database
    target, see :func:`sink`); for other areas' use."""
    return append_to(path, action, payload, env=env, timestamp=timestamp)


def _verdict_payload(result: RunResult) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for f in result.findings:
        k = f"{f.status.value}:{f.severity.value}"
        counts[k] = counts.get(k, 0) + 1
    v = result.verdict
    meta = result.meta_dict()
    return {
        "target": result.target,
        "started_at": result.started_at,
        "finished_at": result.finished_at,
        "tool_version": result.tool_version,
        "verdict": None
        if v is None
        else {
            "passed": v.passed,
            "exit_code": v.exit_code,
            "policy": v.policy,
            "reasons": [{"rule": r.rule, "message": r.message, "fingerprint": r.fingerprint} for r in v.reasons],
        },
        "findings": len(result.findings),
        "counts": dict(sorted(counts.items())),
        "scanners": {s.name: s.state.value for s in result.scanners},
        "commit": meta.get("ci_commit_sha") or meta.get("commit_sha") or None,
    }


def record_run(result: RunResult, *, out_dir: Path, env: Mapping[str, str]) -> None:
    """Append the run's gate verdict and every suppression it applied to the audit log.

    The timestamp is the run's own ``finished_at`` (data, not the clock), so the log says when
    the decision was made.
    """
    path = sink(out_dir, env)
    when = result.finished_at or None
    items: list[tuple[str, Mapping[str, Any]]] = [("gate.verdict", _verdict_payload(result))]
    for f in result.findings:
        if f.status is not Status.SUPPRESSED or f.suppression is None:
            continue
        s = f.suppression
        items.append(
            (
                "suppression.applied",
                {
                    "target": result.target,
                    "fingerprint": f.fingerprint,
                    "scanner": f.scanner,
                    "rule_id": f.rule_id,
                    "severity": f.severity.value,
                    "path": f.location.path or f.location.package or f.location.url,
                    "origin": s.origin,
                    "reason": s.reason,
                    "owner": s.owner,
                    "expires": s.expires,
                    "ticket": s.ticket,
                    "matched_by": s.matched_by,
                },
            )
        )
    if isinstance(path, DbTarget):
        from secscan.audit import dbtrail

        # One connection and one transaction: a run's verdict and its suppressions stay together.
        dbtrail.append_many(path, items, env=env, timestamp=when)
        return
    # One write: a run's verdict and its suppressions are on the trail together or not at all.
    append_many(path, items, env=env, timestamp=when)


# ---------------------------------------------------------------- verifying


@dataclass(frozen=True, kw_only=True)
class VerifyResult:
    """The outcome of checking a log."""

    ok: bool
    entries: int
    """How many entries were read (all of them when ok)."""
    head: str | None = None
    """The hash of the last good entry: keep it elsewhere to detect truncation later."""
    bad_line: int | None = None
    """1-based line number of the first bad entry."""
    problem: str | None = None
    """What is wrong with it, one line."""
    first_timestamp: str | None = None
    """The oldest good entry's timestamp (how far back the trail reaches)."""
    last_timestamp: str | None = None
    """The newest good entry's timestamp."""
    torn_bytes: int = 0
    """The size of a torn last entry (a write cut short by a crash: the last line, no newline,
    not JSON). Not part of the chain and not tampering; the next append removes it and records
    that it did."""

    def describe(self) -> str:
        if not self.ok:
            return f"audit log TAMPERED at entry {self.bad_line} (line {self.bad_line}): {self.problem}"
        text = f"audit log OK: {self.entries} entries, head {self.head or GENESIS}"
        if self.torn_bytes:
            text += (
                f"; a torn last entry ({self.torn_bytes} bytes, a write cut short by a crash) is not part"
                " of the chain and is removed by the next append"
            )
        return text


def split_torn(raw: bytes) -> tuple[bytes, bytes]:
    """(the chain's bytes, a torn last entry or b"")."""
    if not raw or raw.endswith(b"\n"):
        return raw, b""
    cut = raw.rfind(b"\n") + 1
    if _parses(raw[cut:]):
        return raw, b""  # a whole entry without its newline: verified like any other
    return raw[:cut], raw[cut:]


def verify(path: Path, key: bytes | None, *, expected_head: str | None = None) -> VerifyResult:
    """Check every entry's payload digest, own hash, sequence number and link to its predecessor.

    Returns at the first bad entry, naming it. With ``key``, every entry must be keyed (an
    unkeyed entry in a keyed log is exactly what a forger without the key would write). A torn
    last entry is reported, not counted as tampering; ``expected_head`` is checked against the
    chain without it, so a crash never hides a truncation. Raises :class:`AuditError` only when
    the file cannot be read at all.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError as e:
        raise AuditError(f"audit log {path} does not exist") from e
    except OSError as e:
        raise AuditError(f"cannot read audit log {path}: {e.strerror or e}") from e
    body, torn = split_torn(raw)
    lines = body.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    res = verify_lines(lines, key, expected_head=expected_head)
    return replace(res, torn_bytes=len(torn)) if torn else res


class ChainCheck:
    """Walks a chain one entry at a time (a file's lines, a table's rows) and says where it breaks."""

    def __init__(self, key: bytes | None) -> None:
        self.key = key
        self.prev = GENESIS
        self.count = 0
        self.first_ts: str | None = None
        self.last_ts: str | None = None

    def feed(self, line: bytes | str, *, stored: Mapping[str, Any] | None = None) -> str | None:
        """Check the next entry; its problem, or None (then it is part of the chain).

        ``stored``: values kept beside the entry (a table's columns) that must equal its fields."""
        try:
            entry = json.loads(line)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return "not a JSON entry (edited or damaged)"
        problem = entry_problem(entry, self.key) or self._link_problem(entry) or _stored_problem(entry, stored)
        if problem is None:
            self.prev = str(entry["hash"])
            self.count += 1
            self.last_ts = str(entry["timestamp"])
            self.first_ts = self.first_ts or self.last_ts
        return problem

    def _link_problem(self, entry: Mapping[str, Any]) -> str | None:
        seq = entry["seq"]
        if entry["prev"] != self.prev:
            if isinstance(seq, int) and seq > self.count + 1:
                why = f"entries {self.count + 1}..{seq - 1} are missing (removed)"
            elif isinstance(seq, int) and seq <= self.count:
                why = f"it is entry {seq}, seen out of order (reordered or duplicated)"
            else:
                why = "it does not follow the previous entry (an entry was inserted, removed or reordered)"
            return f"chain broken: previous-hash does not match entry {self.count}: {why}"
        if seq != self.count + 1:
            return f"sequence number {seq!r} where {self.count + 1} was expected (inserted or reordered)"
        return None

    def failed(self, problem: str) -> VerifyResult:
        """The result when the next entry (or the end) has ``problem``."""
        return VerifyResult(
            ok=False,
            entries=self.count,
            head=self.prev,
            bad_line=self.count + 1,
            problem=problem,
            first_timestamp=self.first_ts,
            last_timestamp=self.last_ts,
        )

    def finish(self, expected_head: str | None) -> VerifyResult:
        """The result at the end of the chain, checked against the head recorded earlier."""
        if expected_head is not None and self.prev != expected_head:
            if self.count == 0:
                return self.failed(f"the log is empty but head {expected_head[:16]}… was expected (emptied)")
            return self.failed(
                f"log ends at head {self.prev[:16]}… but {expected_head[:16]}… was expected (entries cut off the end)"
            )
        return VerifyResult(
            ok=True,
            entries=self.count,
            head=self.prev if self.count else None,
            first_timestamp=self.first_ts,
            last_timestamp=self.last_ts,
        )


def entry_problem(entry: Any, key: bytes | None) -> str | None:
    """What is wrong with one entry on its own (fields, digest, algorithm, hash), or None."""
    if not isinstance(entry, dict) or set(entry) != set(_ENTRY_FIELDS):
        return "fields added or removed (edited)"
    if not isinstance(entry["payload"], dict) or payload_digest(entry["payload"]) != entry["payload_sha256"]:
        return "payload does not match its SHA-256 digest (payload edited)"
    alg = entry["alg"]
    if alg == ALG_KEYED and key is None:
        return f"entry is keyed (HMAC); set {KEY_ENV} to verify it"
    if alg == ALG_PLAIN and key is not None:
        return "entry is not keyed although a key was given (written without the key: forged or downgraded)"
    if alg not in (ALG_PLAIN, ALG_KEYED):
        return f"unknown hash algorithm {alg!r}"
    if not hmac.compare_digest(str(entry["hash"]), entry_hash(entry, key if alg == ALG_KEYED else None)):
        what = "HMAC" if alg == ALG_KEYED else "hash"
        return f"entry {what} does not match its contents (edited, or forged without the key)"
    return None


def _stored_problem(entry: Mapping[str, Any], stored: Mapping[str, Any] | None) -> str | None:
    for name, value in (stored or {}).items():
        if value != entry[name]:
            return f"the stored {name} {value!r} differs from the entry's {entry[name]!r} (edited)"
    return None


def verify_lines(lines: Iterable[bytes | str], key: bytes | None, *, expected_head: str | None = None) -> VerifyResult:
    """Check a chain given as its entries' JSON lines, in order (a file's lines or a table's rows)."""
    check = ChainCheck(key)
    for line in lines:
        problem = check.feed(line)
        if problem is not None:
            return check.failed(problem)
    return check.finish(expected_head)


def read_entries(path: Path) -> list[dict[str, Any]]:
    """All entries, parsed (for display; a torn last entry is not one); InputError on a line that
    is not JSON."""
    out = []
    try:
        raw = split_torn(Path(path).read_bytes())[0]
    except OSError as e:
        raise InputError(f"cannot read audit log {path}: {e.strerror or e}") from e
    text = raw.decode("utf-8", errors="replace")
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as e:
            raise InputError(f"{path}: line {n} is not JSON") from e
    return out


def record_publish(outcome: Any, *, result: RunResult, out_dir: Path, env: Mapping[str, str]) -> None:
    """Append what publishing did (a ``PublishOutcome``) for the run ``result``; dry runs are not
    actions and are not recorded."""
    if getattr(outcome, "dry_run", False):
        return
    payload = {
        "mr": str(getattr(outcome, "mr", "")),
        "ok": bool(getattr(outcome, "ok", False)),
        "note": str(getattr(outcome, "note", "")),
        "threads_created": int(getattr(outcome, "threads_created", 0)),
        "threads_resolved": int(getattr(outcome, "threads_resolved", 0)),
        "commit_status": str(getattr(outcome, "commit_status", "")),
        "errors": [str(e) for e in getattr(outcome, "errors", ())],
        "result_started_at": result.started_at,
        "verdict_passed": result.verdict.passed if result.verdict is not None else None,
    }
    record("publish", payload, path=sink(out_dir, env), env=env, timestamp=result.finished_at or None)
