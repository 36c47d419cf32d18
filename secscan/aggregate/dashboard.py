"""Render the security team's dashboard: one self-contained HTML file (pure: data in, text out).

Everything is inline (CSS, SVG charts): the file opens from a mail attachment or a CI artifact
with no network, and nothing in it fetches anything. Text from scanned code (titles, paths,
rule ids, suppression reasons) is untrusted; Jinja2 autoescaping is on for every value, and the
SVG geometry is computed here from numbers only.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date

import jinja2

from secscan import __version__
from secscan.aggregate.guardrails import CONTROLS, ComplianceReport
from secscan.aggregate.metrics import SEV_ORDER, Dashboard, TrendDay
from secscan.resources import templates_dir

SEV_COLORS: dict[str, str] = {
    "critical": "#7f1d1d",
    "high": "#dc2626",
    "medium": "#f59e0b",
    "low": "#3b82f6",
    "info": "#9ca3af",
}


@dataclass(frozen=True, kw_only=True)
class Layer:
    severity: str
    color: str
    d: str
    """SVG path data (numbers only)."""


@dataclass(frozen=True, kw_only=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True, kw_only=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    title: str


@dataclass(frozen=True, kw_only=True)
class Chart:
    width: int
    height: int
    left: int
    top: int
    plot_w: float
    plot_h: float
    layers: tuple[Layer, ...] = ()
    bars_up: tuple[Bar, ...] = ()
    bars_down: tuple[Bar, ...] = ()
    y_ticks: tuple[Tick, ...] = ()
    x_ticks: tuple[Tick, ...] = ()
    baseline: float = 0.0


def _nice_max(v: int) -> int:
    """A round axis maximum at or above ``v`` (1, 2, 5 x 10^n)."""
    if v <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= v:
                return m * step
        step *= 10


def _tick_values(ymax: int) -> tuple[int, ...]:
    """Evenly spaced round ticks for a ``_nice_max`` axis (1, 2 or 5 times a power of ten)."""
    if ymax <= 2:
        return tuple(range(ymax + 1))
    steps = 4 if str(ymax).startswith("2") else 5
    return tuple(ymax * i // steps for i in range(steps + 1))


def _tick_days(n: int) -> range:
    """About six evenly spaced day labels."""
    return range(0, n, max(1, n // 6))


def _short_day(day: str) -> str:
    return date.fromisoformat(day).strftime("%b %d")


def _x_ticks(days: tuple[TrendDay, ...], left: int, plot_w: float, n: int) -> tuple[Tick, ...]:
    slot = plot_w / max(1, n)
    return tuple(Tick(pos=left + i * slot + slot / 2, label=_short_day(days[i].day)) for i in _tick_days(n))


def trend_chart(days: tuple[TrendDay, ...], *, width: int = 1200, height: int = 250) -> Chart:
    """Stacked areas of open findings by severity over time (critical at the bottom)."""
    left, top, right, bottom = 44, 10, 10, 26
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(days)
    totals = [sum(d.open_by_severity) for d in days]
    ymax = _nice_max(max(totals, default=0))

    def x(i: int) -> float:
        # Day i occupies the slot [x(i), x(i + 1)); the last slot ends at the right edge.
        return left + i * plot_w / max(1, n)

    def y(v: float) -> float:
        return top + plot_h - v * plot_h / ymax

    def xs(i: int) -> tuple[float, float]:
        # A day's value holds until the next day: draw steps, not slopes between samples.
        return x(i), x(i + 1)

    layers = []
    below = [0] * n
    for k, sev in enumerate(SEV_ORDER):
        above = [below[i] + days[i].open_by_severity[k] for i in range(n)]
        if n and any(above[i] != below[i] for i in range(n)):
            upper = " ".join(
                f"L{a:.1f},{y(above[i]):.1f} L{b:.1f},{y(above[i]):.1f}" for i in range(n) for a, b in [xs(i)]
            )
            lower = " ".join(
                f"L{b:.1f},{y(below[i]):.1f} L{a:.1f},{y(below[i]):.1f}" for i in reversed(range(n)) for a, b in [xs(i)]
            )
            d = f"M{x(0):.1f},{y(below[0]):.1f} {upper} {lower} Z"
            layers.append(Layer(severity=sev, color=SEV_COLORS[sev], d=d))
        below = above
    y_ticks = tuple(Tick(pos=y(v), label=str(v)) for v in _tick_values(ymax))
    return Chart(
        width=width,
        height=height,
        left=left,
        top=top,
        plot_w=plot_w,
        plot_h=plot_h,
        layers=tuple(layers),
        y_ticks=y_ticks,
        x_ticks=_x_ticks(days, left, plot_w, n),
        baseline=y(0),
    )


def flow_chart(days: tuple[TrendDay, ...], *, width: int = 1200, height: int = 140) -> Chart:
    """Per day: new findings as bars above the axis, fixed ones below it."""
    left, top, right, bottom = 44, 8, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(days)
    peak = _nice_max(max([*(d.new for d in days), *(d.fixed for d in days)], default=0))
    mid = top + plot_h / 2
    slot = plot_w / max(1, n)
    bw = max(1.0, slot * 0.7)
    up, down = [], []
    for i, d in enumerate(days):
        cx = left + i * slot + (slot - bw) / 2
        if d.new:
            h = d.new * (plot_h / 2) / peak
            up.append(Bar(x=cx, y=mid - h, w=bw, h=h, title=f"{d.day}: {d.new} new"))
        if d.fixed:
            h = d.fixed * (plot_h / 2) / peak
            down.append(Bar(x=cx, y=mid, w=bw, h=h, title=f"{d.day}: {d.fixed} fixed"))
    ticks = (Tick(pos=top, label=f"+{peak}"), Tick(pos=mid, label="0"), Tick(pos=top + plot_h, label=f"-{peak}"))
    return Chart(
        width=width,
        height=height,
        left=left,
        top=top,
        plot_w=plot_w,
        plot_h=plot_h,
        bars_up=tuple(up),
        bars_down=tuple(down),
        y_ticks=ticks,
        x_ticks=tuple(Tick(pos=left + i * slot + slot / 2, label=_short_day(days[i].day)) for i in _tick_days(n)),
        baseline=mid,
    )


def sparkline(values: tuple[int, ...], *, width: int = 110, height: int = 26) -> str:
    """SVG polyline points for a small trend of open findings (numbers only)."""
    if not values:
        return ""
    hi = max(*values, 1)
    n = len(values)
    pts = []
    for i, v in enumerate(values):
        px = 2 + (i * (width - 4) / (n - 1) if n > 1 else (width - 4) / 2)
        py = height - 3 - v * (height - 6) / hi
        pts.append(f"{px:.1f},{py:.1f}")
    return " ".join(pts)


def _days(v: float | None) -> str:
    if v is None:
        return "—"
    if v < 1:
        hours = v * 24
        return f"{hours:.0f} h"
    return f"{v:.1f} d" if v < 10 else f"{v:.0f} d"


def _when(ts: str) -> str:
    """``2024-06-30T12:00:00Z`` -> ``2024-06-30 12:00`` (UTC, as stored)."""
    return ts.replace("T", " ")[:16] if ts else "—"


@functools.cache
def environment() -> jinja2.Environment:
    """The templates' environment, made once (compiling a template costs more than rendering it)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "dashboard")),
        autoescape=True,  # every value is escaped: titles, paths and reasons come from scanned code
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["days"] = _days
    env.filters["when"] = _when
    env.globals["sparkline"] = sparkline
    return env


def render(
    data: Dashboard,
    *,
    title: str = "Security dashboard",
    compliance: ComplianceReport | None = None,
    pages: str | None = None,
) -> str:
    """The dashboard HTML for ``data``, with the compliance guardrails panel when ``compliance`` is
    given, its tables linked to the project and finding pages in the folder ``pages`` beside it."""
    from secscan.aggregate import pages as pages_mod

    def finding_link(project: str, fingerprint: str) -> str:
        return pages_mod.finding_href(pages or "", project, fingerprint)

    def project_link(project: str) -> str:
        return pages_mod.project_href(pages or "", project)

    template = environment().get_template("dashboard.html.j2")
    return template.render(
        d=data,
        title=title,
        version=__version__,
        sev_order=SEV_ORDER,
        sev_colors=SEV_COLORS,
        sev_short={"critical": "Crit", "high": "High", "medium": "Med", "low": "Low", "info": "Info"},
        trend=trend_chart(data.trend),
        flow=flow_chart(data.trend),
        failing_now=sum(1 for f in data.failures if f.failing_now),
        expiring_soon=sum(1 for e in data.expiring if e.days_left >= 0),
        expired=sum(1 for e in data.expiring if e.days_left < 0),
        compliance=compliance,
        compliance_failing=sorted({v.control for v in compliance.violations}) if compliance else [],
        controls=CONTROLS,
        finding_link=finding_link if pages else None,
        project_link=project_link if pages else None,
    )
