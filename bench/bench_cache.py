"""Cache benchmark (issue 20): incremental scans, the physical limit, shards.

On Django's and Flask's sources (sdists from the package index, kept in bench/.cache), in one run:
1. cold `secscan scan --only bandit,semgrep` with a fresh cache folder;
2. re-run with nothing changed / cold (bar <= 0.05);
3. re-run after one file changed / cold (bar <= 0.15);
4. cold secscan / physical limit (bar <= 1.10), where the limit is the larger of the slower
   scanner's wall time alone as a user runs it (default options) and the CPU-seconds of both
   alone over the cores (CPU from getrusage(RUSAGE_CHILDREN) deltas);
5. `--shard k/4` for k=1..4 merged vs one scan: same findings (fingerprints and statuses).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.bench_core import CACHE, django_tree

FLASK = "flask==3.1.0"
ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0"}


def flask_tree() -> Path:
    CACHE.mkdir(exist_ok=True)
    unpacked = CACHE / "flask-src"
    if not unpacked.exists():
        dl = CACHE / "flask-dl"
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:", FLASK, "-d", str(dl)],
            check=True,
        )
        sdist = next(dl.glob("[Ff]lask-*.tar.gz"))
        tmp = CACHE / "tmp-unpack-flask"
        with tarfile.open(sdist) as tf:
            tf.extractall(tmp, filter="data")
        next(tmp.iterdir()).rename(unpacked)
    return unpacked


def measured(argv: list[str], cwd: Path | None = None) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the children) of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def findings_of(doc_path: Path) -> set[tuple[str, str]]:
    doc = json.loads(doc_path.read_text())
    return {(f["fingerprint"], f["status"]) for f in doc["findings"]}


def cache_counts(doc_path: Path) -> str:
    doc = json.loads(doc_path.read_text())
    return ", ".join(
        f"{s['name']} {s.get('cache_hits') or 0} hits/{s.get('cache_misses') or 0} misses" for s in doc["scanners"]
    )


def bar(ratio: float, limit: float) -> str:
    return f"(bar <= {limit:.2f}) {'OK' if ratio <= limit else 'OVER'}"


def one_project(name: str, source: Path, tmp: Path) -> None:
    bin_dir = Path(sys.executable).parent
    secscan = str(bin_dir / "secscan")
    tree = tmp / name
    shutil.copytree(source, tree, symlinks=True)
    py_files = sorted(tree.rglob("*.py"))
    for p in tree.rglob("*"):  # warm the page cache so the first run is not penalised
        if p.is_file():
            p.read_bytes()
    cores = os.cpu_count() or 1
    print(f"--- {name}: {len(py_files)} Python files, {cores} cores")
    cache_dir = tmp / f"{name}-cache"

    def scan(out: str, *extra: str) -> tuple[float, float, Path]:
        argv = [secscan, "scan", str(tree), "--only", "bandit,semgrep", "--out", str(tmp / out), "--no-progress"]
        wall, cpu = measured([*argv, "--cache-dir", str(cache_dir), *extra])
        return wall, cpu, tmp / out / "secscan.json"

    cold, cold_cpu, cold_doc = scan(f"{name}-cold")
    warm, _, warm_doc = scan(f"{name}-warm")
    edited = py_files[len(py_files) // 2]
    edited.write_text(edited.read_text() + "\n# edited by the cache benchmark\n")
    one, _, one_doc = scan(f"{name}-one")
    same_warm = findings_of(warm_doc) == findings_of(cold_doc)
    print(f"cold scan: {cold:.2f} s ({cold_cpu:.1f} CPU-s), {len(findings_of(cold_doc))} findings")
    print(f"warm scan (nothing changed): {warm:.2f} s, same findings: {'yes' if same_warm else 'NO'}")
    print(f"  {cache_counts(warm_doc)}")
    print(f"one file changed: {one:.2f} s; {cache_counts(one_doc)}")
    print(f"RATIO {name} nothing changed / cold: {warm / cold:.3f} {bar(warm / cold, 0.05)}")
    print(f"RATIO {name} one file changed / cold: {one / cold:.3f} {bar(one / cold, 0.15)}")

    # The scanners alone, as a user runs them (default options), on the same (edited) tree.
    bandit_w, bandit_c = measured([str(bin_dir / "bandit"), "-r", str(tree), "-f", "json", "-o", str(tmp / "b.json")])
    semgrep_exe = shutil.which("semgrep", path=str(bin_dir)) or "semgrep"
    rules = ROOT / "rules" / "semgrep"
    semgrep_argv = [semgrep_exe, "scan", "--config", str(rules), "--json", "-o", str(tmp / "s.json")]
    semgrep_w, semgrep_c = measured([*semgrep_argv, "--metrics=off", "--disable-version-check", str(tree)])
    limit = max(bandit_w, semgrep_w, (bandit_c + semgrep_c) / cores)
    default_scanned = len(json.loads((tmp / "s.json").read_text())["paths"]["scanned"])
    # semgrep's defaults skip tests/, docs and whatever its own ignore list names; secscan scans
    # them on purpose (README, threat model). The same work alone: its ignore files off.
    same_w, same_c = measured(
        [*semgrep_argv, "--metrics=off", "--disable-version-check", "--x-ignore-semgrepignore-files", str(tree)]
    )
    same_limit = max(bandit_w, same_w, (bandit_c + same_c) / cores)
    scanned = len(json.loads((tmp / "s.json").read_text())["paths"]["scanned"])
    cold2, cold2_cpu, _ = scan(f"{name}-cold2", "--no-cache")
    print(f"bandit alone: {bandit_w:.2f} s ({bandit_c:.1f} CPU-s)")
    print(f"semgrep alone: {semgrep_w:.2f} s ({semgrep_c:.1f} CPU-s)")
    print(f"physical limit: {limit:.2f} s; cold secscan --no-cache: {cold2:.2f} s ({cold2_cpu:.1f} CPU-s)")
    # The default run (cache on, fresh folder: it also writes every entry) is the one compared.
    print(f"RATIO {name} cold secscan / physical limit: {cold / limit:.3f} {bar(cold / limit, 1.10)}")
    print(f"semgrep alone with its defaults scans {default_scanned} files")
    print(f"semgrep alone on the files secscan gives it ({scanned} files): {same_w:.2f} s ({same_c:.1f} CPU-s)")
    print(f"same-work limit: {same_limit:.2f} s; cold secscan / same-work limit: {cold / same_limit:.3f}")

    shards(name, tmp, secscan, scan)


def shards(name: str, tmp: Path, secscan: str, scan: Callable[..., tuple[float, float, Path]]) -> None:
    """4 shards merged vs one unsharded scan (both without the cache: each shard is a cold job)."""
    shard_docs = []
    for k in range(1, 5):
        _, _, doc = scan(f"{name}-shard{k}", "--no-cache", "--shard", f"{k}/4")
        shard_docs.append(str(doc))
    merged = tmp / f"{name}-merged.json"
    subprocess.run([secscan, "merge", *shard_docs, "--out", str(merged)], env=ENV, capture_output=True, check=False)
    whole = findings_of(tmp / f"{name}-cold2" / "secscan.json")
    parts = findings_of(merged) if merged.exists() else set()
    print(
        f"4 shards merged vs one scan: same findings: {'yes' if parts == whole else 'NO'} "
        f"({len(parts)} merged, {len(whole)} unsharded)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        one_project("django", django_tree(), Path(tmp))
        one_project("flask", flask_tree(), Path(tmp))


if __name__ == "__main__":
    main()
