"""The import summary: every result read is a finding, a counted duplicate, or a counted skip.

"Never lose a finding silently": the counts make the arithmetic visible,
``results = findings + duplicates + skipped + summarized``, where a duplicate is a result that dedupe merged
into another finding (same rule or CWE family, same file, same region; its source is kept in
the merged finding's ``sources``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from secscan.models import Finding, Status

if TYPE_CHECKING:
    from secscan.importers import Imported


@dataclass(frozen=True, kw_only=True)
class ImportCounts:
    results: int
    """Results in the imported reports."""
    findings: int
    """Findings after dedupe (baseline entries marked fixed are not counted)."""
    duplicates: int
    """Results merged into another finding."""
    skipped: int
    """Results that are not findings (SARIF pass / notApplicable / absent)."""
    summarized: int = 0
    """Findings over the per-file cap (``sarif.MAX_FINDINGS``): not kept in detail, counted by
    rule in the scan's failure (which fails the gate closed)."""


def count(imported: Sequence[Imported], findings: Iterable[Finding]) -> ImportCounts:
    parsed = sum(len(i.findings) for i in imported)
    live = sum(1 for f in findings if f.status is not Status.FIXED)
    return ImportCounts(
        results=sum(i.results for i in imported),
        findings=live,
        duplicates=parsed - live,
        skipped=sum(i.skipped for i in imported),
        # What a capped read did not keep: results that are neither a finding nor a skip.
        summarized=sum(max(i.results - i.skipped - len(i.findings), 0) for i in imported),
    )


def describe(c: ImportCounts) -> str:
    parts = [f"{c.findings} finding(s)"]
    if c.duplicates:
        parts.append(f"{c.duplicates} duplicate(s) merged (same rule, file and region)")
    if c.skipped:
        parts.append(f"{c.skipped} not a finding (pass, notApplicable or absent)")
    if c.summarized:
        parts.append(f"{c.summarized} not kept in detail (too many in one file: counted by rule, scan incomplete)")
    return f"{c.results} result(s): " + ", ".join(parts)


def as_meta(c: ImportCounts) -> tuple[tuple[str, str], ...]:
    """The counts as result metadata (``secscan.json`` keeps what the summary said)."""
    capped = (("import_summarized", str(c.summarized)),) if c.summarized else ()  # only when it happened
    return (
        ("import_duplicates", str(c.duplicates)),
        ("import_findings", str(c.findings)),
        ("import_results", str(c.results)),
        ("import_skipped", str(c.skipped)),
        *capped,
    )
