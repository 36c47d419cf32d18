"""How much each payment rule costs: semgrep --time over secscan's own source and the example app.

Prints the wall time of one scan and each rule's share of matching time (ratios within one run,
so the figures hold on a loaded machine too). Set BENCH_RULES_TARGET to scan another tree (e.g.
an unpacked Django sdist).
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    exe = Path(sys.executable).parent / "semgrep"
    targets = os.environ.get("BENCH_RULES_TARGET")
    paths = [targets] if targets else [str(ROOT / "secscan"), str(ROOT / "examples" / "payment-app")]
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0"}
    argv = [str(exe), "--metrics=off", "--disable-version-check", "--config", str(ROOT / "rules" / "semgrep")]
    argv += ["--json", "--time", "--timeout", "30", "-j", "1", *paths]
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1800, check=False)
    wall = time.perf_counter() - started
    doc = json.loads(proc.stdout)
    timing = doc["time"]
    per_rule: collections.Counter[str] = collections.Counter()
    for target in timing["targets"]:
        for rule, seconds in zip(timing["rules"], target["match_times"], strict=False):
            per_rule[rule[rule.index("payment.") :]] += seconds
    total = sum(per_rule.values()) or 1.0
    scanned, found, errors = len(doc["paths"]["scanned"]), len(doc["results"]), len(doc["errors"])
    print(f"files scanned: {scanned}  findings: {found}  errors: {errors}")
    print(f"wall time: {wall:.1f}s  rule matching: {total:.2f}s")
    for rule, seconds in per_rule.most_common(5):
        print(f"  {rule:55s} {seconds:6.2f}s  {seconds / total:5.1%}")
