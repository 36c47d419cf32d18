"""The models are the wire format (issue core-3): a field added to a model is written, read back
and in the JSON Schema with no other edit.

The documents here are built from the models' own declarations (every field of every model a
result or a baseline holds, each set to a value other than its default), so a new field is
covered the moment it is declared; a field the schema layer dropped, renamed or could not read
back fails the round trip or the key check.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest

from secscan import resultio
from secscan.models import Baseline, RunResult, Wire
from secscan.schema import documents, dumps_baseline, loads_baseline

GOLDEN = Path(__file__).parents[1] / "data" / "reporters" / "golden" / "secscan.json"


def _sample(t: Any, label: str) -> Any:
    """A value of type ``t`` that is nobody's default (strings name the field they fill)."""
    if dataclasses.is_dataclass(t) and isinstance(t, type):
        return _full(t)
    origin, args = typing.get_origin(t), typing.get_args(t)
    if origin in (typing.Union, types.UnionType):
        return _sample(next(a for a in args if a is not type(None)), label)
    if origin is tuple and args[-1] is Ellipsis:
        return (_sample(args[0], label),)
    if origin is tuple:
        return tuple(_sample(a, label) for a in args)
    if origin is Mapping or origin is dict:
        return {f"{label}-key": f"{label}-value"}
    if isinstance(t, type) and issubclass(t, Enum):
        return list(t)[-1]
    scalars: dict[Any, Any] = {bool: True, int: 7, float: 1.5}  # bool first: it is an int too
    return scalars.get(t, label)


def _full(model: type) -> Any:
    hints = typing.get_type_hints(model)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(model):
        how: Wire | None = f.metadata.get("wire")
        if how is not None and how.skip:
            if f.default is dataclasses.MISSING:
                values[f.name] = f"{model.__name__}.{f.name}"
            continue
        values[f.name] = _sample(hints[f.name], f"{model.__name__}.{f.name}")
    if model is RunResult:
        values["meta"] = (("a", "1"), ("b", "2"))  # a sorted table on both sides
    return model(**values)


def _assert_every_key(value: Any, doc: Any, where: str) -> None:
    """Every field of ``value`` (a model) is in ``doc`` (its JSON), all the way down."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        assert isinstance(doc, dict), where
        for f in dataclasses.fields(value):
            how: Wire | None = f.metadata.get("wire")
            if how is not None and how.skip:
                continue
            key = how.key if how is not None and how.key else f.name
            assert key in doc, f"{where}.{key} was not written"
            if how is None or how.encode is None:
                _assert_every_key(getattr(value, f.name), doc[key], f"{where}.{key}")
    elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
        for i, (v, d) in enumerate(zip(value, doc, strict=True)):
            _assert_every_key(v, d, f"{where}[{i}]")


def test_every_field_of_a_result_is_written_and_read_back() -> None:
    full = _full(RunResult)
    text = resultio.dumps(full)
    _assert_every_key(full, json.loads(text), "$")
    assert resultio.loads(text) == full
    assert text.startswith('{\n  "schema": "secscan/1",\n  "tool": {')  # the tag first, then in model order


def test_every_field_of_a_baseline_is_written_and_read_back() -> None:
    full = _full(Baseline)
    text = dumps_baseline(full)
    _assert_every_key(full, json.loads(text), "$")
    assert loads_baseline(text, origin=full.origin) == full


def test_defaults_are_left_out_only_where_the_models_say() -> None:
    """None and the ``omit_empty`` fields are absent when empty; every other field is written."""
    result = RunResult(tool_version="1", target=".", started_at="s", finished_at="f")
    doc = json.loads(resultio.dumps(result))
    omitted = {
        f.name
        for f in dataclasses.fields(RunResult)
        if (w := f.metadata.get("wire")) is not None and (w.omit_empty or w.skip)
    }
    nones = {f.name for f in dataclasses.fields(RunResult) if f.default is None}
    assert set(doc) == {"schema", "tool"} | {f.name for f in dataclasses.fields(RunResult)} - omitted - nones - {
        "tool_version"
    }
    assert resultio.loads(resultio.dumps(result)) == result


def test_the_json_schema_is_generated_from_the_models_and_holds_for_what_secscan_writes() -> None:
    schema = documents.json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(json.loads(resultio.dumps(_full(RunResult))))
    validator.validate(json.loads(GOLDEN.read_text(encoding="utf-8")))
    # each model's definition lists exactly its fields' wire keys
    in_result = {name for name in schema["$defs"]} | {documents.RESULT.reader.__name__}
    assert {s.reader.__name__ for s in documents.SPECS.values()} - in_result == {"BaselineIn", "BaselineEntryIn"}
    for model, spec in documents.SPECS.items():
        if spec.reader.__name__ not in schema["$defs"]:
            continue
        definition = schema["$defs"][spec.reader.__name__]
        assert set(definition["properties"]) - {"schema"} == {f.key for f in spec.fields}, model.__name__
    wrong = json.loads(GOLDEN.read_text(encoding="utf-8"))
    wrong["findings"][0]["severity"] = "urgent"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(wrong)


def test_a_document_with_only_its_tag_reads_as_an_empty_run() -> None:
    empty = RunResult(tool_version="", target="", started_at="", finished_at="")
    assert resultio.loads('{"schema": "secscan/1"}') == empty
    with pytest.raises(Exception, match=r"\$.advisories.age_days: expected"):
        resultio.loads('{"schema": "secscan/1", "advisories": {"snapshot": "s", "age_days": -1}}')
