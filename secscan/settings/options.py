"""Click options generated from the declarations, and the flag layer read back with click's
``ParameterSource`` (as Black does): an option the user did not type never masks a file or an
environment value, whatever its default."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click
from click.core import ParameterSource

from secscan.settings import catalog
from secscan.settings.declare import UNSET, Layer, Setting, _bare
from secscan.settings.layers import Effective, Raw, combine, env_layer

_ALIAS = "__alias"
"""Suffix of the hidden option carrying an old spelling (``--output``, ``--fail-open``)."""

F = Callable[..., Any]


def options(
    command: str, *, types: Mapping[str, click.ParamType] | None = None, notes: Mapping[str, str] | None = None
) -> Callable[[F], F]:
    """Decorate ``command`` with one option per setting it offers; ``types``: click types that
    check a value while parsing, ``notes``: help added to the declaration's (both for what the
    declarations cannot import: a registry of tools or formats)."""

    def decorate(f: F) -> F:
        for s in reversed(list(catalog.for_command(command).values())):
            f = _option(s, command, (types or {}).get(s.key), (notes or {}).get(s.key, ""))(f)
            for alias in (*s.aliases, *s.off_aliases):
                kind: dict[str, Any] = {"is_flag": True} if s.off_aliases else {}
                f = click.option(alias, s.key + _ALIAS, default=None, hidden=True, **kind)(f)
        return f

    return decorate


def _option(s: Setting, command: str, type_: click.ParamType | None, note: str) -> Callable[[F], F]:
    text = describe(s, command, note)
    if s.is_bool:
        off = s.off()
        decls = [f"{s.long}/{off}" if off else s.long, *(n for n in s.names if n != s.long)]
        flag: dict[str, Any] = {"is_flag": True} if off is None else {}  # "--on/--off" says it
        return click.option(*decls, s.key, default=None, required=s.required, help=text, hidden=s.hidden, **flag)
    kind: Any = type_ or _click_type(s)
    return click.option(
        *s.names,
        s.key,
        type=kind,
        multiple=s.repeatable,
        default=None,
        required=s.required,
        metavar=s.metavar,
        help=text,
        hidden=s.hidden,
    )


def _click_type(s: Setting) -> click.ParamType:
    """Numbers are parsed by click (its usage error names the option); the rest is text that
    the one coercer reads, for every layer alike."""

    bare = _bare(s.type)
    if bare is int:
        return click.INT
    if bare is float:
        return click.FLOAT
    return click.STRING


def describe(s: Setting, command: str, note: str = "") -> str:
    """The help text: the declaration's, its default and its variable."""
    text = s.help_for(command) + (f" {note}" if note else "")
    default = show_value(s.default)
    if default and not s.is_table:
        text += f" [default: {default}]"
    if s.env_family:
        text += f" (env {s.env_family}<SCANNER>)"
    elif s.env:
        text += f" (env {', '.join(s.env)})"
    return text


def show_value(value: Any) -> str:
    if value is UNSET or value is None or value in ((), "", {}):
        return ""
    if isinstance(value, (tuple, list)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v:g}" for k, v in sorted(value.items()))
    return str(value)


def flag_layer(ctx: click.Context, command: str) -> Raw:
    """What the user typed on the command line, raw (coerced with the other layers)."""
    values: dict[str, Any] = {}
    where: dict[str, str] = {}
    for key, s in catalog.for_command(command).items():
        value = _typed(ctx, key)
        if value is None and _typed(ctx, key + _ALIAS) is not None:
            value = False if s.off_aliases else ctx.params[key + _ALIAS]
        if value is None:
            continue
        values[key] = " ".join(value) if s.joined else (list(value) if isinstance(value, tuple) else value)
        where[key] = s.long
    return Raw(layer=Layer.FLAG, values=values, where=where, label="command line")


def _typed(ctx: click.Context, name: str) -> Any:
    if name not in ctx.params or ctx.get_parameter_source(name) is not ParameterSource.COMMANDLINE:
        return None
    return ctx.params[name]


def effective(ctx: click.Context, command: str, env: Mapping[str, str]) -> Effective:
    """A command's settings: defaults < environment < flags, each with its layer."""
    declared = catalog.for_command(command)
    return combine(declared, [env_layer(declared.values(), env), flag_layer(ctx, command)])
