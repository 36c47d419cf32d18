"""Baselines: the findings a project has accepted as its starting point.

A baseline file is JSON (``"schema": "secscan-baseline/1"``) with one entry per finding
fingerprint, plus enough to show an entry that is no longer found (kind, rule, title,
severity, path, scanners). A plain ``secscan.json`` is accepted as a baseline too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secscan.errors import InputError
from secscan.fsutil import read_input_text
from secscan.models import Finding, Kind, Location, RunResult, Severity, Source, Status
from secscan.resultio import loads as load_result
from secscan.triage.dedupe import source_of

SCHEMA = "secscan-baseline/1"


@dataclass(frozen=True, kw_only=True)
class Entry:
    fingerprint: str
    kind: Kind
    rule_id: str
    title: str
    severity: Severity
    path: str | None = None
    """sast: the file; dependency: the manifest; dast: the URL."""
    package: str | None = None
    scanners: tuple[str, ...] = ()
    """Which scanners reported it: only a run of one of them can say it is fixed."""


@dataclass(frozen=True, kw_only=True)
class Baseline:
    origin: str
    entries: tuple[Entry, ...]

    def fingerprints(self) -> frozenset[str]:
        return frozenset(e.fingerprint for e in self.entries)


def from_result(result: RunResult, *, origin: str = "") -> Baseline:
    """Every finding still present (not FIXED) becomes an entry, suppressed ones included."""
    entries: dict[str, Entry] = {}
    for f in result.findings:
        if f.status is Status.FIXED or not f.fingerprint:
            continue
        entries[f.fingerprint] = Entry(
            fingerprint=f.fingerprint,
            kind=f.kind,
            rule_id=f.rule_id,
            title=f.title,
            severity=f.severity,
            path=f.location.path or f.location.url,
            package=f.location.package,
            scanners=tuple(sorted({s.scanner for s in source_of(f)})),
        )
    return Baseline(origin=origin, entries=tuple(entries[k] for k in sorted(entries)))


def dumps(baseline: Baseline) -> str:
    doc = {
        "schema": SCHEMA,
        "entries": [
            {
                k: v
                for k, v in {
                    "fingerprint": e.fingerprint,
                    "kind": e.kind.value,
                    "rule_id": e.rule_id,
                    "title": e.title,
                    "severity": e.severity.value,
                    "path": e.path,
                    "package": e.package,
                    "scanners": list(e.scanners),
                }.items()
                if v is not None
            }
            for e in baseline.entries
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _entry(raw: Any, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected an object")

    def text(key: str, required: bool = True) -> str | None:
        v = raw.get(key)
        if v is None and not required:
            return None
        if not isinstance(v, str) or (required and not v):
            raise InputError(f"{where}.{key}: expected a non-empty string")
        return v

    try:
        kind = Kind(str(raw.get("kind")))
        severity = Severity(str(raw.get("severity")))
    except ValueError as e:
        raise InputError(f"{where}: {e}") from None
    scanners = raw.get("scanners", [])
    if not isinstance(scanners, list) or not all(isinstance(s, str) for s in scanners):
        raise InputError(f"{where}.scanners: expected a list of strings")
    return Entry(
        fingerprint=text("fingerprint") or "",
        kind=kind,
        rule_id=text("rule_id") or "",
        title=text("title", required=False) or "",
        severity=severity,
        path=text("path", required=False),
        package=text("package", required=False),
        scanners=tuple(scanners),
    )


def loads(text: str, *, origin: str) -> Baseline:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{origin}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from e
    if isinstance(data, dict) and data.get("schema") == SCHEMA:
        entries = data.get("entries")
        if not isinstance(entries, list):
            raise InputError(f"{origin}: entries: expected a list")
        return Baseline(
            origin=origin, entries=tuple(_entry(e, f"{origin}: entries[{n}]") for n, e in enumerate(entries))
        )
    if isinstance(data, dict) and data.get("schema", "").startswith("secscan/"):
        return from_result(load_result(text, origin=origin), origin=origin)
    raise InputError(f'{origin}: not a secscan baseline (expected "schema": "{SCHEMA}" or a secscan.json)')


def load(path: Path) -> Baseline:
    return loads(read_input_text(path, what="baseline "), origin=str(path))


def fixed_finding(e: Entry) -> Finding:
    """A baseline entry that was not found any more, shown as FIXED."""
    loc = Location(url=e.path) if e.kind is Kind.DAST else Location(path=e.path, package=e.package)
    scanner = e.scanners[0] if e.scanners else "baseline"
    return Finding(
        kind=e.kind,
        scanner=scanner,
        rule_id=e.rule_id,
        title=e.title,
        message="In the baseline but not found by this run.",
        severity=e.severity,
        severity_original=e.severity.value,
        location=loc,
        status=Status.FIXED,
        fingerprint=e.fingerprint,
        sources=tuple(
            Source(scanner=s, rule_id=e.rule_id, severity_original=e.severity.value, message="", location=loc)
            for s in e.scanners
        ),
    )


def fixed_entries(
    baseline: Baseline,
    present: Sequence[Finding],
    *,
    scanners_run: Sequence[str] | None = None,
    scanned_paths: Sequence[str] | None = None,
) -> list[Finding]:
    """Baseline entries no run finding matches, as FIXED findings.

    An entry only counts as fixed when the run could have seen it: one of its scanners ran
    (split pipelines run one scanner per job) and, with --changed-only, its file was scanned.
    """
    seen = {f.fingerprint for f in present}
    ran = set(scanners_run) if scanners_run is not None else None
    paths = set(scanned_paths) if scanned_paths is not None else None
    out = []
    for e in baseline.entries:
        if e.fingerprint in seen:
            continue
        if ran is not None and e.scanners and not (set(e.scanners) & ran):
            continue
        if paths is not None and e.kind in (Kind.SAST, Kind.SECRET) and e.path not in paths:
            continue
        out.append(fixed_finding(e))
    return out
