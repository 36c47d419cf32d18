"""Every scanner failure mode gives a clear one-line error, keeps the other scanners' results and
maps to the documented exit code. Fake scanner executables (shell scripts) stand in for a
crashing, hanging or garbage-printing bandit; the real semgrep runs beside them."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from secscan.resultio import load
from tests.conftest import require_tool
from tests.support.cli import Run, secscan

# Without the CI job's variables (a merge request pipeline running these tests sets a diff base).
run_secscan = functools.partial(secscan, clean=True)

DATA = Path(__file__).resolve().parent.parent / "data" / "scanners"
RULE = textwrap.dedent(
    """\
    rules:
    - id: weak-md5
      pattern: hashlib.md5(...)
      message: MD5 is not collision resistant.
      languages: [python]
      severity: ERROR
      metadata:
        cwe: "CWE-328: Use of Weak Hash"
    """
)


def make_project(tmp_path: Path) -> tuple[Path, Path]:
    project = tmp_path / "proj"
    (project / "app").mkdir(parents=True)
    (project / "app" / "views.py").write_text((DATA / "scratch-app" / "app" / "views.py").read_text())
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULE)
    return project, rules


def fake(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-bandit"
    script.write_text("#!/bin/sh\n" + textwrap.dedent(body))
    script.chmod(0o755)
    return script


def scan_args(project: Path, rules: Path, out: Path, *extra: str) -> list[str]:
    return [
        "scan", str(project), "--out", str(out), "--only", "bandit,semgrep",
        "--no-builtin-rules", "--semgrep-rules", str(rules), "--no-progress", *extra,
    ]  # fmt: skip


def statuses(out: Path) -> dict[str, tuple[str, str | None]]:
    result = load(out / "secscan.json")
    return {s.name: (s.state.value, s.error) for s in result.scanners}


def assert_clean_stderr(proc: Run) -> None:
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout


@pytest.fixture(scope="module")
def semgrep_available() -> None:
    require_tool("semgrep")
    require_tool("bandit")


def test_crashing_scanner_is_listed_and_other_results_kept(tmp_path: Path, semgrep_available: None) -> None:
    project, rules = make_project(tmp_path)
    script = fake(tmp_path, 'echo "Traceback (most recent call last): boom" >&2\necho "KeyError: boom" >&2\nexit 2\n')
    out = tmp_path / "out"
    proc = run_secscan(*scan_args(project, rules, out, "--fail-closed"), env={"SECSCAN_BANDIT_BIN": str(script)})
    st = statuses(out)
    assert st["bandit"][0] == "failed"
    assert "exited with code 2" in (st["bandit"][1] or "") and "boom" in (st["bandit"][1] or "")
    assert st["semgrep"][0] == "ok"
    result = load(out / "secscan.json")
    assert any(f.rule_id == "weak-md5" for f in result.findings), "semgrep's findings are kept"
    # A blocking finding (ERROR -> high) and a failed scanner: the finding decides the exit code
    # (1), and the scanner failure is listed among the reasons too.
    assert proc.returncode == 1
    assert result.verdict is not None and not result.verdict.passed
    assert any(r.rule == "fail_closed=true" and "bandit" in r.message for r in result.verdict.reasons)


def test_failed_scanner_alone_exits_3_and_fail_open_passes(tmp_path: Path, semgrep_available: None) -> None:
    project, _ = make_project(tmp_path)
    (project / "app" / "views.py").write_text("print('clean')\n")
    script = fake(tmp_path, "exit 2\n")
    out = tmp_path / "out"
    env = {"SECSCAN_BANDIT_BIN": str(script)}
    closed = run_secscan("scan", str(project), "--out", str(out), "--only", "bandit", "--no-progress", env=env)
    assert closed.returncode == 3, closed.stderr
    assert_clean_stderr(closed)
    opened = run_secscan(
        "scan", str(project), "--out", str(out), "--only", "bandit", "--fail-open", "--no-progress", env=env
    )
    assert opened.returncode == 0, opened.stdout + opened.stderr


def test_scanner_not_installed(tmp_path: Path, semgrep_available: None) -> None:
    project, rules = make_project(tmp_path)
    out = tmp_path / "out"
    proc = run_secscan(
        *scan_args(project, rules, out), env={"SECSCAN_BANDIT_BIN": str(tmp_path / "nowhere" / "bandit")}
    )
    st = statuses(out)
    assert st["bandit"] == ("not_installed", st["bandit"][1])
    assert "not installed" in (st["bandit"][1] or "")
    assert st["semgrep"][0] == "ok"
    assert_clean_stderr(proc)


def test_garbage_output_is_a_parse_failure(tmp_path: Path, semgrep_available: None) -> None:
    project, rules = make_project(tmp_path)
    # Honour `-o FILE` like bandit does, but write garbage into it.
    script = fake(
        tmp_path,
        """\
        while [ $# -gt 0 ]; do
          if [ "$1" = "-o" ]; then shift; echo '<html>not json' > "$1"; fi
          shift
        done
        exit 0
        """,
    )
    out = tmp_path / "out"
    proc = run_secscan(*scan_args(project, rules, out), env={"SECSCAN_BANDIT_BIN": str(script)})
    state, error = statuses(out)["bandit"]
    assert state == "failed"
    assert error is not None and "could not be parsed" in error and "not valid JSON" in error
    assert_clean_stderr(proc)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (reaped later by init) no longer runs: read its state.
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _hanging_script(tmp_path: Path) -> tuple[Path, Path]:
    pidfile = tmp_path / "child.pid"
    script = fake(tmp_path, f"sleep 300 &\necho $! > {pidfile}\nwait\n")
    return script, pidfile


def test_hanging_scanner_hits_time_limit_and_whole_group_is_killed(tmp_path: Path, semgrep_available: None) -> None:
    project, rules = make_project(tmp_path)
    script, pidfile = _hanging_script(tmp_path)
    out = tmp_path / "out"
    proc = run_secscan(
        *scan_args(project, rules, out, "--timeout", "bandit=2"), env={"SECSCAN_BANDIT_BIN": str(script)}
    )
    state, error = statuses(out)["bandit"]
    assert state == "timeout"
    assert error is not None and "time limit of 2s" in error
    assert statuses(out)["semgrep"][0] == "ok"
    child = int(pidfile.read_text())
    assert not _pid_alive(child), "the scanner's child process survived the time limit"
    assert proc.returncode in (1, 3)
    assert_clean_stderr(proc)


def test_sigterm_stops_scanners_and_exits_143(tmp_path: Path, semgrep_available: None) -> None:
    project, _ = make_project(tmp_path)
    script, pidfile = _hanging_script(tmp_path)
    env = {**os.environ, "SECSCAN_BANDIT_BIN": str(script)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "secscan",
            "scan",
            str(project),
            "--out",
            str(tmp_path / "out"),
            "--only",
            "bandit",
            "--no-progress",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text().strip():
            break
        time.sleep(0.05)
    child = int(pidfile.read_text())
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + signal.SIGTERM
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    for _ in range(100):
        if not _pid_alive(child):
            break
        time.sleep(0.05)
    assert not _pid_alive(child)


def test_semgrep_registry_config_fails_at_once(tmp_path: Path, semgrep_available: None) -> None:
    project, _ = make_project(tmp_path)
    out = tmp_path / "out"
    proc = run_secscan(
        "scan",
        str(project),
        "--out",
        str(out),
        "--only",
        "semgrep",
        "--no-builtin-rules",
        "--semgrep-rules",
        "p/ci",
        "--no-progress",
    )
    state, error = statuses(out)["semgrep"]
    assert state == "failed"
    assert error is not None and "'p/ci'" in error and "registry" in error
    result = load(out / "secscan.json")
    assert result.scanners[0].duration_s < 5  # said at once: semgrep was never started
    assert proc.returncode == 3


def test_bad_config_file_is_usage_error(tmp_path: Path) -> None:
    project, _ = make_project(tmp_path)
    (project / ".secscan.toml").write_text("only = ['bandit']\ntimeuots = 3\n")
    proc = run_secscan("scan", str(project), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "unknown setting 'timeuots'" in proc.stderr
    assert_clean_stderr(proc)
    (project / ".secscan.toml").write_text("only = [\n")
    proc = run_secscan("scan", str(project), "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and "invalid TOML" in proc.stderr


def test_unknown_scanner_name_is_usage_error(tmp_path: Path) -> None:
    proc = run_secscan("scan", str(tmp_path), "--only", "trivy")
    assert proc.returncode == 2
    assert "unknown scanner 'trivy'" in proc.stderr
    assert_clean_stderr(proc)


def test_missing_target_is_usage_error(tmp_path: Path) -> None:
    proc = run_secscan("scan", str(tmp_path / "nope"))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_result_document_records_error_text(tmp_path: Path, semgrep_available: None) -> None:
    project, rules = make_project(tmp_path)
    script = fake(tmp_path, 'echo "fatal: cannot open config" >&2\nexit 2\n')
    out = tmp_path / "out"
    run_secscan(*scan_args(project, rules, out), env={"SECSCAN_BANDIT_BIN": str(script)})
    doc = json.loads((out / "secscan.json").read_text())
    bandit_status = next(s for s in doc["scanners"] if s["name"] == "bandit")
    assert bandit_status["state"] == "failed"
    assert "fatal: cannot open config" in bandit_status["error"]
