"""Builders for findings and source trees used by the [triage] tests."""

from __future__ import annotations

from pathlib import Path

from secscan.models import Finding, Identifier, Kind, Location, Severity, Source

DATA = Path(__file__).resolve().parent.parent / "data" / "triage"
PROJECT = DATA / "project"


def sast(
    *,
    scanner: str = "bandit",
    rule_id: str = "B324",
    path: str = "app/views.py",
    line: int = 16,
    end_line: int | None = None,
    severity: Severity = Severity.HIGH,
    cwe: str | None = "CWE-327",
    snippet: str | None = None,
    fingerprint: str = "",
) -> Finding:
    loc = Location(path=path, start_line=line, end_line=end_line or line, snippet=snippet)
    idents = (Identifier(type="cwe", value=cwe),) if cwe else ()
    return Finding(
        kind=Kind.SAST,
        scanner=scanner,
        rule_id=rule_id,
        title=rule_id,
        message=f"{scanner} {rule_id}",
        severity=severity,
        severity_original=severity.value.upper(),
        location=loc,
        identifiers=idents,
        fingerprint=fingerprint,
        sources=(Source(scanner=scanner, rule_id=rule_id, severity_original=severity.value, message="", location=loc),),
    )


def dep(
    *,
    package: str = "requests",
    version: str = "2.19.1",
    advisory: str = "PYSEC-2023-74",
    aliases: tuple[str, ...] = ("CVE-2023-32681", "GHSA-j8r2-6x86-q33q"),
    manifest: str = "requirements.txt",
    severity: Severity = Severity.HIGH,
) -> Finding:
    def typ(v: str) -> str:
        return v.split("-", 1)[0].lower()

    loc = Location(path=manifest, package=package, version=version)
    return Finding(
        kind=Kind.DEPENDENCY,
        scanner="pip-audit",
        rule_id=advisory,
        title=f"{package} {version}: {advisory}",
        message="vulnerable",
        severity=severity,
        severity_original="unspecified",
        location=loc,
        identifiers=tuple(Identifier(type=typ(v), value=v) for v in (advisory, *aliases)),
    )


def dast(
    *,
    url: str = "https://shop.example.com/api/users/42",
    plugin: str = "10021",
    method: str = "GET",
    param: str | None = "x-content-type-options",
    severity: Severity = Severity.LOW,
) -> Finding:
    return Finding(
        kind=Kind.DAST,
        scanner="zap",
        rule_id=plugin,
        title="X-Content-Type-Options Header Missing",
        message="missing header",
        severity=severity,
        severity_original="Low (Medium)",
        location=Location(url=url, method=method, param=param),
        identifiers=(Identifier(type="zap_plugin", value=plugin),),
    )


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root
