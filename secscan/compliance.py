"""Compliance mapping: CWE / rule id -> OWASP Top 10 (2021) and PCI DSS v4.0 requirement ids.

OWNER: [rules] issue. Placeholder until the mapping data file lands: returns findings unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from secscan.models import Finding


def annotate(findings: Sequence[Finding]) -> list[Finding]:
    """Return the findings with ``compliance`` (and OWASP identifiers) filled in."""
    return list(findings)
