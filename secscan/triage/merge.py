"""Merge several results (one per CI job) into one: order-independent, re-deduplicated.

Findings are deduplicated again across the inputs (a bandit job and a semgrep job may report the
same problem); a "fixed" entry from one job is dropped when another job still sees the finding.
The verdict is not merged: ``secscan gate`` decides on the merged result.
"""

from __future__ import annotations

from collections.abc import Sequence

from secscan.core import Evidence
from secscan.errors import InputError
from secscan.models import RunResult, ScannerStatus


def _one(values: Sequence[str | None]) -> str | None:
    """The common value, or all distinct values joined (sorted) when the inputs disagree."""
    distinct = sorted({v for v in values if v})
    return ", ".join(distinct) if distinct else None


def _status_key(s: ScannerStatus) -> tuple[object, ...]:
    return (s.name, s.state.value, s.version or "", s.error or "", s.findings, s.not_audited, s.command, s.duration_s)


def _same(results: Sequence[RunResult], what: str, values: Sequence[str | None]) -> None:
    """Results of one pipeline scan one commit of one target; anything else is refused (a
    result file planted in the tree, or left over from another pipeline, must not be merged)."""
    distinct = sorted({v for v in values if v})
    if len(distinct) > 1:
        raise InputError(f"refusing to merge results of different {what}s: {', '.join(distinct)}")


def merge_evidence(results: Sequence[RunResult]) -> Evidence:
    """The inputs' findings and metadata as one :class:`Evidence` for :func:`secscan.core.produce`
    (which re-deduplicates, keeps statuses and masks)."""
    if not results:
        raise ValueError("nothing to merge")
    _same(results, "commit", [r.meta_dict().get("ci_commit_sha") for r in results])
    _same(results, "target", [r.target for r in results])
    scanners = sorted({_status_key(s): s for r in results for s in r.scanners}.values(), key=_status_key)
    meta: dict[str, str] = {}
    for key, value in sorted({kv for r in results for kv in r.meta}):
        meta.setdefault(key, value)  # sorted: the smallest value wins when jobs disagree
    return Evidence(
        findings=tuple(f for r in results for f in r.findings),
        statuses=tuple(scanners),
        tool_version=_one([r.tool_version for r in results]) or "",
        target=_one([r.target for r in results]) or "",
        started_at=min((r.started_at for r in results if r.started_at), default=""),
        finished_at=max((r.finished_at for r in results if r.finished_at), default=""),
        advisory_db=_one([r.advisory_db for r in results]),
        baseline=_one([r.baseline for r in results]),
        diff_base=_one([r.diff_base for r in results]),
        warnings=tuple(sorted({w for r in results for w in r.warnings})),
        meta=tuple(sorted(meta.items())),
        triaged=True,
    )


def merge_results(results: Sequence[RunResult]) -> RunResult:
    """Merge result files through the core (no policy: ``secscan gate`` decides)."""
    from secscan.core import produce
    from secscan.sourcefiles import SourceTree

    return produce(merge_evidence(results), tree=SourceTree(None), inputs=None)
