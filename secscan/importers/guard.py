"""The boundary between a foreign report and the parsers: bad input is exit 2 naming the file.

The parsers are pure functions of the report's text, so whatever they raise on it is about the
input, never about the machine: a report whose ``aliases`` is ``5`` or whose ``hashed_secret``
is ``[]`` must be "this file is malformed" (exit 2), not an internal error (exit 70, issue 32).
Each parser still says what it can (``ParseError`` with the JSON path); this is the net under
them for the shapes they do not check.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from secscan import jsonload
from secscan.errors import InputError

# What Python raises when data has another shape than the code expects (a number where a list
# was, a list used as a key, infinity made an int, a surrogate encoded as UTF-8).
_SHAPE_ERRORS = (TypeError, ValueError, OverflowError, AttributeError, KeyError, IndexError, LookupError)


def check_json(text: str | bytes, *, origin: str) -> None:
    """A JSON report must be strict, finite, shallow JSON before any parser reads it.

    The parsers of the scanner modules use the standard library, which takes ``Infinity``
    and recurses until ``RecursionError``; one strict pass here (msgspec, a fraction of the
    parse) gives every tool the same answer. XML (ZAP) is left to its parser.
    """
    head = text[:64].lstrip()
    if head[:1] in ("{", "[", b"{", b"["):
        jsonload.loads(text, origin=origin)


@contextmanager
def foreign_input(tool: str, *, origin: str) -> Iterator[None]:
    """Map what a parser raises on a malformed report to :class:`InputError` naming ``origin``."""
    try:
        with jsonload.guarded(origin):
            yield
    except _SHAPE_ERRORS as e:
        if isinstance(e, InputError):  # pragma: no cover - InputError is no shape error; kept explicit
            raise
        what = " ".join(str(e).split())[:160]
        raise InputError(
            f"{origin}: not a well-formed {tool} report (a value has an unexpected type or range: "
            f"{type(e).__name__}: {what})"
        ) from e
