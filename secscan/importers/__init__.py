"""Import existing scanner reports (split pipelines, other CI jobs) as findings.

One entry per tool, each reusing the pure parser of the scanner module (or the SARIF reader),
so an imported report and a live scan give the same findings. Every error names the file.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from secscan.errors import InputError, ParseError
from secscan.fingerprint import gc_paused
from secscan.importers import completeness
from secscan.models import Finding, ScannerState, ScannerStatus
from secscan.scanners.base import FileGap, incomplete_error
from secscan.sourcefiles import SourceTree

SARIF = "sarif"
GITLAB = "gitlab"
"""GitLab security reports (SAST, dependency scanning, secret detection, DAST)."""


def tools() -> tuple[str, ...]:
    """What ``--tool`` accepts: every scanner of the registry that reads its reports, and SARIF."""
    from secscan.scanners import registry

    return (*registry.importable(), SARIF, GITLAB)


@dataclass(frozen=True, kw_only=True)
class Imported:
    findings: tuple[Finding, ...]
    statuses: tuple[ScannerStatus, ...]
    """One status per scanner the file reports on: the tool, or each SARIF run's producer (with
    its version). FAILED when the report says the scan was incomplete (pip-audit skips,
    bandit/semgrep ``errors``, an unsuccessful SARIF run)."""
    results: int = 0
    """Results the report holds (findings or not): the import summary counts from this."""
    skipped: int = 0
    """Results that are not findings (SARIF ``pass`` / ``notApplicable`` / ``absent``)."""
    warnings: tuple[str, ...] = ()
    """What the summary must say: absolute paths outside the root, tool warnings."""


def decode(data: bytes, origin: str) -> str:
    """Report bytes as text: UTF-8 (with or without BOM) or UTF-16 with BOM (PowerShell's ``>``)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise InputError(f"{origin}: not valid UTF-16 text ({e.reason})") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InputError(f"{origin}: not UTF-8 text ({e.reason} at byte {e.start})") from e


def parse_report(
    tool: str, text: str | bytes, *, origin: str, tree: SourceTree, manifest: str | None = None
) -> Imported:
    """Findings of one report; :class:`InputError` (exit 2) naming ``origin`` when malformed."""
    if tool not in tools():
        raise InputError(f"unknown tool {tool!r} (known: {', '.join(tools())})")
    if not text.strip():
        # A tool that crashed before writing anything: not "no findings" (fail closed).
        raise InputError(f"{origin}: the {tool} report is empty (did the tool crash?)")
    from secscan.importers import guard

    try:
        # A parser's crash on a malformed report is exit 2 naming the file (issue 32).
        with gc_paused(), guard.foreign_input(tool, origin=origin):
            if tool != SARIF:  # the SARIF reader decodes strictly itself, as it streams
                guard.check_json(text, origin=origin)
            return _parse(tool, text, origin=origin, tree=tree, manifest=manifest)
    except ParseError as e:
        msg = e.message if e.message.startswith(origin) else f"{origin}: {e.message}"
        raise InputError(msg) from e


def _parse(tool: str, text: str | bytes, *, origin: str, tree: SourceTree, manifest: str | None) -> Imported:
    """Dispatch to the tool's pure parser (ParseError propagates to :func:`parse_report`)."""
    results = skipped = 0
    not_audited: tuple[str, ...] = ()
    gaps: tuple[FileGap, ...] = ()
    version = None
    run_statuses: list[ScannerStatus] = []
    if tool == SARIF:
        from secscan.importers import sarif

        log = sarif.read(text, tree=tree, origin=origin)
        findings, warnings, failures = list(log.findings), list(log.warnings), []
        results, skipped = log.results, log.skipped
        run_statuses = [
            _status(run.scanner, list(run.failures), origin=origin, version=run.version, findings=run.findings)
            for run in log.runs
        ]
    elif tool == GITLAB:
        from secscan.importers import gitlab

        text = text if isinstance(text, str) else decode(text, origin)
        found, _kind, names = gitlab.parse(text, tree=tree, origin=origin)
        findings, warnings, failures = found, [], list[str]()
        run_statuses = [
            _status(name, [], origin=origin, version=None, findings=sum(1 for f in found if f.scanner == name))
            for name in sorted({*names, *(f.scanner for f in found)} - {"secscan"})
        ]
    else:
        from secscan.scanners import registry

        text = text if isinstance(text, str) else decode(text, origin)
        parsed = registry.get_class(tool).parse_report(text, tree=tree, origin=origin, manifest=manifest)
        findings, warnings, failures = list(parsed.findings), list(parsed.warnings), list(parsed.errors)
        not_audited, version = parsed.not_audited, parsed.version
        # The same parse as the live run, so the same files make it incomplete (a file bandit
        # could not parse, a file semgrep stopped on or skipped): the gate fails closed on both.
        gaps = parsed.incomplete
    outside = completeness.outside_paths(findings)
    if outside:
        shown = ", ".join(outside[:3]) + (", ..." if len(outside) > 3 else "")
        warnings.append(
            f"{origin}: {len(outside)} path(s) lie outside --root and are kept as they are ({shown}); "
            "import with --root set to the checkout the tool scanned"
        )
    if run_statuses:
        statuses = tuple(run_statuses)
    elif not_audited and not failures:
        # pip-audit's "skipped" means NOT audited: never report that as clean.
        error = f"{len(not_audited)} dependencies not audited ({origin}): " + "; ".join(not_audited[:5])
        statuses = (
            ScannerStatus(
                name=tool,
                state=ScannerState.FAILED,
                version=version,
                error=error,
                findings=len(findings),
                not_audited=not_audited,
            ),
        )
    elif gaps and not failures:
        statuses = (
            ScannerStatus(
                name=tool,
                state=ScannerState.FAILED,
                version=version,
                error=f"incomplete scan ({origin}): {incomplete_error(gaps)}",
                findings=len(findings),
                incomplete_files=tuple(g.describe() for g in gaps),
            ),
        )
    else:
        statuses = (
            _status(tool, failures, origin=origin, version=version, findings=len(findings), not_audited=not_audited),
        )
    return Imported(
        findings=tuple(findings),
        statuses=statuses,
        results=results or len(findings),
        skipped=skipped,
        warnings=tuple(warnings),
    )


def _status(
    name: str,
    failures: list[str],
    *,
    origin: str,
    version: str | None,
    findings: int,
    not_audited: tuple[str, ...] = (),
) -> ScannerStatus:
    """OK, or FAILED with the first reason: an incomplete scan is not a clean one, so the gate
    fails closed as it does for a live scan."""
    if not failures:
        return ScannerStatus(name=name, state=ScannerState.OK, version=version, findings=findings)
    more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
    return ScannerStatus(
        name=name,
        state=ScannerState.FAILED,
        version=version,
        error=f"incomplete scan ({origin}): {failures[0]}{more}",
        findings=findings,
        not_audited=not_audited,
    )


def import_reports(
    tool: str, paths: Sequence[Path], *, tree: SourceTree, manifest: str | None = None
) -> list[Imported]:
    """One :class:`Imported` per file, in order; :class:`InputError` names an unreadable one."""
    out: list[Imported] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror or e}") from e
        # SARIF is read from its bytes (no text copy of a file of hundreds of megabytes).
        text = data if tool == SARIF else decode(data, str(path))
        out.append(parse_report(tool, text, origin=str(path), tree=tree, manifest=manifest))
    return out


def import_files(
    tool: str, paths: Sequence[Path], *, tree: SourceTree, manifest: str | None = None
) -> tuple[list[Finding], list[ScannerStatus]]:
    """Findings and statuses of the files (:func:`import_reports` also has the summary's counts)."""
    imported = import_reports(tool, paths, tree=tree, manifest=manifest)
    return [f for i in imported for f in i.findings], [s for i in imported for s in i.statuses]
