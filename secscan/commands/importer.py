"""`secscan import`: existing tool reports -> secscan.json (same normalize/fingerprint/triage as scan)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from secscan.commands.wrapper import Command, handle_command_errors
from secscan.credentials import mask
from secscan.settings.options import effective, flag_layer, options


class _Tool(click.ParamType):
    """A tool name, checked against the scanner registry when the option is parsed (a scanner
    registered later, e.g. a plugin, is accepted without touching this command)."""

    name = "tool"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from secscan.importers import tools

        if value in tools():
            return str(value)
        self.fail(f"{value!r} is not one of {', '.join(tools())}", param, ctx)


@click.command("import", cls=Command)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@options("import", types={"tool": _Tool(), "root": click.Path(path_type=Path, file_okay=False, exists=True)})
@click.pass_context
@handle_command_errors
def import_cmd(ctx: click.Context, *, files: tuple[Path, ...], **_settings: Any) -> int:
    """Turn existing scanner reports (FILES) into one secscan.json.

    Older and newer report versions, empty reports and Windows paths are accepted; a malformed
    file is a clear error naming the file (exit 2).
    """
    import tempfile
    from dataclasses import replace

    from secscan import core, inputs, outputs
    from secscan.importers import import_reports, summary
    from secscan.sourcefiles import SourceTree

    settings = effective(ctx, "import", os.environ)
    tool: str = settings.get("tool")
    out: Path = settings.get("out")
    root: Path = settings.get("root")
    manifest: str | None = settings.get("manifest")
    # What decides the verdict (suppressions, baseline, diff base) goes to the resolver as the
    # operator's flags, read from the environment and the settings file exactly as for `scan`.
    given = flag_layer(ctx, "import").values
    # Inputs first, resolved exactly as `scan` resolves them (settings, policy, suppressions,
    # baseline, test paths from the merge base in a merge request): a bad one is exit 2 before
    # any parsing. The merge-base copies are read before resolve() returns.
    with tempfile.TemporaryDirectory(prefix="secscan-import-") as scratch:
        resolved = inputs.resolve(
            root,
            {k: v for k, v in given.items() if k in ("suppressions", "baseline", "diff_base")},
            env=os.environ,
            scratch=Path(scratch),
        )
    triage_inputs = resolved.triage
    started = core.utc_now()
    tree = SourceTree(root)
    imported = import_reports(tool, files, tree=tree, manifest=manifest)
    statuses = [s for i in imported for s in i.statuses]
    evidence = core.Evidence(
        findings=tuple(f for i in imported for f in i.findings),
        statuses=tuple(statuses),
        target=str(root),
        started_at=started,
        finished_at=core.utc_now(),
        warnings=resolved.warnings + tuple(w for i in imported for w in i.warnings),
        meta=(("imported_from", ", ".join(p.name for p in files)), ("imported_tool", tool)),
    )
    result = core.produce(evidence, tree=tree, inputs=triage_inputs)
    # The summary's counts need the deduped findings, so they join the metadata afterwards.
    counts = summary.count(imported, result.findings)
    result = replace(result, meta=tuple(sorted((*result.meta, *summary.as_meta(counts)))))
    outputs.write_result(result, out)
    click.echo(f"secscan import: {summary.describe(counts)} from {len(files)} {tool} report(s) -> {out}")
    for w in result.warnings:
        click.echo(mask(f"warning: {w}"), err=True)
    for s in statuses:
        if s.error:
            click.echo(mask(f"warning: {s.error}"), err=True)
    return 0
