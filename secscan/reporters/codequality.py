"""GitLab Code Quality report (the CodeClimate subset GitLab reads; it has no JSON schema).

Each entry needs ``description``, ``check_name``, ``fingerprint``, ``severity`` (info, minor,
major, critical, blocker) and ``location.path`` + ``location.lines.begin``. GitLab compares the
base and head reports by ``fingerprint`` to show what an MR introduced or resolved, so it is
secscan's stable fingerprint. DAST findings have no file and are left out; ``fixed`` ones are
not in the run. Suppressed findings stay (dropping them would show as "resolved"), as ``info``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from secscan.models import Finding, Kind, RunResult, Severity, Status
from secscan.reporters import _common as c

SEVERITY = {
    Severity.CRITICAL: "blocker",
    Severity.HIGH: "critical",
    Severity.MEDIUM: "major",
    Severity.LOW: "minor",
    Severity.INFO: "info",
}


def _fingerprint(f: Finding) -> str:
    # GitLab's own analyzers emit a 32-hex MD5-shaped value; derive one from the stable id so
    # the value never changes while the finding's identity does not.
    return hashlib.md5(c.stable_id(f).encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def _entry(f: Finding) -> dict[str, Any]:
    loc = f.location
    begin = loc.start_line or 1
    prefix = "[suppressed] " if f.status is Status.SUPPRESSED else ""
    text = " ".join((f.message or f.title).split())
    description = c.truncate(
        f"{prefix}{f.scanner} {f.rule_id}: {f.title}" + (f" - {text}" if text != f.title else ""), 1000
    )
    if loc.package:
        description = c.truncate(f"{description} ({loc.package} {loc.version or ''})".strip(), 1000)
    return {
        "type": "issue",
        "engine_name": f.scanner,
        "check_name": f.rule_id,
        "description": description,
        "categories": ["Security"],
        "severity": "info" if f.status is Status.SUPPRESSED else SEVERITY[f.severity],
        "fingerprint": _fingerprint(f),
        "location": {"path": loc.path, "lines": {"begin": begin, "end": max(loc.end_line or begin, begin)}},
    }


def to_list(result: RunResult) -> list[dict[str, Any]]:
    blocking = c.blocking_fingerprints(result)
    return [
        _entry(f)
        for f in c.ordered(result.findings, blocking)
        if f.status is not Status.FIXED and f.kind is not Kind.DAST and f.location.path
    ]


def render(result: RunResult) -> str:
    return c.dumps_json(to_list(result), one_line=lambda p: len(p) == 1)
