"""The wire format of ``secscan.json`` (``secscan/1``) and the baseline (``secscan-baseline/1``),
generated from the models (:mod:`secscan.models`): one msgspec struct per model class for
writing and one for reading, field for field and in the order the models declare them.

Writing structs leave out a field equal to its default only where the rule or the field's
:class:`~secscan.models.Wire` says so (None, and ``omit_empty`` fields); every other field has
no default there, so it is always written. Reading structs take the models' defaults, plus
``read_default`` for fields every model must set, so a document may leave them out.
gc=False: these trees never hold a cycle, and 100,000 findings are millions of structs the
cyclic collector would otherwise keep re-scanning.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import MISSING
from typing import Annotated, Any

import msgspec

from secscan.models import BASELINE_SCHEMA, NO_DEFAULT, SCHEMA, Baseline, RunResult, Wire

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
_PLAIN = Wire()


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    """One model field and how it goes on the wire."""

    name: str
    key: str
    how: Wire
    model_type: Any
    """The field's type in the model (resolved annotation)."""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    model: type
    fields: tuple[FieldSpec, ...]
    writer: type[msgspec.Struct]
    reader: type[msgspec.Struct]
    direct: bool
    """Neither it nor anything below it transforms a value: msgspec converts it in one call."""


SPECS: dict[type, ModelSpec] = {}
"""Model class -> its spec; the reading struct's class -> the same spec in :data:`BY_READER`."""
BY_READER: dict[type, ModelSpec] = {}


def _models_in(t: Any) -> list[type]:
    if dataclasses.is_dataclass(t) and isinstance(t, type):
        return [t]
    return [m for a in typing.get_args(t) for m in _models_in(a)]


def _wire_type(t: Any, side: str) -> Any:
    """``t`` with every model class replaced by its writing or reading struct."""
    if dataclasses.is_dataclass(t) and isinstance(t, type):
        spec = spec_of(t)
        return spec.writer if side == "writer" else spec.reader
    origin = typing.get_origin(t)
    args = typing.get_args(t)
    if origin is tuple:
        return tuple[tuple(_wire_type(a, side) for a in args)]  # type: ignore[misc]
    if origin in (typing.Union, types.UnionType):
        return typing.Union[tuple(_wire_type(a, side) for a in args)]  # noqa: UP007 - built from parts
    if origin is Mapping or origin is dict:
        return dict[_wire_type(args[0], side), _wire_type(args[1], side)]  # type: ignore[misc]
    return t


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


def _struct_default(value: Any, side: str) -> Any:
    """A default as msgspec takes it (a model instance becomes a factory of its struct)."""
    if isinstance(value, type) and dataclasses.is_dataclass(value):
        value = value()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # Only empty instances are defaults here (Location()): the struct's own empty one.
        wire_cls = _wire_type(type(value), side)
        return msgspec.field(default_factory=wire_cls)
    if isinstance(value, (dict, list)):
        return msgspec.field(default_factory=type(value))
    return value


def _writer_field(key: str, base: Any, how: Wire, default: Any) -> tuple[Any, ...]:
    """Writing: a default only where the field is left out (None, or ``omit_empty``)."""
    w_type = _wire_type(base, "writer")
    if default is MISSING or not (default is None or how.omit_empty):
        return (key, w_type)
    if how.encode is not None and default is not None:
        default = how.encode(default)
    return (key, w_type, _struct_default(default, "writer"))


def _reader_field(key: str, base: Any, how: Wire, default: Any) -> tuple[Any, ...]:
    """Reading: the lenient default, else the model's; required where the format says so."""
    r_type = NonEmpty if how.non_empty else _wire_type(base, "reader")
    if how.ge is not None:  # a bounded number, or None where the field may be None
        bare = next(a for a in (typing.get_args(r_type) or (r_type,)) if a is not type(None))
        bounded: Any = Annotated[bare, msgspec.Meta(ge=how.ge)]  # built from the Wire
        r_type = typing.Optional[bounded] if type(None) in typing.get_args(r_type) else bounded  # noqa: UP045
    if how.read_default is not NO_DEFAULT:
        return (key, r_type, _struct_default(how.read_default, "reader"))
    if default is MISSING or how.read_required:
        return (key, r_type)
    if how.encode is not None and default is not None:
        default = how.encode(default)
    return (key, r_type, _struct_default(default, "reader"))


_TAGS: dict[type, str] = {RunResult: SCHEMA, Baseline: BASELINE_SCHEMA}


def spec_of(model: type) -> ModelSpec:
    """The spec of ``model``, generating its structs (and those of the models it holds) once."""
    known = SPECS.get(model)
    if known is not None:
        return known
    hints = typing.get_type_hints(model)
    field_specs: list[FieldSpec] = []
    writer_fields: list[tuple[Any, ...]] = []
    reader_fields: list[tuple[Any, ...]] = []
    skipped = False
    for f in dataclasses.fields(model):
        how: Wire = f.metadata.get("wire", _PLAIN)
        if how.skip:
            skipped = True
            continue
        spec = FieldSpec(name=f.name, key=how.key or f.name, how=how, model_type=hints[f.name])
        field_specs.append(spec)
        base = how.wire_type if how.wire_type is not None else spec.model_type
        writer_fields.append(_writer_field(spec.key, base, how, _default(f)))
        reader_fields.append(_reader_field(spec.key, base, how, _default(f)))
    options: dict[str, Any] = {"kw_only": True, "frozen": True, "gc": False}
    if model in _TAGS:
        options |= {"tag_field": "schema", "tag": _TAGS[model]}
    writer = msgspec.defstruct(f"{model.__name__}Out", writer_fields, omit_defaults=True, **options)
    reader = msgspec.defstruct(f"{model.__name__}In", reader_fields, **options)
    direct = not skipped and all(_direct(f) for f in field_specs)
    spec_ = ModelSpec(model=model, fields=tuple(field_specs), writer=writer, reader=reader, direct=direct)
    SPECS[model] = spec_
    BY_READER[reader] = spec_
    return spec_


def _direct(f: FieldSpec) -> bool:
    if f.how.encode is not None or f.how.decode is not None or f.key != f.name:
        return False
    return all(spec_of(m).direct for m in _models_in(f.model_type) + _models_in(f.how.wire_type))


class BaselineHead(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="schema", tag=BASELINE_SCHEMA):
    """Recognizes a baseline where a result is expected (without decoding its entries)."""


RESULT = spec_of(RunResult)
BASELINE = spec_of(Baseline)
# A union tagged by "schema": the tag is then required, and a file of the other kind is named as such.
RESULT_DECODER = msgspec.json.Decoder(RESULT.reader | BaselineHead)
BASELINE_DECODER = msgspec.json.Decoder(BASELINE.reader | RESULT.reader)
ENCODER = msgspec.json.Encoder()


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``secscan.json`` as secscan reads it (generated, like the structs)."""
    return msgspec.json.schema(RESULT.reader)
