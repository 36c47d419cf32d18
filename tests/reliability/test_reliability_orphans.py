"""No orphans (issue 32): whatever kills secscan, its scanners' process trees and its scratch
folder go with it.

secscan runs as a user runs it, with its own temp folder (``TMPDIR``) per test, and is killed
with SIGKILL (nothing of secscan runs after it) at five moments: before any scanner starts, while
bandit runs, while semgrep runs, while a scanner's output is parsed, while reports are written.
The scanners are stand-ins (``SECSCAN_BANDIT_BIN``/``SECSCAN_SEMGREP_BIN``) that start a
grandchild which calls ``setsid`` (it leaves the process group, as a daemon does) and either
hang or write a large report; one more test kills a real semgrep run (``semgrep`` ->
``pysemgrep`` -> ``semgrep-core``). The bar: within 5 s no process that carries the test's
folder in its environment or command line is alive, the temp folder is empty, and the
stand-ins' recorded pids are dead. Without the watchdog each of these leaves the hanging
stand-in, its grandchild and the scratch folder behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from secscan import proc as proc_mod
from tests.conftest import ROOT, require_tool

BAR_S = 5.0

HANG = """
import os, subprocess, sys, time
if sys.argv[1:2] == ["--version"]:
    print("{name} 9.9.9")
    sys.exit(0)
open("{dir}/{name}.pid", "w").write(str(os.getpid()))
# A grandchild in a session of its own (setsid): no process-group kill reaches it.
record = "echo $$ > {dir}/{name}.gpid.tmp; mv {dir}/{name}.gpid.tmp {dir}/{name}.gpid"
subprocess.Popen(["setsid", "sh", "-c", record + "; exec sleep 300"])
time.sleep(300)
"""

# bandit that leaves a daemon behind and writes a large, valid report (slow to parse and report).
MANY = """
import json, os, subprocess, sys
if sys.argv[1:2] == ["--version"]:
    print("bandit 9.9.9")
    sys.exit(0)
open("{dir}/bandit.pid", "w").write(str(os.getpid()))
subprocess.Popen(["setsid", "sh", "-c", "echo $$ > {dir}/bandit.gpid; exec sleep 300"])
out = sys.argv[sys.argv.index("-o") + 1]
files = sys.argv[sys.argv.index("--") + 1:]
results = [
    {{"code": "%d eval(x)\\n" % n, "col_offset": 0, "end_col_offset": 7, "filename": f,
      "issue_confidence": "HIGH", "issue_cwe": {{"id": 78, "link": "https://cwe.mitre.org/data/definitions/78.html"}},
      "issue_severity": "MEDIUM", "issue_text": "Use of possibly insecure function.",
      "line_number": n, "line_range": [n], "more_info": "https://bandit.readthedocs.io/", "test_id": "B307",
      "test_name": "blacklist"}}
    for f in files for n in range(1, {lines} + 1)
]
metrics = {{f: {{"loc": {lines}}} for f in files}}
metrics["_totals"] = {{}}
json.dump({{"errors": [], "results": results, "metrics": metrics}}, open(out, "w"))
open("{dir}/bandit.exited", "w").close()
"""

FILES = 6
LINES = 800


def fake(tmp_path: Path, name: str, template: str) -> Path:
    script = tmp_path / "bin" / name
    script.parent.mkdir(exist_ok=True)
    body = template.format(dir=tmp_path / "pids", name=name, lines=LINES)
    script.write_text(f"#!{sys.executable}\n{body}")
    script.chmod(0o755)
    (tmp_path / "pids").mkdir(exist_ok=True)
    return script


def project(tmp_path: Path) -> Path:
    tree = tmp_path / "app"
    tree.mkdir()
    for i in range(FILES):
        (tree / f"mod{i}.py").write_text("x = input()\n" + "eval(x)\n" * (LINES - 1))
    return tree


def start(tmp_path: Path, tree: Path, only: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
    temp = tmp_path / "tmp"
    temp.mkdir(exist_ok=True)
    base = {k: v for k, v in os.environ.items() if not k.startswith("SECSCAN_")}
    argv = [sys.executable, "-m", "secscan", "scan", str(tree), "--only", only, "--no-cache", "--no-progress"]
    return subprocess.Popen(
        [*argv, "--out", str(tmp_path / "out")],
        env={**base, "TMPDIR": str(temp), "SEMGREP_ENABLE_VERSION_CHECK": "0", **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        start_new_session=True,  # a stray signal to it never reaches pytest
    )


def alive(pid: int) -> bool:
    """Running (a zombie is dead: it only waits to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


def mentioning(tag: str) -> list[str]:
    """Live processes whose environment or command line holds ``tag`` (never this one)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid() or not alive(int(name)):
            continue
        try:
            environ = Path(f"/proc/{name}/environ").read_bytes()
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        if tag.encode() in environ or tag.encode() in cmdline:
            shown = cmdline.replace(b"\0", b" ").decode(errors="replace")[:200]
            found.append(f"{name}: {shown}")
    return found


def wait_for(check: Callable[[], bool], secs: float, what: str, secscan: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + secs
    while not check():
        assert secscan.poll() is None, f"secscan ended (exit {secscan.returncode}) before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


def recorded_pids(tmp_path: Path) -> list[int]:
    pids = []
    for p in (tmp_path / "pids").glob("*pid"):
        with contextlib.suppress(ValueError, OSError):
            pids.append(int(p.read_text()))
    return pids


def kill_and_check(tmp_path: Path, secscan: subprocess.Popen[bytes]) -> None:
    """SIGKILL secscan alone, then: within the bar, nothing of its run is left."""
    os.kill(secscan.pid, signal.SIGKILL)
    secscan.wait(timeout=30)
    assert secscan.returncode == -signal.SIGKILL, "killed at the chosen moment, not finished before it"
    killed_at = time.monotonic()
    tag = str(tmp_path)
    temp = tmp_path / "tmp"
    pids = recorded_pids(tmp_path)
    try:
        while True:
            left = mentioning(tag)
            pids_left = [p for p in pids if alive(p)]
            files_left = sorted(p.name for p in temp.iterdir())
            if not left and not pids_left and not files_left:
                break
            assert time.monotonic() - killed_at < BAR_S, (
                f"after {BAR_S:g}s: processes {left}, recorded pids {pids_left}, temp folder {files_left}"
            )
            time.sleep(0.05)
    finally:
        for pid in recorded_pids(tmp_path):  # never leave our own stand-ins behind
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for line in mentioning(tag):
            with contextlib.suppress(OSError):
                os.kill(int(line.split(":", 1)[0]), signal.SIGKILL)


def scratch_exists(tmp_path: Path) -> bool:
    return any((tmp_path / "tmp").glob(proc_mod.SCRATCH_PREFIX + "*"))


def test_killed_before_any_scanner_starts(tmp_path: Path) -> None:
    tree = project(tmp_path)
    env = {"SECSCAN_BANDIT_BIN": str(fake(tmp_path, "bandit", HANG))}
    secscan = start(tmp_path, tree, "bandit", env)
    wait_for(lambda: scratch_exists(tmp_path), 60, "the scratch folder", secscan)
    assert not recorded_pids(tmp_path), "no scanner started yet"
    kill_and_check(tmp_path, secscan)


@pytest.mark.parametrize("name", ["bandit", "semgrep"])
def test_killed_while_a_scanner_runs(tmp_path: Path, name: str) -> None:
    tree = project(tmp_path)
    env = {f"SECSCAN_{name.upper()}_BIN": str(fake(tmp_path, name, HANG))}
    secscan = start(tmp_path, tree, name, env)
    gpid = tmp_path / "pids" / f"{name}.gpid"
    wait_for(gpid.exists, 60, f"the {name} stand-in's setsid grandchild", secscan)
    assert len(recorded_pids(tmp_path)) == 2 and all(alive(p) for p in recorded_pids(tmp_path))
    kill_and_check(tmp_path, secscan)


def test_killed_while_the_output_is_parsed(tmp_path: Path) -> None:
    tree = project(tmp_path)
    env = {"SECSCAN_BANDIT_BIN": str(fake(tmp_path, "bandit", MANY))}
    secscan = start(tmp_path, tree, "bandit", env)
    wait_for((tmp_path / "pids" / "bandit.exited").exists, 60, "the stand-in's report", secscan)
    time.sleep(0.2)  # the stand-in has exited; its report of 4,800 findings is being read
    kill_and_check(tmp_path, secscan)


def test_killed_while_reports_are_written(tmp_path: Path) -> None:
    tree = project(tmp_path)
    env = {"SECSCAN_BANDIT_BIN": str(fake(tmp_path, "bandit", MANY))}
    secscan = start(tmp_path, tree, "bandit", env)
    out = tmp_path / "out"
    wait_for(lambda: out.is_dir() and any(out.iterdir()), 120, "the first report", secscan)
    kill_and_check(tmp_path, secscan)


def test_killed_while_real_semgrep_runs(tmp_path: Path) -> None:
    require_tool("semgrep")
    tree = tmp_path / "app"
    shutil.copytree(ROOT / "examples" / "payment-app", tree)
    # semgrep takes ~0.5 s on the app alone: a long module keeps it busy for seconds.
    (tree / "payments" / "generated.py").write_text(
        "".join(f"def f{n}(x):\n    return x + {n}\n" for n in range(20_000))
    )
    secscan = start(tmp_path, tree, "semgrep", {})
    tag = str(tmp_path)

    def core_running() -> bool:
        # semgrep's OCaml binary runs as "osemgrep" (the scan) and "semgrep-core" (its workers).
        return any(name in line for line in mentioning(tag) for name in ("semgrep-core", "osemgrep", "pysemgrep"))

    wait_for(core_running, 120, "semgrep's own processes", secscan)
    kill_and_check(tmp_path, secscan)


def test_a_stale_scratch_folder_is_swept_only_when_its_owner_is_dead(tmp_path: Path) -> None:
    """The fallback when the watchdog died too: the next run's sweep, by the folder's lock."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    code = (
        "import sys, time; from secscan import proc\n"
        "with proc.run_scope() as d:\n"
        "    print(d, flush=True); time.sleep(300)\n"
    )
    env = {**os.environ, "TMPDIR": str(temp)}
    holders = [
        subprocess.Popen(
            [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, cwd=ROOT, start_new_session=True
        )
        for _ in range(2)
    ]
    try:
        folders = [Path(h.stdout.readline().decode().strip()) for h in holders if h.stdout]
        assert all(f.is_dir() for f in folders)
        # One owner and its watchdog die at once (a torn-down container): its folder stays.
        watchdogs = [int(p) for p in os.listdir("/proc") if p.isdigit() and _is_watchdog(int(p), temp)]
        for pid in watchdogs:
            os.kill(pid, signal.SIGKILL)
        os.kill(holders[0].pid, signal.SIGKILL)
        holders[0].wait(timeout=30)
        assert folders[0].is_dir()
        assert proc_mod.sweep_stale(temp) == 1
        assert not folders[0].exists(), "the dead run's folder is removed"
        assert folders[1].is_dir(), "a live run's folder is kept"
    finally:
        for h in holders:
            with contextlib.suppress(OSError):
                os.killpg(h.pid, signal.SIGKILL)
            h.wait(timeout=30)
            if h.stdout:
                h.stdout.close()


def _is_watchdog(pid: int, temp: Path) -> bool:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return b"secscan.proc\0--watch" in cmd and str(temp).encode() in environ


def test_a_tool_that_outlives_its_time_limit_is_killed_with_its_setsid_grandchild(tmp_path: Path) -> None:
    """The run's own path (no kill of secscan): a time limit reaches descendants in other sessions."""
    script = fake(tmp_path, "bandit", HANG)
    started = time.monotonic()
    with pytest.raises(proc_mod.ToolTimeout):
        proc_mod.run_tool([str(script), "-r", "x"], timeout=3)
    assert time.monotonic() - started < 3 + 2 + 5 + BAR_S
    pids = recorded_pids(tmp_path)
    assert len(pids) == 2, "the stand-in and its grandchild both started"
    deadline = time.monotonic() + BAR_S
    while any(alive(p) for p in pids):
        assert time.monotonic() < deadline, [p for p in pids if alive(p)]
        time.sleep(0.05)
