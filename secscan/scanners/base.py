"""The scanner plugin interface and the process runner every CLI-based scanner shares.

One module per scanner implements :class:`Scanner`; :mod:`secscan.scanners` keeps the registry
keyed by :class:`ScannerName`. A scanner's ``run`` never raises for scanner problems: it returns
a :class:`ScanOutcome` whose status carries the one-line error, so one failing scanner never
loses the other scanners' results.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from secscan.config import ScanConfig
from secscan.errors import ScannerError
from secscan.models import Finding, Kind, ScannerState, ScannerStatus
from secscan.sourcefiles import SourceTree


class ScannerName(StrEnum):
    BANDIT = "bandit"
    SEMGREP = "semgrep"
    PIP_AUDIT = "pip-audit"
    ZAP = "zap"
    NPM_AUDIT = "npm-audit"  # issue 19 (js): npm/yarn/pnpm lockfiles against the offline OSV store

    def __str__(self) -> str:
        return self.value


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


@dataclass(frozen=True, kw_only=True)
class ScanOutcome:
    status: ScannerStatus
    findings: tuple[Finding, ...] = ()
    warnings: tuple[str, ...] = ()


class Scanner(ABC):
    """One scanner backend."""

    name: ScannerName

    @abstractmethod
    def run(self, cfg: ScanConfig, ctx: RunContext) -> ScanOutcome:
        """Run the scanner and parse its output; scanner problems go into the status."""

    def version(self) -> str | None:
        """The tool's version, or None when it is not installed."""
        return None


# ------------------------------------------------------------------ processes


@dataclass(frozen=True, kw_only=True)
class ProcResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float


class ToolTimeout(ScannerError):
    """The tool ran past its time limit; its whole process group was killed."""


class ToolCancelled(ScannerError):
    """secscan was interrupted; the tool's process group was killed."""


class ToolMissing(ScannerError):
    """The executable is not installed."""


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group, then SIGKILL what is left after a grace period.

    The scanner runs in its own session (start_new_session) so its children (semgrep-core,
    pip's subprocesses) die with it instead of lingering after a time limit.
    """
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        return
    for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            # The leader is gone; make sure no child in the group survives it.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, signal.SIGKILL)
            return
        except subprocess.TimeoutExpired:
            continue


def run_tool(
    argv: Sequence[str],
    *,
    timeout: float,
    cancel: threading.Event | None = None,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> ProcResult:
    """Run a command with a wall-clock limit; stdout/stderr captured via temp files.

    Files, not pipes: a tool that writes megabytes of JSON must never block on a full pipe.
    """
    import tempfile

    started = time.monotonic()
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
                env=full_env,
                start_new_session=True,
            )
        except FileNotFoundError as e:
            raise ToolMissing(f"{argv[0]} is not installed (not found on PATH)") from e
        except PermissionError as e:
            raise ToolMissing(f"{argv[0]} is not executable: {e.strerror}") from e
        deadline = started + timeout
        try:
            while True:
                try:
                    proc.wait(timeout=0.05)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if cancel is not None and cancel.is_set():
                    _kill_group(proc)
                    raise ToolCancelled(f"{Path(argv[0]).name} cancelled")
                if time.monotonic() > deadline:
                    _kill_group(proc)
                    raise ToolTimeout(f"{Path(argv[0]).name} exceeded its time limit of {timeout:g}s and was killed")
        except BaseException:
            if proc.poll() is None:
                _kill_group(proc)
            raise
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", errors="replace")
        stderr = err.read().decode("utf-8", errors="replace")
    return ProcResult(
        argv=tuple(argv),
        returncode=proc.returncode,
        stdout=stdout,
        stderr=stderr,
        duration_s=time.monotonic() - started,
    )


def tail(text: str, lines: int = 1, limit: int = 300) -> str:
    """The last non-empty lines of a tool's stderr, for one-line error messages."""
    kept = [ln.strip() for ln in text.splitlines() if ln.strip()][-lines:]
    out = " | ".join(kept)
    return out if len(out) <= limit else "…" + out[-limit:]


def failed_outcome(
    name: ScannerName, state: ScannerState, error: str, *, duration_s: float = 0.0, version: str | None = None
) -> ScanOutcome:
    return ScanOutcome(
        status=ScannerStatus(name=name.value, state=state, error=error, duration_s=duration_s, version=version)
    )


def ok_outcome(
    name: ScannerName,
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
            name=name.value,
            state=ScannerState.OK,
            version=version,
            duration_s=time.monotonic() - started,
            findings=len(findings),
            command=tuple(argv),
        ),
        findings=tuple(findings),
        warnings=tuple(warnings),
    )


def skipped_outcome(name: ScannerName, why: str) -> ScanOutcome:
    """Nothing for this scanner to do (no changed files, no manifest): not an error."""
    return ScanOutcome(status=ScannerStatus(name=name.value, state=ScannerState.SKIPPED, error=why))


def outcome_for_error(name: ScannerName, e: ScannerError, *, duration_s: float, version: str | None) -> ScanOutcome:
    """Map a runner exception to the scanner's status (timeout, not installed, failed)."""
    if isinstance(e, ToolTimeout):
        state = ScannerState.TIMEOUT
    elif isinstance(e, ToolMissing):
        state = ScannerState.NOT_INSTALLED
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
