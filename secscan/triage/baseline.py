"""Baselines: the findings a project has accepted as its starting point.

A baseline file is JSON (``"schema": "secscan-baseline/1"``) with one entry per finding
fingerprint, plus enough to show an entry that is no longer found (kind, rule, title,
severity, path, scanners). A plain ``secscan.json`` is accepted as a baseline too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from secscan import jsonload, schema, testcode
from secscan.fsutil import read_input_text
from secscan.models import (
    Baseline,
    BaselineEntry,
    Finding,
    Kind,
    Location,
    NarrowedTestCode,
    RunResult,
    Source,
    Status,
)
from secscan.pathmatch import PathMatcher
from secscan.triage.dedupe import source_of


def from_result(result: RunResult, *, origin: str = "") -> Baseline:
    """Every finding still present (not FIXED) becomes an entry, suppressed ones included."""
    entries: dict[str, BaselineEntry] = {}
    for f in result.findings:
        if f.status is Status.FIXED or not f.fingerprint:
            continue
        entries[f.fingerprint] = BaselineEntry(
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
    from secscan import schema  # msgspec is loaded only by a run that reads or writes a baseline

    return schema.dumps_baseline(baseline)


def loads(text: str, *, origin: str) -> Baseline:
    """A baseline file, or a plain ``secscan.json`` (its present findings become the entries)."""

    with jsonload.guarded(origin):  # a baseline comes with the merge request: deep nesting is exit 2
        doc = schema.loads_baseline(text, origin=origin)
    return from_result(doc, origin=origin) if isinstance(doc, RunResult) else doc


def load(path: Path) -> Baseline:
    return loads(read_input_text(path, what="baseline "), origin=str(path))


def fixed_finding(e: BaselineEntry) -> Finding:
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
    excluded: PathMatcher | None = None,
    test_code: NarrowedTestCode | None = None,
) -> list[Finding]:
    """Baseline entries no run finding matches, as FIXED findings.

    An entry only counts as fixed when the run could have seen it: one of its scanners ran
    (split pipelines run one scanner per job), with --changed-only its file was scanned, its
    file (or manifest) is not one the scan excluded, and in test code its rule ran there
    (``test_code``: how the run read test code when not with every rule).
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
        if excluded is not None and e.kind is not Kind.DAST and e.path and excluded.matches(e.path):
            continue
        if not _rule_ran(test_code, e):
            continue
        out.append(fixed_finding(e))
    return out


def _rule_ran(test_code: NarrowedTestCode | None, e: BaselineEntry) -> bool:
    """Whether the run ran the entry's rule on its file: by one of its scanners; an entry that
    does not name them, by every scanner that narrowed (fail closed)."""
    if test_code is None or e.kind not in (Kind.SAST, Kind.SECRET):
        return True
    if e.scanners:
        return any(testcode.rule_ran(test_code, scanner=s, rule_id=e.rule_id, path=e.path) for s in e.scanners)
    names = [r.scanner for r in test_code.rules]
    return all(testcode.rule_ran(test_code, scanner=s, rule_id=e.rule_id, path=e.path) for s in names)
