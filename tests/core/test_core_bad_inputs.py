"""Bad inputs and output paths: one clear line, the documented exit code, nothing half-written.

Each test runs the real CLI (in-process: the command layer gives the process's exit code and
line; a real process where the test is about the process's own file descriptors).
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from tests.support.cli import secscan

run = functools.partial(secscan, clean=True)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    return lines[0]


@pytest.fixture
def result_file(tmp_path: Path) -> Path:
    """A valid secscan.json (an empty bandit report, imported)."""
    report = tmp_path / "bandit.json"
    report.write_text(json.dumps({"results": [], "errors": []}))
    out = tmp_path / "secscan.json"
    proc = run("import", "--tool", "bandit", str(report), "-o", str(out), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return out


def test_report_into_a_fifo_writes_into_it_and_keeps_it(tmp_path: Path, result_file: Path) -> None:
    # Renaming a temp file over the target would replace a FIFO (or /dev/stdout, /dev/full as
    # root) with a regular file instead of writing into it.
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as fh:
            received.append(fh.read())

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    proc = run("report", str(result_file), "--format", "sarif", "-o", str(fifo), cwd=tmp_path)
    thread.join(timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote {fifo} (sarif)" in proc.stderr
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0])["version"] == "2.1.0"


def test_report_to_proc_self_fd_goes_to_stdout(tmp_path: Path, result_file: Path) -> None:
    # A real process: /proc/self/fd/1 is its own standard output.
    proc = run("report", str(result_file), "--format", "markdown", "-o", "/proc/self/fd/1", cwd=tmp_path, process=True)
    assert proc.returncode == 0, proc.stderr
    assert "wrote /proc/self/fd/1 (markdown)" in proc.stderr
    assert proc.stdout.startswith("## secscan")


@pytest.mark.parametrize(
    "command",
    [
        ["report", "{result}", "--format", "json", "-o", "{out}"],
        ["gate", "{result}", "-o", "{out}"],
        ["merge", "{result}", "-o", "{out}"],
        ["baseline", "create", "{result}", "-o", "{out}"],
    ],
)
def test_output_under_a_file_names_the_file(tmp_path: Path, result_file: Path, command: list[str]) -> None:
    blocker = tmp_path / "notadir"
    blocker.write_text("x")
    out = blocker / "out.json"
    args = [a.format(result=result_file, out=out) for a in command]
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert one_line(proc.stderr) == f"secscan: error: cannot write {out}: {blocker} is not a directory"
    assert blocker.read_text() == "x"


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_scan_timeout_must_be_finite(tmp_path: Path, value: str) -> None:
    (tmp_path / "proj").mkdir()
    out = tmp_path / "out"
    proc = run(
        "scan",
        "proj",
        "--only",
        "bandit",
        "--no-progress",
        "--timeout",
        f"bandit={value}",
        "-o",
        str(out),
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert one_line(proc.stderr) == (
        f"secscan: error: command line: timeouts.bandit: expected a finite number of seconds, got '{value}'"
    )
    assert not out.exists()


def test_history_refuses_another_sqlite_database(tmp_path: Path, result_file: Path) -> None:
    # e.g. the advisory database given to --db by mistake: nothing may be written into it.
    other = tmp_path / "advisories.sqlite"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE advisories (id TEXT PRIMARY KEY)")
    before = other.read_bytes()
    for args in (
        ["history", "add", str(result_file), "--project", "p", "--at", "2024-01-01T00:00:00Z", "--db", str(other)],
        ["history", "list", "--db", str(other)],
        ["dashboard", "-o", str(tmp_path / "d.html"), "--db", str(other)],
    ):
        proc = run(*args, cwd=tmp_path)
        assert proc.returncode == 2, args
        assert one_line(proc.stderr) == (
            f"secscan: error: {other} is not a secscan history database (it has tables advisories)"
        )
    assert other.read_bytes() == before
    assert not (tmp_path / "d.html").exists()


def test_history_still_opens_its_own_database(tmp_path: Path, result_file: Path) -> None:
    db = tmp_path / "h.sqlite3"
    args = ["history", "add", str(result_file), "--project", "p", "--at", "2024-01-01T00:00:00Z", "--db", str(db)]
    assert run(*args, cwd=tmp_path).returncode == 0
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "already stored" in proc.stdout


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("SECSCAN_MAX_THREADS", "abc", "SECSCAN_MAX_THREADS: expected an integer, got 'abc'"),
        (
            "SECSCAN_THREAD_MIN_SEVERITY",
            "zzz",
            "SECSCAN_THREAD_MIN_SEVERITY: unknown severity 'zzz' (expected one of: info, low, medium, high, critical)",
        ),
    ],
)
def test_scan_publish_bad_setting_fails_before_scanning(tmp_path: Path, var: str, value: str, message: str) -> None:
    (tmp_path / "proj").mkdir()
    out = tmp_path / "out"
    proc = run(
        "scan", "proj", "--only", "bandit", "--no-progress", "--publish", "-o", str(out), cwd=tmp_path, env={var: value}
    )
    assert proc.returncode == 2
    assert one_line(proc.stderr) == f"secscan: error: {message}"
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", ".", "--jobs", "x"], "'x' is not a valid integer"),
        (["scan", ".", "--nope"], "No such option '--nope'"),
        (["report"], "Missing argument"),
        (["gate", "missing.json"], "cannot read missing.json"),
    ],
)
def test_usage_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    proc = run(*args, cwd=tmp_path)
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert line.startswith("secscan: error: ") and message in line
    assert "--help" in line or "cannot read" in line


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--requirements", "nope.txt", "requirements file 'nope.txt' not found"),
        ("--semgrep-rules", "missing-rules.yml", "semgrep rule file 'missing-rules.yml' does not exist"),
        ("--policy", "missing.toml", "policy file "),
        ("--baseline", "missing.json", "baseline file "),
        ("--suppressions", "missing.toml", "suppressions file "),
    ],
)
def test_named_scan_inputs_are_checked_before_any_scanner_runs(
    tmp_path: Path, flag: str, value: str, message: str
) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    # A scanner that would hang if it were ever started: the check must come first.
    hang = tmp_path / "hang"
    hang.write_text("#!/bin/sh\nsleep 600\n")
    hang.chmod(0o755)
    proc = run("scan", ".", flag, value, "--out", "out", cwd=tmp_path, env={"SECSCAN_BANDIT_BIN": str(hang)})
    assert proc.returncode == 2
    line = one_line(proc.stderr)
    assert message in line and value in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("url", ["ftp://example.com/", "not a url", "http://"])
def test_malformed_zap_target_is_a_usage_error(tmp_path: Path, url: str) -> None:
    proc = run("scan", ".", "--only", "zap", "--zap-target", url, "--out", "out", cwd=tmp_path)
    assert proc.returncode == 2
    assert "--zap-target must be an http:// or https:// URL" in one_line(proc.stderr)
    assert not (tmp_path / "out").exists()
