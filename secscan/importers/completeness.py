"""Did the imported scan complete? What a report says about its own run (pure).

An incomplete scan must not import as a clean one (the gate fails closed on a failed scanner):
bandit lists the files it could not parse in ``errors``; semgrep lists rule and file errors in
``errors`` (``level: error`` stopped a rule or a file; ``warn`` did not); SARIF's own signals are
read in :mod:`secscan.importers.sarif`. Also here: which paths lie outside the root.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from secscan.importers.paths import is_absolute
from secscan.models import Finding


def _errors(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return []  # the parser has already said what is wrong with the file
    errors = data.get("errors") if isinstance(data, dict) else None
    return [e for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def _one_line(value: Any, limit: int = 300) -> str:
    return " ".join(str(value).split())[:limit]


def bandit_failures(text: str) -> list[str]:
    """One reason per file bandit could not scan."""
    return [
        f"bandit could not scan {_one_line(e.get('filename', '?'), 200)}: "
        + _one_line(e.get("reason", "unknown reason"))
        for e in _errors(text)
    ]


def semgrep_failures(text: str) -> tuple[list[str], list[str]]:
    """(failures, warnings): ``error``-level entries stopped a rule or a file; the rest did not."""
    failures: list[str] = []
    warnings: list[str] = []
    for e in _errors(text):
        etype = e.get("type")
        kind = etype[0] if isinstance(etype, list) and etype else str(etype or "error")
        where = e.get("path") or e.get("rule_id")
        message = _one_line(e.get("message", ""))
        line = f"semgrep {kind}{f' ({_one_line(where, 200)})' if where else ''}: {message}"
        (failures if str(e.get("level", "error")).lower() == "error" else warnings).append(line)
    return failures, warnings


def outside_paths(findings: Iterable[Finding]) -> list[str]:
    """Absolute (or ``../``) paths among the findings' locations, once each, in order."""
    out: dict[str, None] = {}
    for f in findings:
        for loc in (f.location, *f.other_locations, *f.related_locations):
            p = loc.path
            if p and (is_absolute(p) or p == ".." or p.startswith("../")):
                out.setdefault(p, None)
    return list(out)
