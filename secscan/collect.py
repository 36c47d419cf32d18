"""Collect: run the selected scanners side by side and return what each said.

Every scanner returns an outcome, even on error, so one failing scanner never loses the others'
results; an interrupted run sets ``cancel`` so scanners kill their process groups and return.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from secscan.core import Evidence, utc_now
from secscan.inputs import Inputs
from secscan.models import ScannerState, ScannerStatus
from secscan.scanners import registry
from secscan.scanners.base import EventSink, RunContext, ScanOutcome
from secscan.sourcefiles import SourceTree


@contextlib.contextmanager
def _advisory_service(inputs: Inputs) -> Iterator[tuple[str | None, str | None, tuple[str, ...]]]:
    """(osv_url, snapshot, warnings) for pip-audit: the local advisory server with --advisory-db."""
    cfg = inputs.cfg
    if cfg.advisory_db is None or cfg.osv_url or "pip-audit" not in inputs.scanners:
        yield None, None, ()
        return
    from secscan.advisories import service

    with service.start(cfg.advisory_db) as svc:
        yield svc.url, svc.snapshot, tuple(svc.warnings)


def collect(
    inputs: Inputs,
    *,
    tree: SourceTree,
    workdir: Path,
    events: EventSink,
    cancel: threading.Event,
    on_done: Callable[[ScanOutcome], None] | None = None,
    meta: tuple[tuple[str, str], ...] = (),
) -> Evidence:
    """Run the selected scanners concurrently (at most ``jobs`` at a time)."""
    started_at = utc_now()
    names = inputs.scanners
    cfg = inputs.cfg
    with _advisory_service(inputs) as (osv_url, snapshot, service_warnings):
        ctx = RunContext(
            workdir=workdir,
            tree=tree,
            osv_url=osv_url,
            events=events,
            cancel=cancel,
            changed_files=inputs.changed_files,
            zap_config=inputs.zap_config,
        )

        def run_one(name: str) -> ScanOutcome:
            events(name, "started")
            started = time.monotonic()
            try:
                outcome = registry.get(name).run(cfg, ctx)
            except Exception as e:  # noqa: BLE001 - a bug in one backend must not lose the others' results
                outcome = ScanOutcome(
                    status=ScannerStatus(
                        name=name,
                        state=ScannerState.FAILED,
                        error=f"internal error in the {name} backend: {type(e).__name__}: {e}",
                        duration_s=time.monotonic() - started,
                    )
                )
            if on_done is not None:
                on_done(outcome)
            return outcome

        outcomes: list[ScanOutcome] = []
        with ThreadPoolExecutor(max_workers=max(1, min(cfg.jobs, len(names) or 1)), thread_name_prefix="scan") as pool:
            futures: list[Future[ScanOutcome]] = [pool.submit(run_one, n) for n in names]
            try:
                for fut in futures:
                    # Poll so a KeyboardInterrupt reaches this thread promptly.
                    while True:
                        try:
                            outcomes.append(fut.result(timeout=0.2))
                            break
                        except TimeoutError:
                            continue
            except BaseException:
                cancel.set()  # scanners kill their process groups and return
                raise
    order = {n: i for i, n in enumerate(names)}
    outcomes.sort(key=lambda o: order.get(o.status.name, 99))
    return Evidence(
        findings=tuple(f for o in outcomes for f in o.findings),
        statuses=tuple(o.status for o in outcomes),
        target=str(cfg.target),
        started_at=started_at,
        finished_at=utc_now(),
        warnings=inputs.warnings + service_warnings + tuple(w for o in outcomes for w in o.warnings),
        advisory_db=snapshot,
        meta=meta,
        scanned_paths=inputs.changed_files,
    )
