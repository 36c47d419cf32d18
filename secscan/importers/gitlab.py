"""GitLab security reports (SAST, dependency scanning, secret detection, DAST) as findings (pure).

Reads the ``vulnerabilities`` of a report of GitLab's schema (15.x), as secscan writes them
(``secscan/reporters/gitlab.py``) and as GitLab's analyzers do: the scan type gives the kind, the
primary identifier the rule, the others CWE, advisory and OWASP ids, the location the place. What
secscan adds in ``details`` (its status, a suppression with reason and owner, fixed versions,
the scanner's own severity) is read back, so a report secscan wrote imports with the same kinds,
fingerprints and statuses. Every error names the file.
"""

from __future__ import annotations

import json
import re
from typing import Any

from secscan.errors import ParseError
from secscan.jsonload import json_int
from secscan.models import Confidence, Finding, Identifier, Kind, Location, Severity, Source, Suppression
from secscan.scanners.base import sast_kind
from secscan.sourcefiles import SourceTree

_KINDS = {
    "sast": Kind.SAST,
    "dependency_scanning": Kind.DEPENDENCY,
    "secret_detection": Kind.SECRET,
    "dast": Kind.DAST,
}
_SEVERITY = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
    "info": Severity.INFO,
    # GitLab's "Unknown" (an advisory without a score): fail closed, as secscan rates it.
    "unknown": Severity.HIGH,
}
_CONFIDENCE = {c.value: c for c in Confidence}
_ADVISORY = ("cve", "ghsa", "pysec", "osv")
_NPM_MANIFESTS = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "package.json")
# GitLab's Markdown escaping of secscan's texts (``\\.``): undone for the plain-text message.
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>~:&\"'=$^@])")


def scanner_names(doc: dict[str, Any]) -> tuple[str, ...]:
    """The scanners a report names (``scan.scanner``; secscan lists several as "secscan (a, b)")."""
    scanner = (doc.get("scan") or {}).get("scanner") or {}
    name = str(scanner.get("id") or scanner.get("name") or "gitlab")
    m = re.fullmatch(r"secscan \((.*)\)", str(scanner.get("name") or ""))
    if m:
        return tuple(part.split()[0] for part in m.group(1).split(", ") if part and part != "none")
    return (name,)


def parse(text: str, *, tree: SourceTree, origin: str) -> tuple[list[Finding], Kind, tuple[str, ...]]:
    """(findings, the report's kind, its scanners)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(f"not valid JSON: {e.msg} at line {e.lineno}") from e
    if not isinstance(doc, dict) or not isinstance(doc.get("vulnerabilities"), list):
        raise ParseError("not a GitLab security report: no 'vulnerabilities' list")
    scan_type = str((doc.get("scan") or {}).get("type") or "")
    kind = _KINDS.get(scan_type)
    if kind is None:
        raise ParseError(f"unknown scan type {scan_type!r} (known: {', '.join(_KINDS)})")
    names = scanner_names(doc)
    findings = [_finding(v, kind, names, tree, f"vulnerabilities[{n}]") for n, v in enumerate(doc["vulnerabilities"])]
    return findings, kind, names


def _text(v: Any) -> str:
    return _MD_ESCAPE.sub(r"\1", v) if isinstance(v, str) else ""


def _detail(details: dict[str, Any], key: str) -> Any:
    item = details.get(key)
    return item.get("value") if isinstance(item, dict) else None


def _identifiers(raw: list[Any], where: str) -> tuple[dict[str, Any], list[Identifier]]:
    if not raw or not all(isinstance(i, dict) for i in raw):
        raise ParseError(f"{where}: 'identifiers' must be a non-empty list of objects")
    out = []
    for i in raw[1:]:
        t, value = str(i.get("type") or "").lower(), str(i.get("value") or "")
        if not value:
            continue
        if t == "cwe":
            out.append(Identifier(type="cwe", value=f"CWE-{value}", url=i.get("url")))
        elif t in _ADVISORY or t == "owasp":
            out.append(Identifier(type=t, value=value, url=i.get("url")))
    return raw[0], out


def _scanner(primary: dict[str, Any], kind: Kind, names: tuple[str, ...], path: str) -> str:
    t = str(primary.get("type") or "")
    if t.endswith("_id") and kind in (Kind.SAST, Kind.SECRET):
        return t[: -len("_id")].replace("_", "-")
    if kind is Kind.DEPENDENCY and len(names) != 1:
        return "npm-audit" if path.rsplit("/", 1)[-1] in _NPM_MANIFESTS else "pip-audit"
    if kind is Kind.DAST and t == "ZAProxy_PluginId":
        return "zap"
    return names[0] if names else "gitlab"


def _location(loc: dict[str, Any], kind: Kind, tree: SourceTree) -> Location:
    if kind is Kind.DEPENDENCY:
        dep = loc.get("dependency") or {}
        package = (dep.get("package") or {}).get("name")
        version = dep.get("version")
        return Location(path=loc.get("file"), package=package, version=None if version == "unknown" else version)
    if kind is Kind.DAST:
        url = f"{loc.get('hostname') or ''}{loc.get('path') or ''}" or None
        return Location(url=url, method=loc.get("method"), param=loc.get("param"))
    path = loc.get("file")
    start = json_int(loc.get("start_line"))
    end = json_int(loc.get("end_line")) or start
    snippet = tree.lines(path, start, end or start) if path and start else None
    return Location(path=path, start_line=start, end_line=end, snippet=snippet)


def _suppression(details: dict[str, Any]) -> Suppression | None:
    item = details.get("secscan_suppression")
    if not isinstance(item, dict) or not isinstance(item.get("items"), dict):
        return None
    parts = {k: v.get("value") for k, v in item["items"].items() if isinstance(v, dict)}
    return Suppression(
        origin=str(parts.get("origin") or "external"),
        reason=str(parts.get("reason") or "suppressed in the imported report"),
        owner=parts.get("owner"),
        expires=parts.get("expires"),
        ticket=parts.get("ticket"),
        matched_by="gitlab-report",
    )


def _finding(v: Any, kind: Kind, names: tuple[str, ...], tree: SourceTree, where: str) -> Finding:
    if not isinstance(v, dict):
        raise ParseError(f"{where}: expected an object")
    primary, identifiers = _identifiers(v.get("identifiers") or [], where)
    raw_details = v.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    rule_id = str(primary.get("value") or "")
    location = _location(v.get("location") or {}, kind, tree)
    scanner = _scanner(primary, kind, names, location.path or "")
    if kind is Kind.SAST:
        kind = sast_kind((i.value for i in identifiers if i.type == "cwe"), rule_id=rule_id)
    severity = _SEVERITY.get(str(v.get("severity") or "").lower(), Severity.HIGH)
    original = str(_detail(details, "severity_original") or v.get("severity") or "")
    message = _text(v.get("description")) or _text(v.get("name"))
    fixed = details.get("fixed_versions")
    fixed_versions = tuple(
        str(i.get("value")) for i in (fixed.get("items") or []) if isinstance(i, dict) and i.get("value")
    ) if isinstance(fixed, dict) else ()  # fmt: skip
    suppression = _suppression(details)
    own = _detail(details, "secscan_fingerprint")
    if isinstance(own, str) and own.startswith("v1:"):
        # secscan's own report: the identity it computed where the code was scanned.
        identifiers.append(Identifier(type="fingerprint", value=f"secscanFingerprint/v1:{own}"))
    source = Source(scanner=scanner, rule_id=rule_id, severity_original=original, message=message, location=location)
    return Finding(
        kind=kind,
        scanner=scanner,
        rule_id=rule_id,
        title=_text(v.get("name")) or rule_id,
        message=message,
        severity=severity,
        severity_original=original,
        confidence=_CONFIDENCE.get(str(_detail(details, "confidence") or ""), Confidence.UNKNOWN),
        location=location,
        identifiers=tuple(identifiers),
        fix=_text(v.get("solution")) or None,
        fixed_versions=fixed_versions,
        references=tuple(str(ln["url"]) for ln in v.get("links") or () if isinstance(ln, dict) and ln.get("url")),
        suppression=suppression,
        sources=(source,),
    )
