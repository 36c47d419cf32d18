"""`secscan compliance check`: the guardrails that check themselves, for a scheduled pipeline.

Exit 0 when every control passes, 1 when one fails (so the schedule alerts the team), 2 when
the history cannot be used.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from typing import Any

import click

from secscan.commands.aggregate_cmds import DB_HELP, db_target, parse_now, policy_sla
from secscan.commands.wrapper import Group, handle_command_errors
from secscan.errors import ExitCode
from secscan.settings.options import effective, options


@click.group(cls=Group)
def compliance() -> None:
    """Compliance guardrails over the history and the audit trail."""


@compliance.command("check")
@click.option("--db", metavar="PATH|URL", help=DB_HELP)
@click.option("--now", help="Check as of this ISO-8601 time [the current time].")
@click.option(
    "--max-scan-age", "max_scan", default=7, show_default=True, type=click.IntRange(1), help="Days a scan may be old."
)
@click.option(
    "--max-dependency-age",
    "max_dep",
    default=7,
    show_default=True,
    type=click.IntRange(1),
    help="Days a clean dependency audit may be old.",
)
@click.option(
    "--audit-retention",
    "retention",
    default=365,
    show_default=True,
    type=click.IntRange(1),
    help="Days the audit trail must reach back (or to the first run in the history).",
)
@click.option(
    "--dependency-scanner",
    "dep_scanners",
    multiple=True,
    default=("pip-audit",),
    show_default=True,
    help="Scanner whose clean run is a dependency audit (repeatable).",
)
@click.option(
    "--audit-log",
    metavar="PATH|URL",
    help="Audit trail to check [$SECSCAN_AUDIT_LOG, else the history database's audit table].",
)
@click.option("--expect-head", help="The audit trail's head hash kept elsewhere: also catches entries cut off the end.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@options("compliance check")
@click.pass_context
@handle_command_errors
def check(
    ctx: click.Context,
    *,
    db: str | None,
    now: str | None,
    max_scan: int,
    max_dep: int,
    retention: int,
    dep_scanners: tuple[str, ...],
    audit_log: str | None,
    expect_head: str | None,
    fmt: str,
    **_settings: Any,
) -> int:
    """List, per project, every control that fails: stale scans or dependency audits, a last run
    with a failed scanner, expired suppressions; and an audit trail that does not verify or keeps
    too little."""
    from secscan.aggregate import compliance_facts
    from secscan.aggregate.guardrails import Thresholds
    from secscan.aggregate.history import History

    when = parse_now(now)
    thresholds = Thresholds(
        max_scan_age_days=max_scan,
        max_dependency_age_days=max_dep,
        audit_retention_days=retention,
        dependency_scanners=tuple(dep_scanners),
    )
    sla_days = policy_sla(effective(ctx, "compliance check", os.environ).get("policy"))
    with History(db_target(db, must_exist=True)) as h:
        report = compliance_facts.check(
            h,
            now=when,
            thresholds=thresholds,
            env=os.environ,
            audit_log=audit_log,
            expected_head=expect_head,
            sla_days=sla_days,
        )
    if fmt == "json":
        click.echo(json.dumps(asdict(report) | {"ok": report.ok}, indent=2, sort_keys=True))
    else:
        for v in report.violations:
            where = f" {v.project}@{v.ref}" if v.project else ""
            click.echo(f"FAIL {v.control} (PCI DSS {v.requirement}){where}: {v.message}")
        for c in report.passed_controls:
            click.echo(f"ok   {c}")
        failing = len({v.control for v in report.violations})
        click.echo(
            f"compliance: {'PASSED' if report.ok else 'FAILED'}: {failing} of {failing + len(report.passed_controls)}"
            f" controls failing, {len(report.violations)} violations, {report.streams_checked} projects/refs checked"
            f" as of {report.now}"
        )
    return ExitCode.PASSED if report.ok else ExitCode.GATE_FAILED
