"""Run a ZAP scan script directly: for CI jobs whose image is ZAP's own (the scripts are on PATH).

Inside ZAP's image zap-baseline.py detects that it runs in a container and uses ``/zap/wrk`` as
its work directory; SECSCAN_ZAP_WRK names another one (for a custom image). Same job, same exit
codes, same errors as the Docker runner.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from secscan.errors import ScannerError
from secscan.scanners.base import run_tool
from secscan.zap.job import WRK, ZapJob
from secscan.zap.reaper import Reaper
from secscan.zap.runner import Progress, ZapRun, ZapRunner


class LocalRunner(ZapRunner):
    mode = "local"

    def __init__(self, *, executable: str, env: Mapping[str, str] | None = None) -> None:
        self.executable = executable
        self.env = dict(os.environ if env is None else env)

    def workdir(self, scratch: Path) -> Path:
        wrk = Path(self.env.get("SECSCAN_ZAP_WRK") or WRK)
        try:
            wrk.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise ScannerError(f"cannot create ZAP's work directory {wrk}: {e.strerror or e}") from e
        if not os.access(wrk, os.W_OK):
            raise ScannerError(f"ZAP's work directory {wrk} is not writable")
        return wrk

    def run(
        self,
        job: ZapJob,
        *,
        wrk: Path,
        timeout: float,
        cancel: threading.Event,
        progress: Progress,
        reaper: Reaper | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ZapRun:
        started = time.monotonic()
        progress(f"ZAP {job.mode} running locally ({self.executable})")
        argv = (self.executable, *job.argv()[1:])
        res = run_tool(argv, timeout=timeout, cancel=cancel, cwd=wrk, env={**self.env, **(env or {})})
        log = res.stdout + ("\n" if res.stdout and res.stderr else "") + res.stderr
        return ZapRun(exit_code=res.returncode, log=log, duration_s=time.monotonic() - started, mode=self.mode)
