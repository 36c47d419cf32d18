"""Bounded input (issue 32): a 200 MB SARIF import, and how fast bad reports are refused.

1. ``secscan import --tool sarif`` of a 200 MB log (the real producers' results of
   tests/data/importers/sarif copied into many files and lines, written the way the tools
   write it, indented), in a child process: wall time, peak RSS of the child
   (``getrusage(RUSAGE_CHILDREN).ru_maxrss``) and the size of the ``secscan.json`` written.
   Bars: peak RSS at most 1 GiB; time linear (the 100 MB log takes about half as long).
2. Fuzz cases per second: the hypothesis fuzz of tests/reliability (mutated real reports of
   every importer, through the CLI in-process), every case exit 0 or 2, never 70.
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

SARIF = Path(__file__).resolve().parent.parent / "tests" / "data" / "importers" / "sarif"
SOURCES = (
    "gitleaks/gitleaks_7.5.0.sarif",
    "njsscan/njsscan_0.2.3.sarif",
    "mobsfscan/mobsfscan_0.0.8.json",
    "bandit/bandit-1.9.4_generated.sarif",
    "semgrep/semgrep-1.182.0_generated.sarif",
    "flawfinder/flawfinder_2.0.19.sarif",
)
GIB = 1024**3


def _copy(result: dict[str, Any], i: int) -> dict[str, Any]:
    """A result moved to its own file and line (so that nothing deduplicates it away)."""
    r = json.loads(json.dumps(result))
    for loc in r.get("locations", []):
        phys = loc.get("physicalLocation", {})
        art = phys.get("artifactLocation")
        if art and "uri" in art:
            head, _, name = art["uri"].rpartition("/")
            art["uri"] = f"{head}/copy{i % 97}/{i}/{name or 'app'}" if head else f"copy{i % 97}/{i}/{name}"
        region = phys.get("region")
        if isinstance(region, dict) and "startLine" in region:
            region["startLine"] += i % 7
            region.pop("endLine", None)
    return r


def write_sarif(path: Path, target_bytes: int) -> int:
    """Write a SARIF log of about ``target_bytes`` (one run per producer); its result count."""
    runs = [json.loads((SARIF / name).read_text(encoding="utf-8"))["runs"][0] for name in SOURCES]
    share = target_bytes // len(runs)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{\n  "version": "2.1.0",\n  "runs": [\n')
        for n, run in enumerate(runs):
            head = {k: v for k, v in run.items() if k != "results"}
            text = json.dumps(head, indent=2)
            out.write(("" if n == 0 else ",\n") + text[:-2] + ',\n  "results": [\n')
            start = out.tell()
            i = 0
            while out.tell() - start < share:
                for res in run["results"]:
                    out.write(("" if i == 0 else ",\n") + json.dumps(_copy(res, i), indent=2))
                    i += 1
            count += i
            out.write("\n  ]\n}")
        out.write("\n  ]\n}\n")
    return count


def import_once(sarif: Path, out: Path) -> tuple[float, int, int]:
    """(wall seconds, peak RSS bytes, exit code) of one ``secscan import`` in a fresh child."""
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: measure each size in its own
    # grandchild-free process so that the figure is this import's alone.
    code = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
        "wall = time.perf_counter() - t\n"
        "print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, rc)\n"
    )
    empty = out.parent / "root"
    empty.mkdir(exist_ok=True)
    argv = [sys.executable, "-m", "secscan", "import", "--tool", "sarif", str(sarif), "-o", str(out)]
    proc = subprocess.run(
        [sys.executable, "-c", code, *argv, "--root", str(empty)], capture_output=True, text=True, check=True
    )
    wall, rss, rc = proc.stdout.split()
    return float(wall), int(rss), int(rc)


def bench_sarif() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        figures: dict[int, float] = {}
        for mb in (100, 200):
            sarif = Path(tmp) / f"big-{mb}.sarif"
            results = write_sarif(sarif, mb * 1_000_000)
            out = Path(tmp) / "secscan.json"
            wall, rss, rc = import_once(sarif, out)
            figures[mb] = wall
            size = out.stat().st_size if out.exists() else 0
            print(
                f"import {sarif.stat().st_size / 1e6:.0f} MB SARIF ({results:,} results): {wall:.1f} s, "
                f"peak RSS {rss / 2**20:.0f} MiB (bar <= 1024) {'OK' if rss <= GIB else 'OVER'}, "
                f"exit {rc}, secscan.json {size / 1e6:.0f} MB"
            )
            sarif.unlink()
        ratio = figures[200] / figures[100]
        print(f"time 200 MB / 100 MB: {ratio:.2f} (linear: about 2) {'OK' if ratio < 2.6 else 'SUPERLINEAR'}")


def bench_fuzz() -> None:
    # In-process through the CLI, exactly as the suite's fuzz test (tests/reliability).
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", tempfile.mkdtemp())
    from tests.reliability import fuzz_support

    cases = 300
    t0 = time.perf_counter()
    outcomes = fuzz_support.run_fuzz(cases)
    wall = time.perf_counter() - t0
    crashed = outcomes.get(70, 0)
    print(
        f"fuzz: {sum(outcomes.values())} cases in {wall:.1f} s = {sum(outcomes.values()) / wall:.0f} cases/s; "
        f"exit codes {dict(sorted(outcomes.items()))} {'OK' if not crashed else 'EXIT 70 SEEN'}"
    )


def main() -> None:
    print(f"{os.cpu_count()} cores; RUSAGE_CHILDREN peak RSS in MiB")
    bench_sarif()
    bench_fuzz()


if __name__ == "__main__":
    main()
