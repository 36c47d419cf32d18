"""The dashboard's project and finding pages (issue 31; pure: data in, (file, text) out).

Beside ``dashboard.html`` the dashboard command writes ``dashboard-pages/``: one folder per
project (``index.html``: its refs and every finding it ever had) and one page per finding (first
and last seen, each ref's state, the runs that reported it, the places it was reported at, the
triage decisions with author and approver, the SLA clock). Names are derived from the project
name and the fingerprint with a hash, never taken as given: a project called ``../x`` stays a
folder inside the pages. Like the dashboard, every value is escaped and nothing is fetched.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from secscan.aggregate.dashboard import SEV_COLORS, environment
from secscan.aggregate.decisions import Decision
from secscan.aggregate.findings import FindingRecord, epoch_text
from secscan.aggregate.history import iso
from secscan.aggregate.metrics import DAY
from secscan.aggregate.timeline import StreamTimeline

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def project_dir(project: str) -> str:
    """A folder name for ``project``: readable, bounded, and distinct for distinct names."""
    digest = hashlib.sha256(project.encode("utf-8")).hexdigest()[:10]
    return f"{_UNSAFE.sub('-', project).strip('.-')[:60] or 'project'}-{digest}"


def finding_file(fingerprint: str) -> str:
    digest = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:10]
    return f"f-{_UNSAFE.sub('_', fingerprint)[:60]}-{digest}.html"


def finding_href(pages: str, project: str, fingerprint: str) -> str:
    """The link from the dashboard (``pages``: the pages folder's name, beside it)."""
    return f"{pages}/{project_dir(project)}/{finding_file(fingerprint)}"


def project_href(pages: str, project: str) -> str:
    return f"{pages}/{project_dir(project)}/index.html"


@dataclass(frozen=True, kw_only=True)
class PageContext:
    """What every page of one dashboard shares."""

    now: datetime
    dashboard_name: str
    """The dashboard's file name, linked from each page (two folders up)."""
    sla_days: Mapping[str, int | None]
    decisions: Mapping[tuple[str, str], Sequence[Decision]]
    """By (project, fingerprint), oldest first."""
    locations: Mapping[tuple[str, str], Sequence[tuple[int, str]]]
    """By (project, fingerprint): (first seen there, where), oldest first."""


def _epoch(value: int | None) -> str:
    return epoch_text(value)


def render_project(
    project: str, streams: Sequence[StreamTimeline], records: Sequence[FindingRecord], ctx: PageContext
) -> Iterator[tuple[str, str]]:
    """(path relative to the pages folder, HTML) of the project page and its findings' pages."""
    env = environment()
    folder = project_dir(project)
    now_epoch = int(ctx.now.timestamp())
    today: date = ctx.now.astimezone(UTC).date()
    common = {
        "sev_colors": SEV_COLORS,
        "epoch": _epoch,
        "today": today,
        "now": iso(ctx.now),
        "now_epoch": now_epoch,
        "dashboard_href": f"../../{ctx.dashboard_name}",
    }
    decisions = {fp: ds for (p, fp), ds in ctx.decisions.items() if p == project}
    page = env.get_template("project.html.j2")
    yield (
        f"{folder}/index.html",
        page.render(
            project=project,
            refs=[s for s in streams if s.runs],
            records=records,
            open_count=sum(1 for r in records if r.state == "open"),
            sla_days=ctx.sla_days,
            decisions=decisions,
            finding_file=finding_file,
            **common,
        ),
    )
    one = env.get_template("finding.html.j2")
    for r in records:
        due = r.sla_due(ctx.sla_days)
        yield (
            f"{folder}/{finding_file(r.fingerprint)}",
            one.render(
                r=r,
                sla_due=due,
                sla_left=None if due is None else (due - now_epoch) // DAY,
                decisions=decisions.get(r.fingerprint, ()),
                locations=ctx.locations.get((project, r.fingerprint), ()),
                **common,
            ),
        )
