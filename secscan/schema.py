"""The files secscan writes and reads back: ``secscan.json`` (``secscan/1``) and the baseline
(``secscan-baseline/1``), as one typed, validated layer built on msgspec.

The structs below are the wire format, field for field and in the order they are written; the
rest of secscan works on the frozen dataclasses of :mod:`secscan.models`, converted here at the
boundary. Reading is strict (a wrong type, an unknown enum value or a missing required field is
an :class:`InputError` naming the file and the JSON path, e.g. ``res.json: $.findings[3].severity:
expected one of info, low, medium, high, critical, got 'urgent'``); unknown keys are ignored so a
newer secscan's extra fields do not break an older reader.

Writing is byte-for-byte what the earlier ``json.dumps(..., indent=2, ensure_ascii=False)``
writer produced (the golden files pin it): msgspec escapes strings exactly like the standard
library, and the only float, a duration rounded to milliseconds, prints alike below 1e16 s.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

from secscan.errors import InputError
from secscan.fingerprint import gc_paused
from secscan.models import (
    SCHEMA,
    Baseline,
    BaselineEntry,
    BlockReason,
    Confidence,
    Finding,
    Identifier,
    Kind,
    Location,
    RunResult,
    ScannerState,
    ScannerStatus,
    Severity,
    Source,
    Status,
    Suppression,
    Verdict,
)

BASELINE_SCHEMA = "secscan-baseline/1"

NonEmpty = Annotated[str, Meta(min_length=1)]

# Fields typed ``X | UnsetType = UNSET`` are written only when set: the format leaves them out
# when empty (absent on reading means empty too). Fields with a plain default are always written.
# gc=False: these trees never hold a cycle, and 100,000 findings are millions of structs the
# cyclic collector would otherwise keep re-scanning.


class LocationDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    path: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    start_column: int | None = None
    end_column: int | None = None
    snippet: str | None = None
    package: str | None = None
    version: str | None = None
    url: str | None = None
    method: str | None = None
    param: str | None = None
    evidence: str | None = None


class IdentifierDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    type: str
    value: str
    url: str | None = None


class SuppressionDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    origin: str
    reason: str
    owner: str | None = None
    expires: str | None = None
    ticket: str | None = None
    matched_by: str | None = None


class SourceDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    scanner: str
    rule_id: str
    severity_original: str = ""
    message: str = ""
    location: LocationDoc = field(default_factory=LocationDoc)


class FindingDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    fingerprint: str = ""
    kind: Kind
    scanner: str
    rule_id: str
    title: str = ""
    message: str = ""
    severity: Severity
    severity_original: str = ""
    confidence: Confidence = Confidence.UNKNOWN
    location: LocationDoc = field(default_factory=LocationDoc)
    status: Status = Status.NEW
    other_locations: tuple[LocationDoc, ...] | UnsetType = UNSET
    identifiers: tuple[IdentifierDoc, ...] = ()
    fix: str | UnsetType | None = UNSET
    fixed_versions: tuple[str, ...] | UnsetType = UNSET
    references: tuple[str, ...] = ()
    compliance: tuple[str, ...] = ()
    suppression: SuppressionDoc | UnsetType | None = UNSET
    sources: tuple[SourceDoc, ...] = ()
    tags: tuple[str, ...] | UnsetType = UNSET


class ScannerDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    name: str
    state: ScannerState
    version: str | UnsetType | None = UNSET
    duration_s: float = 0.0
    error: str | UnsetType | None = UNSET
    findings: int = 0
    not_audited: tuple[str, ...] | UnsetType = UNSET
    command: tuple[str, ...] | UnsetType = UNSET


class ToolDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    name: str = "secscan"
    version: str = ""


class ReasonDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    rule: str
    message: str
    fingerprint: str | None = None


class VerdictDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    passed: bool
    exit_code: int = 0
    policy: str = ""
    reasons: tuple[ReasonDoc, ...] = ()
    warnings: tuple[str, ...] = ()


class ResultDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="schema", tag=SCHEMA):
    """``secscan.json``: ``"schema": "secscan/1"`` is written first (msgspec writes the tag first)."""

    tool: ToolDoc = field(default_factory=ToolDoc)
    target: str = ""
    started_at: str = ""
    finished_at: str = ""
    scanners: tuple[ScannerDoc, ...] = ()
    advisory_db: str | UnsetType | None = UNSET
    baseline: str | UnsetType | None = UNSET
    diff_base: str | UnsetType | None = UNSET
    warnings: tuple[str, ...] | UnsetType = UNSET
    meta: dict[str, str] | UnsetType = UNSET
    verdict: VerdictDoc | UnsetType | None = UNSET
    findings: tuple[FindingDoc, ...] = ()


class EntryDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    fingerprint: NonEmpty
    kind: Kind
    rule_id: NonEmpty
    title: str = ""
    severity: Severity
    path: str | UnsetType | None = UNSET
    package: str | UnsetType | None = UNSET
    scanners: tuple[str, ...] = ()


class BaselineDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="schema", tag=BASELINE_SCHEMA):
    entries: tuple[EntryDoc, ...]


class _BaselineHead(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="schema", tag=BASELINE_SCHEMA):
    """Recognizes a baseline where a result is expected (without decoding its entries)."""


# A union tagged by "schema": the tag is then required, and a file of the other kind is named as such.
_RESULT_DECODER = msgspec.json.Decoder(ResultDoc | _BaselineHead)
_BASELINE_DECODER = msgspec.json.Decoder(BaselineDoc | ResultDoc)
_ENCODER = msgspec.json.Encoder()


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
            )
            for s in r.scanners
        ),
        advisory_db=_opt(r.advisory_db),
        baseline=_opt(r.baseline),
        diff_base=_opt(r.diff_base),
        warnings=_many(r.warnings),
        meta=dict(r.meta) if r.meta else UNSET,
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
    return msgspec.json.format(_ENCODER.encode(doc), indent=2).decode("utf-8") + "\n"


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
            text = msgspec.json.format(_ENCODER.encode(batch), indent=2)
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
    )


def loads_result(text: str | bytes, *, origin: str) -> RunResult:
    """A ``secscan.json`` document; :class:`InputError` naming ``origin`` and the JSON path."""
    with gc_paused():
        doc = _decode(_RESULT_DECODER, text, origin=origin, kind="result")
        if not isinstance(doc, ResultDoc):
            raise InputError(f"{origin}: $.schema: this is a baseline ({BASELINE_SCHEMA!r}), not a secscan result file")
        return _result(doc)


def loads_baseline(text: str | bytes, *, origin: str) -> Baseline | RunResult:
    """A baseline file, or a ``secscan.json`` (which the caller turns into a baseline)."""
    with gc_paused():
        doc = _decode(_BASELINE_DECODER, text, origin=origin, kind="baseline")
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


# ---------------------------------------------------------------- errors


def _decode(decoder: msgspec.json.Decoder[Any], text: str | bytes, *, origin: str, kind: str) -> Any:
    try:
        return decoder.decode(text)
    except msgspec.ValidationError as e:
        raise InputError(f"{origin}: {_describe(str(e), decoder.type, kind=kind)}") from None
    except msgspec.DecodeError as e:
        raise InputError(f"{origin}: not valid JSON: {_syntax(str(e), text)}") from None


_BYTE = re.compile(r"^(?:JSON is malformed: )?(.*?) \(byte (\d+)\)$")


def _syntax(message: str, text: str | bytes) -> str:
    """msgspec says where by byte offset; people (and editors) count lines and columns."""
    m = _BYTE.match(message)
    if m is None:
        return "the document ends too early" if "truncated" in message else message
    data = text.encode("utf-8") if isinstance(text, str) else text
    before = data[: int(m.group(2))]
    line = before.count(b"\n") + 1
    column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
    return f"{m.group(1)} at line {line} column {column}"


_AT = " - at `"
_PATH_TOKEN = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _describe(message: str, root: Any, *, kind: str) -> str:
    """``$.path: what is wrong`` from msgspec's ``What - at `$.path```."""
    what, sep, where = message.partition(_AT)
    path = where.rstrip("`") if sep else "$"
    if path == "$.schema" or (what == "Object missing required field `schema`" and path == "$"):
        expected = f"{SCHEMA!r}" if kind == "result" else f"{BASELINE_SCHEMA!r} or {SCHEMA!r}"
        found = what.removeprefix("Invalid value ") if what.startswith("Invalid value") else "nothing"
        return f"$.schema: expected {expected}, got {found} (is this a secscan {kind} file?)"
    if what.startswith("Invalid enum value "):
        allowed = _enum_values(root, path)
        if allowed:
            return f"{path}: expected one of {', '.join(allowed)}, got {what.removeprefix('Invalid enum value ')}"
    if what.startswith("Object missing required field "):
        return f"{path}: missing required field {what.removeprefix('Object missing required field ')}".replace("`", "'")
    if what.startswith("Expected `str` of length >= 1"):
        return f"{path}: expected a non-empty string"
    m = _EXPECTED.match(what)
    if m is not None:
        return f"{path}: expected {_json_types(m.group(1))}, got {_json_types(m.group(2))}"
    return f"{path}: {what[:1].lower()}{what[1:]}".replace("`", "")


_EXPECTED = re.compile(r"^Expected `([^`]+)`, got `([^`]+)`$")
# msgspec names Python types; the reader of the message is looking at JSON.
_JSON_TYPE = {"str": "a string", "int": "an integer", "float": "a number", "bool": "true or false"}
_JSON_TYPE |= {"object": "an object", "array": "an array", "null": "null"}


def _json_types(names: str) -> str:
    return " or ".join(_JSON_TYPE.get(n.strip(), n.strip()) for n in names.split("|"))


def _enum_values(root: Any, path: str) -> tuple[str, ...]:
    """The values the enum at ``path`` (e.g. ``$.findings[3].severity``) allows."""
    t: Any = msgspec.inspect.type_info(root)
    for name, _index in _PATH_TOKEN.findall(path):
        t = _step(t, name)
        if t is None:
            return ()
    t = _unwrap(t, msgspec.inspect.EnumType)
    return tuple(str(x.value) for x in t.cls) if isinstance(t, msgspec.inspect.EnumType) else ()


def _unwrap(t: Any, want: type) -> Any:
    if isinstance(t, msgspec.inspect.UnionType):
        return next((x for x in t.types if isinstance(x, want)), None)
    return t


def _step(t: Any, name: str) -> Any:
    """The type one path step below ``t``: a field (``name``) or an item (``name`` empty)."""
    if not name:
        t = _unwrap(t, msgspec.inspect.VarTupleType)
        return t.item_type if isinstance(t, msgspec.inspect.VarTupleType) else None
    structs = t.types if isinstance(t, msgspec.inspect.UnionType) else (t,)
    for s in structs:
        if isinstance(s, msgspec.inspect.StructType):
            for f in s.fields:
                if f.encode_name == name:
                    return f.type
    return None
