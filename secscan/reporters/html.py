"""A single self-contained HTML file: verdict, counts, a severity chart, a sortable and
filterable findings table with each finding's details, suppressions and scanner health.

Self-contained means no network fetch at all: CSS, JavaScript and the SVG charts are inline,
and a Content-Security-Policy allows exactly our own inline script and style (by SHA-256 hash)
and nothing else. So even if some untrusted text slipped past jinja2's autoescaping, an injected
``<script>`` or ``onerror=`` handler would not run. Filters and sort order live in the URL
fragment (``#q=sql&severity=high&sort=severity``), so a reviewer can share a filtered view.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from datetime import date
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup

from secscan.errors import InputError
from secscan.models import (
    SEVERITIES_DESC,
    Finding,
    Kind,
    RunResult,
    Severity,
    Status,
)
from secscan.reporters import _common as c
from secscan.reporters import terminal
from secscan.resources import templates_dir
from secscan.testcode import TAG as TEST_CODE

SEVERITY_COLOR = {
    Severity.CRITICAL: "#b4232a",
    Severity.HIGH: "#e0621a",
    Severity.MEDIUM: "#c99400",
    Severity.LOW: "#2f6fd6",
    Severity.INFO: "#7b8494",
}
STATUS_COLOR = {
    Status.NEW: "#b4232a",
    Status.EXISTING: "#c99400",
    Status.SUPPRESSED: "#7b8494",
    Status.FIXED: "#1f8a4c",
}
KIND_COLOR = {Kind.SAST: "#5b4bc4", Kind.DEPENDENCY: "#0f7c8c", Kind.DAST: "#b0417a", Kind.SECRET: "#8a5a00"}
MAX_ROWS = 2_000
"""Findings listed one by one (blocking first, grouped by rule); past it the rule table counts the
rest. A page of 100,000 detailed rows is 200 MB that no browser shows in seconds, and nobody reads
it: secscan.json and SARIF hold every finding."""

KIND_LABEL = {Kind.SAST: "code (SAST)", Kind.DEPENDENCY: "dependency", Kind.DAST: "web (DAST)", Kind.SECRET: "secret"}


@lru_cache(maxsize=1)
def _assets() -> tuple[Template, str, str]:
    folder = templates_dir() / "html"
    env = Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=True,  # every {{ }} is HTML-escaped; only our own CSS/JS are marked safe
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    css = (folder / "report.css").read_text(encoding="utf-8")
    js = (folder / "report.js").read_text(encoding="utf-8")
    return env.get_template("report.html.j2"), css, js


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def _bars(counts: list[tuple[str, str, int]], width: int = 360) -> dict[str, Any]:
    """Geometry for a horizontal bar chart (computed here so the SVG needs no script)."""
    top = max((n for _, _, n in counts), default=0) or 1
    row_h, label_w, num_w = 26, 110, 56
    bar_room = width - label_w - num_w
    bars = []
    for i, (label, color, n) in enumerate(counts):
        bars.append(
            {
                "label": label,
                "color": color,
                "count": n,
                "y": i * row_h,
                "w": 0 if n == 0 else max(3, round(bar_room * n / top)),
                "x": label_w,
                "tx": label_w + (0 if n == 0 else max(3, round(bar_room * n / top))) + 6,
            }
        )
    return {"bars": bars, "width": width, "height": len(counts) * row_h, "label_w": label_w}


def _run_date(result: RunResult) -> date | None:
    try:
        return c.parse_timestamp(result.finished_at or result.started_at, "finished_at").date()
    except InputError:  # only used for the "expires in" hint; without it the raw date is shown
        return None


def _expiry(expires: str | None, today: date | None) -> tuple[str, str]:
    """(text, css class) for a suppression's expiry, relative to the run's date (never the clock)."""
    if not expires:
        return "never", "muted"
    try:
        when = date.fromisoformat(expires)
    except ValueError:
        return expires, "muted"
    if today is None:
        return expires, ""
    days = (when - today).days
    if days < 0:
        return f"{expires} (expired {-days} d before this run)", "bad"
    if days <= 30:
        return f"{expires} (in {days} d)", "warn"
    return f"{expires} (in {days} d)", ""


def _finding_view(f: Finding, n: int, blocking: frozenset[str], today: date | None) -> SimpleNamespace:
    # A namespace, not a dict: jinja2 looks attributes up with getattr() first, and a dict's
    # failing getattr (an exception per field) was a third of the time for 100,000 findings.
    loc = f.location
    where = c.location_text(loc)
    idents = []
    for i in f.identifiers:
        url = i.url if c.is_http_url(i.url) else None
        if url is None and i.type.lower() == "cwe":
            num = c.cwe_number(i)
            url = f"https://cwe.mitre.org/data/definitions/{num}.html" if num else None
        idents.append(
            {
                "text": i.value if i.type.lower() in ("cwe", "cve", "ghsa", "pysec") else f"{i.type}: {i.value}",
                "url": url,
            }
        )
    sup = None
    if f.suppression is not None:
        s = f.suppression
        exp_text, exp_class = _expiry(s.expires, today)
        sup = SimpleNamespace(
            reason=s.reason,
            origin=s.origin,
            owner=s.owner or "",
            ticket=s.ticket or "",
            matched_by=s.matched_by or "",
            expires=exp_text,
            expires_class=exp_class,
        )
    search = " ".join(
        x
        for x in (
            f.rule_id,
            f.title,
            f.message,
            where,
            f.scanner,
            f.fingerprint,
            " ".join(i.value for i in f.identifiers),
            " ".join(f.compliance),
        )
        if x
    ).lower()
    return SimpleNamespace(
        n=n,
        severity=f.severity.value,
        sev_rank=f.severity.rank,
        status=f.status.value,
        status_rank=c.STATUS_ORDER.index(f.status),
        kind=f.kind.value,
        kind_label=KIND_LABEL[f.kind],
        blocking=c.is_blocking(f, blocking),
        rule_id=f.rule_id,
        title=f.title or f.rule_id,
        message=f.message,
        scanner=f.scanner,
        where=where,
        other_locations=[c.location_text(x) for x in f.other_locations],
        snippet=c.snippet_for(f) or "",
        evidence=loc.evidence or "",
        fix=f.fix or "",
        fixed_versions=list(f.fixed_versions),
        references=[{"url": r, "link": c.is_http_url(r)} for r in f.references],
        identifiers=idents,
        compliance=list(f.compliance),
        sources=[{"scanner": s.scanner, "rule_id": s.rule_id, "severity": s.severity_original} for s in f.sources],
        fingerprint=c.stable_id(f),
        confidence=f.confidence.value,
        severity_original=f.severity_original,
        suppression=sup,
        pending=terminal.pending_text(f),
        tags=list(f.tags),
        search=search,
    )


class _Views:
    """The findings' views, built one at a time while the template loops over them.

    For 100,000 findings, holding every view at once cost more memory than the HTML itself.
    """

    def __init__(self, findings: list[Finding], blocking: frozenset[str], today: date | None) -> None:
        self._findings = findings
        self._blocking = blocking
        self._today = today

    def __iter__(self) -> Iterator[SimpleNamespace]:
        for i, f in enumerate(self._findings):
            yield _finding_view(f, i, self._blocking, self._today)

    def __len__(self) -> int:
        return len(self._findings)

    def __bool__(self) -> bool:
        return bool(self._findings)


def _by_rule(findings: list[Finding], blocking: frozenset[str]) -> tuple[list[Finding], list[SimpleNamespace]]:
    """Findings grouped by rule (blocking groups first, then the worst and the most frequent),
    each group in :func:`c.sort_key` order; and one summary per group."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.scanner, f.rule_id), []).append(f)

    def rank(fs: list[Finding]) -> tuple[int, int, int, str]:
        blocked = sum(1 for f in fs if c.is_blocking(f, blocking))
        return (-blocked, -max(f.severity.rank for f in fs), -len(fs), fs[0].rule_id)

    ordered_groups = sorted((c.ordered(fs, blocking) for fs in groups.values()), key=rank)
    flat = [f for fs in ordered_groups for f in fs]
    return flat, [
        SimpleNamespace(
            rule_id=fs[0].rule_id,
            scanner=fs[0].scanner,
            title=fs[0].title or fs[0].rule_id,
            severity=max(fs, key=lambda f: f.severity.rank).severity.value,
            count=len(fs),
            active=sum(1 for f in fs if f.status is not Status.FIXED),
            blocking=sum(1 for f in fs if c.is_blocking(f, blocking)),
            test_code=sum(1 for f in fs if TEST_CODE in f.tags),
        )
        for fs in ordered_groups
    ]


def context(result: RunResult) -> dict[str, Any]:
    """Everything the template shows, as plain data (tests and other templates can reuse it)."""
    blocking = c.blocking_fingerprints(result)
    findings, rules = _by_rule(list(result.findings), blocking)
    counts = c.counts(result)  # the terminal's and the Markdown summary's counts
    today = _run_date(result)
    sev, st, kinds = counts.by_severity, counts.by_status, counts.by_kind
    views = _Views(findings[:MAX_ROWS], blocking, today)
    first_row: dict[tuple[str, str], int] = {}
    for i, f in enumerate(findings[:MAX_ROWS]):
        first_row.setdefault((f.scanner, f.rule_id), i)
    for r in rules:
        r.first = first_row.get((r.scanner, r.rule_id))
    scanners = [
        {
            "name": s.name,
            "state": s.state.value,
            "ok": not s.state.is_error and not s.not_audited,
            "error_state": s.state.is_error,
            "version": s.version or "",
            "duration": f"{s.duration_s:.1f} s",
            "results": s.findings,
            "findings": counts.findings_of(s.name),
            "error": s.error or "",
            "not_audited": ", ".join(s.not_audited),
        }
        for s in result.scanners
    ]
    v = result.verdict
    verdict = None
    if v is not None:
        verdict = {
            "passed": v.passed,
            "exit_code": v.exit_code,
            "policy": v.policy or "default",
            "reasons": [{"rule": r.rule, "message": r.message} for r in v.reasons],
            "warnings": list(v.warnings),
        }
    dur = c.duration_s(result)
    run = [
        ("Target", result.target),
        ("secscan", result.tool_version or "unknown"),
        ("Started", result.started_at),
        ("Finished", result.finished_at),
        ("Duration", f"{dur:.1f} s" if dur is not None else ""),
        ("Policy", v.policy if v is not None else "not gated"),
        ("Advisory database", result.advisory_db or ""),
        ("Baseline", result.baseline or ""),
        ("Diff base", result.diff_base or ""),
        *[(k, val) for k, val in result.meta],
    ]
    return {
        "result": result,
        "title": f"secscan report: {result.target}" if result.target else "secscan report",
        "verdict": verdict,
        "total": counts.total,
        "all_total": len(findings),
        "blocking_count": sum(1 for f in findings if c.is_blocking(f, blocking)),
        "sev_counts": [(s.value, sev[s], SEVERITY_COLOR[s]) for s in SEVERITIES_DESC],
        "status_counts": [(s.value, n, STATUS_COLOR[s]) for s, n in st.items()],
        "kind_counts": [(KIND_LABEL[k], n, KIND_COLOR[k]) for k, n in kinds.items()],
        "sev_chart": _bars([(s.value, SEVERITY_COLOR[s], sev[s]) for s in SEVERITIES_DESC]),
        "kind_chart": _bars([(KIND_LABEL[k], KIND_COLOR[k], n) for k, n in kinds.items()]),
        "status_chart": _bars([(s.value, STATUS_COLOR[s], n) for s, n in st.items()]),
        "scanners": scanners,
        "sev_rows": [
            (r.name, [r.by_severity[s] for s in SEVERITIES_DESC], r.findings) for r in counts.scanners if r.findings
        ],
        "scanners_ok": sum(1 for s in scanners if s["ok"]),
        "findings": views,
        "rules": rules,
        "unlisted": max(0, len(findings) - MAX_ROWS),
        "max_rows": MAX_ROWS,
        "suppressed": [
            _finding_view(f, i, blocking, today) for i, f in enumerate(findings[:MAX_ROWS]) if f.suppression is not None
        ],
        "run": [(k, val) for k, val in run if val],
        "warnings": list(result.warnings),
        "severities": [s.value for s in SEVERITIES_DESC],
        "statuses": [s.value for s in c.STATUS_ORDER],
        "kinds": [(k.value, KIND_LABEL[k]) for k in c.KIND_ORDER],
    }


def render(result: RunResult) -> str:
    template, css, js = _assets()
    csp = (
        "default-src 'none'; "
        f"script-src {_csp_hash(js)}; style-src {_csp_hash(css)}; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    # Streamed into one buffer instead of template.render()'s list of millions of small strings.
    own_css, own_js = Markup(css), Markup(js)  # noqa: S704 - secscan's own files, not input
    buf = io.StringIO()
    for chunk in template.generate(context(result), css=own_css, js=own_js, csp=csp):
        buf.write(chunk)
    return buf.getvalue()
