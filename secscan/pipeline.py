"""The scan pipeline: collect (scanners in parallel) -> normalize -> fingerprint -> triage -> gate.

Each stage is a plain function over plain data (see DESIGN.md's data flow); this module only
sequences them, runs the scanners side by side, and makes sure an interrupted run stops its
children. Files are written by the CLI, not here.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

from secscan import __version__, compliance, fingerprint, pathmatch, policy, triage
from secscan.config import ScanConfig
from secscan.errors import ConfigError
from secscan.models import Finding, Kind, Location, RunResult, ScannerState, ScannerStatus
from secscan.scanners import get as get_scanner
from secscan.scanners.base import EventSink, RunContext, ScanOutcome
from secscan.sourcefiles import SourceTree
from secscan.textsafe import mask_pans, redact_secret
from secscan.triage.diff import DiffInfo


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, kw_only=True)
class Collected:
    """What the scanners produced, before any triage."""

    outcomes: tuple[ScanOutcome, ...]
    advisory_db: str | None = None
    warnings: tuple[str, ...] = ()
    """Warnings of the collection itself (e.g. advisory files skipped at import)."""


@contextlib.contextmanager
def _advisory_service(cfg: ScanConfig) -> Iterator[tuple[str | None, str | None, tuple[str, ...]]]:
    """(osv_url, snapshot, warnings) for pip-audit: the local advisory server with --advisory-db."""
    if cfg.advisory_db is None or cfg.osv_url or "pip-audit" not in cfg.selected_scanners():
        yield None, None, ()
        return
    if not cfg.advisory_db.exists():
        raise ConfigError(f"advisory database {cfg.advisory_db} does not exist")
    from secscan.advisories import service

    with service.start(cfg.advisory_db) as svc:
        yield svc.url, svc.snapshot, tuple(svc.warnings)


def collect(
    cfg: ScanConfig,
    *,
    tree: SourceTree,
    workdir: Path,
    events: EventSink,
    cancel: threading.Event,
    changed_files: tuple[str, ...] | None = None,
    on_done: Callable[[ScanOutcome], None] | None = None,
) -> Collected:
    """Run the selected scanners concurrently; every scanner returns an outcome, even on error."""
    names = cfg.selected_scanners()
    with _advisory_service(cfg) as (osv_url, snapshot, service_warnings):
        ctx = RunContext(
            workdir=workdir, tree=tree, osv_url=osv_url, events=events, cancel=cancel, changed_files=changed_files
        )

        def run_one(name: str) -> ScanOutcome:
            events(name, "started")
            started = time.monotonic()
            try:
                outcome = get_scanner(name).run(cfg, ctx)
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
    return Collected(outcomes=tuple(outcomes), advisory_db=snapshot, warnings=service_warnings)


def process(
    findings: list[Finding],
    *,
    cfg: ScanConfig,
    tree: SourceTree,
    today: date,
    diff_info: DiffInfo | None = None,
    scanners_run: tuple[str, ...] | None = None,
    scanned_paths: tuple[str, ...] | None = None,
) -> tuple[tuple[Finding, ...], tuple[str, ...]]:
    """normalize -> fingerprint -> triage (pure stages).

    ``scanners_run``/``scanned_paths`` keep baseline entries that this run could not have seen
    (a scanner that failed or was not selected, a file outside --changed-only) from being
    reported as fixed.
    """
    normalized = compliance.annotate(findings)
    fingerprinted = fingerprint.assign(normalized, tree=tree)
    outcome = triage.apply(
        fingerprinted,
        triage.TriageContext(
            tree=tree,
            today=today,
            suppressions=cfg.suppressions,
            baseline=cfg.baseline,
            diff_base=cfg.diff_base,
            diff=diff_info,
            scanners_run=scanners_run,
            scanned_paths=scanned_paths,
            excluded=pathmatch.excludes(cfg.exclude),  # schema branch: what no scanner looked at
        ),
    )
    return tuple(redact_secrets(outcome.findings)), outcome.warnings


def _redacted(loc: Location, secret: bool) -> Location:
    snippet = loc.snippet
    if snippet:
        snippet = mask_pans(redact_secret(snippet) if secret else snippet)
    evidence = mask_pans(loc.evidence) if loc.evidence else loc.evidence
    return replace(loc, snippet=snippet, evidence=evidence)


def redact_secrets(findings: Sequence[Finding]) -> list[Finding]:
    """Mask secrets and card numbers in what findings quote from the code, after fingerprinting
    (which needs the real code) and before anything is written: a live key or a PAN must not
    spread into CI artifacts, merge request notes or dashboards."""
    out = []
    for f in findings:
        secret = f.kind is Kind.SECRET
        out.append(
            replace(
                f,
                message=mask_pans(f.message),
                location=_redacted(f.location, secret),
                other_locations=tuple(_redacted(x, secret) for x in f.other_locations),
                sources=tuple(
                    replace(s, location=_redacted(s.location, secret), message=mask_pans(s.message)) for s in f.sources
                ),
            )
        )
    return out


def gate(result: RunResult, cfg: ScanConfig) -> RunResult:
    pol = policy.load_policy(cfg.policy)
    if cfg.fail_closed is not None:
        pol = replace(pol, fail_closed=cfg.fail_closed)
    return replace(result, verdict=policy.evaluate(result, pol))


def diff_for(cfg: ScanConfig) -> DiffInfo | None:
    """The diff against --diff-base, computed once for --changed-only and for new/existing."""
    if cfg.changed_only and not cfg.diff_base:
        raise ConfigError(
            "--changed-only needs --diff-base REF (or CI_MERGE_REQUEST_DIFF_BASE_SHA in a merge request pipeline)"
        )
    if not cfg.diff_base:
        return None
    from secscan.triage import diff

    return diff.diff_info(cfg.target, cfg.diff_base)


def run_scan(
    cfg: ScanConfig,
    *,
    workdir: Path,
    events: EventSink,
    cancel: threading.Event,
    on_done: Callable[[ScanOutcome], None] | None = None,
    meta: dict[str, str] | None = None,
) -> RunResult:
    """The whole `secscan scan` minus file writing and publishing."""
    started = utc_now()
    tree = SourceTree(cfg.target)
    diff_info = diff_for(cfg)
    changed = diff_info.changed_paths() if diff_info is not None and cfg.changed_only else None
    collected = collect(
        cfg, tree=tree, workdir=workdir, events=events, cancel=cancel, changed_files=changed, on_done=on_done
    )
    raw: list[Finding] = [f for o in collected.outcomes for f in o.findings]
    findings, warnings = process(
        raw,
        cfg=cfg,
        tree=tree,
        today=datetime.now(UTC).date(),
        diff_info=diff_info,
        scanners_run=tuple(o.status.name for o in collected.outcomes if o.status.state is ScannerState.OK),
        scanned_paths=changed,
    )
    scanner_warnings = collected.warnings + tuple(w for o in collected.outcomes for w in o.warnings)
    result = RunResult(
        tool_version=__version__,
        target=str(cfg.target),
        started_at=started,
        finished_at=utc_now(),
        scanners=tuple(o.status for o in collected.outcomes),
        findings=findings,
        advisory_db=collected.advisory_db,
        baseline=str(cfg.baseline) if cfg.baseline else None,
        diff_base=cfg.diff_base,
        warnings=scanner_warnings + tuple(warnings),
        meta=tuple(sorted((meta or {}).items())),
    )
    return gate(result, cfg)
