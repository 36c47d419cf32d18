"""Every signal at every phase of `secscan scan` (issue 32): one line and the documented code.

secscan runs as a real process and gets SIGTERM (a cancelled CI job: 143) or SIGINT (Ctrl-C: 130)
at a measured moment of each phase: reading inputs (a ``git`` on PATH that hangs while the diff
base is read), scanners running (a ``SECSCAN_BANDIT_BIN`` stand-in that sleeps), writing outputs
(the stand-in reports 4,800 findings and every format is written: the signal is sent once the
new set's staging folder exists) and publishing (a GitLab API address whose server accepts the
connection and never answers). The out folder already holds a previous run's complete report
set. The bar: stderr ends with ``secscan: error: stopped by SIG…`` and nothing else but progress
lines, the exit code is 128 + the signal, no temp file or staging folder is left in the out
folder or the temp folder, and ``secscan verify-report`` passes on the out folder: it holds the
previous set or the new one, never a mix.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT

# One worker for the module: under xdist each worker builds a module fixture of its own, and
# previous is a real scan.
pytestmark = pytest.mark.xdist_group("reliability-signals")

FILES = 6
LINES = 800

# A bandit stand-in: accounts for every file it is given (per-file metrics), reports LINES
# findings per file after sleeping SLEEP seconds. The constants are prepended per test.
BANDIT = """
import json, os, sys, time
if sys.argv[1:2] == ["--version"]:
    print("bandit 9.9.9")
    sys.exit(0)
open(PIDFILE, "w").write(str(os.getpid()))
time.sleep(SLEEP)
out = sys.argv[sys.argv.index("-o") + 1]
files = sys.argv[sys.argv.index("--") + 1:]
results = [
    {"code": "%d eval(x)\\n" % n, "col_offset": 0, "end_col_offset": 7, "filename": f,
     "issue_confidence": "HIGH", "issue_cwe": {"id": 78, "link": "https://cwe.mitre.org/data/definitions/78.html"},
     "issue_severity": "MEDIUM", "issue_text": "Use of possibly insecure function.",
     "line_number": n, "line_range": [n], "more_info": "https://bandit.readthedocs.io/", "test_id": "B307",
     "test_name": "blacklist"}
    for f in files for n in range(1, LINES + 1)
]
metrics = {f: {"loc": LINES} for f in files}
metrics["_totals"] = {}
json.dump({"errors": [], "results": results, "metrics": metrics}, open(out, "w"))
"""

# A git that hangs (the diff base is being read: the inputs phase).
GIT = "#!/bin/sh\necho $$ > {pidfile}\nexec sleep 300\n"


@dataclass(frozen=True, kw_only=True)
class Case:
    """One phase: how the run is started and the moment it is in that phase."""

    phase: str
    sleep: float = 0.0
    lines: int = 1
    args: tuple[str, ...] = ()
    """More `secscan scan` arguments."""


PHASES = [
    Case(phase="inputs", args=("--diff-base", "0e4db308b6579f7cc733e5a354e026b272e1c076")),
    Case(phase="scanners", sleep=300),
    Case(phase="outputs", lines=LINES, args=("-f", "all")),
    Case(phase="publishing", args=("--publish",)),
]


def fake_bandit(folder: Path, *, sleep: float, lines: int) -> Path:
    script = folder / "bin" / "bandit"
    script.parent.mkdir(parents=True, exist_ok=True)
    head = f"PIDFILE = {str(folder / 'bandit.pid')!r}\nSLEEP = {sleep!r}\nLINES = {lines!r}\n"
    script.write_text(f"#!{sys.executable}\n{head}{BANDIT}")
    script.chmod(0o755)
    return script


def fake_git(folder: Path) -> Path:
    git = folder / "gitbin" / "git"
    git.parent.mkdir(parents=True, exist_ok=True)
    git.write_text(GIT.format(pidfile=folder / "git.pid"))
    git.chmod(0o755)
    return git.parent


def make_tree(tmp_path: Path) -> Path:
    tree = tmp_path / "app"
    tree.mkdir()
    for i in range(FILES):
        (tree / f"mod{i}.py").write_text("x = input()\n" + "eval(x)\n" * (LINES - 1))
    return tree


def base_env(tmp_path: Path) -> dict[str, str]:
    temp = tmp_path / "tmp"
    temp.mkdir(exist_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GITLAB_"))}
    return {**base, "TMPDIR": str(temp), "PYTHONPATH": str(ROOT), "SEMGREP_ENABLE_VERSION_CHECK": "0"}


def scan_argv(tree: Path, out: Path, *extra: str) -> list[str]:
    argv = [sys.executable, "-m", "secscan", "scan", str(tree), "--only", "bandit", "--no-cache", "--no-progress"]
    return [*argv, "--out", str(out), *extra]


@pytest.fixture(scope="module")
def previous(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A previous run's complete report set (every format), copied into each test's out folder."""
    where = tmp_path_factory.mktemp("previous")
    tree = make_tree(where)
    env = {**base_env(where), "SECSCAN_BANDIT_BIN": str(fake_bandit(where, sleep=0, lines=1))}
    done = subprocess.run(
        scan_argv(tree, where / "out", "-f", "all"), env=env, capture_output=True, text=True, timeout=300, cwd=where
    )
    assert done.returncode in (0, 1), done.stderr
    return where / "out"


class SilentGitLab:
    """A server on loopback that accepts connections and never answers (a GitLab that hangs)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.accepted = threading.Event()
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted.set()

    @property
    def env(self) -> dict[str, str]:
        port = self.sock.getsockname()[1]
        return {
            "CI_API_V4_URL": f"http://127.0.0.1:{port}/api/v4",
            "CI_MERGE_REQUEST_PROJECT_ID": "7",
            "CI_MERGE_REQUEST_IID": "3",
            "SECSCAN_GITLAB_TOKEN": "glpat-Signals-0123456789abcdef",
            "SECSCAN_GITLAB_ALLOW_HTTP": "1",
        }

    def close(self) -> None:
        self.sock.close()
        for conn in self.conns:
            conn.close()


@pytest.fixture
def gitlab() -> Iterator[SilentGitLab]:
    server = SilentGitLab()
    try:
        yield server
    finally:
        server.close()


def moment(case: Case, tmp_path: Path, out: Path, gitlab: SilentGitLab) -> Callable[[], bool]:
    """When the run is in the case's phase."""
    if case.phase == "inputs":
        return lambda: bool((tmp_path / "git.pid").exists() and (tmp_path / "git.pid").read_text().strip())
    if case.phase == "scanners":
        return (tmp_path / "bandit.pid").exists
    if case.phase == "outputs":
        return lambda: any(p.name.startswith(".secscan-staging-") for p in out.iterdir())
    return gitlab.accepted.is_set


def wait_for(check: Callable[[], bool], secscan: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 120
    while not check():
        assert secscan.poll() is None, f"secscan ended (exit {secscan.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def stray(out: Path, temp: Path) -> list[str]:
    """Temp files and staging folders in the out folder; anything in the temp folder."""
    left = [p.name for p in out.iterdir() if p.name.startswith(".")]
    return left + [f"tmp/{p.name}" for p in temp.iterdir()]


def verify_report(out: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "secscan", "verify-report", str(out)]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, cwd=out.parent)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
@pytest.mark.parametrize("case", PHASES, ids=[c.phase for c in PHASES])
def test_a_signal_at_each_phase_ends_with_one_line_and_its_code(
    tmp_path: Path, previous: Path, gitlab: SilentGitLab, case: Case, sig: signal.Signals
) -> None:
    tree = make_tree(tmp_path)
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "secscan-audit.jsonl"}
    env = {
        **base_env(tmp_path),
        "SECSCAN_BANDIT_BIN": str(fake_bandit(tmp_path, sleep=case.sleep, lines=case.lines)),
        **(gitlab.env if case.phase == "publishing" else {}),
    }
    if case.phase == "inputs":
        env["PATH"] = f"{fake_git(tmp_path)}{os.pathsep}{env['PATH']}"
    secscan = subprocess.Popen(
        scan_argv(tree, out, *case.args),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        start_new_session=True,  # the signal goes to secscan alone, never to pytest
    )
    try:
        wait_for(moment(case, tmp_path, out, gitlab), secscan, f"the {case.phase} phase")
        secscan.send_signal(sig)
        _, err = secscan.communicate(timeout=60)
    finally:
        if secscan.poll() is None:
            secscan.kill()
    lines = [ln for ln in err.splitlines() if not ln.startswith("[secscan +")]  # progress events
    assert lines == [f"secscan: error: stopped by {sig.name}"], err
    assert secscan.returncode == 128 + sig
    assert stray(out, tmp_path / "tmp") == []
    check = verify_report(out, base_env(tmp_path))
    assert check.returncode == 0, check.stdout + check.stderr
    now = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "secscan-audit.jsonl"}
    if case.phase != "publishing":  # publishing comes after the new set is in place
        assert now == before, "the previous report set was changed"
    else:
        assert now != before and now.keys() >= {"secscan.json", "secscan.manifest.json"}


def test_sigterm_while_the_command_is_imported(tmp_path: Path) -> None:
    """Even before the command's modules are loaded (e.g. `secscan scan` starting up) the handler
    is in place: one line and 143, never a silent exit."""
    code = (
        "import os, signal, sys\n"
        "from secscan import cli\n"
        "orig = cli.importlib.import_module\n"
        "def slow(name, *a):\n"  # the signal arrives while the command is being imported
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    return orig(name, *a)\n"
        "cli.importlib.import_module = slow\n"
        "sys.argv = ['secscan', 'gate', 'missing.json']\n"
        "cli.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=base_env(tmp_path), capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 143 and done.stderr.splitlines() == ["secscan: error: stopped by SIGTERM"], done.stderr


# The interpreter's last step before exiting puts the default handlers back (CPython's signal
# finalization); the atexit hook does exactly that, then a late signal lands, as a second Ctrl-C
# or a runner's follow-up SIGTERM does on a loaded machine (seen once in CI: exit -2, not 130).
_LATE_SIGNAL = """
import atexit, os, signal, sys
from secscan import interrupts
def late():
    for sig in interrupts.SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)
atexit.register(late)
interrupts.install()
try:
    os.kill(os.getpid(), signal.SIGINT)
    signal.pause()
except interrupts.Interrupted as e:
    code = e.exit_code
SETTLE
sys.exit(code)
"""


@pytest.mark.parametrize("settled", [True, False])
def test_a_signal_while_the_interpreter_exits_never_replaces_the_first_stops_code(settled: bool) -> None:
    script = _LATE_SIGNAL.replace("SETTLE", "interrupts.settle()" if settled else "")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, timeout=60, check=False)
    # The control (no settle) shows the race is real: the late signal kills the process.
    assert done.returncode == (130 if settled else -signal.SIGTERM)
