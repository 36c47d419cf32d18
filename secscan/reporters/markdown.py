"""The Markdown summary: merge request notes and job logs.

Every piece of scanner text goes through :mod:`secscan.textsafe` (a finding's message may try to
``@mention`` people, inject links, images or HTML). GitLab rejects notes over 1,000,000
characters, so the findings list is cut to fit ``max_chars`` with a clear count of what was left
out and a pointer to the full report. The pieces (:func:`render_header`,
:func:`render_findings_table`, ...) are public so the GitLab note can reuse them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from secscan.models import PENDING_SETTINGS, Finding, RunResult, ScannerState, Severity, Status
from secscan.reporters import _common as c
from secscan.reporters import terminal
from secscan.testcode import TAG as TEST_CODE
from secscan.textsafe import gitlab_code_block, md_code_span, md_text, strip_controls

GITLAB_NOTE_LIMIT = 1_000_000

SEVERITY_ICON = {
    Severity.CRITICAL: "🟥",
    Severity.HIGH: "🟧",
    Severity.MEDIUM: "🟨",
    Severity.LOW: "🟦",
    Severity.INFO: "⬜",
}
STATE_ICON = {
    ScannerState.OK: "✅",
    ScannerState.FAILED: "❌",
    ScannerState.TIMEOUT: "⏱️",
    ScannerState.NOT_INSTALLED: "❌",
    ScannerState.SKIPPED: "➖",
}
TABLE_HEAD = "| Severity | Status | Finding | Location | Scanner |\n|---|---|---|---|---|\n"


def _verdict_line(result: RunResult) -> str:
    v = result.verdict
    if v is None:
        return "**Verdict:** not gated yet"
    if v.passed:
        return f"✅ **Security gate passed** (policy {md_text(v.policy, 100) or 'default'})"
    what = "a scanner failed (fail closed)" if v.exit_code == 3 else "blocking findings"
    return f"❌ **Security gate failed**: {what} (exit {v.exit_code}, policy {md_text(v.policy, 100) or 'default'})"


def render_header(result: RunResult) -> str:
    """Title, verdict, and the counts by severity, status and kind."""
    n = c.counts(result)
    lines = [
        "## secscan security report",
        "",
        _verdict_line(result),
        "",
        f"**{n.total} finding{'s' if n.total != 1 else ''}**: "
        + " · ".join(f"{SEVERITY_ICON[s]} {k} {s.value}" for s, k in n.by_severity.items()),
        "",
        "Status: "
        + " · ".join(f"{k} {s.value}" for s, k in n.by_status.items())
        + " — Kind: "
        + " · ".join(f"{k} {kind.value}" for kind, k in n.by_kind.items()),
    ]
    return "\n".join(lines) + "\n"


def render_pending(result: RunResult, limit: int = 20) -> str:
    """The merge request's own changes to secscan's settings: shown, not applied (trust)."""
    pending = [w[len(PENDING_SETTINGS) :] for w in result.warnings if w.startswith(PENDING_SETTINGS)]
    if not pending:
        return ""
    lines = [
        "### This merge request changes secscan settings",
        "",
        "They do not decide this verdict; they apply once merged (after review):",
        "",
    ]
    lines += [f"- {md_text(p, 600)}" for p in pending[:limit]]
    if len(pending) > limit:
        lines.append(f"- … and {len(pending) - limit} more")
    return "\n".join(lines) + "\n"


def render_reasons(result: RunResult, limit: int = 10) -> str:
    """Why the gate failed: each policy clause once, with the number of findings it blocks
    (listed below), and the run's own reasons (first ``limit``)."""
    v = result.verdict
    if v is None or not v.reasons:
        return ""
    lines = ["### Why the gate failed", ""]
    per_clause: dict[str, int] = {}
    for r in v.reasons:
        if r.fingerprint:
            per_clause[r.rule] = per_clause.get(r.rule, 0) + 1
    for rule, n in per_clause.items():
        lines.append(f"- {md_code_span(rule, 80)}: {_plural(n, 'blocking finding')} (below)")
    run_reasons = [r for r in v.reasons if not r.fingerprint]
    for r in run_reasons[:limit]:
        lines.append(f"- {md_code_span(r.rule, 80)}: {md_text(r.message, 300)}")
    if len(run_reasons) > limit:
        lines.append(f"- … and {len(run_reasons) - limit} more")
    for w in v.warnings:
        lines.append(f"- ⚠️ {md_text(w, 300)}")
    return "\n".join(lines) + "\n"


def render_scanner_table(result: RunResult) -> str:
    """Scanner health: a failed or partial scanner is never silent."""
    if not result.scanners:
        return ""
    counts = c.counts(result)
    lines = [
        "### Scanners",
        "",
        "_Results: what the scanner reported; findings: after merging one problem's results (as counted above)._",
        "",
        "| Scanner | State | Version | Results | Findings | Time | Note |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in result.scanners:
        note = s.error or ""
        if s.not_audited:
            note = (note + "; " if note else "") + f"not audited: {', '.join(s.not_audited)}"
        lines.append(
            f"| {md_text(s.name, 40)} | {STATE_ICON[s.state]} {s.state.value} | {md_text(s.version or '-', 40)} "
            f"| {s.findings} | {counts.findings_of(s.name)} | {s.duration_s:.1f}s | {md_text(note, 300)} |"
        )
    return "\n".join(lines) + "\n"


def finding_row(f: Finding, blocking: frozenset[str] = frozenset()) -> str:
    """One table row; every cell escaped (``|`` included, so a message cannot add columns)."""
    sev = f"{SEVERITY_ICON[f.severity]} {f.severity.value}"
    status = f.status.value + (" ⛔ blocking" if c.is_blocking(f, blocking) else "")
    if f.status is Status.SUPPRESSED and f.suppression is not None:
        status += f" ({md_text(f.suppression.reason, 80)})"
    elif terminal.pending_text(f):
        status += " ⏳ suppression pending review"
    title = f"**{md_text(f.title or f.rule_id, 120)}** {md_text(f.rule_id, 80)}"
    if f.message and f.message != f.title:
        title += f"<br>{md_text(f.message, 240)}"
    return f"| {sev} | {status} | {title} | {md_text(c.location_text(f.location), 160)} | {md_text(f.scanner, 30)} |\n"


def render_findings_table(
    findings: Sequence[Finding],
    limit: int | None = None,
    *,
    blocking: frozenset[str] = frozenset(),
    report_url: str | None = None,
) -> str:
    """A findings table of the first ``limit`` findings (in the given order), plus a count line."""
    if not findings:
        return "_No findings._\n"
    shown = findings if limit is None else findings[: max(0, limit)]
    out = TABLE_HEAD + "".join(finding_row(f, blocking) for f in shown)
    return out + _more_line(len(findings) - len(shown), report_url)


def blocking_block(f: Finding, *, n: int, expires: date) -> str:
    """One blocking finding, everything needed to act on it: place, code (masked, in a block
    nothing can break out of), message, fix, identifiers, fingerprint and the suppression entry."""
    scanners = ", ".join(sorted({s.scanner for s in f.sources} or {f.scanner}))
    head = (
        f"**{n}. {SEVERITY_ICON[f.severity]} {f.severity.value.capitalize()} · {md_text(f.title or f.rule_id, 160)}** "
        f"{md_code_span(f.rule_id, 120)} · {md_text(scanners, 80)}"
    )
    lines = [head, "", f"at {md_code_span(c.location_text(f.location), 300)}", ""]
    snippet = c.snippet_for(f)
    if snippet:
        lines += [gitlab_code_block(snippet, first_line=f.location.start_line, max_lines=8, max_line_chars=200), ""]
    summary = terminal.message_summary(f)
    if summary:
        lines += [md_text(summary, 1000), ""]
    fix = f.fix or (f"upgrade to {', '.join(f.fixed_versions)}" if f.fixed_versions else "")
    if fix:
        lines += [f"**Fix:** {md_text(fix, 600)}", ""]
    ids = terminal.identifiers(f)
    if ids:
        lines += ["**Identifiers:** " + ", ".join(md_text(i, 80) for i in ids), ""]
    fingerprint = c.stable_id(f)
    lines += [f"**Fingerprint:** {md_code_span(fingerprint, 200)}", ""]
    pending = terminal.pending_text(f)
    if pending:
        lines += [f"⏳ {md_text(pending, 600)}", ""]
    elif f.status in (Status.NEW, Status.EXISTING):
        command = terminal.suppress_command(fingerprint, expires=expires)
        lines += ["**Suppress:**", "", _code_line(command, "shell"), ""]
    return "\n".join(lines)


def _code_line(line: str, info: str) -> str:
    """A one-line fenced block: the fence is longer than any backtick run in it, and the line
    starts with a word (``secscan``), so it can neither close the fence nor be a quick action."""
    flat = " ".join(strip_controls(line).split())
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{flat}\n{fence}"


def render_blocking(
    result: RunResult,
    blockers: Sequence[Finding],
    *,
    budget: int,
    blocking: frozenset[str] = frozenset(),
    report_url: str | None = None,
) -> str:
    """Each blocking finding in full while ``budget`` characters last; the rest as table rows
    (at most :data:`BLOCKING_ROWS`), then a count of what is left for the full report."""
    expires = terminal.suppress_until(result)
    out: list[str] = []
    used = 0
    shown = 0
    for f in blockers:
        block = blocking_block(f, n=shown + 1, expires=expires)
        if used + len(block) > budget and shown:
            break
        out.append(block)
        used += len(block)
        shown += 1
    rest = list(blockers[shown:])
    text = SUPPRESS_HELP + "\n\n" + "\n".join(out)
    if rest:
        text += (
            f"\n{_plural(len(rest), 'more blocking finding')} in short (each in full in the job log and "
            "the full report):\n\n"
        )
        text += render_findings_table(rest, BLOCKING_ROWS, blocking=blocking, report_url=report_url)
    return text


def _more_line(hidden: int, report_url: str | None) -> str:
    if hidden <= 0:
        return ""
    where = (
        f"[the full report]({_safe_url(report_url)})" if _safe_url(report_url) else "the full report (job artifacts)"
    )
    return f"\n**… {hidden} more finding{'s' if hidden != 1 else ''} not shown here**: see {where}.\n"


def _safe_url(url: str | None) -> str | None:
    """Only an http(s) URL without Markdown-breaking characters becomes a link."""
    if not url or not c.is_http_url(url) or any(ch in url for ch in "()[]<> \"'`"):
        return None
    return url


def render_suppressions(findings: Sequence[Finding], limit: int = 50) -> str:
    sup = [f for f in findings if f.status is Status.SUPPRESSED and f.suppression is not None]
    if not sup:
        return ""
    lines = ["### Suppressed (accepted risks)", "", "| Finding | Reason | Owner | Expires |", "|---|---|---|---|"]
    for f in sup[:limit]:
        s = f.suppression
        assert s is not None
        lines.append(
            f"| {md_text(f.rule_id, 80)} {md_text(c.location_text(f.location), 120)} | {md_text(s.reason, 200)} "
            f"| {md_text(s.owner or '-', 60)} | {md_text(s.expires or 'never', 20)} |"
        )
    if len(sup) > limit:
        lines.append(f"\n… and {len(sup) - limit} more suppressed findings.")
    return "\n".join(lines) + "\n"


def render_footer(result: RunResult, report_url: str | None = None) -> str:
    parts = [f"secscan {md_text(result.tool_version or 'unknown', 40)}"]
    if result.started_at:
        parts.append(f"started {md_text(result.started_at, 40)}")
    if result.advisory_db:
        parts.append(f"advisory DB {md_text(result.advisory_db, 80)}")
    if result.baseline:
        parts.append(f"baseline {md_text(result.baseline, 80)}")
    if result.diff_base:
        parts.append(f"diff base {md_text(result.diff_base, 80)}")
    link = _safe_url(report_url)
    if link:
        parts.append(f"[full report]({link})")
    return "<sub>" + " · ".join(parts) + "</sub>\n"


SUMMARY_MAX_CHARS = 29_000
"""The summary's cap on any project size: read by people in a merge request (the HTML report
has every finding), and well under GitLab's note limit."""
BLOCKING_ROWS = 25
SUPPRESS_HELP = (
    "To accept a risk instead of fixing it, run its **Suppress** line with a real reason (in a checkout "
    "of this branch, after a scan): it adds the entry to `.secscan/suppressions.toml`. Suppressions apply "
    "once merged (the target branch's file decides), so the entry goes through review like code."
)
RULE_ROWS = 60
RULE_HEAD = "| Severity | Rule | Finding | Count | First at |\n|---|---|---|---|---|\n"


def _rule_groups(findings: Sequence[Finding]) -> list[tuple[Finding, int]]:
    """(first finding, count) per (scanner, rule), worst severity first, then most frequent."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.scanner, f.rule_id), []).append(f)
    rows = [(max(fs, key=lambda x: x.severity.rank), len(fs)) for fs in groups.values()]
    return sorted(rows, key=lambda r: (-r[0].severity.rank, -r[1], r[0].rule_id))


def render_rule_table(findings: Sequence[Finding], *, limit: int = RULE_ROWS) -> str:
    """Findings grouped by rule with counts (one row per rule, at most ``limit`` rows)."""
    groups = _rule_groups(findings)
    rows = []
    for f, n in groups[:limit]:
        rows.append(
            f"| {SEVERITY_ICON[f.severity]} {f.severity.value} | {md_code_span(f.rule_id, 80)} "
            f"| {_rule_text(f)} | {n} | {md_text(c.location_text(f.location), 120)} |\n"
        )
    more = f"\n… and {len(groups) - limit} more rules (see the full report).\n" if len(groups) > limit else ""
    return RULE_HEAD + "".join(rows) + more


def _rule_text(f: Finding) -> str:
    text = f"**{md_text(f.title or f.rule_id, 120)}**"
    if f.message and f.message != f.title:
        text += f"<br>{md_text(f.message, 160)}"
    return text


def _details(summary: str, body: str, *, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}>\n<summary>{summary}</summary>\n\n{body.rstrip()}\n\n</details>\n"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render(result: RunResult, *, report_url: str | None = None, max_chars: int = SUMMARY_MAX_CHARS) -> str:
    """The summary: verdict, counts, the blocking findings, new findings grouped by rule, the
    others collapsed, a link to the full report; at most ``max_chars`` characters whatever the
    number of findings (sections are cut, each saying what it left out)."""

    blocking = c.blocking_fingerprints(result)
    findings = c.ordered(result.findings, blocking)
    active = c.active(findings)
    parts_head = (render_header(result), render_reasons(result), render_pending(result), render_scanner_table(result))
    head = "\n".join(x for x in parts_head if x)
    parts: list[str] = []
    blockers = [f for f in findings if c.is_blocking(f, blocking)]
    if blockers:
        budget = max(2_000, max_chars * 6 // 10 - len(head))
        parts.append(
            f"### Blocking findings ({len(blockers)})\n\n"
            + render_blocking(result, blockers, budget=budget, blocking=blocking, report_url=report_url)
        )
    new = [f for f in active if f.status is Status.NEW and TEST_CODE not in f.tags]
    new_tests = [f for f in active if f.status is Status.NEW and TEST_CODE in f.tags]
    others = [f for f in active if f.status is not Status.NEW]
    if new:
        groups = len({(f.scanner, f.rule_id) for f in new})
        parts.append(
            "### New findings by rule\n\n"
            + _details(
                f"{_plural(len(new), 'new finding')} in {_plural(groups, 'rule')}", render_rule_table(new), open_=True
            )
        )
    if new_tests:
        parts.append(
            "### New findings in test code\n\n"
            + _details(
                f"{_plural(len(new_tests), 'finding')} in test code (not blocking unless the policy says so)",
                render_rule_table(new_tests),
            )
        )
    if others:
        parts.append(
            "### Existing and suppressed findings\n\n"
            + _details(_plural(len(others), "finding") + " not new in this change", render_rule_table(others))
        )
    if not active:
        parts.append("### Findings\n\n_No findings._\n")
    sup = render_suppressions(findings, limit=20)
    if sup:
        parts.append(_details("Suppressed (accepted risks)", sup))
    footer = render_footer(result, report_url)
    cut_note = _more_line(1, report_url).replace("… 1 more finding not shown here", "… more sections not shown here")
    text = head
    for part in parts:
        if len(text) + 1 + len(part) + len(footer) + len(cut_note) + 1 > max_chars:
            text += "\n" + cut_note
            break
        text += "\n" + part
    text += "\n" + footer
    if len(text) > max_chars:
        # Even the fixed parts do not fit (a tiny max_chars): cut hard, but say so.
        marker = "\n… (summary truncated; see the full report)\n"
        text = text[: max(0, max_chars - len(marker))] + marker
    return text
