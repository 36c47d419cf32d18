"""`secscan merge`, `secscan gate` and `secscan baseline create`: the split-pipeline commands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from secscan.commands.wrapper import Command, Group, handle_command_errors
from secscan.settings.options import effective, options

_RESULT = click.Path(path_type=Path, dir_okay=False)


@click.command("merge", cls=Command)
@click.argument("results", nargs=-1, required=True, type=_RESULT)
@options("merge")
@click.pass_context
@handle_command_errors
def merge(ctx: click.Context, *, results: tuple[Path, ...], **_settings: Any) -> int:
    """Merge several secscan.json files (one per CI job) into one.

    Findings about the same problem are merged again across the files; the order of the files
    does not matter. The verdict is left to `secscan gate`.
    """
    from secscan import outputs, resultio
    from secscan.triage.merge import merge_results

    out: Path = effective(ctx, "merge", os.environ).get("out")
    loaded = [resultio.load(p) for p in results]
    # Results resolved from different settings (policy, suppressions, baseline...) are refused.
    merged = merge_results(loaded, names=[str(p) for p in results])
    outputs.write_result(merged, out)
    click.echo(f"secscan merge: {len(merged.findings)} finding(s) from {len(results)} result file(s) -> {out}")
    return 0


@click.command("gate", cls=Command)
@click.argument("result", type=_RESULT)
@options("gate")
@click.pass_context
@handle_command_errors
def gate(ctx: click.Context, *, result: Path, **_settings: Any) -> int:
    """Apply the policy to a secscan.json and exit with the verdict's code.

    The policy is the one the result was resolved with (recorded in it: the project's setting,
    read at the merge base), unless --policy or a non-empty SECSCAN_POLICY overrides it.
    0 passed, 1 findings blocked, 2 bad input or policy, 3 a scanner failed (fail closed).
    """
    from dataclasses import replace

    from secscan import console, core, inputs, outputs, resultio
    from secscan import policy as policy_mod

    given = effective(ctx, "gate", os.environ)
    out: Path | None = given.get("out")
    fail_closed: bool | None = given.get("fail_closed")
    # The operator's policy first: a bad policy file is exit 2 before the (possibly large) result is read.
    operator = inputs.operator_policy(given.get("policy"))
    loaded = resultio.load(result)
    chosen = inputs.gate_policy(loaded, operator=operator, fail_closed=fail_closed)
    gated = core.gate(loaded, chosen.policy)
    if gated.judged_with is not None:
        # The gated result records the policy that decided its verdict.
        gated = replace(gated, judged_with=replace(gated.judged_with, policy=chosen.recorded))
    if out is not None:
        outputs.write_result(gated, out)
    # Every verdict is on the audit trail, whichever command reached it (split pipelines gate here).
    outputs.record_verdict(gated, out_dir=(out or result).parent)
    assert gated.verdict is not None
    shown = outputs.masked(gated)
    # The same finding details as `secscan scan` prints: a split pipeline's gate job is where
    # the developer reads why the merge request is blocked.
    console.details(shown, verbose=bool(given.get("verbose")), result_file=console.result_option(result), verdict=False)
    click.echo(policy_mod.format_verdict(shown.verdict or gated.verdict, policy_from=chosen.origin))
    return gated.verdict.exit_code


@click.group("baseline", cls=Group)
def baseline() -> None:
    """Create a baseline of accepted findings (use it with --baseline FILE)."""


@baseline.command("create")
@click.argument("result", type=_RESULT)
@options("baseline create", types={"out": _RESULT})
@click.pass_context
@handle_command_errors
def create(ctx: click.Context, *, result: Path, **_settings: Any) -> int:
    """Write a baseline from RESULT (a secscan.json): every finding in it becomes accepted."""
    from secscan import resultio
    from secscan.fsutil import atomic_write
    from secscan.triage import baseline as baseline_mod

    out: Path = effective(ctx, "baseline create", os.environ).get("out")
    made = baseline_mod.from_result(resultio.load(result), origin=str(result))
    atomic_write(out, baseline_mod.dumps(made))
    click.echo(f"secscan baseline: {len(made.entries)} finding(s) -> {out}")
    return 0
