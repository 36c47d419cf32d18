"""Detection cost (issue 28): semgrep's time with today's rules vs the rules before the OWASP web
families, on Django's source and, when given, on a large TypeScript app.

The old rules are read from git (``git archive <base> rules/semgrep`` into a temp folder: nothing
in the work tree changes). Both rule sets run the same semgrep command, one job, semgrep's default
ignores, twice each, alternating; the best of each is kept. Wall time is what a pipeline waits
for; CPU time (user + sys of semgrep and its workers) is steadier on a shared machine. Bar: the
new rules at most 1.5x the old.

Environment: ``BENCH_DETECT_AS`` (``secscan``: each rule set as secscan hands it to semgrep, one
JSON rule file and osemgrep; ``folder``: the rules folder, as a user runs semgrep),
``BENCH_DETECT_BASE`` (default e64b5a8, the last commit before issue 28's rules),
``BENCH_DETECT_TS`` (a TypeScript app's folder; skipped when unset), ``BENCH_DETECT_REPEAT`` (runs
per rule set, default 2). The TypeScript app measured
in rules/PRECISION.md is Outline (https://github.com/outline/outline, commit d77dcdf85386, BSL 1.1;
read only, nothing of it is in this repository): a Koa server and a React client, 2,160 .ts/.tsx
files (2,464 files semgrep scans with its default ignores):
``git clone https://github.com/outline/outline && git -C outline checkout d77dcdf85386``.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bench.bench_core import ENV, django_tree
from secscan.scanners.semgrep import bundled_rules

ROOT = Path(__file__).resolve().parents[1]
BASE = os.environ.get("BENCH_DETECT_BASE", "e64b5a8")
BAR = 1.5
# Runs per rule set (best kept); 1 on a machine too loaded for four runs per target.
REPEAT = int(os.environ.get("BENCH_DETECT_REPEAT", "2"))
# "secscan" (default): each rule set as secscan runs it (one JSON rule file, osemgrep); "folder":
# semgrep given the rules folder, as a user runs it (pysemgrep reads each rule file with its own
# semgrep-core process, which the 16 more rule files of the new set pay on every run).
AS = os.environ.get("BENCH_DETECT_AS", "secscan")


def old_rules(dest: Path) -> Path:
    """rules/semgrep as of BASE, unpacked under ``dest``."""
    data = subprocess.run(["git", "archive", BASE, "rules/semgrep"], cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        tf.extractall(dest, filter="data")
    return dest / "rules" / "semgrep"


def as_secscan_runs_it(rules: Path, dest: Path) -> tuple[Path, tuple[str, ...]]:
    """The rule set and front end the way ``secscan scan`` hands them to semgrep: one JSON rule
    file (secscan.scanners.semgrep.bundled_rules) and osemgrep (``--experimental``)."""
    bundle = bundled_rules(str(rules))
    if bundle is None:
        return rules, ()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps({"rules": bundle}), encoding="utf-8")
    return dest, ("--experimental",)


def run(rules: Path, target: Path) -> tuple[float, float, int]:
    """(wall s, cpu s, findings) of one semgrep run (its bundle, if any, in a folder of its own)."""
    semgrep = str(Path(sys.executable).parent / "semgrep")
    with tempfile.TemporaryDirectory() as scratch:
        config, front_end = (rules, ()) if AS == "folder" else as_secscan_runs_it(rules, Path(scratch) / "0.json")
        return _timed(semgrep, config, front_end, target)


def _timed(semgrep: str, config: Path, front_end: tuple[str, ...], target: Path) -> tuple[float, float, int]:
    argv = [semgrep, "scan", *front_end, "--metrics=off", "--disable-version-check", "--no-git-ignore",
            "--config", str(config), "--json", "--timeout", "30", "-j", "1", "."]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(argv, cwd=target, env=ENV, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    try:
        findings = len(json.loads(proc.stdout)["results"])
    except (ValueError, KeyError):
        findings = -1
    return wall, cpu, findings


def compare(name: str, target: Path, old: Path, new: Path) -> None:
    best: dict[str, tuple[float, float, int]] = {}
    for _ in range(REPEAT):
        for label, rules in (("old", old), ("new", new)):
            w, c, n = run(rules, target)
            prev = best.get(label)
            best[label] = (min(w, prev[0]), min(c, prev[1]), n) if prev else (w, c, n)
    (ow, oc, on), (nw, nc, nn) = best["old"], best["new"]
    print(f"{name}: old rules {ow:.1f} s wall / {oc:.1f} s cpu ({on} findings); "
          f"new rules {nw:.1f} s wall / {nc:.1f} s cpu ({nn} findings)")  # fmt: skip
    for what, ratio in (("wall", nw / ow), ("cpu", nc / oc)):
        print(f"RATIO {name} {what} new / old: {ratio:.2f} (bar <= {BAR}) {'OK' if ratio <= BAR else 'OVER'}")


def main() -> None:
    new = ROOT / "rules" / "semgrep"
    with tempfile.TemporaryDirectory() as tmp:
        old = old_rules(Path(tmp))
        n_old = sum(1 for _ in old.rglob("*.yaml"))
        n_new = sum(1 for _ in new.rglob("*.yaml"))
        print(f"rule files: {n_old} at {BASE}, {n_new} now; semgrep run as: {AS}")
        compare("django", django_tree(), old, new)
        ts = os.environ.get("BENCH_DETECT_TS")
        if ts:
            compare("typescript app", Path(ts), old, new)
        else:
            print("typescript app: set BENCH_DETECT_TS to a TypeScript app's folder to measure it")


if __name__ == "__main__":
    main()
