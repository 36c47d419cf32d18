"""Each finding's life across a project's runs and branches (issue 31), for its page and exports.

Built from the compacted stream timelines (:mod:`secscan.aggregate.timeline`): a *sighting* is one
segment, consecutive runs of one ref that reported the finding alike (status, severity), with the
first and last run's time and commit. Whether it is open or fixed now is the metrics' walk
(:func:`secscan.aggregate.metrics.finding_states`): fixed only by a run that covered it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from secscan.aggregate.history import FindingInfo, History, iso
from secscan.aggregate.metrics import DAY, finding_states
from secscan.aggregate.timeline import StreamTimeline

_RANK = {"open": 3, "suppressed": 2, "fixed": 1}


@dataclass(frozen=True, kw_only=True)
class Sighting:
    ref: str
    first_at: str
    last_at: str
    runs: int
    status: str
    severity: str
    first_commit: str | None = None
    last_commit: str | None = None


@dataclass(frozen=True, kw_only=True)
class RefState:
    ref: str
    state: str
    """``open``, ``fixed`` or ``suppressed`` after the ref's newest run."""
    open_since: int | None = None
    fixed_at: int | None = None
    severity: str = "info"


@dataclass(frozen=True, kw_only=True)
class FindingRecord:
    """One finding (by fingerprint) of one project, every ref together."""

    project: str
    info: FindingInfo
    state: str
    """The worst over refs: open, then suppressed, then fixed."""
    severity: str
    first_seen: int
    last_seen: int
    open_since: int | None
    fixed_at: int | None
    refs: tuple[RefState, ...]
    sightings: tuple[Sighting, ...]

    @property
    def fingerprint(self) -> str:
        return self.info.fingerprint

    def sla_due(self, sla_days: Mapping[str, int | None]) -> int | None:
        """When it must be fixed by (epoch), for an open finding with an SLA."""
        days = sla_days.get(self.severity)
        if self.open_since is None or days is None:
            return None
        return self.open_since + days * DAY


def _epoch_text(epoch: int) -> str:
    return iso(datetime.fromtimestamp(epoch, tz=UTC))


def _ref_state(st: object, last_status: str) -> str:
    if getattr(st, "open_since", None) is not None:
        return "open"
    if getattr(st, "fixed_at", None) is not None:
        return "fixed"
    return "suppressed" if last_status == "suppressed" else "fixed"


def project_records(project: str, streams: Iterable[StreamTimeline]) -> list[FindingRecord]:
    """The records of one project's findings from its streams (one per ref)."""
    sightings: dict[str, list[Sighting]] = {}
    refs: dict[str, list[RefState]] = {}
    infos: dict[str, FindingInfo] = {}
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for stream in streams:
        states = finding_states(stream)
        last_status: dict[int, str] = {}
        for seg in stream.segments:
            info = stream.findings.get(seg.finding_id)
            if info is None:
                continue
            a, b = stream.runs[seg.first], stream.runs[seg.last]
            fp = info.fingerprint
            infos[fp] = info
            first[fp] = min(first.get(fp, a.finished_epoch), a.finished_epoch)
            last[fp] = max(last.get(fp, b.finished_epoch), b.finished_epoch)
            last_status[seg.finding_id] = seg.status
            sightings.setdefault(fp, []).append(
                Sighting(
                    ref=stream.ref,
                    first_at=a.finished_at,
                    last_at=b.finished_at,
                    runs=seg.last - seg.first + 1,
                    status=seg.status,
                    severity=seg.severity,
                    first_commit=a.commit_sha,
                    last_commit=b.commit_sha,
                )
            )
        for fid, info in stream.findings.items():
            st = states.get(info.fingerprint)
            if st is None or fid not in last_status:
                continue
            refs.setdefault(info.fingerprint, []).append(
                RefState(
                    ref=stream.ref,
                    state=_ref_state(st, last_status[fid]),
                    open_since=st.open_since,
                    fixed_at=st.fixed_at,
                    severity=st.severity,
                )
            )
    out = []
    for fp, info in infos.items():
        rs = sorted(refs.get(fp, ()), key=lambda r: r.ref)
        worst = max(rs, key=lambda r: _RANK[r.state]) if rs else None
        opens = [r.open_since for r in rs if r.open_since is not None]
        fixes = [r.fixed_at for r in rs if r.fixed_at is not None]
        seen = sorted(sightings.get(fp, ()), key=lambda s: (s.first_at, s.ref))
        out.append(
            FindingRecord(
                project=project,
                info=info,
                state=worst.state if worst else "fixed",
                severity=worst.severity if worst and worst.state == "open" else (seen[-1].severity if seen else "info"),
                first_seen=first[fp],
                last_seen=last[fp],
                open_since=min(opens) if opens else None,
                fixed_at=max(fixes) if fixes and not opens else None,
                refs=tuple(rs),
                sightings=tuple(seen),
            )
        )
    out.sort(key=lambda r: (-_RANK[r.state], r.info.rule_id, r.info.location, r.fingerprint))
    return out


def by_project(streams: Iterable[StreamTimeline]) -> Iterator[tuple[str, list[StreamTimeline]]]:
    """Streams grouped by project (they arrive sorted by project, then ref)."""
    current: str | None = None
    group: list[StreamTimeline] = []
    for s in streams:
        if s.project != current and group:
            assert current is not None
            yield current, group
            group = []
        current = s.project
        group.append(s)
    if group and current is not None:
        yield current, group


def epoch_text(epoch: int | None) -> str:
    return "" if epoch is None else _epoch_text(epoch)


def location_history(h: History) -> dict[tuple[str, str], list[tuple[int, str]]]:
    """Every place each finding was reported at, with when it was first reported there, by
    (project, fingerprint), oldest first (one query: a row per place, not per run)."""
    out: dict[tuple[str, str], list[tuple[int, str]]] = {}
    for project, fp, location, epoch in h.db.execute(
        "SELECT p.name, f.fingerprint, l.location, l.first_epoch FROM finding_locations l"
        " JOIN findings f ON f.id = l.finding_id JOIN projects p ON p.id = f.project_id"
        " ORDER BY p.name, f.fingerprint, l.first_epoch, l.location"
    ):
        out.setdefault((str(project), str(fp)), []).append((int(epoch), str(location)))
    return out
