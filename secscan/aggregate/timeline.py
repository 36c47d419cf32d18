"""A stream's history as the database compacts it, for the dashboard.

A year of daily runs reports the same finding, unchanged, hundreds of times. Instead of sending
every observation to Python, the database (window functions, on either store) folds the
observations of each finding into **segments**: maximal runs of consecutive scans of the stream
that reported it with the same status, severity and suppression. Everything the metrics need is
in the segments (a finding's reappearance, change, or absence from run ``last + 1`` on) plus each
run's scanner statuses, so what reaches Python is proportional to the changes, not to runs x
findings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from secscan.aggregate.history import FindingInfo, RunSnapshot, ScannerRun
from secscan.aggregate.sqldb import Database


@dataclass(frozen=True, kw_only=True)
class Segment:
    """One finding, reported alike by the consecutive runs ``first..last`` of its stream."""

    finding_id: int
    first: int
    """0-based index into the stream's runs (oldest first)."""
    last: int
    status: str
    severity: str
    sup_expires: str | None = None
    """Suppression details: only on a suppressed segment that reaches the stream's newest run."""
    sup_owner: str | None = None
    sup_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class StreamTimeline:
    """One project's runs on one ref (oldest first, without observations) and their segments."""

    project: str
    ref: str
    runs: tuple[RunSnapshot, ...]
    segments: tuple[Segment, ...]
    """Ordered by first run, then finding id."""
    findings: Mapping[int, FindingInfo]


# Gaps and islands: within one finding's observations that share status and severity,
# consecutive run numbers n have a constant n - ROW_NUMBER(); grouping by that difference folds
# each stretch of consecutive runs into one row (one sort for the window, one for the grouping;
# the few hundred rows that come out are ordered in Python).
_SEGMENTS = """
WITH sr AS (
    SELECT id, ROW_NUMBER() OVER (ORDER BY finished_epoch, id) - 1 AS n
    FROM runs WHERE project_id = ? AND ref = ?
), obs AS (
    SELECT o.finding_id AS fid, sr.n AS n, o.status AS st, o.severity AS sv,
           sr.n - ROW_NUMBER() OVER (PARTITION BY o.finding_id, o.status, o.severity ORDER BY sr.n) AS g
    FROM observations o JOIN sr ON sr.id = o.run_id
)
SELECT fid, MIN(n), MAX(n), st, sv FROM obs GROUP BY fid, st, sv, g
"""


def timeline(db: Database, project_id: int, project: str, ref: str) -> StreamTimeline:
    """The compacted history of one stream."""
    run_rows = db.execute(
        "SELECT id, finished_at, finished_epoch, passed, commit_sha, job_url FROM runs"
        " WHERE project_id = ? AND ref = ? ORDER BY finished_epoch, id",
        (project_id, ref),
    ).fetchall()
    scanners: dict[int, list[ScannerRun]] = {}
    for run_id, name, state, error in db.execute(
        "SELECT s.run_id, s.name, s.state, s.error FROM scanner_runs s JOIN runs r ON r.id = s.run_id"
        " WHERE r.project_id = ? AND r.ref = ? ORDER BY s.run_id, s.name",
        (project_id, ref),
    ):
        scanners.setdefault(int(run_id), []).append(ScannerRun(name=name, state=state, error=error))
    # Suppression details matter only as the newest run reports them (expiring acceptances).
    last_sup: dict[int, tuple[str | None, str | None, str | None]] = {}
    if run_rows:
        for fid, sx, so, sre in db.execute(
            "SELECT finding_id, sup_expires, sup_owner, sup_reason FROM observations"
            " WHERE run_id = ? AND status = 'suppressed'",
            (run_rows[-1][0],),
        ):
            last_sup[int(fid)] = (sx, so, sre)
    last_index = len(run_rows) - 1
    rows = sorted(
        (int(first), int(fid), int(last), str(st), str(sv))
        for fid, first, last, st, sv in db.execute(_SEGMENTS, (project_id, ref))
    )
    segments = []
    for first, fid, last, st, sv in rows:
        sx, so, sre = (
            last_sup.get(fid, (None, None, None)) if last == last_index and st == "suppressed" else (None,) * 3
        )
        segments.append(
            Segment(
                finding_id=fid,
                first=first,
                last=last,
                status=st,
                severity=sv,
                sup_expires=sx,
                sup_owner=so,
                sup_reason=sre,
            )
        )
    wanted = {s.finding_id for s in segments}
    findings = {
        int(row[0]): FindingInfo(
            id=int(row[0]),
            fingerprint=row[1],
            kind=row[2],
            scanner=row[3],
            rule_id=row[4],
            title=row[5],
            location=row[6],
            cwes=tuple(x for x in row[7].split(",") if x),
            compliance=tuple(x for x in row[8].split(",") if x),
        )
        for row in db.execute(
            "SELECT id, fingerprint, kind, scanner, rule_id, title, location, cwes, compliance FROM findings"
            " WHERE project_id = ?",
            (project_id,),
        )
        if int(row[0]) in wanted
    }
    runs = tuple(
        RunSnapshot(
            id=int(r[0]),
            finished_at=r[1],
            finished_epoch=int(r[2]),
            passed=None if r[3] is None else bool(r[3]),
            commit_sha=r[4],
            job_url=r[5],
            scanners=tuple(scanners.get(int(r[0]), ())),
            observations=(),
        )
        for r in run_rows
    )
    return StreamTimeline(project=project, ref=ref, runs=runs, segments=tuple(segments), findings=findings)


def iter_timelines(db: Database) -> Iterator[StreamTimeline]:
    """Every stream, one at a time, sorted by project and ref (memory bounded by one stream)."""
    rows = db.execute(
        "SELECT DISTINCT p.id, p.name, r.ref FROM runs r JOIN projects p ON p.id = r.project_id"
    ).fetchall()
    for pid, name, ref in sorted(rows, key=lambda r: (str(r[1]), str(r[2]))):
        yield timeline(db, int(pid), str(name), str(ref))
