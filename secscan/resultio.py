"""Read and write ``secscan.json`` (schema ``secscan/1``).

``dumps`` is pure (the reporters' ``json`` format uses it); ``load`` wraps every foreign error in
an :class:`InputError` naming the file and what is wrong.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from secscan.errors import InputError
from secscan.fsutil import read_input_text
from secscan.models import (
    SCHEMA,
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


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None and v not in ((), [])}


def location_to_dict(loc: Location) -> dict[str, Any]:
    return _drop_none(
        {
            "path": loc.path,
            "start_line": loc.start_line,
            "end_line": loc.end_line,
            "start_column": loc.start_column,
            "end_column": loc.end_column,
            "snippet": loc.snippet,
            "package": loc.package,
            "version": loc.version,
            "url": loc.url,
            "method": loc.method,
            "param": loc.param,
            "evidence": loc.evidence,
            "commit": loc.commit,
        }
    )


def finding_to_dict(f: Finding) -> dict[str, Any]:
    d: dict[str, Any] = {
        "fingerprint": f.fingerprint,
        "kind": f.kind.value,
        "scanner": f.scanner,
        "rule_id": f.rule_id,
        "title": f.title,
        "message": f.message,
        "severity": f.severity.value,
        "severity_original": f.severity_original,
        "confidence": f.confidence.value,
        "location": location_to_dict(f.location),
        "status": f.status.value,
    }
    if f.other_locations:
        d["other_locations"] = [location_to_dict(x) for x in f.other_locations]
    d["identifiers"] = [_drop_none({"type": i.type, "value": i.value, "url": i.url}) for i in f.identifiers]
    if f.fix is not None:
        d["fix"] = f.fix
    if f.fixed_versions:
        d["fixed_versions"] = list(f.fixed_versions)
    d["references"] = list(f.references)
    d["compliance"] = list(f.compliance)
    if f.suppression is not None:
        s = f.suppression
        d["suppression"] = _drop_none(
            {
                "origin": s.origin,
                "reason": s.reason,
                "owner": s.owner,
                "expires": s.expires,
                "ticket": s.ticket,
                "matched_by": s.matched_by,
            }
        )
    d["sources"] = [
        {
            "scanner": s.scanner,
            "rule_id": s.rule_id,
            "severity_original": s.severity_original,
            "message": s.message,
            "location": location_to_dict(s.location),
        }
        for s in f.sources
    ]
    if f.tags:
        d["tags"] = list(f.tags)
    return d


def result_to_dict(r: RunResult) -> dict[str, Any]:
    d: dict[str, Any] = {
        "schema": r.schema,
        "tool": {"name": "secscan", "version": r.tool_version},
        "target": r.target,
        "started_at": r.started_at,
        "finished_at": r.finished_at,
        "scanners": [
            _drop_none(
                {
                    "name": s.name,
                    "state": s.state.value,
                    "version": s.version,
                    "duration_s": round(s.duration_s, 3),
                    "error": s.error,
                    "findings": s.findings,
                    "not_audited": list(s.not_audited),
                    "command": list(s.command),
                }
            )
            for s in r.scanners
        ],
    }
    if r.advisory_db is not None:
        d["advisory_db"] = r.advisory_db
    if r.baseline is not None:
        d["baseline"] = r.baseline
    if r.diff_base is not None:
        d["diff_base"] = r.diff_base
    if r.warnings:
        d["warnings"] = list(r.warnings)
    if r.meta:
        d["meta"] = dict(r.meta)
    if r.verdict is not None:
        v = r.verdict
        d["verdict"] = {
            "passed": v.passed,
            "exit_code": v.exit_code,
            "policy": v.policy,
            "reasons": [
                _drop_none({"rule": x.rule, "message": x.message, "fingerprint": x.fingerprint}) for x in v.reasons
            ],
            "warnings": list(v.warnings),
        }
    d["findings"] = [finding_to_dict(f) for f in r.findings]
    return d


def dumps(r: RunResult) -> str:
    """Serialize a run (stable key order, trailing newline).

    Byte-for-byte what ``json.dumps(result_to_dict(r), indent=2)`` gives, but built one finding
    at a time: the whole-document dict of 100,000 findings alone costs about 1 GB.
    """
    head = result_to_dict(replace(r, findings=()))
    head.pop("findings")
    text = json.dumps(head, indent=2, ensure_ascii=False)
    if not r.findings:
        return text[:-2] + ',\n  "findings": []\n}\n'
    parts = [text[:-2], ',\n  "findings": [\n']
    for n, f in enumerate(r.findings):
        if n:
            parts.append(",\n")
        one = json.dumps(finding_to_dict(f), indent=2, ensure_ascii=False)
        parts.append("    " + one.replace("\n", "\n    "))
    parts.append("\n  ]\n}\n")
    return "".join(parts)


# ---------------------------------------------------------------- reading


class _Reader:
    """Typed accessors that turn shape errors into one clear message with a JSON path."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, what: str) -> InputError:
        return InputError(f"{self.origin}: {where}: {what}")

    def obj(self, v: Any, where: str) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise self.fail(where, f"expected an object, got {type(v).__name__}")
        return v

    def lst(self, v: Any, where: str) -> list[Any]:
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.fail(where, f"expected a list, got {type(v).__name__}")
        return v

    def s(self, d: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
        v = d.get(key)
        if v is None:
            if required:
                raise self.fail(where, f"missing field {key!r}")
            return None
        if not isinstance(v, str):
            raise self.fail(f"{where}.{key}", f"expected a string, got {type(v).__name__}")
        return v

    def req(self, d: dict[str, Any], key: str, where: str) -> str:
        v = self.s(d, key, where)
        assert v is not None
        return v

    def i(self, d: dict[str, Any], key: str, where: str) -> int | None:
        v = d.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(f"{where}.{key}", f"expected an integer, got {type(v).__name__}")
        return v

    def enum(self, cls: Any, d: dict[str, Any], key: str, where: str, default: Any = None) -> Any:
        v = d.get(key)
        if v is None and default is not None:
            return default
        try:
            return cls(v)
        except ValueError:
            allowed = ", ".join(x.value for x in cls)
            raise self.fail(f"{where}.{key}", f"{v!r} is not one of {allowed}") from None

    def strs(self, d: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        out = []
        for n, v in enumerate(self.lst(d.get(key), f"{where}.{key}")):
            if not isinstance(v, str):
                raise self.fail(f"{where}.{key}[{n}]", "expected a string")
            out.append(v)
        return tuple(out)

    def location(self, v: Any, where: str) -> Location:
        d = self.obj(v if v is not None else {}, where)
        return Location(
            path=self.s(d, "path", where, required=False),
            start_line=self.i(d, "start_line", where),
            end_line=self.i(d, "end_line", where),
            start_column=self.i(d, "start_column", where),
            end_column=self.i(d, "end_column", where),
            snippet=self.s(d, "snippet", where, required=False),
            package=self.s(d, "package", where, required=False),
            version=self.s(d, "version", where, required=False),
            url=self.s(d, "url", where, required=False),
            method=self.s(d, "method", where, required=False),
            param=self.s(d, "param", where, required=False),
            evidence=self.s(d, "evidence", where, required=False),
            commit=self.s(d, "commit", where, required=False),
        )

    def finding(self, v: Any, where: str) -> Finding:
        d = self.obj(v, where)
        sup = None
        if d.get("suppression") is not None:
            sd = self.obj(d["suppression"], f"{where}.suppression")
            w = f"{where}.suppression"
            sup = Suppression(
                origin=self.req(sd, "origin", w),
                reason=self.req(sd, "reason", w),
                owner=self.s(sd, "owner", w, required=False),
                expires=self.s(sd, "expires", w, required=False),
                ticket=self.s(sd, "ticket", w, required=False),
                matched_by=self.s(sd, "matched_by", w, required=False),
            )
        idents = []
        for n, x in enumerate(self.lst(d.get("identifiers"), f"{where}.identifiers")):
            w = f"{where}.identifiers[{n}]"
            xd = self.obj(x, w)
            idents.append(
                Identifier(
                    type=self.req(xd, "type", w),
                    value=self.req(xd, "value", w),
                    url=self.s(xd, "url", w, required=False),
                )
            )
        sources = []
        for n, x in enumerate(self.lst(d.get("sources"), f"{where}.sources")):
            w = f"{where}.sources[{n}]"
            xd = self.obj(x, w)
            sources.append(
                Source(
                    scanner=self.req(xd, "scanner", w),
                    rule_id=self.req(xd, "rule_id", w),
                    severity_original=self.s(xd, "severity_original", w, required=False) or "",
                    message=self.s(xd, "message", w, required=False) or "",
                    location=self.location(xd.get("location"), f"{w}.location"),
                )
            )
        return Finding(
            fingerprint=self.s(d, "fingerprint", where, required=False) or "",
            kind=self.enum(Kind, d, "kind", where),
            scanner=self.req(d, "scanner", where),
            rule_id=self.req(d, "rule_id", where),
            title=self.s(d, "title", where, required=False) or "",
            message=self.s(d, "message", where, required=False) or "",
            severity=self.enum(Severity, d, "severity", where),
            severity_original=self.s(d, "severity_original", where, required=False) or "",
            confidence=self.enum(Confidence, d, "confidence", where, Confidence.UNKNOWN),
            location=self.location(d.get("location"), f"{where}.location"),
            other_locations=tuple(
                self.location(x, f"{where}.other_locations[{n}]")
                for n, x in enumerate(self.lst(d.get("other_locations"), f"{where}.other_locations"))
            ),
            identifiers=tuple(idents),
            fix=self.s(d, "fix", where, required=False),
            fixed_versions=self.strs(d, "fixed_versions", where),
            references=self.strs(d, "references", where),
            compliance=self.strs(d, "compliance", where),
            status=self.enum(Status, d, "status", where, Status.NEW),
            suppression=sup,
            sources=tuple(sources),
            tags=self.strs(d, "tags", where),
        )

    def result(self, v: Any) -> RunResult:
        d = self.obj(v, "document")
        schema = d.get("schema")
        if schema != SCHEMA:
            raise self.fail("schema", f"expected {SCHEMA!r}, got {schema!r} (is this a secscan result file?)")
        tool = self.obj(d.get("tool") or {}, "tool")
        scanners = []
        for n, x in enumerate(self.lst(d.get("scanners"), "scanners")):
            w = f"scanners[{n}]"
            xd = self.obj(x, w)
            dur = xd.get("duration_s", 0.0)
            if not isinstance(dur, (int, float)) or isinstance(dur, bool):
                raise self.fail(f"{w}.duration_s", "expected a number")
            scanners.append(
                ScannerStatus(
                    name=self.req(xd, "name", w),
                    state=self.enum(ScannerState, xd, "state", w),
                    version=self.s(xd, "version", w, required=False),
                    duration_s=float(dur),
                    error=self.s(xd, "error", w, required=False),
                    findings=self.i(xd, "findings", w) or 0,
                    not_audited=self.strs(xd, "not_audited", w),
                    command=self.strs(xd, "command", w),
                )
            )
        verdict = None
        if d.get("verdict") is not None:
            vd = self.obj(d["verdict"], "verdict")
            reasons = []
            for n, x in enumerate(self.lst(vd.get("reasons"), "verdict.reasons")):
                w = f"verdict.reasons[{n}]"
                xd = self.obj(x, w)
                reasons.append(
                    BlockReason(
                        rule=self.req(xd, "rule", w),
                        message=self.req(xd, "message", w),
                        fingerprint=self.s(xd, "fingerprint", w, required=False),
                    )
                )
            passed = vd.get("passed")
            if not isinstance(passed, bool):
                raise self.fail("verdict.passed", "expected true or false")
            verdict = Verdict(
                passed=passed,
                exit_code=self.i(vd, "exit_code", "verdict") or 0,
                policy=self.s(vd, "policy", "verdict", required=False) or "",
                reasons=tuple(reasons),
                warnings=self.strs(vd, "warnings", "verdict"),
            )
        meta = self.obj(d.get("meta") or {}, "meta")
        return RunResult(
            tool_version=self.s(tool, "version", "tool", required=False) or "",
            target=self.s(d, "target", "document", required=False) or "",
            started_at=self.s(d, "started_at", "document", required=False) or "",
            finished_at=self.s(d, "finished_at", "document", required=False) or "",
            scanners=tuple(scanners),
            findings=tuple(
                self.finding(x, f"findings[{n}]") for n, x in enumerate(self.lst(d.get("findings"), "findings"))
            ),
            verdict=verdict,
            advisory_db=self.s(d, "advisory_db", "document", required=False),
            baseline=self.s(d, "baseline", "document", required=False),
            diff_base=self.s(d, "diff_base", "document", required=False),
            warnings=self.strs(d, "warnings", "document"),
            meta=tuple(sorted((str(k), str(v)) for k, v in meta.items())),
        )


def loads(text: str, *, origin: str = "<input>") -> RunResult:
    """Parse a result document; :class:`InputError` naming ``origin`` on any problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{origin}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from e
    return _Reader(origin).result(data)


def load(path: Path) -> RunResult:
    """Read a ``secscan.json`` file."""
    return loads(read_input_text(path), origin=str(path))
