"""The files secscan writes and reads back: ``secscan.json`` (``secscan/1``) and the baseline
(``secscan-baseline/1``), as one typed, validated layer built on msgspec.

:mod:`~secscan.schema.documents` generates the wire format from the frozen dataclasses of
:mod:`secscan.models` (one declaration per field); they are converted here at the boundary. Reading is strict (a wrong
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

from secscan.errors import InputError
from secscan.fingerprint import gc_paused
from secscan.models import BASELINE_SCHEMA, Baseline, Finding, RunResult
from secscan.schema.documents import (
    BASELINE,
    BASELINE_DECODER,
    BY_READER,
    ENCODER,
    RESULT,
    RESULT_DECODER,
    SPECS,
    spec_of,
)
from secscan.schema.messages import decode

__all__ = ["BASELINE_SCHEMA", "dumps_baseline", "dumps_result", "loads_baseline", "loads_result"]


# ---------------------------------------------------------------- models <-> structs
# A model with no transforming field (nor any below it) is converted by msgspec in one call;
# the others (the result, a scanner's status) field by field, each value through its Wire.


def _to_wire(value: Any) -> Any:
    spec = SPECS.get(type(value))
    if spec is not None:
        if spec.direct:
            return msgspec.convert(value, spec.writer, from_attributes=True)
        fields: dict[str, Any] = {}
        for f in spec.fields:
            v = getattr(value, f.name)
            if f.how.encode is not None:
                v = f.how.encode(v)
            fields[f.key] = _to_wire(v)
        return spec.writer(**fields)
    if type(value) is tuple:
        return tuple(_to_wire(v) for v in value)
    return value


def _from_wire(value: Any, **extra: Any) -> Any:
    spec = BY_READER.get(type(value))
    if spec is not None:
        if spec.direct:
            return msgspec.convert(value, spec.model, from_attributes=True)
        fields = dict(extra)
        for f in spec.fields:
            v = _from_wire(getattr(value, f.key))
            fields[f.name] = f.how.decode(v) if f.how.decode is not None else v
        return spec.model(**fields)
    if type(value) is tuple:
        return tuple(_from_wire(v) for v in value)
    return value


def _findings_to_wire(findings: tuple[Finding, ...]) -> Any:
    return msgspec.convert(findings, tuple[spec_of(Finding).writer, ...], from_attributes=True)  # type: ignore[misc]


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
        head = _pretty(_to_wire(replace(r, findings=())))
        if not r.findings:
            return head
        assert head.endswith(_EMPTY_TAIL)
        parts = [head[: -len(_EMPTY_TAIL)], '"findings": [\n']
        for start in range(0, len(r.findings), _BATCH):
            batch = _findings_to_wire(r.findings[start : start + _BATCH])
            text = msgspec.json.format(ENCODER.encode(batch), indent=2)
            # "[\n  {...},\n  {...}\n]", items at depth 1 -> the items alone, at depth 2 as in the document.
            if start:
                parts.append(",\n")
            parts.append("  " + text[2:-2].replace(b"\n", b"\n  ").decode("utf-8"))
        parts.append("\n  ]\n}\n")
        return "".join(parts)


def dumps_baseline(baseline: Baseline) -> str:
    return _pretty(_to_wire(baseline))


def loads_result(text: str | bytes, *, origin: str) -> RunResult:
    """A ``secscan.json`` document; :class:`InputError` naming ``origin`` and the JSON path."""
    with gc_paused():
        doc = decode(RESULT_DECODER, text, origin=origin, kind="result")
        if not isinstance(doc, RESULT.reader):
            raise InputError(f"{origin}: $.schema: this is a baseline ({BASELINE_SCHEMA!r}), not a secscan result file")
        result: RunResult = _from_wire(doc)
        return result


def loads_baseline(text: str | bytes, *, origin: str) -> Baseline | RunResult:
    """A baseline file, or a ``secscan.json`` (which the caller turns into a baseline)."""
    with gc_paused():
        doc = decode(BASELINE_DECODER, text, origin=origin, kind="baseline")
        if isinstance(doc, RESULT.reader):
            result: RunResult = _from_wire(doc)
            return result
        assert isinstance(doc, BASELINE.reader)
        baseline: Baseline = _from_wire(doc, origin=origin)
        return baseline
