"""Read and write ``secscan.json`` (schema ``secscan/1``) through :mod:`secscan.schema`.

``dumps`` is pure (the reporters' ``json`` format uses it); ``loads`` and ``load`` raise an
:class:`~secscan.errors.InputError` naming the file and the JSON path of what is wrong.
"""

from __future__ import annotations

from pathlib import Path

from secscan import jsonload, schema
from secscan.fsutil import read_input_text
from secscan.models import RunResult


def dumps(r: RunResult) -> str:
    """Serialize a run (stable key order, two-space indent, trailing newline)."""
    return schema.dumps_result(r)


def loads(text: str | bytes, *, origin: str = "<input>") -> RunResult:
    """Parse a result document; :class:`InputError` naming ``origin`` on any problem."""
    with jsonload.guarded(origin):  # the one loader's rule: deep nesting is exit 2, not 70
        return schema.loads_result(text, origin=origin)


def load(path: Path) -> RunResult:
    """Read a ``secscan.json`` file."""
    return loads(read_input_text(path), origin=str(path))
