"""The `secscan` command line: a thin click layer.

Commands live in ``secscan/commands/<module>.py`` and are imported only when invoked, so
``secscan --version`` and ``--help`` never pay for semgrep, docker, gitlab or jinja2 imports.
Every ``SecscanError`` becomes one clear line on stderr and its exit code; an unexpected
exception becomes one line too (the traceback only with ``--debug``). Whatever is printed goes
through streams that mask the operator's credentials (:mod:`secscan.credentials`): error texts
quote scanners, files and GitLab's answers, none of which secscan controls.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from secscan import __version__

# name -> "module:attribute". One entry per command; each area owns its module.
COMMANDS: dict[str, str] = {
    "scan": "secscan.commands.scan:scan",
    "import": "secscan.commands.importer:import_cmd",
    "merge": "secscan.commands.triage_cmds:merge",
    "gate": "secscan.commands.triage_cmds:gate",
    "baseline": "secscan.commands.triage_cmds:baseline",
    "report": "secscan.commands.report:report",
    "publish": "secscan.commands.publish:publish",
    "advisories": "secscan.commands.advisories:advisories",
    "hook": "secscan.commands.hook:hook",
    "history": "secscan.commands.aggregate_cmds:history",
    "aggregate": "secscan.commands.aggregate_cmds:aggregate",
    "dashboard": "secscan.commands.aggregate_cmds:dashboard",
    "audit": "secscan.commands.aggregate_cmds:audit",
    "verify-report": "secscan.commands.aggregate_cmds:verify_report",
    "compliance": "secscan.commands.compliance_cmds:compliance",
    "config": "secscan.commands.config_cmds:config",
}

HELP_SHORT: dict[str, str] = {
    "scan": "Run the scanners on PATH, gate the result and write reports.",
    "import": "Turn existing scanner reports into a secscan.json.",
    "merge": "Merge several secscan.json files into one.",
    "gate": "Apply the policy to a secscan.json and exit with the verdict's code.",
    "baseline": "Create or inspect a baseline of accepted findings.",
    "report": "Render a secscan.json in another format.",
    "publish": "Post the result to the GitLab merge request.",
    "advisories": "Offline OSV advisory database: import, serve, info.",
    "hook": "Install the git pre-push hook.",
    "history": "Store runs in the history database.",
    "aggregate": "Collect the newest results of a GitLab group's projects.",
    "dashboard": "Write the security team's dashboard (one HTML file).",
    "audit": "Verify the tamper-evident audit trail.",
    "verify-report": "Check report files against secscan.manifest.json.",
    "compliance": "Check the compliance guardrails (scan age, failed scanners, audit trail).",
    "config": "Show the effective settings and the layer each came from.",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        if ctx.resilient_parsing or "--help" in sys.argv[1:2]:
            # `secscan --help` lists commands: give their short help without importing them.
            return click.Command(cmd_name, help=HELP_SHORT.get(cmd_name, ""))
        module_name, attr = target.split(":")
        module = importlib.import_module(module_name)
        cmd = getattr(module, attr)
        assert isinstance(cmd, click.Command)
        return cmd

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = click.utils.make_str(args[0]) if args else ""
        if args and name not in COMMANDS and not name.startswith("-"):
            import difflib

            hint = difflib.get_close_matches(name, sorted(COMMANDS), n=1)
            extra = f" Did you mean {hint[0]!r}?" if hint else ""
            ctx.fail(f"No such command {name!r}.{extra}")
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, HELP_SHORT.get(name, "")) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="secscan")
@click.option("--debug", is_flag=True, envvar="SECSCAN_DEBUG", help="Show tracebacks for unexpected errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """secscan: security scanning for CI/CD merge requests.

    Runs bandit, semgrep, pip-audit and OWASP ZAP, normalizes and de-duplicates their
    findings, gates on a policy, writes reports and posts to GitLab merge requests.
    """
    # Here too (not only in main): the command also runs embedded (click's test runner, a wrapper
    # script) and must not print a credential there either.
    from secscan.credentials import install_on_std_streams

    install_on_std_streams()
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps every outcome to an exit code, never a traceback."""
    from secscan import interrupts

    # First: a SIGINT or SIGTERM (a cancelled CI job) at any later moment, even while the command
    # is being imported, ends with one line and 130 / 143 (secscan/interrupts.py).
    interrupts.install()
    try:
        _main(argv)
    except interrupts.Interrupted as e:
        click.echo(f"secscan: error: {e.message}", err=True)
        sys.exit(e.exit_code)


def _main(argv: list[str] | None) -> None:
    from secscan.credentials import install_on_std_streams, mask
    from secscan.errors import ExitCode, SecscanError

    install_on_std_streams()
    debug = os.environ.get("SECSCAN_DEBUG", "") not in ("", "0") or "--debug" in (argv or sys.argv[1:])
    try:
        rv: Any = cli.main(args=argv, prog_name="secscan", standalone_mode=False)
    except SecscanError as e:
        click.echo(mask(f"secscan: error: {e.message}"), err=True)
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        click.echo("secscan: aborted", err=True)
        sys.exit(130)
    except click.UsageError as e:
        # One line, like every other error; the command's --help is one step away.
        where = e.ctx.command_path if e.ctx is not None else "secscan"
        click.echo(mask(f"secscan: error: {e.format_message()} (see '{where} --help')"), err=True)
        sys.exit(ExitCode.USAGE)
    except click.ClickException as e:
        click.echo(mask(f"secscan: error: {e.format_message()}"), err=True)
        sys.exit(ExitCode.USAGE)
    except KeyboardInterrupt:
        click.echo("secscan: interrupted", err=True)
        sys.exit(130)
    except Exception as e:
        if debug:
            raise
        click.echo(
            mask(f"secscan: internal error: {type(e).__name__}: {e} (re-run with --debug for details)"), err=True
        )
        sys.exit(70)
    sys.exit(rv if isinstance(rv, int) else 0)
