"""msgspec's errors as one line for a person: the file, the JSON path and what was expected."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from secscan.errors import InputError
from secscan.models import BASELINE_SCHEMA, SCHEMA


def decode(decoder: msgspec.json.Decoder[Any], text: str | bytes, *, origin: str, kind: str) -> Any:
    """``decoder.decode(text)``; :class:`InputError` naming ``origin`` and the JSON path on any problem."""
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
