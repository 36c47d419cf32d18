"""The scanner plugin interface and the process runner every CLI-based scanner shares.

One module per scanner implements :class:`Scanner`; :mod:`secscan.scanners` keeps the registry
keyed by name (:mod:`secscan.scanners.registry`). A scanner's ``run`` never raises for scanner problems: it returns
a :class:`ScanOutcome` whose status carries the one-line error, so one failing scanner never
loses the other scanners' results.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from secscan import files as files_mod
from secscan import pathmatch
from secscan.config import ScanConfig
from secscan.errors import ParseError, ScannerError
from secscan.models import Finding, Kind, ScannerState, ScannerStatus

# The process runner lives in secscan.proc (one runner, and the lifetime of what it starts); its
# names stay importable from here for the scanner modules.
from secscan.proc import (  # noqa: F401 - re-exported: scanner modules import them from here
    ProcResult,
    ToolCancelled,
    ToolMissing,
    ToolTimeout,
    kill_tree,
    run_tool,
    scanner_env,
    wait_within_limits,
)
from secscan.sourcefiles import SourceTree

if TYPE_CHECKING:
    from secscan.cache import FileCache
    from secscan.zap.baseline_conf import BaselineConfig


# Hard-coded credentials: findings with these CWEs are secrets, whichever SAST tool found them,
# so they reach GitLab's secret-detection report and get their snippets masked.
SECRET_CWES = frozenset({"CWE-798", "CWE-259", "CWE-321", "CWE-547"})
# bandit's hard-coded password tests, for reports old enough to carry no CWE.
SECRET_RULES = frozenset({"B105", "B106", "B107"})


def sast_kind(cwe_ids: Iterable[str], category: str = "", rule_id: str = "") -> Kind:
    """``secret`` for hard-coded credentials (by CWE, rule id or a rule's ``secret`` category),
    else ``sast``. Every parser and importer uses this, so one problem has one kind (and one
    fingerprint) whichever report it came from."""
    if category.lower() in ("secret", "secrets") or rule_id in SECRET_RULES or any(c in SECRET_CWES for c in cwe_ids):
        return Kind.SECRET
    return Kind.SAST


EventSink = Callable[[str, str], None]
"""``events(scanner, message)``: progress lines for the terminal or CI log."""


@dataclass(frozen=True, kw_only=True)
class RunContext:
    """What a scanner gets besides the config: a scratch dir, the tree, services, cancellation."""

    workdir: Path
    """Private scratch directory for raw outputs (kept in out_dir/raw for debugging)."""
    tree: SourceTree
    osv_url: str | None = None
    """The OSV endpoint pip-audit should query (local advisory server), if any."""
    events: EventSink = field(default=lambda scanner, message: None)
    cancel: threading.Event = field(default_factory=threading.Event)
    """Set when secscan is interrupted: scanners stop their children and return."""
    changed_files: tuple[str, ...] | None = None
    """With --changed-only: repo-relative files to scan (None: the whole tree)."""
    zap_config: tuple[str, BaselineConfig] | None = None
    """The ZAP rule config (text, parsed), read once by :mod:`secscan.inputs`."""
    selection: files_mod.Selection = field(default_factory=files_mod.Selection)
    """The files left after excludes, walked once per run and shared by the file scanners."""


@dataclass(frozen=True, kw_only=True)
class ScanOutcome:
    status: ScannerStatus
    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = ()
    scanned: tuple[str, ...] | None = None
    """The files it covered when that is a subset of the tree (a shard): baseline entries of
    other files are not "fixed" by this run."""


@dataclass(frozen=True, kw_only=True)
class FileGap:
    """A file a scanner was handed and did not (fully) analyse, and why."""

    path: str
    """Repo-relative, as on disk: a name that is not UTF-8 keeps its bytes as surrogate escapes."""
    reason: str
    """One line, e.g. ``exception while scanning file``, ``exceeded_size_limit``."""

    def describe(self) -> str:
        return f"{text_path(self.path)} ({' '.join(self.reason.split())[:200]})"


def text_path(path: str) -> str:
    """``path`` as text every report format can carry (JSON, SARIF, GitLab, the terminal): the
    bytes of a name that is not valid UTF-8 (surrogate escapes, as :func:`os.fsdecode` gives
    them) are shown as ``\\xNN``. Such a file is also reported incomplete (:func:`name_gaps`), since
    no report can name it exactly."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return path.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")


def is_text_name(path: str) -> bool:
    """Whether a (repo-relative) file name is valid UTF-8."""
    return text_path(path) == path


def name_gaps(paths: Iterable[str]) -> list[FileGap]:
    """Names that are not valid UTF-8: the scanner may have read them, but its findings cannot be
    placed on the file (reports, diffs and suppressions name files as text), so the scan is
    incomplete for them: when in doubt, the gate fails."""
    return [FileGap(path=p, reason="file name is not valid UTF-8") for p in paths if not is_text_name(p)]


def incomplete_error(gaps: Sequence[FileGap], *, shown: int = 5) -> str:
    """The one-line error of an incomplete scan, naming the first files."""
    more = f"; and {len(gaps) - shown} more" if len(gaps) > shown else ""
    names = "; ".join(g.describe() for g in gaps[:shown])
    return f"{len(gaps)} file(s) not analysed: {names}{more}"


@dataclass(frozen=True, kw_only=True)
class Parsed:
    """What a pure parse of one scanner report found (live output or an imported file)."""

    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = ()
    """Problems that left the rest of the scan intact (one file the tool could not read)."""
    errors: tuple[str, ...] = ()
    """Problems that make the scan incomplete: the scanner's state becomes ``failed``."""
    not_audited: tuple[str, ...] = ()
    """Dependencies the tool could not audit (pip-audit's "skipped"): never reported as clean."""
    version: str | None = None
    """The tool version the report names, if it names one."""
    incomplete: tuple[FileGap, ...] = ()
    """Files the tool says it could not fully scan (a per-file exception, a size limit, a
    timeout): the scanner's result is incomplete (fail closed) and they are not cached."""
    scanned: frozenset[str] | None = None
    """Repo-relative files the report says the tool analysed (None: the format does not say).
    A live run matches the files it handed the tool against these (:meth:`CommandScanner.account`)."""


class Scanner(ABC):
    """One scanner backend, described in one place.

    Class attributes say what the rest of secscan needs to know without running it: the
    registry (:mod:`secscan.scanners.registry`) drives ``--only``/``--skip``, time limits,
    ``--changed-only``, ``secscan import --tool``, the GitLab report kinds and the pre-push hook
    from them, so a new scanner is one new module.
    """

    name: ClassVar[str]
    kinds: ClassVar[frozenset[Kind]]
    """The finding kinds it produces (GitLab report formats apply when one of them ran)."""
    default_timeout: ClassVar[float] = 600.0
    description: ClassVar[str] = ""
    scans_files: ClassVar[bool] = True
    """It reads files of the tree: --changed-only limits it to relevant changed paths."""
    needs_deployment: ClassVar[bool] = False
    """It tests a running deployment (ZAP): off by default and in the pre-push hook."""
    importable: ClassVar[bool] = True
    """``secscan import --tool NAME`` reads its reports (through :meth:`parse_report`)."""

    @classmethod
    def enabled_by_default(cls, cfg: ScanConfig) -> bool:
        """Whether it runs when no --only is given."""
        return True

    @classmethod  # noqa: B027 - an optional hook: most scanners need no check
    def check_selected(cls, cfg: ScanConfig) -> None:
        """Raise ConfigError when ``--only NAME`` cannot work with ``cfg`` (e.g. ZAP without a URL)."""

    @classmethod
    def relevant(cls, path: str) -> bool:
        """Whether a change to this repo-relative path needs this scanner (--changed-only)."""
        return True

    @classmethod
    def parse_report(cls, text: str, *, tree: SourceTree, origin: str, manifest: str | None = None) -> Parsed:
        """Pure parse of one report of this tool (ParseError when malformed)."""
        raise NotImplementedError(f"{cls.name} reports cannot be imported")

    def version(self) -> str | None:
        """The tool's version, or None when it is not installed."""
        return None

    @abstractmethod
    def run(self, cfg: ScanConfig, ctx: RunContext) -> ScanOutcome:
        """Run the scanner and parse its output; scanner problems go into the status."""


class CommandScanner(Scanner):
    """A scanner that is one command writing one report file: every run step written once
    (find the executable, choose targets, build argv, run with limits, check the exit code,
    parse, build the outcome)."""

    executable: ClassVar[str]
    install_hint: ClassVar[str]
    per_file: ClassVar[bool] = False
    """Its results for a file depend on that file alone (bandit, OSS semgrep): they are cached
    per file and the files can be split into shards."""
    ok_codes: ClassVar[tuple[int, ...]] = (0, 1)
    """Exit codes of a completed run (with or without findings)."""
    output_name: ClassVar[str]
    """The report file it writes in the private work folder."""

    def preflight(self, cfg: ScanConfig) -> str | None:
        """A reason the run cannot work, found before anything starts (None: go on)."""
        return None

    def targets(self, cfg: ScanConfig, ctx: RunContext) -> tuple[str, ...]:
        """Repo-relative files to scan, excludes applied: the one walk of :mod:`secscan.files`,
        shared by every file scanner whatever its own exclude rules would do; () when nothing is
        left. Files, never folders: a tool that walks a folder follows links its own way, out of
        the tree (bandit does). With --changed-only, the changed files this scanner reads."""
        if ctx.changed_files is not None:
            changed = pathmatch.kept(ctx.changed_files, pathmatch.excludes(cfg.exclude))
            if len(changed) < len(ctx.changed_files):
                # An excluded file that production imports is production code (secscan.reach).
                imported = set(ctx.selection.listing(cfg.target, cfg.exclude).imported)
                changed = tuple(f for f in ctx.changed_files if f in imported or f in changed)
            kept, _refused = files_mod.regular_files(cfg.target, changed)  # refused: the tree check reports them
            return tuple(f for f in kept if self.relevant(f))
        listing = ctx.selection.listing(cfg.target, cfg.exclude)
        return tuple(f for f in listing.files if self.wants_file(f))

    @abstractmethod
    def argv(self, exe: str, cfg: ScanConfig, ctx: RunContext, out_file: Path, targets: tuple[str, ...]) -> list[str]:
        """The command line (targets after ``--``)."""

    def env(self, cfg: ScanConfig) -> dict[str, str]:
        return {}

    def parse_output(self, text: str, cfg: ScanConfig, ctx: RunContext) -> Parsed:
        return self.parse_report(text, tree=ctx.tree, origin=f"{self.name} output")

    def wants_file(self, path: str) -> bool:
        """Whether this scanner reads a file met while walking a target folder."""
        return True

    def expects(self, cfg: ScanConfig, path: str) -> bool:
        """Whether the tool must report a handed file as scanned or skipped (semgrep: a file of a
        language its rules are written for)."""
        return True

    def account(self, cfg: ScanConfig, handed: Sequence[str], parsed: Parsed) -> tuple[FileGap, ...]:
        """Every file handed to the tool accounted for: what the report says it could not scan,
        names that are not UTF-8, and files it was expected to scan but never reported (a tool that
        quietly skipped them, or a report that lists nothing)."""
        gaps = {g.path: g for g in parsed.incomplete}
        for g in name_gaps(handed):
            gaps.setdefault(g.path, g)
        if parsed.scanned is not None:
            for f in handed:
                if f not in gaps and f not in parsed.scanned and self.expects(cfg, f):
                    gaps[f] = FileGap(path=f, reason=f"{self.name} did not report scanning it")
        return tuple(gaps.values())

    def cache_context(self, cfg: ScanConfig, ctx: RunContext, *, exe: str, version: str | None) -> list[str]:
        """Everything besides a file that decides its results: the executable (which one, and
        which build of it), its version, rules and options (``exe`` and ``version``: as the run
        found them, not looked up again)."""
        try:
            st = os.stat(exe)
            build = f"{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            build = ""
        # The private work folder is new on every run: its name decides nothing.
        options = [a.replace(str(ctx.workdir), "<work>") for a in self.argv("<exe>", cfg, ctx, Path("<out>"), ())]
        return [self.name, exe, build, version or "", *options]

    def _cache_store(self, cfg: ScanConfig, ctx: RunContext, *, exe: str, version: str | None) -> FileCache:
        from secscan import cache

        return cache.FileCache(
            cfg.cache_dir or cache.default_dir(),
            scanner=self.name,
            context=cache.context_digest(self.cache_context(cfg, ctx, exe=exe, version=version)),
            # The operator's key (a CI/CD variable): entries written by a job without it, such as
            # a merge request's sharing the GitLab cache, are misses.
            secret=cache.operator_key(os.environ),
        )

    def _cache_lookups(
        self, cfg: ScanConfig, store: FileCache, files: Sequence[str]
    ) -> tuple[dict[str, tuple[Finding, ...]], dict[str, str], tuple[str, ...]]:
        """(hits by file, content digests by file, a warning when entries did not check): a
        rejected entry is a miss like an absent one, and shown, since it means a corrupt or
        planted cache."""
        from secscan import cache

        cached: dict[str, tuple[Finding, ...]] = {}
        digests: dict[str, str] = {}
        rejected: dict[str, str] = {}
        for f in files:
            try:
                digests[f] = cache.digest(files_mod.read_bytes(cfg.target, f))
            except OSError:
                continue  # unreadable: the scanner meets it and reports it
            found = store.lookup(f, digests[f])
            if found.findings is not None:
                cached[f] = found.findings
            elif found.rejected is not None:
                rejected[f] = found.rejected
        return cached, digests, (rejected_warning(self.name, rejected),) if rejected else ()

    def run(self, cfg: ScanConfig, ctx: RunContext) -> ScanOutcome:
        started = time.monotonic()
        problem = self.preflight(cfg)
        if problem is not None:
            return failed_outcome(self.name, ScannerState.FAILED, problem)
        exe = find_executable(self.executable)
        if exe is None:
            return failed_outcome(
                self.name, ScannerState.NOT_INSTALLED, f"{self.executable} is not installed ({self.install_hint})"
            )
        targets = self.targets(cfg, ctx)
        shard = cfg.shard_of()
        files: list[str] | None = None
        if self.per_file:
            files = list(targets)
            if shard is not None:
                files = [f for f in files if shard_index(f, shard[1]) == shard[0] - 1]
            targets = tuple(files) if files else ()
        if not targets:
            why = "no changed files" if ctx.changed_files is not None else "no files left after excludes"
            return skipped_outcome(
                self.name, f"{why} that {self.name} scans" + (f" in shard {cfg.shard}" if shard else "")
            )
        version = self.version()
        cached: dict[str, tuple[Finding, ...]] = {}
        digests: dict[str, str] = {}
        store = None
        cache_warnings: tuple[str, ...] = ()
        if self.per_file and cfg.cache and files is not None:
            store = self._cache_store(cfg, ctx, exe=exe, version=version)
            cached, digests, cache_warnings = self._cache_lookups(cfg, store, files)
            misses = tuple(f for f in files if f not in cached)
            run_targets = misses
        else:
            misses = targets  # files (never folders): what the tool must account for
            run_targets = targets
        hits = len(cached)
        found = [f for fs in cached.values() for f in fs]
        argv: list[str] = []
        warnings: tuple[str, ...] = ()
        gaps: tuple[FileGap, ...] = ()
        if run_targets:
            out_file = ctx.workdir / self.output_name
            out_file.unlink(missing_ok=True)
            argv = self.argv(exe, cfg, ctx, out_file, run_targets)
            try:
                # The private work folder, never the scanned tree: nothing there is on any search path.
                limit = cfg.timeout_for(self.name)
                res = run_tool(argv, timeout=limit, cancel=ctx.cancel, cwd=ctx.workdir, env=self.env(cfg))
                if not out_file.exists():
                    detail = tail(res.stderr or res.stdout) or "no output"
                    raise ScannerError(f"{self.name} exited with code {res.returncode}: {detail}")
                text = out_file.read_text(encoding="utf-8", errors="replace")
                try:
                    parsed = self.parse_output(text, cfg, ctx)
                except ParseError as e:
                    if res.returncode not in self.ok_codes:
                        raise ScannerError(
                            f"{self.name} exited with code {res.returncode}: {tail(res.stderr) or 'no details'}"
                        ) from e
                    raise ScannerError(f"{self.name} output could not be parsed: {e.message}") from e
                if parsed.errors or res.returncode not in self.ok_codes:
                    detail = parsed.errors[0] if parsed.errors else tail(res.stderr) or "no details"
                    raise ScannerError(f"{self.name} failed (exit {res.returncode}): {detail}")
            except ScannerError as e:
                # Nothing of a failed run is cached: a crash or a timeout proves nothing about a file.
                return outcome_for_error(self.name, e, duration_s=time.monotonic() - started, version=version)
            warnings = parsed.warnings
            found += parsed.findings
            gaps = self.account(cfg, misses, parsed)
            if store is not None:
                by_path: dict[str, list[Finding]] = {}
                for finding in parsed.findings:
                    by_path.setdefault(finding.location.path or "", []).append(finding)
                skip = {g.path for g in gaps}
                from secscan.core import mask

                for f in misses:
                    if f in digests and f not in skip:  # a file the tool could not fully read stays uncached
                        # Stored masked: the cache is a file secscan writes, and no secret or card
                        # number leaves secscan in clear (masking is idempotent, fingerprints
                        # are computed from the tree, so a warm run gives the same result).
                        store.put(f, digests[f], mask(by_path.get(f, ())))
        if store is not None:
            store.prune()
        out = ok_outcome(
            self.name, found, started=started, version=version, argv=argv, warnings=cache_warnings + warnings
        )
        out = replace(
            out,
            status=replace(out.status, cache_hits=hits, cache_misses=len(misses) if store is not None else 0),
            scanned=tuple(files) if files is not None else None,
        )
        return incomplete_outcome(out, gaps)


def rejected_warning(name: str, rejected: Mapping[str, str], *, shown: int = 3) -> str:
    """One line: how many cache entries did not check, why, for which files (rescanned)."""
    reasons = sorted(set(rejected.values()))
    files = "; ".join(text_path(f) for f in list(rejected)[:shown])
    more = f" and {len(rejected) - shown} more" if len(rejected) > shown else ""
    return (
        f"{name}: {len(rejected)} cache entr{'y' if len(rejected) == 1 else 'ies'} did not verify and "
        f"{'was' if len(rejected) == 1 else 'were'} rescanned ({'; '.join(reasons)}): {files}{more}"
    )


def shard_index(path: str, n: int) -> int:
    """Which of ``n`` shards a repo-relative path belongs to: by its hash, so the split is
    balanced, does not depend on the machine, and a file stays in its shard as others change."""
    return int(hashlib.sha256(path.encode("utf-8", errors="surrogateescape")).hexdigest()[:12], 16) % n


# ------------------------------------------------------------------ processes
def tail(text: str, lines: int = 1, limit: int = 300) -> str:
    """The last non-empty lines of a tool's stderr, for one-line error messages."""
    kept = [ln.strip() for ln in text.splitlines() if ln.strip()][-lines:]
    out = " | ".join(kept)
    return out if len(out) <= limit else "…" + out[-limit:]


def failed_outcome(
    name: str, state: ScannerState, error: str, *, duration_s: float = 0.0, version: str | None = None
) -> ScanOutcome:
    return ScanOutcome(
        status=ScannerStatus(name=name, state=state, error=error, duration_s=duration_s, version=version)
    )


def ok_outcome(
    name: str,
    findings: Sequence[Finding],
    *,
    started: float,
    version: str | None,
    argv: Sequence[str],
    warnings: Sequence[str] = (),
) -> ScanOutcome:
    """A successful run: its findings, time since ``started`` (monotonic) and the argv it ran."""
    return ScanOutcome(
        status=ScannerStatus(
            name=name,
            state=ScannerState.OK,
            version=version,
            duration_s=time.monotonic() - started,
            findings=len(findings),
            command=tuple(text_path(a) for a in argv),  # file names among them: as text
        ),
        findings=tuple(findings),
        warnings=tuple(warnings),
    )


def incomplete_outcome(out: ScanOutcome, gaps: Sequence[FileGap]) -> ScanOutcome:
    """``out`` made incomplete by ``gaps``: ``failed`` naming the files (the default policy fails
    closed, as it does for a crashed scanner), the findings of the other files kept."""
    if not gaps:
        return out
    status = replace(
        out.status,
        state=ScannerState.FAILED,
        error=incomplete_error(gaps),
        incomplete_files=tuple(g.describe() for g in gaps),
    )
    return replace(out, status=status)


def skipped_outcome(name: str, why: str) -> ScanOutcome:
    """Nothing for this scanner to do (no changed files, no manifest): not an error."""
    return ScanOutcome(status=ScannerStatus(name=name, state=ScannerState.SKIPPED, error=why))


def outcome_for_error(name: str, e: ScannerError, *, duration_s: float, version: str | None) -> ScanOutcome:
    """Map a runner exception to the scanner's status (timeout, not installed, failed)."""
    if isinstance(e, ToolTimeout):
        state = ScannerState.TIMEOUT
    elif isinstance(e, ToolMissing):
        state = ScannerState.NOT_INSTALLED
        version = None  # what is not there has no version (an installed library says nothing)
    else:
        state = ScannerState.FAILED
    return failed_outcome(name, state, e.message, duration_s=duration_s, version=version)


def installed_version(distribution: str) -> str | None:
    """The installed version of a Python distribution (the scanner secscan runs), or None."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def find_executable(name: str) -> str | None:
    """Where the tool is: ``SECSCAN_<NAME>_BIN`` if set, else next to our interpreter (the venv
    secscan runs from), else PATH. The override lets users pin a tool and tests swap in fakes."""
    import shutil
    import sys

    override = os.environ.get("SECSCAN_" + name.upper().replace("-", "_") + "_BIN")
    if override:
        return override
    sibling = Path(sys.executable).parent / name
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return str(sibling)
    return shutil.which(name)
