"""JUnit XML: one test case per finding, so GitLab's test widget shows them on every tier.

Blocking findings (named by the verdict) are failures; suppressed ones are skipped with their
reason; the rest pass with their details in ``system-out``. A scanner that failed to run is an
``error`` test case: a broken scanner must never look like a clean one.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from secscan.models import Finding, RunResult, ScannerStatus, Status
from secscan.reporters import _common as c


def _details(f: Finding) -> str:
    lines = [
        f"{f.severity.value.upper()} {f.kind.value} finding by {f.scanner} ({f.rule_id}), status {f.status.value}",
        f"Where: {c.location_text(f.location) or '-'}",
        f"Fingerprint: {c.stable_id(f)}",
    ]
    if f.message:
        lines.append(f"Message: {f.message}")
    snippet = c.snippet_for(f)
    if snippet:
        lines.append("Snippet:\n" + snippet)
    if f.fix:
        lines.append(f"Fix: {f.fix}")
    if f.fixed_versions:
        lines.append("Fixed in: " + ", ".join(f.fixed_versions))
    ids = [i.value for i in f.identifiers]
    if ids:
        lines.append("Identifiers: " + ", ".join(ids))
    if f.compliance:
        lines.append("Compliance: " + ", ".join(f.compliance))
    lines.extend(f"Reference: {r}" for r in f.references)
    return c.xml_safe("\n".join(lines))


def _suppression_text(f: Finding) -> str:
    s = f.suppression
    if s is None:
        return "suppressed"
    extra = ", ".join(
        x for x in (f"owner {s.owner}" if s.owner else "", f"expires {s.expires}" if s.expires else "") if x
    )
    return c.xml_safe(f"suppressed ({s.origin}): {s.reason}" + (f" [{extra}]" if extra else ""))


def _testcase(parent: ET.Element, f: Finding, blocking: frozenset[str]) -> tuple[int, int]:
    """Add one test case; return (failures, skipped) it contributes."""
    where = c.location_text(f.location)
    name = f"[{f.severity.value}] {f.rule_id}: {' '.join(f.title.split())}" + (f" at {where}" if where else "")
    attrs = {"name": c.xml_safe(c.truncate(name, 500)), "classname": c.xml_safe(f"secscan.{f.scanner}.{f.kind.value}")}
    if f.location.path:
        attrs["file"] = c.xml_safe(f.location.path)
    if f.location.start_line:
        attrs["line"] = str(f.location.start_line)
    attrs["time"] = "0"
    tc = ET.SubElement(parent, "testcase", attrs)
    details = _details(f)
    if c.is_blocking(f, blocking):
        msg = c.xml_safe(c.truncate(" ".join((f.message or f.title).split()), 500))
        fail = ET.SubElement(tc, "failure", {"type": c.xml_safe(f.rule_id), "message": msg})
        fail.text = details
        return 1, 0
    if f.status is Status.SUPPRESSED:
        ET.SubElement(tc, "skipped", {"message": _suppression_text(f)})
        out = ET.SubElement(tc, "system-out")
        out.text = details
        return 0, 1
    out = ET.SubElement(tc, "system-out")
    out.text = details
    return 0, 0


def _health_case(parent: ET.Element, s: ScannerStatus) -> int:
    tc = ET.SubElement(
        parent,
        "testcase",
        {"name": f"{s.name} ran", "classname": f"secscan.{s.name}.health", "time": f"{s.duration_s:.3f}"},
    )
    if s.state.is_error:
        err = ET.SubElement(tc, "error", {"type": s.state.value, "message": c.xml_safe(s.error or s.state.value)})
        err.text = c.xml_safe(f"{s.name} {s.version or ''}: {s.state.value}: {s.error or ''}".strip())
        return 1
    if s.not_audited:
        out = ET.SubElement(tc, "system-out")
        out.text = c.xml_safe("not audited: " + ", ".join(s.not_audited))
    return 0


def _suite(
    root: ET.Element,
    name: str,
    findings: Sequence[Finding],
    *,
    status: ScannerStatus | None,
    result: RunResult,
    blocking: frozenset[str],
) -> tuple[int, int, int, int]:
    suite = ET.SubElement(root, "testsuite", {"name": f"secscan: {name}"})
    failures = skipped = errors = 0
    tests = 0
    if status is not None:
        errors += _health_case(suite, status)
        tests += 1
    for f in findings:
        fl, sk = _testcase(suite, f, blocking)
        failures += fl
        skipped += sk
        tests += 1
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    suite.set("errors", str(errors))
    suite.set("skipped", str(skipped))
    suite.set("time", f"{status.duration_s:.3f}" if status is not None else "0")
    suite.set("timestamp", c.gitlab_time(result.started_at, "started_at"))
    return tests, failures, errors, skipped


def render(result: RunResult) -> str:
    blocking = c.blocking_fingerprints(result)
    root = ET.Element("testsuites", {"name": "secscan"})
    by_scanner: dict[str, list[Finding]] = {n: [] for n in c.scanner_names(result)}
    for f in c.ordered(result.findings, blocking):
        by_scanner.setdefault(f.scanner, []).append(f)
    statuses = {s.name: s for s in result.scanners}
    totals = [0, 0, 0, 0]
    for name, findings in by_scanner.items():
        for i, n in enumerate(
            _suite(root, name, findings, status=statuses.get(name), result=result, blocking=blocking)
        ):
            totals[i] += n
    for key, n in zip(("tests", "failures", "errors", "skipped"), totals, strict=True):
        root.set(key, str(n))
    dur = c.duration_s(result)
    root.set("time", f"{dur:.3f}" if dur is not None else "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
