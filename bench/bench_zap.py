"""ZAP benchmark: parser throughput and what the runner adds around ZAP itself.

1. parse_json / parse_xml on the real recorded reports (tests/data/zap): ms per report.
2. With a Docker engine (root + dockerd + busybox-static; the same stand-in ZAP image the tests
   build): wall time of ZapScanner.run over a bare `docker run` of the same image and argv
   (ratio: the runner's overhead: target check, watchdog, polling, report parsing), the time a
   cancellation takes until the container is gone, and how fast an unreachable target fails.
3. Local mode: ZapScanner.run over running the same script directly.
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


def bench_parsers() -> None:
    js = (DATA / "zap-2.16.1_baseline_report_json.json").read_text()
    xml = (DATA / "zap_2.16.1_with_req_resp.xml").read_text()
    n = 200
    t_json = _median(lambda: [parse_json(js) for _ in range(n)], 3) / n
    t_xml = _median(lambda: [parse_xml(xml) for _ in range(n)], 3) / n
    print(f"parse_json 2.16.1 baseline report ({len(js) // 1024} KiB, 11 findings): {t_json * 1000:.2f} ms")
    print(f"parse_xml 2.16.1 report with requests ({len(xml) // 1024} KiB, 10 findings): {t_xml * 1000:.2f} ms")


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
                while not engine.zap_containers():
                    time.sleep(0.05)
                t0 = time.perf_counter()
                cancel.set()
                th.join()
                while engine.zap_containers():
                    time.sleep(0.01)
                latencies.append(time.perf_counter() - t0)
            print(f"cancel -> container removed: median {statistics.median(latencies):.2f} s")
            dead = ScanConfig(zap_target=f"http://127.0.0.1:{free_port()}/", zap_image=image)
            t_dead = _median(lambda: scanner.run(dead, _ctx(tmp)))
            print(f"unreachable target reported in {t_dead * 1000:.1f} ms (no container started)")
    finally:
        started.stop()


def bench_local(tmp: Path) -> None:
    from tests.zap.conftest import SAMPLE_JSON, SAMPLE_XML, STANDIN_SCRIPT, busybox_path, serve_target

    if busybox_path() is None:
        print("local figures skipped: needs busybox-static")
        return
    bin_dir, samples, wrk = tmp / "bin", tmp / "samples", tmp / "wrk"
    for d in (bin_dir, samples, wrk):
        d.mkdir(parents=True)
    shutil.copy(STANDIN_SCRIPT, bin_dir / "zap-baseline.py")
    shutil.copy(SAMPLE_JSON, samples / "report.json")
    shutil.copy(SAMPLE_XML, samples / "report.xml")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}", "SECSCAN_ZAP_WRK": str(wrk),
           "SECSCAN_STANDIN_SAMPLES": str(samples)}  # fmt: skip
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
