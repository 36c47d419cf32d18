"""Collect: run the selected scanners side by side and return what each said.

Every scanner returns an outcome, even on error, so one failing scanner never loses the others'
results; an interrupted run sets ``cancel`` so scanners kill their process groups and return.

File scanners (:class:`~secscan.scanners.base.FileScanner`: bandit, semgrep, detect-secrets,
the in-process tree checks) only describe themselves; the steps they share are here, once, so
the per-file cache and shards serve every one of them alike: a private work folder, targets from
the run's one walk (:mod:`secscan.files`), the shard's part of them, cache lookups (sealed
entries, :mod:`secscan.cache`), the tool run with its limits (:func:`secscan.proc.run_tool`) in
batches, the exit check, the parse, the accounting of every handed file, the stores and the
outcome. Each file is read and hashed once per run, whichever scanners read it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from secscan import cache, pathmatch
from secscan import files as files_mod
from secscan.config import ScanConfig
from secscan.core import Evidence, mask, utc_now
from secscan.errors import ConfigError, ParseError, ScannerError
from secscan.inputs import Inputs
from secscan.models import AdvisorySnapshot, Finding, NarrowedTestCode, ScannerRules, ScannerState, ScannerStatus, Scope
from secscan.proc import ProcResult, run_tool
from secscan.scanners import registry
from secscan.scanners.base import (
    CommandScanner,
    EventSink,
    FileGap,
    FileScanner,
    InProcessScanner,
    Parsed,
    Prepared,
    Root,
    RunContext,
    Scanner,
    ScanOutcome,
    failed_outcome,
    find_executable,
    incomplete_outcome,
    merge_parsed,
    ok_outcome,
    outcome_for_error,
    skipped_outcome,
    tail,
    text_path,
)
from secscan.sourcefiles import SourceTree
from secscan.testcode import TestScope

if TYPE_CHECKING:
    from secscan.advisories.store import AdvisoryStore


@dataclass(frozen=True, kw_only=True)
class _Advisories:
    """The local advisory store of a run: pip-audit's endpoint, and what the result records."""

    osv_url: str | None = None
    snapshot: AdvisorySnapshot | None = None
    store: AdvisoryStore | None = None
    """Open for the run when pip-audit uses it: severities from every record of a vulnerability."""
    warnings: tuple[str, ...] = ()


_AUDITS = ("pip-audit", "npm-audit")


@contextlib.contextmanager
def _advisory_service(inputs: Inputs, now: datetime) -> Iterator[_Advisories]:
    """The local advisory server for pip-audit with --advisory-db, and the store's snapshot and
    age at ``now`` for the result (npm-audit opens the same store itself)."""
    cfg = inputs.cfg
    if cfg.advisory_db is None or not any(a in inputs.scanners for a in _AUDITS):
        yield _Advisories()
        return
    from secscan.advisories import service

    if "pip-audit" in inputs.scanners and not cfg.osv_url:
        with service.start(cfg.advisory_db) as svc:
            yield _Advisories(
                osv_url=svc.url, snapshot=svc.info.snapshot_at(now), store=svc.store, warnings=tuple(svc.warnings)
            )
        return
    try:
        store, tmpdir = service.open_store(cfg.advisory_db)
    except ConfigError:
        yield _Advisories()  # npm-audit reports the same error as its failure
        return
    try:
        snapshot = store.info.snapshot_at(now)
    finally:
        store.close()
        if tmpdir is not None:
            tmpdir.cleanup()
    yield _Advisories(snapshot=snapshot)


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
    with _advisory_service(inputs, datetime.fromisoformat(started_at)) as advisories:
        ctx = RunContext(
            workdir=workdir,
            tree=tree,
            selection=tree.selection,  # walked once for the scanners and the core
            osv_url=advisories.osv_url,
            advisories=advisories.store,
            events=events,
            cancel=cancel,
            changed_files=inputs.changed_files,
            zap_config=inputs.zap_config,
        )
        ctx = replace(ctx, test_scope=test_scope(inputs, ctx))

        digests = Digests()

        def run_one(name: str) -> ScanOutcome:
            events(name, "started")
            started = time.monotonic()
            try:
                outcome = run_scanner(registry.get(name), cfg, ctx, digests=digests)
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
    scanned = _scanned(inputs, outcomes)
    return Evidence(
        findings=tuple(f for o in outcomes for f in o.findings),
        statuses=tuple(o.status for o in outcomes),
        target=str(cfg.target),
        started_at=started_at,
        finished_at=utc_now(),
        warnings=inputs.warnings + advisories.warnings + tuple(w for o in outcomes for w in o.warnings),
        advisory_db=advisories.snapshot.snapshot if advisories.snapshot is not None else None,
        advisories=advisories.snapshot,
        meta=meta,
        scanned_paths=scanned,
        scope=Scope(
            paths=scanned,
            changed_only=inputs.changed_files is not None,
            shard=_shard_name(cfg),
            test_code=narrowed_test_code(inputs, ctx.test_scope, outcomes),
        ),
    )


def narrowed_test_code(
    inputs: Inputs, scope: TestScope | None, outcomes: Sequence[ScanOutcome]
) -> NarrowedTestCode | None:
    """How the run scanned test code, when some scanner read it with fewer than its rules."""
    rules = tuple(ScannerRules(scanner=o.status.name, rules=o.test_rules) for o in outcomes if o.test_rules is not None)
    if scope is None or not rules:
        return None
    return NarrowedTestCode(test_paths=tuple(inputs.triage.test_paths), production=scope.production(), rules=rules)


def _shard_name(cfg: ScanConfig) -> str | None:
    shard = cfg.shard_of()
    return None if shard is None else f"{shard[0]}/{shard[1]}"


def test_scope(inputs: Inputs, ctx: RunContext) -> TestScope | None:
    """What test code is scanned for: the rules whose findings can block there under the
    policy (None with ``scan_all_test_code``: every rule everywhere, findings in test code
    reported as test-code)."""
    cfg = inputs.cfg
    if cfg.scan_all_test_code:
        return None
    return TestScope(
        inputs.triage.test_paths,
        inputs.triage.policy.test_code_kinds(),
        files=lambda: ctx.selection.listing(cfg.target, cfg.exclude).files,
        read=ctx.tree.text,
    )


def _scanned(inputs: Inputs, outcomes: list[ScanOutcome]) -> tuple[str, ...] | None:
    """The files this run covered, when not the whole tree (--changed-only, a shard)."""
    if inputs.cfg.shard_of() is None:
        return inputs.changed_files
    return tuple(sorted({f for o in outcomes if o.scanned is not None for f in o.scanned}))


# ------------------------------------------------------------------ one scanner


def run_scanner(scanner: Scanner, cfg: ScanConfig, ctx: RunContext, *, digests: Digests | None = None) -> ScanOutcome:
    """One scanner's outcome: a file scanner through the shared steps, the others (dependency
    audits, ZAP: one result for the project, not per file) by their own ``run``."""
    shard = cfg.shard_of()
    if shard is not None and shard[0] != 1 and not isinstance(scanner, FileScanner):
        # Only per-file scanners are split; the others run once, in shard 1.
        return skipped_outcome(scanner.name, f"runs in shard 1/{shard[1]}")
    if isinstance(scanner, FileScanner):
        return _FileRun(scanner, cfg, ctx, digests or Digests()).outcome()
    return scanner.run(cfg, ctx)


class Digests:
    """Content digests of the tree's files, computed once per run whichever scanners read a file
    (bandit and semgrep both read every Python file). The scanner threads share it: a lost race
    only hashes a file twice."""

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def of(self, root: Path, rel: str, data: bytes | None = None) -> str | None:
        """The digest of ``rel`` (``data``: its bytes when the caller has read them), or None when
        it cannot be read (the scanner meets it and reports it)."""
        found = self._known.get(rel)
        if found is None:
            if data is None:
                try:
                    data = files_mod.read_bytes(root, rel)
                except OSError:
                    return None
            found = self._known[rel] = cache.digest(data)
        return found


def shard_index(path: str, n: int) -> int:
    """Which of ``n`` shards a repo-relative path belongs to: by its hash, so the split is
    balanced, does not depend on the machine, and a file stays in its shard as others change."""
    return int(hashlib.sha256(path.encode("utf-8", errors="surrogateescape")).hexdigest()[:12], 16) % n


def file_targets(scanner: FileScanner, cfg: ScanConfig, ctx: RunContext) -> tuple[str, ...]:
    """Repo-relative files the scanner reads, excludes applied: the one walk of
    :mod:`secscan.files`, shared by every file scanner whatever its own exclude rules would do.
    Files, never folders: a tool that walks a folder follows links its own way, out of the tree
    (bandit does). With --changed-only, the changed files this scanner reads."""
    if ctx.changed_files is None:
        listing = ctx.selection.listing(cfg.target, cfg.exclude)
        return tuple(f for f in listing.files if scanner.wants_file(f) and scanner.covers(cfg, f))
    changed = pathmatch.kept(ctx.changed_files, pathmatch.excludes(cfg.exclude))
    if len(changed) < len(ctx.changed_files):
        # An excluded file that production imports is production code (secscan.reach).
        imported = set(ctx.selection.listing(cfg.target, cfg.exclude).imported)
        changed = tuple(f for f in ctx.changed_files if f in imported or f in changed)
    kept, _refused = files_mod.regular_files(cfg.target, changed)  # refused: the tree check reports them
    return tuple(f for f in kept if scanner.relevant(f) and scanner.wants_file(f) and scanner.covers(cfg, f))


def in_shard(paths: Iterable[str], shard: tuple[int, int] | None) -> tuple[str, ...]:
    """The paths of shard ``k/n`` (all of them without a shard)."""
    if shard is None:
        return tuple(paths)
    return tuple(p for p in paths if shard_index(p, shard[1]) == shard[0] - 1)


def batches(root: Path, files: Sequence[str], budget: int) -> Iterator[tuple[str, ...]]:
    """``files`` in runs whose absolute names stay under ``budget`` characters (ARG_MAX)."""
    chunk: list[str] = []
    size = 0
    for rel in files:
        length = len(str(root / rel)) + 1
        if chunk and size + length > budget:
            yield tuple(chunk)
            chunk, size = [], 0
        chunk.append(rel)
        size += length
    if chunk:
        yield tuple(chunk)


CACHED_GAP = "from the cache"
"""Marks an incomplete file the cache answered for (unchanged since the scanner last said so)."""


def cacheable_gap(gap: FileGap) -> bool:
    """Whether a file's incompleteness is a property of its content (a parse error, a size
    limit), not of the run (a time limit on a loaded machine)."""
    return "timeout" not in gap.reason.lower() and "timed out" not in gap.reason.lower()


_FILES_PER_RUN = 50
"""Fewer files than this per run side by side would pay the tool's start-up more than it saves."""


def split(files: Sequence[str], parts: int, *, size: Callable[[str], int]) -> list[tuple[str, ...]]:
    """``files`` in up to ``parts`` groups of about equal bytes (largest first, each to the
    lightest group), each in the original order: runs side by side that end together."""
    if parts <= 1 or len(files) <= 1:
        return [tuple(files)] if files else []
    groups: list[list[int]] = [[] for _ in range(min(parts, len(files)))]
    load = [0] * len(groups)
    weights = [(size(f) + 4096, i) for i, f in enumerate(files)]  # a run has a cost per file too
    for weight, i in sorted(weights, reverse=True):
        g = load.index(min(load))
        groups[g].append(i)
        load[g] += weight
    return [tuple(files[i] for i in sorted(g)) for g in groups if g]


def rejected_warning(name: str, rejected: Mapping[str, str], *, shown: int = 3) -> str:
    """One line: how many cache entries did not check, why, for which files (rescanned)."""
    reasons = sorted(set(rejected.values()))
    files = "; ".join(text_path(f) for f in list(rejected)[:shown])
    more = f" and {len(rejected) - shown} more" if len(rejected) > shown else ""
    return (
        f"{name}: {len(rejected)} cache entr{'y' if len(rejected) == 1 else 'ies'} did not verify and "
        f"{'was' if len(rejected) == 1 else 'were'} rescanned ({'; '.join(reasons)}): {files}{more}"
    )


@dataclass(frozen=True, kw_only=True)
class _Looked:
    """The cache's answer for the files of one run."""

    findings: tuple[Finding, ...] = ()
    """The findings of the files it held."""
    hits: int = 0
    misses: tuple[str, ...] = ()
    """Files to scan: absent, rejected, unreadable, or no cache."""
    gaps: tuple[FileGap, ...] = ()
    """Files the scanner could not fully analyse when it last read this content: the run is
    incomplete for them as it was then (fail closed), without reading them again."""


@dataclass(frozen=True, kw_only=True)
class _Part:
    """What one set of rules found in its files (production code, or test code)."""

    findings: tuple[Finding, ...] = ()
    gaps: tuple[FileGap, ...] = ()
    hits: int = 0
    misses: int = 0


class _FileRun:
    """The steps of one file scanner's run; each method is one step."""

    def __init__(self, scanner: FileScanner, cfg: ScanConfig, ctx: RunContext, digests: Digests) -> None:
        self.scanner, self.cfg, self.ctx, self.digests = scanner, cfg, ctx, digests
        self.name = scanner.name
        self.started = time.monotonic()
        self.shard = cfg.shard_of()
        self.warnings: list[str] = []
        self.argv: Sequence[str] = ()
        """The first command run (the status shows it)."""
        self.test_rules: tuple[str, ...] | None = None
        """The rules run on test code when not every rule (:attr:`ScanOutcome.test_rules`)."""

    def outcome(self) -> ScanOutcome:
        problem = self.scanner.preflight(self.cfg)
        if problem is not None:
            return failed_outcome(self.name, ScannerState.FAILED, problem)
        exe = self._executable()
        if exe is None:
            assert isinstance(self.scanner, CommandScanner)
            what = f"{self.scanner.executable} is not installed ({self.scanner.install_hint})"
            return failed_outcome(self.name, ScannerState.NOT_INSTALLED, what)
        targets = in_shard(file_targets(self.scanner, self.cfg, self.ctx), self.shard)
        production, tests, tester = self._split(targets)
        if not production and not tests and self.scanner.skip_when_empty:
            why = "no changed files" if self.ctx.changed_files is not None else "no files left after excludes"
            where = f" in shard {self.cfg.shard}" if self.shard else ""
            return skipped_outcome(self.name, f"{why} that {self.name} scans{where}")
        version = self.scanner.version()
        try:
            return self._scan(exe, version, production, (tester, tests), targets)
        except ConfigError as e:  # the history's diff base (detect-secrets)
            return outcome_for_error(self.name, ScannerError(e.message), duration_s=self._elapsed(), version=version)
        except ScannerError as e:
            # Nothing of a failed run is cached: a crash or a timeout proves nothing about a file.
            return outcome_for_error(self.name, e, duration_s=self._elapsed(), version=version)

    def _split(self, targets: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...], _FileRun | None]:
        """(production files, test files, the run for test code): test code is read only for the
        rules that can block there (:meth:`FileScanner.for_test_code`); none: not read at all."""
        scope = self.ctx.test_scope
        if scope is None:
            return targets, (), None
        tests = tuple(t for t in targets if scope.is_test(t))
        if not tests:
            return targets, (), None
        variant = self.scanner.for_test_code(self.cfg, scope.kinds, self.ctx.workdir / f"{self.name}-tests")
        if variant is self.scanner:
            return targets, (), None
        production = tuple(t for t in targets if t not in set(tests))
        self.test_rules = () if variant is None else (variant.rule_ids() or ())
        if variant is None:
            return production, (), None
        sub = _FileRun(variant, self.cfg, self.ctx, self.digests)
        sub.warnings = self.warnings  # one scanner, one list of notes
        return production, tests, sub

    def _elapsed(self) -> float:
        return time.monotonic() - self.started

    def _executable(self) -> str | None:
        """The tool's path ("" for an in-process scanner), None when it is not installed."""
        if isinstance(self.scanner, CommandScanner):
            return find_executable(self.scanner.executable)
        return ""

    def _scan(
        self,
        exe: str,
        version: str | None,
        production: tuple[str, ...],
        tested: tuple[_FileRun | None, tuple[str, ...]],
        targets: tuple[str, ...],
    ) -> ScanOutcome:
        work = self.ctx.workdir / self.name  # private: no scanner reads or writes another's files
        work.mkdir(parents=True, exist_ok=True)
        tester, tests = tested
        if tester is None:
            parts = [self._files(exe, version, work, production)]
        else:
            # Side by side: the test-code run is mostly the tool's start-up, which the
            # production run's analysis hides (its own work folder: no report is shared).
            (work / "tests").mkdir(exist_ok=True)
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.name}-tests") as pool:
                later = pool.submit(tester._files, exe, version, work / "tests", tests)
                parts = [self._files(exe, version, work, production), later.result()]
            self.argv = self.argv or tester.argv
        extra = self._uncached(exe, work)
        self.warnings.extend(extra.warnings)
        findings = self.scanner.combine([f for p in parts for f in p.findings], extra.findings)
        out = ok_outcome(
            self.name, findings, started=self.started, version=version, argv=self.argv, warnings=self.warnings
        )
        status = replace(out.status, cache_hits=sum(p.hits for p in parts), cache_misses=sum(p.misses for p in parts))
        gaps = [g for p in parts for g in p.gaps]
        done = replace(out, status=status, scanned=targets, test_rules=self.test_rules)
        return incomplete_outcome(done, (*gaps, *extra.incomplete))

    def _files(self, exe: str, version: str | None, work: Path, targets: tuple[str, ...]) -> _Part:
        """The per-file work: the cache's answers, the tool on the rest, the stores."""
        if not targets:
            return _Part()
        store = self._open_store(exe, version) if self.cfg.cache else None
        handed, digests = self._inventory(targets, hashing=store is not None)
        looked = self._lookup(store, handed, digests)
        fresh = self._fresh(exe, work, looked.misses)
        self.warnings.extend(fresh.warnings)  # of the files scanned now: a cached file's are not kept
        gaps = self.scanner.account(self.cfg, looked.misses, fresh)
        if store is not None:
            self._store(store, looked.misses, digests, fresh.findings, {g.path: g for g in gaps})
            store.prune()
        gaps = (*looked.gaps, *gaps)
        return _Part(
            findings=(*looked.findings, *fresh.findings),
            gaps=gaps,
            hits=looked.hits,
            misses=len(looked.misses) if store is not None else 0,
        )

    # -------------------------------------------------------------- cache

    def _open_store(self, exe: str, version: str | None) -> cache.FileCache:
        context = self.scanner.cache_context(self.cfg, exe=exe, version=version)
        return cache.FileCache(
            self.cfg.cache_dir or cache.default_dir(),
            scanner=self.name,
            context=cache.context_digest(context),
            # The operator's key (a CI/CD variable): entries written by a job without it, such as
            # a merge request's sharing the GitLab cache, are misses.
            secret=cache.operator_key(os.environ),
        )

    def _inventory(self, targets: tuple[str, ...], *, hashing: bool) -> tuple[tuple[str, ...], dict[str, str]]:
        """(files to hand over, their digests): each file read once, for its digest and for the
        scanner's look at its content; files it leaves out by content are noted."""
        if not hashing and not self.scanner.reads_content:
            return targets, {}
        handed: list[str] = []
        skipped: list[str] = []
        digests: dict[str, str] = {}
        for rel in targets:
            data = self._content(rel)
            if self.scanner.reads_content and (data is None or self.scanner.skip_reason(data) is not None):
                skipped.append(rel)  # unreadable counts as not text: nothing can be read in it
                continue
            found = self.digests.of(self.cfg.target, rel, data) if hashing else None
            if found is not None:
                digests[rel] = found
            handed.append(rel)
        self.warnings.extend(self.scanner.skipped_warnings(skipped, changed_only=self.ctx.changed_files is not None))
        return tuple(handed), digests

    def _content(self, rel: str) -> bytes | None:
        if not self.scanner.reads_content:
            return None  # the digest memo reads it if no other scanner has
        try:
            return files_mod.read_bytes(self.cfg.target, rel)
        except OSError:
            return None

    def _lookup(self, store: cache.FileCache | None, handed: tuple[str, ...], digests: Mapping[str, str]) -> _Looked:
        """Hits and misses; a rejected entry is a miss like an absent one, and shown, since it
        means a corrupt or planted cache."""
        if store is None:
            return _Looked(misses=handed)
        found: list[Finding] = []
        misses: list[str] = []
        gaps: list[FileGap] = []
        rejected: dict[str, str] = {}
        for rel in handed:
            lookup = store.lookup(rel, digests[rel]) if rel in digests else cache.Lookup()
            if lookup.findings is not None:
                found.extend(lookup.findings)
                if lookup.incomplete is not None:
                    gaps.append(FileGap(path=rel, reason=f"{lookup.incomplete} [{CACHED_GAP}]"))
                continue
            if lookup.rejected is not None:
                rejected[rel] = lookup.rejected
            misses.append(rel)
        if rejected:
            self.warnings.append(rejected_warning(self.name, rejected))
        return _Looked(findings=tuple(found), hits=len(handed) - len(misses), misses=tuple(misses), gaps=tuple(gaps))

    def _store(
        self,
        store: cache.FileCache,
        scanned: Sequence[str],
        digests: Mapping[str, str],
        findings: Sequence[Finding],
        gaps: Mapping[str, FileGap],
    ) -> None:
        by_path: dict[str, list[Finding]] = {}
        for finding in findings:
            by_path.setdefault(finding.location.path or "", []).append(finding)
        for rel in scanned:
            gap = gaps.get(rel)
            if rel not in digests or (gap is not None and not cacheable_gap(gap)):
                continue  # a time limit says nothing about the content: asked again next run
            # Stored masked: the cache is a file secscan writes, and no secret or card number
            # leaves secscan in clear (masking is idempotent, fingerprints are computed from
            # the tree, so a warm run gives the same result). A file the tool could not fully
            # read is stored with why: a warm run is incomplete for it too (issue speed-2).
            store.put(rel, digests[rel], mask(by_path.get(rel, ())), incomplete=gap.reason if gap else None)

    # -------------------------------------------------------------- scanning

    def _fresh(self, exe: str, work: Path, misses: tuple[str, ...]) -> Parsed:
        """What the scanner says about the files the cache did not answer for."""
        if not misses:
            return Parsed()
        if isinstance(self.scanner, InProcessScanner):
            return self._check(self.scanner, misses)
        assert isinstance(self.scanner, CommandScanner)
        prepared = self.scanner.prepare(self.cfg, work, misses)
        self.warnings.extend(prepared.warnings)
        return self._run_roots(self.scanner, exe, work, prepared)

    def _check(self, scanner: InProcessScanner, files: Sequence[str]) -> Parsed:
        found: list[Finding] = []
        for rel in files:
            try:
                data = files_mod.read_bytes(self.cfg.target, rel)
            except OSError:
                continue  # gone or unreadable since the walk: nothing can run it either
            found.extend(scanner.check_file(self.cfg, rel, data))
        return Parsed(findings=tuple(found))

    def _uncached(self, exe: str, work: Path) -> Parsed:
        """The scanner's work that is not one file's (its findings: this shard's paths)."""
        prepared = self.scanner.uncached(self.cfg, self.ctx, work)
        self.warnings.extend(prepared.warnings)
        parsed = Parsed(findings=prepared.findings)
        if isinstance(self.scanner, CommandScanner):
            parsed = merge_parsed([parsed, self._run_roots(self.scanner, exe, work, prepared)])
        if self.shard is None:
            return parsed
        kept = set(in_shard({f.location.path or "" for f in parsed.findings}, self.shard))
        return replace(parsed, findings=tuple(f for f in parsed.findings if (f.location.path or "") in kept))

    def _run_roots(self, scanner: CommandScanner, exe: str, work: Path, prepared: Prepared) -> Parsed:
        """The tool over every root's files: in ARG_MAX-sized runs, and for a tool that uses one
        core (bandit) in as many runs side by side as there are cores, so that no core idles
        while it is the last scanner running (issue speed-2)."""
        processes = max(1, scanner.processes(self.cfg))
        runs = [
            (root, batch)
            for root in prepared.roots
            for part in split(root.files, min(processes * 2, -(-len(root.files) // _FILES_PER_RUN)), size=self._size)
            for batch in batches(root.path, part, scanner.argv_budget)
        ]

        def one(n: int) -> Parsed:
            root, batch = runs[n]
            return self._run_batch(scanner, exe, work, root, batch, n=n)

        if len(runs) <= 1 or processes == 1:
            parts = [one(n) for n in range(len(runs))]
        else:
            # A failed run raises once the pool has closed, i.e. once every other run has ended.
            with ThreadPoolExecutor(max_workers=min(processes, len(runs)), thread_name_prefix=self.name) as pool:
                parts = list(pool.map(one, range(len(runs))))
        return merge_parsed(parts) if parts else Parsed()

    def _size(self, rel: str) -> int:
        try:
            return os.stat(self.cfg.target / rel, follow_symlinks=False).st_size
        except OSError:
            return 0

    def _run_batch(
        self, scanner: CommandScanner, exe: str, work: Path, root: Root, files: tuple[str, ...], *, n: int = 0
    ) -> Parsed:
        """One run of the tool: from the private work folder, never the scanned tree (nothing
        there is on any search path), within the scanner's time limit (each run); run ``n`` of
        several side by side writes its own report."""
        name = scanner.output_name or f"{self.name}.out"
        out_file = work / (name if n == 0 else f"{n}.{name}")
        out_file.unlink(missing_ok=True)
        argv = scanner.argv(exe, self.cfg, work=work, out_file=out_file, root=root.path, targets=files)
        self.argv = self.argv or argv
        limit = self.cfg.timeout_for(self.name)
        res = run_tool(argv, timeout=limit, cancel=self.ctx.cancel, cwd=work, env=scanner.env(self.cfg))
        if scanner.output_name is None:
            text = res.stdout
        elif out_file.exists():
            text = out_file.read_text(encoding="utf-8", errors="replace")
        else:
            raise ScannerError(
                f"{self.name} exited with code {res.returncode}: {tail(res.stderr or res.stdout) or 'no output'}"
            )
        return self._parsed(scanner, res, text, work, root)

    def _parsed(self, scanner: CommandScanner, res: ProcResult, text: str, work: Path, root: Root) -> Parsed:
        """The exit check and the parse: a report that does not parse, or says the run failed,
        fails the scanner."""
        ok = res.returncode in scanner.ok_codes
        # The run's tree for the checkout (its file cache serves the core too), else the folder's.
        tree = self.ctx.tree if root.path == self.cfg.target.resolve() else SourceTree(root.path)
        try:
            parsed = scanner.parse_output(text, self.cfg, work=work, root=root, tree=tree)
        except ParseError as e:
            if not ok:
                raise ScannerError(
                    f"{self.name} exited with code {res.returncode}: {tail(res.stderr) or 'no details'}"
                ) from e
            raise ScannerError(f"{self.name} output could not be parsed: {e.message}") from e
        if parsed.errors or not ok:
            detail = parsed.errors[0] if parsed.errors else tail(res.stderr) or "no details"
            raise ScannerError(f"{self.name} failed (exit {res.returncode}): {detail}")
        return parsed
