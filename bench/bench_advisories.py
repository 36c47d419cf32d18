"""Advisory database benchmark (`python -m bench advisories`).

1. Import of 10,000 advisories synthesized from the 82 real PyPA ones in examples/advisories
   (each copy gets a new id, new aliases and a new package name, so ~1,000 packages), from a
   zip of OSV JSON (the osv.dev export shape) and from a folder of YAML files (the PyPA layout).
   Bar: under 10 s.
2. Query latency on loopback: 10,000 `POST /v1/query` over one keep-alive connection (as
   pip-audit's requests session does), versions drawn around each advisory's boundaries.
   Bar: p50 under 2 ms. p99 and a cold-connection figure are printed for context.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import tempfile
import time
import zipfile
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from secscan.advisories import service, sources, store

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "advisories"
N_ADVISORIES = 10_000
N_QUERIES = 10_000
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _default(o: object) -> str:
    assert isinstance(o, datetime | date)
    return o.isoformat()


def synthesize(n: int) -> list[dict[str, Any]]:
    real = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((EXAMPLES / "pypa").rglob("*.yaml"))]
    out = []
    for i in range(n):
        rec = json.loads(json.dumps(real[i % len(real)], default=_default))
        copy = i // len(real)
        rec["id"] = f"SYN-{i:05d}-{rec['id']}"
        rec["aliases"] = [f"{a}-syn{copy}" for a in rec.get("aliases", [])]
        for aff in rec["affected"]:
            aff["package"]["name"] = f"{aff['package']['name']}-syn{copy}"
        out.append(rec)
    return out


def _time(fn: Any) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process, result): on a shared machine the CPU figure
    is what the code costs, the wall figure also counts waiting for a core."""
    t, c = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - t, time.process_time() - c, result


def bench_import(records: list[dict[str, Any]], work: Path) -> Path:
    zpath = work / "all.zip"
    with zipfile.ZipFile(zpath, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for rec in records:
            zf.writestr(f"{rec['id']}.json", json.dumps(rec))
    ydir = work / "yaml"
    for rec in records:
        pkg_dir = ydir / rec["affected"][0]["package"]["name"]
        pkg_dir.mkdir(parents=True, exist_ok=True)
        (pkg_dir / f"{rec['id']}.yaml").write_text(yaml.dump(rec, Dumper=_Dumper, sort_keys=False))

    results = {}
    for label, src in (("zip of OSV JSON", zpath), ("folder of OSV YAML", ydir)):
        db = work / f"{label.split()[0]}.sqlite"
        load_s, load_cpu, loaded = _time(lambda src=src: sources.load(src))
        build_s, build_cpu, info = _time(lambda db=db, loaded=loaded, src=src: store.build(db, loaded, source=str(src)))
        total, cpu = load_s + build_s, load_cpu + build_cpu
        results[label] = (total, info.snapshot)
        verdict = "PASS" if total < 10 else "FAIL"
        print(
            f"import {len(records):,} advisories from a {label}: {total:.2f} s wall, {cpu:.2f} s CPU "
            f"(read+validate {load_s:.2f} s, write SQLite {build_s:.2f} s; "
            f"{len(records) / total:,.0f} advisories/s; {info.packages:,} packages) [{verdict}: bar < 10 s wall]"
        )
        assert info.advisories == len(records) and info.skipped == 0
    (zip_s, zip_snap), (yaml_s, yaml_snap) = results.values()
    print(f"  same snapshot from both sources: {zip_snap == yaml_snap}; YAML/JSON time ratio: {yaml_s / zip_s:.1f}x")
    return work / "zip.sqlite"


def _probe_queries(records: list[dict[str, Any]], n: int) -> list[bytes]:
    rng = random.Random(7)
    bodies = []
    for _ in range(n):
        rec = rng.choice(records)
        aff = rec["affected"][0]
        events = [v for r in aff.get("ranges", []) if r["type"] == "ECOSYSTEM" for e in r["events"] for v in e.values()]
        version = rng.choice([v for v in events if v != "0"] or ["1.0"])
        version = rng.choice([version, version + ".post1", version + "rc1", "0.1", "99.0"])
        bodies.append(
            json.dumps({"package": {"name": aff["package"]["name"], "ecosystem": "PyPI"}, "version": version}).encode()
        )
    return bodies


def bench_queries(db: Path, records: list[dict[str, Any]]) -> None:
    bodies = _probe_queries(records, N_QUERIES)
    headers = {"Content-Type": "application/json"}
    with service.start(db) as svc:
        conn = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=10)
        latencies = []
        hits = 0
        for body in bodies:
            t = time.perf_counter()
            conn.request("POST", "/v1/query", body=body, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            latencies.append(time.perf_counter() - t)
            assert resp.status == 200
            hits += payload != b"{}"
        conn.close()
        # For context: a fresh TCP connection per query (clients without keep-alive).
        cold = []
        for body in bodies[:1000]:
            t = time.perf_counter()
            c = http.client.HTTPConnection("127.0.0.1", svc.port, timeout=10)
            c.request("POST", "/v1/query", body=body, headers=headers)
            c.getresponse().read()
            c.close()
            cold.append(time.perf_counter() - t)
    q = statistics.quantiles(latencies, n=100)
    p50, p99 = q[49] * 1000, q[98] * 1000
    verdict = "PASS" if p50 < 2 else "FAIL"
    print(f"  load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"query latency, {N_QUERIES:,} POST /v1/query on one keep-alive loopback connection over "
        f"{len(records):,} advisories ({hits:,} answered with vulns): p50 {p50:.3f} ms, p99 {p99:.3f} ms "
        f"[{verdict}: bar p50 < 2 ms]; p99/p50 {p99 / p50:.1f}x"
    )
    cq = statistics.quantiles(cold, n=100)
    print(f"  new connection per query (1,000 queries): p50 {cq[49] * 1000:.3f} ms, p99 {cq[98] * 1000:.3f} ms")


def main() -> None:
    records = synthesize(N_ADVISORIES)
    with tempfile.TemporaryDirectory(prefix="secscan-bench-advisories-") as tmp:
        db = bench_import(records, Path(tmp))
        bench_queries(db, records)


if __name__ == "__main__":
    main()
