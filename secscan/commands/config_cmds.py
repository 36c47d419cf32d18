"""`secscan config show [PATH]`: each setting a scan of PATH would use, its value and the layer
it came from (default, settings file in the tree or at the merge base, environment, flag), and
the merge request's pending changes to the settings file."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import click

from secscan.commands.wrapper import Group, handle_command_errors
from secscan.errors import ConfigError
from secscan.settings.options import flag_layer, options


@click.group("config", cls=Group)
def config() -> None:
    """Show the effective settings and where each came from."""


@config.command("show")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@options("config")
@click.pass_context
@handle_command_errors
def show(ctx: click.Context, *, path: Path, **_settings: Any) -> int:
    """Show the settings a `secscan scan PATH` with these options would use: value, layer
    (default, file, file at merge base, env, flag), whether it decides the verdict, and the
    merge request's pending change (it applies once merged).

    Resolved the way `scan` resolves them (with a diff base, from the merge base), so a bad
    setting is the same exit 2 here.
    """
    from secscan import config as config_mod
    from secscan import inputs
    from secscan.credentials import mask
    from secscan.settings.docs import format_table, show_rows

    flags = dict(flag_layer(ctx, "config").values)
    other = flags.pop("for_command", None)
    if other is not None and other != "scan":
        return _show_command(other)
    with tempfile.TemporaryDirectory(prefix="secscan-config-") as scratch:
        resolved = inputs.resolve(path, flags, env=os.environ, scratch=Path(scratch))
    rows = show_rows(config_mod.SPECS, resolved.settings.values, resolved.pending)
    header = ("setting", "value", "layer", "decides the verdict", "pending (merge request)")
    # Values come from the tree and the environment: masked like every other output.
    click.echo(mask(format_table(rows, header)))
    for w in resolved.warnings:
        click.echo(mask(f"warning: {w}"), err=True)
    return 0


def _show_command(command: str) -> int:
    """The settings of another command: default < environment (flags are typed to it, not here)."""
    from secscan.credentials import mask
    from secscan.settings import catalog, combine, env_layer
    from secscan.settings.docs import format_table, show_rows

    declared = catalog.for_command(command)
    if not declared:
        known = sorted({c for s in catalog.ALL for c in s.commands} - {"config"})
        raise ConfigError(f"--for {command!r}: no such command with settings (known: {', '.join(known)})")
    given = combine(declared, [env_layer(declared.values(), os.environ)])
    rows = [r[:3] for r in show_rows(declared, given.values, {})]
    click.echo(mask(format_table(rows, ("setting", "value", "layer"))))
    return 0
