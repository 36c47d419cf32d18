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
    threads: dict[str, ExistingThread] = {}
    for t in existing:
        # Several threads with one key (e.g. from an older bug or a race): keep the first, and
        # treat the key as "has a thread" either way.
        threads.setdefault(t.key, t)
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
        if f.status is not Status.NEW or f.severity.rank < min_severity.rank:
            continue
        if f.kind not in (Kind.SAST, Kind.SECRET) or not f.location.path or not f.location.start_line:
            continue
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
                NewThread(finding=f, key=key, position=position, body=notes.thread_body(f, report=report, key=key))
            )
            slots -= 1
        else:
            over_cap.append(f)

    resolve = [
        Resolve(
            discussion_id=t.discussion_id, key=key, reply=notes.resolve_reply(by_key.get(key), commit_sha=commit_sha)
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
