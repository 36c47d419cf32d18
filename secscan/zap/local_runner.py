"""Run a ZAP scan script directly: for CI jobs whose image is ZAP's own (the scripts are on PATH).

Inside ZAP's image zap-baseline.py detects that it runs in a container and uses ``/zap/wrk`` as
its work directory; SECSCAN_ZAP_WRK names another one (for a custom image). Same job, same exit
codes, same errors as the Docker runner.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from secscan.errors import ScannerError
from secscan.scanners.base import ToolMissing, scanner_env, wait_within_limits
from secscan.zap.job import WRK, ZapJob
from secscan.zap.reaper import Reaper
from secscan.zap.runner import Progress, ZapRun, ZapRunner


class LocalRunner(ZapRunner):
    mode = "local"

    def __init__(self, *, executable: str, env: Mapping[str, str] | None = None) -> None:
        self.executable = executable
        self.env = dict(os.environ if env is None else env)

    def script_env(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        """What the script gets: the scanners' allow list (no CI token or other credential), the
        ZAP settings of ours (SECSCAN_ZAP_*), Java's options, and ``extra``: the ZAP_AUTH_HEADER*
        variables, the one credential ZAP is meant to have (it sends it to the target)."""
        env = scanner_env(self.env)
        for name, value in self.env.items():
            if name.startswith(("SECSCAN_ZAP_", "JAVA_")) or name == "_JAVA_OPTIONS":
                env[name] = value
        env.update(extra or {})
        return env

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
        code, log = _run(argv, timeout=timeout, cancel=cancel, cwd=wrk, env=self.script_env(env), reaper=reaper)
        return ZapRun(exit_code=code, log=log, duration_s=time.monotonic() - started, mode=self.mode)


def _run(
    argv: tuple[str, ...],
    *,
    timeout: float,
    cancel: threading.Event,
    cwd: Path,
    env: Mapping[str, str],
    reaper: Reaper | None,
) -> tuple[int, str]:
    """Like scanners.base.run_tool (own session, output in files, time limit, cancellation),
    plus telling the watchdog the script's process group: ZAP (a JVM started by the script)
    must not outlive a secscan killed outright."""
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.Popen(
                list(argv), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=cwd, env=dict(env), start_new_session=True,
            )  # fmt: skip
        except FileNotFoundError as e:
            raise ToolMissing(f"{argv[0]} is not installed (not found on PATH)") from e
        except PermissionError as e:
            raise ToolMissing(f"{argv[0]} is not executable: {e.strerror}") from e
        if reaper is not None:
            reaper.send(f"pgid {proc.pid}")  # start_new_session: the group id is its pid
        try:
            wait_within_limits(
                proc, name=Path(argv[0]).name, deadline=time.monotonic() + timeout, timeout=timeout, cancel=cancel
            )
        finally:
            if reaper is not None:
                reaper.send("pgid-gone")
        out.seek(0)
        return proc.returncode, out.read().decode("utf-8", errors="replace")
