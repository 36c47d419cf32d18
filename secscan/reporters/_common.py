"""Helpers every reporter shares: ordering, counting, blocking, stable ids and time formats.

All pure: they read the :class:`RunResult` and never the clock, the environment or the disk.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from secscan import textsafe
from secscan.errors import InputError
from secscan.models import (
    SEVERITIES_DESC,
    Finding,
    Identifier,
    Kind,
    Location,
    RunResult,
    ScannerState,
    Severity,
    Status,
)

# A fixed namespace so the same fingerprint always gives the same UUID (GitLab's vulnerability
# `id` "is recommended to be a UUID"; a stable one keeps GitLab's dismissals attached).
_UUID_NAMESPACE = uuid.UUID("6f0c6f3e-5b4e-4f53-9a3c-5ec5ca000001")

STATUS_ORDER: tuple[Status, ...] = (Status.NEW, Status.EXISTING, Status.SUPPRESSED, Status.FIXED)
KIND_ORDER: tuple[Kind, ...] = (Kind.SAST, Kind.DEPENDENCY, Kind.DAST, Kind.SECRET)

# Characters XML 1.0 forbids even when escaped (JUnit/XML writers must drop them).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def stable_id(f: Finding) -> str:
    """The finding's fingerprint, or (before [triage] has run) a hash of what identifies it.

    Reporters need *some* stable key for GitLab ``tracking``/``id``, SARIF ``partialFingerprints``
    and Code Quality ``fingerprint``; the fallback is marked ``local:`` so nobody mistakes it for
    the versioned algorithm.
    """
    if f.fingerprint:
        return f.fingerprint
    loc = f.location
    key = "\x1f".join(
        str(x)
        for x in (
            f.kind.value,
            f.scanner,
            f.rule_id,
            loc.path,
            loc.start_line,
            loc.package,
            loc.version,
            loc.url,
            loc.param,
        )
    )
    return "local:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def stable_uuid(f: Finding) -> str:
    return str(uuid.uuid5(_UUID_NAMESPACE, stable_id(f)))


def blocking_fingerprints(result: RunResult) -> frozenset[str]:
    """Fingerprints the verdict names as blocking (empty when there is no verdict yet)."""
    if result.verdict is None:
        return frozenset()
    return frozenset(r.fingerprint for r in result.verdict.reasons if r.fingerprint)


def is_blocking(f: Finding, blocking: frozenset[str]) -> bool:
    return bool(f.fingerprint) and f.fingerprint in blocking


def sort_key(f: Finding) -> tuple[int, int, str, str, int, str]:
    """Most severe first, then active before suppressed/fixed, then by place: a stable order."""
    loc = f.location
    return (
        -f.severity.rank,
        STATUS_ORDER.index(f.status),
        f.kind.value,
        loc.path or loc.url or loc.package or "",
        loc.start_line or 0,
        f.rule_id,
    )


def ordered(findings: Iterable[Finding], blocking: frozenset[str] = frozenset()) -> list[Finding]:
    """Blocking findings first, then :func:`sort_key`."""
    return sorted(findings, key=lambda f: (0 if is_blocking(f, blocking) else 1, *sort_key(f)))


def count_by_severity(findings: Iterable[Finding]) -> dict[Severity, int]:
    c = Counter(f.severity for f in findings)
    return {s: c.get(s, 0) for s in SEVERITIES_DESC}


def count_by_status(findings: Iterable[Finding]) -> dict[Status, int]:
    c = Counter(f.status for f in findings)
    return {s: c.get(s, 0) for s in STATUS_ORDER}


def count_by_kind(findings: Iterable[Finding]) -> dict[Kind, int]:
    c = Counter(f.kind for f in findings)
    return {k: c.get(k, 0) for k in KIND_ORDER}


def active(findings: Iterable[Finding]) -> list[Finding]:
    """Findings present in this run (``fixed`` ones are only in the baseline)."""
    return [f for f in findings if f.status is not Status.FIXED]


@dataclass(frozen=True, kw_only=True)
class ScannerCount:
    """One row of the scanners table."""

    name: str
    results: int
    """What the scanner reported (its own results, before merging)."""
    findings: int
    """Findings (after merging) the scanner took part in."""
    by_severity: Mapping[Severity, int]
    """Those findings per severity (the severity table's row for this scanner)."""


@dataclass(frozen=True, kw_only=True)
class Counts:
    """Every count a report shows, computed once (:func:`counts`): the terminal, the Markdown
    summary and the HTML report print these, so their tables cannot disagree."""

    total: int
    """Findings in this run, after merging, fixed ones (only in the baseline) left out."""
    by_severity: Mapping[Severity, int]
    by_status: Mapping[Status, int]
    """Every finding, fixed ones included."""
    by_kind: Mapping[Kind, int]
    scanners: tuple[ScannerCount, ...]
    """The scanners of the run in its order, then any other scanner that has findings."""

    def scanner(self, name: str) -> ScannerCount | None:
        return next((s for s in self.scanners if s.name == name), None)

    def findings_of(self, name: str) -> int:
        """The findings column of a scanner's row (0 for a scanner with none)."""
        row = self.scanner(name)
        return row.findings if row else 0


def counts(result: RunResult) -> Counts:
    """One count everywhere: findings after merging (a problem several rules or scanners reported
    is one finding), fixed ones left out; a finding two scanners reported counts once in each of
    their rows and once in the totals."""
    act = active(result.findings)
    per: dict[str, Counter[Severity]] = {}
    for f in act:
        for name in {s.scanner for s in f.sources} or {f.scanner}:
            per.setdefault(name, Counter())[f.severity] += 1
    names = [s.name for s in result.scanners]
    results = {s.name: s.findings for s in result.scanners}
    names += sorted(n for n in per if n not in results)
    rows = tuple(
        ScannerCount(
            name=n,
            results=results.get(n, 0),
            findings=sum(per.get(n, Counter()).values()),
            by_severity={s: per.get(n, Counter()).get(s, 0) for s in SEVERITIES_DESC},
        )
        for n in names
    )
    return Counts(
        total=len(act),
        by_severity=count_by_severity(act),
        by_status=count_by_status(result.findings),
        by_kind=count_by_kind(act),
        scanners=rows,
    )


def parse_timestamp(value: str, what: str) -> datetime:
    """An ISO-8601 timestamp from the result, as an aware UTC datetime."""
    try:
        dt = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"result {what} {value!r} is not an ISO-8601 timestamp") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)  # the schema says UTC; a zone-less value is taken as UTC
    return dt.astimezone(UTC)


def gitlab_time(value: str, what: str) -> str:
    """GitLab security reports want ``%Y-%m-%dT%H:%M:%S`` in UTC, with no zone suffix."""
    return parse_timestamp(value, what).strftime("%Y-%m-%dT%H:%M:%S")


def sarif_time(value: str, what: str) -> str:
    """SARIF wants an RFC 3339 UTC timestamp with a ``Z``."""
    return parse_timestamp(value, what).strftime("%Y-%m-%dT%H:%M:%SZ")


def duration_s(result: RunResult) -> float | None:
    try:
        return (
            parse_timestamp(result.finished_at, "finished_at") - parse_timestamp(result.started_at, "started_at")
        ).total_seconds()
    except InputError:
        return None


def location_text(loc: Location) -> str:
    """One human line for a location: ``path:12``, ``pkg 1.2 (requirements.txt)``, ``GET url``."""
    if loc.package:
        s = f"{loc.package} {loc.version or ''}".strip()
        return f"{s} ({loc.path})" if loc.path else s
    if loc.url:
        parts = [loc.method or "", loc.url]
        if loc.param:
            parts.append(f"[{loc.param}]")
        return " ".join(p for p in parts if p)
    if loc.path:
        # A secret found in an earlier commit: its line is that commit's, not the tree's.
        at = f" in commit {loc.commit[:12]}" if loc.commit else ""
        if loc.start_line:
            if loc.end_line and loc.end_line != loc.start_line:
                return f"{loc.path}:{loc.start_line}-{loc.end_line}{at}"
            return f"{loc.path}:{loc.start_line}{at}"
        return loc.path + at
    return ""


def cwe_number(ident: Identifier) -> str | None:
    """``CWE-79`` / ``79`` -> ``79``."""
    m = re.fullmatch(r"(?i)(?:cwe-)?(\d+)", ident.value.strip())
    return m.group(1) if m else None


def cwe_numbers(f: Finding) -> list[str]:
    out: list[str] = []
    for i in f.identifiers:
        if i.type.lower() == "cwe":
            n = cwe_number(i)
            if n and n not in out:
                out.append(n)
    return out


def is_http_url(value: str | None) -> bool:
    return bool(value) and re.match(r"(?i)^https?://[^\s]+$", value or "") is not None


def xml_safe(text: str) -> str:
    return _XML_FORBIDDEN.sub("", text)


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def scanner_names(result: RunResult) -> list[str]:
    """Scanners that took part (not skipped) plus any that reported findings, in a stable order."""
    names = [s.name for s in result.scanners if s.state is not ScannerState.SKIPPED]
    for f in result.findings:
        if f.scanner not in names:
            names.append(f.scanner)
    return names


def scanner_version(result: RunResult, name: str) -> str | None:
    for s in result.scanners:
        if s.name == name:
            return s.version
    return None


def compact(d: dict[str, object]) -> dict[str, object]:
    """Drop keys whose value is None or empty (schemas reject empty strings in many places)."""
    return {k: v for k, v in d.items() if v is not None and v not in ("", [], {})}


def first_sentence(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return truncate(flat, limit)


def dedupe(items: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for x in items:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


redact_secret = textsafe.redact_secret


def snippet_for(f: Finding) -> str | None:
    """The snippet to show in a report: a secret finding's line is redacted (reports travel
    further than the repository: MR notes, artifacts, dashboards)."""
    snip = f.location.snippet
    if snip is None:
        return None
    return redact_secret(snip) if f.kind is Kind.SECRET else snip


def dumps_json(doc: object, *, one_line: Callable[[tuple[str | int, ...]], bool]) -> str:
    """JSON with an indented skeleton and one compact line per bulk item (finding, result, rule).

    ``json.dumps(indent=...)`` runs CPython's pure-Python encoder (the C one only does compact
    output): for 100,000 findings it was ~4x slower than compact encoding. Items for which
    ``one_line(path)`` is true are encoded compactly by the C encoder, one per line, so files stay
    readable and diff line by line per finding.
    """
    out: list[str] = []
    _dump(doc, (), 0, one_line, out)
    out.append("\n")
    return "".join(out)


def _dump(obj: object, path: tuple[str | int, ...], depth: int, one_line: Callable[..., bool], out: list[str]) -> None:
    if (path and one_line(path)) or not isinstance(obj, (dict, list)) or not obj:
        out.append(json.dumps(obj, ensure_ascii=False, separators=(", ", ": ")))
        return
    pad = "\n" + "  " * (depth + 1)
    if isinstance(obj, dict):
        out.append("{")
        for n, (k, v) in enumerate(obj.items()):
            out.append(("," if n else "") + pad + json.dumps(k, ensure_ascii=False) + ": ")
            _dump(v, (*path, k), depth + 1, one_line, out)
        out.append("\n" + "  " * depth + "}")
    else:
        out.append("[")
        for n, v in enumerate(obj):
            out.append(("," if n else "") + pad)
            _dump(v, (*path, n), depth + 1, one_line, out)
        out.append("\n" + "  " * depth + "]")
