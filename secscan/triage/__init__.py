"""Triage: dedupe, suppressions, baseline, diff-aware statuses.

OWNER: [triage] issue. ``apply`` is the one entry point the pipeline calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from secscan.models import Finding
from secscan.sourcefiles import SourceTree


@dataclass(frozen=True, kw_only=True)
class TriageContext:
    tree: SourceTree
    """The scanned tree (for inline suppressions and diff lookups)."""
    today: date
    """Injected so expiry checks are testable."""
    suppressions: Path | None = None
    baseline: Path | None = None
    diff_base: str | None = None


@dataclass(frozen=True, kw_only=True)
class TriageOutcome:
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...] = field(default=())


def apply(findings: Sequence[Finding], ctx: TriageContext) -> TriageOutcome:
    """Dedupe, then mark statuses. Placeholder: everything is new."""
    return TriageOutcome(findings=tuple(findings))
