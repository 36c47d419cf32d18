"""The `secscan` command line: a thin click layer.

Commands live in ``secscan/commands/<module>.py`` and are imported only when invoked, so
``secscan --version`` and ``--help`` never pay for semgrep, docker, gitlab or jinja2 imports.
Errors become exit codes and one line inside the command layer
(:mod:`secscan.commands.wrapper`), so a command called in-process gives what the process gives.
Only what is process-wide stays here: the SIGINT/SIGTERM handlers (:mod:`secscan.interrupts`)
and the masking of the real standard streams (:mod:`secscan.credentials`).
"""

from __future__ import annotations

import difflib
import importlib
import sys

import click

from secscan import __version__, interrupts
from secscan.commands.wrapper import Group
from secscan.credentials import install_on_std_streams

# name -> "module:attribute". One entry per command; each area owns its module.
COMMANDS: dict[str, str] = {
    "scan": "secscan.commands.scan:scan",
    "import": "secscan.commands.importer:import_cmd",
    "merge": "secscan.commands.split_cmds:merge",
    "gate": "secscan.commands.split_cmds:gate",
    "baseline": "secscan.commands.split_cmds:baseline",
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
    "triage": "secscan.commands.triage_cmds:triage",
    "export": "secscan.commands.export_cmds:export",
    "config": "secscan.commands.config_cmds:config",
    "suppress": "secscan.commands.suppress:suppress",
}

# Each command's first sentence, for `secscan --help` without importing every command (a test
# keeps them equal to the commands' own help).
HELP_SHORT: dict[str, str] = {
    "scan": "Run the scanners on PATH, gate the result and write reports.",
    "import": "Turn existing scanner reports (FILES) into one secscan.json.",
    "merge": "Merge several secscan.json files (one per CI job) into one.",
    "gate": "Apply the policy to a secscan.json and exit with the verdict's code.",
    "baseline": "Create a baseline of accepted findings (use it with --baseline FILE).",
    "report": "Render RESULT.json (a secscan.json) as one or more report formats.",
    "publish": "Post RESULT_FILE (a secscan.json) to the GitLab merge request.",
    "advisories": "Offline OSV advisory database for pip-audit and npm-audit: import, serve, info.",
    "hook": "The git pre-push hook: the merge request's diff-aware scan, run before pushing.",
    "history": "Store runs in the history database (for the dashboard).",
    "aggregate": "Add the newest secscan.json of each project's default-branch pipeline in a GitLab group.",
    "dashboard": "Write the security team's dashboard: one self-contained HTML file.",
    "audit": "The tamper-evident audit trail of verdicts, suppressions and publish actions.",
    "verify-report": "Check report files against MANIFEST (secscan.manifest.json, or the folder holding it).",
    "compliance": "Compliance guardrails over the history and the audit trail.",
    "triage": "Triage decisions about findings: proposed by one person, approved by another.",
    "export": (
        "Write PROJECT's findings (every ref, their state now, triage decisions) as"
        " DefectDojo's Generic Findings Import JSON (re-imports deduplicate on the fingerprint) or as CSV."
    ),
    "config": "Show the effective settings and where each came from.",
    "suppress": "Add an accepted-risk entry for the finding FINGERPRINT to the suppressions file.",
}


class LazyGroup(Group):
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

    Runs bandit, semgrep, pip-audit, npm-audit, detect-secrets, its own checks of the
    checkout (tree) and OWASP ZAP (zap), normalizes and de-duplicates their findings, gates
    on a policy, writes reports and posts to GitLab merge requests.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: only what is process-wide; the command layer maps every
    outcome to an exit code and one line (secscan/commands/wrapper.py)."""
    # First: a SIGINT or SIGTERM (a cancelled CI job) at any later moment, even while the command
    # is being imported, ends with one line and 130 / 143 (secscan/interrupts.py).
    interrupts.install()
    try:
        # The real streams are masked for the whole process: a warning printed by a library
        # or at exit goes through them too, not only what a command prints.
        install_on_std_streams()
        code = cli.main(args=argv, prog_name="secscan", standalone_mode=False)
    except interrupts.Interrupted as e:  # between install() and the command layer
        click.echo(f"secscan: error: {e.message}", err=True)
        code = e.exit_code
    interrupts.settle()
    sys.exit(code)
