"""`secscan hook install` and `secscan hook run` (what the installed pre-push hook executes)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from secscan.commands.wrapper import Group, handle_command_errors
from secscan.settings.options import effective, options


@click.group("hook", cls=Group)
def hook() -> None:
    """The git pre-push hook: the merge request's diff-aware scan, run before pushing."""


@hook.command("install")
@options("hook install", types={"repo": click.Path(file_okay=False, path_type=Path)})
@click.pass_context
@handle_command_errors
def install_cmd(ctx: click.Context, **_settings: Any) -> int:
    """Write .git/hooks/pre-push: on `git push`, scan what changed since the merge-base with the
    upstream branch, with the policy CI uses, and block the push when the gate fails."""
    from secscan import hook as hook_mod

    given = effective(ctx, "hook install", os.environ)
    repo: Path = given.get("repo")
    base: str | None = given.get("base")
    scan_args: tuple[str, ...] = given.get("scan_args") or ()
    run_args: list[str] = []
    if base:
        run_args += ["--base", base]
    run_args += [f"--scan-arg={a}" for a in scan_args]
    outcome = hook_mod.install(repo, force=bool(given.get("force")), run_args=run_args)
    if outcome.replaced == "foreign":
        click.echo(f"secscan: moved the existing hook to {outcome.backup}")
    verb = "updated" if outcome.replaced == "secscan" else "installed"
    click.echo(f"secscan: pre-push hook {verb}: {outcome.path}")
    return 0


@hook.command("run")
@click.argument("remote", required=False, default="")
@click.argument("url", required=False, default="")
@options("hook run", types={"repo": click.Path(file_okay=False, path_type=Path)})
@click.pass_context
@handle_command_errors
def run_cmd(ctx: click.Context, *, remote: str, url: str, **_settings: Any) -> int:
    """What the pre-push hook runs: reads git's pre-push lines on stdin (REMOTE and URL are the
    hook's arguments), scans each pushed commit and exits with the verdict (0 lets the push go).

    Typed by hand or run by a script (no pre-push lines on stdin), it checks a push of the
    current branch to REMOTE [origin]; from git (REMOTE and URL given) an empty stdin means
    nothing is pushed, and it says so.
    """
    from secscan import hook as hook_mod

    given = effective(ctx, "hook run", os.environ)
    repo: Path = given.get("repo")
    base: str | None = given.get("base")
    scan_args: tuple[str, ...] = given.get("scan_args") or ()
    if os.environ.get(hook_mod.SKIP_VARIABLE, "0") not in ("", "0"):
        click.echo(f"secscan: pre-push scan skipped ({hook_mod.SKIP_VARIABLE} is set)", err=True)
        return 0
    remote = remote or os.environ.get("PRE_COMMIT_REMOTE_NAME", "") or "origin"
    updates = hook_mod.updates_from_env(os.environ)
    if not updates:
        text = "" if sys.stdin is None or sys.stdin.isatty() else sys.stdin.read()
        updates = hook_mod.parse_push_lines(text)
        if not updates and not text.strip():
            if url:
                # git runs the hook with an empty stdin when nothing is pushed ("Everything up-to-date").
                click.echo(f"secscan: nothing is pushed to {remote} (git gave no refs): no scan", err=True)
                return 0
            # No refs from git and no terminal (a script, CI): "nothing to check" would let
            # anything through, so the push of the current branch is checked, as typed by hand.
            click.echo(
                f"secscan: no pre-push lines on stdin: checking a push of the current branch to {remote}", err=True
            )
            updates = (hook_mod.head_update(repo),)
    return hook_mod.run(repo, updates, remote=remote, base=base or None, scan_args=scan_args)
