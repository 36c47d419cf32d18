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


# PostgreSQL: gaps and islands. Within one finding's observations that share status and
# severity, consecutive run numbers n have a constant n - ROW_NUMBER(); grouping by that
# difference folds each stretch of consecutive runs into one row.
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

# SQLite: its window sorts are slow, its primary-key lookups fast. Keep only the observations
# that start or end a segment (the previous / next run of the stream did not report the finding
# alike: one lookup each in the (run_id, finding_id) key); Python pairs starts with ends. Twice
# as fast as the window query on SQLite, and many times slower on PostgreSQL (hash joins over
# the whole table), hence one query per engine. Both give the same segments (tested).
_BOUNDARIES = """
WITH sr AS (
    SELECT id, ROW_NUMBER() OVER w - 1 AS n, LAG(id) OVER w AS prev_id, LEAD(id) OVER w AS next_id
    FROM runs WHERE project_id = ? AND ref = ?
    WINDOW w AS (ORDER BY finished_epoch, id)
)
SELECT o.finding_id, sr.n, o.status, o.severity,
       CASE WHEN p.finding_id IS NULL THEN 1 ELSE 0 END, CASE WHEN x.finding_id IS NULL THEN 1 ELSE 0 END
FROM sr JOIN observations o ON o.run_id = sr.id
LEFT JOIN observations p ON p.run_id = sr.prev_id AND p.finding_id = o.finding_id
     AND p.status = o.status AND p.severity = o.severity
LEFT JOIN observations x ON x.run_id = sr.next_id AND x.finding_id = o.finding_id
     AND x.status = o.status AND x.severity = o.severity
WHERE p.finding_id IS NULL OR x.finding_id IS NULL
"""


def _segment_rows(db: Database, project_id: int, ref: str) -> list[tuple[int, int, int, str, str]]:
    """(first, finding id, last, status, severity) of every segment, sorted."""
    if db.dialect == "postgresql":
        return sorted(
            (int(first), int(fid), int(last), str(st), str(sv))
            for fid, first, last, st, sv in db.execute(_SEGMENTS, (project_id, ref))
        )
    started: dict[int, int] = {}
    out = []
    rows = db.execute(_BOUNDARIES, (project_id, ref)).fetchall()
    # By finding, then run: a segment's start row comes before (or is) its end row.
    for fid, n, st, sv, starts, ends in sorted(rows, key=lambda r: (int(r[0]), int(r[1]))):
        if starts:
            started[int(fid)] = int(n)
        if ends:
            out.append((started.pop(int(fid)), int(fid), int(n), str(st), str(sv)))
    return sorted(out)


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
    segments = []
    for first, fid, last, st, sv in _segment_rows(db, project_id, ref):
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
