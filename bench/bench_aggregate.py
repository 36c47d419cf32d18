"""History and dashboard benchmark (`python -m bench aggregate`).

A history of 200 projects x 100 runs (20,000 runs, ~25 findings each, findings appearing, being
fixed, suppressed with expiry dates, scanners occasionally failing) is built through
``History.add``; then ``secscan dashboard`` runs as a real process on it. Printed: build rate,
database size, dashboard wall time and the dashboard process's peak RSS; plus, in-process, the
time and peak Python allocation (tracemalloc) of computing the metrics alone and of rendering.
Bar: the dashboard for 200 x 100 in under 30 s and 300 MB.

``BENCH_AGGREGATE_PROJECTS`` / ``BENCH_AGGREGATE_RUNS`` change the size.
"""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

from secscan.aggregate import dashboard, metrics
from secscan.aggregate.history import History
from secscan.models import (
    Finding,
    Identifier,
    Kind,
    Location,
    RunResult,
    ScannerState,
    ScannerStatus,
    Severity,
    Status,
    Suppression,
    Verdict,
)

NOW = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
RULES = [
    ("B602", "CWE-78", "PCI-DSS-4.0:6.2.4"),
    ("B324", "CWE-327", "PCI-DSS-4.0:3.5.1"),
    ("B105", "CWE-259", "PCI-DSS-4.0:8.3.1"),
    ("B506", "CWE-20", "PCI-DSS-4.0:6.2.4"),
    ("B501", "CWE-295", "PCI-DSS-4.0:4.2.1"),
    ("B608", "CWE-89", "PCI-DSS-4.0:6.2.4"),
    ("B301", "CWE-502", ""),
    ("B307", "CWE-78", ""),
]
SEVS = [Severity.CRITICAL, Severity.HIGH, Severity.HIGH, Severity.MEDIUM, Severity.MEDIUM, Severity.LOW, Severity.INFO]


def _finding(rng: random.Random, project: int, n: int) -> Finding:
    rule, cwe, pci = RULES[n % len(RULES)]
    sev = SEVS[(n * 7 + project) % len(SEVS)]
    return Finding(
        kind=Kind.SAST,
        scanner="bandit" if n % 3 else "semgrep",
        rule_id=rule,
        title=f"{rule} issue {n}",
        message="synthetic",
        severity=sev,
        severity_original=sev.value,
        location=Location(path=f"src/mod{n % 17}.py", start_line=n),
        identifiers=(Identifier(type="cwe", value=cwe),),
        compliance=(pci,) if pci else (),
        fingerprint=f"v1:{project:04d}{n:06d}",
    )


def build(db: Path, projects: int, runs: int) -> float:
    """Fill ``db``; returns seconds taken."""
    rng = random.Random(1234)
    started = time.perf_counter()
    with History(db) as h:
        for p in range(projects):
            pool = [_finding(rng, p, n) for n in range(60)]
            open_set = set(rng.sample(range(60), 20))
            for r in range(runs):
                # Evolve: ~2 findings fixed and ~2 introduced per run.
                for n in rng.sample(sorted(open_set), min(2, len(open_set))):
                    open_set.discard(n)
                open_set.update(rng.sample(range(60), 2))
                findings = []
                for n in sorted(open_set):
                    f = pool[n]
                    if n % 19 == 0:
                        expires = (NOW + timedelta(days=(n + p) % 45 - 5)).date().isoformat()
                        sup = Suppression(origin="file", reason="accepted", owner="team", expires=expires)
                        f = Finding(**{**f.__dict__, "status": Status.SUPPRESSED, "suppression": sup})
                    findings.append(f)
                when = NOW - timedelta(hours=(runs - r) * 14 + p % 7)
                failed = rng.random() < 0.03
                h.add(
                    RunResult(
                        tool_version="0.1.0",
                        target=f"p{p}",
                        started_at=when.isoformat(),
                        finished_at=when.isoformat(),
                        scanners=(
                            ScannerStatus(
                                name="bandit",
                                state=ScannerState.FAILED if failed else ScannerState.OK,
                                error="bandit crashed" if failed else None,
                            ),
                            ScannerStatus(name="semgrep", state=ScannerState.OK),
                        ),
                        findings=tuple(findings),
                        verdict=Verdict(passed=False, exit_code=1, policy="default"),
                    ),
                    project=f"group{p // 20}/project-{p:03d}",
                    ref="main",
                )
    return time.perf_counter() - started


def main() -> None:
    projects = int(os.environ.get("BENCH_AGGREGATE_PROJECTS", "200"))
    runs = int(os.environ.get("BENCH_AGGREGATE_RUNS", "100"))
    with tempfile.TemporaryDirectory(prefix="bench-aggregate-") as tmp:
        db = Path(tmp) / "history.sqlite3"
        secs = build(db, projects, runs)
        total = projects * runs
        size_mb = sum(f.stat().st_size for f in Path(tmp).glob("history.sqlite3*")) / 1e6
        rate = total / secs
        print(f"history: {projects} projects x {runs} runs = {total} runs built in {secs:.1f}s ({rate:.0f} runs/s)")
        print(f"database size: {size_mb:.1f} MB")

        out = Path(tmp) / "dashboard.html"
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "secscan", "dashboard", "-o", str(out), "--db", str(db), "--now", NOW.isoformat()],
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - t0
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if proc.returncode != 0:
            raise RuntimeError(f"secscan dashboard failed: {proc.stderr.strip()}")
        peak = f"{peak_kb / 1024:.0f} MB" if peak_kb > before else f"<= {before / 1024:.0f} MB"
        print(
            f"`secscan dashboard` (process): {wall:.2f}s wall, peak RSS {peak}, HTML {out.stat().st_size / 1e6:.2f} MB"
        )

        tracemalloc.start()
        t0 = time.perf_counter()
        with History(db) as h:
            data = metrics.compute(h.iter_streams(), now=NOW)
        t_metrics = time.perf_counter() - t0
        _, peak_metrics = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        t0 = time.perf_counter()
        html = dashboard.render(data)
        t_render = time.perf_counter() - t0
        _, peak_render = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"metrics (in-process): {t_metrics:.2f}s, peak Python allocations {peak_metrics / 1e6:.1f} MB")
        print(f"render  (in-process): {t_render:.2f}s, peak Python allocations {peak_render / 1e6:.1f} MB")
        print(f"ratio metrics/render time: {t_metrics / max(t_render, 1e-9):.1f}x; {len(html) / 1e6:.2f} MB of HTML")
        ok = wall < 30 and (peak_kb <= before or peak_kb / 1024 < 300)
        print(f"bar (dashboard < 30 s and < 300 MB): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
