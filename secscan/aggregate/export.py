"""The history's findings for the tools teams already run (pure: records in, text out).

* ``defectdojo``: DefectDojo's *Generic Findings Import* JSON (``dojo/tools/generic``): a
  ``findings`` list whose items use only the keys its parser allows, with ``title``,
  ``severity`` and ``description`` always present, ``severity`` one of DefectDojo's five names,
  integers for ``cwe``, booleans for the state flags, dates as ``YYYY-MM-DD``. The fingerprint is
  ``unique_id_from_tool``, so a re-import (DefectDojo's "unique id from tool" deduplication)
  updates the same findings instead of adding copies.
* ``csv``: one row per finding for a spreadsheet; cells that a spreadsheet would run as a
  formula (``=``, ``+``, ``-``, ``@``, tab, CR) are prefixed with ``'``: titles and paths come
  from scanned code.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from secscan import __version__
from secscan.aggregate.decisions import ACCEPTED_RISK, FALSE_POSITIVE, FIX_PLANNED, Decision
from secscan.aggregate.findings import FindingRecord, epoch_text

FORMATS = ("defectdojo", "csv")
DOJO_SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"}
_TAG_UNSAFE = re.compile(r"[^A-Za-z0-9._:/-]+")


def _in_force(decisions: Sequence[Decision], kind: str, today: str) -> Decision | None:

    day = date.fromisoformat(today)
    return next((d for d in reversed(decisions) if d.decision == kind and d.state(day) == "active"), None)


def _cwe(cwes: Sequence[str]) -> int | None:
    for c in cwes:
        m = re.fullmatch(r"(?i)(?:CWE-)?(\d+)", c.strip())
        if m:
            return int(m.group(1))
    return None


def _description(r: FindingRecord) -> str:
    info = r.info
    lines = [
        f"{info.title}",
        "",
        f"Rule: {info.rule_id} ({info.scanner}, {info.kind})",
        f"Where: {info.location}" if info.location else "",
        f"Refs: {', '.join(f'{x.ref} ({x.state})' for x in r.refs)}",
        f"First seen: {epoch_text(r.first_seen)}; last seen: {epoch_text(r.last_seen)}",
        f"secscan fingerprint: {info.fingerprint}",
    ]
    if info.compliance:
        lines.append(f"Compliance: {', '.join(info.compliance)}")
    return "\n".join(x for x in lines if x is not None)


def dojo_finding(r: FindingRecord, decisions: Sequence[Decision], *, today: str) -> dict[str, Any]:
    """One item of the ``findings`` list, with the keys and types the generic parser reads."""
    info = r.info
    fp = _in_force(decisions, FALSE_POSITIVE, today)
    ar = _in_force(decisions, ACCEPTED_RISK, today)
    plan = _in_force(decisions, FIX_PLANNED, today) or next(
        (d for d in reversed(decisions) if d.decision == FIX_PLANNED and d.approver), None
    )
    item: dict[str, Any] = {
        "title": f"{info.rule_id}: {info.title}"[:511],
        "severity": DOJO_SEVERITY.get(r.severity, "Info"),
        "description": _description(r),
        "date": epoch_text(r.first_seen)[:10],
        "unique_id_from_tool": info.fingerprint,
        "vuln_id_from_tool": info.rule_id,
        "static_finding": info.kind != "dast",
        "dynamic_finding": info.kind == "dast",
        "active": r.state == "open" and fp is None,
        "verified": False,
        "false_p": fp is not None,
        "risk_accepted": ar is not None or (r.state == "suppressed" and fp is None),
        "is_mitigated": r.state == "fixed",
        "service": r.project,
        "tags": sorted({_TAG_UNSAFE.sub("-", t)[:100] for t in ("secscan", info.scanner, *info.compliance) if t}),
    }
    if r.state == "fixed" and r.fixed_at is not None:
        item["mitigated"] = epoch_text(r.fixed_at)
    cwe = _cwe(info.cwes)
    if cwe is not None:
        item["cwe"] = cwe
    if info.kind == "dependency":
        name, _, version = info.location.partition(" ")
        item["component_name"] = name
        if version:
            item["component_version"] = version
        if info.path:
            item["file_path"] = info.path
    elif info.kind == "dast":
        url = info.location.split(" ")[-1]
        if "://" in url:
            item["endpoints"] = [url]
    elif info.path:
        item["file_path"] = info.path
    if plan is not None and plan.due:
        item["planned_remediation_date"] = plan.due
    return item


def defectdojo(records: Sequence[FindingRecord], decisions: Mapping[str, Sequence[Decision]], *, today: str) -> str:
    """The Generic Findings Import document (``decisions`` by fingerprint)."""
    doc = {
        "name": "secscan",
        "type": "secscan",
        "version": __version__,
        "static_tool": any(r.info.kind != "dast" for r in records),
        "dynamic_tool": any(r.info.kind == "dast" for r in records),
        "findings": [dojo_finding(r, decisions.get(r.fingerprint, ()), today=today) for r in records],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


CSV_COLUMNS = (
    "project",
    "fingerprint",
    "state",
    "severity",
    "kind",
    "scanner",
    "rule_id",
    "title",
    "location",
    "refs",
    "first_seen",
    "last_seen",
    "open_since",
    "fixed_at",
    "sla_due",
    "decision",
    "decided_by",
    "approved_by",
    "cwes",
    "compliance",
)


def _cell(value: str) -> str:
    """Spreadsheets run a cell that starts with one of these as a formula (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def to_csv(
    records: Sequence[FindingRecord],
    decisions: Mapping[str, Sequence[Decision]],
    *,
    sla_days: Mapping[str, int | None],
) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for r in records:
        ds = decisions.get(r.fingerprint, ())
        last = ds[-1] if ds else None
        due = r.sla_due(sla_days)
        row = (
            r.project,
            r.fingerprint,
            r.state,
            r.severity,
            r.info.kind,
            r.info.scanner,
            r.info.rule_id,
            r.info.title,
            r.info.location,
            " ".join(f"{x.ref}:{x.state}" for x in r.refs),
            epoch_text(r.first_seen),
            epoch_text(r.last_seen),
            epoch_text(r.open_since),
            epoch_text(r.fixed_at),
            epoch_text(due),
            last.decision if last else "",
            last.author if last else "",
            (last.approver or "") if last else "",
            " ".join(r.info.cwes),
            " ".join(r.info.compliance),
        )
        w.writerow([_cell(str(v)) for v in row])
    return buf.getvalue()
