"""`secscan scan`: options -> inputs (read once) -> collect -> core.produce -> outputs -> exit code."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from secscan.commands.wrapper import Command, handle_command_errors
from secscan.credentials import mask
from secscan.errors import ConfigError
from secscan.interrupts import Interrupted
from secscan.settings import catalog
from secscan.settings.options import flag_layer, options

if TYPE_CHECKING:  # heavy modules: imported only when a scan really publishes
    from secscan.gitlab.settings import PublishSettings


@contextmanager
def _signals(cancel: threading.Event) -> Iterator[None]:
    """While scanners run, SIGTERM (a cancelled CI job) and SIGINT also set ``cancel``: the
    scanners kill their children and remove their containers; a second signal never cuts that
    cleanup short (zap-2, issue 22). Every other phase is covered by the process-wide handler
    (secscan/interrupts.py): one line and 130 / 143 wherever the signal lands (issue 32)."""
    from secscan import interrupts

    with interrupts.guard(cancel):
        yield


class _ScanCommand(Command):
    """``scan --help`` names the scanners and formats from their registries (never a list that
    drifts from them); they are imported only when the help is shown."""

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from secscan.reporters import Format
        from secscan.scanners import registry

        scanners = ", ".join(n + (" (with --zap-target)" if n == "zap" else "") for n in registry.names())
        formats = ", ".join([*(f.value for f in Format), "all"])
        saved = self.help
        self.help = (saved or "").replace("{scanners}", scanners).replace("{formats}", formats)
        try:
            super().format_help_text(ctx, formatter)
        finally:
            self.help = saved


@click.command("scan", cls=_ScanCommand)
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@options("scan")
@click.option("--progress/--no-progress", default=None, help="Live progress display [on a terminal].")
@click.pass_context
@handle_command_errors
def scan(ctx: click.Context, *, path: Path, progress: bool | None, **_settings: Any) -> int:
    """Run the scanners on PATH, gate the result and write reports.

    Scanners: {scanners}.

    Formats (-f): {formats}.

    \b
    Exit codes: 0 passed, 1 gate failed, 2 usage or configuration error, 3 a scanner
    failed (fail closed), 4 publishing failed with --require-publish, 70 internal error,
    130/143 interrupted by SIGINT/SIGTERM.
    """
    from secscan import console, core, inputs, outputs, proc
    from secscan.collect import collect
    from secscan.sourcefiles import SourceTree

    env = dict(os.environ)
    # The scratch folder and every tool process of the run go when the block ends, and with a
    # watchdog when secscan is killed outright (secscan.proc); a dead run's folder is swept.
    with proc.run_scope() as scratch:
        # Inputs first: every file that decides the verdict is read and checked before anything
        # runs (in a merge request: from the merge-base commit, copied into the scratch folder).
        flags = dict(flag_layer(ctx, "scan").values)  # only what was typed: never masks the file or env
        # Publishing's own options (--gitlab-url) are not scan settings: they go to publishing.
        publish_flags = {k: flags.pop(k) for k in _PUBLISH_OPTIONS if k in flags}
        given = inputs.read_scan_inputs(path, flags, env=env, scratch=scratch / "inputs")
        cfg = given.cfg
        if publish_flags and not cfg.publish:
            raise ConfigError(f"{', '.join(_long(k) for k in publish_flags)} is used only with --publish")
        # Publish settings too: a malformed SECSCAN_* publish setting is exit 2 now, not after minutes.
        publish_settings = _publish_settings(env, cfg.require_publish, publish_flags) if cfg.publish else None
        cancel = threading.Event()
        tree = SourceTree(cfg.target)
        work = scratch / "work"
        work.mkdir()
        progress_display = console.Progress(given.scanners, live=progress, heartbeat=cfg.heartbeat)
        with _signals(cancel), progress_display as prog:
            try:
                evidence = collect(
                    given,
                    tree=tree,
                    workdir=work,
                    events=prog.event,
                    cancel=cancel,
                    on_done=prog.done,
                    meta=tuple(sorted(_ci_meta(env).items())),
                )
            except KeyboardInterrupt:  # embedded, without secscan's handlers: Python's own SIGINT
                cancel.set()
                raise Interrupted(signal.SIGINT) from None
    result = core.produce(evidence, tree=tree, inputs=given.triage)
    written = outputs.write_outputs(result, given.out_dir, cfg.formats, env=env)
    shown = console.result_option(given.out_dir / outputs.RESULT_NAME)
    console.summary(result, color=None if sys.stdout.isatty() else False, verbose=cfg.verbose, result_file=shown)
    click.echo(f"Reports: {', '.join(str(p) for p in written)}")
    assert result.verdict is not None
    code = result.verdict.exit_code
    if publish_settings is not None:
        code = outputs.publish(result, publish_settings, audit_dir=given.out_dir, code=code, echo=_echo)
    return code


def _echo(text: str, err: bool) -> None:
    click.echo(mask(text), err=err)


_PUBLISH_OPTIONS = tuple(sorted(set(catalog.for_command("scan")) - set(catalog.by_key(catalog.SCAN_SETTINGS))))
"""Options of `scan` declared as publish settings (``api_url``: --gitlab-url)."""


def _long(key: str) -> str:
    return catalog.for_command("scan")[key].long


def _publish_settings(env: dict[str, str], required: bool, flags: dict[str, Any]) -> PublishSettings:
    from secscan.gitlab import settings

    return settings.from_env(env, {"require_publish": required or None, **flags})


def _ci_meta(env: dict[str, str]) -> dict[str, str]:
    keys = (
        "CI_JOB_URL",
        "CI_PIPELINE_URL",
        "CI_COMMIT_SHA",
        "CI_COMMIT_REF_NAME",
        "CI_PROJECT_PATH",
        "CI_MERGE_REQUEST_IID",
    )
    return {k.lower(): env[k] for k in keys if env.get(k)}
