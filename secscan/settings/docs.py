"""Tables generated from the declarations: the README's settings and publishing tables and
``secscan config show``'s (tests/core/test_core_settings.py keeps the README equal to
:func:`readme_table` and :func:`publish_table`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from secscan.settings import catalog
from secscan.settings.declare import UNSET, Layer, Setting, Sourced
from secscan.settings.options import show_value


def _option(s: Setting) -> str:
    if not s.commands:
        return ""
    off = s.off()
    if off:
        return f"`{s.long}` / `{off}`"
    return " ".join(f"`{n}`" for n in s.names)


def _env(s: Setting) -> str:
    if s.env_family:
        return f"`{s.env_family}<SCANNER>`"
    return " ".join(f"`{v}`" for v in s.env)


def _commands(s: Setting) -> str:
    return ", ".join(sorted(c for c in s.commands if c != "config"))


def readme_table() -> str:
    """Every ``[tool.secscan]`` setting: option, variable, default, verdict, commands, meaning."""
    header = ("setting (`[tool.secscan]` key)", "option", "environment", "default", "decides the verdict")
    rows = ["| " + " | ".join((*header, "commands", "meaning")) + " |", "|---|---|---|---|---|---|---|"]
    for s in catalog.file_settings().values():
        default = "per scanner and mode" if s.is_table else show_value(s.default)
        shown = f"`{default}`" if default and not s.is_table else default
        verdict = "yes" if s.verdict else ""
        rows.append(f"| `{s.key}` | {_option(s)} | {_env(s)} | {shown} | {verdict} | {_commands(s)} | {s.help} |")
    return "\n".join(rows)


def publish_table() -> str:
    """Publishing's settings (``secscan publish``; ``scan --publish`` reads the same variables):
    option, variables, default, meaning. The README's publishing table is this one."""
    settings = {**catalog.by_key(catalog.PUBLISH_SETTINGS), **catalog.for_command("publish")}
    rows = ["| setting | option | environment | default | meaning |", "|---|---|---|---|---|"]
    for s in settings.values():
        option = _option(s) or "(variable only)"
        if "scan" in s.commands:
            option += " (also on `scan`)"
        default = show_value(s.default)
        shown = f"`{default}`" if default else ""
        rows.append(f"| `{s.key}` | {option} | {_env(s)} | {shown} | {s.help_for('publish')} |")
    return "\n".join(rows)


def show_rows(
    settings: Mapping[str, Setting], effective: Mapping[str, Sourced], pending: Mapping[str, Any]
) -> list[tuple[str, str, str, str, str]]:
    """``config show``: setting, value, layer (and where), decides the verdict, pending change."""
    rows = []
    for key, s in settings.items():
        if s.secret:
            continue
        for name, got in _entries(key, s, effective):
            value = _cut(show_value(got.value) or ("(unset)" if got.value is UNSET else ""))
            layer = got.layer.value + (f" ({_where(got)})" if got.where and got.layer is not Layer.DEFAULT else "")
            change = pending.get(name, UNSET)
            rows.append((name, value, layer, "yes" if s.verdict else "", _pending(change)))
    return rows


def _entries(key: str, s: Setting, effective: Mapping[str, Sourced]) -> Iterable[tuple[str, Sourced]]:
    """A table setting is shown item by item (``timeouts.zap``); unset, as one row."""
    items = sorted(k for k in effective if k.startswith(key + "."))
    if s.is_table and items:
        return [(k, effective[k]) for k in items]
    return [(key, effective[key])]


def _where(got: Sourced) -> str:
    return got.where.removesuffix(" (merge base)")  # the layer already says so


def _cut(text: str, limit: int = 400) -> str:
    # Only a runaway value (a long list) is cut: a path or URL is shown whole, so it can be copied.
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pending(change: Any) -> str:
    if change is UNSET:
        return ""
    return _cut(show_value(change)) or "(removed)"


def format_table(rows: Sequence[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in [header, *rows]]
    return "\n".join(lines)
