"""One coercer for every setting and every layer: msgspec converts (``strict=False`` reads
``"3"`` as 3 and ``"true"`` as True); what msgspec does not know is said here, once.

``""`` (or blanks) means *unset* for every type, from a file, the environment or a flag: an
empty CI/CD variable is how GitLab users leave a setting alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from secscan.errors import ConfigError
from secscan.settings.declare import UNSET, Setting, _bare

# msgspec reads true/false/1/0 (any case); these spellings were accepted before and stay so.
_BOOL_WORDS = {"yes": "true", "on": "true", "no": "false", "off": "false"}

_EXPECTED = {bool: "true or false", int: "an integer", float: "a number", str: "a string", Path: "a path string"}


def is_blank(raw: Any) -> bool:
    return isinstance(raw, str) and not raw.strip()


def coerce(setting: Setting, raw: Any, *, where: str, base: Path | None = None) -> Any:
    """``raw`` (a TOML value, a variable's text, an option's value) as the setting's type, or
    :data:`UNSET` for ``""``; :class:`ConfigError` (exit 2) naming ``where`` otherwise."""
    if raw is None or raw is UNSET or is_blank(raw):
        return UNSET
    if isinstance(raw, Path):
        raw = str(raw)  # a click.Path option's value
    if setting.is_table:
        return _table(raw, where)
    if setting.is_list:
        raw = _split(raw, where, commas=not setting.verbatim)
    elif isinstance(raw, str):
        raw = raw.strip()
        if setting.is_bool:
            raw = _BOOL_WORDS.get(raw.lower(), raw)
    target = str if setting.is_path else setting.type
    try:
        value = msgspec.convert(raw, target, strict=False)
    except msgspec.ValidationError as e:
        raise ConfigError(f"{where}: {_explain(setting, raw, e)}") from None
    if setting.is_path:
        path = Path(value)
        return path if path.is_absolute() or base is None else base / path
    return value


def _split(raw: Any, where: str, *, commas: bool) -> list[str]:
    """A list from a TOML array, a comma-separated string or repeated options (each of which may
    itself be comma-separated, unless ``commas`` is off)."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
        raise ConfigError(f"{where}: expected a list of strings")
    if not commas:
        return [item for item in items if item.strip()]
    return [v.strip() for item in items for v in item.split(",") if v.strip()]


def _explain(setting: Setting, raw: Any, e: msgspec.ValidationError) -> str:
    text = str(e)
    bare = _bare(setting.type)
    what = _EXPECTED.get(bare, "a list of strings" if setting.is_list else "a value")
    if text.startswith("Expected `") and "` " in text:
        # A constraint (``Expected `int` >= 1``): keep msgspec's bound, in words.
        bound = text.split("` ", 1)[1].split(" - at ", maxsplit=1)[0]
        return f"expected {what} {bound}, got {raw!r}"
    return f"expected {what}, got {raw!r}"


def _table(raw: Any, where: str) -> dict[str, float]:
    """Per-scanner seconds from ``{"semgrep": 600}`` (a file, the environment) or
    ``["semgrep=600", ...]`` (repeated options). Which names are scanners is the caller's check."""
    if isinstance(raw, (list, tuple)):
        pairs: dict[str, Any] = {}
        for item in raw:
            name, sep, value = str(item).partition("=")
            if not sep:
                raise ConfigError(f"{where}: {item!r}: expected SCANNER=SECONDS, e.g. semgrep=600")
            pairs[name.strip()] = value.strip()
        raw = pairs
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a table of scanner = seconds")
    return {str(k): _seconds(v, f"{where}.{k}") for k, v in raw.items() if not is_blank(v)}


def _seconds(value: Any, where: str) -> float:
    try:
        seconds = msgspec.convert(value.strip() if isinstance(value, str) else value, float, strict=False)
    except msgspec.ValidationError:
        raise ConfigError(f"{where}: expected seconds, got {value!r}") from None
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected seconds, got {value!r}")
    if not math.isfinite(seconds):
        raise ConfigError(f"{where}: expected a finite number of seconds, got {value!r}")
    if seconds <= 0:
        raise ConfigError(f"{where}: must be positive")
    return float(seconds)
