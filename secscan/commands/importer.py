"""`secscan import`: existing tool reports -> secscan.json (same normalize/fingerprint/triage as scan)."""

from __future__ import annotations

from pathlib import Path

import click

from secscan.credentials import mask


class _Tool(click.ParamType):
    """A tool name, checked against the scanner registry when the option is parsed (a scanner
    registered later, e.g. a plugin, is accepted without touching this command)."""

    name = "tool"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from secscan.importers import tools

        if value in tools():
            return str(value)
        self.fail(f"{value!r} is not one of {', '.join(tools())}", param, ctx)


@click.command("import")
@click.option(
    "--tool",
    "tool",
    required=True,
    type=_Tool(),
    help="Which tool wrote the reports: a scanner (bandit, semgrep, pip-audit, zap, ...) or sarif (any SARIF 2.1.0).",
)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("secscan.json"),
    show_default=True,
)
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    default=Path("."),
    show_default=True,
    help="The scanned source tree (snippets, fingerprints, inline suppressions).",
)
@click.option("--manifest", help="pip-audit: the requirements file the report audited (its findings' location).")
@click.option("--suppressions", type=click.Path(path_type=Path, dir_okay=False), help="Suppressions file.")
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False), help="Baseline: mark new vs existing.")
@click.option(
    "--diff-base",
    help="Git ref: only findings on lines changed since REF are new; settings, policy, suppressions and "
    "baseline are read as they are at REF [CI_MERGE_REQUEST_DIFF_BASE_SHA].",
)
def import_cmd(
    *,
    tool: str,
    files: tuple[Path, ...],
    out: Path,
    root: Path,
    manifest: str | None,
    suppressions: Path | None,
    baseline: Path | None,
    diff_base: str | None,
) -> int:
    """Turn existing scanner reports (FILES) into one secscan.json.

    Older and newer report versions, empty reports and Windows paths are accepted; a malformed
    file is a clear error naming the file (exit 2).
    """
    import os
    import tempfile
    from dataclasses import replace

    from secscan import core, inputs, outputs
    from secscan.importers import import_reports, summary
    from secscan.sourcefiles import SourceTree

    given = {"suppressions": suppressions, "baseline": baseline, "diff_base": diff_base}
    # Inputs first, resolved exactly as `scan` resolves them (settings, policy, suppressions,
    # baseline, test paths from the merge base in a merge request): a bad one is exit 2 before
    # any parsing. The merge-base copies are read before resolve() returns.
    with tempfile.TemporaryDirectory(prefix="secscan-import-") as scratch:
        resolved = inputs.resolve(
            root, {k: v for k, v in given.items() if v is not None}, env=os.environ, scratch=Path(scratch)
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
