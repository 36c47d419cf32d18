"""The files secscan writes and reads back: ``secscan.json`` (``secscan/1``) and the baseline
(``secscan-baseline/1``), as one typed, validated layer built on msgspec.

:mod:`~secscan.schema.documents` holds the wire format; the rest of secscan works on the frozen
dataclasses of :mod:`secscan.models`, converted here at the boundary. Reading is strict (a wrong
type, an unknown enum value or a missing required field is an :class:`InputError` naming the file
and the JSON path, e.g. ``res.json: $.findings[3].severity: expected one of info, low, medium,
high, critical, got 'urgent'``: :mod:`~secscan.schema.messages`); unknown keys are ignored so a
newer secscan's extra fields do not break an older reader.

Writing is byte-for-byte what the earlier ``json.dumps(..., indent=2, ensure_ascii=False)``
writer produced (the golden files pin it): msgspec escapes strings exactly like the standard
library, and the only float, a duration rounded to milliseconds, prints alike below 1e16 s.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import msgspec
from msgspec import UNSET

from secscan.errors import InputError
from secscan.fingerprint import gc_paused
from secscan.models import (
    AdvisorySnapshot,
    Baseline,
    BaselineEntry,
    BlockReason,
    Finding,
    Identifier,
    JudgedWith,
    Location,
    RecordedFile,
    RecordedPolicy,
    RunResult,
    ScannerStatus,
    Scope,
    SettingOrigin,
    Source,
    Suppression,
    Verdict,
)
from secscan.schema.documents import (
    BASELINE_DECODER,
    BASELINE_SCHEMA,
    ENCODER,
    RESULT_DECODER,
    AdvisoriesDoc,
    BaselineDoc,
    EntryDoc,
    FindingDoc,
    IdentifierDoc,
    JudgedWithDoc,
    LocationDoc,
    ReasonDoc,
    RecordedFileDoc,
    RecordedPolicyDoc,
    ResultDoc,
    ScannerDoc,
    ScopeDoc,
    SettingOriginDoc,
    SourceDoc,
    SuppressionDoc,
    ToolDoc,
    VerdictDoc,
)
from secscan.schema.messages import decode

__all__ = ["BASELINE_SCHEMA", "dumps_baseline", "dumps_result", "loads_baseline", "loads_result"]


# ---------------------------------------------------------------- models -> documents


def _opt(value: Any) -> Any:
    return UNSET if value is None else value


def _many(values: tuple[Any, ...]) -> Any:
    return values if values else UNSET


def _location_doc(loc: Location) -> LocationDoc:
    return LocationDoc(
        path=loc.path,
        start_line=loc.start_line,
        end_line=loc.end_line,
        start_column=loc.start_column,
        end_column=loc.end_column,
        snippet=loc.snippet,
        package=loc.package,
        version=loc.version,
        url=loc.url,
        method=loc.method,
        param=loc.param,
        evidence=loc.evidence,
        commit=loc.commit,
    )


def _finding_doc(f: Finding) -> FindingDoc:
    s = f.suppression
    return FindingDoc(
        fingerprint=f.fingerprint,
        kind=f.kind,
        scanner=f.scanner,
        rule_id=f.rule_id,
        title=f.title,
        message=f.message,
        severity=f.severity,
        severity_original=f.severity_original,
        confidence=f.confidence,
        location=_location_doc(f.location),
        status=f.status,
        other_locations=_many(tuple(_location_doc(x) for x in f.other_locations)),
        related_locations=_many(tuple(_location_doc(x) for x in f.related_locations)),
        identifiers=tuple(IdentifierDoc(type=i.type, value=i.value, url=i.url) for i in f.identifiers),
        fix=_opt(f.fix),
        fixed_versions=_many(f.fixed_versions),
        references=f.references,
        compliance=f.compliance,
        suppression=UNSET
        if s is None
        else SuppressionDoc(
            origin=s.origin,
            reason=s.reason,
            owner=s.owner,
            expires=s.expires,
            ticket=s.ticket,
            matched_by=s.matched_by,
        ),
        sources=tuple(
            SourceDoc(
                scanner=x.scanner,
                rule_id=x.rule_id,
                severity_original=x.severity_original,
                message=x.message,
                location=_location_doc(x.location),
            )
            for x in f.sources
        ),
        tags=_many(f.tags),
    )


def _file_doc(f: RecordedFile | None) -> Any:
    return UNSET if f is None else RecordedFileDoc(origin=f.origin, sha256=f.sha256)


def _judged_with_doc(j: JudgedWith | None) -> Any:
    if j is None:
        return UNSET
    p = j.policy
    return JudgedWithDoc(
        version=j.version,
        policy=RecordedPolicyDoc(name=p.name, origin=p.origin, sha256=p.sha256, definition=dict(p.definition)),
        suppressions=_file_doc(j.suppressions),
        baseline=_file_doc(j.baseline),
        test_paths=j.test_paths,
        production_only_rules=j.production_only_rules,
        excludes=j.excludes,
        diff_base=_opt(j.diff_base),
        settings_origin=tuple(SettingOriginDoc(key=o.key, layer=o.layer, where=o.where) for o in j.settings_origin)
        or UNSET,
    )


def _advisories_doc(a: AdvisorySnapshot | None) -> Any:
    if a is None:
        return UNSET
    return AdvisoriesDoc(
        snapshot=a.snapshot,
        source=a.source,
        taken_at=_opt(a.taken_at),
        fetched=a.fetched,
        age_days=_opt(a.age_days),
        records=dict(a.records) if a.records else UNSET,
        digest=_opt(a.digest),
    )


def _advisories(d: AdvisoriesDoc | None) -> AdvisorySnapshot | None:
    if d is None or d is UNSET:
        return None
    return AdvisorySnapshot(
        snapshot=d.snapshot,
        source=d.source,
        taken_at=_set(d.taken_at),
        fetched=d.fetched,
        age_days=_set(d.age_days),
        records=tuple(sorted(_set(d.records, {}).items())),
        digest=_set(d.digest),
    )


def _result_doc(r: RunResult) -> ResultDoc:
    v = r.verdict
    return ResultDoc(
        tool=ToolDoc(version=r.tool_version),
        target=r.target,
        started_at=r.started_at,
        finished_at=r.finished_at,
        scanners=tuple(
            ScannerDoc(
                name=s.name,
                state=s.state,
                version=_opt(s.version),
                duration_s=round(s.duration_s, 3),
                error=_opt(s.error),
                findings=s.findings,
                not_audited=_many(s.not_audited),
                command=_many(s.command),
                cache_hits=s.cache_hits or UNSET,
                cache_misses=s.cache_misses or UNSET,
                incomplete_files=_many(s.incomplete_files),
            )
            for s in r.scanners
        ),
        advisory_db=_opt(r.advisory_db),
        baseline=_opt(r.baseline),
        diff_base=_opt(r.diff_base),
        warnings=_many(r.warnings),
        meta=dict(r.meta) if r.meta else UNSET,
        judged_with=_judged_with_doc(r.judged_with),
        scope=UNSET
        if r.scope is None
        else ScopeDoc(
            paths=UNSET if r.scope.paths is None else r.scope.paths,
            changed_only=r.scope.changed_only,
            shard=_opt(r.scope.shard),
        ),
        advisories=_advisories_doc(r.advisories),
        verdict=UNSET
        if v is None
        else VerdictDoc(
            passed=v.passed,
            exit_code=v.exit_code,
            policy=v.policy,
            reasons=tuple(ReasonDoc(rule=x.rule, message=x.message, fingerprint=x.fingerprint) for x in v.reasons),
            warnings=v.warnings,
        ),
        findings=tuple(_finding_doc(f) for f in r.findings),
    )


def _pretty(doc: msgspec.Struct) -> str:
    return msgspec.json.format(ENCODER.encode(doc), indent=2).decode("utf-8") + "\n"


_BATCH = 256
_EMPTY_TAIL = '"findings": []\n}\n'


def dumps_result(r: RunResult) -> str:
    """``secscan.json`` text: stable key order, two-space indent, UTF-8 kept, trailing newline.

    The findings are encoded a batch at a time and spliced into the document at their depth, so
    the peak is the text itself rather than the text plus every finding's struct and raw JSON.
    The collector is paused while the (acyclic) structs are built: measured 4x the work with it.
    """
    with gc_paused():
        head = _pretty(_result_doc(replace(r, findings=())))
        if not r.findings:
            return head
        assert head.endswith(_EMPTY_TAIL)
        parts = [head[: -len(_EMPTY_TAIL)], '"findings": [\n']
        for start in range(0, len(r.findings), _BATCH):
            batch = tuple(_finding_doc(f) for f in r.findings[start : start + _BATCH])
            text = msgspec.json.format(ENCODER.encode(batch), indent=2)
            # "[\n  {...},\n  {...}\n]", items at depth 1 -> the items alone, at depth 2 as in the document.
            if start:
                parts.append(",\n")
            parts.append("  " + text[2:-2].replace(b"\n", b"\n  ").decode("utf-8"))
        parts.append("\n  ]\n}\n")
        return "".join(parts)


def dumps_baseline(baseline: Baseline) -> str:
    return _pretty(
        BaselineDoc(
            entries=tuple(
                EntryDoc(
                    fingerprint=e.fingerprint,
                    kind=e.kind,
                    rule_id=e.rule_id,
                    title=e.title,
                    severity=e.severity,
                    path=_opt(e.path),
                    package=_opt(e.package),
                    scanners=e.scanners,
                )
                for e in baseline.entries
            )
        )
    )


# ---------------------------------------------------------------- documents -> models


def _location(d: LocationDoc) -> Location:
    return Location(
        path=d.path,
        start_line=d.start_line,
        end_line=d.end_line,
        start_column=d.start_column,
        end_column=d.end_column,
        snippet=d.snippet,
        package=d.package,
        version=d.version,
        url=d.url,
        method=d.method,
        param=d.param,
        evidence=d.evidence,
        commit=d.commit,
    )


def _set(value: Any, empty: Any = None) -> Any:
    return empty if value is UNSET else value


def _finding(d: FindingDoc) -> Finding:
    s = d.suppression
    return Finding(
        fingerprint=d.fingerprint,
        kind=d.kind,
        scanner=d.scanner,
        rule_id=d.rule_id,
        title=d.title,
        message=d.message,
        severity=d.severity,
        severity_original=d.severity_original,
        confidence=d.confidence,
        location=_location(d.location),
        status=d.status,
        other_locations=tuple(_location(x) for x in _set(d.other_locations, ())),
        related_locations=tuple(_location(x) for x in _set(d.related_locations, ())),
        identifiers=tuple(Identifier(type=i.type, value=i.value, url=i.url) for i in d.identifiers),
        fix=_set(d.fix),
        fixed_versions=_set(d.fixed_versions, ()),
        references=d.references,
        compliance=d.compliance,
        suppression=None
        if s is None or s is UNSET
        else Suppression(
            origin=s.origin,
            reason=s.reason,
            owner=s.owner,
            expires=s.expires,
            ticket=s.ticket,
            matched_by=s.matched_by,
        ),
        sources=tuple(
            Source(
                scanner=x.scanner,
                rule_id=x.rule_id,
                severity_original=x.severity_original,
                message=x.message,
                location=_location(x.location),
            )
            for x in d.sources
        ),
        tags=_set(d.tags, ()),
    )


def _file(d: RecordedFileDoc | None) -> RecordedFile | None:
    return None if d is None or d is UNSET else RecordedFile(origin=d.origin, sha256=d.sha256)


def _judged_with(d: JudgedWithDoc | None) -> JudgedWith | None:
    if d is None or d is UNSET:
        return None
    p = d.policy
    return JudgedWith(
        version=d.version,
        policy=RecordedPolicy(name=p.name, origin=p.origin, sha256=p.sha256, definition=p.definition),
        suppressions=_file(_set(d.suppressions)),
        baseline=_file(_set(d.baseline)),
        test_paths=d.test_paths,
        production_only_rules=d.production_only_rules,
        excludes=d.excludes,
        diff_base=_set(d.diff_base),
        settings_origin=tuple(
            SettingOrigin(key=o.key, layer=o.layer, where=o.where) for o in _set(d.settings_origin) or ()
        ),
    )


def _scope(d: ScopeDoc | None) -> Scope | None:
    if d is None:
        return None
    paths = _set(d.paths)
    return Scope(paths=None if paths is None else tuple(paths), changed_only=d.changed_only, shard=_set(d.shard))


def _result(d: ResultDoc) -> RunResult:
    v = d.verdict
    return RunResult(
        tool_version=d.tool.version,
        target=d.target,
        started_at=d.started_at,
        finished_at=d.finished_at,
        scanners=tuple(
            ScannerStatus(
                name=s.name,
                state=s.state,
                version=_set(s.version),
                duration_s=s.duration_s,
                error=_set(s.error),
                findings=s.findings,
                not_audited=_set(s.not_audited, ()),
                command=_set(s.command, ()),
                cache_hits=_set(s.cache_hits, 0),
                cache_misses=_set(s.cache_misses, 0),
                incomplete_files=_set(s.incomplete_files, ()),
            )
            for s in d.scanners
        ),
        findings=tuple(_finding(f) for f in d.findings),
        verdict=None
        if v is None or v is UNSET
        else Verdict(
            passed=v.passed,
            exit_code=v.exit_code,
            policy=v.policy,
            reasons=tuple(BlockReason(rule=x.rule, message=x.message, fingerprint=x.fingerprint) for x in v.reasons),
            warnings=v.warnings,
        ),
        advisory_db=_set(d.advisory_db),
        baseline=_set(d.baseline),
        diff_base=_set(d.diff_base),
        warnings=_set(d.warnings, ()),
        meta=tuple(sorted(_set(d.meta, {}).items())),
        judged_with=_judged_with(_set(d.judged_with)),
        scope=_scope(_set(d.scope)),
        advisories=_advisories(_set(d.advisories)),
    )


def loads_result(text: str | bytes, *, origin: str) -> RunResult:
    """A ``secscan.json`` document; :class:`InputError` naming ``origin`` and the JSON path."""
    with gc_paused():
        doc = decode(RESULT_DECODER, text, origin=origin, kind="result")
        if not isinstance(doc, ResultDoc):
            raise InputError(f"{origin}: $.schema: this is a baseline ({BASELINE_SCHEMA!r}), not a secscan result file")
        return _result(doc)


def loads_baseline(text: str | bytes, *, origin: str) -> Baseline | RunResult:
    """A baseline file, or a ``secscan.json`` (which the caller turns into a baseline)."""
    with gc_paused():
        doc = decode(BASELINE_DECODER, text, origin=origin, kind="baseline")
        if isinstance(doc, ResultDoc):
            return _result(doc)
    assert isinstance(doc, BaselineDoc)
    return Baseline(
        origin=origin,
        entries=tuple(
            BaselineEntry(
                fingerprint=e.fingerprint,
                kind=e.kind,
                rule_id=e.rule_id,
                title=e.title,
                severity=e.severity,
                path=_set(e.path),
                package=_set(e.package),
                scanners=e.scanners,
            )
            for e in doc.entries
        ),
    )
