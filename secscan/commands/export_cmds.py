"""`secscan export`: the history's findings of a project for DefectDojo or a spreadsheet."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from secscan.commands.aggregate_cmds import db_target, parse_now, policy_sla
from secscan.commands.wrapper import Command, handle_command_errors
from secscan.errors import ConfigError, ExitCode
from secscan.settings.options import effective, options


@click.command("export", cls=Command)
@options("export", types={"format": click.Choice(("defectdojo", "csv"))})
@click.pass_context
@handle_command_errors
def export(ctx: click.Context, **_settings: Any) -> int:
    """Write PROJECT's findings (every ref, their state now, triage decisions) as DefectDojo's
    Generic Findings Import JSON (re-imports deduplicate on the fingerprint) or as CSV."""
    from secscan.aggregate import decisions, findings
    from secscan.aggregate import export as export_mod
    from secscan.aggregate.history import History
    from secscan.fsutil import atomic_write

    given = effective(ctx, "export", os.environ)
    project: str = given.get("project")
    out: Path = given.get("out")
    fmt: str = given.get("format")
    now = parse_now(given.get("now"))
    sla_days = policy_sla(None)
    with History(db_target(given.get("db"), must_exist=True)) as h:
        records = findings.project_records(project, h.iter_streams(project=project))
        by_fp: dict[str, list[decisions.Decision]] = {}
        for d in decisions.listing(h, project=project):
            by_fp.setdefault(d.fingerprint, []).append(d)
    if not records:
        raise ConfigError(f"no findings of project {project!r} in the history")
    if fmt == "defectdojo":
        text = export_mod.defectdojo(records, by_fp, today=now.date().isoformat())
    else:
        text = export_mod.to_csv(records, by_fp, sla_days=sla_days)
    atomic_write(out, text)
    click.echo(f"{out}: {len(records)} finding(s) of {project} as {fmt}")
    return ExitCode.PASSED
