"""The severity of one OSV record (pure): from its CVSS vector, else the database's label.

Order, and why:

1. ``severity[]`` of type ``CVSS_V3`` (``CVSS:3.0/...`` or ``CVSS:3.1/...``), scored by the
   maintained ``cvss`` library: GitHub's own label (``database_specific.severity``) follows the
   v3 score, so both say the same thing;
2. ``CVSS_V4`` when the record has no v3 vector;
3. ``database_specific.severity`` (GitHub: LOW, MODERATE, HIGH, CRITICAL; seven of the real npm
   records have an empty ``severity`` array and only this);
4. ``medium``, the default of the other dependency scanner, when nothing says more.

A vector that does not parse is skipped (the next source decides), never guessed from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError

from secscan.models import Severity

_CVSS_RATINGS = {
    "none": Severity.INFO,
    "low": Severity.LOW,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}
_LABELS = {
    "low": Severity.LOW,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "high": Severity.HIGH,
    "critical": Severity.CRITICAL,
}


@dataclass(frozen=True, kw_only=True)
class RecordSeverity:
    severity: Severity
    original: str
    """What decided, e.g. ``CVSS:3.1/AV:N/... (7.5 High)`` or ``MODERATE``."""
    score: float | None = None


def _vectors(record: Mapping[str, Any], kind: str) -> list[str]:
    return [
        str(s.get("score"))
        for s in record.get("severity") or []
        if isinstance(s, dict) and s.get("type") == kind and isinstance(s.get("score"), str)
    ]


def record_severity(record: Mapping[str, Any]) -> RecordSeverity:
    for kind in ("CVSS_V3", "CVSS_V4"):
        for vector in _vectors(record, kind):
            try:
                if kind == "CVSS_V3":
                    v3 = CVSS3(vector)
                    score, rating = float(v3.base_score), str(v3.severities()[0])
                else:
                    v4 = CVSS4(vector)
                    score, rating = float(v4.base_score), str(v4.severity)
            except (CVSSError, ValueError, KeyError, IndexError):
                continue
            sev = _CVSS_RATINGS.get(rating.lower())
            if sev is not None:
                return RecordSeverity(severity=sev, original=f"{vector} ({score:g} {rating})", score=score)
    specific = record.get("database_specific")
    label = specific.get("severity") if isinstance(specific, dict) else None
    if isinstance(label, str) and label.strip().lower() in _LABELS:
        return RecordSeverity(severity=_LABELS[label.strip().lower()], original=label.strip())
    return RecordSeverity(severity=Severity.MEDIUM, original="unspecified")
