"""`secscan triage`: decisions about findings with an approver (issue 31).

``propose`` records a false positive, an accepted risk or a planned fix; ``approve`` (by someone
else) puts it in force; ``export`` writes the approved suppressing decisions into the trusted
suppressions file, which a merge request carries to review and the gate honours once merged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from secscan.commands.aggregate_cmds import db_target, parse_now
from secscan.commands.wrapper import Group, handle_command_errors
from secscan.errors import ConfigError, ExitCode
from secscan.settings.options import effective, options


@click.group("triage", cls=Group)
def triage() -> None:
    """Triage decisions about findings: proposed by one person, approved by another."""


def _who(given: Any) -> str:
    who: str | None = given.get("by")
    if not who or not who.strip():
        raise ConfigError("who decides? give --by NAME (or set SECSCAN_TRIAGE_USER)")
    return who


@triage.command("propose")
@options("triage propose", types={"decision": click.Choice(("false-positive", "accepted-risk", "fix-planned"))})
@click.pass_context
@handle_command_errors
def propose(ctx: click.Context, **_settings: Any) -> int:
    """Propose a decision about one finding; it takes effect once someone else approves it."""
    from secscan.aggregate import decisions
    from secscan.aggregate.history import History

    given = effective(ctx, "triage propose", os.environ)
    proposal = decisions.Proposal(
        project=given.get("project"),
        fingerprint=given.get("fingerprint"),
        decision=given.get("decision"),
        reason=given.get("reason") or "",
        author=_who(given),
        expires=given.get("expires"),
        owner=given.get("owner"),
        due=given.get("due"),
    )
    now = parse_now(given.get("now"))
    with History(db_target(given.get("db"), must_exist=True)) as h:
        d = decisions.propose(h, proposal, now=now, env=os.environ)
    click.echo(f"triage #{d.id}: {d.decision} of {d.fingerprint} in {d.project} proposed by {d.author}; needs approval")
    return ExitCode.PASSED


@triage.command("approve")
@click.argument("decision_id", type=click.IntRange(min=1), metavar="ID")
@options("triage approve")
@click.pass_context
@handle_command_errors
def approve(ctx: click.Context, *, decision_id: int, **_settings: Any) -> int:
    """Approve decision ID. The approver must be someone other than its author."""
    from secscan.aggregate import decisions
    from secscan.aggregate.history import History

    given = effective(ctx, "triage approve", os.environ)
    who = _who(given)
    now = parse_now(given.get("now"))
    with History(db_target(given.get("db"), must_exist=True)) as h:
        d = decisions.approve(h, decision_id, approver=who, now=now, env=os.environ)
    click.echo(f"triage #{d.id}: {d.decision} of {d.fingerprint} approved by {d.approver} (proposed by {d.author})")
    return ExitCode.PASSED


@triage.command("list")
@options("triage list")
@click.pass_context
@handle_command_errors
def list_(ctx: click.Context, **_settings: Any) -> int:
    """List the decisions and their state (pending, active, expired, overdue)."""
    from secscan.aggregate import decisions
    from secscan.aggregate.history import History

    given = effective(ctx, "triage list", os.environ)
    today = parse_now(given.get("now")).date()
    with History(db_target(given.get("db"), must_exist=True)) as h:
        rows = decisions.listing(h, project=given.get("project"))
    for d in rows:
        extra = f" expires {d.expires}" if d.expires else ""
        extra += f" owner {d.owner} due {d.due}" if d.due else ""
        approver = d.approver or "-"
        click.echo(
            f"#{d.id}\t{d.project}\t{d.fingerprint}\t{d.decision}\t{d.state(today)}\tby {d.author}"
            f"\tapproved by {approver}{extra}\t{d.reason}"
        )
    return ExitCode.PASSED


@triage.command("export")
@options("triage export")
@click.pass_context
@handle_command_errors
def export(ctx: click.Context, **_settings: Any) -> int:
    """Write the project's approved false positives and accepted risks in force into the
    suppressions file (commit it through a merge request: the gate reads it once merged)."""
    from secscan.aggregate import decisions
    from secscan.aggregate.history import History
    from secscan.fsutil import atomic_write

    given = effective(ctx, "triage export", os.environ)
    out: Path = given.get("out")
    today = parse_now(given.get("now")).date()
    try:
        existing: str | None = out.read_text(encoding="utf-8")
    except FileNotFoundError:
        existing = None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {out}: {e}") from None
    with History(db_target(given.get("db"), must_exist=True)) as h:
        rows = decisions.listing(h, project=given.get("project"))
    block = decisions.suppressions_block(rows, today=today)
    text = decisions.export_text(existing, block, origin=str(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, text)
    live = sum(1 for d in rows if d.suppresses(today))
    expired = sum(1 for d in rows if d.decision in decisions.SUPPRESSING and d.state(today) == "expired")
    click.echo(f"{out}: {live} decision(s) in force written; {expired} expired left out (their findings reopen)")
    return ExitCode.PASSED
