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

from secscan.commands.aggregate_cmds import db_target, parse_now, policy_sla
from secscan.commands.wrapper import Group, handle_command_errors
from secscan.errors import ExitCode
from secscan.settings.options import effective, options


@click.group(cls=Group)
def compliance() -> None:
    """Compliance guardrails over the history and the audit trail."""


@compliance.command("check")
@options(
    "compliance check",
    types={
        "max_scan": click.IntRange(1),
        "max_dep": click.IntRange(1),
        "retention": click.IntRange(1),
        "fmt": click.Choice(["text", "json"]),
    },
)
@click.pass_context
@handle_command_errors
def check(ctx: click.Context, **_settings: Any) -> int:
    """List, per project, every control that fails: stale scans or dependency audits, a last run
    with a failed scanner, expired suppressions; and an audit trail that does not verify or keeps
    too little."""
    from secscan.aggregate import compliance_facts
    from secscan.aggregate.guardrails import Thresholds
    from secscan.aggregate.history import History

    given = effective(ctx, "compliance check", os.environ)
    when = parse_now(given.get("now"))
    thresholds = Thresholds(
        max_scan_age_days=given.get("max_scan"),
        max_dependency_age_days=given.get("max_dep"),
        audit_retention_days=given.get("retention"),
        dependency_scanners=tuple(given.get("dep_scanners")),
    )
    sla_days = policy_sla(given.get("policy"))
    with History(db_target(given.get("db"), must_exist=True)) as h:
        report = compliance_facts.check(
            h,
            now=when,
            thresholds=thresholds,
            env=os.environ,
            audit_log=given.get("audit_log"),
            expected_head=given.get("expect_head"),
            sla_days=sla_days,
        )
    if given.get("fmt") == "json":
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
