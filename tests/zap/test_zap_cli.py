"""`secscan scan --only zap` end to end: real CLI process, real Docker engine, stand-in ZAP."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.zap.conftest import Engine

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("zap-docker")]


def _scan_argv(project: Path, out: Path, target: str, image: str, *extra: str) -> list[str]:
    secscan = require_tool("secscan")
    return [secscan, "scan", str(project), "--only", "zap", "--zap-target", target, "--zap-image", image,
            "--out", str(out), *extra]  # fmt: skip


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "app"
    project.mkdir()
    (project / "app.py").write_text("print('hello')\n")
    return project


def test_scan_only_zap_writes_findings(docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        _scan_argv(_project(tmp_path), out, f"{target_url}/warn", zap_image),
        env=docker_engine.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    doc = json.loads((out / "secscan.json").read_text())
    (status,) = [s for s in doc["scanners"] if s["name"] == "zap"]
    assert status["state"] == "ok" and status["version"] == "2.16.1"
    zap = [f for f in doc["findings"] if f["scanner"] == "zap"]
    assert len(zap) == 11
    assert all(f["kind"] == "dast" and f["fingerprint"] for f in zap)
    assert docker_engine.zap_containers() == []


def test_scan_zap_failure_exits_3(docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path) -> None:
    proc = subprocess.run(
        _scan_argv(_project(tmp_path), tmp_path / "out", f"{target_url}/exit3", zap_image),
        env=docker_engine.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert docker_engine.zap_containers() == []


def test_scan_zap_time_limit(docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        _scan_argv(_project(tmp_path), out, f"{target_url}/sleep", zap_image, "--timeout", "zap=3"),
        env=docker_engine.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    doc = json.loads((out / "secscan.json").read_text())
    (status,) = [s for s in doc["scanners"] if s["name"] == "zap"]
    assert status["state"] == "timeout"
    assert status["error"] == "ZAP exceeded its time limit of 3s; its container was removed"
    assert docker_engine.zap_containers() == []


def _wait_for_container(engine: Engine, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not engine.zap_containers():
        assert proc.poll() is None, "secscan ended before ZAP started"
        assert time.monotonic() < deadline, "the ZAP container never appeared"
        time.sleep(0.1)


def _wait_until_gone(engine: Engine, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while engine.zap_containers():
        assert time.monotonic() < deadline, "a ZAP container was left behind"
        time.sleep(0.1)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_signal_to_secscan_removes_the_container(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path, sig: signal.Signals
) -> None:
    """A cancelled CI job must not leave ZAP running: SIGTERM (orderly) and SIGKILL (watchdog)."""
    proc = subprocess.Popen(
        _scan_argv(_project(tmp_path), tmp_path / "out", f"{target_url}/sleep", zap_image),
        env=docker_engine.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for_container(docker_engine, proc)
        proc.send_signal(sig)
        proc.wait(timeout=60)
        if sig == signal.SIGTERM:
            assert proc.returncode != 0
        _wait_until_gone(docker_engine)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
