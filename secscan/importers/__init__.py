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
from secscan.models import Finding, ScannerState, ScannerStatus
from secscan.scanners.base import Parsed
from secscan.sourcefiles import SourceTree

SARIF = "sarif"


def tools() -> tuple[str, ...]:
    """What ``--tool`` accepts: every scanner of the registry that reads its reports, and SARIF."""
    from secscan.scanners import registry

    return (*registry.importable(), SARIF)


@dataclass(frozen=True, kw_only=True)
class Imported:
    findings: tuple[Finding, ...]
    status: ScannerStatus
    """One status per imported file, named after the tool (pip-audit skips make it FAILED)."""


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


def parse_report(tool: str, text: str, *, origin: str, tree: SourceTree, manifest: str | None = None) -> Imported:
    """Findings of one report; :class:`InputError` (exit 2) naming ``origin`` when malformed."""
    if tool not in tools():
        raise InputError(f"unknown tool {tool!r} (known: {', '.join(tools())})")
    if not text.strip():
        # A tool that crashed before writing anything: not "no findings" (fail closed).
        raise InputError(f"{origin}: the {tool} report is empty (did the tool crash?)")
    from secscan.fingerprint import gc_paused

    try:
        with gc_paused():
            return _parse(tool, text, origin=origin, tree=tree, manifest=manifest)
    except ParseError as e:
        msg = e.message if e.message.startswith(origin) else f"{origin}: {e.message}"
        raise InputError(msg) from e


def _parse(tool: str, text: str, *, origin: str, tree: SourceTree, manifest: str | None) -> Imported:
    """Dispatch to the tool's pure parser (ParseError propagates to :func:`parse_report`)."""
    if tool == SARIF:
        from secscan.importers import sarif

        parsed = Parsed(findings=tuple(sarif.parse(text, tree=tree, origin=origin)))
    else:
        from secscan.scanners import registry

        parsed = registry.get_class(tool).parse_report(text, tree=tree, origin=origin, manifest=manifest)
    state = ScannerState.OK
    error = None
    if parsed.errors:
        # An incomplete scan is not a clean scan: the gate fails closed as for a live run.
        state = ScannerState.FAILED
        error = f"{origin}: the {tool} scan was incomplete: " + "; ".join(parsed.errors[:3])
    elif parsed.not_audited:
        # pip-audit's "skipped" means NOT audited: never report that as clean.
        state = ScannerState.FAILED
        error = f"{len(parsed.not_audited)} dependencies not audited ({origin}): " + "; ".join(parsed.not_audited[:5])
    return Imported(
        findings=parsed.findings,
        status=ScannerStatus(
            name=tool,
            state=state,
            version=parsed.version,
            error=error,
            findings=len(parsed.findings),
            not_audited=parsed.not_audited,
        ),
    )


def import_files(
    tool: str, paths: Sequence[Path], *, tree: SourceTree, manifest: str | None = None
) -> tuple[list[Finding], list[ScannerStatus]]:
    findings: list[Finding] = []
    statuses: list[ScannerStatus] = []
    for path in paths:
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise InputError(f"cannot read {path}: {e.strerror or e}") from e
        imported = parse_report(tool, decode(data, str(path)), origin=str(path), tree=tree, manifest=manifest)
        findings.extend(imported.findings)
        statuses.append(imported.status)
    return findings, statuses
