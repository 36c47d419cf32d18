"""GitLab security reports (schema 15.2.1): SAST, dependency scanning, DAST, secret detection.

GitLab renders ``description`` and ``solution`` as Markdown in its vulnerability pages, so the
scanner's (untrusted) text is escaped with :mod:`secscan.textsafe`. Suppressed findings are kept
(GitLab would otherwise mark them "no longer detected") and say so in ``details``; ``fixed``
findings are not in the run and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from secscan.models import Finding, Kind, RunResult, ScannerState, Status
from secscan.reporters import _common as c
from secscan.textsafe import md_text

SCHEMA_VERSION = "15.2.1"
_SCHEMA_BASE = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.2.1/dist/{name}-report-format.json"
SEVERITY = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"}
# "hash" is one of the signature algorithms GitLab's vulnerability tracking knows; its value is
# our location-independent fingerprint, so a moved finding keeps its GitLab identity.
TRACKING_ALGORITHM = "hash"

_ADVISORY_TYPES = (("CVE-", "cve"), ("GHSA-", "ghsa"), ("PYSEC-", "pysec"), ("OSV-", "osv"))


def _md_paragraphs(text: str, limit: int) -> str:
    """Escape untrusted multi-line text for GitLab Markdown, keeping its line breaks."""
    lines = [md_text(line, None) for line in text.splitlines()]
    return c.truncate("\n\n".join(x for x in lines if x), limit)


def _ident(type_: str, name: str, value: str, url: str | None = None) -> dict[str, str]:
    d = {"type": type_, "name": name, "value": value}
    if c.is_http_url(url):
        assert url is not None
        d["url"] = url
    return d


def _advisory_type(value: str) -> str | None:
    upper = value.upper()
    return next((t for prefix, t in _ADVISORY_TYPES if upper.startswith(prefix)), None)


def _primary(f: Finding) -> dict[str, str]:
    """The primary identifier GitLab keys a vulnerability on: the rule, or the advisory."""
    adv = _advisory_type(f.rule_id)
    if f.kind is Kind.DEPENDENCY and adv:
        return _ident(adv, f.rule_id, f.rule_id)
    if f.kind is Kind.DAST and f.scanner == "zap":
        plugin = next((i.value for i in f.identifiers if i.type == "zap_plugin"), f.rule_id)
        return _ident("ZAProxy_PluginId", f"{f.title or 'ZAP alert'} ({plugin})", plugin)
    slug = re.sub(r"[^a-z0-9]+", "_", f.scanner.lower()).strip("_") or "secscan"
    return _ident(f"{slug}_id", f"{f.scanner} {f.rule_id}", f.rule_id)


def identifiers(f: Finding) -> list[dict[str, str]]:
    """Primary first, then CWE, then advisory ids (CVE/GHSA/PYSEC/OSV), then OWASP and others."""
    out = [_primary(f)]
    for n in c.cwe_numbers(f):
        out.append(_ident("cwe", f"CWE-{n}", n, f"https://cwe.mitre.org/data/definitions/{n}.html"))
    rank = {"cve": 0, "ghsa": 1, "pysec": 2, "osv": 3}
    advisories = sorted(
        (i for i in f.identifiers if i.type.lower() in rank), key=lambda i: (rank[i.type.lower()], i.value)
    )
    for i in advisories:
        out.append(_ident(i.type.lower(), i.value, i.value, i.url))
    for i in f.identifiers:
        t = i.type.lower()
        if t in rank or t in {"cwe", "zap_plugin"} or not i.value:
            continue
        out.append(_ident(t, i.value if t != "owasp" else f"OWASP {i.value}", i.value, i.url))
    seen: set[tuple[str, str]] = set()
    unique = []
    for d in out:
        key = (d["type"], d["value"])
        if key not in seen:
            seen.add(key)
            unique.append(d)
    return unique


def _details(f: Finding, blocking: frozenset[str]) -> dict[str, Any]:
    items: dict[str, Any] = {
        "secscan_status": {"name": "secscan status", "type": "text", "value": f.status.value},
        "secscan_blocking": {"name": "Blocks the merge request", "type": "value", "value": c.is_blocking(f, blocking)},
        "secscan_fingerprint": {"name": "secscan fingerprint", "type": "text", "value": c.stable_id(f)},
        "confidence": {"name": "Confidence", "type": "text", "value": f.confidence.value},
    }
    if f.severity_original:
        items["severity_original"] = {"name": "Scanner severity", "type": "text", "value": f.severity_original}
    if f.suppression is not None:
        s = f.suppression
        sup = {
            "reason": {"name": "Reason", "type": "text", "value": s.reason},
            "origin": {"name": "Origin", "type": "text", "value": s.origin},
        }
        for key, label, value in (
            ("owner", "Owner", s.owner),
            ("expires", "Expires", s.expires),
            ("ticket", "Ticket", s.ticket),
        ):
            if value:
                sup[key] = {"name": label, "type": "text", "value": value}
        items["secscan_suppression"] = {"name": "Suppression", "type": "named-list", "items": sup}
    if f.compliance:
        items["compliance"] = {
            "name": "Compliance",
            "type": "list",
            "items": [{"type": "text", "value": x} for x in f.compliance],
        }
    if len(f.sources) > 1:
        items["sources"] = {
            "name": "Reported by",
            "type": "list",
            "items": [{"type": "text", "value": f"{s.scanner} {s.rule_id}"} for s in f.sources],
        }
    if f.fixed_versions:
        items["fixed_versions"] = {
            "name": "Fixed versions",
            "type": "list",
            "items": [{"type": "text", "value": v} for v in f.fixed_versions],
        }
    return items


def _tracking(f: Finding) -> dict[str, Any]:
    item: dict[str, Any] = {"signatures": [{"algorithm": TRACKING_ALGORITHM, "value": c.stable_id(f)}]}
    loc = f.location
    if loc.path:
        item["file"] = loc.path
    if loc.start_line:
        item["start_line"] = loc.start_line
        item["end_line"] = loc.end_line or loc.start_line
    return {"type": "source", "items": [item]}


def _commit_sha(result: RunResult) -> str:
    meta = result.meta_dict()
    for key in ("commit_sha", "commit", "ci_commit_sha", "CI_COMMIT_SHA"):
        if meta.get(key):
            return meta[key]
    # GitLab's own secret detection analyzer reports this placeholder when it scans a tree
    # without git history.
    return "0000000"


def _finding_commit(f: Finding) -> str | None:
    """The commit that added a secret (the history scan): its own, or the one in its tags."""
    if f.location.commit:
        return f.location.commit
    return next((t[len("commit:") :] for t in f.tags if t.startswith("commit:")), None)


def _location(f: Finding, kind: Kind, result: RunResult) -> dict[str, Any]:
    loc = f.location
    if kind is Kind.DEPENDENCY:
        return {
            "file": loc.path or "(unknown manifest)",
            "dependency": {"package": {"name": loc.package or f.rule_id}, "version": loc.version or "unknown"},
        }
    if kind is Kind.DAST:
        out: dict[str, Any] = {}
        if loc.url:
            parts = urlsplit(loc.url)
            if parts.scheme and parts.netloc:
                out["hostname"] = f"{parts.scheme}://{parts.netloc}"
            out["path"] = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if loc.method:
            out["method"] = loc.method
        if loc.param:
            out["param"] = loc.param
        return out
    out = {}
    if loc.path:
        out["file"] = loc.path
    if loc.start_line:
        out["start_line"] = loc.start_line
        out["end_line"] = loc.end_line or loc.start_line
    if kind is Kind.SECRET:
        out["commit"] = {"sha": _finding_commit(f) or _commit_sha(result)}
    return out


def _unknown_severity(f: Finding) -> bool:
    from secscan.advisories.severity import UNKNOWN

    return f.kind is Kind.DEPENDENCY and f.severity_original == UNKNOWN


def _vulnerability(f: Finding, kind: Kind, result: RunResult, blocking: frozenset[str]) -> dict[str, Any]:
    description = f.message or f.title
    if f.status is Status.SUPPRESSED and f.suppression is not None:
        description = f"Suppressed in secscan: {f.suppression.reason}\n{description}"
    v: dict[str, Any] = {
        "id": c.stable_uuid(f),
        "name": c.truncate(" ".join((f.title or f.rule_id).split()), 255),
        "description": _md_paragraphs(description, 1_048_576),
        # A dependency whose advisory records carry no CVSS vector is "Unknown" to GitLab, not a guess.
        "severity": "Unknown" if _unknown_severity(f) else SEVERITY[f.severity.value],
        "identifiers": identifiers(f),
    }
    solution = f.fix or ""
    if f.fixed_versions and not solution:
        solution = f"Upgrade {f.location.package or 'the package'} to {' or '.join(f.fixed_versions)}."
    if solution:
        v["solution"] = _md_paragraphs(solution, 7000)
    links = [{"url": r} for r in c.dedupe([r for r in f.references if c.is_http_url(r)])]
    if links:
        v["links"] = links
    v["details"] = _details(f, blocking)
    v["tracking"] = _tracking(f)
    v["location"] = _location(f, kind, result)
    if kind is Kind.DAST and f.location.evidence:
        v["evidence"] = {"summary": f.location.evidence}
    if kind is Kind.SECRET and f.location.snippet:
        v["raw_source_code_extract"] = c.snippet_for(f)
    return v


_SCAN_TYPE = {
    Kind.SAST: ("sast", "sast"),
    Kind.DEPENDENCY: ("dependency_scanning", "dependency-scanning"),
    Kind.DAST: ("dast", "dast"),
    Kind.SECRET: ("secret_detection", "secret-detection"),
}
_KIND_SCANNERS = {
    Kind.SAST: ("bandit", "semgrep"),
    Kind.DEPENDENCY: ("pip-audit", "npm-audit"),
    Kind.DAST: ("zap",),
    Kind.SECRET: ("detect-secrets",),
}


def _scan(result: RunResult, kind: Kind, findings: list[Finding]) -> dict[str, Any]:
    version = result.tool_version or "unknown"
    names = c.dedupe(
        [s.name for s in result.scanners if s.name in _KIND_SCANNERS[kind] and s.state is not ScannerState.SKIPPED]
        + [f.scanner for f in findings]
    )
    statuses = [s for s in result.scanners if s.name in names]
    scanner: dict[str, Any]
    if len(names) == 1:
        only = names[0]
        scanner = {
            "id": only,
            "name": only,
            "version": c.scanner_version(result, only) or version,
            "vendor": {"name": "secscan"},
        }
    else:
        listed = ", ".join(f"{n} {c.scanner_version(result, n) or ''}".strip() for n in names) or "none"
        scanner = {"id": "secscan", "name": f"secscan ({listed})", "version": version, "vendor": {"name": "secscan"}}
    messages = []
    for s in statuses:
        if s.error:
            messages.append({"level": "fatal" if s.state.is_error else "warn", "value": f"{s.name}: {s.error}"})
        if s.not_audited:
            messages.append({"level": "warn", "value": f"{s.name}: not audited: {', '.join(s.not_audited)}"})
    scan_type, _ = _SCAN_TYPE[kind]
    scan: dict[str, Any] = {
        "analyzer": {
            "id": "secscan",
            "name": "secscan",
            "version": version,
            "vendor": {"name": "secscan"},
        },
        "scanner": scanner,
        "type": scan_type,
        "start_time": c.gitlab_time(result.started_at, "started_at"),
        "end_time": c.gitlab_time(result.finished_at, "finished_at"),
        "status": "failure" if any(s.state.is_error for s in statuses) else "success",
    }
    if messages:
        scan["messages"] = messages
    if kind is Kind.DAST:
        resources = []
        seen: set[tuple[str, str]] = set()
        for f in findings:
            for loc in (f.location, *f.other_locations):
                if loc.url and (loc.method or "GET", loc.url) not in seen:
                    seen.add((loc.method or "GET", loc.url))
                    resources.append({"method": loc.method or "GET", "url": loc.url, "type": "url"})
        scan["scanned_resources"] = resources
    return scan


def to_dict(result: RunResult, kind: Kind) -> dict[str, Any]:
    blocking = c.blocking_fingerprints(result)
    findings = [f for f in c.ordered(result.findings, blocking) if f.kind is kind and f.status is not Status.FIXED]
    _, schema_name = _SCAN_TYPE[kind]
    return {
        "version": SCHEMA_VERSION,
        "schema": _SCHEMA_BASE.format(name=schema_name),
        "scan": _scan(result, kind, findings),
        "vulnerabilities": [_vulnerability(f, kind, result, blocking) for f in findings],
        "remediations": [],
    }


def _one_line(path: tuple[str | int, ...]) -> bool:
    # vulnerabilities[i] and scan.scanned_resources[i]: one line each
    return (len(path) == 2 and path[0] == "vulnerabilities") or (len(path) == 3 and path[1] == "scanned_resources")


def _renderer(kind: Kind) -> Callable[[RunResult], str]:
    def render(result: RunResult) -> str:
        return c.dumps_json(to_dict(result, kind), one_line=_one_line)

    render.__name__ = f"render_{kind.value}"
    return render


render_sast = _renderer(Kind.SAST)
render_dependency_scanning = _renderer(Kind.DEPENDENCY)
render_dast = _renderer(Kind.DAST)
render_secret_detection = _renderer(Kind.SECRET)
