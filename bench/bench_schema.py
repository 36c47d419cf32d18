"""Write and read ``secscan.json`` with 100,000 findings through the schema layer (secscan.schema).

Ratios are against the standard library doing the least it could in the same run: ``json.loads``
of the same text (no validation, no models) and ``json.dumps(indent=2)`` of those plain dicts.
Each step runs in a forked child: wall time, and peak memory as the child's high-water RSS above
its RSS before the step. ``SECSCAN_BENCH_FINDINGS`` changes the count.
"""

from __future__ import annotations

import gc
import json
import os
import resource
import time
from collections.abc import Callable

from bench.bench_reports import _result, _rss_kb
from secscan import resultio


def _measure(step: Callable[[], object]) -> tuple[float, float]:
    """(seconds, peak MB above the start) of ``step`` in a forked child."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(read)
            before = _rss_kb()
            t = time.perf_counter()
            step()
            elapsed = time.perf_counter() - t
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
            os.write(write, f"{elapsed} {grown}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        secs, peak = fh.read().decode().split()
    os.waitpid(pid, 0)
    return float(secs), int(peak) / 1024


def main() -> None:
    n = int(os.environ.get("SECSCAN_BENCH_FINDINGS", "100000"))
    result = _result(n)
    text = resultio.dumps(result)
    plain = json.loads(text)
    assert resultio.loads(text) == result, "the round trip must be lossless"
    gc.collect()
    gc.freeze()  # keep the children's collectors from touching (and copying) the shared data
    print(f"{n} findings, {len(text.encode('utf-8')) / 1e6:.1f} MB of secscan.json", flush=True)
    rows = [
        ("write: resultio.dumps", *_measure(lambda: resultio.dumps(result))),
        ("write: json.dumps(dicts, indent=2)", *_measure(lambda: json.dumps(plain, indent=2, ensure_ascii=False))),
        ("read: resultio.loads (validated)", *_measure(lambda: resultio.loads(text))),
        ("read: json.loads (plain dicts)", *_measure(lambda: json.loads(text))),
    ]
    print(f"{'step':38} {'time s':>7} {'us/finding':>11} {'peak MB':>8}")
    for name, secs, peak in rows:
        print(f"{name:38} {secs:7.2f} {secs / n * 1e6:11.1f} {peak:8.0f}")
    write, write_std, read, read_std = (r[1] for r in rows)
    print(f"ratio write/json.dumps: {write / write_std:.2f}x; read/json.loads: {read / read_std:.2f}x (lower: faster)")
