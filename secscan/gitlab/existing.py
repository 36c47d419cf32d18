"""What secscan already wrote on a merge request, read from GitLab's discussions listing (pure).

Only notes authored by the token's own user count (a marker pasted by someone else is ignored),
and only a marker on a note's first line (a quoted snippet further down cannot pass for one).
Everything is returned oldest first: GitLab's note ids grow, so "the oldest" is the same for
every publisher that reads the merge request, which is what lets concurrent runs agree on which
summary and which thread to keep.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from secscan.gitlab import markers
from secscan.gitlab.plan import ExistingThread

REPLY_KINDS = ("resolved", "duplicate")


@dataclass(frozen=True, kw_only=True)
class Existing:
    summaries: tuple[Mapping[str, Any], ...] = ()
    """Our summary notes for this report name, oldest first (more than one after a race)."""
    threads: tuple[ExistingThread, ...] = ()
    """Our threads for this report name (every one, duplicates included), oldest first."""
    note_count: int = 0
    """Every note on the merge request, system notes included (GitLab's comment limit counts them)."""


def _id(note: Mapping[str, Any]) -> int:
    value = note.get("id")
    return value if isinstance(value, int) else 0


def authored_by(note: Any, me: int) -> bool:
    if not isinstance(note, Mapping):
        return False
    author = note.get("author") or {}
    return isinstance(author, Mapping) and author.get("id") == me and not note.get("system")


def read_existing(discussions: Iterable[Mapping[str, Any]], *, me: int, report: str) -> Existing:
    summaries: list[Mapping[str, Any]] = []
    threads: list[ExistingThread] = []
    count = 0
    for d in discussions:
        ds = [n for n in (d.get("notes") or []) if isinstance(n, Mapping)]
        count += len(ds)
        if not ds or not authored_by(ds[0], me):
            continue
        first = ds[0]
        body = str(first.get("body") or "")
        if d.get("individual_note"):
            if markers.is_summary(body, report):
                summaries.append(first)
            continue
        key = markers.thread_key(body, report)
        if key is None:
            continue
        replies = frozenset(
            kind
            for n in ds[1:]
            if authored_by(n, me)
            for kind in REPLY_KINDS
            if markers.is_reply(str(n.get("body") or ""), report, key, kind)
        )
        threads.append(
            ExistingThread(
                discussion_id=str(d.get("id")),
                key=key,
                resolved=bool(first.get("resolved")),
                note_id=_id(first),
                replies=replies,
            )
        )
    return Existing(
        summaries=tuple(sorted(summaries, key=_id)),
        threads=tuple(sorted(threads, key=lambda t: (t.note_id, t.discussion_id))),
        note_count=count,
    )


def find_thread(discussions: Iterable[Mapping[str, Any]], *, me: int, report: str, key: str) -> dict[str, Any] | None:
    """Our thread for ``key`` (the oldest), as GitLab lists it."""
    found = [
        d
        for d in discussions
        if not d.get("individual_note")
        and (d.get("notes") or [])
        and authored_by(d["notes"][0], me)
        and markers.thread_key(str(d["notes"][0].get("body") or ""), report) == key
    ]
    return dict(min(found, key=lambda d: _id(d["notes"][0]))) if found else None


def find_reply(discussion: Mapping[str, Any], *, me: int, report: str, key: str, kind: str) -> dict[str, Any] | None:
    """Our reply of ``kind`` in one thread, if it is there."""
    for n in (discussion.get("notes") or [])[1:]:
        if authored_by(n, me) and markers.is_reply(str(n.get("body") or ""), report, key, kind):
            return dict(n)
    return None
