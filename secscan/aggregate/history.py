"""The history store: every run of every project, in an SQLite file or a PostgreSQL database.

A run is stored as a snapshot: when it finished, its verdict, how each scanner ended, and every
finding it reported (keyed by fingerprint) with its status and severity. Descriptive fields of a
finding (rule, title, path, CWEs, compliance ids) are stored once per project and fingerprint,
which keeps 200 projects x 100 runs small. Metrics are computed from these snapshots by
:mod:`secscan.aggregate.metrics`; this module only stores and reads.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from secscan import dbtarget, resultio
from secscan.aggregate import migrations, sqldb
from secscan.aggregate.sqldb import Database
from secscan.dbtarget import DbTarget
from secscan.errors import ConfigError, InputError
from secscan.models import Finding, NarrowedTestCode, RunResult, ScannerRules, Status
from secscan.testcode import rule_ran

if TYPE_CHECKING:
    from secscan.aggregate.timeline import StreamTimeline

DEFAULT_REF = "default"
DB_ENV = dbtarget.DB_ENV
# Rows per multi-row INSERT: far below SQLite's bound-variable limit (32766) at 10 columns a row.
_CHUNK = 400


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
    path: str = ""
    """The file it is in (a dependency: its manifest); "" when it has none (a URL)."""


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
    paths: frozenset[str] | None = None
    """The files the run covered when it was partial (--changed-only, a shard); None: all."""
    incomplete: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Per scanner, the files it could not complete (``path (why)``, as the result names them)."""
    changed_only: bool = False
    shard: str | None = None
    test_code: NarrowedTestCode | None = None
    """How the run read test code when not with every rule (None: every rule everywhere)."""

    def covers(self, info: FindingInfo) -> bool:
        """Whether this run looked for ``info``: its scanner ran (cleanly, or incomplete
        elsewhere), its file was in the run's scope and, in test code, its rule ran there. Only
        such a run can say it is fixed."""
        if self.paths is not None and (not info.path or info.path not in self.paths):
            return False
        if not rule_ran(self.test_code, scanner=info.scanner, rule_id=info.rule_id, path=info.path):
            return False
        if not self.scanners:
            return True  # an imported result without scanner statuses: taken at its word
        states = {s.state for s in self.scanners if s.name == info.scanner}
        entries = self.incomplete.get(info.scanner, ())
        if "ok" not in states and not entries:
            return False
        if states & {"timeout", "not_installed"} or ("failed" in states and not entries):
            return False  # some part of it crashed: nothing it did not report is known fixed
        return not any(e.startswith(f"{info.path} (") for e in entries)


def narrowed_spec(test_code: NarrowedTestCode) -> str:
    """The stored text of a run's :class:`NarrowedTestCode`: canonical, so runs share one row."""
    doc = {
        "test_paths": list(test_code.test_paths),
        "production": sorted(test_code.production),
        "rules": {r.scanner: sorted(r.rules) for r in test_code.rules},
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"))


def parse_narrowed(spec: str) -> NarrowedTestCode:
    """The inverse of :func:`narrowed_spec`."""
    doc = json.loads(spec)
    return NarrowedTestCode(
        test_paths=tuple(doc["test_paths"]),
        production=tuple(doc["production"]),
        rules=tuple(ScannerRules(scanner=k, rules=tuple(v)) for k, v in sorted(doc["rules"].items())),
    )


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


@dataclass(frozen=True, kw_only=True)
class PruneOutcome:
    cutoff: str
    """Runs that finished before this time were candidates."""
    runs_removed: int
    runs_kept_latest: int
    """Old runs kept because they are the newest run of their project and ref."""
    findings_removed: int


FINDING_INFO_COLS = "id, fingerprint, kind, scanner, rule_id, title, location, cwes, compliance, path"


def finding_info(row: tuple[object, ...]) -> FindingInfo:
    """A :class:`FindingInfo` from a row of :data:`FINDING_INFO_COLS`."""
    return FindingInfo(
        id=int(str(row[0])),
        fingerprint=str(row[1]),
        kind=str(row[2]),
        scanner=str(row[3]),
        rule_id=str(row[4]),
        title=str(row[5]),
        location=str(row[6]),
        cwes=tuple(x for x in str(row[7]).split(",") if x),
        compliance=tuple(x for x in str(row[8]).split(",") if x),
        path=str(row[9] or ""),
    )


@dataclass(frozen=True, kw_only=True)
class RunScopes:
    """The scope of every run of some projects, as stored (partial runs' files, incomplete files)."""

    partial: Mapping[int, tuple[bool, str | None]]
    """Run id -> (changed only, shard) for runs that covered part of the tree."""
    paths: Mapping[int, frozenset[str]]
    incomplete: Mapping[int, dict[str, tuple[str, ...]]]
    test_code: Mapping[int, NarrowedTestCode] = field(default_factory=dict)
    """Run id -> how it read test code, for runs that read it with fewer than every rule."""

    def scoped(self, run: RunSnapshot) -> RunSnapshot:
        """``run`` with its scope filled in (unchanged for a whole-tree run that completed)."""
        part = self.partial.get(run.id)
        gaps = self.incomplete.get(run.id)
        tests = self.test_code.get(run.id)
        if part is None and gaps is None and tests is None:
            return run
        return replace(
            run,
            paths=None if part is None else self.paths.get(run.id, frozenset()),
            incomplete=gaps or {},
            changed_only=bool(part and part[0]),
            shard=part[1] if part else None,
            test_code=tests,
        )


def load_scopes(db: Database, pids: list[int]) -> RunScopes:
    """The scopes of the runs of projects ``pids``: only partial runs have rows to read."""
    marks = ", ".join("?" for _ in pids)
    partial: dict[int, tuple[bool, str | None]] = {}
    for run_id, changed, shard in db.execute(
        f"SELECT id, scope_changed_only, scope_shard FROM runs WHERE project_id IN ({marks}) AND scope_partial = 1",  # noqa: S608
        pids,
    ):
        partial[int(run_id)] = (bool(changed), shard)
    paths: dict[int, set[str]] = {}
    if partial:
        for run_id, path in db.execute(
            "SELECT p.run_id, p.path FROM run_paths p JOIN runs r ON r.id = p.run_id"  # noqa: S608
            f" WHERE r.project_id IN ({marks}) AND r.scope_partial = 1",
            pids,
        ):
            paths.setdefault(int(run_id), set()).add(str(path))
    incomplete: dict[int, dict[str, list[str]]] = {}
    for run_id, scanner, entry in db.execute(
        "SELECT i.run_id, i.scanner, i.entry FROM run_incomplete i JOIN runs r ON r.id = i.run_id"  # noqa: S608
        f" WHERE r.project_id IN ({marks}) ORDER BY i.run_id, i.scanner, i.entry",
        pids,
    ):
        incomplete.setdefault(int(run_id), {}).setdefault(str(scanner), []).append(str(entry))
    specs: dict[int, NarrowedTestCode] = {}
    test_code: dict[int, NarrowedTestCode] = {}
    for run_id, spec_id, spec in db.execute(
        "SELECT r.id, t.id, t.spec FROM runs r JOIN test_scopes t ON t.id = r.scope_test_id"  # noqa: S608
        f" WHERE r.project_id IN ({marks})",
        pids,
    ):
        known = specs.get(int(spec_id))
        if known is None:
            known = specs[int(spec_id)] = parse_narrowed(str(spec))
        test_code[int(run_id)] = known
    return RunScopes(
        partial=partial,
        paths={k: frozenset(v) for k, v in paths.items()},
        incomplete={k: {n: tuple(e) for n, e in v.items()} for k, v in incomplete.items()},
        test_code=test_code,
    )


# The audit trail must keep a year (PCI DSS 10.5.1): retention never goes below it.
MIN_KEEP_DAYS = 365

_FINDING_COLS = "project_id, fingerprint, kind, scanner, rule_id, title, location, cwes, compliance, path"
_DESCRIPTION = ("kind", "scanner", "rule_id", "title", "location", "cwes", "compliance", "path")


# ---------------------------------------------------------------- the store


class History:
    """An open history database (SQLite file or PostgreSQL). Use as a context manager.

    Every ``add`` is one transaction, retried on a transient conflict with a concurrent writer.
    """

    def __init__(self, target: DbTarget | Path | str) -> None:
        if isinstance(target, Path):
            target = DbTarget(kind="sqlite", path=target)
        elif isinstance(target, str):
            target = dbtarget.parse_target(target)
        self.target = target
        self.db: Database = sqldb.connect(target)
        try:
            migrations.migrate(self.db)
        except BaseException:
            self.db.close()
            raise

    @property
    def path(self) -> Path | None:
        return self.target.path

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ writing

    def _project_id(self, name: str) -> int:
        self.db.execute("INSERT INTO projects (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (name,))
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
        scope = result.scope
        run_row = (
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
            int(scope is not None and scope.partial),
            int(scope is not None and scope.changed_only),
            None if scope is None else scope.shard,
        )
        spec = None if scope is None or scope.test_code is None else narrowed_spec(scope.test_code)
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
        # Sorted: concurrent writers lock finding rows in one order, so they cannot deadlock.
        keys = sorted(chosen)

        def work() -> AddOutcome:
            with self.db.transaction():  # one transaction: a crash never leaves half a run
                pid = self._project_id(project)
                row = self.db.execute(
                    "INSERT INTO runs (project_id, ref, finished_at, finished_epoch, started_at, tool_version,"
                    " target, passed, exit_code, policy, commit_sha, job_url, result_sha256, scope_partial,"
                    " scope_changed_only, scope_shard, scope_test_id)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (project_id, ref, result_sha256) DO NOTHING RETURNING id",
                    (pid, *run_row, None if spec is None else self._test_scope_id(spec)),
                ).fetchone()
                if row is None:  # stored before (maybe a moment ago by a concurrent job)
                    existing = self.db.execute(
                        "SELECT id, finished_at FROM runs WHERE project_id = ? AND ref = ? AND result_sha256 = ?",
                        (pid, ref, digest),
                    ).fetchone()
                    return AddOutcome(
                        run_id=int(existing[0]),
                        added=False,
                        project=project,
                        ref=ref,
                        finished_at=str(existing[1]),
                        findings=len(result.findings),
                    )
                run_id = int(row[0])
                self.db.executemany(
                    "INSERT INTO scanner_runs (run_id, name, state, error, version) VALUES (?, ?, ?, ?, ?)"
                    " ON CONFLICT (run_id, name) DO UPDATE SET state = excluded.state, error = excluded.error,"
                    " version = excluded.version",
                    [(run_id, s.name, s.state.value, s.error, s.version) for s in result.scanners],
                )
                self._store_scope(run_id, result)
                ids = self._finding_ids(pid, [(k, chosen[k]) for k in keys], epoch=int(when.timestamp()))
                rows = []
                for key in keys:
                    f = chosen[key]
                    s = f.suppression
                    rows.append(
                        (
                            run_id,
                            ids[key],
                            f.status.value,
                            f.severity.value,
                            s.expires if s else None,
                            s.owner if s else None,
                            s.reason if s else None,
                        )
                    )
                self.db.executemany(
                    "INSERT INTO observations (run_id, finding_id, status, severity, sup_expires, sup_owner,"
                    " sup_reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            return AddOutcome(
                run_id=run_id, added=True, project=project, ref=ref, finished_at=iso(when), findings=len(chosen)
            )

        return self.db.retrying(work)

    def _test_scope_id(self, spec: str) -> int:
        """The row of a test-code record, shared by every run that read test code alike."""
        self.db.execute("INSERT INTO test_scopes (spec) VALUES (?) ON CONFLICT (spec) DO NOTHING", (spec,))
        return int(self.db.execute("SELECT id FROM test_scopes WHERE spec = ?", (spec,)).fetchone()[0])

    def _store_scope(self, run_id: int, result: RunResult) -> None:
        """The files a partial run covered, and the files each scanner could not complete."""
        if result.scope is not None and result.scope.paths is not None:
            self.db.executemany(
                "INSERT INTO run_paths (run_id, path) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(run_id, p) for p in sorted(set(result.scope.paths))],
            )
        incomplete = sorted({(s.name, e) for s in result.scanners for e in s.incomplete_files})
        if incomplete:
            self.db.executemany(
                "INSERT INTO run_incomplete (run_id, scanner, entry) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(run_id, name, e) for name, e in incomplete],
            )

    def _finding_ids(self, pid: int, items: list[tuple[str, Finding]], *, epoch: int) -> dict[str, int]:
        """Upsert the findings' descriptions (latest wins) and return their ids by key.

        Multi-row statements: a run's 25 findings cost two round trips, not 25. A row whose
        description did not change is not rewritten (no dead row versions in PostgreSQL).
        """
        ids: dict[str, int] = {}
        places: list[tuple[int, str, int]] = []
        where = {key: _where(f) for key, f in items}
        changed = " OR ".join(f"findings.{c} <> excluded.{c}" for c in _DESCRIPTION)
        updates = ", ".join(f"{c} = excluded.{c}" for c in _DESCRIPTION)
        for i in range(0, len(items), _CHUNK):
            chunk = items[i : i + _CHUNK]
            params: list[object] = []
            for key, f in chunk:
                params += [pid, key, f.kind.value, f.scanner, f.rule_id, f.title, _where(f)]
                params += [",".join(f.cwe_ids()), ",".join(f.compliance), f.location.path or ""]
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
            for fid, fp in self.db.execute(
                f"INSERT INTO findings ({_FINDING_COLS}) VALUES {values}"  # noqa: S608 - placeholders only
                f" ON CONFLICT (project_id, fingerprint) DO UPDATE SET {updates} WHERE {changed}"
                " RETURNING id, fingerprint",
                params,
            ):
                ids[str(fp)] = int(fid)
                # New, or its description changed: maybe a new place (kept for its finding page).
                places.append((int(fid), where[str(fp)], epoch))
            missing = [k for k, _ in chunk if k not in ids]
            if missing:
                marks = ", ".join(["?"] * len(missing))
                for fid, fp in self.db.execute(
                    f"SELECT id, fingerprint FROM findings WHERE project_id = ? AND fingerprint IN ({marks})",  # noqa: S608
                    [pid, *missing],
                ):
                    ids[str(fp)] = int(fid)
        if places:
            # A backfilled older run may have seen the place first: keep the earliest time.
            self.db.executemany(
                "INSERT INTO finding_locations (finding_id, location, first_epoch) VALUES (?, ?, ?)"
                " ON CONFLICT (finding_id, location) DO UPDATE SET first_epoch = excluded.first_epoch"
                " WHERE excluded.first_epoch < finding_locations.first_epoch",
                places,
            )
        return ids

    def prune(self, *, keep_days: int, now: datetime) -> PruneOutcome:
        """Remove runs older than ``keep_days`` (and findings no run mentions any more).

        Never removed: the audit trail (its own table; a hash chain loses nothing), any run of
        the last :data:`MIN_KEEP_DAYS` days (ConfigError below that), and the newest run of each
        project and ref, however old: it is the project's current state, and dropping it would
        hide exactly the stale project the compliance check must report.
        """
        if keep_days < MIN_KEEP_DAYS:
            raise ConfigError(
                f"--keep-days {keep_days}: the audit trail must keep at least {MIN_KEEP_DAYS} days"
                " (PCI DSS 10.5.1); history runs are kept as long"
            )
        cutoff_epoch = int(now.timestamp()) - keep_days * 86400
        latest = (
            "SELECT MAX(r2.id) FROM runs r2 WHERE r2.project_id = runs.project_id AND r2.ref = runs.ref"
            " AND r2.finished_epoch = (SELECT MAX(r3.finished_epoch) FROM runs r3"
            " WHERE r3.project_id = runs.project_id AND r3.ref = runs.ref)"
        )

        def work() -> PruneOutcome:
            with self.db.transaction():
                self.db.lock("prune")
                self.db.execute("CREATE TEMPORARY TABLE IF NOT EXISTS prune_ids (id BIGINT PRIMARY KEY)")
                self.db.execute("DELETE FROM prune_ids")
                self.db.execute(
                    f"INSERT INTO prune_ids (id) SELECT id FROM runs WHERE finished_epoch < ? AND id <> ({latest})",  # noqa: S608
                    (cutoff_epoch,),
                )
                kept = self.db.execute(
                    f"SELECT COUNT(*) FROM runs WHERE finished_epoch < ? AND id = ({latest})",  # noqa: S608
                    (cutoff_epoch,),
                ).fetchone()[0]
                n_runs = self.db.execute("SELECT COUNT(*) FROM prune_ids").fetchone()[0]
                for table in ("observations", "scanner_runs", "run_paths", "run_incomplete"):
                    self.db.execute(f"DELETE FROM {table} WHERE run_id IN (SELECT id FROM prune_ids)")  # noqa: S608
                self.db.execute("DELETE FROM runs WHERE id IN (SELECT id FROM prune_ids)")
                self.db.execute(
                    "DELETE FROM test_scopes WHERE NOT EXISTS"
                    " (SELECT 1 FROM runs r WHERE r.scope_test_id = test_scopes.id)"
                )
                self.db.execute(
                    "DELETE FROM finding_locations WHERE NOT EXISTS"
                    " (SELECT 1 FROM observations o WHERE o.finding_id = finding_locations.finding_id)"
                )
                cur = self.db.execute(
                    "DELETE FROM findings WHERE NOT EXISTS"
                    " (SELECT 1 FROM observations o WHERE o.finding_id = findings.id) RETURNING id"
                )
                n_findings = len(cur.fetchall())
                self.db.execute("DELETE FROM prune_ids")
            return PruneOutcome(
                cutoff=iso(datetime.fromtimestamp(cutoff_epoch, tz=UTC)),
                runs_removed=int(n_runs),
                runs_kept_latest=int(kept),
                findings_removed=n_findings,
            )

        return self.db.retrying(work)

    # ------------------------------------------------------------ reading

    def streams(self) -> list[tuple[str, str]]:
        """Every (project, ref) with at least one run, sorted."""
        rows = self.db.execute(
            "SELECT DISTINCT p.name, r.ref FROM runs r JOIN projects p ON p.id = r.project_id ORDER BY p.name, r.ref"
        ).fetchall()
        return sorted((str(a), str(b)) for a, b in rows)

    def counts(self) -> tuple[int, int]:
        """(projects with runs, runs)."""
        row = self.db.execute("SELECT COUNT(DISTINCT project_id), COUNT(*) FROM runs").fetchone()
        return int(row[0]), int(row[1])

    def stream_summaries(self) -> list[tuple[str, str, int, str]]:
        """(project, ref, runs, last finished_at) per stream, counted in the database."""
        rows = self.db.execute(
            "SELECT p.name, r.ref, COUNT(*), MAX(r.finished_at) FROM runs r JOIN projects p ON p.id = r.project_id"
            " GROUP BY p.name, r.ref"
        ).fetchall()
        return sorted((str(a), str(b), int(c), str(d)) for a, b, c, d in rows)

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
            int(row[0]): finding_info(row)
            for row in self.db.execute(f"SELECT {FINDING_INFO_COLS} FROM findings WHERE project_id = ?", (pid,))  # noqa: S608
        }
        scopes = load_scopes(self.db, [pid])
        runs = tuple(
            scopes.scoped(
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
            )
            for r in run_rows
        )
        return StreamHistory(project=project, ref=ref, runs=runs, findings=findings)

    def iter_streams(self, *, project: str | None = None) -> Iterator[StreamTimeline]:
        """Every stream (of ``project``) as the database compacts it (:mod:`secscan.aggregate.timeline`),
        one at a time: memory stays bounded by the largest stream's changes, not by the table."""
        from secscan.aggregate.timeline import iter_timelines

        yield from iter_timelines(self.db, project=project)


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
