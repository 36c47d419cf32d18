"""One JSON loader for every input a person or a tool hands to secscan.

Reports, result files and baselines come from outside (another CI job, a merge request), so a
bad one must be exit 2 naming the file, never a traceback (issue 32). What this adds to a plain
``json.loads``:

* strict JSON (msgspec): ``NaN``/``Infinity`` and numbers out of range are errors, not floats
  that later crash ``int()``;
* nesting deeper than the decoder's stack allows is an error naming the file, not a
  ``RecursionError`` (exit 70);
* a lone UTF-16 surrogate escape is an error naming its JSON path: no output secscan writes can
  carry one (UTF-8 has no encoding for it). Python tools write one for each byte of a file name
  that is not UTF-8 (``os.fsdecode``'s escapes); such a report is refused, exit 2, rather than
  half-read (a live scan reports such a file as not scanned instead);
* where it went wrong is said as line and column (and the JSON path for surrogates).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from secscan.errors import InputError

_DECODER = msgspec.json.Decoder()
_BYTE = re.compile(r"^(?:JSON is malformed: )?(.*?) \(byte (\d+)\)$")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def json_int(value: Any) -> int | None:
    """A JSON integer, or None: ``true`` and ``false`` are not line numbers (Python's bool is an
    int, so ``isinstance(True, int)`` lets them through to a model that refuses them)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def too_deep(origin: str) -> InputError:
    """The one message for a document nested deeper than a decoder (or a walk over it) can go."""
    return InputError(f"{origin}: JSON nested too deeply (more than about 1000 levels); not a report secscan reads")


@contextmanager
def guarded(origin: str) -> Iterator[None]:
    """Turn what a hostile document can make a decoder raise into :class:`InputError`.

    For typed decoders that live elsewhere (``secscan.schema``): a ``RecursionError`` from
    msgspec or ``json`` leaves the interpreter in a clean state, so it can be reported.
    """
    try:
        yield
    except RecursionError:
        raise too_deep(origin) from None


def loads(data: str | bytes, *, origin: str, error: type[InputError] = InputError) -> Any:
    """Parse one JSON document; ``error`` (an :class:`InputError`) naming ``origin`` on anything
    not JSON (parsers pass :class:`~secscan.errors.ParseError`, their own kind)."""
    try:
        with guarded(origin):
            return _DECODER.decode(data)
    except msgspec.ValidationError as e:  # the only one untyped decoding raises: number out of range
        raise error(f"{origin}: not valid JSON: {e}") from None
    except msgspec.DecodeError as e:
        message = str(e)
        if _SURROGATE_ESCAPE.search(data if isinstance(data, str) else data.decode("latin-1")):
            # msgspec refuses every lone surrogate (and calls a high one "truncated").
            return _with_escaped_bytes(data, origin=origin, error=error)
        raise error(f"{origin}: not valid JSON: {where(message, data)}") from None


def where(message: str, data: str | bytes) -> str:
    """msgspec says where by byte offset; people (and editors) count lines and columns."""
    m = _BYTE.match(message)
    if m is None:
        return "the document ends too early" if "truncated" in message else message
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    before = raw[: int(m.group(2))]
    line = before.count(b"\n") + 1
    column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", errors="replace")) + 1
    return f"{m.group(1)} at line {line} column {column}"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def _with_escaped_bytes(data: str | bytes, *, origin: str, error: type[InputError]) -> Any:
    """The slow path, only for documents with surrogate escapes that msgspec refused: the
    standard library (made as strict as msgspec) says whether the JSON is otherwise valid, then
    the first lone surrogate is found by its JSON path (no recursion: the document may be deep)."""
    try:
        with guarded(origin):
            doc = json.loads(data, parse_constant=_reject_constant, parse_float=_finite)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise error(f"{origin}: not valid JSON: {' '.join(str(e).split())[:200]}") from None
    bad = _first_bad_surrogate(doc)
    if bad is not None:
        path, char = bad
        raise error(f"{origin}: {path}: a lone surrogate \\u{ord(char):04x} is not text (not valid Unicode JSON)")
    return doc


def _first_bad_surrogate(doc: Any) -> tuple[str, str] | None:
    """(JSON path, character) of the first string holding a lone surrogate."""
    stack: list[tuple[str, Any]] = [("$", doc)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{path}.{k}", v) for k, v in value.items())
            stack.extend((f"{path} (a key)", k) for k in value)
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v) for i, v in enumerate(value))
        elif isinstance(value, str):
            char = _bad_surrogate(value)
            if char is not None:
                return path, char
    return None


_SURROGATE = re.compile("[\ud800-\udfff]")


def _bad_surrogate(text: str) -> str | None:
    m = _SURROGATE.search(text)  # pairs were joined by the decoder: what is left is lone
    return m.group() if m else None
