"""import + dedupe + gate of 100,000 findings built from the real bandit/semgrep SARIF and a
pip-audit report (tests/data/triage). Bar: under 10 s and 1 GiB on a 2-core machine.

Each size runs in a fresh child process so its peak RSS (ru_maxrss) is its own; an idle child
gives the interpreter's own baseline. Time and memory are reported per stage, and the 100k/10k
time ratio shows whether the pipeline scales linearly (~10x) within the same run.
"""

from __future__ import annotations

import copy
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "triage"
SIZES = (10_000, 100_000)


def build_inputs(total: int, out: Path) -> tuple[Path, Path]:
    """A SARIF log (bandit + semgrep runs) and a pip-audit report with ``total`` results in all.

    Every synthetic file repeats the real sample's findings (8 bandit, 3 semgrep of which 3
    overlap bandit), so dedupe has real cross-scanner work; ~5% are dependency findings with
    aliases, each package reached through two manifests.
    """
    bandit = json.loads((DATA / "bandit-1.9.4_generated.sarif").read_text())
    semgrep = json.loads((DATA / "semgrep-1.182.0_generated.sarif").read_text())
    b_run, s_run = bandit["runs"][0], semgrep["runs"][0]
    b_results, s_results = b_run["results"], s_run["results"]
    deps_total = total // 20
    per_file = len(b_results) + len(s_results)
    files = (total - deps_total) // per_file
    b_out: list[dict[str, object]] = []
    s_out: list[dict[str, object]] = []
    for i in range(files):
        uri = f"service{i % 40}/module_{i}.py"
        for template, sink in ((b_results, b_out), (s_results, s_out)):
            for r in template:
                r2 = copy.deepcopy(r)
                loc = r2["locations"][0]["physicalLocation"]
                loc["artifactLocation"]["uri"] = uri
                region = loc["region"]
                region["startLine"] += i % 7  # the same code at other lines in other files
                region["endLine"] = region.get("endLine", region["startLine"]) + i % 7
                sink.append(r2)
    b_run["results"], s_run["results"] = b_out, s_out
    log = {"version": "2.1.0", "$schema": bandit.get("$schema"), "runs": [b_run, s_run]}
    sarif_path = out / "big.sarif"
    sarif_path.write_text(json.dumps(log))
    deps = []
    for n in range(deps_total // 2):
        vulns = [
            {
                "id": f"PYSEC-2023-{n}",
                "fix_versions": ["9.9"],
                "aliases": [f"CVE-2023-{10000 + n}", f"GHSA-aaaa-bbbb-{n:04d}"],
            }
        ]
        deps.append({"name": f"package-{n % 500}", "version": "1.0", "vulns": vulns})
    audit_path = out / "audit.json"
    audit_path.write_text(json.dumps({"dependencies": deps, "fixes": []}))
    return sarif_path, audit_path


def child(sarif_path: Path, audit_path: Path) -> None:
    """Runs in a fresh interpreter: prints one JSON line with stage timings and peak RSS."""
    from secscan import fingerprint, policy, triage
    from secscan.importers import parse_report
    from secscan.models import RunResult
    from secscan.sourcefiles import SourceTree

    tree = SourceTree(None)
    c0 = time.process_time()
    t0 = time.perf_counter()
    findings = list(parse_report("sarif", sarif_path.read_text(), origin=str(sarif_path), tree=tree).findings)
    audit = audit_path.read_text()
    for manifest in ("requirements.txt", "requirements/prod.txt"):
        findings += parse_report("pip-audit", audit, origin=str(audit_path), tree=tree, manifest=manifest).findings
    t1 = time.perf_counter()
    fingerprinted = fingerprint.assign(findings, tree=tree)
    t2 = time.perf_counter()
    outcome = triage.apply(fingerprinted, triage.TriageContext(tree=tree, today=date(2026, 1, 1)))
    t3 = time.perf_counter()
    result = RunResult(tool_version="bench", target=".", started_at="", finished_at="", findings=outcome.findings)
    verdict = policy.evaluate(result, policy.load_policy(None))
    t4 = time.perf_counter()
    cpu = time.process_time() - c0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "input": len(findings),
                "output": len(outcome.findings),
                "blocking": len(verdict.reasons),
                "import_s": t1 - t0,
                "fingerprint_s": t2 - t1,
                "dedupe_triage_s": t3 - t2,
                "gate_s": t4 - t3,
                "total_s": t4 - t0,
                "cpu_s": cpu,
                "peak_mib": peak_kib / 1024,
            }
        )
    )


def _run_child(*args: str) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.bench_triage", *args],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    row: dict[str, float] = json.loads(proc.stdout.strip().splitlines()[-1])
    return row


def main() -> None:
    idle = _run_child("--idle")
    print(f"interpreter + secscan imports alone: peak {idle['peak_mib']:.0f} MiB")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in SIZES:
            sarif_path, audit_path = build_inputs(size, Path(tmp))
            r = _run_child("--child", str(sarif_path), str(audit_path))
            rows[size] = r
            print(
                f"{int(r['input']):>7} findings -> {int(r['output']):>6} after dedupe, {int(r['blocking'])} blocking | "
                f"import {r['import_s']:.2f}s  fingerprint {r['fingerprint_s']:.2f}s  "
                f"dedupe+triage {r['dedupe_triage_s']:.2f}s  gate {r['gate_s']:.2f}s | "
                f"total {r['total_s']:.2f}s wall, {r['cpu_s']:.2f}s CPU, peak {r['peak_mib']:.0f} MiB"
            )
    big, small = rows[SIZES[-1]], rows[SIZES[0]]
    ratio = big["total_s"] / small["total_s"] if small["total_s"] else float("nan")
    cpu_ratio = big["cpu_s"] / small["cpu_s"] if small["cpu_s"] else float("nan")
    print(f"ratio {SIZES[-1]}/{SIZES[0]}: {ratio:.1f}x wall, {cpu_ratio:.1f}x CPU (10x = linear)")
    # Wall time counts other processes on a shared machine too; CPU time is this work alone.
    ok = big["cpu_s"] < 10 and big["peak_mib"] < 1024
    print(f"bar (100k under 10 s CPU and 1 GiB): {'met' if ok else 'NOT met'}; wall {big['total_s']:.1f}s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(Path(sys.argv[2]), Path(sys.argv[3]))
    elif sys.argv[1:2] == ["--idle"]:
        import secscan.policy
        import secscan.triage  # noqa: F401

        print(json.dumps({"peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    else:
        main()
