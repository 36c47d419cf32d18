"""npm lockfile audit benchmark (`python -m bench js`).

A 2,000-package ``package-lock.json`` (v3) audited against 10,000 npm advisories, both made
from real data: the advisories are copies of the 47 real OSV npm records in tests/data/npm
(each copy gets a new id and its packages a ``-syn<k>`` suffix), and the lockfile repeats the
real goof app's installed versions (npm-v2-goof) under the same suffixes, so the hit rate is the
real app's. Printed, all from this one run:

1. building the advisory database from a folder of the 10,000 JSON files;
2. parsing the lockfile, and matching it (cold: every candidate compiled; warm: cached);
3. ``secscan scan --only npm-audit`` end to end, against the same command on an empty tree
   (the ratio is what the audit adds to secscan's fixed start-up cost).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from secscan.advisories import sources, store
from secscan.scanners import npm_audit
from secscan.scanners.npm_lockfiles import parse_lockfile

ROOT = Path(__file__).resolve().parent.parent
NPM = ROOT / "tests" / "data" / "npm"
N_ADVISORIES = 10_000
N_PACKAGES = 2_000


def synthesize_advisories(n: int) -> list[dict[str, Any]]:
    real = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((NPM / "advisories").glob("*.json"))]
    out = []
    for i in range(n):
        rec = json.loads(json.dumps(real[i % len(real)]))
        copy = i // len(real)
        rec["id"] = f"SYN-{i:05d}-{rec['id']}"
        rec["aliases"] = [f"{a}-syn{copy}" for a in rec.get("aliases", [])]
        for aff in rec.get("affected", []):
            aff["package"]["name"] = f"{aff['package']['name']}-syn{copy}"
        out.append(rec)
    return out


def synthesize_lockfile(n: int) -> dict[str, Any]:
    real = json.loads((NPM / "lockfiles" / "npm-v2-goof" / "package-lock.json").read_text(encoding="utf-8"))
    entries = [(k.rsplit("node_modules/", 1)[1], v) for k, v in real["packages"].items() if "node_modules/" in k]
    packages: dict[str, Any] = {"": {"name": "bench", "version": "1.0.0"}}
    copy = 0
    while len(packages) <= n:
        for name, entry in entries:
            if len(packages) > n:
                break
            # The whole real entry (resolved, integrity, dependencies, ...): a realistic file size.
            packages[f"node_modules/{name}-syn{copy}"] = entry
        copy += 1
    return {"name": "bench", "lockfileVersion": 3, "requires": True, "packages": packages}


def _timed(fn: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def _scan(target: Path, db: Path, out: Path) -> float:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "secscan", "scan", str(target), "--only", "npm-audit", "--advisory-db", str(db),
         "--out", str(out), "--no-progress", "--policy", str(ROOT / "rules" / "policy" / "default.toml")],
        capture_output=True, text=True, check=False, env={**os.environ},
    )  # fmt: skip
    elapsed = time.perf_counter() - t
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"secscan scan exited {proc.returncode}: {proc.stderr[-500:]}")
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-js-") as tmp:
        work = Path(tmp)
        src = work / "advisories"
        src.mkdir()
        for rec in synthesize_advisories(N_ADVISORIES):
            (src / f"{rec['id']}.json").write_text(json.dumps(rec), encoding="utf-8")
        db = work / "advisories.sqlite"
        build_s, info = _timed(lambda: store.build(db, sources.load(src), source="bench"))
        print(f"advisory database: {info.advisories} advisories, {info.packages} packages, built in {build_s:.2f} s")

        project = work / "project"
        project.mkdir()
        lock_text = json.dumps(synthesize_lockfile(N_PACKAGES), indent=2)
        (project / "package-lock.json").write_text(lock_text, encoding="utf-8")
        parse_s, lock = _timed(lambda: parse_lockfile("package-lock.json", lock_text))
        size = len(lock_text) / 1e6
        print(f"lockfile: {len(lock.packages)} packages, {size:.1f} MB, parsed in {parse_s * 1000:.0f} ms")

        opened = store.AdvisoryStore(db)
        try:
            cold_s, findings = _timed(lambda: npm_audit.audit("package-lock.json", lock, opened))
            warm_s, _ = _timed(lambda: npm_audit.audit("package-lock.json", lock, opened))
        finally:
            opened.close()
        print(
            f"audit: {len(findings)} findings; matching cold {cold_s * 1000:.0f} ms, warm {warm_s * 1000:.0f} ms"
            f" ({cold_s / len(lock.packages) * 1e6:.0f} us per package cold)"
        )

        empty = work / "empty"
        empty.mkdir()
        base_s = _scan(empty, db, work / "out-empty")
        full_s = _scan(project, db, work / "out-full")
        print(
            f"secscan scan --only npm-audit: {full_s:.2f} s with the lockfile, {base_s:.2f} s on an empty tree;"
            f" ratio {full_s / base_s:.2f}"
        )
