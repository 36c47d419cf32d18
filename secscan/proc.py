"""One process runner for every tool secscan starts, and the guarantee that nothing it started
outlives it.

Running a tool (:func:`run_tool`): its own session, output in files (never a full pipe), a
wall-clock limit, cancellation, and an environment from an allow list (:func:`scanner_env`).

Killing a tool's whole tree is harder than killing its process group: semgrep is three
processes deep (``semgrep`` -> ``pysemgrep`` -> ``semgrep-core``), and a descendant that calls
``setsid`` leaves the group. So every environment :func:`scanner_env` builds carries a **mark**
(``SECSCAN_PROC_MARK=<run token>/<n>``), which every descendant inherits whatever session it
starts; :func:`kill_marked` finds the marked processes in ``/proc/*/environ`` and SIGKILLs them
(through a pidfd, so a recycled pid is never hit). A time limit or a cancellation kills one tool's
mark; the end of a run kills the run's token.

Signal handlers cannot cover a SIGKILL of secscan (nor can ``PR_SET_PDEATHSIG``: it reaches only
the direct child, fires when the *thread* that started it ends, and needs a ``preexec_fn``, which
is unsafe in a process with threads). So :func:`run_scope`, as the ZAP runner's reaper does,
starts a small watchdog in its own session connected by a pipe; when the pipe closes without
``done`` (secscan died, however), the watchdog kills every process with the run's token and
removes the run's scratch folder. A scratch folder whose watchdog died too (a container torn
down, a reboot of a shell runner) is removed by the next run's :func:`sweep_stale`: each folder
holds an ``flock`` for as long as its owner lives, so only folders of dead runs are removed.

Without ``/proc`` (not Linux) the marks find nothing: the process-group kill still applies.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from secscan import credentials
from secscan.errors import ScannerError

MARK_ENV = "SECSCAN_PROC_MARK"
"""The environment variable every process secscan starts for a tool inherits."""
SCRATCH_PREFIX = "secscan-run-"
"""Scratch folders in the temp folder: ``secscan-run-XXXX`` (what :func:`sweep_stale` looks at)."""
OWNER_FILE = ".owner"
"""In a scratch folder: locked (``flock``) by the run that owns it, for as long as it lives."""
STALE_UNLOCKED_S = 3600.0
"""A scratch folder without an owner file (its run died between creating the folder and locking
it) is left alone this long: the owner may be about to lock it."""

# A random token per secscan process: marks of two runs on one machine never match each other.
_TOKEN = f"{os.getpid()}-{secrets.token_hex(8)}"
_SEQ = itertools.count(1)


@dataclass(frozen=True, kw_only=True)
class _Run:
    """The run in progress (set by :func:`run_scope`): where the tools' temp files go."""

    tmp: Path


_current: list[_Run] = []  # at most one; a list so tool threads read it without a global statement


def run_token() -> str:
    """This process's token: every tool mark starts with it."""
    return _TOKEN


def new_mark() -> str:
    """A mark for one tool (its tree): ``<token>/<n>``."""
    return f"{_TOKEN}/{next(_SEQ)}"


def _within(mark: str, scope: str) -> bool:
    """Whether a mark belongs to ``scope`` (a tool's mark, or the run token covering them all)."""
    return mark == scope or mark.startswith(scope + "/")


def mark_of(pid: int) -> str | None:
    """The mark in a live process's environment (None: unmarked, gone, a zombie, not ours)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    key = MARK_ENV.encode() + b"="
    for item in data.split(b"\0"):
        if item.startswith(key):
            return item[len(key) :].decode("ascii", errors="replace")
    return None


def marked(scope: str) -> list[int]:
    """Live processes whose mark is within ``scope`` (never this process)."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    me = os.getpid()
    found = []
    for name in names:
        if name.isdigit() and int(name) != me:
            mark = mark_of(int(name))
            if mark is not None and _within(mark, scope):
                found.append(int(name))
    return found


def _kill_if_marked(pid: int, scope: str) -> bool:
    """SIGKILL ``pid`` if it still carries a mark within ``scope``. Through a pidfd opened before
    the check: if the pid is recycled after that, the signal goes nowhere instead of to a
    stranger."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return False
    try:
        mark = mark_of(pid)
        if mark is None or not _within(mark, scope):
            return False
        signal.pidfd_send_signal(fd, signal.SIGKILL)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def kill_marked(scope: str, *, within: float = 5.0) -> int:
    """SIGKILL every process marked within ``scope``, again until none is left (a process may
    fork while its siblings die) or ``within`` seconds passed; how many signals were sent."""
    deadline = time.monotonic() + within
    sent = 0
    while True:
        pids = marked(scope)
        if not pids:
            return sent
        sent += sum(_kill_if_marked(pid, scope) for pid in pids)
        if time.monotonic() > deadline:
            return sent
        time.sleep(0.01)


# ------------------------------------------------------------------ running one tool


@dataclass(frozen=True, kw_only=True)
class ProcResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    duration_s: float


class ToolTimeout(ScannerError):
    """The tool ran past its time limit; its whole process tree was killed."""


class ToolCancelled(ScannerError):
    """secscan was interrupted; the tool's process tree was killed."""


class ToolMissing(ScannerError):
    """The executable is not installed."""


def kill_tree(proc: subprocess.Popen[bytes], mark: str | None = None) -> None:
    """SIGTERM the tool's process group, SIGKILL what is left after a grace period, then SIGKILL
    every descendant that left the group (``setsid``) by its mark.

    ``mark``: the tool's (read from the leader's environment when not given, which works while
    the leader has not been reaped)."""
    mark = mark or mark_of(proc.pid)
    try:
        _kill_group(proc)
    finally:
        if mark is not None:
            kill_marked(mark)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group (a chance to clean up), then SIGKILL."""
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


# What a scanner's environment may carry from ours: where things are, locale, temp folders and
# certificates. Nothing else: CI job tokens, GitLab tokens, the audit key, the cache key and any
# other credential in the job's environment must never reach a process that reads untrusted files.
_ENV_ALLOW = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR", "TEMP", "TMP", "TERM",
        "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
        "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "VIRTUAL_ENV", "PYTHONIOENCODING",
        "NO_PROXY", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
    }
)  # fmt: skip
_CREDENTIAL_HINT = credentials.CREDENTIAL_HINT  # one list: what is masked is what no tool gets


def allowed_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed part of ``environ`` (no mark: for helpers that must outlive a run)."""
    env: dict[str, str] = {}
    for name, value in environ.items():
        if name in _ENV_ALLOW or name.startswith("LC_"):
            if "PROXY" in name.upper() and "@" in value:
                continue  # a proxy URL with userinfo is a credential
            env[name] = value
    env["PYTHONSAFEPATH"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def scanner_env(environ: Mapping[str, str], extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a scanner runs with: an allow list of ours, a safe import path, a fresh
    mark, the run's temp folder, and what the backend adds. ``PYTHONSAFEPATH``: Python tools never
    import from their working folder or script folder, so a ``pip.py`` or ``bandit.py`` planted
    in a tree cannot run."""
    env = allowed_env(environ)
    if _current:
        # Inside the run's scratch folder: a tool's temp files go when the run goes, killed or not.
        tmp = str(_current[0].tmp)
        env.update(TMPDIR=tmp, TMP=tmp, TEMP=tmp)
    for name, value in (extra or {}).items():
        if any(h in name.upper() for h in _CREDENTIAL_HINT):
            raise ValueError(f"refusing to pass {name} to a scanner")
        env[name] = value
    env[MARK_ENV] = new_mark()  # last: a backend cannot unmark its tool
    return env


def wait_within_limits(
    proc: subprocess.Popen[bytes],
    *,
    name: str,
    deadline: float,
    timeout: float,
    cancel: threading.Event | None,
    mark: str | None = None,
) -> None:
    """Wait for a tool started in its own session; on cancellation, past ``deadline`` or on any
    exception here (a signal), its whole process tree is killed before this returns or raises."""
    mark = mark or mark_of(proc.pid)  # read while the leader surely lives (unreaped)
    try:
        while True:
            try:
                proc.wait(timeout=0.05)
                return
            except subprocess.TimeoutExpired:
                pass
            if cancel is not None and cancel.is_set():
                kill_tree(proc, mark)
                raise ToolCancelled(f"{name} cancelled")
            if time.monotonic() > deadline:
                kill_tree(proc, mark)
                raise ToolTimeout(f"{name} exceeded its time limit of {timeout:g}s and was killed")
    except BaseException:
        if proc.poll() is None:
            kill_tree(proc, mark)
        raise


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
    Whatever the tool leaves running when it exits (a daemon it started) is killed then.
    """
    started = time.monotonic()
    full_env = scanner_env(os.environ, env)
    mark = full_env[MARK_ENV]
    # Never the caller's folder (in CI: the scanned checkout) unless asked: nothing there may be
    # on a tool's search path.
    cwd = cwd if cwd is not None else Path(tempfile.gettempdir())
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
        name = Path(argv[0]).name
        try:
            wait_within_limits(proc, name=name, deadline=started + timeout, timeout=timeout, cancel=cancel, mark=mark)
        finally:
            kill_marked(mark)  # descendants that outlived the tool (setsid daemons)
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


# ------------------------------------------------------------------ one run: scratch + watchdog


class Watchdog:
    """The parent side of the watchdog (``python -P -m secscan.proc --watch TOKEN``)."""

    def __init__(self, proc: subprocess.Popen[bytes] | None) -> None:
        self._proc = proc

    @classmethod
    def start(cls, token: str) -> Watchdog:
        """Start it (a watchdog that cannot start leaves the run unguarded, never stops it)."""
        env = allowed_env(os.environ)  # no mark: the run's end must not kill its own watchdog
        argv = [sys.executable, "-P", "-m", "secscan.proc", "--watch", token]
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                cwd="/",  # outside the scanned tree: nothing there is imported
                # Own session: a signal to secscan's process group must not take it along.
                start_new_session=True,
            )
        except OSError:
            proc = None
        return cls(proc)

    def send(self, line: str) -> None:
        stdin = self._proc.stdin if self._proc is not None else None
        with contextlib.suppress(OSError, ValueError):
            if stdin is not None:
                stdin.write(os.fsencode(line) + b"\n")
                stdin.flush()

    def done(self) -> None:
        """The run cleaned up after itself: the watchdog exits touching nothing (not waited for:
        secscan should not pay for its start-up)."""
        self.send("done")
        stdin = self._proc.stdin if self._proc is not None else None
        with contextlib.suppress(OSError):
            if stdin is not None:
                stdin.close()


def _owner_alive(folder: Path, st: os.stat_result) -> bool:
    """Whether the run owning a scratch folder may still live (its ``flock`` is held)."""
    try:
        fd = os.open(folder / OWNER_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return time.time() - st.st_mtime < STALE_UNLOCKED_S
    except OSError:
        return True  # not ours to judge (a link, no permission): keep it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)  # releases the lock if we took it
    return False


def sweep_stale(root: Path | None = None) -> int:
    """Remove scratch folders of runs that died without cleaning up (watchdog included): only
    this user's real folders (no links) whose owner lock is free. How many were removed."""
    where = Path(root) if root is not None else Path(tempfile.gettempdir())
    removed = 0
    try:
        entries = list(os.scandir(where))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(SCRATCH_PREFIX):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or _owner_alive(Path(entry.path), st):
            continue
        shutil.rmtree(entry.path, ignore_errors=True)  # fd-based on Linux: never follows a link out
        removed += 1
    return removed


def _make_scratch(folder: Path) -> int:
    """Create the scratch folder (private; its name is new: the run token is random) and return
    the fd holding its owner lock, taken before the lock file gets its name, so a concurrent
    sweep never sees it unlocked."""
    os.mkdir(folder, 0o700)
    pending = folder / (OWNER_FILE + ".new")
    fd = os.open(pending, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    os.write(fd, f"{os.getpid()}\n".encode())
    os.replace(pending, folder / OWNER_FILE)
    return fd


@contextlib.contextmanager
def run_scope() -> Iterator[Path]:
    """A scratch folder for one run; when the block ends (or secscan dies, however), every
    process a tool of this run started is killed and the folder is removed."""
    sweep_stale()
    watchdog = Watchdog.start(_TOKEN)  # before anything exists that it would have to clean
    folder = Path(tempfile.gettempdir()) / f"{SCRATCH_PREFIX}{_TOKEN}-{next(_SEQ)}"
    watchdog.send(f"scratch {folder}")  # named before it exists: a kill in between leaves nothing
    lock = _make_scratch(folder)
    (folder / "tmp").mkdir()
    _current.append(_Run(tmp=folder / "tmp"))
    try:
        yield folder
    finally:
        _current.clear()
        kill_marked(_TOKEN)
        shutil.rmtree(folder, ignore_errors=True)
        os.close(lock)
        watchdog.done()


# ------------------------------------------------------------------ the watchdog side


def watch(token: str, lines: Sequence[str]) -> None:
    """After secscan's end without ``done``: kill the run's processes, then remove its folders
    (killed first: they write into them)."""
    if "done" in lines:
        return
    kill_marked(token, within=30.0)
    for line in lines:
        if line.startswith("scratch "):
            shutil.rmtree(line[len("scratch ") :], ignore_errors=True)


def _watch_main(token: str) -> int:
    lines: list[str] = []
    for raw in sys.stdin.buffer:  # blocks until secscan writes a line or its end closes
        lines.append(os.fsdecode(raw.rstrip(b"\n")))
        if lines[-1] == "done":
            break
    watch(token, lines)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--watch":
        print("usage: python -m secscan.proc --watch TOKEN", file=sys.stderr)
        sys.exit(2)
    sys.exit(_watch_main(sys.argv[2]))
