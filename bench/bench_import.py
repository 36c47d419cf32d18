"""SARIF import of 100,000 results from the real producers' files: what the importer costs on
top of reading the JSON at all, and what fingerprint + dedupe add.

Prints, measured in this one run (CPU time of this process, steadier than wall time on a shared
machine): json.loads alone; ``sarif.read`` (json.loads included) and
its ratio to json.loads; fingerprint + dedupe; and the import summary's counts, which must add up
(results = findings + duplicates + skipped).
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

SARIF = Path(__file__).resolve().parent.parent / "tests" / "data" / "importers" / "sarif"
# Producers whose results carry locations (so the copies land in distinct files and lines).
SOURCES = (
    "gitleaks/gitleaks_7.5.0.sarif",
    "njsscan/njsscan_0.2.3.sarif",
    "mobsfscan/mobsfscan_0.0.8.json",
    "bandit/bandit-1.9.4_generated.sarif",
    "semgrep/semgrep-1.182.0_generated.sarif",
    "sentinel/sentinel_fingerprints.sarif",
)
TOTAL = 100_000


def build(total: int) -> str:
    """One log with a run per producer, its results copied into many files and lines."""
    runs = [json.loads((SARIF / name).read_text(encoding="utf-8"))["runs"][0] for name in SOURCES]
    per_copy = sum(len(r["results"]) for r in runs)
    copies = total // per_copy
    out_runs: list[dict[str, Any]] = []
    for run in runs:
        results: list[dict[str, Any]] = []
        for i in range(copies):
            for r in run["results"]:
                r2 = copy.deepcopy(r)
                for loc in r2.get("locations", []):
                    phys = loc.get("physicalLocation", {})
                    art = phys.get("artifactLocation")
                    if art and "uri" in art:
                        # Each copy in its own folder, keeping the producer's URI form (file:, ./).
                        head, _, name = art["uri"].rpartition("/")
                        art["uri"] = f"{head}/copy{i % 50}/{i}/{name or 'app'}" if head else f"copy{i}/{name}"
                    if "region" in phys and "startLine" in phys["region"]:
                        phys["region"]["startLine"] += i % 5
                        phys["region"].pop("endLine", None)
                results.append(r2)
        out_runs.append({**run, "results": results})
    return json.dumps({"version": "2.1.0", "runs": out_runs})


def main() -> None:
    from secscan import fingerprint
    from secscan.importers import sarif
    from secscan.sourcefiles import SourceTree
    from secscan.triage.dedupe import dedupe

    text = build(TOTAL)
    tree = SourceTree(None)
    t0 = time.process_time()
    json.loads(text)
    t1 = time.process_time()
    log = sarif.read(text, tree=tree, origin="bench.sarif")
    t2 = time.process_time()
    merged = dedupe(fingerprint.assign(list(log.findings), tree=tree))
    t3 = time.process_time()
    duplicates = len(log.findings) - len(merged)
    print(f"{log.results:,} results, {len(text) / 1e6:.0f} MB of SARIF from {len(SOURCES)} producers")
    print(f"json.loads alone             {t1 - t0:6.2f} s CPU")
    print(f"sarif.read (with json.loads) {t2 - t1:6.2f} s CPU, ratio to json.loads {(t2 - t1) / (t1 - t0):.1f}")
    print(f"fingerprint + dedupe         {t3 - t2:6.2f} s CPU")
    print(
        f"summary: {len(merged):,} findings + {duplicates:,} duplicates + {log.skipped:,} skipped"
        f" = {len(merged) + duplicates + log.skipped:,} (results {log.results:,})"
    )
