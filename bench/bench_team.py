"""The security team's history at scale (`python -m bench team`): a year of daily runs for 500
projects, on SQLite and on PostgreSQL.

The history (500 projects x 365 runs, ~25 findings a run: ~4.5 million observations; findings
appear, get fixed, are suppressed with expiry dates; scanners occasionally fail; a few projects
stop being scanned; six runs in seven read test code with the blocking rules only, so the
test-code findings of other rules are reported by every seventh run alone) is generated
straight into the product's schema with bulk inserts (the dashboard is what is measured, not
180,000 single adds) and cached under ``bench/.cache``. The
PostgreSQL copy is loaded from it with COPY into a server this benchmark starts (initdb +
pg_ctl in a temporary folder, fsync off: reads are measured). Then, on each store:

* ``secscan dashboard`` (with its project and finding pages: 500 project pages, 30,000 finding
  pages; issue 31) and ``secscan compliance check`` (with its SLA control) as real processes:
  wall time, the process's own peak RSS (``wait4``), the pages' count and size;
* how much the database's compaction saves: observations stored vs. segments sent to Python;
* ``History.add`` through the concurrency-safe path: runs per second (one writer).

Printed as figures of one run, and the ratio PostgreSQL / SQLite for the dashboard. Bar: the
dashboard for 500 x 365 in under 60 s and 500 MB on either store.
``BENCH_TEAM_PROJECTS`` / ``BENCH_TEAM_RUNS`` change the size.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from secscan.aggregate.history import History, iso, narrowed_spec
from secscan.models import (
    Finding,
    Kind,
    Location,
    NarrowedTestCode,
    RunResult,
    ScannerRules,
    ScannerState,
    ScannerStatus,
    Severity,
    Verdict,
)
from secscan.testcode import DEFAULT_TEST_PATHS, LIVE_RULES

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
GENERATOR_VERSION = 4  # bump when the generated history changes: the cache key includes it
CACHE = Path(__file__).resolve().parent / ".cache"
RULES = [
    ("B602", "CWE-78", "PCI-DSS-4.0:6.2.4"),
    ("B324", "CWE-327", "PCI-DSS-4.0:3.5.1"),
    ("B105", "CWE-259", "PCI-DSS-4.0:8.3.1"),
    ("B506", "CWE-20", "PCI-DSS-4.0:6.2.4"),
    ("B501", "CWE-295", "PCI-DSS-4.0:4.2.1"),
    ("B608", "CWE-89", "PCI-DSS-4.0:6.2.4"),
    ("B301", "CWE-502", ""),
    ("PYSEC-2024-1", "CWE-400", "PCI-DSS-4.0:6.3.3"),
]
SEVS = ["critical", "high", "high", "medium", "medium", "low", "info"]
POOL = 60  # findings a project can have
TABLES = {
    "test_scopes": ("id", "spec"),
    "projects": ("id", "name"),
    "findings": (
        "id",
        "project_id",
        "fingerprint",
        "kind",
        "scanner",
        "rule_id",
        "title",
        "location",
        "cwes",
        "compliance",
        "path",
    ),
    "runs": (
        "id",
        "project_id",
        "ref",
        "finished_at",
        "finished_epoch",
        "started_at",
        "tool_version",
        "target",
        "passed",
        "exit_code",
        "policy",
        "commit_sha",
        "job_url",
        "result_sha256",
        "scope_test_id",
    ),
    "scanner_runs": ("run_id", "name", "state", "error", "version"),
    "observations": ("run_id", "finding_id", "status", "severity", "sup_expires", "sup_owner", "sup_reason"),
    "finding_locations": ("finding_id", "location", "first_epoch"),
    "triage_decisions": (
        "id",
        "project_id",
        "fingerprint",
        "decision",
        "reason",
        "author",
        "created_at",
        "expires",
        "owner",
        "due",
        "approver",
        "approved_at",
    ),
}


# How a default run reads test code (speed-2): bandit not at all, semgrep with the live-key rules.
# Six runs in seven are such runs; every seventh is a --scan-all-test-code run, the only one that
# reports (and can close) the test-code findings of other rules (issue 31).
TEST_SCOPE = narrowed_spec(
    NarrowedTestCode(
        test_paths=DEFAULT_TEST_PATHS,
        rules=(ScannerRules(scanner="bandit"), ScannerRules(scanner="semgrep", rules=LIVE_RULES)),
    )
)
FULL_EVERY = 7


def _finding_rows(
    p: int, runs: int, ids: dict[str, int], out: dict[str, list[tuple[object, ...]]]
) -> tuple[list[int], set[int]]:
    """A project's pool of findings and where they were; (their ids, the pool numbers in test code)."""
    pid = p + 1
    fids = []
    in_tests: set[int] = set()
    for n in range(POOL):
        rule, cwe, pci = RULES[n % len(RULES)]
        ids["finding"] += 1
        fids.append(ids["finding"])
        scanner = "pip-audit" if rule.startswith("PYSEC") else ("bandit" if n % 3 else "semgrep")
        kind = "dependency" if scanner == "pip-audit" else "sast"
        path = "requirements.txt" if kind == "dependency" else f"src/mod{n % 17}.py"
        if kind == "sast" and n % 13 == 0:
            path = f"tests/test_mod{n % 17}.py"  # test code: reported by the full runs only
            in_tests.add(n)
        desc = (rule, f"{rule} issue {n}", path, cwe, pci, path)
        out["findings"].append((ids["finding"], pid, f"v1:{p:04d}{n:06d}", kind, scanner, *desc))
        # Where it was first reported; one in eleven moved to another file half way through the year.
        start = int((NOW - timedelta(days=runs)).timestamp())
        out["finding_locations"].append((ids["finding"], path, start))
        if n % 11 == 0 and kind == "sast":
            out["finding_locations"].append((ids["finding"], f"src/moved/mod{n % 17}.py", start + runs * 43200))
    return fids, in_tests


def _project_rows(p: int, runs: int, ids: dict[str, int]) -> dict[str, list[tuple[object, ...]]]:
    """Every row of one project's year (deterministic per project)."""
    rng = random.Random(p * 7919 + 1)
    out: dict[str, list[tuple[object, ...]]] = {t: [] for t in TABLES}
    pid = p + 1
    out["projects"].append((pid, f"group{p // 25}/project-{p:03d}"))
    fids, in_tests = _finding_rows(p, runs, ids, out)
    # Two triage decisions a project: a false positive and a planned fix, each approved by a second person.
    for k, (decision, owner, due) in enumerate((("false-positive", None, None), ("fix-planned", "dev", "2025-08-01"))):
        ids["decision"] = ids.get("decision", 0) + 1
        made = iso(NOW - timedelta(days=30 + k))
        out["triage_decisions"].append(
            (
                ids["decision"],
                pid,
                f"v1:{p:04d}{k * 5:06d}",
                decision,
                "bench",
                "alice",
                made,
                None,
                owner,
                due,
                "bob",
                made,
            )
        )
    open_set = set(rng.sample(range(POOL), 25))
    # One project in 50 stopped being scanned 10 days ago (the guardrails must say so).
    stop = runs - 10 if p % 50 == 7 else runs
    for r in range(stop):
        # About one finding fixed and one introduced a day, around 25 open.
        fixes = rng.choice((0, 1, 1, 2))
        adds = max(0, fixes + (1 if len(open_set) < 24 else -1 if len(open_set) > 26 else 0))
        for n in rng.sample(sorted(open_set), min(fixes, len(open_set))):
            open_set.discard(n)
        open_set.update(rng.sample(sorted(set(range(POOL)) - open_set), adds))
        when = NOW - timedelta(days=runs - r, hours=p % 7)
        ids["run"] += 1
        run_id = ids["run"]
        failed = rng.random() < 0.03
        ci = (f"{run_id:040x}", f"https://gitlab.example/job/{run_id}", hashlib.sha256(b"%d" % run_id).hexdigest())
        stamp = iso(when)
        full = r % FULL_EVERY == 0
        test = None if full else 1  # the run's test_scopes row
        out["runs"].append(
            (run_id, pid, "main", stamp, int(when.timestamp()), stamp, "0.1.0", f"p{p}", 0, 1, "default", *ci, test)
        )
        out["scanner_runs"] += [
            (run_id, "bandit", "failed" if failed else "ok", "bandit crashed" if failed else None, "1.7.9"),
            (run_id, "pip-audit", "ok", None, "2.7.3"),
            (run_id, "semgrep", "ok", None, "1.182.0"),
        ]
        for n in sorted(open_set):
            if failed and n % 3:  # bandit's findings are not reported when it crashed
                continue
            if not full and n in in_tests:  # test code: not read with this rule by this run
                continue
            sev = SEVS[(n * 7 + p) % len(SEVS)]
            if n % 19 == 0:
                exp = (NOW + timedelta(days=(n + p) % 45 - 5)).date().isoformat()
                out["observations"].append((run_id, fids[n], "suppressed", sev, exp, "team", "accepted"))
            else:
                out["observations"].append((run_id, fids[n], "existing", sev, None, None, None))
    return out


def _generate(projects: int, runs: int) -> Iterator[dict[str, list[tuple[object, ...]]]]:
    ids = {"finding": 0, "run": 0}
    yield {"test_scopes": [(1, TEST_SCOPE)]}
    for p in range(projects):
        yield _project_rows(p, runs, ids)


def _insert_sql(table: str) -> str:
    cols = TABLES[table]
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"  # noqa: S608


def build_sqlite(projects: int, runs: int) -> tuple[Path, float, bool]:
    """The cached SQLite history (built when missing); returns (path, seconds, built now)."""
    path = CACHE / f"team-{projects}x{runs}-v{GENERATOR_VERSION}.sqlite3"
    if path.exists():
        return path, 0.0, False
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    for leftover in tmp.parent.glob(tmp.name + "*"):
        leftover.unlink()
    started = time.perf_counter()
    History(tmp).close()  # the product's schema, migrations applied
    con = sqlite3.connect(tmp)
    con.execute("PRAGMA synchronous = OFF")
    for chunk in _generate(projects, runs):
        for table, rows in chunk.items():
            con.executemany(_insert_sql(table), rows)
    con.commit()
    con.execute("ANALYZE")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    tmp.rename(path)
    return path, time.perf_counter() - started, True


def load_postgres(src: Path, url: str) -> float:
    """Copy every table of the SQLite history into PostgreSQL with COPY; returns seconds."""
    import psycopg

    started = time.perf_counter()
    History(url).close()
    lite = sqlite3.connect(src)
    with psycopg.connect(url) as con:
        for table, cols in TABLES.items():
            with con.cursor().copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in lite.execute(f"SELECT {', '.join(cols)} FROM {table}"):  # noqa: S608
                    copy.write_row(row)
        for table in ("test_scopes", "projects", "findings", "runs", "triage_decisions"):
            con.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")  # noqa: S608
        con.commit()
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("VACUUM ANALYZE")
    lite.close()
    return time.perf_counter() - started


def _measure(argv: list[str]) -> tuple[float, float, int, str]:
    """(wall s, peak RSS MB, exit code, stdout) of one secscan process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECSCAN_")}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "secscan", *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"secscan {argv[0]} failed: {err.decode(errors='replace').strip()}")
    return wall, usage.ru_maxrss / 1024, proc.returncode, out.decode()


def _compaction(target: str) -> tuple[int, int]:
    """(observations stored, segments the dashboard reads)."""
    with History(target) as h:
        obs = int(h.db.execute("SELECT COUNT(*) FROM observations").fetchone()[0])
        segs = sum(len(t.segments) for t in h.iter_streams())
    return obs, segs


def _add_rate(target: str, n: int = 1000) -> float:
    """Runs per second through History.add (new project, 25 findings a run)."""
    rng = random.Random(5)
    results = []
    for i in range(n):
        when = NOW - timedelta(minutes=n - i)
        findings = tuple(
            Finding(
                kind=Kind.SAST,
                scanner="bandit",
                rule_id=f"B{600 + k % 9}",
                title=f"issue {k}",
                message="m",
                severity=Severity.HIGH,
                severity_original="HIGH",
                location=Location(path=f"src/m{k}.py", start_line=k),
                fingerprint=f"v1:add{k:04d}",
            )
            for k in sorted(rng.sample(range(60), 25))
        )
        results.append(
            RunResult(
                tool_version="0.1.0",
                target="add",
                started_at=iso(when),
                finished_at=iso(when),
                scanners=(ScannerStatus(name="bandit", state=ScannerState.OK),),
                findings=findings,
                verdict=Verdict(passed=False, exit_code=1, policy="default"),
            )
        )
    with History(target) as h:
        t0 = time.perf_counter()
        for i, r in enumerate(results):
            h.add(r, project="bench/add-rate", ref="main", digest=f"add-{i}")
        return n / (time.perf_counter() - t0)


def _dashboard(name: str, target: str, out_dir: Path) -> tuple[float, float]:
    html = out_dir / f"dashboard-{name}.html"
    wall, rss, _, out = _measure(["dashboard", "--db", target, "--now", NOW.isoformat(), "-o", str(html)])
    print(f"[{name}] `secscan dashboard`: {wall:.1f} s wall, peak RSS {rss:.0f} MB; {out.strip()}", flush=True)
    pages = [p for p in html.with_name(html.stem + "-pages").rglob("*.html")]
    sizes = sorted(p.stat().st_size for p in pages)
    total = sum(sizes)
    if sizes:
        print(
            f"[{name}] pages: {len(pages):,} files, {total / 1e6:.1f} MB (median {sizes[len(sizes) // 2] / 1e3:.1f} kB,"
            f" largest {sizes[-1] / 1e3:.1f} kB); dashboard.html {html.stat().st_size / 1e3:.0f} kB;"
            f" {wall / len(pages) * 1e3:.2f} ms of the dashboard's wall time per page",
            flush=True,
        )
    return wall, rss


def _without_pages(name: str, target: str, out_dir: Path) -> float:
    html = out_dir / f"dashboard-{name}-nopages.html"
    wall, rss, _, _ = _measure(["dashboard", "--db", target, "--now", NOW.isoformat(), "-o", str(html), "--no-pages"])
    print(f"[{name}] `secscan dashboard --no-pages`: {wall:.1f} s wall, peak RSS {rss:.0f} MB", flush=True)
    return wall


def _others(name: str, target: str) -> None:
    cwall, crss, code, cout = _measure(["compliance", "check", "--db", target, "--now", NOW.isoformat()])
    summary = cout.strip().splitlines()[-1] if cout.strip() else ""
    print(f"[{name}] `secscan compliance check`: {cwall:.1f} s wall, peak RSS {crss:.0f} MB, exit {code}; {summary}")
    obs, segs = _compaction(target)
    fewer = obs / max(segs, 1)
    print(f"[{name}] compaction: {obs:,} observations stored -> {segs:,} segments read ({fewer:.0f}x fewer rows)")
    print(f"[{name}] History.add: {_add_rate(target):.0f} runs/s (one writer, 25 findings a run)", flush=True)


def main() -> None:
    projects = int(os.environ.get("BENCH_TEAM_PROJECTS", "500"))
    runs = int(os.environ.get("BENCH_TEAM_RUNS", "365"))
    src, secs, built = build_sqlite(projects, runs)
    how = f"built in {secs:.1f} s (bulk inserts)" if built else "from the cache"
    print(f"history: {projects} projects x {runs} runs, {src.stat().st_size / 1e6:.0f} MB SQLite, {how}: {src.name}")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests.support import postgres

    with tempfile.TemporaryDirectory(prefix="bench-team-") as tmp:
        work = Path(tmp) / "history.sqlite3"
        shutil.copy(src, work)  # the add-rate step writes: keep the cache pristine
        stores = {"sqlite": str(work)}
        bindir = postgres.find_bindir()
        server = postgres.start(bindir) if bindir is not None else None
        try:
            if server is None:
                print("[postgresql] skipped: no PostgreSQL server binaries (apt-get install postgresql)")
            else:
                url = server.create_database("bench")
                print(f"[postgresql] loaded with COPY in {load_postgres(src, url):.1f} s", flush=True)
                stores["postgresql"] = url
            # Interleaved: the machine is shared, and its load changes within a run. Without pages
            # (the dashboard's own bar) best of two; with its 30,000 pages once (minutes each).
            walls: dict[str, list[float]] = {n: [] for n in stores}
            paged: dict[str, float] = {}
            peaks: dict[str, float] = dict.fromkeys(stores, 0.0)
            for _ in range(2):
                for name, target in stores.items():
                    walls[name].append(_without_pages(name, target, Path(tmp)))
            for name, target in stores.items():
                paged[name], peaks[name] = _dashboard(name, target, Path(tmp))
            for name, target in stores.items():
                _others(name, target)
                bare = min(walls[name])
                ok = bare < 60 and peaks[name] < 500
                rss = peaks[name]
                print(f"[{name}] dashboard: {paged[name]:.1f} s with pages, {bare:.1f} s without; RSS {rss:.0f} MB")
                print(f"[{name}] ratio dashboard with pages / without: {paged[name] / bare:.2f}")
                print(f"[{name}] bar (dashboard without pages < 60 s, < 500 MB): {'met' if ok else 'NOT met'}")
        finally:
            if server is not None:
                server.stop()
    if "postgresql" in walls:
        ratio = min(walls["postgresql"]) / min(walls["sqlite"])
        print(f"ratio dashboard (without pages) time PostgreSQL / SQLite (best of 2 each): {ratio:.2f}")


if __name__ == "__main__":
    main()
