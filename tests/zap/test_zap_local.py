"""Local mode: zap-baseline.py on PATH (a CI job in ZAP's own image) runs without Docker."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

from secscan.config import ScanConfig
from secscan.errors import SecscanError
from secscan.models import ScannerState
from secscan.scanners.base import RunContext
from secscan.scanners.zap import ZapScanner, select_runner
from secscan.sourcefiles import SourceTree
from secscan.zap.docker_runner import DockerRunner
from secscan.zap.local_runner import LocalRunner
from tests.conftest import require
from tests.zap.conftest import (
    SAMPLE_API_JSON,
    SAMPLE_JSON,
    SAMPLE_XML,
    SCRIPT_NAMES,
    STANDIN_SCRIPT,
    Engine,
    busybox_path,
)

pytestmark = pytest.mark.integration


def _local_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """PATH with the stand-in as zap-baseline.py; its work dir and samples in tmp_path."""
    require(busybox_path() is not None, "busybox-static")
    bin_dir = tmp_path / "zapbin"
    bin_dir.mkdir()
    for name in SCRIPT_NAMES:
        shutil.copy(STANDIN_SCRIPT, bin_dir / name)
    samples = tmp_path / "samples"
    samples.mkdir()
    shutil.copy(SAMPLE_JSON, samples / "report.json")
    shutil.copy(SAMPLE_API_JSON, samples / "api-report.json")
    shutil.copy(SAMPLE_XML, samples / "report.xml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECSCAN_ZAP")}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        SECSCAN_ZAP_WRK=str(tmp_path / "wrk"),
        SECSCAN_ZAP_STANDIN_SAMPLES=str(samples),
        DOCKER_HOST=f"unix://{tmp_path}/no-engine.sock",  # proves Docker is not used
    )
    env.update(extra)
    return env


def _cfg(target: str, *, timeout: float = 60.0) -> ScanConfig:
    return ScanConfig(zap_target=target, timeouts={"zap": timeout})


def _ctx(tmp_path: Path) -> RunContext:
    return RunContext(workdir=tmp_path / "scratch", tree=SourceTree(None))


def test_runner_selection(tmp_path: Path) -> None:
    env = _local_env(tmp_path)
    assert isinstance(select_runner(ScanConfig(), env), LocalRunner)
    assert isinstance(select_runner(ScanConfig(), {**env, "SECSCAN_ZAP_RUNNER": "docker"}), DockerRunner)
    # SECSCAN_ZAP_MODE is the scan mode setting now; the runner has its own variable.
    with pytest.raises(SecscanError, match="SECSCAN_ZAP_RUNNER='podman'"):
        select_runner(ScanConfig(), {**env, "SECSCAN_ZAP_RUNNER": "podman"})
    # Each mode looks for its own script.
    only_api = tmp_path / "only-api"
    only_api.mkdir()
    shutil.copy(STANDIN_SCRIPT, only_api / "zap-api-scan.py")
    api_cfg = ScanConfig(zap_mode="api", zap_api_definition="https://app.example/openapi.json")
    assert isinstance(select_runner(api_cfg, {"PATH": str(only_api)}), LocalRunner)
    assert isinstance(select_runner(ScanConfig(zap_mode="full"), {"PATH": str(only_api)}), DockerRunner)
    assert isinstance(select_runner(ScanConfig(), {"PATH": str(tmp_path / "empty")}), DockerRunner)


def test_local_mode_scans_and_cleans_up_only_its_files(target_url: str, tmp_path: Path) -> None:
    env = _local_env(tmp_path)
    wrk = tmp_path / "wrk"
    wrk.mkdir()
    (wrk / "users-context.context").write_text("kept")
    out = ZapScanner(env=env).run(_cfg(f"{target_url}/fail"), _ctx(tmp_path))
    assert out.status.state is ScannerState.OK, out.status.error
    assert len(out.findings) == 11 and out.status.version == "2.16.1"
    assert (wrk / "users-context.context").read_text() == "kept"
    for name in ("secscan-zap-baseline.conf", "secscan-zap-report.json", "secscan-zap-report.xml"):
        assert not (wrk / name).exists()


def test_local_mode_same_errors(target_url: str, tmp_path: Path) -> None:
    env = _local_env(tmp_path)
    out = ZapScanner(env=env).run(_cfg(f"{target_url}/exit3"), _ctx(tmp_path))
    assert out.status.state is ScannerState.FAILED
    assert "exit 3" in (out.status.error or "") and "ERROR stand-in scenario exit3" in (out.status.error or "")
    out = ZapScanner(env=env).run(_cfg(f"{target_url}/sleep", timeout=2), _ctx(tmp_path))
    assert out.status.state is ScannerState.TIMEOUT
    assert out.status.error == "ZAP exceeded its time limit of 2s; zap-baseline.py was killed"


@pytest.mark.xdist_group("zap-docker")
def test_local_and_docker_give_the_same_findings(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path
) -> None:
    local = ZapScanner(env=_local_env(tmp_path)).run(_cfg(f"{target_url}/warn"), _ctx(tmp_path))
    cfg = ScanConfig(zap_target=f"{target_url}/warn", zap_image=zap_image, timeouts={"zap": 60.0})
    docker = ZapScanner(env=docker_engine.env()).run(cfg, RunContext(workdir=tmp_path / "d", tree=SourceTree(None)))
    assert local.status.state is docker.status.state is ScannerState.OK
    assert local.findings == docker.findings
    assert local.status.command == docker.status.command


def test_cancel_in_local_mode(target_url: str, tmp_path: Path) -> None:
    cancel = threading.Event()
    timer = threading.Timer(1.0, cancel.set)
    timer.start()
    ctx = RunContext(workdir=tmp_path / "scratch", tree=SourceTree(None), cancel=cancel)
    out = ZapScanner(env=_local_env(tmp_path)).run(_cfg(f"{target_url}/sleep"), ctx)
    timer.join()
    assert out.status.state is ScannerState.FAILED
    assert "cancelled" in (out.status.error or "")


def test_local_api_scan_with_an_auth_header(target_url: str, tmp_path: Path) -> None:
    """Local mode (CI job in ZAP's image): zap-api-scan.py from PATH, the definition copied into
    the work dir, the header through ZAP_AUTH_HEADER*; our files removed afterwards."""
    example = Path(__file__).resolve().parents[2] / "examples" / "payment-app" / "openapi.yaml"
    definition = tmp_path / "api.yaml"
    definition.write_text(example.read_text().replace("servers:\n", f"servers:\n  - url: {target_url}/warn\n", 1))
    env = _local_env(tmp_path, PAY_TOKEN="Bearer tok_live_local0000000001", CI_JOB_TOKEN="glcbt-job-token")
    cfg = ScanConfig(
        zap_target=target_url,
        zap_api_definition=str(definition),
        zap_auth_header="Authorization",
        zap_auth_header_env="PAY_TOKEN",
        timeouts={"zap": 60.0},
    )
    out = ZapScanner(env=env).run(cfg, _ctx(tmp_path))
    assert out.status.state is ScannerState.OK, out.status.error
    wrk = tmp_path / "wrk"
    assert (wrk / "standin-script.txt").read_text().strip() == "zap-api-scan.py"
    assert (wrk / "standin-argv.txt").read_text().splitlines()[:4] == [
        "-t",
        "secscan-api-definition.yaml",
        "-f",
        "openapi",
    ]
    assert "ZAP_AUTH_HEADER_VALUE=(set)" in (wrk / "standin-env.txt").read_text()
    # ZAP gets its header and nothing else of the job's credentials (not even the variable the
    # value came from).
    names = (wrk / "standin-env-names.txt").read_text().split()
    assert "ZAP_AUTH_HEADER_VALUE" in names and "CI_JOB_TOKEN" not in names and "PAY_TOKEN" not in names
    assert len(out.findings) == 9
    assert "tok_live" not in repr(out)
    for name in ("secscan-api-definition.yaml", "secscan-zap-report.json", "secscan-zap-baseline.conf"):
        assert not (wrk / name).exists()
