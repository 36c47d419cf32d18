"""The embedded SQLite advisory store: build it from loaded records, then query it read-only.

The snapshot id names the exact content: ``sha256:<hash of every stored record>@<newest
modified>``. The hash is over the normalized records sorted by id, so the same advisories give
the same id whether they came from YAML files, a JSON zip, or another machine, and any change to
any record gives a new id. The timestamp half tells a human how fresh the data is.

Withdrawn advisories are stored (and served by id) but never returned for a package query.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tempfile
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from secscan import __version__
from secscan.advisories.matching import CompiledAffected, compile_affected
from secscan.advisories.osv import ECOSYSTEM, AffectedPackage, Event, Range, format_timestamp
from secscan.advisories.sources import LoadResult
from secscan.errors import ConfigError
from secscan.models import AdvisorySnapshot

# /2: `affected` gained the `ecosystem` column (PyPI and npm). A /1 file is refused with a
# request to re-import instead of being read as if every package were PyPI.
FORMAT = "secscan-advisories/2"
SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE advisories (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    withdrawn TEXT,
    summary TEXT NOT NULL,
    record TEXT NOT NULL            -- normalized OSV JSON, served verbatim
);
CREATE TABLE affected (
    advisory_id TEXT NOT NULL REFERENCES advisories(id),
    ecosystem TEXT NOT NULL,        -- "PyPI" or "npm"
    package TEXT NOT NULL,          -- PyPI: PEP 503 canonical name; npm: lower case
    ranges TEXT NOT NULL,           -- JSON: [{"type": ..., "events": [[kind, value], ...]}]
    versions TEXT NOT NULL          -- JSON list of strings
);
CREATE INDEX affected_package ON affected(ecosystem, package);
CREATE TABLE aliases (alias TEXT NOT NULL, advisory_id TEXT NOT NULL REFERENCES advisories(id));
CREATE INDEX aliases_alias ON aliases(alias);
CREATE TABLE problems (file TEXT NOT NULL, message TEXT NOT NULL);
"""


@dataclass(frozen=True, kw_only=True)
class StoreInfo:
    """What ``secscan advisories info`` prints."""

    snapshot: str
    newest_modified: str
    advisories: int
    withdrawn: int
    packages: int
    aliases: int
    source: str
    """The SOURCE argument of the import, as given."""
    files: int
    skipped: int
    """Malformed/unreadable/duplicate files that were skipped at import."""
    ignored: int
    """Valid records without a PyPI or npm package."""
    created_by: str
    problems: tuple[str, ...] = ()
    built_at: str = ""
    """When the database was written (RFC 3339 UTC; empty: a database older than issue 27)."""
    fetched_at: str = ""
    """When ``advisories update`` downloaded the records (empty: made by ``advisories import``)."""
    records: tuple[tuple[str, int], ...] = ()
    """Records per ecosystem (a record about PyPI and npm counts in both)."""
    digest: str = ""
    """``advisories update``: sha256 over the archives it fetched (``PyPI:<sha256> npm:<sha256>``)."""

    @property
    def taken_at(self) -> str:
        """When the records were taken from their source: fetched, else imported."""
        return self.fetched_at or self.built_at

    def snapshot_at(self, now: datetime) -> AdvisorySnapshot:
        """What a scan result records about the store it used, with the store's age at ``now``."""
        taken = self.taken_at
        age = None
        if taken:
            then = datetime.fromisoformat(taken)
            age = round(max(0.0, (now - then).total_seconds()) / 86400, 3)
        return AdvisorySnapshot(
            snapshot=self.snapshot,
            source=self.source,
            taken_at=taken or None,
            fetched=bool(self.fetched_at),
            age_days=age,
            records=self.records,
            digest=self.digest or None,
        )


@dataclass(frozen=True, kw_only=True)
class Candidate:
    """One indexed ``affected[]`` entry of a non-withdrawn advisory."""

    advisory_id: str
    modified: str
    matcher: CompiledAffected


def snapshot_id(load: LoadResult) -> tuple[str, str]:
    """(snapshot id, newest modified) of the records that will be stored."""
    h = hashlib.sha256()
    for adv in load.advisories:  # sorted by id
        h.update(adv.id.encode())
        h.update(b"\0")
        h.update(adv.canonical_json.encode())
        h.update(b"\n")
    newest = max(a.modified for a in load.advisories).replace(microsecond=0)
    newest_s = format_timestamp(newest)
    return f"sha256:{h.hexdigest()[:32]}@{newest_s}", newest_s


def _ranges_json(ranges: Sequence[Range]) -> str:
    return json.dumps([{"type": r.type, "events": [[e.kind, e.value] for e in r.events]} for r in ranges])


def _records_per_ecosystem(load: LoadResult) -> tuple[tuple[str, int], ...]:
    counts = Counter(eco for adv in load.advisories for eco in {a.ecosystem for a in adv.affected})
    return tuple(sorted(counts.items()))


def build(db_path: Path, load: LoadResult, *, source: str, fetched_at: str = "", digest: str = "") -> StoreInfo:
    """Write a new database at ``db_path`` (atomically: temp file beside it + rename, so a reader
    has the old file or the new one, never half of either). Returns its info.

    ``fetched_at`` and ``digest``: what ``advisories update`` downloaded, and when."""
    if not load.advisories:
        raise ConfigError(f"no PyPI or npm advisories found in {source} ({load.files} files read)")
    snapshot, newest = snapshot_id(load)
    packages = {(a.ecosystem, a.name) for adv in load.advisories for a in adv.affected}
    info = StoreInfo(
        snapshot=snapshot,
        newest_modified=newest,
        advisories=len(load.advisories),
        withdrawn=sum(1 for a in load.advisories if a.withdrawn),
        packages=len(packages),
        aliases=sum(len(set(a.aliases)) for a in load.advisories),
        source=source,
        files=load.files,
        skipped=len(load.problems),
        ignored=load.ignored,
        created_by=f"secscan {__version__}",
        problems=tuple(str(p) for p in load.problems),
        built_at=format_timestamp(datetime.now(UTC).replace(microsecond=0)),
        fetched_at=fetched_at,
        records=_records_per_ecosystem(load),
        digest=digest,
    )
    db_path = Path(db_path)
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{db_path.name}.", suffix=".tmp", dir=db_path.parent)
        os.close(fd)
    except OSError as e:
        raise ConfigError(f"cannot write advisory database {db_path}: {e.strerror or e}") from e
    try:
        conn = sqlite3.connect(tmp)
        try:
            # A private temp file renamed into place afterwards: no journal needed for safety.
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.executescript(_SCHEMA)
            meta = {
                "format": FORMAT,
                "snapshot": info.snapshot,
                "newest_modified": info.newest_modified,
                "source": info.source,
                "files": str(info.files),
                "ignored": str(info.ignored),
                "created_by": info.created_by,
                "built_at": info.built_at,
                "fetched_at": info.fetched_at,
                "records": json.dumps(dict(info.records), sort_keys=True),
                "digest": info.digest,
            }
            conn.executemany("INSERT INTO meta VALUES (?, ?)", sorted(meta.items()))
            conn.executemany(
                "INSERT INTO advisories VALUES (?, ?, ?, ?, ?)",
                (
                    (a.id, format_timestamp(a.modified), a.withdrawn, a.summary[:300], a.canonical_json)
                    for a in load.advisories
                ),
            )
            conn.executemany(
                "INSERT INTO affected VALUES (?, ?, ?, ?, ?)",
                (
                    (adv.id, aff.ecosystem, aff.name, _ranges_json(aff.ranges), json.dumps(list(aff.versions)))
                    for adv in load.advisories
                    for aff in adv.affected
                ),
            )
            conn.executemany(
                "INSERT INTO aliases VALUES (?, ?)",
                ((alias, adv.id) for adv in load.advisories for alias in sorted(set(adv.aliases))),
            )
            conn.executemany("INSERT INTO problems VALUES (?, ?)", ((p.file, p.message) for p in load.problems))
            conn.commit()
        finally:
            conn.close()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, db_path)
    except (OSError, sqlite3.Error) as e:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write advisory database {db_path}: {e}") from e
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return info


def is_database(path: Path) -> bool:
    """Does ``path`` look like a SQLite file (rather than a source folder or zip)?"""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def _parse_ranges(text: str) -> tuple[Range, ...]:
    return tuple(
        Range(type=r["type"], events=tuple(Event(kind=k, value=v) for k, v in r["events"])) for r in json.loads(text)
    )


class AdvisoryStore:
    """A read-only view of one database, safe to share between server threads.

    The file never changes while it is open (a re-import renames a new file into place; this
    connection keeps reading the old one), so per-package matchers and records are cached.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ConfigError(
                f"no advisory database at {self.path}: run `secscan advisories import SOURCE --db {self.path}` first"
            )
        if not is_database(self.path):
            raise ConfigError(f"{self.path} is not a SQLite advisory database")
        try:
            uri = self.path.resolve().as_uri() + "?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
            meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error as e:
            raise ConfigError(f"{self.path} is not a secscan advisory database: {e}") from e
        if meta.get("format") == "secscan-advisories/1":
            raise ConfigError(
                f"{self.path} was made by an older secscan (PyPI only): re-import it with `secscan advisories import`"
            )
        if meta.get("format") != FORMAT:
            raise ConfigError(f"{self.path} is not a secscan advisory database (format {meta.get('format')!r})")
        self._lock = threading.Lock()
        self.info = self._read_info(meta)
        self.snapshot = self.info.snapshot
        self.candidates = lru_cache(maxsize=8192)(self._load_candidates)
        self.record = lru_cache(maxsize=4096)(self._load_record)

    def _query(self, sql: str, params: Sequence[object] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _read_info(self, meta: dict[str, str]) -> StoreInfo:
        ((advisories, withdrawn),) = self._query("SELECT count(*), count(withdrawn) FROM advisories")
        ((packages,),) = self._query("SELECT count(*) FROM (SELECT DISTINCT ecosystem, package FROM affected)")
        ((aliases,),) = self._query("SELECT count(*) FROM aliases")
        problems = tuple(f"{f}: {m}" for f, m in self._query("SELECT file, message FROM problems ORDER BY rowid"))
        return StoreInfo(
            snapshot=meta["snapshot"],
            newest_modified=meta["newest_modified"],
            advisories=int(str(advisories)),
            withdrawn=int(str(withdrawn)),
            packages=int(str(packages)),
            aliases=int(str(aliases)),
            source=meta.get("source", ""),
            files=int(meta.get("files", "0")),
            skipped=len(problems),
            ignored=int(meta.get("ignored", "0")),
            created_by=meta.get("created_by", ""),
            problems=problems,
            built_at=meta.get("built_at", ""),
            fetched_at=meta.get("fetched_at", ""),
            records=_read_records(meta.get("records", "{}")),
            digest=meta.get("digest", ""),
        )

    def _load_candidates(self, package: str, ecosystem: str = ECOSYSTEM) -> tuple[Candidate, ...]:
        """Every indexed entry for ``package`` (already normalized, ``osv.normalize_name``)."""
        rows = self._query(
            "SELECT a.id, a.modified, f.ranges, f.versions FROM affected f JOIN advisories a ON a.id = f.advisory_id"
            " WHERE f.ecosystem = ? AND f.package = ? AND a.withdrawn IS NULL ORDER BY a.id",
            (ecosystem, package),
        )
        return tuple(
            Candidate(
                advisory_id=str(vid),
                modified=str(modified),
                matcher=compile_affected(
                    AffectedPackage(
                        name=package,
                        ranges=_parse_ranges(str(ranges)),
                        versions=tuple(json.loads(str(versions))),
                        ecosystem=ecosystem,
                    )
                ),
            )
            for vid, modified, ranges, versions in rows
        )

    def _load_record(self, advisory_id: str) -> str | None:
        rows = self._query("SELECT record FROM advisories WHERE id = ?", (advisory_id,))
        return str(rows[0][0]) if rows else None

    def resolve(self, name: str) -> str | None:
        """An advisory id for ``name``: itself if stored, else the advisory that has it as an alias."""
        if self.record(name) is not None:
            return name
        rows = self._query("SELECT advisory_id FROM aliases WHERE alias = ? ORDER BY advisory_id LIMIT 1", (name,))
        return str(rows[0][0]) if rows else None

    def aliases_of(self, advisory_id: str) -> tuple[str, ...]:
        rows = self._query("SELECT alias FROM aliases WHERE advisory_id = ? ORDER BY alias", (advisory_id,))
        return tuple(str(r[0]) for r in rows)

    def related(self, names: Iterable[str]) -> tuple[str, ...]:
        """Every stored record that names the same vulnerability as any of ``names``: the records
        themselves, the records of their aliases, and the records that list any of those as an
        alias (PYSEC-2023-62 -> CVE-2023-30861 <- GHSA-m2qf-hxjv-5gpq). Sorted ids."""
        wanted = set(names)
        for name in list(wanted):
            wanted.update(self.aliases_of(name))
        if not wanted:
            return ()
        marks = ",".join("?" * len(wanted))
        listed = self._query(f"SELECT DISTINCT advisory_id FROM aliases WHERE alias IN ({marks})", sorted(wanted))  # noqa: S608 - placeholders only
        found = {str(r[0]) for r in listed} | {n for n in wanted if self.record(n) is not None}
        return tuple(sorted(found))

    def related_records(self, names: Iterable[str]) -> tuple[Mapping[str, Any], ...]:
        """The records of :meth:`related`, decoded."""
        out = []
        for vid in self.related(names):
            text = self.record(vid)
            if text is not None:
                out.append(json.loads(text))
        return tuple(out)

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _read_records(text: str) -> tuple[tuple[str, int], ...]:
    try:
        data = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(data, dict):
        return ()
    return tuple(sorted((str(k), int(v)) for k, v in data.items() if isinstance(v, int)))
