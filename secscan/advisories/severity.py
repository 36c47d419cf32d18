"""A dependency finding's severity from the CVSS vectors of its advisory records (pure).

OSV records carry ``severity: [{"type": "CVSS_V3" | "CVSS_V4", "score": "<vector>"}]`` at the top
and per affected package. pip-audit's JSON drops them, so the scanner looks its advisory and the
aliases up (GET /v1/vulns/{id}) and scores them here with the ``cvss`` library (RedHat's
maintained implementation of the FIRST specifications; a base score is not ours to compute).

The worst score of any record wins: an alias can be scored by a better-informed source (GitHub's
GHSA records carry vectors, PYSEC ones seldom do). CVSS v4.0 is preferred to v3.x within one
record, as the newer scoring of the same vulnerability. No vector anywhere: ``None`` ("unknown").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cvss import CVSS3, CVSS4
from cvss.exceptions import CVSSError

from secscan.models import Severity

UNKNOWN = "unknown"
"""``severity_original`` of a dependency finding whose records carry no CVSS vector."""


@dataclass(frozen=True, kw_only=True)
class Scored:
    severity: Severity
    score: float
    vector: str
    advisory: str
    """The record (id) whose vector gave the score."""

    @property
    def original(self) -> str:
        """The text kept as ``severity_original``: ``CVSS:3.1 9.8 (GHSA-...)``."""
        version = self.vector.split("/", 1)[0]
        return f"{version} {self.score:.1f} ({self.advisory})"


def severity_of_score(score: float) -> Severity:
    """The CVSS v3/v4 qualitative rating (0.0 none -> info)."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


def score_vector(vector: str) -> float | None:
    """The base score of a CVSS v3.x or v4.0 vector; None when it is not one (or is malformed)."""
    text = vector.strip()
    try:
        if text.startswith("CVSS:4.0/"):
            return float(CVSS4(text).base_score)
        if text.startswith(("CVSS:3.0/", "CVSS:3.1/")):
            return float(CVSS3(text).base_score)
    except (CVSSError, ValueError, KeyError):
        return None
    return None


def _entries(record: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for entry in record.get("severity") or []:
        if isinstance(entry, Mapping):
            yield entry
    for affected in record.get("affected") or []:
        if isinstance(affected, Mapping):
            for entry in affected.get("severity") or []:
                if isinstance(entry, Mapping):
                    yield entry


def score_record(record: Mapping[str, Any]) -> Scored | None:
    """The record's score: its CVSS v4.0 vector if it has one, else its worst v3.x vector."""
    best: dict[str, tuple[float, str]] = {}
    for entry in _entries(record):
        kind, vector = entry.get("type"), entry.get("score")
        if kind not in ("CVSS_V3", "CVSS_V4") or not isinstance(vector, str):
            continue
        score = score_vector(vector)
        if score is not None and (kind not in best or score > best[kind][0]):
            best[kind] = (score, vector.strip())
    chosen = best.get("CVSS_V4") or best.get("CVSS_V3")
    if chosen is None:
        return None
    return Scored(
        severity=severity_of_score(chosen[0]), score=chosen[0], vector=chosen[1], advisory=str(record.get("id", "?"))
    )


def score_records(records: Iterable[Mapping[str, Any]]) -> Scored | None:
    """The worst score over an advisory and its aliases; None when no record has a vector."""
    scored = [s for s in (score_record(r) for r in records) if s is not None]
    return max(scored, key=lambda s: s.score, default=None)


# ------------------------------------------------------------------ one record (npm lockfile audit)

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
    """What decided: the scored vector (``CVSS:3.1 7.5 (GHSA-...)``) or the database's label."""
    score: float | None = None


def _label(record: Mapping[str, Any]) -> Severity | None:
    specific = record.get("database_specific")
    label = specific.get("severity") if isinstance(specific, Mapping) else None
    if isinstance(label, str) and label.strip().lower() in _LABELS:
        return _LABELS[label.strip().lower()]
    return None


def vulnerability_severity(record: Mapping[str, Any], related: Iterable[Mapping[str, Any]] = ()) -> RecordSeverity:
    """The severity of the vulnerability ``record`` reports, from every record that names it
    (``related``: its aliases' records, e.g. the GHSA record of a PYSEC one): the worst CVSS score
    of any of them, else the record's own label, else the worst label of the others, else
    ``medium`` marked unspecified."""
    others = tuple(related)
    scored = score_records([record, *others])
    if scored is not None:
        return RecordSeverity(severity=scored.severity, original=scored.original, score=scored.score)
    own = record_severity(record)
    if own.original != "unspecified":
        return own
    labelled = [(sev, str(r.get("id", "?"))) for r in others if (sev := _label(r)) is not None]
    if labelled:
        sev, vid = max(labelled, key=lambda x: x[0].rank)
        return RecordSeverity(severity=sev, original=f"{sev.value} ({vid})")
    return own


def record_severity(record: Mapping[str, Any]) -> RecordSeverity:
    """The severity of one OSV record: its CVSS vector scored as above (the same rule as for
    pip-audit's findings), else the database's own label (GitHub: LOW, MODERATE, HIGH, CRITICAL;
    some real npm records carry only that), else ``medium`` marked unspecified."""
    scored = score_record(record)
    if scored is not None:
        return RecordSeverity(severity=scored.severity, original=scored.original, score=scored.score)
    specific = record.get("database_specific")
    label = specific.get("severity") if isinstance(specific, Mapping) else None
    if isinstance(label, str) and _label(record) is not None:
        return RecordSeverity(severity=_LABELS[label.strip().lower()], original=label.strip())
    return RecordSeverity(severity=Severity.MEDIUM, original="unspecified")
