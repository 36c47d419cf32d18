"""SARIF 2.1.0: one run per scanner, for GitHub code scanning and IDE SARIF viewers.

Facts this follows (SARIF 2.1.0 errata01 and GitHub's code-scanning ingestion):
- ``properties.security-severity`` is a numeric string; GitHub maps >= 9.0 critical, >= 7.0
  high, >= 4.0 medium, else low.
- CWE tags are ``external/cwe/cwe-<n>``; ``partialFingerprints`` carry secscan's fingerprint so
  a result keeps its identity across line moves.
- ``baselineState`` is set on every result of a run or on none (a mixed run is ambiguous).
- Suppressed results are kept, with a ``suppressions`` entry and its justification. No
  ``suppression.status``: the draft-07 variant of the schema (the ``Schemata/`` URL many tools
  put in ``$schema``) does not allow it, and a suppression without status means "accepted".
- Microsoft's SARIF Multitool (``validate --level "Error;Warning;Note"``) reports no error and
  no warning: a rule has no ``name`` (SARIF1001: a name equal to the id must be omitted; ours
  would be), every driver has a ``version`` (SARIF2005), and every physical location has a
  region (SARIF2017): a finding about a whole file or URL is placed at its first line.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from secscan.models import Confidence, Finding, Kind, Location, RunResult, ScannerState, Severity, Status, Suppression
from secscan.reporters import _common as c
from secscan.textsafe import md_text

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "secscanFingerprint/v1"

SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
PRECISION = {
    Confidence.HIGH: "very-high",
    Confidence.MEDIUM: "high",
    Confidence.LOW: "medium",
    Confidence.UNKNOWN: "medium",
}
BASELINE_STATE = {Status.NEW: "new", Status.EXISTING: "unchanged", Status.FIXED: "absent"}
INFO_URI = {
    "bandit": "https://bandit.readthedocs.io/",
    "semgrep": "https://semgrep.dev/",
    "pip-audit": "https://github.com/pypa/pip-audit",
    "npm-audit": "https://github.com/ossf/osv-schema",  # secscan's own lockfile audit (OSV data)
    "zap": "https://www.zaproxy.org/",
    # Producers whose SARIF `secscan import` reads (tests/data/importers/sarif/) and others
    # common in CI, so a re-rendered import still says where to read about its tool.
    "codeql": "https://codeql.github.com/",
    "gitleaks": "https://github.com/gitleaks/gitleaks",
    "gosec": "https://github.com/securego/gosec",
    "trivy": "https://trivy.dev/",
    "grype": "https://github.com/anchore/grype",
    "dockle": "https://github.com/goodwithtech/dockle",
    "nodejsscan": "https://github.com/ajinabraham/njsscan",
    "mobsfscan": "https://github.com/MobSF/mobsfscan",
    "flawfinder": "https://dwheeler.com/flawfinder/",
    "spotbugs": "https://spotbugs.github.io/",
    "composer": "https://github.com/composer/composer",
    "checkov": "https://www.checkov.io/",
    "hadolint": "https://github.com/hadolint/hadolint",
}
# SARIF2005 wants a version that starts with a number; this one says it is not known.
UNKNOWN_VERSION = "0.0.0-unknown"


def _information_uri(scanner: str) -> str:
    """The tool's page; for a tool we know nothing about, a URN that names it (SARIF2005 asks
    for an absolute URI, and inventing a web page would mislead)."""
    return INFO_URI.get(scanner) or "urn:secscan:tool:" + quote(scanner or "unknown", safe="")


def _baseline_state(f: Finding) -> str:
    if f.status is Status.SUPPRESSED:
        # The status no longer says new or existing; a baseline suppression means "seen before".
        return "unchanged" if f.suppression is not None and f.suppression.origin == "baseline" else "new"
    return BASELINE_STATE[f.status]


# A finding about a whole artifact (a manifest, a URL): SARIF2017 wants a region, and the top of
# the artifact is where a reader looks for a problem that has no line of its own.
_WHOLE_ARTIFACT: dict[str, Any] = {"startLine": 1}


def _region(loc: Location, kind: Kind) -> dict[str, Any] | None:
    if not loc.start_line:
        return None
    region: dict[str, Any] = {"startLine": loc.start_line}
    if loc.end_line and loc.end_line >= loc.start_line:
        region["endLine"] = loc.end_line
    if loc.start_column:
        region["startColumn"] = loc.start_column
        if loc.end_column and (loc.end_line not in (None, loc.start_line) or loc.end_column >= loc.start_column):
            region["endColumn"] = loc.end_column
    if loc.snippet:
        region["snippet"] = {"text": c.redact_secret(loc.snippet) if kind is Kind.SECRET else loc.snippet}
    return region


def _location(loc: Location, kind: Kind) -> dict[str, Any] | None:
    if kind is Kind.DAST and loc.url:
        return {
            "physicalLocation": {"artifactLocation": {"uri": _conformant(loc.url)}, "region": dict(_WHOLE_ARTIFACT)}
        }
    if not loc.path:
        return None
    physical: dict[str, Any] = {"artifactLocation": _artifact_location(loc.path)}
    physical["region"] = _region(loc, kind) or dict(_WHOLE_ARTIFACT)
    out: dict[str, Any] = {"physicalLocation": physical}
    if loc.package:
        name = f"{loc.package}=={loc.version}" if loc.version else loc.package
        out["logicalLocations"] = [{"name": name, "kind": "package"}]
    return out


_DRIVE = re.compile(r"^[A-Za-z]:/")


def _artifact_location(path: str) -> dict[str, str]:
    """A repo path as a relative URI reference against the checkout root (%SRCROOT%, left to
    the consumer); an absolute path (an import that lay outside --root) as a ``file:`` URI,
    which SARIF1004 requires of absolute locations."""
    if _DRIVE.match(path):
        return {"uri": "file:///" + path[:2] + quote(path[2:], safe="/")}
    if path.startswith("//"):
        return {"uri": "file:" + quote(path, safe="/")}
    if path.startswith("/"):
        return {"uri": "file://" + quote(path, safe="/")}
    return {"uri": quote(path, safe="/"), "uriBaseId": "%SRCROOT%"}


# RFC 3986's reserved and unreserved characters, and "%" of an escape already there.
_URI_SAFE = ":/?#[]@!$&'()*+,;=-._~%"


def _conformant(uri: str) -> str:
    """An untrusted URL (a scanner's reference, a DAST target) as a conformant URI reference
    (SARIF1002): anything outside RFC 3986, such as ``<``, ``>``, a space, percent-encoded."""
    return quote(uri, safe=_URI_SAFE)


def _version(version: str | None) -> str:
    """SARIF2005 wants a version that starts with a number: ``v7.4.0`` loses its ``v``; a
    version that is unknown or has no number says so."""
    if version and version[:1].isdigit():
        return version
    if version and version[:1] in "vV" and version[1:2].isdigit():
        return version[1:]
    return UNKNOWN_VERSION


def _tags(f: Finding) -> list[str]:
    tags = ["security", f.kind.value]
    tags += [f"external/cwe/cwe-{n}" for n in c.cwe_numbers(f)]
    tags += [i.value for i in f.identifiers if i.type.lower() == "owasp"]
    return c.dedupe(tags)


def _help(f: Finding) -> dict[str, str]:
    text_parts = [f.title]
    md_parts = [f"**{md_text(f.title, None)}**"]
    if f.fix:
        text_parts.append(f"Fix: {f.fix}")
        md_parts.append(f"Fix: {md_text(f.fix, 2000)}")
    if f.fixed_versions:
        text_parts.append("Fixed in: " + ", ".join(f.fixed_versions))
        md_parts.append("Fixed in: " + ", ".join(md_text(v, 100) for v in f.fixed_versions))
    cwes = c.cwe_numbers(f)
    if cwes:
        text_parts.append("CWE: " + ", ".join(f"CWE-{n}" for n in cwes))
        md_parts.append(
            "CWE: " + ", ".join(f"[CWE-{n}](https://cwe.mitre.org/data/definitions/{n}.html)" for n in cwes)
        )
    refs = [r for r in f.references if c.is_http_url(r)]
    if refs:
        text_parts.append("References: " + " ".join(refs))
        md_parts.append("References: " + " ".join(f"<{r}>" for r in refs if "<" not in r and ">" not in r))
    return {"text": "\n\n".join(text_parts), "markdown": "\n\n".join(md_parts)}


def _rule(f: Finding) -> dict[str, Any]:
    # No "name": SARIF wants a reader-friendly identifier there and ours would only repeat
    # the id, which the Multitool reports (SARIF1001); the title is in the descriptions.
    rule: dict[str, Any] = {
        "id": f.rule_id,
        "shortDescription": {"text": c.first_sentence(f.title or f.rule_id)},
        "fullDescription": {"text": f.title or f.rule_id},
        "help": _help(f),
        "defaultConfiguration": {"level": LEVEL[f.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[f.severity],
            "precision": PRECISION[f.confidence],
            "tags": _tags(f),
        },
    }
    refs = [r for r in f.references if c.is_http_url(r)]
    if refs:
        rule["helpUri"] = _conformant(refs[0])
    return rule


def _suppression(s: Suppression) -> dict[str, Any]:
    justification = s.reason
    if s.owner:
        justification += f" (owner: {s.owner})"
    if s.expires:
        justification += f" (expires: {s.expires})"
    return {
        "kind": "inSource" if s.origin == "inline" else "external",
        "justification": justification,
        "properties": c.compact(
            {
                "origin": s.origin,
                "owner": s.owner,
                "expires": s.expires,
                "ticket": s.ticket,
                "matchedBy": s.matched_by,
            }
        ),
    }


def _result(f: Finding, rule_index: int, blocking: frozenset[str], with_baseline: bool) -> dict[str, Any]:
    res: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[f.severity],
        "kind": "fail",
        "message": {"text": f.message or f.title or f.rule_id},
    }
    locs = [x for x in (_location(loc, f.kind) for loc in (f.location, *f.other_locations)) if x is not None]
    if locs:
        res["locations"] = locs
    # No snippet: the masking stage reads only a finding's own locations (and importers keep none).
    related = [x for x in (_location(replace(loc, snippet=None), f.kind) for loc in f.related_locations) if x]
    if related:
        # Context of the problem (a taint source...), as the importer read it: ids from 1.
        res["relatedLocations"] = [{"id": n, **x} for n, x in enumerate(related, 1)]
    res["partialFingerprints"] = {FINGERPRINT_KEY: c.stable_id(f)}
    if with_baseline:
        res["baselineState"] = _baseline_state(f)
    if f.suppression is not None:
        res["suppressions"] = [_suppression(f.suppression)]
    props: dict[str, Any] = {
        "security-severity": SECURITY_SEVERITY[f.severity],
        "secscan/severity": f.severity.value,
        "secscan/severityOriginal": f.severity_original,
        "secscan/confidence": f.confidence.value,
        "secscan/status": f.status.value,
        "secscan/blocking": c.is_blocking(f, blocking),
        "tags": _tags(f),
    }
    if f.compliance:
        props["secscan/compliance"] = list(f.compliance)
    if f.identifiers:
        props["secscan/identifiers"] = [f"{i.type}:{i.value}" for i in f.identifiers]
    if f.fixed_versions:
        props["secscan/fixedVersions"] = list(f.fixed_versions)
    if len(f.sources) > 1:
        props["secscan/sources"] = [f"{s.scanner}:{s.rule_id}" for s in f.sources]
    res["properties"] = props
    return res


def _run(result: RunResult, scanner: str, findings: list[Finding], blocking: frozenset[str]) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for f in findings:
        if f.rule_id not in index:
            index[f.rule_id] = len(rules)
            rules.append(_rule(f))
    with_baseline = (
        result.baseline is not None
        or result.diff_base is not None
        or any(f.status in (Status.EXISTING, Status.FIXED) for f in findings)
    )
    # SARIF2005: a driver says which version ran; "unknown" when the result does not record it.
    version = c.scanner_version(result, scanner) or (result.tool_version if scanner == "secscan" else None)
    # SARIF2005: a tool name of at most three words; the name as the result has it goes to fullName.
    short = re.sub(r"\s+", "-", scanner.strip()) or "secscan"
    driver: dict[str, Any] = {"name": short, "version": _version(version), "rules": rules}
    if short != scanner:
        driver["fullName"] = scanner
    driver["informationUri"] = _information_uri(scanner)
    status = next((s for s in result.scanners if s.name == scanner), None)
    invocation: dict[str, Any] = {
        "executionSuccessful": status is None or not status.state.is_error,
        "startTimeUtc": c.sarif_time(result.started_at, "started_at"),
        "endTimeUtc": c.sarif_time(result.finished_at, "finished_at"),
    }
    notes = []
    if status is not None and status.error:
        notes.append({"level": "error" if status.state.is_error else "warning", "message": {"text": status.error}})
    if status is not None and status.not_audited:
        notes.append(
            {"level": "warning", "message": {"text": "not audited: " + ", ".join(status.not_audited)}},
        )
    if notes:
        invocation["toolExecutionNotifications"] = notes
    run: dict[str, Any] = {
        "tool": {
            "driver": driver,
        },
        "automationDetails": {"id": f"secscan/{scanner}/"},
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": [_result(f, index[f.rule_id], blocking, with_baseline) for f in findings],
        "properties": c.compact(
            {
                "secscan/toolVersion": result.tool_version or "unknown",
                "secscan/scannerVersion": version if version and _version(version) != version else None,
                "secscan/state": status.state.value if status is not None else ScannerState.OK.value,
                "secscan/advisoryDb": result.advisory_db,
                "secscan/baseline": result.baseline,
                "secscan/diffBase": result.diff_base,
            }
        ),
    }
    return run


def to_dict(result: RunResult) -> dict[str, Any]:
    blocking = c.blocking_fingerprints(result)
    names = c.scanner_names(result) or ["secscan"]
    by_scanner: dict[str, list[Finding]] = {n: [] for n in names}
    for f in c.ordered(result.findings, blocking):
        by_scanner.setdefault(f.scanner, []).append(f)
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [_run(result, name, fs, blocking) for name, fs in by_scanner.items()],
    }


def _one_line(path: tuple[str | int, ...]) -> bool:
    # runs[i].results[j] and runs[i].tool.driver.rules[k]: one line each
    return (len(path) == 4 and path[2] == "results") or (len(path) == 6 and path[4] == "rules")


def render(result: RunResult) -> str:
    return c.dumps_json(to_dict(result), one_line=_one_line)
