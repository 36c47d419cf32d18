"""The ``json`` format: secscan.json itself (schema ``secscan/1``), from :mod:`secscan.resultio`."""

from __future__ import annotations

from secscan.models import RunResult
from secscan.resultio import dumps


def render(result: RunResult) -> str:
    return dumps(result)
