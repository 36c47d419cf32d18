"""Trust benchmark (issue trust-2): what the link rule and the import-reachability walk cost.

On Django's source (about 2,800 Python files, from the package index), in one run:

1. the one file walk with the link rule and the reachability of default-excluded code
   (:class:`secscan.files.Selection`), and the test-path classification walk
   (:func:`secscan.testcode.production_imported`), each the median of 5;
2. the tree checks scanner (links, compiled code, confusables, bidi controls) when present;
3. a cold ``secscan scan --only bandit,semgrep --no-cache``.

Prints (1 + 2) / (3). Bar: under 0.03.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.bench_core import DJANGO, django_tree, timed
from secscan import files, pathmatch, testcode
from secscan.sourcefiles import SourceTree


def _median(fn: object, n: int = 5) -> float:
    runs = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs)


def _walks(tree: Path) -> tuple[float, float]:
    t_select = _median(lambda: files.Selection().listing(tree))
    listing = files.Selection().listing(tree)

    def classify() -> None:
        source = SourceTree(tree)
        testcode.production_imported(listing.files, testcode.DEFAULT_TEST_PATHS, source.text)

    return t_select, _median(classify)


def _tree_checks(tree: Path) -> float:
    """``secscan scan --only tree`` on the tree, the whole command, no cache."""
    secscan = str(Path(sys.executable).parent / "secscan")
    with tempfile.TemporaryDirectory() as tmp:
        return timed([secscan, "scan", str(tree), "--only", "tree", "--no-cache", "--out", tmp, "--no-progress"])


def main() -> None:
    tree = django_tree()
    listing = files.walk(tree, pathmatch.excludes())
    print(f"target: {DJANGO} source, {len(listing.files)} files, {len(listing.escaping)} links not followed")
    t_select, t_classify = _walks(tree)
    print(f"file walk + link rule + reachability of excluded code: {t_select * 1000:.0f} ms (median of 5)")
    print(f"test-path classification walk: {t_classify * 1000:.0f} ms (median of 5)")
    t_tree = _tree_checks(tree)
    print(f"secscan scan --only tree (whole command, no cache): {t_tree:.2f} s")
    secscan = str(Path(sys.executable).parent / "secscan")
    with tempfile.TemporaryDirectory() as tmp:
        t_scan = timed(
            [secscan, "scan", str(tree), "--only", "bandit,semgrep", "--no-cache", "--out", tmp, "--no-progress"]
        )
    print(f"cold secscan scan --only bandit,semgrep --no-cache: {t_scan:.1f} s")
    cost = t_select + t_classify + t_tree
    ratio = cost / t_scan
    print(f"RATIO trust checks / cold scan: {ratio:.4f} (bar < 0.03) {'OK' if ratio < 0.03 else 'OVER'}")
