"""Compliance guardrails that check themselves (pure: facts and ``now`` in, a report out).

The controls a payment team must keep running, each tied to the PCI DSS v4.0 requirement it
evidences:

* ``scan-age`` (11.3): every project was scanned within ``max_scan_age_days``;
* ``dependency-audit-age`` (6.3): its dependencies were audited cleanly within
  ``max_dependency_age_days`` ("scan dependencies weekly"), for projects that have dependencies
  (a dependency scanner ran, or failed, at least once);
* ``scanner-failed`` (11.3): its last run had no scanner that crashed, timed out or was missing;
  a failed scanner is no evidence of a scan;
* ``suppression-expired`` (6.3): no accepted risk in its last run is past its expiry;
* ``audit-trail`` (10.5.1): the audit trail exists, verifies (no edited, removed, reordered or
  cut-off entry), and reaches back ``audit_retention_days`` (or to the first run in the history,
  when the history is younger than that).

The facts come from the database (:mod:`secscan.aggregate.compliance_facts`), so this module
only decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from secscan.aggregate.history import iso, parse_time
from secscan.errors import InputError

if TYPE_CHECKING:
    from secscan.aggregate.metrics import SlaBreach

DAY = 86400
CONTROLS: dict[str, str] = {
    "scan-age": "11.3",
    "dependency-audit-age": "6.3",
    "scanner-failed": "11.3",
    "suppression-expired": "6.3",
    "audit-trail": "10.5.1",
    "sla": "6.3.3",
}


@dataclass(frozen=True, kw_only=True)
class Thresholds:
    max_scan_age_days: int = 7
    max_dependency_age_days: int = 7
    audit_retention_days: int = 365
    dependency_scanners: tuple[str, ...] = ("pip-audit",)
    """Scanners whose clean run counts as a dependency audit."""


@dataclass(frozen=True, kw_only=True)
class FailedScanner:
    name: str
    state: str
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExpiredSuppression:
    rule_id: str
    location: str
    severity: str
    expires: str
    owner: str | None = None


@dataclass(frozen=True, kw_only=True)
class StreamFacts:
    """What the database says about one project and ref."""

    project: str
    ref: str
    last_run_epoch: int
    failed_scanners: tuple[FailedScanner, ...] = ()
    dependency_applies: bool = False
    """A dependency scanner ran or failed in some run (it was not always skipped)."""
    last_dependency_epoch: int | None = None
    """The newest run in which a dependency scanner ran cleanly."""
    expired: tuple[ExpiredSuppression, ...] = ()
    sla_breaches: tuple[SlaBreach, ...] = ()
    """Open findings past the policy's fix-by days for their severity."""


@dataclass(frozen=True, kw_only=True)
class AuditFacts:
    location: str | None
    """Where the trail was read (no password), None when there is none."""
    ok: bool = False
    entries: int = 0
    problem: str | None = None
    first_timestamp: str | None = None
    history_first_epoch: int | None = None
    """The oldest run in the history: the trail must reach back at least this far (within the window)."""


@dataclass(frozen=True, kw_only=True)
class Violation:
    control: str
    requirement: str
    """PCI DSS v4.0 requirement the control evidences."""
    message: str
    project: str | None = None
    ref: str | None = None


@dataclass(frozen=True, kw_only=True)
class ComplianceReport:
    now: str
    thresholds: Thresholds
    streams_checked: int
    violations: tuple[Violation, ...]
    audit: AuditFacts
    passed_controls: tuple[str, ...] = field(default_factory=tuple)
    """Controls with no violation anywhere."""

    @property
    def ok(self) -> bool:
        return not self.violations


def _days(seconds: float) -> str:
    return f"{seconds / DAY:.1f} days"


def _stream(s: StreamFacts, now_epoch: int, t: Thresholds) -> list[Violation]:
    out: list[Violation] = []

    def v(control: str, message: str) -> None:
        out.append(
            Violation(control=control, requirement=CONTROLS[control], message=message, project=s.project, ref=s.ref)
        )

    age = now_epoch - s.last_run_epoch
    if age > t.max_scan_age_days * DAY:
        v("scan-age", f"last scan {_days(age)} ago (limit {t.max_scan_age_days} days)")
    if s.dependency_applies:
        if s.last_dependency_epoch is None:
            v("dependency-audit-age", "dependencies were never audited cleanly")
        elif now_epoch - s.last_dependency_epoch > t.max_dependency_age_days * DAY:
            dep_age = now_epoch - s.last_dependency_epoch
            v(
                "dependency-audit-age",
                f"last clean dependency audit {_days(dep_age)} ago (limit {t.max_dependency_age_days} days)",
            )
    for f in s.failed_scanners:
        detail = f": {f.error}" if f.error else ""
        v("scanner-failed", f"last run: scanner {f.name} {f.state}{detail}")
    for e in s.expired:
        owner = f", owner {e.owner}" if e.owner else ""
        v("suppression-expired", f"suppression of {e.rule_id} at {e.location} expired {e.expires}{owner}")
    for b in s.sla_breaches:
        v(
            "sla",
            f"{b.severity} {b.rule_id} at {b.location} open since {b.opened[:10]}: due {b.due[:10]},"
            f" {b.days_over} days over ({b.fingerprint})",
        )
    return out


def _audit(a: AuditFacts, now: datetime, t: Thresholds) -> list[Violation]:
    def v(message: str) -> list[Violation]:
        return [Violation(control="audit-trail", requirement=CONTROLS["audit-trail"], message=message)]

    if a.location is None:
        return v("no audit trail found (set SECSCAN_AUDIT_LOG or give --audit-log)")
    if not a.ok:
        return v(f"{a.location} does not verify: {a.problem}")
    if a.entries == 0 or a.first_timestamp is None:
        return v(f"{a.location} is empty")
    window_start = now - timedelta(days=t.audit_retention_days)
    needed = window_start
    if a.history_first_epoch is not None:
        needed = max(window_start, datetime.fromtimestamp(a.history_first_epoch, tz=now.tzinfo))
    try:
        first = parse_time(a.first_timestamp, what="audit entry timestamp")
    except InputError:  # a verified chain with an odd timestamp is reported, not a crash
        return v(f"{a.location}: first entry has no usable timestamp ({a.first_timestamp!r})")
    # Day granularity: a run and its verdict entry a few seconds apart are the same record.
    if first.date() > needed.date():
        kept = (now - first).total_seconds()
        return v(
            f"{a.location} reaches back only to {iso(first)} ({_days(kept)}); it must cover from {iso(needed)}"
            f" ({t.audit_retention_days} days, or since the first run in the history)"
        )
    return []


def evaluate(
    streams: Iterable[StreamFacts], audit: AuditFacts, *, now: datetime, thresholds: Thresholds
) -> ComplianceReport:
    """Every control over every stream, and the audit trail."""
    now_epoch = int(now.timestamp())
    violations: list[Violation] = []
    n = 0
    for s in sorted(streams, key=lambda s: (s.project, s.ref)):
        n += 1
        violations += _stream(s, now_epoch, thresholds)
    violations += _audit(audit, now, thresholds)
    failing = {x.control for x in violations}
    return ComplianceReport(
        now=iso(now),
        thresholds=thresholds,
        streams_checked=n,
        violations=tuple(violations),
        audit=audit,
        passed_controls=tuple(c for c in CONTROLS if c not in failing),
    )
