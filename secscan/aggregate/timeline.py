"""A stream's history as the database compacts it, for the dashboard.

A year of daily runs reports the same finding, unchanged, hundreds of times. Instead of sending
every observation to Python, the database (window functions, on either store) folds the
observations of each finding into **segments**: maximal runs of consecutive scans of the stream
that reported it with the same status and severity. Everything the metrics need is
in the segments (a finding's reappearance, change, or absence from run ``last + 1`` on) plus each
run's scanner statuses, so what reaches Python is proportional to the changes, not to runs x
findings. Streams are read a few projects at a time: five queries per batch (not per stream)
keep round trips to a database server few, and memory bounded by the batch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from secscan.aggregate.history import FINDING_INFO_COLS, FindingInfo, RunSnapshot, ScannerRun, finding_info, load_scopes
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


# Projects per batch of queries. Small on purpose: a year of one project's observations sorts in
# about 1 MB, so a batch of four stays inside PostgreSQL's default work_mem (4 MB) instead of
# spilling to disk, while still cutting round trips fourfold (measured: larger batches were no
# faster on either engine).
BATCH = 4

# PostgreSQL: gaps and islands. Within one finding's observations (in one stream) that share
# status and severity, consecutive run numbers n have a constant n - ROW_NUMBER(); grouping by
# that difference folds each stretch of consecutive runs into one row.
_SEGMENTS = """
WITH sr AS (
    SELECT id, project_id, ref,
           ROW_NUMBER() OVER (PARTITION BY project_id, ref ORDER BY finished_epoch, id) - 1 AS n
    FROM runs WHERE project_id IN ({marks})
), obs AS (
    SELECT sr.project_id AS pid, sr.ref AS ref, o.finding_id AS fid, sr.n AS n, o.status AS st, o.severity AS sv,
           sr.n - ROW_NUMBER() OVER (PARTITION BY sr.ref, o.finding_id, o.status, o.severity ORDER BY sr.n) AS g
    FROM observations o JOIN sr ON sr.id = o.run_id
)
SELECT pid, ref, fid, MIN(n), MAX(n), st, sv FROM obs GROUP BY pid, ref, fid, st, sv, g
"""

# SQLite: its window sorts are slow, its primary-key lookups fast. Keep only the observations
# that start or end a segment (the previous / next run of the stream did not report the finding
# alike: one lookup each in the (run_id, finding_id) key); Python pairs starts with ends. Twice
# as fast as the window query on SQLite, and many times slower on PostgreSQL (hash joins over
# the whole table), hence one query per engine. Both give the same segments (tested).
_BOUNDARIES = """
WITH sr AS (
    SELECT id, project_id, ref, ROW_NUMBER() OVER w - 1 AS n, LAG(id) OVER w AS prev_id, LEAD(id) OVER w AS next_id
    FROM runs WHERE project_id IN ({marks})
    WINDOW w AS (PARTITION BY project_id, ref ORDER BY finished_epoch, id)
)
SELECT sr.project_id, sr.ref, o.finding_id, sr.n, o.status, o.severity,
       CASE WHEN p.finding_id IS NULL THEN 1 ELSE 0 END, CASE WHEN x.finding_id IS NULL THEN 1 ELSE 0 END
FROM sr JOIN observations o ON o.run_id = sr.id
LEFT JOIN observations p ON p.run_id = sr.prev_id AND p.finding_id = o.finding_id
     AND p.status = o.status AND p.severity = o.severity
LEFT JOIN observations x ON x.run_id = sr.next_id AND x.finding_id = o.finding_id
     AND x.status = o.status AND x.severity = o.severity
WHERE p.finding_id IS NULL OR x.finding_id IS NULL
"""

# Suppression details matter only as the newest run of a stream reports them (expiring acceptances).
_LAST_SUPPRESSED = """
WITH last AS (
    SELECT id FROM (
        SELECT id, ROW_NUMBER() OVER (PARTITION BY project_id, ref ORDER BY finished_epoch DESC, id DESC) AS rn
        FROM runs WHERE project_id IN ({marks})
    ) x WHERE x.rn = 1
)
SELECT o.run_id, o.finding_id, o.sup_expires, o.sup_owner, o.sup_reason
FROM observations o JOIN last ON last.id = o.run_id WHERE o.status = 'suppressed'
"""

_Key = tuple[int, str]
_SegRow = tuple[int, int, int, str, str]
"""(first, finding id, last, status, severity)."""


# Placeholders are filled in by _sql; the columns are the history's fixed list.
_FINDINGS_OF = "SELECT project_id, " + FINDING_INFO_COLS + " FROM findings WHERE project_id IN ({marks})"  # noqa: S608


def _sql(template: str, n: int) -> str:
    return template.format(marks=", ".join("?" for _ in range(n)))


def _segment_rows(db: Database, pids: list[int]) -> dict[_Key, list[_SegRow]]:
    """Every segment of the projects' streams, by stream, sorted."""
    out: dict[_Key, list[_SegRow]] = defaultdict(list)
    if db.dialect == "postgresql":
        for pid, ref, fid, first, last, st, sv in db.execute(_sql(_SEGMENTS, len(pids)), pids):
            out[(int(pid), str(ref))].append((int(first), int(fid), int(last), str(st), str(sv)))
    else:
        started: dict[tuple[int, str, int], int] = {}
        rows = db.execute(_sql(_BOUNDARIES, len(pids)), pids).fetchall()
        # By stream, finding, then run: a segment's start row comes before (or is) its end row.
        for pid, ref, fid, n, st, sv, starts, ends in sorted(
            rows, key=lambda r: (int(r[0]), str(r[1]), int(r[2]), int(r[3]))
        ):
            key = (int(pid), str(ref), int(fid))
            if starts:
                started[key] = int(n)
            if ends:
                out[(int(pid), str(ref))].append((started.pop(key), int(fid), int(n), str(st), str(sv)))
    for rows_of in out.values():
        rows_of.sort()
    return out


def _batch(db: Database, streams: list[tuple[int, str, str]]) -> Iterator[StreamTimeline]:
    """The timelines of ``streams`` ((project id, name, ref), all refs of their projects), in order."""
    pids = sorted({pid for pid, _, _ in streams})
    marks = ", ".join("?" for _ in pids)
    runs_of: dict[_Key, list[RunSnapshot]] = defaultdict(list)
    scanners: dict[int, list[ScannerRun]] = defaultdict(list)
    for run_id, name, state, error in db.execute(
        "SELECT s.run_id, s.name, s.state, s.error FROM scanner_runs s JOIN runs r ON r.id = s.run_id"  # noqa: S608
        f" WHERE r.project_id IN ({marks}) ORDER BY s.run_id, s.name",
        pids,
    ):
        scanners[int(run_id)].append(ScannerRun(name=name, state=state, error=error))
    scopes = load_scopes(db, pids)
    for pid, ref, run_id, finished_at, epoch, passed, commit_sha, job_url in db.execute(
        "SELECT project_id, ref, id, finished_at, finished_epoch, passed, commit_sha, job_url FROM runs"  # noqa: S608
        f" WHERE project_id IN ({marks}) ORDER BY project_id, ref, finished_epoch, id",
        pids,
    ):
        runs_of[(int(pid), str(ref))].append(
            scopes.scoped(
                RunSnapshot(
                    id=int(run_id),
                    finished_at=finished_at,
                    finished_epoch=int(epoch),
                    passed=None if passed is None else bool(passed),
                    commit_sha=commit_sha,
                    job_url=job_url,
                    scanners=tuple(scanners.pop(int(run_id), ())),
                    observations=(),
                )
            )
        )
    last_sup: dict[tuple[int, int], tuple[str | None, str | None, str | None]] = {}
    for run_id, fid, sx, so, sre in db.execute(_sql(_LAST_SUPPRESSED, len(pids)), pids):
        last_sup[(int(run_id), int(fid))] = (sx, so, sre)
    findings_of: dict[int, dict[int, FindingInfo]] = defaultdict(dict)
    for row in db.execute(
        _sql(_FINDINGS_OF, len(pids)),
        pids,
    ):
        findings_of[int(row[0])][int(row[1])] = finding_info(tuple(row[1:]))
    segs_of = _segment_rows(db, pids)
    none3: tuple[str | None, str | None, str | None] = (None, None, None)
    for pid, name, ref in streams:
        runs = tuple(runs_of.get((pid, ref), ()))
        last_index = len(runs) - 1
        last_id = runs[-1].id if runs else -1
        segments = []
        for first, fid, last, st, sv in segs_of.get((pid, ref), ()):
            sup = last_sup.get((last_id, fid), none3) if last == last_index and st == "suppressed" else none3
            segments.append(
                Segment(
                    finding_id=fid,
                    first=first,
                    last=last,
                    status=st,
                    severity=sv,
                    sup_expires=sup[0],
                    sup_owner=sup[1],
                    sup_reason=sup[2],
                )
            )
        wanted = {s.finding_id for s in segments}
        project_findings = findings_of.get(pid, {})
        yield StreamTimeline(
            project=name,
            ref=ref,
            runs=runs,
            segments=tuple(segments),
            findings={fid: info for fid, info in project_findings.items() if fid in wanted},
        )


def iter_timelines(db: Database, *, batch: int = BATCH, project: str | None = None) -> Iterator[StreamTimeline]:
    """Every stream (of ``project``), sorted by project and ref, a batch of projects at a time."""
    sql = "SELECT DISTINCT p.id, p.name, r.ref FROM runs r JOIN projects p ON p.id = r.project_id"
    rows = db.execute(sql + " WHERE p.name = ?", (project,)).fetchall() if project else db.execute(sql).fetchall()
    streams = sorted(((int(pid), str(name), str(ref)) for pid, name, ref in rows), key=lambda s: (s[1], s[2]))
    chunk: list[tuple[int, str, str]] = []
    projects: set[int] = set()
    for stream in streams:
        # A batch ends at a project boundary: all refs of a project are read together.
        if stream[0] not in projects and len(projects) >= batch:
            yield from _batch(db, chunk)
            chunk, projects = [], set()
        chunk.append(stream)
        projects.add(stream[0])
    if chunk:
        yield from _batch(db, chunk)
