"""`secscan report RESULT.json --format F [-o FILE]`: render a result in other formats.

Thin on purpose: options -> formats -> :func:`secscan.reporters.render` -> atomic writes.
"""

from __future__ import annotations

from pathlib import Path

import click

from secscan import outputs, reporters
from secscan.credentials import mask
from secscan.errors import ConfigError
from secscan.resultio import load


@click.command("report")
@click.argument("result_file", metavar="RESULT.json", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-f",
    "--format",
    "formats",
    multiple=True,
    required=True,
    metavar="FORMAT",
    help=f"Report format (repeatable, or comma-separated): {reporters.valid_names()}.",
)
@click.option(
    "-o",
    "--out",
    "output",
    type=str,
    default=None,
    metavar="FILE",
    help="Output file for a single format ('-' prints to stdout). Default: the format's file name in --out-dir.",
)
# The old spelling, kept working but no longer shown: every command writes with -o/--out.
@click.option("--output", "output_alias", type=str, default=None, hidden=True)
@click.option(
    "--out-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Directory for the reports when -o is not given.",
)
@click.option(
    "--report-url", default=None, help="URL of the full report, linked from the Markdown summary when it is cut."
)
def report(
    *,
    result_file: Path,
    formats: tuple[str, ...],
    output: str | None,
    output_alias: str | None,
    out_dir: Path,
    report_url: str | None,
) -> None:
    """Render RESULT.json (a secscan.json) as one or more report formats.

    Exit codes: 0 written, 2 usage error or unreadable result, 70 internal error, 130/143 interrupted.
    """
    output = output if output is not None else output_alias
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
