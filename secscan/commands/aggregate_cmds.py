"""`secscan history`, `aggregate`, `dashboard`, `audit` and `verify-report`: the security team's commands.

Thin click layer: options -> the aggregate/audit modules -> files and an exit code. Verification
commands exit 1 when they find tampering (like a failed gate) and 2 when the input is unusable.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from secscan.commands.wrapper import Command, Group, handle_command_errors
from secscan.errors import ConfigError, ExitCode
from secscan.settings.options import effective, options

if TYPE_CHECKING:
    from collections.abc import Iterator

    from secscan.aggregate.decisions import Decision
    from secscan.aggregate.history import History
    from secscan.aggregate.timeline import StreamTimeline
    from secscan.dbtarget import DbTarget


def db_target(db: str | None, *, must_exist: bool = False) -> DbTarget:
    """The ``--db`` target; with ``must_exist``, a missing SQLite file is a usage error (not a new file)."""
    from secscan.dbtarget import resolve

    target = resolve(db, os.environ)
    if must_exist and target.path is not None and not target.path.exists():
        raise ConfigError(f"history database {target.display()} does not exist (add runs with `secscan history add`)")
    return target


# ---------------------------------------------------------------- history


@click.group(cls=Group)
def history() -> None:
    """Store runs in the history database (for the dashboard)."""


@history.command("add")
@click.argument("results", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@options("history add")
@click.pass_context
@handle_command_errors
def history_add(ctx: click.Context, *, results: tuple[Path, ...], **_settings: Any) -> int:
    """Store each RESULT (a secscan.json) as a run of PROJECT. Adding the same file twice is a no-op."""
    from secscan.aggregate.history import History, add_file

    given = effective(ctx, "history add", os.environ)
    with History(db_target(given.get("db"))) as h:
        for path in results:
            out = add_file(h, path, project=given.get("project"), ref=given.get("ref"), at=given.get("at"))
            what = "added" if out.added else "already stored"
            run = f"run {out.run_id} of {out.project}@{out.ref}"
            click.echo(f"{path}: {what} as {run} ({out.finished_at}, {out.findings} findings)")
    return ExitCode.PASSED


@history.command("list")
@options("history list")
@click.pass_context
@handle_command_errors
def history_list(ctx: click.Context, **_settings: Any) -> int:
    """List the projects and refs in the history with their number of runs."""
    from secscan.aggregate.history import History

    db = effective(ctx, "history list", os.environ).get("db")
    with History(db_target(db, must_exist=True)) as h:
        for project, ref, runs, last in h.stream_summaries():
            click.echo(f"{project}\t{ref}\t{runs} runs\tlast {last}")
    return ExitCode.PASSED


@history.command("prune")
@options("history prune")
@click.pass_context
@handle_command_errors
def history_prune(ctx: click.Context, **_settings: Any) -> int:
    """Remove old runs. Never removes the audit trail, runs of the last 365 days, or the newest
    run of a project and ref (its current state)."""
    from secscan.aggregate.history import MIN_KEEP_DAYS, History

    given = effective(ctx, "history prune", os.environ)
    keep_days: int = given.get("keep_days")
    now: str | None = given.get("now")
    db: str | None = given.get("db")
    if keep_days < MIN_KEEP_DAYS:  # checked before opening anything
        raise ConfigError(
            f"--keep-days {keep_days}: the audit trail must keep at least {MIN_KEEP_DAYS} days (PCI DSS 10.5.1)"
        )
    when = parse_now(now)
    with History(db_target(db, must_exist=True)) as h:
        out = h.prune(keep_days=keep_days, now=when)
    click.echo(
        f"pruned {out.runs_removed} runs finished before {out.cutoff} and {out.findings_removed} findings"
        f" no run mentions; kept {out.runs_kept_latest} older runs that are their project's newest"
    )
    return ExitCode.PASSED


# ---------------------------------------------------------------- aggregate


@click.command(cls=Command)
@options("aggregate", types={"pipelines": click.IntRange(1, 100)})
@click.pass_context
@handle_command_errors
def aggregate(ctx: click.Context, **_settings: Any) -> int:
    """Add the newest secscan.json of each project's default-branch pipeline in a GitLab group.

    Needs a token that can read the group's projects and job artifacts in $SECSCAN_GITLAB_TOKEN
    (or $GITLAB_TOKEN). A project without such an artifact is reported and skipped; one whose
    artifact cannot be downloaded or read is reported and the command exits 2 after storing the rest.
    """
    from secscan.aggregate import gitlab_group
    from secscan.aggregate.history import History

    given = effective(ctx, "aggregate", os.environ)
    source = gitlab_group.GroupSource.from_env(os.environ, api_url=given.get("api_url"))
    with History(db_target(given.get("db"))) as h:
        summary = gitlab_group.collect(
            source,
            given.get("group"),
            h,
            artifact_path=given.get("artifact_path"),
            job_name=given.get("job_name"),
            max_pipelines=given.get("pipelines"),
        )
    for line in summary.lines():
        click.echo(line)
    # Every readable result is stored; an unreadable one still makes the run say so (exit 2).
    return ExitCode.USAGE if summary.count("error") else ExitCode.PASSED


# ---------------------------------------------------------------- dashboard


def policy_sla(path: Path | None) -> dict[str, int | None]:
    """The fix-by days per severity of the policy at ``path`` (None: the shipped default)."""
    from secscan.policy import load_policy

    return {sev.value: days for sev, days in load_policy(path).sla_days.items()}


def parse_now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    from secscan.aggregate.history import parse_time
    from secscan.errors import InputError

    try:
        return parse_time(value, what="--now")
    except InputError as e:
        raise ConfigError(e.message) from None


@click.command(cls=Command)
@options(
    "dashboard",
    types={"out": click.Path(path_type=Path, dir_okay=False), "days": click.IntRange(7, 730)},
)
@click.pass_context
@handle_command_errors
def dashboard(ctx: click.Context, **_settings: Any) -> int:
    """Write the security team's dashboard: one self-contained HTML file."""
    from secscan.aggregate import compliance_facts, findings, metrics, pages
    from secscan.aggregate import dashboard as dash
    from secscan.aggregate.guardrails import Thresholds
    from secscan.aggregate.history import History
    from secscan.aggregate.metrics import SlaBreach
    from secscan.fsutil import atomic_write

    given = effective(ctx, "dashboard", os.environ)
    output: Path = given.get("out")
    title: str = given.get("title")
    days: int = given.get("days")
    when = parse_now(given.get("now"))
    sla_days = policy_sla(given.get("policy"))
    with_pages = given.get("pages") is not False
    pages_dir = output.with_name(output.stem + "-pages")
    staging = output.with_name(f".{pages_dir.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    written = 0
    with History(db_target(given.get("db"), must_exist=True)) as h:
        page_ctx = pages.PageContext(
            now=when,
            dashboard_name=output.name,
            sla_days=sla_days,
            decisions=_decisions_by_finding(h),
            locations=findings.location_history(h),
        )

        def streams() -> Iterator[StreamTimeline]:
            """The streams for the metrics; each project's pages are written as it passes."""
            nonlocal written
            for project, group in findings.by_project(h.iter_streams()):
                yield from group
                if not with_pages:
                    continue
                records = findings.project_records(project, group)
                for rel, text in pages.render_project(project, group, records, page_ctx):
                    path = staging / rel
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(text, encoding="utf-8")
                    written += 1

        data = metrics.compute(streams(), now=when, trend_days=days, sla_days=sla_days)
        sla: dict[tuple[str, str], list[SlaBreach]] = {}
        for b in data.sla_breaches:
            sla.setdefault((b.project, b.ref), []).append(b)
        # The guardrails panel: default thresholds, the audit trail as `compliance check` finds it.
        report = compliance_facts.check(h, now=when, thresholds=Thresholds(), env=os.environ, sla=sla)
    if with_pages:
        # The pages first, switched in whole (a reader never sees half a folder), then the dashboard.
        staging.mkdir(parents=True, exist_ok=True)
        old = output.with_name(f".{pages_dir.name}.old-{os.getpid()}")
        if pages_dir.exists():
            pages_dir.rename(old)
        staging.rename(pages_dir)
        shutil.rmtree(old, ignore_errors=True)
    html = dash.render(data, title=title, compliance=report, pages=pages_dir.name if with_pages else None)
    atomic_write(output, html)
    failing = len({v.control for v in report.violations})
    click.echo(
        f"Dashboard: {output} ({data.project_count} projects, {data.total_runs} runs;"
        f" {failing} compliance controls failing); {len(data.projects)} project/ref streams,"
        f" {written} project and finding pages in {pages_dir}"
    )
    return ExitCode.PASSED


def _decisions_by_finding(h: History) -> dict[tuple[str, str], list[Decision]]:
    from secscan.aggregate import decisions

    out: dict[tuple[str, str], list[Decision]] = {}
    for d in decisions.listing(h):
        out.setdefault((d.project, d.fingerprint), []).append(d)
    return out


# ---------------------------------------------------------------- audit


@click.group(cls=Group)
def audit() -> None:
    """The tamper-evident audit trail of verdicts, suppressions and publish actions."""


@audit.command("verify")
@options("audit verify")
@click.pass_context
@handle_command_errors
def audit_verify(ctx: click.Context, **_settings: Any) -> int:
    """Check every entry's digest, hash chain and order; name the first bad entry.

    With $SECSCAN_AUDIT_KEY set the chain must be keyed with that key (HMAC-SHA256).
    Exit 0 when intact, 1 when tampered, 2 when the log cannot be read.
    """
    from secscan.audit import trail

    given = effective(ctx, "audit verify", os.environ)
    log: str | None = given.get("log")
    expect_head: str | None = given.get("expect_head")
    where = trail.sink(Path("secscan-out"), os.environ) if log is None else trail.parse_location(log)
    res = trail.verify_at(where, trail.key_from_env(os.environ), expected_head=expect_head)
    click.echo(f"{trail.describe_location(where)}: {res.describe()}")
    return ExitCode.PASSED if res.ok else ExitCode.GATE_FAILED


# ---------------------------------------------------------------- verify-report


@click.command("verify-report", cls=Command)
@click.argument("manifest", required=False, type=click.Path(path_type=Path))
@handle_command_errors
def verify_report(*, manifest: Path | None) -> int:
    """Check report files against MANIFEST (secscan.manifest.json, or the folder holding it).

    Default: ./secscan.manifest.json, else secscan-out/secscan.manifest.json.
    Exit 0 when every file matches, 1 when one was changed or removed, 2 when the manifest is unusable.
    """
    from secscan.audit.manifest import MANIFEST_NAME, verify_manifest

    if manifest is None:
        here = Path(MANIFEST_NAME)
        manifest = here if here.exists() else Path("secscan-out") / MANIFEST_NAME
    elif manifest.is_dir():
        manifest = manifest / MANIFEST_NAME
    check = verify_manifest(manifest)
    for f in check.files:
        mark = "ok      " if f.state == "ok" else f"{f.state.upper():8}"
        click.echo(f"{mark} {f.path}{'  (' + f.detail + ')' if f.detail else ''}")
    if check.ok:
        click.echo(f"{manifest}: all {len(check.files)} reports match")
        return ExitCode.PASSED
    click.echo(f"{manifest}: {len(check.problems)} of {len(check.files)} reports do NOT match", err=True)
    return ExitCode.GATE_FAILED
