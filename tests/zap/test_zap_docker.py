"""ZapScanner through a real Docker engine with a stand-in ZAP image (see conftest.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from secscan.config import ScanConfig
from secscan.models import ScannerState, Severity
from secscan.scanners.base import RunContext
from secscan.scanners.zap import LEVEL_TAG, ZapScanner
from secscan.sourcefiles import SourceTree
from secscan.zap.docker_runner import DockerRunner
from secscan.zap.job import ZapJob
from tests.zap.conftest import Engine, free_port

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("zap-docker")]


def _cfg(target: str, image: str, *, timeout: float = 60.0, **kw: object) -> ScanConfig:
    return ScanConfig(zap_target=target, zap_image=image, timeouts={"zap": timeout}, **kw)  # type: ignore[arg-type]


def _ctx(tmp_path: Path, cancel: threading.Event | None = None) -> RunContext:
    return RunContext(workdir=tmp_path, tree=SourceTree(None), cancel=cancel or threading.Event())


@pytest.mark.parametrize("scenario", ["pass", "fail", "warn"])  # the stand-in exits 0, 1, 2
def test_exit_codes_0_1_2_are_a_successful_scan(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path, scenario: str
) -> None:
    out = ZapScanner(env=docker_engine.env()).run(_cfg(f"{target_url}/{scenario}", zap_image), _ctx(tmp_path))
    assert out.status.state is ScannerState.OK, out.status.error
    assert out.status.version == "2.16.1"
    # The recorded 2.16.1 report: 11 findings (one per alert and path), none of them IGNOREd.
    assert len(out.findings) == 11 == out.status.findings
    assert {f.severity for f in out.findings} == {Severity.MEDIUM, Severity.LOW, Severity.INFO}
    csp = next(f for f in out.findings if f.rule_id == "10055-13")
    assert f"{LEVEL_TAG}WARN" in csp.tags  # 10055 is WARN in rules/zap/baseline.conf
    assert docker_engine.zap_containers() == []
    # The runner itself reports the exit code the container really ended with.
    runner = DockerRunner(image=zap_image, env=docker_engine.env())
    job = ZapJob(target=f"{target_url}/{scenario}")
    wrk = runner.workdir(tmp_path / "again")
    (wrk / job.config_name).write_text("")
    run = runner.run(job, wrk=wrk, timeout=60, cancel=threading.Event(), progress=lambda _m: None)
    assert run.exit_code == {"pass": 0, "fail": 1, "warn": 2}[scenario]
    assert run.mode == "docker" and "FAIL-NEW: 0" in run.log
    assert docker_engine.zap_containers() == []


def test_argv_mount_and_uid(docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path) -> None:
    cfg = _cfg(f"{target_url}/warn", zap_image, zap_minutes=3, zap_options="-a -j -z '-config a=b'")
    out = ZapScanner(env=docker_engine.env()).run(cfg, _ctx(tmp_path))
    assert out.status.state is ScannerState.OK, out.status.error
    wrk = tmp_path / "zap-wrk"
    argv = (wrk / "standin-argv.txt").read_text().splitlines()
    assert argv == [
        "-t", f"{target_url}/warn",
        "-c", "secscan-zap-baseline.conf",
        "-m", "3",
        "-J", "secscan-zap-report.json",
        "-x", "secscan-zap-report.xml",
        "-a", "-j", "-z", "-config a=b",
    ]  # fmt: skip
    # Recorded without the -z value (where ZAP auth headers usually go).
    assert out.status.command == ("zap-baseline.py", *argv[:-1], "***")
    # The script ran as the image's zap user and wrote into the bind-mounted host directory.
    assert (wrk / "standin-uid.txt").read_text().strip() == "1000"
    assert (wrk / "secscan-zap-report.json").stat().st_uid == 1000
    # The rule config was placed in /zap/wrk for -c, and the stand-in reached the target (host network).
    assert (wrk / "secscan-zap-baseline.conf").read_text().startswith("# secscan's zap-baseline rule configuration")
    assert (wrk / "standin-response.txt").read_text().startswith("HTTP/1.0 200")


def test_exit_3_is_a_failure_with_the_log_tail(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path
) -> None:
    out = ZapScanner(env=docker_engine.env()).run(_cfg(f"{target_url}/exit3", zap_image), _ctx(tmp_path))
    assert out.status.state is ScannerState.FAILED
    assert out.status.error is not None
    assert "exit 3" in out.status.error and "ERROR stand-in scenario exit3" in out.status.error
    assert out.findings == ()
    assert docker_engine.zap_containers() == []


def test_success_without_report_is_a_failure(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path
) -> None:
    out = ZapScanner(env=docker_engine.env()).run(_cfg(f"{target_url}/noreport", zap_image), _ctx(tmp_path))
    assert out.status.state is ScannerState.FAILED
    assert "wrote no report" in (out.status.error or "")


def test_xml_report_used_when_json_missing(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path
) -> None:
    out = ZapScanner(env=docker_engine.env()).run(_cfg(f"{target_url}/xmlonly", zap_image), _ctx(tmp_path))
    assert out.status.state is ScannerState.OK, out.status.error
    assert {f.rule_id for f in out.findings} == {"10111", "10029", "10024", "10015"}


def test_image_missing_and_pull(docker_engine: Engine, target_url: str, tmp_path: Path) -> None:
    scanner = ZapScanner(env=docker_engine.env())
    out = scanner.run(_cfg(f"{target_url}/warn", "secscan-test/absent:1"), _ctx(tmp_path))
    assert out.status.state is ScannerState.NOT_INSTALLED
    assert "secscan-test/absent:1 is not present" in (out.status.error or "")
    assert "--zap-pull" in (out.status.error or "")
    # --zap-pull asks the engine to pull; no registry is reachable here, so that fails clearly.
    out = scanner.run(_cfg(f"{target_url}/warn", "secscan-test/absent:1", zap_pull=True), _ctx(tmp_path))
    assert out.status.state is ScannerState.NOT_INSTALLED
    assert (out.status.error or "").startswith("cannot pull ZAP image secscan-test/absent:1")
    assert docker_engine.zap_containers() == []


def test_time_limit_removes_the_container(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path
) -> None:
    started = time.monotonic()
    out = ZapScanner(env=docker_engine.env()).run(_cfg(f"{target_url}/sleep", zap_image, timeout=4), _ctx(tmp_path))
    assert out.status.state is ScannerState.TIMEOUT
    assert "time limit of 4s" in (out.status.error or "")
    assert time.monotonic() - started < 30
    assert docker_engine.zap_containers() == []


def test_cancel_removes_the_container(docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path) -> None:
    cancel = threading.Event()
    seen: list[int] = []

    def cancel_when_running() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            running = docker_engine.zap_containers()
            if running:
                seen.append(len(running))
                break
            time.sleep(0.1)
        cancel.set()

    t = threading.Thread(target=cancel_when_running)
    t.start()
    out = ZapScanner(env=docker_engine.env()).run(_cfg(f"{target_url}/sleep", zap_image), _ctx(tmp_path, cancel))
    t.join()
    assert seen == [1]  # the container did exist while ZAP ran
    assert out.status.state is ScannerState.FAILED
    assert "cancelled" in (out.status.error or "")
    left = docker_engine.zap_containers()
    assert left == [], [(c.name, c.status, c.labels, c.attrs["Created"]) for c in left]


def test_target_unreachable_is_checked_before_docker(tmp_path: Path) -> None:
    # The engine address is bogus too: the target check must come first and say so.
    env = {"DOCKER_HOST": f"unix://{tmp_path}/nothing.sock", "PATH": "/nonexistent"}
    url = f"http://127.0.0.1:{free_port()}/"
    out = ZapScanner(env=env).run(_cfg(url, "any/image:1"), _ctx(tmp_path))
    assert out.status.state is ScannerState.FAILED
    assert out.status.error == f"ZAP target {url} is unreachable: Connection refused"


def test_engine_unreachable(target_url: str, tmp_path: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{tmp_path}/nothing.sock", "PATH": "/nonexistent"}
    out = ZapScanner(env=env).run(_cfg(f"{target_url}/warn", "any/image:1"), _ctx(tmp_path))
    assert out.status.state is ScannerState.FAILED
    assert (out.status.error or "").startswith(f"Docker engine unreachable at unix://{tmp_path}/nothing.sock")
