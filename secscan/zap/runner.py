"""What both ways of running zap-baseline.py return, and the interface they share."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secscan.zap.job import ZapJob

if TYPE_CHECKING:
    from secscan.zap.reaper import Reaper

Progress = Callable[[str], None]


@dataclass(frozen=True, kw_only=True)
class ZapRun:
    exit_code: int
    """zap-baseline.py's exit code: 0 pass, 1 FAIL rules hit, 2 WARN rules hit, 3 failure."""
    log: str
    """ZAP's console output (stdout and stderr; the tail for a container)."""
    duration_s: float
    mode: str
    """``docker`` or ``local``."""


class ZapRunner(ABC):
    mode: str

    @abstractmethod
    def workdir(self, scratch: Path) -> Path:
        """The host directory that zap-baseline.py sees as /zap/wrk (created, writable)."""

    @abstractmethod
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
        """Run the job to completion; ScannerError (ToolTimeout, ToolCancelled, ...) otherwise.

        ``reaper`` is the run's watchdog (told what is being created); ``env`` is extra
        environment for ZAP (the ZAP_AUTH_HEADER* variables). Whatever happens, nothing the
        runner started is left running when this returns/raises.
        """
