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

from secscan.credentials import mask
from secscan.errors import ExitCode


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


@click.command("publish")
@click.argument("result_file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--gitlab-url", "api_url", metavar="URL", help="GitLab API v4 URL [CI_API_V4_URL].")
@click.option("--project-id", metavar="ID", help="Project id or path [CI_MERGE_REQUEST_PROJECT_ID].")
@click.option("--mr-iid", type=int, metavar="IID", help="Merge request IID [CI_MERGE_REQUEST_IID].")
@click.option("--diff-base-sha", metavar="SHA", help="[CI_MERGE_REQUEST_DIFF_BASE_SHA]")
@click.option("--commit-sha", metavar="SHA", help="Commit for the status [CI_COMMIT_SHA].")
@click.option("--job-url", metavar="URL", help="Link in the note and status [CI_JOB_URL].")
@click.option("--pipeline-url", metavar="URL", help="[CI_PIPELINE_URL]")
@click.option("--report-name", metavar="NAME", help="One summary note per report name (default: secscan).")
@click.option(
    "--min-severity", metavar="SEV", help="Inline threads for new findings at or above this (default: medium)."
)
@click.option("--max-threads", type=int, metavar="N", help="At most N findings discussed inline (default: 10).")
@click.option("--commit-status/--no-commit-status", default=None, help="Also set a `secscan` commit status.")
@click.option(
    "--require-publish/--no-require-publish",
    default=False,
    help="Exit 4 when publishing fails (otherwise report it and exit 0).",
)
@click.option("--dry-run", is_flag=True, help="Print what would be posted; write nothing.")
@click.option("--allow-http", is_flag=True, default=None, help="Allow a plain-HTTP GitLab URL (test servers only).")
@click.option("--html-report-url", metavar="URL", help="Link to the HTML report artifact.")
@click.option("--path-prefix", metavar="DIR", help="Repository path of the scanned directory (if not the root).")
@click.option(
    "--timeout-budget", "budget_s", type=float, metavar="SECONDS", help="Total time for publishing (default 60)."
)
@click.pass_context
def publish(ctx: click.Context, *, result_file: Path, require_publish: bool, dry_run: bool, **flags: Any) -> int:
    """Post RESULT_FILE (a secscan.json) to the GitLab merge request: one summary note kept current,
    inline threads on changed lines, optionally a commit status."""
    from secscan import outputs, resultio
    from secscan.gitlab.redact import Redactor
    from secscan.gitlab.settings import from_env

    result = resultio.load(result_file)
    overrides = {**flags, "require": require_publish or None, "dry_run": dry_run or None}
    settings = from_env(os.environ, overrides)
    debug = bool((ctx.find_root().obj or {}).get("debug"))
    handler = _debug_logging(Redactor(settings.secrets)) if debug else None
    try:
        return outputs.publish(result, settings, audit_dir=result_file.parent, code=ExitCode.PASSED, echo=_echo)
    finally:
        if handler is not None:
            for name in ("secscan.gitlab", "urllib3"):
                logging.getLogger(name).removeHandler(handler)
