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

from secscan.gitlab import markers, notes, suggest
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
    also: tuple[Finding, ...] = ()
    """The other findings this thread discusses: the other advisories of the same pin."""

    @property
    def findings(self) -> tuple[Finding, ...]:
        return (self.finding, *self.also)


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


def dependency_qualifies(f: Finding, min_severity: Severity) -> bool:
    """A vulnerable dependency that gets a thread on the pin the merge request added."""
    return (
        f.status is Status.NEW
        and f.severity.rank >= min_severity.rank
        and f.kind is Kind.DEPENDENCY
        and bool(f.location.path and f.location.package and f.location.version)
    )


def pin_line(f: Finding, path: str, changed: ChangedFile | None) -> int | None:
    """The added line of the manifest that pins the finding's package at its vulnerable version."""
    if changed is None:
        return None
    return next((n for n, text in sorted(changed.added_text.items()) if suggest.pin_matches(f, text, path)), None)


def pin_keys(f: Finding) -> tuple[str, ...]:
    """The keys of the pin threads a dependency finding belongs to (one per manifest it can be
    pinned in): every advisory of one pinned version shares its pin's one thread."""
    loc = f.location
    if f.kind is not Kind.DEPENDENCY or not loc.package or not loc.version:
        return ()
    return tuple(markers.pin_key(m, loc.package, loc.version) for m in suggest.pin_files(f))


@dataclass(frozen=True, kw_only=True)
class _Place:
    wanted: bool
    position: dict[str, Any] | None = None
    pin: str | None = None
    """The pin's thread key, for a vulnerable pin."""


def _position(
    f: Finding, files: Mapping[str, ChangedFile], refs: DiffRefs, *, min_severity: Severity, path_prefix: str
) -> _Place:
    """Whether the finding wants a thread, and its position on the diff (None when off the diff)."""
    if qualifies(f, min_severity):
        assert f.location.path and f.location.start_line
        path = path_prefix + f.location.path.lstrip("/")
        return _Place(wanted=True, position=position_for(files, refs, path, f.location.start_line, f.location.end_line))
    if dependency_qualifies(f, min_severity):
        assert f.location.package and f.location.version
        for manifest in suggest.pin_files(f):
            path = path_prefix + manifest.lstrip("/")
            pin = pin_line(f, path, files.get(path))
            if pin is not None:
                key = markers.pin_key(manifest, f.location.package, f.location.version)
                return _Place(wanted=True, position=position_for(files, refs, path, pin, pin), pin=key)
        # A pin the merge request did not add gets no thread: the summary lists the finding.
    return _Place(wanted=False)


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
    live = [f for f in findings if f.status in (Status.NEW, Status.EXISTING)]
    open_keys = {markers.finding_key(f) for f in live} | {k for f in live for k in pin_keys(f)}
    by_key = {markers.finding_key(f): f for f in findings}
    for f in findings:
        for k in pin_keys(f):
            by_key.setdefault(k, f)

    candidates = _candidates(findings, files, refs, min_severity=min_severity, path_prefix=path_prefix)

    def has_thread(key: str, members: Sequence[Finding]) -> bool:
        # A pin's thread, or (posted before pins had one thread) a thread of one of its advisories.
        return key in threads or any(markers.finding_key(m) in threads for m in members)

    # One version per pinned package that fixes every advisory reported for it.
    targets = suggest.common_targets(f for f in findings if f.status is Status.NEW)
    slots = max_threads
    kept = 0
    create: list[NewThread] = []
    over_cap: list[Finding] = []
    rejected: list[Finding] = []
    # Findings that already have a thread take their slots first (stable across re-runs).
    for key, members, _pos in candidates.placed:
        if has_thread(key, members):
            kept += 1
            slots -= 1
    for key, members, position in candidates.placed:
        if has_thread(key, members):
            continue
        if key in rejected_keys:
            rejected += members
            continue
        if slots > 0:
            create.append(_new_thread(members, key, position, files, report=report, targets=targets))
            slots -= 1
        else:
            over_cap += members

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
        off_diff=candidates.off_diff,
    )


@dataclass(frozen=True, kw_only=True)
class _Candidates:
    placed: list[tuple[str, list[Finding], dict[str, Any]]]
    """(thread key, the findings it discusses, position), in thread order."""
    off_diff: int


def _candidates(
    findings: Sequence[Finding],
    files: Mapping[str, ChangedFile],
    refs: DiffRefs,
    *,
    min_severity: Severity,
    path_prefix: str,
) -> _Candidates:
    """The threads wanted on the diff: one per finding, and one per vulnerable pin whatever the
    number of advisories reported for it (the most severe first)."""
    placed: list[tuple[str, list[Finding], dict[str, Any]]] = []
    pins: dict[str, list[Finding]] = {}
    off_diff = 0
    seen: set[str] = set()
    for f in sorted(findings, key=_sort_key):
        key = markers.finding_key(f)
        if key in seen:
            continue
        seen.add(key)
        place = _position(f, files, refs, min_severity=min_severity, path_prefix=path_prefix)
        if not place.wanted:
            continue
        if place.position is None:
            off_diff += 1
        elif place.pin is None:
            placed.append((key, [f], place.position))
        elif place.pin in pins:
            pins[place.pin].append(f)
        else:
            pins[place.pin] = [f]
            placed.append((place.pin, pins[place.pin], place.position))
    return _Candidates(placed=placed, off_diff=off_diff)


def _new_thread(
    members: Sequence[Finding],
    key: str,
    position: dict[str, Any],
    files: Mapping[str, ChangedFile],
    *,
    report: str,
    targets: Mapping[tuple[str, str], str],
) -> NewThread:
    f = members[0]
    line = position.get("new_line")
    text, path, target = _added_text(files, position), str(position.get("new_path")), suggest.target_for(f, targets)
    if len(members) > 1:
        body = notes.pin_thread_body(
            members, report=report, key=key, line=line, line_text=text, path=path, target=target
        )
    else:
        body = notes.thread_body(f, report=report, key=key, line=line, line_text=text, path=path, target=target)
    return NewThread(finding=f, key=key, position=position, body=body, also=tuple(members[1:]))


def _added_text(files: Mapping[str, ChangedFile], position: Mapping[str, Any]) -> str | None:
    changed = files.get(str(position.get("new_path")))
    line = position.get("new_line")
    return changed.added_text.get(line) if changed is not None and isinstance(line, int) else None
