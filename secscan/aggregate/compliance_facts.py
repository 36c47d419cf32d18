"""The facts the compliance guardrails decide on, queried in the database (either store).

Each query touches only the newest run of each project and ref (a window function), or an
aggregate over scanner statuses: a year of runs for hundreds of projects is never loaded.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path

from secscan.aggregate.guardrails import (
    AuditFacts,
    ComplianceReport,
    ExpiredSuppression,
    FailedScanner,
    StreamFacts,
    Thresholds,
    evaluate,
)
from secscan.aggregate.history import History
from secscan.aggregate.metrics import SlaBreach, sla_breaches
from secscan.audit import trail
from secscan.dbtarget import DbTarget
from secscan.errors import SecscanError

_LATEST = (
    "WITH latest AS (SELECT id, project_id, ref, finished_epoch FROM ("
    "SELECT r.id, r.project_id, r.ref, r.finished_epoch, ROW_NUMBER() OVER"
    " (PARTITION BY r.project_id, r.ref ORDER BY r.finished_epoch DESC, r.id DESC) AS rn FROM runs r) x"
    " WHERE x.rn = 1) "
)


def _with_latest(body: str) -> str:
    """``body`` may read ``latest``: the newest run of each project and ref."""
    return _LATEST + body


def stream_facts(
    h: History,
    *,
    today: date,
    dependency_scanners: tuple[str, ...],
    sla: Mapping[tuple[str, str], Sequence[SlaBreach]] | None = None,
) -> list[StreamFacts]:
    """One :class:`StreamFacts` per project and ref in the history (``sla``: the breaches by
    project and ref, when the caller has walked the streams already)."""
    db = h.db
    latest = db.execute(
        _with_latest(
            "SELECT l.id, p.name, l.ref, l.finished_epoch FROM latest l JOIN projects p ON p.id = l.project_id"
        )
    ).fetchall()
    failed: dict[int, list[FailedScanner]] = defaultdict(list)
    for run_id, name, state, error in db.execute(
        _with_latest(
            "SELECT l.id, s.name, s.state, s.error FROM latest l JOIN scanner_runs s ON s.run_id = l.id"
            " WHERE s.state IN ('failed', 'timeout', 'not_installed') ORDER BY s.name"
        )
    ):
        failed[int(run_id)].append(FailedScanner(name=str(name), state=str(state), error=error))
    expired: dict[int, list[ExpiredSuppression]] = defaultdict(list)
    for run_id, rule_id, location, severity, expires, owner in db.execute(
        _with_latest(
            "SELECT l.id, f.rule_id, f.location, o.severity, o.sup_expires, o.sup_owner FROM latest l"
            " JOIN observations o ON o.run_id = l.id JOIN findings f ON f.id = o.finding_id"
            " WHERE o.status = 'suppressed' AND o.sup_expires IS NOT NULL AND substr(o.sup_expires, 1, 10) < ?"
            " ORDER BY o.sup_expires, f.rule_id"
        ),
        (today.isoformat(),),
    ):
        expired[int(run_id)].append(
            ExpiredSuppression(
                rule_id=str(rule_id),
                location=str(location),
                severity=str(severity),
                expires=str(expires)[:10],
                owner=owner,
            )
        )
    deps: dict[tuple[int, str], tuple[int | None, int]] = {}
    if dependency_scanners:
        marks = ", ".join("?" for _ in dependency_scanners)
        for pid, ref, last_ok, applies in db.execute(
            "SELECT r.project_id, r.ref, MAX(CASE WHEN s.state = 'ok' THEN r.finished_epoch END),"  # noqa: S608
            " SUM(CASE WHEN s.state <> 'skipped' THEN 1 ELSE 0 END) FROM runs r"
            f" JOIN scanner_runs s ON s.run_id = r.id WHERE s.name IN ({marks})"  # placeholders only
            " GROUP BY r.project_id, r.ref",
            dependency_scanners,
        ):
            deps[(int(pid), str(ref))] = (None if last_ok is None else int(last_ok), int(applies or 0))
    pids = {
        str(n): int(i) for i, n in db.execute("SELECT id, name FROM projects").fetchall()
    }  # small: one row per project
    out = []
    for run_id, name, ref, epoch in latest:
        last_ok, applies = deps.get((pids[str(name)], str(ref)), (None, 0))
        out.append(
            StreamFacts(
                project=str(name),
                ref=str(ref),
                last_run_epoch=int(epoch),
                failed_scanners=tuple(failed.get(int(run_id), ())),
                dependency_applies=applies > 0,
                last_dependency_epoch=last_ok,
                expired=tuple(expired.get(int(run_id), ())),
                sla_breaches=tuple((sla or {}).get((str(name), str(ref)), ())),
            )
        )
    return out


def sla_by_stream(
    h: History, sla_days: Mapping[str, int | None], *, now: datetime
) -> dict[tuple[str, str], list[SlaBreach]]:
    """The open findings past their SLA, by project and ref (each stream walked once)."""
    now_epoch = int(now.timestamp())
    out: dict[tuple[str, str], list[SlaBreach]] = {}
    for stream in h.iter_streams():
        found = sla_breaches(stream, sla_days, now_epoch=now_epoch)
        if found:
            out[(stream.project, stream.ref)] = sorted(found, key=lambda b: (-b.days_over, b.fingerprint))
    return out


def first_run_epoch(h: History) -> int | None:
    row = h.db.execute("SELECT MIN(finished_epoch) FROM runs").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def audit_location(
    option: str | None, history: DbTarget, env: Mapping[str, str], *, history_entries: int
) -> Path | DbTarget | None:
    """Which trail to check: ``--audit-log``, else ``$SECSCAN_AUDIT_LOG``, else the history
    database's own audit table when it holds entries; None when there is no trail at all."""
    if option:
        return trail.parse_location(option)
    configured = env.get(trail.LOG_ENV, "")
    if configured.strip():
        return trail.parse_location(configured)
    return history if history_entries else None


def audit_facts(
    where: Path | DbTarget | None, *, key: bytes | None, expected_head: str | None, history_first_epoch: int | None
) -> AuditFacts:
    """Verify the trail at ``where`` (an unreadable trail is a failed control, not a crash)."""
    if where is None:
        return AuditFacts(location=None, history_first_epoch=history_first_epoch)
    name = trail.describe_location(where)
    try:
        res = trail.verify_at(where, key, expected_head=expected_head)
    except SecscanError as e:
        return AuditFacts(location=name, ok=False, problem=e.message, history_first_epoch=history_first_epoch)
    return AuditFacts(
        location=name,
        ok=res.ok,
        entries=res.entries,
        problem=res.problem,
        first_timestamp=res.first_timestamp,
        history_first_epoch=history_first_epoch,
    )


def audit_entry_count(h: History) -> int:
    return int(h.db.execute("SELECT COUNT(*) FROM audit_entries").fetchone()[0])


def check(
    h: History,
    *,
    now: datetime,
    thresholds: Thresholds,
    env: Mapping[str, str],
    audit_log: str | None = None,
    expected_head: str | None = None,
    sla_days: Mapping[str, int | None] | None = None,
    sla: Mapping[tuple[str, str], Sequence[SlaBreach]] | None = None,
) -> ComplianceReport:
    """Gather every fact from the open history ``h`` (and its audit trail) and evaluate the
    controls. ``sla_days``: the policy's fix-by days (the streams are walked for them), or
    ``sla``: the breaches found already (the dashboard walks the streams anyway)."""
    first = first_run_epoch(h)
    where = audit_location(audit_log, h.target, env, history_entries=audit_entry_count(h))
    audit = audit_facts(where, key=trail.key_from_env(env), expected_head=expected_head, history_first_epoch=first)
    if sla is None and sla_days:
        sla = sla_by_stream(h, sla_days, now=now)
    streams = stream_facts(h, today=now.date(), dependency_scanners=thresholds.dependency_scanners, sla=sla)
    return evaluate(streams, audit, now=now, thresholds=thresholds)
