"""`secscan scan`: options -> ScanConfig -> pipeline -> files -> (publish) -> exit code."""

from __future__ import annotations

import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from secscan import config as config_mod
from secscan.errors import ExitCode, SecscanError

if TYPE_CHECKING:  # heavy modules: imported only when a scan really publishes
    from secscan.gitlab.settings import PublishSettings
    from secscan.models import RunResult


class Interrupted(SecscanError):
    """SIGINT/SIGTERM: children were stopped, nothing is published."""


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    """Repeatable options that also accept comma-separated lists (``--only bandit,semgrep``)."""
    return tuple(v.strip() for raw in values for v in raw.split(",") if v.strip())


def _timeouts(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for raw in values:
        name, sep, seconds = raw.partition("=")
        if not sep:
            raise click.BadParameter(f"{raw!r}: expected SCANNER=SECONDS, e.g. semgrep=600", param_hint="--timeout")
        out[name.strip()] = seconds.strip()
    return out


@contextmanager
def _signals(cancel: threading.Event) -> Iterator[None]:
    """SIGTERM (a cancelled CI job) and SIGINT stop the run in order; a second signal never cuts
    the cleanup short (zap-2, issue 22: secscan/interrupts.py)."""
    from secscan import interrupts

    def error(signum: int) -> BaseException:
        return Interrupted(f"stopped by {signal.Signals(signum).name}", exit_code=128 + signum)

    with interrupts.guard(cancel, error):
        yield


def build_flags(**opts: Any) -> dict[str, Any]:
    """Only the options the user gave: flags must not mask file or environment settings."""
    flags: dict[str, Any] = {}
    mapping = {
        "out": "out_dir",
        "advisory_db": "advisory_db",
        "osv_url": "osv_url",
        "zap_target": "zap_target",
        "zap_image": "zap_image",
        "zap_minutes": "zap_minutes",
        "zap_config": "zap_config",
        # zap-2 (issue 22)
        "zap_mode": "zap_mode",
        "zap_api_definition": "zap_api_definition",
        "zap_api_format": "zap_api_format",
        "zap_auth_header": "zap_auth_header",
        "zap_auth_header_env": "zap_auth_header_env",
        "zap_context": "zap_context",
        "zap_user": "zap_user",
        "baseline": "baseline",
        "diff_base": "diff_base",
        "suppressions": "suppressions",
        "policy": "policy",
        "jobs": "jobs",
    }
    for opt, key in mapping.items():
        if opts.get(opt) is not None:
            flags[key] = str(opts[opt]) if isinstance(opts[opt], Path) else opts[opt]
    for opt in ("only", "skip", "exclude", "requirements", "semgrep_rules", "formats"):
        if opts.get(opt):
            flags[opt] = list(_split(opts[opt]))
    for opt in ("audit_installed", "zap_pull", "changed_only", "publish", "require_publish"):
        if opts.get(opt):
            flags[opt] = True
    if opts.get("no_builtin_rules"):
        flags["semgrep_builtin_rules"] = False
    if opts.get("fail_closed") is not None:
        flags["fail_closed"] = opts["fail_closed"]
    if opts.get("zap_option"):
        flags["zap_options"] = " ".join(opts["zap_option"])
    if opts.get("timeout"):
        flags["timeouts"] = _timeouts(opts["timeout"])
    return flags


@click.command("scan")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("-o", "--out", type=click.Path(file_okay=False, path_type=Path), help="Output directory [secscan-out].")
@click.option(
    "--only", multiple=True, help="Run only these scanners (bandit, semgrep, pip-audit, zap); repeat or comma-separate."
)
@click.option("--skip", multiple=True, help="Do not run these scanners.")
@click.option("--timeout", multiple=True, metavar="SCANNER=SECONDS", help="Per-scanner time limit, e.g. semgrep=600.")
@click.option("-j", "--jobs", type=int, help="Scanners run at the same time [4].")
@click.option("--exclude", multiple=True, help="Path globs bandit and semgrep skip.")
@click.option("--semgrep-rules", multiple=True, help="Extra local semgrep rule files or folders.")
@click.option("--no-builtin-rules", is_flag=True, help="Do not use secscan's payment-security semgrep rules.")
@click.option("-r", "--requirements", multiple=True, help="Requirements files for pip-audit [discovered under PATH].")
@click.option("--audit-installed", is_flag=True, help="Also audit the installed Python environment.")
@click.option(
    "--advisory-db", type=click.Path(path_type=Path), help="Local OSV advisory database (or folder/zip of OSV files)."
)
@click.option("--osv-url", help="An OSV-compatible endpoint for pip-audit.")
@click.option("--zap-target", help="Run ZAP baseline against this URL.")
@click.option("--zap-image", help="ZAP container image [ghcr.io/zaproxy/zaproxy:stable].")
@click.option("--zap-pull", is_flag=True, help="Pull the ZAP image if it is not present.")
@click.option("--zap-minutes", type=int, help="ZAP spider minutes [1].")
@click.option("--zap-option", multiple=True, help="Extra option for zap-baseline.py (repeatable).")
@click.option("--zap-config", type=click.Path(dir_okay=False, path_type=Path), help="ZAP rule config (-c).")
# --- zap-2 (issue 22): ZAP modes and authentication -------------------------------------------
@click.option(
    "--zap-mode", type=click.Choice(["baseline", "api", "full"]), help="ZAP scan [baseline; api with a definition]."
)
@click.option("--zap-api-definition", metavar="PATH|URL", help="OpenAPI/WSDL/GraphQL schema for --zap-mode api.")
@click.option("--zap-api-format", type=click.Choice(["openapi", "soap", "graphql"]), help="API format [detected].")
@click.option(
    "--zap-auth-header", metavar="NAME", help="Header ZAP sends to the target; value from --zap-auth-header-env."
)
@click.option("--zap-auth-header-env", metavar="VAR", help="Variable holding the header value [ZAP_AUTH_HEADER_VALUE].")
@click.option("--zap-context", type=click.Path(dir_okay=False, path_type=Path), help="ZAP context file (logins, -n).")
@click.option("--zap-user", metavar="NAME", help="User of --zap-context to scan as (-U).")
# --- end zap-2 ---------------------------------------------------------------------------------
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Baseline file: mark findings new/existing/fixed.",
)
@click.option(
    "--diff-base", help="Git ref: findings on lines changed since REF are new [CI_MERGE_REQUEST_DIFF_BASE_SHA]."
)
@click.option("--changed-only", is_flag=True, help="Scan only files changed since --diff-base.")
@click.option(
    "--suppressions",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Suppressions file [.secscan/suppressions.toml].",
)
@click.option(
    "--policy", type=click.Path(dir_okay=False, path_type=Path), help="Gate policy TOML [rules/policy/default.toml]."
)
@click.option(
    "--fail-closed/--fail-open", default=None, help="Whether a failed scanner fails the gate (exit 3) [policy]."
)
@click.option("-f", "--format", "formats", multiple=True, help="Extra report formats to write ('all' for every one).")
@click.option("--publish", is_flag=True, help="Post the result to the GitLab merge request.")
@click.option("--require-publish", is_flag=True, help="Exit 4 when publishing fails.")
@click.option("--progress/--no-progress", default=None, help="Live progress display [on a terminal].")
def scan(*, path: Path, progress: bool | None, **opts: Any) -> int:
    """Run the scanners on PATH, gate the result and write reports.

    Exit codes: 0 passed, 1 gate failed, 2 usage error, 3 scanner failed (fail closed),
    4 publishing failed with --require-publish.
    """
    from secscan import console, pipeline

    flags = build_flags(**opts)
    env = dict(os.environ)
    if "diff_base" not in flags and not env.get("SECSCAN_DIFF_BASE") and env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"):
        flags["diff_base"] = env["CI_MERGE_REQUEST_DIFF_BASE_SHA"]
    cfg = config_mod.load(path, flags, env=env)
    out_dir = cfg.out_dir if cfg.out_dir.is_absolute() else Path.cwd() / cfg.out_dir
    cancel = threading.Event()
    names = cfg.selected_scanners()
    if not names:
        raise config_mod.ConfigError("no scanner selected (check --only/--skip)")
    _check_formats(cfg.formats)  # an unknown --format is a usage error before anything runs
    # Publish settings are read now: a malformed SECSCAN_* publish setting is a usage error
    # (exit 2) before minutes of scanning, not after.
    publish_settings = _publish_settings(env, cfg.require_publish) if cfg.publish else None

    with _signals(cancel), tempfile.TemporaryDirectory(prefix="secscan-") as tmp:
        workdir = Path(tmp)
        live = progress if progress is not None else None
        with console.Progress(names, live=live) as prog:
            try:
                result = pipeline.run_scan(
                    cfg, workdir=workdir, events=prog.event, cancel=cancel, on_done=prog.done, meta=_ci_meta(env)
                )
            except KeyboardInterrupt:
                cancel.set()
                raise Interrupted("interrupted", exit_code=130) from None
    written = write_outputs(result, out_dir, cfg.formats)
    console.summary(result, color=None if sys.stdout.isatty() else False)
    click.echo(f"Reports: {', '.join(str(p) for p in written)}")
    assert result.verdict is not None
    code = result.verdict.exit_code
    if cfg.publish:
        assert publish_settings is not None
        code = _publish(result, publish_settings, code, out_dir)
    return code


def _check_formats(names: tuple[str, ...]) -> None:
    if names:
        from secscan import reporters

        reporters.expand(names)


def _publish_settings(env: dict[str, str], required: bool) -> PublishSettings:
    from secscan.gitlab import settings

    return settings.from_env(env, {"require": required or None})


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


def write_outputs(result: RunResult, out_dir: Path, formats: tuple[str, ...]) -> list[Path]:
    """secscan.json, every requested format, the audit entry and the SHA-256 manifest."""
    from secscan import resultio
    from secscan.fsutil import atomic_write

    written = []
    main = out_dir / "secscan.json"
    atomic_write(main, resultio.dumps(result))
    written.append(main)
    if formats:
        from secscan import reporters

        # Re-expanded against the result: "all" then skips formats that do not apply (no DAST
        # report without ZAP findings...); secscan.json itself is already written.
        for fmt in reporters.expand(formats, result):
            target = out_dir / reporters.default_filename(fmt)
            if target == main:
                continue
            atomic_write(target, reporters.render(fmt, result))
            written.append(target)
    from secscan.audit import manifest, trail

    trail.record_run(result, out_dir=out_dir, env=os.environ)
    written.append(manifest.write_manifest(out_dir, written))
    return written


def _publish(result: RunResult, settings: PublishSettings, code: int, out_dir: Path) -> int:
    """Publishing never changes the verdict; it can only turn the exit code into 4 when required."""
    from secscan.audit import trail
    from secscan.errors import PublishError
    from secscan.gitlab import publish

    required = settings.require
    try:
        outcome = publish.publish_result(result, settings)
    except publish.PublishFailed as e:
        trail.record_publish(e.outcome, result=result, out_dir=out_dir, env=os.environ)
        for err in e.outcome.errors:
            click.echo(f"secscan: publish failed: {err}", err=True)
        return ExitCode.PUBLISH_FAILED if required else code
    except PublishError as e:
        click.echo(f"secscan: publish failed: {e.message}", err=True)
        return ExitCode.PUBLISH_FAILED if required else code
    trail.record_publish(outcome, result=result, out_dir=out_dir, env=os.environ)
    click.echo(outcome.describe())
    return code
