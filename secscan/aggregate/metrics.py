"""Security-team metrics computed from run snapshots (pure: ``now`` arrives as data).

A finding's life is followed by fingerprint through a project's runs on one ref:

* it **opens** in the first run that reports it as ``new`` or ``existing``;
* it is **fixed** in the first later run that reports it ``fixed`` or no longer reports it while
  covering it: the scanner that found it ran successfully and the finding's file was in the run's
  scope (:meth:`RunSnapshot.covers`). A run whose scanner failed or was skipped, a
  ``--changed-only`` run that did not touch the file, a shard that did not hold it, or a scanner
  that could not complete that file says nothing about the finding, so it stays open (fail
  closed: a crash or a partial run is no fix);
* it stops being open without counting as fixed when it becomes ``suppressed``.

"New" therefore means first seen by the history, and time to fix is open -> fixed.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from secscan.aggregate.history import FindingInfo, RunSnapshot, iso
from secscan.aggregate.timeline import Segment, StreamTimeline
from secscan.models import SEVERITIES_DESC

DAY = 86400
SEV_ORDER: tuple[str, ...] = tuple(s.value for s in SEVERITIES_DESC)
_SEV_INDEX = {s: i for i, s in enumerate(SEV_ORDER)}
_OPEN = frozenset({"new", "existing"})
_ERROR_STATES = frozenset({"failed", "timeout", "not_installed"})

# PCI DSS v4.0's twelve principal requirements (short names), for the requirement view.
PCI_REQUIREMENTS: dict[str, str] = {
    "1": "Network security controls",
    "2": "Secure configurations",
    "3": "Protect stored account data",
    "4": "Strong cryptography in transit",
    "5": "Protect against malicious software",
    "6": "Secure systems and software",
    "7": "Restrict access by need to know",
    "8": "Identify users and authenticate access",
    "9": "Restrict physical access",
    "10": "Log and monitor all access",
    "11": "Test security regularly",
    "12": "Policies and programs",
}


@dataclass(frozen=True, kw_only=True)
class ProjectRow:
    project: str
    ref: str
    runs: int
    last_run_at: str
    last_passed: bool | None
    open_by_severity: tuple[int, ...]
    """Counts aligned with ``SEV_ORDER`` (critical first)."""
    new_7: int
    new_30: int
    fixed_7: int
    fixed_30: int
    oldest_open_days: float | None
    mttf_days: float | None
    """Mean time to fix over every fixed finding of this project, in days."""
    fixed_total: int
    sparkline: tuple[int, ...]
    """Open findings after each of the last runs (oldest first)."""
    last_job_url: str | None = None

    @property
    def open_total(self) -> int:
        return sum(self.open_by_severity)


@dataclass(frozen=True, kw_only=True)
class RuleCount:
    scanner: str
    rule_id: str
    title: str
    open: int
    projects: int
    worst: str


@dataclass(frozen=True, kw_only=True)
class CweCount:
    cwe: str
    open: int
    projects: int
    worst: str


@dataclass(frozen=True, kw_only=True)
class PciRequirement:
    requirement: str
    """e.g. ``6.2.4``."""
    open: int
    projects: int
    worst: str
    rules: tuple[str, ...]
    """The rule ids behind it (most frequent first, at most five)."""


@dataclass(frozen=True, kw_only=True)
class PciGroup:
    number: str
    title: str
    open: int
    projects: int
    requirements: tuple[PciRequirement, ...]


@dataclass(frozen=True, kw_only=True)
class ExpiringSuppression:
    project: str
    ref: str
    rule_id: str
    title: str
    location: str
    severity: str
    expires: str
    days_left: int
    """Negative: already expired (the finding reopens at the next run)."""
    owner: str | None
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class ScannerFailure:
    project: str
    ref: str
    scanner: str
    state: str
    error: str | None
    last_failed_at: str
    failed_runs: int
    of_runs: int
    failing_now: bool
    """The project's latest run failed with this scanner too."""


@dataclass(frozen=True, kw_only=True)
class TrendDay:
    day: str
    open_by_severity: tuple[int, ...]
    new: int
    fixed: int


@dataclass(frozen=True, kw_only=True)
class SlaBreach:
    """An open finding past its fix-by date (the policy's ``[sla]`` days for its severity)."""

    project: str
    ref: str
    fingerprint: str
    rule_id: str
    title: str
    location: str
    severity: str
    opened: str
    due: str
    days_over: int


@dataclass(frozen=True, kw_only=True)
class Dashboard:
    now: str
    projects: tuple[ProjectRow, ...]
    total_runs: int
    trend: tuple[TrendDay, ...]
    top_rules: tuple[RuleCount, ...]
    top_cwes: tuple[CweCount, ...]
    pci: tuple[PciGroup, ...]
    expiring: tuple[ExpiringSuppression, ...]
    failures: tuple[ScannerFailure, ...]
    totals: ProjectRow | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    sla_breaches: tuple[SlaBreach, ...] = ()
    """Open findings past their SLA, longest overdue first."""
    project_count: int = 0
    """Distinct projects (``projects`` has a row per project and ref)."""


def _worst(sevs: Iterable[str]) -> str:
    return min(sevs, key=lambda s: _SEV_INDEX.get(s, 99), default="info")


@dataclass
class _Lifecycle:
    """Mutable state while walking one stream's runs in time order."""

    open_since: dict[int, int] = field(default_factory=dict)
    severity: dict[int, str] = field(default_factory=dict)
    started: list[int] = field(default_factory=list)
    fixed: list[tuple[int, int]] = field(default_factory=list)
    """(opened, fixed) epochs."""
    fixed_at: dict[int, int] = field(default_factory=dict)
    """Finding id -> when it was last fixed (removed again when it reopens)."""


def _sev_index(sev: str) -> int:
    return _SEV_INDEX.get(sev, len(SEV_ORDER) - 1)


def _walk(stream: StreamTimeline) -> tuple[_Lifecycle, list[tuple[int, ...]]]:
    """Follow every finding through the stream's runs; returns the end state and the open
    counts by severity after each run.

    Work is per segment boundary, not per observation: a finding changes state only where a
    segment starts (it appears, changes, is suppressed or reported fixed) or where its open
    segment ends (it is absent from the next run on, and is fixed at the first later run whose
    scanner for it ran cleanly).
    """
    starts: dict[int, list[Segment]] = defaultdict(list)
    open_ends: dict[int, list[int]] = defaultdict(list)
    for seg in stream.segments:
        starts[seg.first].append(seg)
        if seg.status in _OPEN:
            open_ends[seg.last].append(seg.finding_id)
    walker = _Walker(stream)
    after_each: list[tuple[int, ...]] = []
    for i, run in enumerate(stream.runs):
        segs = starts.get(i, ())
        for seg in segs:
            walker.reported(seg, run.finished_epoch)
        for seg in segs:
            walker.settled(seg, run)
        walker.look_again(run)
        after_each.append(tuple(walker.counts))
        for fid in open_ends.get(i, ()):
            if fid in walker.state.open_since:
                walker.absent[fid] = None  # a segment starting at run i + 1 takes it back out
    return walker.state, after_each


class _Walker:
    """The state :func:`_walk` carries from run to run."""

    def __init__(self, stream: StreamTimeline) -> None:
        self.stream = stream
        self.state = _Lifecycle()
        self.counts = [0] * len(SEV_ORDER)
        self.absent: dict[int, None] = {}  # open findings not reported since their segment ended (ordered)

    def close(self, fid: int, epoch: int, *, fixed: bool) -> None:
        state = self.state
        self.counts[_sev_index(state.severity.get(fid, "info"))] -= 1
        opened = state.open_since.pop(fid)
        if fixed:
            state.fixed.append((opened, epoch))
            state.fixed_at[fid] = epoch

    def reported(self, seg: Segment, epoch: int) -> None:
        """A segment starts: the finding is reported again (open: counted at its severity)."""
        self.absent.pop(seg.finding_id, None)
        if seg.status not in _OPEN:
            return
        state, fid = self.state, seg.finding_id
        if fid in state.open_since:
            self.counts[_sev_index(state.severity.get(fid, "info"))] -= 1
        else:
            state.open_since[fid] = epoch
            state.started.append(epoch)
            state.fixed_at.pop(fid, None)
        state.severity[fid] = seg.severity
        self.counts[_sev_index(seg.severity)] += 1

    def settled(self, seg: Segment, run: RunSnapshot) -> None:
        """A segment reporting an open finding fixed or suppressed closes it."""
        if seg.status in _OPEN or seg.finding_id not in self.state.open_since:
            return
        info = self.stream.findings.get(seg.finding_id)
        if seg.status == "fixed" and info is not None and not run.covers(info):
            # "Fixed" from a run that did not look for it (a baseline entry in test code
            # a default run did not read with its rule): as good as absent.
            self.absent[seg.finding_id] = None
            return
        # Reported fixed: fixed. Suppressed: no longer open, but accepted, not fixed.
        self.close(seg.finding_id, run.finished_epoch, fixed=seg.status != "suppressed")

    def look_again(self, run: RunSnapshot) -> None:
        """Open findings no longer reported are fixed by the first run that covers them."""
        for fid in list(self.absent):
            info = self.stream.findings.get(fid)
            if info is not None and run.covers(info):
                del self.absent[fid]
                self.close(fid, run.finished_epoch, fixed=True)
            # else: this run did not look at its file with its scanner (a partial run, a
            # scanner that failed); we cannot tell, so it stays open.


@dataclass(frozen=True, kw_only=True)
class FindingState:
    """Where one finding of a stream stands after its newest run."""

    fingerprint: str
    open_since: int | None
    """Epoch it opened, when it is open now."""
    fixed_at: int | None
    """Epoch a covering run found it gone (or reported it fixed), when it is fixed now."""
    severity: str


def finding_states(stream: StreamTimeline) -> dict[str, FindingState]:
    """Every finding of the stream by fingerprint: open (since when) or fixed (when), or
    neither (suppressed, or only ever reported fixed)."""
    state, _ = _walk(stream)
    return {
        info.fingerprint: FindingState(
            fingerprint=info.fingerprint,
            open_since=state.open_since.get(fid),
            fixed_at=state.fixed_at.get(fid),
            severity=state.severity.get(fid, "info"),
        )
        for fid, info in stream.findings.items()
    }


def sla_breaches(
    stream: StreamTimeline, sla_days: Mapping[str, int | None], *, now_epoch: int, state: _Lifecycle | None = None
) -> list[SlaBreach]:
    """The stream's open findings whose SLA (days from when they opened, by their current
    severity) ended before ``now_epoch``."""
    if state is None:
        state, _ = _walk(stream)
    out = []
    for fid, opened in state.open_since.items():
        sev = state.severity.get(fid, "info")
        days = sla_days.get(sev)
        if days is None:
            continue
        due = opened + days * DAY
        if due >= now_epoch:
            continue
        info = stream.findings.get(fid)
        out.append(
            SlaBreach(
                project=stream.project,
                ref=stream.ref,
                fingerprint=info.fingerprint if info else str(fid),
                rule_id=info.rule_id if info else "",
                title=info.title if info else "",
                location=info.location if info else "",
                severity=sev,
                opened=iso(datetime.fromtimestamp(opened, tz=UTC)),
                due=iso(datetime.fromtimestamp(due, tz=UTC)),
                days_over=(now_epoch - due) // DAY,
            )
        )
    return out


@dataclass
class _RuleAcc:
    title: str
    open: int = 0
    severities: list[str] = field(default_factory=list)


@dataclass
class _Acc:
    """Accumulators across streams."""

    days: list[date]
    trend_open: list[list[int]]
    trend_new: list[int]
    trend_fixed: list[int]
    rules: dict[tuple[str, str], _RuleAcc] = field(default_factory=dict)
    rule_projects: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    cwes: Counter[str] = field(default_factory=Counter)
    cwe_projects: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    cwe_sev: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    pci: Counter[str] = field(default_factory=Counter)
    pci_projects: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    pci_sev: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    pci_rules: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    expiring: list[ExpiringSuppression] = field(default_factory=list)
    failures: list[ScannerFailure] = field(default_factory=list)
    sla_days: Mapping[str, int | None] = field(default_factory=dict)
    sla: list[SlaBreach] = field(default_factory=list)


def _mean_days(spans: list[tuple[int, int]]) -> float | None:
    if not spans:
        return None
    return sum(b - a for a, b in spans) / len(spans) / DAY


def _project(
    stream: StreamTimeline, now_epoch: int, today: date, acc: _Acc, *, spark_len: int, failure_window: int
) -> ProjectRow | None:
    if not stream.runs:
        return None
    state, after_each = _walk(stream)
    if acc.sla_days:
        acc.sla.extend(sla_breaches(stream, acc.sla_days, now_epoch=now_epoch, state=state))
    last_counts, spark = _trends(stream, state, after_each, acc, now_epoch)
    name = stream.project
    for fid in state.open_since:
        info = stream.findings.get(fid)
        if info is not None:
            _count_open(acc, name, info, state.severity.get(fid, "info"))
    _expiring(stream, today, acc)
    _failures(stream, acc, failure_window)
    last = stream.runs[-1]
    open_starts = list(state.open_since.values())
    return ProjectRow(
        project=name,
        ref=stream.ref,
        runs=len(stream.runs),
        last_run_at=last.finished_at,
        last_passed=last.passed,
        open_by_severity=last_counts,
        new_7=sum(1 for t in state.started if now_epoch - 7 * DAY < t <= now_epoch),
        new_30=sum(1 for t in state.started if now_epoch - 30 * DAY < t <= now_epoch),
        fixed_7=sum(1 for _, t in state.fixed if now_epoch - 7 * DAY < t <= now_epoch),
        fixed_30=sum(1 for _, t in state.fixed if now_epoch - 30 * DAY < t <= now_epoch),
        oldest_open_days=(now_epoch - min(open_starts)) / DAY if open_starts else None,
        mttf_days=_mean_days(state.fixed),
        fixed_total=len(state.fixed),
        sparkline=tuple(spark[-spark_len:]),
        last_job_url=last.job_url,
    )


def _trends(
    stream: StreamTimeline, state: _Lifecycle, after_each: list[tuple[int, ...]], acc: _Acc, now_epoch: int
) -> tuple[tuple[int, ...], list[int]]:
    """Add the stream to the daily trends (open at each day's end, new and fixed per day);
    returns the open counts after its last run and its sparkline (open findings per run)."""
    day_ends = [_utc_midnight(d) + DAY for d in acc.days]
    spark: list[int] = []
    di = 0
    last_counts: tuple[int, ...] = (0,) * len(SEV_ORDER)
    for run, counts in zip(stream.runs, after_each, strict=True):
        # Days that end before this run see the state as of the previous run.
        while di < len(day_ends) and day_ends[di] <= run.finished_epoch:
            _add_counts(acc.trend_open[di], last_counts)
            di += 1
        last_counts = counts
        spark.append(sum(last_counts))
    while di < len(day_ends):
        _add_counts(acc.trend_open[di], last_counts)
        di += 1
    first_day_start = day_ends[0] - DAY if day_ends else now_epoch
    _per_day(acc.trend_new, state.started, first_day_start)
    _per_day(acc.trend_fixed, [t for _, t in state.fixed], first_day_start)
    return last_counts, spark


def _per_day(trend: list[int], epochs: Iterable[int], first_day_start: int) -> None:
    for t in epochs:
        if t >= first_day_start:
            idx = (t - first_day_start) // DAY
            if 0 <= idx < len(trend):
                trend[idx] += 1


def _count_open(acc: _Acc, name: str, info: FindingInfo, sev: str) -> None:
    """One open finding in the rule, CWE and PCI DSS tables."""
    key = (info.scanner, info.rule_id)
    entry = acc.rules.setdefault(key, _RuleAcc(title=info.title))
    entry.open += 1
    entry.severities.append(sev)
    acc.rule_projects[key].add(name)
    for cwe in info.cwes:
        acc.cwes[cwe] += 1
        acc.cwe_projects[cwe].add(name)
        acc.cwe_sev[cwe].append(sev)
    for cid in info.compliance:
        if not cid.upper().startswith("PCI-DSS"):
            continue
        req = cid.split(":", 1)[1] if ":" in cid else cid
        acc.pci[req] += 1
        acc.pci_projects[req].add(name)
        acc.pci_sev[req].append(sev)
        acc.pci_rules[req][info.rule_id] += 1


def _expiring(stream: StreamTimeline, today: date, acc: _Acc) -> None:
    """Suppressions of the newest run that expire within 30 days."""
    last_index = len(stream.runs) - 1
    for o in stream.segments:
        if o.last != last_index or o.status != "suppressed" or not o.sup_expires:
            continue
        try:
            exp = date.fromisoformat(o.sup_expires[:10])
        except ValueError:
            continue
        left = (exp - today).days
        if left > 30:
            continue
        info = stream.findings.get(o.finding_id)
        acc.expiring.append(
            ExpiringSuppression(
                project=stream.project,
                ref=stream.ref,
                rule_id=info.rule_id if info else "",
                title=info.title if info else "",
                location=info.location if info else "",
                severity=o.severity,
                expires=exp.isoformat(),
                days_left=left,
                owner=o.sup_owner,
                reason=o.sup_reason,
            )
        )


def _failures(stream: StreamTimeline, acc: _Acc, failure_window: int) -> None:
    """Scanners that failed in the stream's recent runs."""
    recent = stream.runs[-failure_window:]
    last = stream.runs[-1]
    by_scanner: dict[str, list[tuple[RunSnapshot, str, str | None]]] = defaultdict(list)
    for run in recent:
        for s in run.scanners:
            if s.state in _ERROR_STATES:
                by_scanner[s.name].append((run, s.state, s.error))
    for scanner, fails in sorted(by_scanner.items()):
        run, st, err = fails[-1]
        acc.failures.append(
            ScannerFailure(
                project=stream.project,
                ref=stream.ref,
                scanner=scanner,
                state=st,
                error=err,
                last_failed_at=run.finished_at,
                failed_runs=len(fails),
                of_runs=len(recent),
                failing_now=run.id == last.id,
            )
        )


def _utc_midnight(d: date) -> int:
    return (d - date(1970, 1, 1)).days * DAY


def _add_counts(into: list[int], counts: tuple[int, ...]) -> None:
    for i, c in enumerate(counts):
        into[i] += c


def compute(
    streams: Iterable[StreamTimeline],
    *,
    now: datetime,
    trend_days: int = 60,
    spark_len: int = 30,
    failure_window: int = 5,
    sla_days: Mapping[str, int | None] | None = None,
) -> Dashboard:
    """Every dashboard figure, from the streams (consumed one at a time) and ``now``;
    ``sla_days``: fix-by days per severity (the policy's), to list the findings past them."""
    now_epoch = int(now.timestamp())
    today = _utc_date(now_epoch)
    days = [today - timedelta(days=trend_days - 1 - i) for i in range(trend_days)]
    acc = _Acc(
        days=days,
        trend_open=[[0] * len(SEV_ORDER) for _ in days],
        trend_new=[0] * len(days),
        trend_fixed=[0] * len(days),
        sla_days=dict(sla_days or {}),
    )
    rows: list[ProjectRow] = []
    total_runs = 0
    for stream in streams:
        total_runs += len(stream.runs)
        row = _project(stream, now_epoch, today, acc, spark_len=spark_len, failure_window=failure_window)
        if row is not None:
            rows.append(row)
    # Worst first: what needs attention is at the top.
    rows.sort(key=lambda r: (tuple(-c for c in r.open_by_severity), r.project, r.ref))

    rules = sorted(
        (
            RuleCount(
                scanner=k[0],
                rule_id=k[1],
                title=v.title,
                open=v.open,
                projects=len(acc.rule_projects[k]),
                worst=_worst(v.severities),
            )
            for k, v in acc.rules.items()
        ),
        key=lambda r: (-r.open, -r.projects, r.rule_id),
    )[:10]
    cwes = sorted(
        (
            CweCount(cwe=c, open=n, projects=len(acc.cwe_projects[c]), worst=_worst(acc.cwe_sev[c]))
            for c, n in acc.cwes.items()
        ),
        key=lambda r: (-r.open, -r.projects, r.cwe),
    )[:10]
    pci_groups = []
    for num, title in PCI_REQUIREMENTS.items():
        reqs = sorted(
            (
                PciRequirement(
                    requirement=r,
                    open=acc.pci[r],
                    projects=len(acc.pci_projects[r]),
                    worst=_worst(acc.pci_sev[r]),
                    rules=tuple(x for x, _ in acc.pci_rules[r].most_common(5)),
                )
                for r in acc.pci
                if r.split(".", 1)[0] == num
            ),
            key=lambda r: _req_key(r.requirement),
        )
        projects: set[str] = set()
        for r in reqs:
            projects |= acc.pci_projects[r.requirement]
        pci_groups.append(
            PciGroup(
                number=num,
                title=title,
                open=sum(r.open for r in reqs),
                projects=len(projects),
                requirements=tuple(reqs),
            )
        )
    totals = (
        ProjectRow(
            project="All projects",
            ref="",
            runs=total_runs,
            last_run_at=max(r.last_run_at for r in rows),
            last_passed=None,
            open_by_severity=tuple(sum(r.open_by_severity[i] for r in rows) for i in range(len(SEV_ORDER))),
            new_7=sum(r.new_7 for r in rows),
            new_30=sum(r.new_30 for r in rows),
            fixed_7=sum(r.fixed_7 for r in rows),
            fixed_30=sum(r.fixed_30 for r in rows),
            oldest_open_days=max((r.oldest_open_days for r in rows if r.oldest_open_days is not None), default=None),
            mttf_days=_weighted_mttf(rows),
            fixed_total=sum(r.fixed_total for r in rows),
            sparkline=(),
        )
        if rows
        else None
    )
    return Dashboard(
        now=iso(now),
        projects=tuple(rows),
        total_runs=total_runs,
        trend=_trim(
            tuple(
                TrendDay(
                    day=d.isoformat(),
                    open_by_severity=tuple(acc.trend_open[i]),
                    new=acc.trend_new[i],
                    fixed=acc.trend_fixed[i],
                )
                for i, d in enumerate(days)
            )
        ),
        top_rules=tuple(rules),
        top_cwes=tuple(cwes),
        pci=tuple(pci_groups),
        expiring=tuple(sorted(acc.expiring, key=lambda e: (e.expires, e.project, e.rule_id))),
        # Failing right now first, then the most recent.
        failures=tuple(
            sorted(
                sorted(acc.failures, key=lambda f: (f.last_failed_at, f.project), reverse=True),
                key=lambda f: not f.failing_now,
            )
        ),
        totals=totals,
        sla_breaches=tuple(sorted(acc.sla, key=lambda b: (-b.days_over, b.project, b.ref, b.fingerprint))),
        project_count=len({r.project for r in rows}),
    )


def _trim(days: tuple[TrendDay, ...], *, keep: int = 14) -> tuple[TrendDay, ...]:
    """Drop the empty days before the history starts (one empty day stays, as a baseline)."""
    first = next((i for i, d in enumerate(days) if any(d.open_by_severity) or d.new or d.fixed), len(days))
    start = min(max(0, first - 1), max(0, len(days) - keep))
    return days[start:]


def _utc_date(epoch: int) -> date:
    return date(1970, 1, 1) + timedelta(days=epoch // DAY)


def _req_key(req: str) -> tuple[int, ...]:
    out = []
    for part in req.split("."):
        out.append(int(part) if part.isdigit() else 0)
    return tuple(out)


def _weighted_mttf(rows: list[ProjectRow]) -> float | None:
    n = sum(r.fixed_total for r in rows)
    if n == 0:
        return None
    return sum((r.mttf_days or 0.0) * r.fixed_total for r in rows) / n
