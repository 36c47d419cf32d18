"""Plain-text rendering for terminals and CI job logs: findings a developer can act on.

Every blocking finding is shown with its place, its lines of code (masked), the rule's message,
the fix, its identifiers, its fingerprint and a suppression entry to paste; the policy clause
that blocks them is said once, above them. Findings that do not block are counted per rule (each
one is listed with ``verbose``). ``secscan scan``, ``secscan gate`` and the ``terminal`` report
format all print these same lines (:func:`details`).

No colour codes (the output is pure and goes to files too), no wrapping and no cutting (a CI log
has no width: lines are as long as their content), and every untrusted string has its control
characters stripped: a finding's message must not be able to send terminal escape sequences
(clear the screen, rewrite the verdict line) to whoever reads the log.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
from collections import Counter
from collections.abc import Iterable

from secscan.models import PENDING_SUPPRESSION, Finding, RunResult, Status
from secscan.reporters import _common as c
from secscan.textsafe import one_line, strip_controls

RULE = "-" * 100
CODE_LINES = 6
"""At most this many lines of a finding's code are shown (semgrep's output shows the match; a
multi-line match longer than this is the start of a function, not more information)."""
LONG = 2000
"""One untrusted text longer than this is cut: only a minified file or a hostile report has
such lines, and a CI log is not where they are read."""
FULL_BLOCKING = 100
BRIEF_BLOCKING = 1000
"""Without --verbose, the first FULL_BLOCKING blocking findings are shown in full and the next
BRIEF_BLOCKING in one line each: GitLab cuts a job log at 4 MB by default, and the verdict line
comes last."""
SUPPRESS_DAYS = 90
"""The suggested suppression expires this long after the run: an accepted risk is reviewed again."""
REASON = "REASON: why this finding is not a risk here"
_PARAGRAPH = re.compile(r"\n\s*\n")
# Identifier namespaces worth showing; the scanners' own rule names are already the rule id.
_SHOWN_IDS = ("cve", "ghsa", "pysec", "osv", "cwe", "owasp", "wasc", "zap_plugin")


def _clean(text: str, limit: int = LONG) -> str:
    return one_line(text, limit)


# ------------------------------------------------------------------ one finding


def suppress_command(fingerprint: str, *, expires: dt.date, result: str | None = None, reason: str = REASON) -> str:
    """The one line to paste that writes the finding's entry into the trusted suppressions file
    (``secscan suppress``: a ``[[suppression]]`` table in ``.secscan/suppressions.toml``, the owner
    from git). Every value is shell-quoted: a fingerprint read from a result file cannot add a
    command to the line."""
    argv = ["secscan", "suppress", strip_controls(fingerprint), "--reason", reason, "--expires", expires.isoformat()]
    if result:
        argv += ["--result", strip_controls(result)]
    return shlex.join(argv)


def suppress_until(result: RunResult) -> dt.date:
    """The suggested expiry: :data:`SUPPRESS_DAYS` after the run (the clock arrives as data)."""
    try:
        day = c.parse_timestamp(result.finished_at, "finished_at").date()
    except Exception:  # noqa: BLE001 - a result without a readable time still gets an entry
        day = dt.date(2000, 1, 1)
    return day + dt.timedelta(days=SUPPRESS_DAYS)


def _sources(f: Finding) -> str:
    names = sorted({s.scanner for s in f.sources} or {f.scanner})
    return ", ".join(_clean(n, 40) for n in names)


def _code(f: Finding) -> list[str]:
    snippet = c.snippet_for(f)  # masked in the result already; a secret's line is redacted again
    if not snippet:
        return []
    lines = snippet.splitlines() or [snippet]
    start = f.location.start_line
    shown = lines[:CODE_LINES]
    width = len(str((start or 0) + len(shown)))
    out = []
    for n, line in enumerate(shown):
        number = str(start + n).rjust(width) if start else " " * width
        out.append(f"      {number} | {strip_controls(line.rstrip())[:LONG]}")
    if len(lines) > CODE_LINES:
        out.append(f"      {' ' * width} | ... {len(lines) - CODE_LINES} more line(s)")
    return out


def message_summary(f: Finding) -> str:
    """The message's first paragraph that the title does not already say (an advisory's text is
    pages of Markdown: its summary is shown, the rest is in secscan.json and at its reference)."""
    paragraphs = [
        _clean(p) for p in _PARAGRAPH.split(f.message.strip()) if p.strip() and not p.lstrip().startswith("#")
    ]
    said = _clean(f.title)
    paragraphs = [p for p in paragraphs if p not in said]
    if not paragraphs:
        return ""
    return paragraphs[0] + (" (the full text is in secscan.json)" if len(paragraphs) > 1 else "")


def _message(f: Finding) -> list[str]:
    summary = message_summary(f)
    return [f"    {summary}"] if summary else []


def _fix(f: Finding) -> list[str]:
    """The fix: semgrep's replacement code, the fixed dependency version, the remediation."""
    if f.fix:
        fix_lines = [ln for ln in f.fix.strip().splitlines() if ln.strip()] or [""]
        if len(fix_lines) == 1:
            return [f"    fix: {_clean(fix_lines[0])}"]
        return ["    fix:", *(f"      | {strip_controls(ln.rstrip())[:LONG]}" for ln in fix_lines)]
    if f.fixed_versions:
        return [f"    fix: upgrade to {', '.join(_clean(v, 40) for v in f.fixed_versions)}"]
    return []


def identifiers(f: Finding) -> list[str]:
    """The identifiers worth looking up (CVE, GHSA, CWE, OWASP...), each once."""
    ids = [i for i in f.identifiers if i.type.lower() in _SHOWN_IDS]
    ids.sort(key=lambda i: _SHOWN_IDS.index(i.type.lower()))
    return c.dedupe([_clean(("ZAP " if i.type == "zap_plugin" else "") + i.value, 80) for i in ids])


def pending_text(f: Finding) -> str:
    """On an open finding an entry the merge request adds would suppress: that it is pending,
    with the entry's reason and owner (the target branch's file decides until it is merged)."""
    p = f.pending_suppression
    if p is None or f.status not in (Status.NEW, Status.EXISTING):
        return ""
    who = f", owner {_clean(p.owner, 200)}" if p.owner else ""
    return f"{PENDING_SUPPRESSION}: {_clean(p.reason, 300)}{who}"


def finding_lines(f: Finding, *, expires: dt.date, result: str | None = None, suppress: bool = True) -> list[str]:
    """Everything needed to act on one finding, one fact per line."""
    title = _clean(f.title, 300)
    if title.endswith("…") and _clean(f.message).startswith(title[:-1].rstrip()):
        title = ""  # a title cut from the message, which follows in full
    head = f"  {f.severity.value.upper()}  {_clean(f.rule_id, 200)}  {title}".rstrip()
    where = c.location_text(f.location)  # with the commit of a secret found in the history
    lines = [head, f"    at {_clean(where)}  ({_sources(f)}; {f.status.value})"]
    lines += _code(f)
    lines += _message(f)
    lines += _fix(f)
    ids = identifiers(f)
    if ids:
        lines.append(f"    ids: {', '.join(ids)}")
    links = [r for r in f.references if c.is_http_url(r)]
    if links and not f.fix:
        lines.append(f"    see: {_clean(links[0], 500)}")
    if f.status is Status.SUPPRESSED and f.suppression is not None:
        s = f.suppression
        extra = (f", owner {_clean(s.owner, 200)}" if s.owner else "") + (f", expires {s.expires}" if s.expires else "")
        lines.append(f"    suppressed ({s.origin}): {_clean(s.reason)}{extra}")
    if "suppression-expired" in f.tags:
        lines.append("    its suppression expired: renew it (with a reason) or fix the finding")
    pending = pending_text(f)
    if pending:
        lines.append(f"    {pending}")
    fingerprint = c.stable_id(f)
    lines.append(f"    fingerprint: {_clean(fingerprint, 200)}")
    if suppress and f.status in (Status.NEW, Status.EXISTING) and not pending:
        lines.append(f"    suppress: {suppress_command(_clean(fingerprint, 200), expires=expires, result=result)}")
    return lines


# ------------------------------------------------------------------ sections


def _brief(f: Finding) -> str:
    where = _clean(c.location_text(f.location))
    return f"  {f.severity.value.upper()}  {_clean(f.rule_id, 200)}  at {where}  {_clean(c.stable_id(f), 200)}"


def _rules(result: RunResult) -> dict[str, list[str]]:
    """Policy clause -> the fingerprints it blocks, in the verdict's order."""
    out: dict[str, list[str]] = {}
    if result.verdict is not None:
        for r in result.verdict.reasons:
            if r.fingerprint:
                out.setdefault(r.rule, []).append(r.fingerprint)
    return out


def blocking_lines(result: RunResult, *, result_file: str | None = None, verbose: bool = False) -> list[str]:
    """The blocking findings, grouped under the policy clause that blocks them (said once)."""
    v = result.verdict
    if v is None or v.passed:
        return []
    by_fp = {f.fingerprint: f for f in result.findings if f.fingerprint}
    blocking = c.blocking_fingerprints(result)
    expires = suppress_until(result)
    policy = _clean(v.policy, 200) or "default"
    out: list[str] = []
    for rule, fingerprints in _rules(result).items():
        found = [by_fp[fp] for fp in c.dedupe(fingerprints) if fp in by_fp]
        out.append(f"Blocking: {len(found)} finding(s) by {_clean(rule, 200)} (policy {policy})")
        out.append(RULE)
        ordered = c.ordered(found)
        full = ordered if verbose else ordered[:FULL_BLOCKING]
        for f in full:
            out += finding_lines(f, expires=expires, result=result_file)
            out.append("")
        brief = ordered[len(full) : len(full) + BRIEF_BLOCKING]
        out += [_brief(f) for f in brief]
        left = len(ordered) - len(full) - len(brief)
        if brief or left:
            more = f"; {left} more are only in secscan.json" if left else ""
            out += [f"  (the first {len(full)} in full, {len(brief)} in one line each{more}; all with --verbose)", ""]
    others = [r for r in v.reasons if not r.fingerprint or r.fingerprint not in by_fp]
    if others:
        out.append(f"Blocking the run (policy {policy})")
        out.append(RULE)
        out += [f"  {_clean(r.rule, 200)}: {_clean(r.message)}" for r in others]
        out.append("")
    if any(f.status in (Status.NEW, Status.EXISTING) for f in by_fp.values() if c.is_blocking(f, blocking)):
        out.append(
            "To accept a risk instead of fixing it, run its `suppress:` line with a real reason: it adds the "
            "entry to .secscan/suppressions.toml; suppressions apply once merged (the target branch's file "
            "decides), so the entry goes through review like code."
        )
        out.append("")
    return out


def other_lines(result: RunResult, *, verbose: bool, result_file: str | None = None) -> list[str]:
    """Findings that do not block: counted per rule, or (``verbose``) each in full; then the
    baseline's findings no longer found (``fixed``), which are not counted as findings."""
    blocking = c.blocking_fingerprints(result)
    rest = [f for f in c.active(result.findings) if not c.is_blocking(f, blocking)]
    fixed = [f for f in result.findings if f.status is Status.FIXED]
    out: list[str] = []
    expires = suppress_until(result)
    if rest:
        status = Counter(f.status.value for f in rest)
        said = ", ".join(f"{status[s.value]} {s.value}" for s in c.STATUS_ORDER if status[s.value])
        out += [f"Not blocking: {len(rest)} finding(s) ({said})", RULE]
        if verbose:
            for f in c.ordered(rest):
                out += [*finding_lines(f, expires=expires, result=result_file), ""]
        else:
            out += [*_per_rule(rest), "  (each one with --verbose, or in secscan.json)", ""]
    if fixed:
        out += [f"Fixed (in the baseline, no longer found): {len(fixed)}", RULE]
        if verbose:
            for f in c.ordered(fixed):
                out += [*finding_lines(f, expires=expires, result=result_file), ""]
        else:
            out += [*_per_rule(fixed), ""]
    return out


def _per_rule(findings: Iterable[Finding]) -> list[str]:
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.rule_id, f.severity.value), []).append(f)
    rows = sorted(groups.items(), key=lambda kv: (-kv[1][0].severity.rank, -len(kv[1]), kv[0][0]))
    width = max(len(str(len(g))) for _, g in rows)
    out = []
    for (rule_id, sev), group in rows:
        statuses = Counter(f.status.value for f in group)
        said = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
        out.append(
            f"  {len(group):>{width}} x {sev:8} {_clean(rule_id, 200)}  {_clean(group[0].title, 300)}  "
            f"({_sources(group[0])}; {said})"
        )
    return out


def details(result: RunResult, *, verbose: bool = False, result_file: str | None = None) -> list[str]:
    """What ``scan`` and ``gate`` print about findings: the ones that do not block (counted, or
    listed with ``verbose``), then every blocking one in full, closest to the verdict line."""
    return other_lines(result, verbose=verbose, result_file=result_file) + blocking_lines(
        result, result_file=result_file, verbose=verbose
    )


def verdict_lines(result: RunResult) -> list[str]:
    """The verdict, with the reasons counted per policy clause (their findings are listed above)."""
    v = result.verdict
    if v is None:
        return ["VERDICT: not gated"]
    policy = _clean(v.policy, 200) or "default"
    if v.passed:
        out = [f"VERDICT: PASSED (policy {policy})"]
    else:
        counts = Counter(r.rule for r in v.reasons)
        said = "; ".join(f"{_clean(rule, 200)}: {n}" for rule, n in counts.items())
        out = [f"VERDICT: FAILED, exit {v.exit_code} (policy {policy}; {said})"]
    out += [f"  ! {_clean(w)}" for w in v.warnings]
    return out


# ------------------------------------------------------------------ the `terminal` report format


def render(result: RunResult, *, verbose: bool = True) -> str:
    """The ``terminal`` report file: counts, scanners, every finding (``verbose``), the verdict."""
    n = c.counts(result)
    out = [
        f"secscan {_clean(result.tool_version or 'unknown', 40)}: {_clean(result.target)}",
        f"run {_clean(result.started_at, 40)} .. {_clean(result.finished_at, 40)}",
        "=" * len(RULE),
        f"{n.total} findings: " + ", ".join(f"{k} {s.value}" for s, k in n.by_severity.items()),
        "status: " + ", ".join(f"{k} {s.value}" for s, k in n.by_status.items()),
    ]
    if result.advisory_db:
        out.append(f"advisory database: {_clean(result.advisory_db, 200)}")
    out.append("")
    if result.scanners:
        out += ["Scanners (results: what the scanner reported; findings: after merging one problem's results)", RULE]
        for s in result.scanners:
            name, version = _clean(s.name, 40), _clean(s.version or "-", 40)
            out.append(
                f"  {name:14} {s.state.value:14} {version:12} {s.findings:6} results "
                f"{n.findings_of(s.name):6} findings {s.duration_s:7.1f}s"
            )
            if s.error:
                out.append(f"      {_clean(s.error)}")
            if s.not_audited:
                out.append(f"      not audited: {_clean(', '.join(s.not_audited))}")
        out.append("")
    out += details(result, verbose=verbose)
    out += [f"warning: {_clean(w)}" for w in result.warnings]
    out += verdict_lines(result)
    return strip_controls("\n".join(out)) + "\n"
