"""Core benchmark: orchestration overhead and start-up time.

1. Scan Django's source (about 2,800 Python files, from the package index) with bandit and
   semgrep through `secscan scan`, then run each scanner's own recorded command alone, and
   print wall(secscan) / wall(slower scanner alone). Bar: at most 1.15.
2. `secscan --version` wall time (median of 15). Bar: under 0.3 s.
All figures come from the same run on the same machine.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

CACHE = Path(__file__).resolve().parent / ".cache"
DJANGO = "django==5.1.4"
ENV = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0"}


def django_tree() -> Path:
    CACHE.mkdir(exist_ok=True)
    unpacked = CACHE / "django-src"
    if not unpacked.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                DJANGO,
                "-d",
                str(CACHE),
            ],
            check=True,
        )
        sdist = next(CACHE.glob("[Dd]jango-*.tar.gz"))
        with tarfile.open(sdist) as tf:
            tf.extractall(CACHE / "tmp-unpack", filter="data")
        next((CACHE / "tmp-unpack").iterdir()).rename(unpacked)
    return unpacked


def timed(argv: list[str], cwd: Path | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t0


def main() -> None:
    bin_dir = Path(sys.executable).parent
    secscan = str(bin_dir / "secscan")
    tree = django_tree()
    n_files = sum(1 for _ in tree.rglob("*.py"))
    print(f"target: {DJANGO} source, {n_files} Python files, {os.cpu_count()} cores")
    for p in tree.rglob("*.py"):  # warm the page cache so the first run is not penalised
        p.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        t_secscan = timed([secscan, "scan", str(tree), "--only", "bandit,semgrep", "--out", str(out), "--no-progress"])
        doc = json.loads((out / "secscan.json").read_text())
        alone: dict[str, float] = {}
        for status in doc["scanners"]:
            argv = list(status["command"])
            # The same command, run alone; only its (deleted) scratch output path is replaced.
            for i, arg in enumerate(argv[:-1]):
                if arg in ("-o", "--output"):
                    argv[i + 1] = str(Path(tmp) / f"alone-{status['name']}.json")
            alone[status["name"]] = timed(argv, cwd=tree)
        findings = len(doc["findings"])
    slower = max(alone, key=lambda k: alone[k])
    ratio = t_secscan / alone[slower]
    for name, t in alone.items():
        print(f"{name} alone: {t:.1f} s")
    print(f"secscan scan (bandit + semgrep, {findings} findings): {t_secscan:.1f} s")
    print(
        f"RATIO secscan / slower scanner alone ({slower}): {ratio:.3f} "
        f"(bar <= 1.15) {'OK' if ratio <= 1.15 else 'OVER'}"
    )

    runs = []
    for _ in range(15):
        runs.append(timed([secscan, "--version"]))
    med = statistics.median(runs)
    print(f"secscan --version: median {med * 1000:.0f} ms over 15 runs (bar < 300 ms) {'OK' if med < 0.3 else 'OVER'}")
