"""The bodies secscan posts: the summary note, inline thread bodies and resolve replies (pure).

Everything taken from a finding is untrusted (it comes from the code under review) and goes
through :mod:`secscan.textsafe`; URLs from CI variables become links only when they are plain
http(s) URLs. Every body is masked for the operator's credentials last, after the Markdown
escaping and the quick-action guard (:mod:`secscan.credentials`). No clock is read: a re-run
with the same result renders byte-identical bodies, which is what lets the publisher skip the edit
entirely.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from secscan.credentials import mask
from secscan.gitlab import markers, suggest
from secscan.models import Finding, RunResult, Severity, Status, Suppression
from secscan.reporters import _common as c
from secscan.reporters import markdown, terminal
from secscan.textsafe import defuse_quick_actions, gitlab_code_block, md_code_span, md_text

NOTE_LIMIT = 1_000_000  # GitLab rejects longer notes (Note validates `note` at 1,000,000 characters)
# Well under GitLab's limit: a summary is read by people, and the HTML report has the rest. The
# fallbacks are used when GitLab still answers "too long" (e.g. an instance with a smaller limit).
SUMMARY_LIMIT = markdown.SUMMARY_MAX_CHARS
SUMMARY_FALLBACK_LIMIT = 20_000
THREAD_LIMIT = 16_000
SNIPPET_LINES = 10
SNIPPET_LINE_CHARS = 200
_SAFE_URL = re.compile(r"^https?://[^\s<>()\[\]`\"'\\]+$")
SEVERITY_LABEL = {s: f"{markdown.SEVERITY_ICON[s]} **{s.value.capitalize()}**" for s in Severity}


def safe_url(url: str | None) -> str | None:
    """A URL that may become a Markdown link (http(s), nothing that can end the link early)."""
    return url if url and _SAFE_URL.match(url) else None


@dataclass(frozen=True, kw_only=True)
class InlineReport:
    """What happened to inline threads, for the summary."""

    min_severity: Severity
    max_threads: int
    threads_open: int = 0
    """Findings discussed inline (threads that exist after this run)."""
    over_cap: tuple[Finding, ...] = ()
    """New findings that qualified for a thread but exceeded --max-threads."""
    unplaced: tuple[Finding, ...] = ()
    """New findings GitLab refused to position (400): listed in full here instead."""
    state_line: str | None = None
    """Hidden marker remembering rejected positions (so a re-run does not retry them)."""
    unplaced_reason: str | None = None
    """Why ``unplaced`` findings are not inline, when it is not GitLab refusing a position."""
    over_limit: tuple[Finding, ...] = ()
    """New findings not discussed inline because the merge request is at GitLab's comment limit."""
    notices: tuple[str, ...] = ()
    """secscan's own one-line notices (no untrusted text), e.g. a role the token lacks."""


def _finding_line(f: Finding) -> str:
    loc = md_text(c.location_text(f.location), 160)
    return (
        f"- {SEVERITY_LABEL[f.severity]} {md_text(f.title or f.rule_id, 120)} "
        f"({md_code_span(f.rule_id, 80)}, {md_text(f.scanner, 30)}) at {loc}: {md_text(f.message, 300)}"
    )


def render_inline_section(inline: InlineReport, *, limit: int = 50) -> str:
    lines: list[str] = []
    for notice in inline.notices:
        lines += [f"⚠️ {notice}", ""]
    if inline.unplaced:
        lines += ["### Not placed inline", ""]
        lines.append(
            inline.unplaced_reason
            or "GitLab could not attach these new findings to a diff line, so they are listed here:"
        )
        lines.append("")
        lines += [_finding_line(f) for f in inline.unplaced[:limit]]
        if len(inline.unplaced) > limit:
            lines.append(f"- … and {len(inline.unplaced) - limit} more (see the full report)")
        lines.append("")
    if inline.over_limit:
        n = len(inline.over_limit)
        lines.append(
            f"**{n} new finding{'s' if n != 1 else ''}** not discussed inline: the merge request has reached "
            "GitLab's limit of comments:"
        )
        lines.append("")
        lines += [_finding_line(f) for f in inline.over_limit[:limit]]
        if n > limit:
            lines.append(f"- … and {n - limit} more (see the full report)")
        lines.append("")
    if inline.over_cap:
        n = len(inline.over_cap)
        lines.append(
            f"**{n} more new finding{'s' if n != 1 else ''}** at or above {inline.min_severity.value} "
            f"{'are' if n != 1 else 'is'} not discussed inline (at most {inline.max_threads} threads):"
        )
        lines.append("")
        lines += [_finding_line(f) for f in inline.over_cap[:limit]]
        if n > limit:
            lines.append(f"- … and {n - limit} more (see the full report)")
        lines.append("")
    return "\n".join(lines)


def render_links(*, job_url: str | None, pipeline_url: str | None, html_report_url: str | None) -> str:
    parts = []
    for label, url in (("HTML report", html_report_url), ("job", job_url), ("pipeline", pipeline_url)):
        link = safe_url(url)
        if link:
            parts.append(f"[{label}]({link})")
    return ("🔗 " + " · ".join(parts) + "\n") if parts else ""


def render_summary(
    result: RunResult,
    *,
    report: str,
    inline: InlineReport,
    job_url: str | None = None,
    pipeline_url: str | None = None,
    html_report_url: str | None = None,
    commit_sha: str | None = None,
    limit: int = SUMMARY_LIMIT,
) -> str:
    """The summary note: marker line, the [reports] Markdown summary, inline-thread accounting, links.

    At most ``limit`` characters (the findings table is cut first, with a count)."""
    head = markers.summary_marker(report) + "\n"
    if report != "secscan":
        head += f"**Report:** {md_text(report, 64)}\n\n"
    extra = render_inline_section(inline)
    links = render_links(job_url=job_url, pipeline_url=pipeline_url, html_report_url=html_report_url)
    sha = commit_sha if commit_sha and re.fullmatch(r"[0-9a-fA-F]{7,64}", commit_sha) else None
    tail_parts = [x for x in (extra, links) if x]
    if sha:
        tail_parts.append(
            f"<sub>commit {sha[:12]} · findings at or above {inline.min_severity.value} on changed "
            f"lines get a thread ({inline.threads_open} open)</sub>\n"
        )
    tail = "\n".join(tail_parts)
    if inline.state_line:
        tail += "\n" + inline.state_line + "\n"
    room = max(1_000, limit - len(head) - len(tail) - 100)
    body = markdown.render(result, report_url=safe_url(html_report_url), max_chars=room)
    return mask(defuse_quick_actions(head + body.rstrip("\n") + "\n\n" + tail))[:NOTE_LIMIT]


def thread_body(
    f: Finding,
    *,
    report: str,
    key: str,
    limit: int = THREAD_LIMIT,
    line: int | None = None,
    line_text: str | None = None,
    path: str | None = None,
    target: str | None = None,
) -> str:
    """An inline thread: marker, severity, title, message, fix, snippet (secrets redacted).

    Capped at ``limit`` characters whatever the finding holds: the snippet is cut to
    ``SNIPPET_LINES`` lines of ``SNIPPET_LINE_CHARS`` characters, and dropped if even that is too
    long (a 1.2 million-character minified line still gets its thread)."""
    head = [markers.thread_marker(report, key)]
    head.append(
        f"{SEVERITY_LABEL[f.severity]}: {md_text(f.title or f.rule_id, 160)} "
        f"({md_code_span(f.rule_id, 80)} · {md_text(f.scanner, 30)})"
    )
    head.append("")
    if f.message and f.message != f.title:
        head += [md_text(f.message, 1000), ""]
    ids = [md_text(i.value, 40) for i in f.identifiers if i.type in ("cwe", "owasp", "cve", "ghsa")]
    if ids:
        head += ["**Identifiers:** " + ", ".join(ids[:8]), ""]
    if f.fix:
        head += [f"**Fix:** {md_text(f.fix, 600)}", ""]
    pending = terminal.pending_text(f)
    if pending:
        head += [f"⏳ {md_text(pending, 600)}", ""]
    foot = f"<sub>secscan · {md_code_span(key, 140)} · new in this merge request</sub>"
    snippet = c.snippet_for(f)
    block: list[str] = []
    if snippet:
        block = [
            gitlab_code_block(
                snippet,
                first_line=f.location.start_line,
                max_lines=SNIPPET_LINES,
                max_line_chars=SNIPPET_LINE_CHARS,
            ),
            "",
        ]
    return _finish(head, _suggestion(f, line, line_text, path, target), block, foot, limit)


def _finish(head: list[str], offer: list[str], block: list[str], foot: str, limit: int) -> str:
    """The thread's text, masked and defused, with the suggestion only if it survives both."""
    if offer:
        with_offer = mask(defuse_quick_actions("\n".join([*head, *offer, *block, foot]) + "\n"))
        # Posted only as built: if masking or the quick-action guard changed it, applying it
        # would write their marks into the code.
        if offer[1] in with_offer and len(with_offer) <= limit:
            return with_offer
    body = mask(defuse_quick_actions("\n".join([*head, *block, foot]) + "\n"))
    if len(body) > limit:
        body = mask(defuse_quick_actions("\n".join([*head, foot]) + "\n"))[:limit]
    return body


PIN_ADVISORIES = 20
"""At most this many advisories are listed in a pin's thread (the rest are counted)."""


def pin_thread_body(
    findings: Sequence[Finding],
    *,
    report: str,
    key: str,
    limit: int = THREAD_LIMIT,
    line: int | None = None,
    line_text: str | None = None,
    path: str | None = None,
    target: str | None = None,
) -> str:
    """The one thread on a dependency pin with several advisories: each advisory listed, and one
    suggestion moving the pin to ``target``, the lowest version that fixes all of them."""
    first = findings[0]
    worst = max(findings, key=lambda f: f.severity.rank)
    pinned = f"{first.location.package or ''} {first.location.version or ''}".strip()
    head = [
        markers.thread_marker(report, key),
        f"{SEVERITY_LABEL[worst.severity]}: {len(findings)} advisories for {md_code_span(pinned, 120)} "
        f"({md_text(first.scanner, 30)})",
        "",
    ]
    for f in findings[:PIN_ADVISORIES]:
        ids = ", ".join(md_text(i.value, 40) for i in f.identifiers if i.type in ("cve", "ghsa"))
        fixed = f" · fixed in {md_text(', '.join(f.fixed_versions), 120)}" if f.fixed_versions else ""
        head.append(
            f"- {SEVERITY_LABEL[f.severity]} {md_code_span(f.rule_id, 80)} {md_text(f.title or '', 160)}"
            + (f" ({ids})" if ids else "")
            + fixed
        )
    if len(findings) > PIN_ADVISORIES:
        head.append(f"- … and {len(findings) - PIN_ADVISORIES} more (in the summary's report)")
    head.append("")
    if target:
        head += [f"**Fix:** upgrade to {md_code_span(target, 60)}, the lowest version that fixes all of them", ""]
    foot = f"<sub>secscan · {md_code_span(key, 140)} · new in this merge request</sub>"
    return _finish(head, _suggestion(first, line, line_text, path, target), [], foot, limit)


def _suggestion(f: Finding, line: int | None, line_text: str | None, path: str | None, target: str | None) -> list[str]:
    """The lines of a suggestion the author can apply (secscan/gitlab/suggest.py), or none."""
    if line is None:
        return []
    new_line = suggest.fixed_line(f, line=line, text=line_text, path=path, target=target)
    if new_line is None:
        return []
    return ["**Suggested fix** (apply it in one click):", suggest.block(new_line), ""]


def resolve_reply(f: Finding | None, *, report: str, key: str, commit_sha: str | None) -> str:
    """The short reply posted after a thread is resolved because its finding went away."""
    at = f" at commit {commit_sha[:12]}" if commit_sha and re.fullmatch(r"[0-9a-fA-F]{7,64}", commit_sha) else ""
    if f is not None and f.status is Status.SUPPRESSED:
        text = "Resolved by secscan: this finding is now suppressed" + at + _suppression_text(f.suppression) + "."
    else:
        text = "✅ Resolved by secscan: this finding is no longer reported" + at + "."
    return mask(defuse_quick_actions(markers.reply_marker(report, key, "resolved") + "\n" + text + "\n"))


def note_link(web_url: str | None, note_id: int) -> str:
    """A link to one note of the merge request (GitLab's ``#note_<id>`` anchor), or its id as text."""
    base = safe_url(web_url)
    return f"[note {int(note_id)}]({base}#note_{int(note_id)})" if base else f"note {int(note_id)}"


def duplicate_reply(*, report: str, key: str, kept_link: str) -> str:
    """Posted in an extra thread for a finding (from a race or a crashed run) when it is resolved."""
    return mask(
        defuse_quick_actions(
            markers.reply_marker(report, key, "duplicate")
            + f"\nResolved by secscan: a duplicate of the thread at {kept_link}, which is kept for this finding.\n"
        )
    )


def superseded_body(*, report: str, kept_link: str) -> str:
    """What an extra summary note becomes when GitLab will not let secscan delete it."""
    return mask(
        defuse_quick_actions(
            markers.superseded_marker(report) + f"\nThis secscan summary was replaced by the one at {kept_link}.\n"
        )
    )


def _suppression_text(s: Suppression | None) -> str:
    if s is None:
        return ""
    text = f" ({md_text(s.reason, 200)}"
    if s.owner:
        text += f", owner {md_text(s.owner, 60)}"
    if s.expires:
        text += f", until {md_text(s.expires, 20)}"
    return text + ")"


def dry_run_listing(kind: str, target: str, body: str) -> str:
    """How ``--dry-run`` shows one write."""
    return mask(f"--- would {kind} {target}\n{body.rstrip()}\n")
