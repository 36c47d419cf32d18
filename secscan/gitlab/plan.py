"""Which inline threads to open and which to resolve (pure: no network).

Rules (issue 6):
- a *new* finding at or above ``min_severity`` on an added line of the MR's latest diff version
  gets a thread, unless one of our threads already carries its key (resolved or not: never a
  second thread for the same finding);
- at most ``max_threads`` findings are discussed inline per MR and report. Findings that already
  have a thread take their slot first, so an identical re-run never opens the overflow;
- one of our unresolved threads whose finding is no longer open (fixed, suppressed, gone) is
  resolved with a short reply;
- findings whose position GitLab rejected for this head commit are not retried (they are in the
  summary instead).

Converging (issue 15): races between pipelines, retries whose answer was lost and crashed runs can
leave two summaries or two threads for one finding. The oldest of each (lowest note id) is kept,
so every concurrent publisher picks the same one; :func:`duplicate_threads` names the extra open
threads to resolve with a pointer to the kept one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from secscan.gitlab import markers, notes
from secscan.gitlab.diffmap import ChangedFile, DiffRefs, position_for
from secscan.models import Finding, Kind, Severity, Status


@dataclass(frozen=True, kw_only=True)
class ExistingThread:
    discussion_id: str
    key: str
    resolved: bool
    note_id: int = 0
    """Id of the thread's first note (GitLab ids grow: the lowest is the oldest)."""
    replies: frozenset[str] = frozenset()
    """Kinds of secscan replies already in the thread (``resolved``, ``duplicate``)."""


@dataclass(frozen=True, kw_only=True)
class NewThread:
    finding: Finding
    key: str
    position: Mapping[str, Any]
    body: str


@dataclass(frozen=True, kw_only=True)
class Resolve:
    discussion_id: str
    key: str
    reply: str
    reply_needed: bool = True
    """False when an earlier run already posted this reply (then only the resolve is left)."""


@dataclass(frozen=True, kw_only=True)
class Duplicate:
    """An extra open thread for a finding that already has one: resolved with a pointer."""

    thread: ExistingThread
    kept: ExistingThread


def keep_oldest(threads: Iterable[ExistingThread]) -> dict[str, ExistingThread]:
    """key -> the thread kept for it: the oldest (lowest first-note id), whatever its state."""
    kept: dict[str, ExistingThread] = {}
    for t in sorted(threads, key=lambda t: (t.note_id, t.discussion_id)):
        kept.setdefault(t.key, t)
    return kept


def duplicate_threads(threads: Iterable[ExistingThread]) -> tuple[Duplicate, ...]:
    """Every open thread that is not the one kept for its key (already resolved extras are left alone)."""
    all_threads = list(threads)
    kept = keep_oldest(all_threads)
    return tuple(
        Duplicate(thread=t, kept=kept[t.key])
        for t in sorted(all_threads, key=lambda t: (t.note_id, t.discussion_id))
        if not t.resolved and kept[t.key].discussion_id != t.discussion_id
    )


@dataclass(frozen=True, kw_only=True)
class ThreadPlan:
    create: tuple[NewThread, ...] = ()
    resolve: tuple[Resolve, ...] = ()
    kept: int = 0
    """Findings that already have a thread (it stays as it is)."""
    over_cap: tuple[Finding, ...] = ()
    previously_rejected: tuple[Finding, ...] = ()
    off_diff: int = 0
    """Qualifying new findings that are not on an added line (they are in the summary's table)."""


def _sort_key(f: Finding) -> tuple[int, str, int, str]:
    return (-f.severity.rank, f.location.path or "", f.location.start_line or 0, markers.finding_key(f))


def qualifies(f: Finding, min_severity: Severity) -> bool:
    """A finding that gets an inline thread when its line is an added line of the diff."""
    return (
        f.status is Status.NEW
        and f.severity.rank >= min_severity.rank
        and f.kind in (Kind.SAST, Kind.SECRET)
        and bool(f.location.path)
        and bool(f.location.start_line)
        # A secret found in an earlier commit of the merge request: its line is that commit's,
        # not the head's, so it has no place in the diff (the summary lists it).
        and not f.location.commit
    )


def inline_candidates(findings: Sequence[Finding], min_severity: Severity) -> tuple[Finding, ...]:
    """Qualifying findings, one per key, in thread order (for when no diff version can be used)."""
    seen: set[str] = set()
    out: list[Finding] = []
    for f in sorted(findings, key=_sort_key):
        key = markers.finding_key(f)
        if key not in seen and qualifies(f, min_severity):
            seen.add(key)
            out.append(f)
    return tuple(out)


def plan_threads(
    findings: Sequence[Finding],
    existing: Iterable[ExistingThread],
    files: Mapping[str, ChangedFile],
    refs: DiffRefs,
    *,
    report: str,
    min_severity: Severity,
    max_threads: int,
    path_prefix: str = "",
    rejected_keys: frozenset[str] = frozenset(),
    commit_sha: str | None = None,
) -> ThreadPlan:
    # Several threads with one key (a race, a lost answer, an older bug): the oldest counts, the
    # key "has a thread" either way, and duplicate_threads() resolves the others.
    threads = keep_oldest(existing)
    open_keys = {markers.finding_key(f) for f in findings if f.status in (Status.NEW, Status.EXISTING)}
    by_key = {markers.finding_key(f): f for f in findings}

    candidates: list[tuple[Finding, str, dict[str, Any]]] = []
    off_diff = 0
    seen: set[str] = set()
    for f in sorted(findings, key=_sort_key):
        key = markers.finding_key(f)
        if key in seen:
            continue
        seen.add(key)
        if not qualifies(f, min_severity):
            continue
        assert f.location.path and f.location.start_line
        path = path_prefix + f.location.path.lstrip("/")
        position = position_for(files, refs, path, f.location.start_line, f.location.end_line)
        if position is None:
            off_diff += 1
            continue
        candidates.append((f, key, position))

    slots = max_threads
    kept = 0
    create: list[NewThread] = []
    over_cap: list[Finding] = []
    rejected: list[Finding] = []
    # Findings that already have a thread take their slots first (stable across re-runs).
    for _f, key, _pos in candidates:
        if key in threads:
            kept += 1
            slots -= 1
    for f, key, position in candidates:
        if key in threads:
            continue
        if key in rejected_keys:
            rejected.append(f)
            continue
        if slots > 0:
            create.append(
                NewThread(
                    finding=f,
                    key=key,
                    position=position,
                    body=notes.thread_body(f, report=report, key=key, line=position.get("new_line")),
                )
            )
            slots -= 1
        else:
            over_cap.append(f)

    resolve = [
        Resolve(
            discussion_id=t.discussion_id,
            key=key,
            reply=notes.resolve_reply(by_key.get(key), report=report, key=key, commit_sha=commit_sha),
            reply_needed="resolved" not in t.replies,
        )
        for key, t in sorted(threads.items())
        if not t.resolved and key not in open_keys
    ]
    return ThreadPlan(
        create=tuple(create),
        resolve=tuple(resolve),
        kept=kept,
        over_cap=tuple(over_cap),
        previously_rejected=tuple(rejected),
        off_diff=off_diff,
    )
