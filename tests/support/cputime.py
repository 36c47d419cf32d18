"""Opt-in pytest plugin: what each test costs in CPU, the suite's own and its children's.

Wall time on a shared machine says more about the neighbours than about the suite; the CPU time
of the test process and of the processes it started and reaped (scanners, git, pip-audit ...)
does not. One tab-separated line per test, appended as it ends (xdist workers append to the same
file): node id, wall seconds, own CPU seconds, children's CPU seconds, worker. Processes a test
leaves running (a session's dockerd or PostgreSQL server) are counted when they are reaped, or
not at all if something else reaps them.

    PYTHONPATH=$PWD SECSCAN_TEST_CPU_LOG=/tmp/cpu.tsv .venv/bin/python -m pytest \\
        -p tests.support.cputime -n 2 --dist loadgroup -q
    sort -t$'\\t' -k4 -rn /tmp/cpu.tsv | head -30   # the costliest children
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Iterator

import pytest

LOG_ENV = "SECSCAN_TEST_CPU_LOG"


def _cpu() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    log = os.environ.get(LOG_ENV)
    started, (own, children) = time.monotonic(), _cpu()
    yield
    if not log:
        return
    ended, (own_end, children_end) = time.monotonic(), _cpu()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "-")
    line = f"{item.nodeid}\t{ended - started:.2f}\t{own_end - own:.2f}\t{children_end - children:.2f}\t{worker}\n"
    with open(log, "a", encoding="utf-8") as out:  # one short append per test: lines stay whole
        out.write(line)
