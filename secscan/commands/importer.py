"""`secscan import`: existing tool reports -> secscan.json (same normalize/fingerprint/triage as scan)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from secscan import __version__


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@click.command("import")
@click.option(
    "--tool",
    "tool",
    required=True,
    type=click.Choice(["bandit", "semgrep", "pip-audit", "zap", "sarif"]),
    help="Which tool wrote the reports (sarif: any SARIF 2.1.0 file).",
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
@click.option("--diff-base", help="Git ref: only findings on lines changed since REF are new.")
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
    from secscan import compliance, fingerprint, resultio, triage
    from secscan.fsutil import atomic_write
    from secscan.importers import import_files, summary
    from secscan.models import RunResult
    from secscan.sourcefiles import SourceTree

    started = _now()
    tree = SourceTree(root)
    imported = import_files(tool, files, tree=tree, manifest=manifest)
    findings = fingerprint.assign(compliance.annotate([f for i in imported for f in i.findings]), tree=tree)
    statuses = [s for i in imported for s in i.statuses]
    import_warnings = tuple(w for i in imported for w in i.warnings)
    scanners_run = tuple(sorted({f.scanner for f in findings} | {s.name for s in statuses} | {tool}))
    outcome = triage.apply(
        findings,
        triage.TriageContext(
            tree=tree,
            today=datetime.now(UTC).date(),
            suppressions=suppressions,
            baseline=baseline,
            diff_base=diff_base,
            scanners_run=scanners_run,
        ),
    )
    counts = summary.count(imported, outcome.findings)
    result = RunResult(
        tool_version=__version__,
        target=str(root),
        started_at=started,
        finished_at=_now(),
        scanners=tuple(statuses),
        findings=outcome.findings,
        baseline=str(baseline) if baseline else None,
        diff_base=diff_base,
        warnings=import_warnings + outcome.warnings,
        meta=(
            *summary.as_meta(counts),
            ("imported_from", ", ".join(p.name for p in files)),
            ("imported_tool", tool),
        ),
    )
    atomic_write(out, resultio.dumps(result))
    click.echo(f"secscan import: {summary.describe(counts)} from {len(files)} {tool} report(s) -> {out}")
    for w in (*import_warnings, *outcome.warnings):
        click.echo(f"warning: {w}", err=True)
    for s in statuses:
        if s.error:
            click.echo(f"warning: {s.error}", err=True)
    return 0
