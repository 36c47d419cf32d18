"""`secscan publish RESULT.json`: post a result to its GitLab merge request.

Every GitLab CI variable the publisher reads can be overridden by a flag. The token is read only
from the environment (SECSCAN_GITLAB_TOKEN or GITLAB_TOKEN), never from a flag: flags end up in
shell history and process lists. Exit code: 0 unless ``--require-publish`` and publishing failed
(4); the gate's verdict is not publish's business (use ``secscan gate`` for that).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import click

from secscan.commands.wrapper import Command, handle_command_errors
from secscan.credentials import mask
from secscan.errors import ExitCode
from secscan.settings.options import flag_layer, options


def _debug_logging(redact: Any) -> logging.Handler:
    """--debug: our request log (and urllib3's) on stderr, every record redacted."""
    from secscan.gitlab.redact import RedactingFilter

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("secscan: debug: %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(redact))
    for name in ("secscan.gitlab", "urllib3"):
        lg = logging.getLogger(name)
        lg.setLevel(logging.DEBUG)
        lg.addHandler(handler)
    return handler


def _echo(text: str, err: bool) -> None:
    click.echo(mask(text), err=err)


@click.command("publish", cls=Command)
@click.argument("result_file", type=click.Path(path_type=Path, dir_okay=False))
@options("publish")
@click.pass_context
@handle_command_errors
def publish(ctx: click.Context, *, result_file: Path, **_settings: Any) -> int:
    """Post RESULT_FILE (a secscan.json) to the GitLab merge request.

    One summary note kept current, inline threads on changed lines, optionally a commit status."""
    from secscan import outputs, resultio
    from secscan.gitlab.redact import Redactor
    from secscan.gitlab.settings import from_env

    result = resultio.load(result_file)
    # Only what was typed overrides the variables (a flag left out never masks one).
    settings = from_env(os.environ, flag_layer(ctx, "publish").values)
    debug = bool((ctx.find_root().obj or {}).get("debug"))
    handler = _debug_logging(Redactor(settings.secrets)) if debug else None
    try:
        return outputs.publish(result, settings, audit_dir=result_file.parent, code=ExitCode.PASSED, echo=_echo)
    finally:
        if handler is not None:
            for name in ("secscan.gitlab", "urllib3"):
                logging.getLogger(name).removeHandler(handler)
