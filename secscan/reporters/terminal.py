"""Plain-text rendering for terminals and CI job logs.

No colour codes (the output is pure and goes to files too), and every untrusted string has its
control characters stripped: a finding's message must not be able to send terminal escape
sequences (clear the screen, rewrite the verdict line) to whoever reads the log.
"""

from __future__ import annotations

from secscan.models import Finding, RunResult, Status
from secscan.reporters import _common as c
from secscan.textsafe import one_line, strip_controls

WIDTH = 100


def _clean(text: str, limit: int = 200) -> str:
    return one_line(text, limit)


def _verdict(result: RunResult) -> str:
    v = result.verdict
    if v is None:
        return "VERDICT: not gated"
    if v.passed:
        return f"VERDICT: PASSED (policy {_clean(v.policy, 60) or 'default'})"
    return f"VERDICT: FAILED, exit {v.exit_code} (policy {_clean(v.policy, 60) or 'default'})"


def _finding_block(f: Finding, blocking: frozenset[str]) -> list[str]:
    mark = "BLOCKING " if c.is_blocking(f, blocking) else ""
    head = f"[{f.severity.value.upper():8}] {mark}{f.status.value:10} {_clean(f.rule_id, 60)}  {_clean(f.title, 120)}"
    lines = [head]
    where = c.location_text(f.location)
    if where:
        lines.append(f"           at {_clean(where, 200)}  ({_clean(f.scanner, 30)})")
    if f.message and f.message != f.title:
        lines.append(f"           {_clean(f.message, 300)}")
    if f.status is Status.SUPPRESSED and f.suppression is not None:
        s = f.suppression
        extra = "".join(
            (f", owner {_clean(s.owner, 60)}" if s.owner else "", f", expires {s.expires}" if s.expires else "")
        )
        lines.append(f"           suppressed ({s.origin}): {_clean(s.reason, 200)}{extra}")
    if f.fix:
        lines.append(f"           fix: {_clean(f.fix, 200)}")
    return lines


def render(result: RunResult, *, limit: int | None = None) -> str:
    blocking = c.blocking_fingerprints(result)
    findings = c.ordered(result.findings, blocking)
    act = c.active(findings)
    sev = c.count_by_severity(act)
    st = c.count_by_status(findings)
    out = [
        f"secscan {_clean(result.tool_version or 'unknown', 40)}: {_clean(result.target, 200)}",
        f"run {_clean(result.started_at, 40)} .. {_clean(result.finished_at, 40)}",
        "=" * WIDTH,
        _verdict(result),
    ]
    if result.verdict is not None:
        for r in result.verdict.reasons[:20]:
            out.append(f"  - {_clean(r.rule, 60)}: {_clean(r.message, 200)}")
        if len(result.verdict.reasons) > 20:
            out.append(f"  - ... and {len(result.verdict.reasons) - 20} more")
        for w in result.verdict.warnings:
            out.append(f"  ! {_clean(w, 200)}")
    out.append("")
    out.append(f"{len(act)} findings: " + ", ".join(f"{n} {s.value}" for s, n in sev.items()))
    out.append("status: " + ", ".join(f"{n} {s.value}" for s, n in st.items()))
    if result.advisory_db:
        out.append(f"advisory database: {_clean(result.advisory_db, 120)}")
    out.append("")
    if result.scanners:
        out.append("Scanners")
        out.append("-" * WIDTH)
        for s in result.scanners:
            name, version = _clean(s.name, 20), _clean(s.version or "-", 20)
            out.append(f"  {name:12} {s.state.value:14} {version:12} {s.findings:6} findings {s.duration_s:7.1f}s")
            if s.error:
                out.append(f"      {_clean(s.error, 300)}")
            if s.not_audited:
                out.append(f"      not audited: {_clean(', '.join(s.not_audited), 300)}")
        out.append("")
    out.append("Findings")
    out.append("-" * WIDTH)
    shown = findings if limit is None else findings[:limit]
    for f in shown:
        out.extend(_finding_block(f, blocking))
    if not findings:
        out.append("  none")
    if len(shown) < len(findings):
        out.append(f"  ... {len(findings) - len(shown)} more findings not shown (see the full report)")
    for w in result.warnings:
        out.append(f"warning: {_clean(w, 300)}")
    return strip_controls("\n".join(out)) + "\n"
