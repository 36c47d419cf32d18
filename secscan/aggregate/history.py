"""The history store: every run of every project in one embedded SQLite database.

A run is stored as a snapshot: when it finished, its verdict, how each scanner ended, and every
finding it reported (keyed by fingerprint) with its status and severity. Descriptive fields of a
finding (rule, title, path, CWEs, compliance ids) are stored once per project and fingerprint,
which keeps 200 projects x 100 runs small. Metrics are computed from these snapshots by
:mod:`secscan.aggregate.metrics`; this module only stores and reads.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from secscan import resultio
from secscan.errors import ConfigError, InputError
from secscan.models import Finding, RunResult, Status

SCHEMA_VERSION = "1"
DB_ENV = "SECSCAN_HISTORY_DB"
DEFAULT_REF = "default"

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    ref TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    finished_epoch INTEGER NOT NULL,
    started_at TEXT,
    tool_version TEXT,
    target TEXT,
    passed INTEGER,
    exit_code INTEGER,
    policy TEXT,
    commit_sha TEXT,
    job_url TEXT,
    result_sha256 TEXT NOT NULL,
    UNIQUE (project_id, ref, result_sha256)
);
CREATE INDEX IF NOT EXISTS runs_by_stream ON runs (project_id, ref, finished_epoch);
CREATE TABLE IF NOT EXISTS scanner_runs (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    version TEXT,
    PRIMARY KEY (run_id, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects(id),
    fingerprint TEXT NOT NULL,
    kind TEXT NOT NULL,
    scanner TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    title TEXT NOT NULL,
    location TEXT NOT NULL,
    cwes TEXT NOT NULL,
    compliance TEXT NOT NULL,
    UNIQUE (project_id, fingerprint)
);
CREATE TABLE IF NOT EXISTS observations (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    finding_id INTEGER NOT NULL REFERENCES findings(id),
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    sup_expires TEXT,
    sup_owner TEXT,
    sup_reason TEXT,
    PRIMARY KEY (run_id, finding_id)
) WITHOUT ROWID;
"""


def default_db_path(env: Mapping[str, str]) -> Path:
    """``$SECSCAN_HISTORY_DB``, else ``history.sqlite3`` in the user's data directory."""
    configured = env.get(DB_ENV, "")
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_data_dir("secscan", appauthor=False)) / "history.sqlite3"


def parse_time(value: str, *, what: str) -> datetime:
    """An ISO-8601 timestamp as an aware UTC datetime (naive means UTC); InputError if unusable."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except (ValueError, AttributeError):
        raise InputError(f"{what}: {value!r} is not an ISO-8601 timestamp") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def finding_key(f: Finding) -> str:
    """The fingerprint, or (for results written without one) a stable stand-in without line numbers."""
    if f.fingerprint:
        return f.fingerprint
    loc = f.location
    parts = (f.kind.value, f.scanner, f.rule_id, loc.path or "", loc.package or "", loc.url or "", loc.param or "")
    return "nofp:" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _where(f: Finding) -> str:
    loc = f.location
    if loc.package:
        return f"{loc.package} {loc.version or ''}".strip()
    if loc.url:
        return f"{loc.method + ' ' if loc.method else ''}{loc.url}"
    return loc.path or ""


_OPEN = (Status.NEW, Status.EXISTING)
_STATUS_RANK = {Status.NEW: 3, Status.EXISTING: 3, Status.SUPPRESSED: 2, Status.FIXED: 1}


# ---------------------------------------------------------------- read model


@dataclass(frozen=True, kw_only=True)
class FindingInfo:
    """What a finding is (stored once per project and fingerprint, latest description wins)."""

    id: int
    fingerprint: str
    kind: str
    scanner: str
    rule_id: str
    title: str
    location: str
    cwes: tuple[str, ...]
    compliance: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Observation:
    """One finding as one run reported it."""

    finding_id: int
    status: str
    severity: str
    sup_expires: str | None = None
    sup_owner: str | None = None
    sup_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class ScannerRun:
    name: str
    state: str
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class RunSnapshot:
    id: int
    finished_at: str
    finished_epoch: int
    passed: bool | None
    commit_sha: str | None
    job_url: str | None
    scanners: tuple[ScannerRun, ...]
    observations: tuple[Observation, ...]


@dataclass(frozen=True, kw_only=True)
class StreamHistory:
    """All runs of one project on one ref, oldest first, plus the findings they mention."""

    project: str
    ref: str
    runs: tuple[RunSnapshot, ...]
    findings: Mapping[int, FindingInfo]


@dataclass(frozen=True, kw_only=True)
class AddOutcome:
    run_id: int
    added: bool
    """False when this exact result was already stored for the project and ref."""
    project: str
    ref: str
    finished_at: str
    findings: int


_TABLES = frozenset({"meta", "projects", "runs", "scanner_runs", "findings", "observations"})


# ---------------------------------------------------------------- the store


class History:
    """An open history database. Use as a context manager; every ``add`` is one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path)
        except (OSError, sqlite3.Error) as e:
            raise ConfigError(f"cannot open history database {self.path}: {e}") from e
        try:
            # Another application's SQLite file (the advisory database, say) is refused before
            # anything is written into it.
            tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            foreign = sorted(t for t in tables - _TABLES if not t.startswith("sqlite_"))
            if foreign:
                raise ConfigError(
                    f"{self.path} is not a secscan history database (it has tables {', '.join(foreign[:5])})"
                )
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA journal_mode = WAL")  # readers (dashboard) never block a writer
            # In WAL mode NORMAL cannot corrupt the database; a power cut may lose the last runs
            # added, which `history add` / `aggregate` simply add again (adds are idempotent).
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.executescript(_DDL)
            row = self.db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self.db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
                self.db.commit()
            elif row[0] != SCHEMA_VERSION:
                raise ConfigError(
                    f"{self.path}: history schema version {row[0]} is not supported (expected {SCHEMA_VERSION})"
                )
        except ConfigError:
            self.db.close()
            raise
        except sqlite3.DatabaseError as e:
            self.db.close()
            raise ConfigError(f"{self.path} is not a secscan history database: {e}") from e

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ writing

    def _project_id(self, name: str) -> int:
        self.db.execute("INSERT OR IGNORE INTO projects (name) VALUES (?)", (name,))
        row = self.db.execute("SELECT id FROM projects WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    def add(
        self,
        result: RunResult,
        *,
        project: str,
        ref: str | None = None,
        finished_at: str | None = None,
        digest: str | None = None,
    ) -> AddOutcome:
        """Store one run. Adding the same result again for the same project and ref is a no-op.

        ``finished_at`` overrides the result's own time (backfilling old results); ``digest``
        identifies the result (default: SHA-256 of its canonical serialization).
        """
        project = project.strip()
        if not project:
            raise ConfigError("a project name is required")
        meta = result.meta_dict()
        ref = (ref or meta.get("ci_commit_ref_name") or meta.get("ci_commit_branch") or DEFAULT_REF).strip()
        when_text = finished_at or result.finished_at
        if not when_text:
            raise InputError("the result has no finished_at time; give one with --at")
        when = parse_time(when_text, what="finished_at")
        digest = digest or hashlib.sha256(resultio.dumps(result).encode("utf-8")).hexdigest()
        v = result.verdict
        with self.db:  # one transaction: a crash never leaves half a run
            pid = self._project_id(project)
            existing = self.db.execute(
                "SELECT id, finished_at FROM runs WHERE project_id = ? AND ref = ? AND result_sha256 = ?",
                (pid, ref, digest),
            ).fetchone()
            if existing is not None:
                return AddOutcome(
                    run_id=int(existing[0]),
                    added=False,
                    project=project,
                    ref=ref,
                    finished_at=existing[1],
                    findings=len(result.findings),
                )
            cur = self.db.execute(
                "INSERT INTO runs (project_id, ref, finished_at, finished_epoch, started_at, tool_version, target,"
                " passed, exit_code, policy, commit_sha, job_url, result_sha256)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    pid,
                    ref,
                    iso(when),
                    int(when.timestamp()),
                    result.started_at,
                    result.tool_version,
                    result.target,
                    None if v is None else int(v.passed),
                    None if v is None else v.exit_code,
                    None if v is None else v.policy,
                    meta.get("ci_commit_sha"),
                    meta.get("ci_job_url"),
                    digest,
                ),
            )
            run_id = int(cur.lastrowid or 0)
            self.db.executemany(
                "INSERT OR REPLACE INTO scanner_runs (run_id, name, state, error, version) VALUES (?, ?, ?, ?, ?)",
                [(run_id, s.name, s.state.value, s.error, s.version) for s in result.scanners],
            )
            # One observation per fingerprint: if dedupe left two, the open / worse one counts.
            chosen: dict[str, Finding] = {}
            for f in result.findings:
                key = finding_key(f)
                old = chosen.get(key)
                if old is None or (_STATUS_RANK[f.status], f.severity.rank) > (
                    _STATUS_RANK[old.status],
                    old.severity.rank,
                ):
                    chosen[key] = f
            rows = []
            for key, f in chosen.items():
                fid = self.db.execute(
                    "INSERT INTO findings (project_id, fingerprint, kind, scanner, rule_id, title, location, cwes,"
                    " compliance) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (project_id, fingerprint) DO UPDATE SET kind = excluded.kind,"
                    " scanner = excluded.scanner, rule_id = excluded.rule_id, title = excluded.title,"
                    " location = excluded.location, cwes = excluded.cwes, compliance = excluded.compliance"
                    " RETURNING id",
                    (
                        pid,
                        key,
                        f.kind.value,
                        f.scanner,
                        f.rule_id,
                        f.title,
                        _where(f),
                        ",".join(f.cwe_ids()),
                        ",".join(f.compliance),
                    ),
                ).fetchone()[0]
                s = f.suppression
                rows.append(
                    (
                        run_id,
                        fid,
                        f.status.value,
                        f.severity.value,
                        s.expires if s else None,
                        s.owner if s else None,
                        s.reason if s else None,
                    )
                )
            self.db.executemany(
                "INSERT INTO observations (run_id, finding_id, status, severity, sup_expires, sup_owner, sup_reason)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return AddOutcome(
            run_id=run_id, added=True, project=project, ref=ref, finished_at=iso(when), findings=len(chosen)
        )

    # ------------------------------------------------------------ reading

    def streams(self) -> list[tuple[str, str]]:
        """Every (project, ref) with at least one run, sorted."""
        rows = self.db.execute(
            "SELECT DISTINCT p.name, r.ref FROM runs r JOIN projects p ON p.id = r.project_id ORDER BY p.name, r.ref"
        ).fetchall()
        return [(str(a), str(b)) for a, b in rows]

    def counts(self) -> tuple[int, int]:
        """(projects with runs, runs)."""
        row = self.db.execute("SELECT COUNT(DISTINCT project_id), COUNT(*) FROM runs").fetchone()
        return int(row[0]), int(row[1])

    def stream(self, project: str, ref: str) -> StreamHistory:
        """One project's runs on one ref, oldest first (ties broken by insertion order)."""
        prow = self.db.execute("SELECT id FROM projects WHERE name = ?", (project,)).fetchone()
        if prow is None:
            return StreamHistory(project=project, ref=ref, runs=(), findings={})
        pid = int(prow[0])
        run_rows = self.db.execute(
            "SELECT id, finished_at, finished_epoch, passed, commit_sha, job_url FROM runs"
            " WHERE project_id = ? AND ref = ? ORDER BY finished_epoch, id",
            (pid, ref),
        ).fetchall()
        scanners: dict[int, list[ScannerRun]] = {}
        for run_id, name, state, error in self.db.execute(
            "SELECT s.run_id, s.name, s.state, s.error FROM scanner_runs s JOIN runs r ON r.id = s.run_id"
            " WHERE r.project_id = ? AND r.ref = ? ORDER BY s.run_id, s.name",
            (pid, ref),
        ):
            scanners.setdefault(run_id, []).append(ScannerRun(name=name, state=state, error=error))
        obs: dict[int, list[Observation]] = {}
        for run_id, fid, status, sev, exp, owner, reason in self.db.execute(
            "SELECT o.run_id, o.finding_id, o.status, o.severity, o.sup_expires, o.sup_owner, o.sup_reason"
            " FROM observations o JOIN runs r ON r.id = o.run_id WHERE r.project_id = ? AND r.ref = ?",
            (pid, ref),
        ):
            obs.setdefault(run_id, []).append(
                Observation(
                    finding_id=fid, status=status, severity=sev, sup_expires=exp, sup_owner=owner, sup_reason=reason
                )
            )
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
            for row in self.db.execute(
                "SELECT id, fingerprint, kind, scanner, rule_id, title, location, cwes, compliance FROM findings"
                " WHERE project_id = ?",
                (pid,),
            )
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
                observations=tuple(obs.get(int(r[0]), ())),
            )
            for r in run_rows
        )
        return StreamHistory(project=project, ref=ref, runs=runs, findings=findings)

    def iter_streams(self) -> Iterator[StreamHistory]:
        """Every stream, one at a time (so memory stays bounded by the largest project)."""
        for project, ref in self.streams():
            yield self.stream(project, ref)


def add_file(
    history: History, path: Path, *, project: str, ref: str | None = None, at: str | None = None
) -> AddOutcome:
    """Load a ``secscan.json`` and store it (the digest is of the file's bytes as given)."""
    try:
        raw = Path(path).read_bytes()  # read once: the digest and the parse see the same bytes
    except OSError as e:
        raise InputError(f"cannot read {path}: {e.strerror or e}") from e
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text ({e.reason})") from e
    result = resultio.loads(text, origin=str(path))
    digest = hashlib.sha256(raw).hexdigest()
    return history.add(result, project=project, ref=ref, finished_at=at, digest=digest)
