"""ZAP benchmark: parser throughput and what the runner adds around ZAP itself.

1. parse_json / parse_xml on the real recorded reports (tests/data/zap): ms per report.
2. With a Docker engine (root + dockerd + busybox-static; the same stand-in ZAP image the tests
   build): wall time of ZapScanner.run over a bare `docker run` of the same image and argv
   (ratio: the runner's overhead: target check, watchdog, polling, report parsing), the time a
   cancellation takes until the container is gone, and how fast an unreachable target fails.
   A cancellation while the engine is still creating the container (a create held in flight
   for HOLD_S by the tests' pass-through proxy, like a large image on a slow storage driver):
   how long ZapScanner.run takes to return, as a ratio of the held time (it used to wait for
   the whole create), and how long until the watchdog has removed a container created late.
3. Local mode: ZapScanner.run over running the same script directly.
4. API reports: parsing per operation (with the definition's path templates) vs per URL.
All figures come from one run on one machine; medians of several repetitions.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from secscan.config import ScanConfig
from secscan.scanners.base import RunContext
from secscan.scanners.zap import ZapScanner
from secscan.scanners.zap_report import parse_json, parse_xml
from secscan.sourcefiles import SourceTree
from secscan.zap.job import ZapJob

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "zap"
REPEAT = 5


def _median(fn: object, n: int = REPEAT) -> float:
    assert callable(fn)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


HOLD_S = 3.0


def bench_parsers() -> None:
    js = (DATA / "zap-2.16.1_baseline_report_json.json").read_text()
    xml = (DATA / "zap_2.16.1_with_req_resp.xml").read_text()
    n = 200
    t_json = _median(lambda: [parse_json(js) for _ in range(n)], 3) / n
    t_xml = _median(lambda: [parse_xml(xml) for _ in range(n)], 3) / n
    print(f"parse_json 2.16.1 baseline report ({len(js) // 1024} KiB, 11 findings): {t_json * 1000:.2f} ms")
    print(f"parse_xml 2.16.1 report with requests ({len(xml) // 1024} KiB, 10 findings): {t_xml * 1000:.2f} ms")
    from secscan.scanners.zap_report import parse
    from secscan.zap.api_definition import operation_paths

    api = (DATA / "zap-api-scan_payment-api_constructed.json").read_text()
    templates = operation_paths(Path(__file__).resolve().parent.parent / "examples" / "payment-app" / "openapi.yaml")
    t_url = _median(lambda: [parse(api) for _ in range(n)], 3) / n
    t_op = _median(lambda: [parse(api, per_operation=True, templates=templates) for _ in range(n)], 3) / n
    print(f"API report: per URL {t_url * 1000:.2f} ms ({len(parse(api))} findings), per operation "
          f"{t_op * 1000:.2f} ms ({len(parse(api, per_operation=True, templates=templates))} findings), "
          f"ratio {t_op / t_url:.2f}")  # fmt: skip


def _ctx(tmp: Path, cancel: threading.Event | None = None) -> RunContext:
    return RunContext(
        workdir=Path(tempfile.mkdtemp(dir=tmp)), tree=SourceTree(None), cancel=cancel or threading.Event()
    )


def bench_docker(tmp: Path) -> None:
    from tests.zap.conftest import build_standin_image, busybox_path, free_port, serve_target, start_engine

    dockerd, busybox = shutil.which("dockerd"), busybox_path()
    if dockerd is None or busybox is None or os.geteuid() != 0:
        print("docker figures skipped: needs root, dockerd and busybox-static")
        return
    started = start_engine(dockerd)
    try:
        engine = started.engine
        image = build_standin_image(engine, busybox)
        env = engine.env()
        client = engine.client()
        with serve_target() as url:
            cfg = ScanConfig(zap_target=f"{url}/warn", zap_image=image, timeouts={"zap": 120.0})
            scanner = ZapScanner(env=env)
            scanner.run(cfg, _ctx(tmp))  # warm-up
            t_scan = _median(lambda: scanner.run(cfg, _ctx(tmp)))
            job = ZapJob(target=f"{url}/warn")

            def bare() -> None:
                wrk = Path(tempfile.mkdtemp(dir=tmp))
                wrk.chmod(0o777)
                (wrk / job.config_name).write_text("")
                c = client.containers.run(
                    image, list(job.argv()), network_mode="host", detach=True,
                    volumes={str(wrk): {"bind": "/zap/wrk", "mode": "rw"}},
                )  # fmt: skip
                c.wait()
                c.remove(force=True)

            t_bare = _median(bare)
            print(f"docker mode: ZapScanner.run {t_scan:.2f} s, bare docker run {t_bare:.2f} s, "
                  f"ratio {t_scan / t_bare:.2f}")  # fmt: skip

            latencies = []
            for _ in range(3):
                cancel = threading.Event()
                sleep_cfg = ScanConfig(zap_target=f"{url}/sleep", zap_image=image, timeouts={"zap": 120.0})
                th = threading.Thread(target=scanner.run, args=(sleep_cfg, _ctx(tmp, cancel)))
                th.start()
                # Cancel while ZAP runs (not while the engine is still starting it).
                while not any(c.status == "running" for c in engine.zap_containers()):
                    time.sleep(0.05)
                t0 = time.perf_counter()
                cancel.set()
                th.join()
                while engine.zap_containers():
                    time.sleep(0.01)
                latencies.append(time.perf_counter() - t0)
            print(f"cancel -> container removed: median {statistics.median(latencies):.2f} s")
            _bench_slow_create(engine, image, url, tmp)
            dead = ScanConfig(zap_target=f"http://127.0.0.1:{free_port()}/", zap_image=image)
            t_dead = _median(lambda: scanner.run(dead, _ctx(tmp)))
            print(f"unreachable target reported in {t_dead * 1000:.1f} ms (no container started)")
    finally:
        started.stop()


def _bench_slow_create(engine: object, image: str, url: str, tmp: Path) -> None:
    from tests.zap.conftest import EngineProxy

    host = engine.host  # type: ignore[attr-defined]
    proxy_dir = Path(tempfile.mkdtemp(prefix="szp-"))
    proxy = EngineProxy(host, proxy_dir)
    try:
        returned, removed = [], []
        for _ in range(3):
            proxy.hold("/containers/create")
            cancel = threading.Event()
            cfg = ScanConfig(zap_target=f"{url}/warn", zap_image=image, timeouts={"zap": 120.0})
            scanner = ZapScanner(env={**engine.env(), "DOCKER_HOST": proxy.host})  # type: ignore[attr-defined]
            ctx = _ctx(tmp, cancel)
            th = threading.Thread(target=scanner.run, args=(cfg, ctx))
            th.start()
            proxy.arrived.wait(60)
            t_arrived = time.perf_counter()
            cancel.set()
            th.join()
            returned.append(time.perf_counter() - t_arrived)
            # The engine finishes the create later; keep the work folder so that it succeeds
            # (as on a real engine, which has checked the mount before the slow part).
            (ctx.workdir / "zap-wrk").mkdir(exist_ok=True)
            time.sleep(max(0.0, HOLD_S - (time.perf_counter() - t_arrived)))
            proxy.release()
            t_released = time.perf_counter()
            seen = False
            while time.perf_counter() - t_released < 60:
                present = bool(engine.zap_containers())  # type: ignore[attr-defined]
                seen = seen or present
                if seen and not present:
                    break
                time.sleep(0.02)
            removed.append(time.perf_counter() - t_released if seen else float("nan"))
        r = statistics.median(returned)
        print(f"cancel during a create held {HOLD_S:g} s: run returned after {r:.2f} s (ratio {r / HOLD_S:.2f}); "
              f"late container removed {statistics.median(removed):.2f} s after the create completed")  # fmt: skip
    finally:
        proxy.close()
        shutil.rmtree(proxy_dir, ignore_errors=True)


def bench_local(tmp: Path) -> None:
    from tests.zap.conftest import SAMPLE_JSON, SAMPLE_XML, STANDIN_SCRIPT, busybox_path, serve_target

    if busybox_path() is None:
        print("local figures skipped: needs busybox-static")
        return
    bin_dir, samples, wrk = tmp / "bin", tmp / "samples", tmp / "wrk"
    for d in (bin_dir, samples, wrk):
        d.mkdir(parents=True)
    shutil.copy(STANDIN_SCRIPT, bin_dir / "zap-baseline.py")  # baseline mode only here
    shutil.copy(SAMPLE_JSON, samples / "report.json")
    shutil.copy(SAMPLE_XML, samples / "report.xml")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "SECSCAN_ZAP_WRK": str(wrk),
           "SECSCAN_ZAP_STANDIN_SAMPLES": str(samples)}  # fmt: skip
    with serve_target() as url:
        cfg = ScanConfig(zap_target=f"{url}/warn")
        scanner = ZapScanner(env=env)
        t_scan = _median(lambda: scanner.run(cfg, _ctx(tmp)))
        job = ZapJob(target=f"{url}/warn")
        (wrk / job.config_name).write_text("")
        argv = [str(bin_dir / "zap-baseline.py"), *job.argv()[1:]]
        t_bare = _median(lambda: subprocess.run(argv, env=env, cwd=wrk, capture_output=True, check=False))
    print(f"local mode: ZapScanner.run {t_scan * 1000:.0f} ms, script alone {t_bare * 1000:.0f} ms, "
          f"overhead {max(t_scan - t_bare, 0) * 1000:.0f} ms")  # fmt: skip


def main() -> None:
    bench_parsers()
    with tempfile.TemporaryDirectory(prefix="bench-zap-") as tmp:
        bench_local(Path(tmp) / "local")
        bench_docker(Path(tmp))


if __name__ == "__main__":
    main()
