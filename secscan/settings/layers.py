"""Effective settings from layers (defaults < settings file < environment < flags), each value
kept with the layer it came from.

The settings file is read here; *which* file layer applies (the tree's, or the merge base's in a
merge request) is :mod:`secscan.inputs`' decision, which hands the table in.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secscan.errors import ConfigError
from secscan.settings.coerce import coerce, is_blank
from secscan.settings.declare import UNSET, Layer, Setting, Sourced
from secscan.settings.tomlfile import load_toml

SETTINGS_FILES: tuple[str, ...] = (".secscan.toml", "pyproject.toml")


@dataclass(frozen=True, kw_only=True)
class Effective:
    """Every setting of a command with its value and layer."""

    values: Mapping[str, Sourced]
    """By key; a table setting (``timeouts``) also has one entry per item (``timeouts.zap``)."""
    warnings: tuple[str, ...] = ()

    def value(self, key: str) -> Any:
        """The value, or :data:`UNSET`."""
        return self.values[key].value

    def get(self, key: str, default: Any = None) -> Any:
        """The value, or ``default`` when unset."""
        value = self.values[key].value
        return default if value is UNSET else value

    def given(self) -> dict[str, Any]:
        """Only what some layer set (defaults and unset left out)."""
        return {k: s.value for k, s in self.values.items() if s.layer is not Layer.DEFAULT and "." not in k}


@dataclass(frozen=True, kw_only=True)
class Raw:
    """One layer before coercion: key -> raw value, and where each came from."""

    layer: Layer
    values: Mapping[str, Any] = field(default_factory=dict)
    where: Mapping[str, str] = field(default_factory=dict)
    """Key -> the variable or option; missing: :attr:`label`."""
    label: str = ""
    """How errors name the layer (``.secscan.toml``, ``environment``, ``command line``)."""
    base: Path | None = None
    """Relative paths in this layer are relative to it (the settings file's folder)."""


def settings_table(data: Mapping[str, Any], path: str) -> dict[str, Any] | None:
    """The secscan table of a parsed settings file, or None when it has none.

    ``.secscan.toml`` holds the keys at the top level, or (pasted from pyproject.toml) under
    ``[tool.secscan]``; ``pyproject.toml`` only under ``[tool.secscan]``.
    """
    table: Any = data
    nested = data.get("tool") if isinstance(data, Mapping) else None
    if Path(path).name == "pyproject.toml" or (isinstance(nested, Mapping) and set(data) == {"tool"}):
        table = nested.get("secscan") if isinstance(nested, Mapping) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.secscan] must be a table")
    return table


def read_file_settings(target: Path) -> tuple[dict[str, Any], str | None]:
    """The raw settings table of ``target`` and its file name (``.secscan.toml`` wins: it is
    the more specific file)."""
    for name in SETTINGS_FILES:
        path = target / name
        if not path.is_file():
            continue
        table = settings_table(load_toml(path, what="settings file"), str(path))
        if table is not None:
            return table, str(path)
    return {}, None


def env_layer(settings: Iterable[Setting], env: Mapping[str, str], *, family: Iterable[str] = ()) -> Raw:
    """The values of the settings' variables (the first non-empty one of each); ``family``: the
    names (scanners) a variable family such as ``SECSCAN_TIMEOUT_<SCANNER>`` expands to."""
    values: dict[str, Any] = {}
    where: dict[str, str] = {}
    names = list(family)
    for s in settings:
        if s.env_family:
            table = {n: env[v] for n in names if not is_blank(env.get(v := family_name(s, n), ""))}
            if table:
                values[s.key] = table
                where.update({f"{s.key}.{n}": family_name(s, n) for n in table})
            continue
        for var in s.env:
            if not is_blank(env.get(var, "")):
                values[s.key], where[s.key] = env[var], var
                break
    return Raw(layer=Layer.ENV, values=values, where=where, label="environment")


def family_name(s: Setting, item: str) -> str:
    return f"{s.env_family}{item.upper().replace('-', '_')}"


def known_variables(settings: Iterable[Setting], *, family: Iterable[str] = ()) -> frozenset[str]:
    names = list(family)
    out: set[str] = set()
    for s in settings:
        out.update(s.env)
        if s.env_family:
            out.update(family_name(s, n) for n in names)
    return frozenset(out)


def unknown_variables(env: Mapping[str, str], known: frozenset[str]) -> tuple[str, ...]:
    """A warning per ``SECSCAN_*`` variable no setting declares: a misspelt variable silently
    doing nothing is how gates get weaker."""
    out = []
    for name in sorted(n for n in env if n.startswith("SECSCAN_") and n not in known):
        hint = difflib.get_close_matches(name, sorted(known), n=1)
        out.append(f"unknown environment variable {name}" + (f" (did you mean {hint[0]}?)" if hint else ""))
    return tuple(out)


def check_keys(raw: Raw, settings: Mapping[str, Setting]) -> None:
    for key in raw.values:
        if key.replace("-", "_") not in settings:
            raise _unknown(key, raw.label, settings)


def _unknown(key: str, where: str, settings: Mapping[str, Setting]) -> ConfigError:
    known = sorted(settings)
    hint = difflib.get_close_matches(key, known, n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else f" (known: {', '.join(known)})"
    return ConfigError(f"{where}: unknown setting {key!r}{suggestion}")


def combine(settings: Mapping[str, Setting], layers: Iterable[Raw]) -> Effective:
    """Defaults, then each layer in order; tables merge item by item."""
    out: dict[str, Sourced] = {k: Sourced(value=s.default) for k, s in settings.items()}
    for raw in layers:
        check_keys(raw, settings)
        for key, value in raw.values.items():
            norm = key.replace("-", "_")
            _apply(out, settings[norm], raw, norm, value)
    return Effective(values=out)


def _apply(out: dict[str, Sourced], s: Setting, raw: Raw, key: str, value: Any) -> None:
    where = raw.where.get(key, raw.label)
    # Errors name a variable by its name, a file's or the command line's value by its key.
    said = where if raw.layer is Layer.ENV and not s.is_table else f"{raw.label}: {key}"
    coerced = coerce(s, value, where=said, base=raw.base)
    if coerced is UNSET:
        return
    if not s.is_table:
        out[key] = Sourced(value=coerced, layer=raw.layer, where=where)
        return
    current = out[key].value or {}
    out[key] = Sourced(value={**current, **coerced}, layer=raw.layer, where=where)
    for item, seconds in coerced.items():
        out[f"{key}.{item}"] = Sourced(value=seconds, layer=raw.layer, where=raw.where.get(f"{key}.{item}", where))
