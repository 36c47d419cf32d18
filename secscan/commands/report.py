"""`secscan report RESULT.json --format F [-o FILE]`: render a result in other formats.

Thin on purpose: options -> formats -> :func:`secscan.reporters.render` -> atomic writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from secscan import outputs, reporters
from secscan.commands.wrapper import Command, handle_command_errors
from secscan.credentials import mask
from secscan.errors import ConfigError
from secscan.resultio import load
from secscan.settings.options import effective, options


@click.command("report", cls=Command)
@click.argument("result_file", metavar="RESULT.json", type=click.Path(path_type=Path, dir_okay=False))
@options(
    "report",
    types={"out_dir": click.Path(path_type=Path, file_okay=False)},
    notes={"formats": f"Formats: {reporters.valid_names()}."},
)
@click.pass_context
@handle_command_errors
def report(ctx: click.Context, *, result_file: Path, **_settings: Any) -> None:
    """Render RESULT.json (a secscan.json) as one or more report formats.

    Exit codes: 0 written, 2 usage error or unreadable result, 70 internal error, 130/143 interrupted.
    """
    given = effective(ctx, "report", os.environ)
    formats: tuple[str, ...] = given.get("formats")
    output: str | None = given.get("output")
    out_dir: Path = given.get("out_dir")
    report_url: str | None = given.get("report_url")
    names = reporters.expand(formats)  # validates before the (possibly large) file is read
    if output is not None and len(names) != 1:
        raise ConfigError(f"-o/--out takes one format, got {len(names)} ({', '.join(names)}); use --out-dir")
    result = load(result_file)
    if output == "-":
        # Masked before rendering (a format cuts texts) and after (its escaping): as files are.
        shown = outputs.masked(result)
        for name in reporters.expand(formats, shown):
            click.echo(mask(reporters.render(name, shown, report_url=report_url)), nl=False)
        return
    for fmt, path in outputs.write_formats(
        result, formats, out_dir=out_dir, output=Path(output) if output is not None else None, report_url=report_url
    ):
        click.echo(f"wrote {path} ({fmt})", err=True)
