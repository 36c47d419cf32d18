"""One builder for results (``RunResult``) in tests: the fields a test does not care about get
fixed, valid values (a fixed clock: results built twice are equal), and a result file is
written the way secscan writes one (:func:`secscan.resultio.dumps`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from secscan import resultio
from secscan.models import Finding, RunResult, ScannerState, ScannerStatus

STARTED = "2026-01-01T00:00:00Z"
FINISHED = "2026-01-01T00:00:01Z"


def scanner(name: str = "bandit", state: ScannerState = ScannerState.OK, **fields: Any) -> ScannerStatus:
    """A scanner's status (``ok`` unless told)."""
    return ScannerStatus(name=name, state=state, **fields)


def result(
    *findings: Finding,
    scanners: Iterable[ScannerStatus] = (),
    target: str = ".",
    tool_version: str = "0.1.0",
    started_at: str = STARTED,
    finished_at: str = FINISHED,
    **fields: Any,
) -> RunResult:
    """A result holding ``findings``; every other ``RunResult`` field by keyword."""
    return RunResult(
        tool_version=tool_version,
        target=target,
        started_at=started_at,
        finished_at=finished_at,
        scanners=tuple(scanners),
        findings=tuple(findings),
        **fields,
    )


def write(path: Path, run: RunResult) -> Path:
    """``path`` holding ``run`` as secscan writes a secscan.json."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(resultio.dumps(run), encoding="utf-8")
    return path
