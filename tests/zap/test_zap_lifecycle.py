"""Nothing left behind: `secscan scan --only zap` as a real process, stopped by SIGTERM, SIGINT,
a double signal or SIGKILL while the container is being created, started, run, and while the
report is being written; each time no container and no scratch folder may be left within a few
seconds, and the exit code is the documented one (130 SIGINT, 143 SIGTERM).

Creates and starts are held in flight by a pass-through proxy in front of the real engine (see
EngineProxy in conftest.py): the way a large image on a slow storage driver keeps a create
busy for seconds.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.zap.conftest import Engine, EngineProxy

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("zap-docker")]

GONE_WITHIN_S = 15.0
"""'A few seconds': how long the watchdog may take (polling deadline, not a timed assertion)."""
TOKEN = "Bearer tok_live_Lc4sY8nB2qW6eR0t"


@dataclass
class Run:
    proc: subprocess.Popen[bytes]
    tmp: Path
    """secscan's TMPDIR: its scratch folder (secscan-*) is made here."""
    out: Path

    def scratch(self) -> list[Path]:
        return sorted(self.tmp.glob("secscan-*"))

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")


def _start(tmp_path: Path, host: str, target: str, image: str, *extra: str, env: dict[str, str]) -> Run:
    secscan = require_tool("secscan")
    project = tmp_path / "app"
    project.mkdir(exist_ok=True)
    (project / "app.py").write_text("print('hello')\n")
    tmp = tmp_path / "tmp"
    tmp.mkdir(exist_ok=True)
    out = tmp_path / "out"
    argv = [secscan, "scan", str(project), "--only", "zap", "--zap-target", target, "--zap-image", image,
            "--out", str(out), "--no-progress", *extra]  # fmt: skip
    proc = subprocess.Popen(
        argv,
        env={**env, "DOCKER_HOST": host, "TMPDIR": str(tmp)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return Run(proc=proc, tmp=tmp, out=out)


@pytest.fixture
def runs() -> Iterator[list[Run]]:
    started: list[Run] = []
    yield started
    for r in started:
        if r.proc.poll() is None:
            r.proc.kill()
            r.proc.wait()
        if r.proc.stderr is not None:
            r.proc.stderr.close()


def _until(what: str, ok: object, seconds: float = GONE_WITHIN_S) -> None:
    deadline = time.monotonic() + seconds
    while not ok():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _running(engine: Engine) -> bool:
    return any(c.status == "running" for c in engine.zap_containers())


def _nothing_left(engine: Engine, run: Run) -> None:
    _until("a ZAP container was left behind", lambda: engine.zap_containers() == [])
    _until(f"the scratch folder was left behind: {run.scratch()}", lambda: run.scratch() == [])


def _expected_code(sig: signal.Signals) -> int:
    return -9 if sig == signal.SIGKILL else 128 + sig


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
def test_signal_while_zap_runs(
    *, docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path, runs: list[Run], sig: signal.Signals
) -> None:
    run = _start(tmp_path, docker_engine.host, f"{target_url}/sleep", zap_image, env=docker_engine.env())
    runs.append(run)
    _until("the ZAP container never ran", lambda: _running(docker_engine), 60)
    assert len(run.scratch()) == 1
    run.proc.send_signal(sig)
    assert run.proc.wait(timeout=60) == _expected_code(sig)
    if sig != signal.SIGKILL:
        # An orderly stop removes the container itself, before exiting.
        assert docker_engine.zap_containers() == []
        err = run.stderr()
        assert f"secscan: error: stopped by {sig.name}" in err and "Traceback" not in err
    _nothing_left(docker_engine, run)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_second_signal_never_cuts_the_cleanup_short(
    *, docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path, runs: list[Run], sig: signal.Signals
) -> None:
    run = _start(tmp_path, docker_engine.host, f"{target_url}/sleep", zap_image, env=docker_engine.env())
    runs.append(run)
    _until("the ZAP container never ran", lambda: _running(docker_engine), 60)
    run.proc.send_signal(sig)
    time.sleep(0.05)  # well inside the cleanup (removing a container takes longer)
    run.proc.send_signal(sig)
    run.proc.send_signal(signal.SIGTERM if sig == signal.SIGINT else signal.SIGINT)
    code = run.proc.wait(timeout=60)
    assert code == 128 + sig, run.stderr()  # the first signal names the exit
    # Removed by secscan itself before it exited, not later by the watchdog.
    assert docker_engine.zap_containers() == []
    _nothing_left(docker_engine, run)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL])
@pytest.mark.parametrize("request_held", ["/containers/create", "/start"])
def test_signal_while_the_engine_creates_or_starts_the_container(
    *,
    docker_engine: Engine,
    engine_proxy: EngineProxy,
    zap_image: str,
    target_url: str,
    tmp_path: Path,
    runs: list[Run],
    seen_requests: list[tuple[str, dict[str, str]]],
    sig: signal.Signals,
    request_held: str,
) -> None:
    engine_proxy.hold(request_held)
    before = len(seen_requests)
    run = _start(tmp_path, engine_proxy.host, f"{target_url}/warn", zap_image, env=docker_engine.env())
    runs.append(run)
    _until("the request never reached the engine", engine_proxy.arrived.is_set, 60)
    run.proc.send_signal(sig)
    # secscan does not wait for the engine: it exits while the request is still held.
    assert run.proc.wait(timeout=30) == _expected_code(sig)
    assert not engine_proxy.released.is_set()
    engine_proxy.release()  # the engine now runs the request, after secscan is gone
    # Whatever the engine makes of it (a container the watchdog removes, or a create/start
    # refused because the work folder is gone), nothing is left.
    time.sleep(1.0)
    _nothing_left(docker_engine, run)
    if request_held == "/containers/create" or sig != signal.SIGKILL:
        # Cancelled before ZAP started: it never ran (the stand-in would have requested the
        # target). Only a SIGKILL while the start request itself is in flight cannot stop the
        # engine from starting ZAP; the watchdog then removes it.
        assert [p for p, _ in seen_requests[before:]] == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_signal_while_the_report_is_written(
    *, docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path, runs: list[Run], sig: signal.Signals
) -> None:
    run = _start(tmp_path, docker_engine.host, f"{target_url}/slowreport", zap_image, env=docker_engine.env())
    runs.append(run)

    def partial_report() -> bool:
        return any(p.is_file() for p in run.tmp.glob("secscan-*/**/zap-wrk/secscan-zap-report.json"))

    _until("the partial report never appeared", partial_report, 60)
    run.proc.send_signal(sig)
    assert run.proc.wait(timeout=60) == _expected_code(sig)
    _nothing_left(docker_engine, run)  # the partial report went with the scratch folder


def test_authenticated_scan_leaves_the_value_in_no_output(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path, runs: list[Run]
) -> None:
    definition = tmp_path / "api.yaml"
    root = Path(__file__).resolve().parents[2]
    text = (root / "examples" / "payment-app" / "openapi.yaml").read_text()
    definition.write_text(text.replace("servers:\n", f"servers:\n  - url: {target_url}/warn\n", 1))
    env = docker_engine.env(PAYMENT_API_TOKEN=TOKEN)
    run = _start(
        tmp_path,
        docker_engine.host,
        target_url,
        zap_image,
        "--zap-api-definition", str(definition),
        "--zap-auth-header", "Authorization",
        "--zap-auth-header-env", "PAYMENT_API_TOKEN",
        "-f", "all",
        env=env,
    )  # fmt: skip
    runs.append(run)
    assert run.proc.wait(timeout=120) in (0, 1), run.stderr()
    doc = json.loads((run.out / "secscan.json").read_text())
    (status,) = doc["scanners"]
    assert status["state"] == "ok" and status["command"][0] == "zap-api-scan.py"
    assert any(f["rule_id"] == "10105" for f in doc["findings"])
    written = [p for p in run.out.rglob("*") if p.is_file()]
    assert len(written) > 5  # secscan.json, every report format, the manifest, the audit trail
    for path in written:
        assert "tok_live" not in path.read_text(errors="replace"), path
    assert "tok_live" not in run.stderr()
    _nothing_left(docker_engine, run)


def test_watchdog_removes_a_container_created_after_secscan_died(docker_engine: Engine, zap_image: str) -> None:
    """The engine finishes a create that was in flight when secscan died, after the watchdog
    first looked: the watchdog keeps looking for it (and only when a create was in flight)."""
    from secscan.zap.reaper import LABEL, Reaper

    client = docker_engine.client()
    late = []
    for in_flight in (True, False):
        run_id = f"late-{in_flight}-{time.monotonic_ns()}"
        reaper = Reaper.start(env=docker_engine.env(), create_grace=20)
        reaper.send(f"label {LABEL}={run_id}")
        if in_flight:
            reaper.send("creating")
        reaper._close()  # EOF without "done": secscan died
        time.sleep(1.5)  # the watchdog has looked once and found nothing
        labels = {LABEL: run_id, "secscan.scanner": "zap"}
        late.append(client.containers.create(zap_image, command=["sleep", "60"], labels=labels))
    in_flight_container, unrelated = late
    try:
        ids = lambda: {c.id for c in client.containers.list(all=True, ignore_removed=True)}  # noqa: E731
        _until("the late container was not removed", lambda: in_flight_container.id not in ids())
        # Without a create in flight the watchdog looked once and left: it does not linger.
        time.sleep(1.0)
        assert unrelated.id in ids()
    finally:
        for c in late:
            with contextlib.suppress(Exception):
                c.remove(force=True)


def test_sigkill_in_local_mode_leaves_no_zap_process_and_none_of_our_files(tmp_path: Path, runs: list[Run]) -> None:
    """Local mode (CI job in ZAP's image): the script runs in its own session, so a SIGKILL of
    secscan would leave it (and ZAP's JVM) running, and our files (with the context's logins)
    in the shared /zap/wrk. The watchdog kills the process group and removes exactly those."""
    import os
    import shutil

    from tests.conftest import require
    from tests.zap.conftest import SAMPLE_JSON, SCRIPT_NAMES, STANDIN_SCRIPT, busybox_path, serve_target

    require(busybox_path() is not None, "busybox-static")
    bin_dir, samples, wrk = tmp_path / "zapbin", tmp_path / "samples", tmp_path / "wrk"
    for d in (bin_dir, samples, wrk):
        d.mkdir()
    for name in SCRIPT_NAMES:
        shutil.copy(STANDIN_SCRIPT, bin_dir / name)
    shutil.copy(SAMPLE_JSON, samples / "report.json")
    (wrk / "users-own.context").write_text("kept")
    context = tmp_path / "login.context"
    context.write_text("<configuration><context><name>shop</name></context></configuration>")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECSCAN_ZAP")}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        SECSCAN_ZAP_WRK=str(wrk),
        SECSCAN_ZAP_STANDIN_SAMPLES=str(samples),
    )
    with serve_target() as url:
        run = _start(tmp_path, f"unix://{tmp_path}/no-engine.sock", f"{url}/sleep", "unused",
                     "--zap-context", str(context), env=env)  # fmt: skip
        runs.append(run)
        _until("the local script never started", lambda: (wrk / "standin-uid.txt").exists(), 60)
        script_pid = _pid_of(str(wrk))
        assert script_pid is not None
        try:
            run.proc.kill()
            assert run.proc.wait(timeout=30) == -9
            _until("the local ZAP script outlived secscan", lambda: not _alive(script_pid))
        finally:
            if _alive(script_pid):  # a failing run must not leave the stand-in behind either
                with contextlib.suppress(OSError):
                    os.killpg(script_pid, signal.SIGKILL)
        _until(f"the scratch folder was left behind: {run.scratch()}", lambda: run.scratch() == [])
        ours = ("secscan-zap-baseline.conf", "secscan-zap.context")
        _until("secscan's files were left in /zap/wrk", lambda: not any((wrk / n).exists() for n in ours))
        assert (wrk / "users-own.context").read_text() == "kept"


def _pid_of(needle: str) -> int | None:
    """The stand-in script's pid (its command line names the work folder in no argument, but its
    environment does: SECSCAN_ZAP_WRK)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        if b"zap-baseline.py" in cmd and f"SECSCAN_ZAP_WRK={needle}".encode() in environ:
            return int(proc.name)
    return None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
