"""pip-audit: known vulnerabilities in Python dependencies.

Format facts (tests/data/scanners/README.md): three JSON shapes — a top-level list (old),
``{"dependencies": [...]}`` and ``{"dependencies": [...], "fixes": [...]}``. A dependency with
``skip_reason`` was NOT audited: when pip-audit's vulnerability service is unreachable it skips
everything and still says "No known vulnerabilities found" with exit 0. secscan reports skipped
dependencies as "not audited" and fails the scanner (fail closed), never as clean.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from secscan.config import ScanConfig
from secscan.errors import ParseError, ScannerError
from secscan.models import (
    Confidence,
    Finding,
    Identifier,
    Kind,
    Location,
    ScannerState,
    ScannerStatus,
    Severity,
    Source,
)
from secscan.scanners.bandit import DEFAULT_EXCLUDES
from secscan.scanners.base import (
    Parsed,
    RunContext,
    Scanner,
    ScanOutcome,
    failed_outcome,
    find_executable,
    installed_version,
    outcome_for_error,
    run_tool,
    skipped_outcome,
    tail,
)
from secscan.sourcefiles import SourceTree

# pip-audit's JSON carries no severity; OSV PyPI advisories rarely do either. A known,
# published vulnerability in a pinned dependency is "medium" until an advisory says otherwise.
DEFAULT_SEVERITY = Severity.MEDIUM
INSTALLED_ENV = "<installed environment>"


@dataclass(frozen=True, kw_only=True)
class PipAuditReport:
    findings: tuple[Finding, ...]
    not_audited: tuple[str, ...]
    """``name==version (reason)`` for every dependency pip-audit skipped."""


def _id_type(vuln_id: str) -> str:
    head = vuln_id.split("-", 1)[0].lower()
    return head if head in ("cve", "ghsa", "pysec", "osv", "gsd", "pyup") else "osv"


def _id_url(vuln_id: str) -> str | None:
    t = _id_type(vuln_id)
    if t == "cve":
        return f"https://nvd.nist.gov/vuln/detail/{vuln_id}"
    if t == "ghsa":
        return f"https://github.com/advisories/{vuln_id}"
    return f"https://osv.dev/vulnerability/{vuln_id}"


def _vuln_finding(dep: dict[str, Any], vuln: dict[str, Any], where: str, manifest: str | None) -> Finding:
    name, version = str(dep.get("name", "")), str(dep.get("version", ""))
    vid = vuln.get("id")
    if not isinstance(vid, str) or not vid:
        raise ParseError(f"pip-audit report: {where}: vulnerability without an 'id'")
    aliases = [a for a in vuln.get("aliases") or [] if isinstance(a, str)]
    fixes = tuple(str(v) for v in vuln.get("fix_versions") or [])
    description = str(vuln.get("description") or vuln.get("details") or "").strip()
    loc = Location(path=manifest, package=name, version=version)
    idents = tuple(Identifier(type=_id_type(i), value=i, url=_id_url(i)) for i in [vid, *aliases])
    fix = f"Upgrade {name} to {' or '.join(fixes)} or later." if fixes else "No fixed version is published yet."
    message = description or f"{name} {version} is affected by {vid}."
    return Finding(
        kind=Kind.DEPENDENCY,
        scanner="pip-audit",
        rule_id=vid,
        title=f"{name} {version}: {vid}",
        message=message,
        severity=DEFAULT_SEVERITY,
        severity_original="unspecified",
        confidence=Confidence.HIGH,
        location=loc,
        identifiers=idents,
        fix=fix,
        fixed_versions=fixes,
        references=tuple(i.url for i in idents if i.url),
        sources=(
            Source(scanner="pip-audit", rule_id=vid, severity_original="unspecified", message=message, location=loc),
        ),
    )


def parse(text: str, *, manifest: str | None) -> PipAuditReport:
    """Findings and not-audited dependencies from any of pip-audit's JSON shapes."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(f"pip-audit report is not valid JSON: {e.msg} at line {e.lineno}") from e
    if isinstance(data, list):
        deps = data
    elif isinstance(data, dict) and isinstance(data.get("dependencies"), list):
        deps = data["dependencies"]
    else:
        raise ParseError("pip-audit report: expected a list or an object with a 'dependencies' list")
    findings: list[Finding] = []
    skipped: list[str] = []
    for n, dep in enumerate(deps):
        where = f"dependencies[{n}]"
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            raise ParseError(f"pip-audit report: {where}: expected an object with a 'name'")
        if dep.get("skip_reason") is not None:
            skipped.append(f"{dep['name']}: {dep['skip_reason']}")
            continue
        vulns = dep.get("vulns") or []
        if not isinstance(vulns, list):
            raise ParseError(f"pip-audit report: {where}.vulns: expected a list")
        for m, vuln in enumerate(vulns):
            if not isinstance(vuln, dict):
                raise ParseError(f"pip-audit report: {where}.vulns[{m}]: expected an object")
            findings.append(_vuln_finding(dep, vuln, f"{where}.vulns[{m}]", manifest))
    return PipAuditReport(findings=tuple(findings), not_audited=tuple(skipped))


# Which files are dependency manifests, decided here once: discovery audits the requirements
# files among them, and --changed-only runs pip-audit when any of them changed.
_MANIFEST = re.compile(
    r"(^|/)(requirements[^/]*\.(txt|in)|requirements/[^/]+\.(txt|in)|constraints[^/]*\.txt|pyproject\.toml|"
    r"setup\.(py|cfg)|Pipfile(\.lock)?|poetry\.lock|pdm\.lock|uv\.lock|pylock[^/]*\.toml)$"
)
# The manifests pip-audit reads as requirements files (-r).
_REQUIREMENTS = re.compile(r"(^|/)(requirements[^/]*\.(txt|in)|requirements/[^/]+\.(txt|in))$")


def is_manifest(path: str) -> bool:
    """A dependency manifest or lock file (repo-relative POSIX path)."""
    return bool(_MANIFEST.search(path))


def is_requirements_file(path: str) -> bool:
    return bool(_REQUIREMENTS.search(path))


def discover_requirements(root: Path, excludes: tuple[str, ...] = ()) -> list[str]:
    """Requirements files under ``root`` (repo-relative), skipping virtualenvs and vendored trees."""
    skip = set(DEFAULT_EXCLUDES) | set(excludes)
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith("."))
        rel_dir = Path(dirpath).relative_to(root)
        for fn in filenames:
            rel = (rel_dir / fn).as_posix()
            if is_requirements_file(rel):
                found.add(rel)
    return sorted(found)


class PipAuditScanner(Scanner):
    name = "pip-audit"
    kinds = frozenset({Kind.DEPENDENCY})
    default_timeout = 300.0
    description = "Python dependency audit (OSV advisories)"

    @classmethod
    def relevant(cls, path: str) -> bool:
        return is_manifest(path)

    @classmethod
    def parse_report(cls, text: str, *, tree: SourceTree, origin: str, manifest: str | None = None) -> Parsed:
        report = parse(text, manifest=manifest)
        return Parsed(findings=report.findings, not_audited=report.not_audited)

    def version(self) -> str | None:
        return installed_version("pip-audit")

    def manifests(self, cfg: ScanConfig, ctx: RunContext) -> list[str]:
        reqs = list(cfg.requirements) or discover_requirements(cfg.target, cfg.exclude)
        if ctx.changed_files is not None and not any(self.relevant(f) for f in ctx.changed_files):
            # Diff-aware (--changed-only): audit only when a dependency manifest changed.
            return []
        if cfg.audit_installed:
            reqs.append(INSTALLED_ENV)
        return reqs

    def command(self, exe: str, manifest: str, cfg: ScanConfig, ctx: RunContext, out_file: Path) -> list[str]:
        argv = [exe, "-f", "json", "-o", str(out_file), "--progress-spinner", "off", "--timeout", "15"]
        if manifest != INSTALLED_ENV:
            # Pinned requirements audited as written: no resolver, no virtualenv build (0.5 s).
            argv += ["-r", str((cfg.target / manifest).resolve()), "--no-deps", "--disable-pip"]
        osv_url = cfg.osv_url or ctx.osv_url
        if osv_url:
            argv += ["-s", "osv", "--osv-url", osv_url]
        return argv

    def run(self, cfg: ScanConfig, ctx: RunContext) -> ScanOutcome:
        started = time.monotonic()
        manifests = self.manifests(cfg, ctx)
        if not manifests:
            why = "no dependency manifest changed" if ctx.changed_files is not None else "no requirements files found"
            return skipped_outcome(self.name, why)
        exe = find_executable("pip-audit")
        if exe is None:
            return failed_outcome(
                self.name, ScannerState.NOT_INSTALLED, "pip-audit is not installed (pip install pip-audit)"
            )
        version = self.version()
        findings: list[Finding] = []
        not_audited: list[str] = []
        commands: list[str] = []
        deadline = started + cfg.timeout_for(self.name)
        env: dict[str, str] = {}
        python = shutil.which("python") or shutil.which("python3")
        if python:
            env["PIPAPI_PYTHON_LOCATION"] = python
        try:
            for n, manifest in enumerate(manifests):
                out_file = ctx.workdir / f"pip-audit-{n}.json"
                out_file.unlink(missing_ok=True)
                argv = self.command(exe, manifest, cfg, ctx, out_file)
                commands = argv
                ctx.events(self.name, f"auditing {manifest}")
                remaining = max(1.0, deadline - time.monotonic())
                res = run_tool(argv, timeout=remaining, cancel=ctx.cancel, cwd=ctx.workdir, env=env)
                if res.returncode not in (0, 1) or not out_file.exists():
                    raise ScannerError(
                        f"pip-audit failed on {manifest} (exit {res.returncode}): "
                        f"{tail(res.stderr or res.stdout) or 'no output'}"
                    )
                try:
                    report = parse(out_file.read_text(encoding="utf-8", errors="replace"), manifest=manifest)
                except ParseError as e:
                    raise ScannerError(f"pip-audit output for {manifest} could not be parsed: {e.message}") from e
                findings.extend(report.findings)
                not_audited.extend(f"{manifest}: {s}" for s in report.not_audited)
        except ScannerError as e:
            out = outcome_for_error(self.name, e, duration_s=time.monotonic() - started, version=version)
            return ScanOutcome(status=out.status, findings=tuple(findings))
        state = ScannerState.OK
        error = None
        if not_audited:
            # Fail closed: a dependency that was not audited is unknown, not clean.
            state = ScannerState.FAILED
            error = f"{len(not_audited)} dependencies were NOT audited (e.g. {not_audited[0]})"
        return ScanOutcome(
            status=ScannerStatus(
                name=self.name,
                state=state,
                version=version,
                duration_s=time.monotonic() - started,
                error=error,
                findings=len(findings),
                not_audited=tuple(not_audited),
                command=tuple(commands),
            ),
            findings=tuple(findings),
        )
