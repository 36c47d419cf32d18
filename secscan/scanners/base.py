"""The scanner plugin interface.

One module per scanner implements :class:`Scanner`; :mod:`secscan.scanners` keeps the registry
keyed by name (:mod:`secscan.scanners.registry`). A scanner of the tree's files
(:class:`FileScanner`: a tool, :class:`CommandScanner`, or secscan's own code,
:class:`InProcessScanner`) only declares what it is: which files it reads, its argv as a pure
function, a pure parse, its file accounting; :mod:`secscan.collect` runs it, with the per-file
cache and shards. A scanner of the project as a whole (dependency audits, ZAP) has its own
``run``. Neither raises for scanner problems: the outcome's status carries the one-line error,
so one failing scanner never loses the other scanners' results.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from secscan import files as files_mod
from secscan.errors import ScannerError
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
from secscan.testcode import TestScope

if TYPE_CHECKING:
    from secscan.advisories.store import AdvisoryStore
    from secscan.config import ScanConfig  # an annotation only: the configuration is above the plugins
    from secscan.scanners.secret_text import Bulk
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
    advisories: AdvisoryStore | None = None
    """The local advisory store behind ``osv_url``, if any: a finding's severity is read from
    every record that names its vulnerability (PYSEC, GHSA, CVE aliases)."""
    events: EventSink = field(default=lambda scanner, message: None)
    cancel: threading.Event = field(default_factory=threading.Event)
    """Set when secscan is interrupted: scanners stop their children and return."""
    changed_files: tuple[str, ...] | None = None
    """With --changed-only: repo-relative files to scan (None: the whole tree)."""
    zap_config: tuple[str, BaselineConfig] | None = None
    """The ZAP rule config (text, parsed), read once by :mod:`secscan.inputs`."""
    selection: files_mod.Selection = field(default_factory=files_mod.Selection)
    """The files left after excludes, walked once per run and shared by the file scanners."""
    test_scope: TestScope | None = None
    """Which files are test code and which kinds can block there: test code is scanned with
    :meth:`FileScanner.for_test_code` (None: every file with every rule)."""


@dataclass(frozen=True, kw_only=True)
class ScanOutcome:
    status: ScannerStatus
    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = ()
    scanned: tuple[str, ...] | None = None
    """The files it covered when that is a subset of the tree (a shard): baseline entries of
    other files are not "fixed" by this run."""
    test_rules: tuple[str, ...] | None = None
    """The rules it ran on the test code it was handed, when not every rule (empty: it did not
    read test code): the history does not close a test-code finding of another rule."""


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


@dataclass(frozen=True, kw_only=True)
class Root:
    """Files a tool reads under one folder: the checkout, or a folder secscan wrote for it
    (detect-secrets' text copies, the merge request's history)."""

    path: Path
    """An absolute folder; the files are relative to it, and so are the report's paths."""
    files: tuple[str, ...]
    label: str = ""
    """What :meth:`CommandScanner.parse_output` needs to know about the folder ("": the checkout)."""
    bulk: Mapping[str, Bulk] = field(default_factory=dict)
    """Files of which the tool read only the parts that can hold a provider's key (detect-secrets)."""


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """What a scanner set up before a run: folders for its tool, findings it made in-process, notes."""

    roots: tuple[Root, ...] = ()
    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = ()


class FileScanner(Scanner):
    """A scanner of the tree's files, described, not run: :mod:`secscan.collect` does the steps
    every file scanner shares once (private work folder, targets from the one walk, shards, the
    per-file cache, the process with its limits, the exit check, parse, file accounting, the
    outcome), so the cache and shards serve each of them the same way.

    ``per_file``: its results for a file depend on that file alone (its content and path), so
    they are cached per file and the files can be split into shards."""

    per_file: ClassVar[bool] = True
    skip_when_empty: ClassVar[bool] = True
    """No file to scan means nothing to do (``skipped``); False when :meth:`uncached` has work
    of its own (the tree's links, a merge request's history)."""
    reads_content: ClassVar[bool] = False
    """:meth:`skip_reason` looks at each file's bytes (read once, with the cache digest)."""

    def preflight(self, cfg: ScanConfig) -> str | None:
        """A reason the run cannot work, found before anything starts (None: go on)."""
        return None

    def wants_file(self, path: str) -> bool:
        """Whether this scanner reads a file of the walk (by name: nothing is opened to decide)."""
        return True

    def covers(self, cfg: ScanConfig, path: str) -> bool:
        """Whether any of its rules (as ``cfg`` configures them) reads a file of this name: files
        of no language of its rules are not handed to it."""
        return True

    def for_test_code(self, cfg: ScanConfig, kinds: frozenset[Kind], work: Path) -> FileScanner | None:
        """This scanner as it runs on test code, where only findings of ``kinds`` can block (a
        live credential blocks anywhere): itself when every rule may matter there, a variant with
        fewer rules (``work``: a private folder for what the variant writes), or None when none of
        its rules can block there."""
        return self

    def rule_ids(self) -> tuple[str, ...] | None:
        """The ids of the rules this instance runs when it runs a selection of them (a test-code
        variant); None: every configured rule."""
        return None

    def skip_reason(self, data: bytes) -> str | None:
        """Why a wanted file is not handed over after all, by its content (with ``reads_content``)."""
        return None

    def skipped_warnings(self, skipped: Sequence[str], *, changed_only: bool) -> tuple[str, ...]:
        """The notes for files left out by :meth:`skip_reason`."""
        return (f"{self.name}: {len(skipped)} file(s) not scanned by their content",) if skipped else ()

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

    def cache_context(self, cfg: ScanConfig, *, exe: str, version: str | None) -> list[str]:
        """Everything besides a file that decides its results: the executable (which one, and
        which build of it) and its version (``exe`` and ``version``: as the run found them, not
        looked up again). Subclasses add their rules and options."""
        try:
            st = os.stat(exe)
            build = f"{st.st_size}:{st.st_mtime_ns}"
        except OSError:
            build = ""
        return [self.name, exe, build, version or ""]

    def uncached(self, cfg: ScanConfig, ctx: RunContext, work: Path) -> Prepared:
        """Work done on every run whatever the cache holds, because it is not one file's result
        (the tree's links, a merge request's history); its findings are split by shard path."""
        return Prepared()

    def combine(self, files: Sequence[Finding], extra: Sequence[Finding]) -> list[Finding]:
        """The per-file findings and those of :meth:`uncached` as one list."""
        return [*files, *extra]

    def run(self, cfg: ScanConfig, ctx: RunContext) -> ScanOutcome:
        raise NotImplementedError(f"{self.name} is a file scanner: secscan.collect runs it")


class CommandScanner(FileScanner):
    """A file scanner that is one command writing one report: what to run, as pure functions
    (:mod:`secscan.collect` runs it)."""

    executable: ClassVar[str]
    install_hint: ClassVar[str]
    ok_codes: ClassVar[tuple[int, ...]] = (0, 1)
    """Exit codes of a completed run (with or without findings)."""
    output_name: ClassVar[str | None]
    """The report file it writes in the private work folder (None: the report is its stdout)."""
    argv_budget: ClassVar[int] = 1_000_000
    """Characters of file names one run gets at most: ARG_MAX is 2 MB here, environment
    included; more files are run in batches."""

    def processes(self, cfg: ScanConfig) -> int:
        """How many runs of the tool go side by side: 1 for a tool that uses every core itself
        (semgrep's ``--jobs``); the cores for one that uses a single core (bandit)."""
        return 1

    def prepare(self, cfg: ScanConfig, work: Path, targets: tuple[str, ...]) -> Prepared:
        """Write what the command reads besides the files (its config) into the private work
        folder ``work``, and say which folders hold the files (default: the checkout)."""
        return Prepared(roots=(Root(path=cfg.target.resolve(), files=targets),))

    @abstractmethod
    def argv(
        self, exe: str, cfg: ScanConfig, *, work: Path, out_file: Path, root: Path, targets: Sequence[str]
    ) -> list[str]:
        """The command line, a pure function: ``work`` is the private work folder :meth:`prepare`
        wrote in, ``targets`` are relative to ``root`` (after ``--``)."""

    def env(self, cfg: ScanConfig) -> dict[str, str]:
        return {}

    def parse_output(self, text: str, cfg: ScanConfig, *, work: Path, root: Root, tree: SourceTree) -> Parsed:
        """The pure parse of one run's report (``tree``: the files of ``root``, for snippets)."""
        return self.parse_report(text, tree=tree, origin=f"{self.name} output")

    def cache_context(self, cfg: ScanConfig, *, exe: str, version: str | None) -> list[str]:
        """Its options too (the work folder is new on every run: its name decides nothing)."""
        options = self.argv("<exe>", cfg, work=Path("<work>"), out_file=Path("<out>"), root=Path("<root>"), targets=())
        return [*super().cache_context(cfg, exe=exe, version=version), *options]


class InProcessScanner(FileScanner):
    """A file scanner that is secscan's own code: no tool, a pure check of one file's bytes."""

    @abstractmethod
    def check_file(self, cfg: ScanConfig, path: str, data: bytes) -> tuple[Finding, ...]:
        """The findings of one file (``path`` repo-relative, ``data`` its bytes)."""


def merge_parsed(parts: Sequence[Parsed]) -> Parsed:
    """One result out of the reports of several runs (batches of files, folders)."""
    if len(parts) == 1:
        return parts[0]
    scanned = [p.scanned for p in parts if p.scanned is not None]
    return Parsed(
        findings=tuple(f for p in parts for f in p.findings),
        warnings=tuple(dict.fromkeys(w for p in parts for w in p.warnings)),
        errors=tuple(e for p in parts for e in p.errors),
        not_audited=tuple(n for p in parts for n in p.not_audited),
        version=next((p.version for p in parts if p.version), None),
        incomplete=tuple(g for p in parts for g in p.incomplete),
        scanned=frozenset().union(*scanned) if scanned else None,
    )


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

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def find_executable(name: str) -> str | None:
    """Where the tool is: ``SECSCAN_<NAME>_BIN`` if set, else next to our interpreter (the venv
    secscan runs from), else PATH. The override lets users pin a tool and tests swap in fakes."""

    override = os.environ.get("SECSCAN_" + name.upper().replace("-", "_") + "_BIN")
    if override:
        return override
    sibling = Path(sys.executable).parent / name
    if sibling.is_file() and os.access(sibling, os.X_OK):
        return str(sibling)
    return shutil.which(name)
