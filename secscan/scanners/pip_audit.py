"""pip-audit: known vulnerabilities in Python dependencies.

Format facts (tests/data/scanners/README.md): three JSON shapes — a top-level list (old),
``{"dependencies": [...]}`` and ``{"dependencies": [...], "fixes": [...]}``. A dependency with
``skip_reason`` was NOT audited: when pip-audit's vulnerability service is unreachable it skips
everything and still says "No known vulnerabilities found" with exit 0. secscan reports skipped
dependencies as "not audited" and fails the scanner (fail closed), never as clean.

Audited means audited (issue 25, class 4):
- manifests are found by the one walker (:mod:`secscan.files`): a manifest that is a link leaving
  the tree (``requirements.txt -> /proc/self/environ``) or dangling is never read and is listed as
  not audited; a link inside the tree is read once, at the path it resolves to;
- pip-audit is only ever handed a private, generated requirements file (``name==version`` lines,
  no markers, no options): never a tree path it would open itself, following links, ``-r``
  includes and ``${VAR}`` expansions, and dropping pins whose environment marker is false on the
  runner;
- after each run the dependencies pip-audit reports are compared with the pins it was handed: a
  pin missing from its report was not audited (fail closed).
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit
from urllib.request import urlopen

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from secscan import files, pathmatch
from secscan.advisories import severity
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
from secscan.scanners import manifests
from secscan.scanners.base import (
    Parsed,
    RunContext,
    Scanner,
    ScanOutcome,
    ToolMissing,
    ToolTimeout,
    failed_outcome,
    find_executable,
    installed_version,
    outcome_for_error,
    run_tool,
    skipped_outcome,
    tail,
)
from secscan.sourcefiles import SourceTree

if TYPE_CHECKING:
    from secscan.advisories.store import AdvisoryStore
    from secscan.config import ScanConfig  # an annotation only: the configuration is above the plugins

# pip-audit's JSON carries no severity; OSV PyPI advisories rarely do either. A known,
# published vulnerability in a pinned dependency is "medium" until an advisory says otherwise.
DEFAULT_SEVERITY = Severity.MEDIUM
INSTALLED_ENV = "<installed environment>"
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
"""A manifest larger than this is not read (not audited): real ones are kilobytes."""


@dataclass(frozen=True, kw_only=True)
class PipAuditReport:
    findings: tuple[Finding, ...]
    not_audited: tuple[str, ...]
    """``name==version (reason)`` for every dependency pip-audit skipped."""
    reported: tuple[tuple[str, str], ...] = ()
    """(name, version) of every dependency the report names, skipped or not: what pip-audit saw."""


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
    reported: list[tuple[str, str]] = []
    for n, dep in enumerate(deps):
        where = f"dependencies[{n}]"
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            raise ParseError(f"pip-audit report: {where}: expected an object with a 'name'")
        reported.append((dep["name"], str(dep.get("version", ""))))
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
    return PipAuditReport(findings=tuple(findings), not_audited=tuple(skipped), reported=tuple(reported))


def _pin_key(name: str, version: str) -> tuple[str, str]:
    try:
        normal = str(Version(version))
    except InvalidVersion:
        normal = version
    return canonicalize_name(name), normal


def missing_pins(pinned: Iterable[tuple[str, str]], reported: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The pins handed to pip-audit that its report does not name (same name and version, both
    normalized): pip-audit dropped them, so they were not audited."""
    seen = {_pin_key(n, v) for n, v in reported}
    return [(n, v) for n, v in pinned if _pin_key(n, v) not in seen]


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


# Manifests that declare nothing to audit by themselves: constraints only narrow what others
# declare (a Pipfile is read: its pins are audited, its ranges covered by Pipfile.lock or listed).
_NOT_DECLARATIONS = re.compile(r"(^|/)constraints[^/]*\.txt$")


def _declares(path: str) -> bool:
    return is_manifest(path) and not _NOT_DECLARATIONS.search(path)


def find_manifests(listing: files.Listing, excludes: tuple[str, ...] = ()) -> manifests.Discovery:
    """The manifests of one walk (:func:`secscan.files.walk`): every dependency manifest at any
    depth, links inside the tree at their tree path, links that leave it refused (not audited);
    a pip-compile ``.in`` is skipped when its compiled ``.txt`` is next to it (the ``.txt`` pins
    what the ``.in`` asks for)."""
    found = manifests.find(listing, _declares, pathmatch.excludes(excludes).matches)
    names = {f.name for f in found.found} | {f.path for f in found.found}
    kept = tuple(f for f in found.found if not (f.name.endswith(".in") and f.name[:-3] + ".txt" in names))
    return manifests.Discovery(found=kept, refused=found.refused)


def discover_requirements(root: Path, excludes: tuple[str, ...] = ()) -> list[str]:
    """Requirements files under ``root`` (repo-relative), skipping virtualenvs and vendored trees."""
    return [m for m in discover_manifests(root, excludes) if is_requirements_file(m)]


def discover_manifests(root: Path, excludes: tuple[str, ...] = ()) -> list[str]:
    """The tree paths of every dependency manifest under ``root`` (see :func:`find_manifests`),
    with the same excludes as bandit and semgrep."""
    return [f.path for f in find_manifests(files.walk(root, pathmatch.excludes(excludes)), excludes).found]


def explicit_manifests(root: Path, paths: Iterable[str], excludes: tuple[str, ...] = ()) -> manifests.Discovery:
    """The operator's ``--requirements`` files, under the same rule for links as discovery."""
    found: list[manifests.Found] = []
    refused: list[str] = []
    skip = pathmatch.excludes(excludes)
    for rel in paths:
        inner = files.resolve(root, rel)
        if inner is None or (inner != rel and skip.matches(inner)):
            refused.append(f"{rel}: not a file inside the checkout (a link is not followed out of it): NOT audited")
        else:
            found.append(manifests.Found(path=inner, name=rel))
    return manifests.Discovery(found=tuple(found), refused=tuple(refused))


def read_manifest(root: Path, rel: str) -> str:
    """A manifest's text, read through :func:`secscan.files.read_bytes` (never outside the tree).
    OSError when it cannot be read or is larger than :data:`MAX_MANIFEST_BYTES`."""
    data = files.read_bytes(root, rel, limit=MAX_MANIFEST_BYTES + 1)
    if len(data) > MAX_MANIFEST_BYTES:
        raise OSError(errno.EFBIG, f"larger than {MAX_MANIFEST_BYTES} bytes")
    return data.decode("utf-8", errors="replace")


def tree_opener(root: Path, excludes: tuple[str, ...] = ()) -> manifests.Opener:
    """How a manifest reads the files it names (``-r``, ``-c``, setuptools' dynamic files): only
    regular files inside the tree, at their tree path, outside the folders the scan excludes
    (``-r .git/config`` would read the runner's remote URL)."""
    base = Path(os.path.realpath(root))
    skip = pathmatch.excludes(excludes)

    def open_(rel: str) -> tuple[str, str] | None:
        inner = files.resolve(root, rel)
        if inner is None or skip.matches(inner) or not (base / inner).is_file():
            return None
        try:
            return inner, read_manifest(root, inner)
        except OSError:
            return None

    return open_


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

    def targets(self, cfg: ScanConfig, ctx: RunContext) -> manifests.Discovery:
        """The manifests to audit (and those refused), or none when --changed-only left them all."""
        if ctx.changed_files is not None and not any(self.relevant(f) for f in ctx.changed_files):
            # Diff-aware (--changed-only): audit only when a dependency manifest changed.
            return manifests.Discovery()
        if cfg.requirements:
            found = explicit_manifests(cfg.target, cfg.requirements, cfg.exclude)
        else:
            found = find_manifests(ctx.selection.listing(cfg.target, cfg.exclude), cfg.exclude)
        if cfg.audit_installed:
            env = manifests.Found(path=INSTALLED_ENV, name=INSTALLED_ENV)
            found = manifests.Discovery(found=(*found.found, env), refused=found.refused)
        return found

    def command(self, exe: str, manifest: str, cfg: ScanConfig, ctx: RunContext, out_file: Path) -> list[str]:
        argv = [exe, "-f", "json", "-o", str(out_file), "--progress-spinner", "off", "--timeout", "15"]
        if manifest != INSTALLED_ENV:
            # The private pinned file (see _Audit.pins): no resolver, no virtualenv build (0.5 s).
            argv += ["-r", manifest, "--no-deps", "--disable-pip"]
        osv_url = cfg.osv_url or ctx.osv_url
        if osv_url:
            argv += ["-s", "osv", "--osv-url", osv_url]
        return argv

    def run(self, cfg: ScanConfig, ctx: RunContext) -> ScanOutcome:
        started = time.monotonic()
        targets = self.targets(cfg, ctx)
        if not targets.found and not targets.refused:
            why = "no dependency manifest changed" if ctx.changed_files is not None else "no dependency manifests found"
            return skipped_outcome(self.name, why)
        exe = find_executable("pip-audit")
        if exe is None:
            return failed_outcome(
                self.name, ScannerState.NOT_INSTALLED, "pip-audit is not installed (pip install pip-audit)"
            )
        version = self.version()
        deadline = started + cfg.timeout_for(self.name)
        env: dict[str, str] = {}
        python = shutil.which("python") or shutil.which("python3")
        if python:
            env["PIPAPI_PYTHON_LOCATION"] = python
        if ctx.osv_url and not cfg.osv_url:
            # The local advisory server (--advisory-db) is on loopback: a job's HTTP(S)_PROXY must
            # not route pip-audit's queries to it through the proxy (which cannot reach our loopback).
            env.update(_no_proxy_for_loopback(os.environ))
        audit = _Audit(self, exe=exe, cfg=cfg, ctx=ctx, env=env, deadline=deadline)
        audit.failed.extend(targets.refused)
        try:
            for n, found in enumerate(targets.found):
                ctx.events(self.name, f"auditing {found.path}")
                audit.manifest(n, found)
        except ScannerError as e:  # a timeout or a cancelled run: the whole scanner stops
            out = outcome_for_error(self.name, e, duration_s=time.monotonic() - started, version=version)
            return ScanOutcome(status=out.status, findings=tuple(audit.findings))
        findings = audit.findings
        not_audited = audit.not_audited()
        commands = audit.commands
        findings = _with_severities(findings, cfg.osv_url or ctx.osv_url, None if cfg.osv_url else ctx.advisories)
        state = ScannerState.OK
        error = None
        if not_audited:
            # Fail closed: a dependency that was not audited is unknown, not clean.
            state = ScannerState.FAILED
            error = f"{len(not_audited)} dependencies or manifests were NOT audited (e.g. {not_audited[0]})"
            if not (cfg.osv_url or ctx.osv_url) and any(_OFFLINE.search(item) for item in not_audited):
                error += OFFLINE_HINT
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


def _no_proxy_for_loopback(environ: Mapping[str, str]) -> dict[str, str]:
    """``NO_PROXY``/``no_proxy`` with loopback added to what the job already excludes."""
    given = [h.strip() for v in (environ.get("NO_PROXY", ""), environ.get("no_proxy", "")) for h in v.split(",")]
    hosts = ",".join(dict.fromkeys([*(h for h in given if h), "127.0.0.1", "localhost", "::1"]))
    return {"NO_PROXY": hosts, "no_proxy": hosts}


_OFFLINE = re.compile(r"not found on PyPI|HTTPSConnectionPool|Max retries exceeded|NameResolution|ProxyError")
"""What pip-audit says when its vulnerability service cannot be reached: offline it skips each
dependency as "not found on PyPI"; behind a proxy that refuses it fails with the connection error."""
OFFLINE_HINT = (
    "; pip-audit could not reach its vulnerability service: offline or in an air-gapped job, audit "
    "against a local advisory database with --advisory-db PATH (OSV files; see `secscan advisories import`)"
)


class _Audit:
    """One pip-audit run per manifest; a manifest that fails is listed as not audited and the
    others are still audited."""

    def __init__(
        self,
        scanner: PipAuditScanner,
        *,
        exe: str,
        cfg: ScanConfig,
        ctx: RunContext,
        env: dict[str, str],
        deadline: float,
    ) -> None:
        self.scanner, self.exe, self.cfg, self.ctx, self.env, self.deadline = scanner, exe, cfg, ctx, env, deadline
        self.findings: list[Finding] = []
        self.commands: list[str] = []
        self.failed: list[str] = []
        self.audited_names: set[str] = set()
        self.unpinned: list[tuple[str, str]] = []
        """(manifest, requirement) declared with a range: covered only if pinned elsewhere."""
        self.placed: dict[tuple[str, str], str] = {}
        """The current manifest's pins written in another tree file (see Declared.pinned_in)."""

    def _pip_audit(self, n: int, manifest: str, requirements: Path | None) -> PipAuditReport:
        """``requirements`` None: the installed environment."""
        out_file = self.ctx.workdir / f"pip-audit-{n}.json"
        out_file.unlink(missing_ok=True)
        target = INSTALLED_ENV if requirements is None else str(requirements)
        argv = self.scanner.command(self.exe, target, self.cfg, self.ctx, out_file)
        self.commands = argv
        remaining = max(1.0, self.deadline - time.monotonic())
        res = run_tool(argv, timeout=remaining, cancel=self.ctx.cancel, cwd=self.ctx.workdir, env=self.env)
        if res.returncode not in (0, 1) or not out_file.exists():
            raise ScannerError(
                f"pip-audit failed (exit {res.returncode}): {tail(res.stderr or res.stdout) or 'no output'}"
            )
        try:
            return parse(out_file.read_text(encoding="utf-8", errors="replace"), manifest=manifest)
        except ParseError as e:
            raise ScannerError(f"pip-audit output could not be parsed: {e.message}") from e

    def _record(self, manifest: str, report: PipAuditReport, pinned: tuple[tuple[str, str], ...]) -> None:
        self.findings.extend(_placed(f, self.placed) for f in report.findings)
        self.failed.extend(f"{manifest}: {s}" for s in report.not_audited)
        skipped = {canonicalize_name(s.split(":", 1)[0]) for s in report.not_audited}
        dropped = missing_pins(pinned, report.reported)
        # pip-audit said nothing about these: dropped (a marker, a parse quirk), so NOT audited.
        self.failed.extend(f"{manifest}: {n}=={v} (handed to pip-audit, absent from its report)" for n, v in dropped)
        skipped |= {canonicalize_name(n) for n, _v in dropped}
        self.audited_names |= {canonicalize_name(name) for name, _v in pinned} - skipped

    def _failed(self, manifest: str, e: ScannerError) -> None:
        if isinstance(e, (ToolTimeout, ToolMissing)):
            raise e
        self.failed.append(f"{manifest}: {e.message}")

    def manifest(self, n: int, found: manifests.Found) -> None:
        self.placed = {}
        if found.path == INSTALLED_ENV:
            try:
                self._record(found.path, self._pip_audit(n, found.path, None), ())
            except ScannerError as e:
                self._failed(found.path, e)
            return
        root, manifest = self.cfg.target, found.path
        try:
            text = read_manifest(root, manifest)
        except OSError as e:
            self.failed.append(f"{manifest}: could not be read ({e.strerror or type(e).__name__}): NOT audited")
            return
        declared = manifests.read(manifest, text, opener=tree_opener(root, self.cfg.exclude), name=found.name)
        self.failed.extend(f"{manifest}: {e}" for e in declared.errors)
        self.unpinned.extend((manifest, r) for r in declared.unpinned)
        self.placed = {_pin_key(*pin): where for pin, where in declared.pinned_in}
        self.pins(n, manifest, declared.pinned)

    def pins(self, n: int, manifest: str, pinned: tuple[tuple[str, str], ...]) -> None:
        """Audit ``pinned`` from a private requirements file under the work folder, named after the
        manifest (so the command says which manifest it audits)."""
        unsafe = [(name, v) for name, v in pinned if not manifests.is_safe_pin(name, v)]
        self.failed.extend(
            f"{manifest}: {name[:80]!r}: not a package name and version: NOT audited" for name, _ in unsafe
        )
        pinned = tuple(p for p in pinned if p not in unsafe)
        if not pinned:
            return
        private = self.ctx.workdir / "pip-audit-pinned" / str(n) / manifest
        try:
            private.parent.mkdir(parents=True, exist_ok=True)
            private.write_text(manifests.requirements_text(pinned), encoding="utf-8")
        except OSError as e:
            self.failed.append(f"{manifest}: the pinned copy could not be written ({e.strerror}): NOT audited")
            return
        try:
            self._record(manifest, self._pip_audit(n, manifest, private), pinned)
        except ScannerError as e:
            self._failed(manifest, e)

    def not_audited(self) -> list[str]:
        """Everything not audited: failed manifests, skipped dependencies, and ranges that no
        audited manifest of the project pins (a range is audited through the pin, e.g. Flask's
        ``Werkzeug>=3.0.0`` through ``requirements/tests.txt``)."""
        out = list(self.failed)
        for manifest, req in self.unpinned:
            name = manifests.requirement_name(req)
            if name is None or name not in self.audited_names:
                out.append(
                    f"{manifest}: {req} (not pinned to one version, and no audited lock or requirements file pins it)"
                )
        return list(dict.fromkeys(out))


def _placed(f: Finding, placed: dict[tuple[str, str], str]) -> Finding:
    """The finding located in the file that writes its pin (an ``-r`` include, a dynamic file)."""
    where = placed.get(_pin_key(f.location.package or "", f.location.version or ""))
    if where is None:
        return f
    loc = replace(f.location, path=where)
    return replace(f, location=loc, sources=tuple(replace(s, location=loc) for s in f.sources))


def _fetch_record(base: str, advisory_id: str) -> dict[str, Any] | None:
    url = f"{base}/v1/vulns/{quote(advisory_id, safe='')}"
    try:
        with urlopen(url, timeout=10) as resp:  # noqa: S310 - the OSV endpoint the operator configured
            data = json.loads(resp.read().decode("utf-8", errors="replace"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _records(f: Finding, base: str | None, cache: dict[str, dict[str, Any] | None]) -> list[Mapping[str, Any]]:
    """The records of the finding's advisory and of its aliases, from an OSV endpoint."""
    records: list[Mapping[str, Any]] = []
    if base is not None:
        for ident in dict.fromkeys([f.rule_id, *(i.value for i in f.identifiers)]):
            if ident not in cache:
                cache[ident] = _fetch_record(base, ident)
            record = cache[ident]
            if record is not None:
                records.append(record)
    return records


def _with_severities(findings: list[Finding], osv_url: str | None, store: AdvisoryStore | None = None) -> list[Finding]:
    """Each dependency finding's severity from the CVSS vectors of every record that names its
    vulnerability (pip-audit's JSON carries none): with the local store, the advisory, its aliases
    and every record listing one of them as an alias (a PYSEC record without CVSS takes the GHSA
    record's score); from another endpoint, the advisory and its aliases. ``unknown`` (kept at
    the default level) when no record has a vector."""
    if not findings:
        return findings
    base = None
    if osv_url:
        parts = urlsplit(osv_url)
        base = f"{parts.scheme}://{parts.netloc}"
    cache: dict[str, dict[str, Any] | None] = {}
    out = []
    for f in findings:
        if store is not None:
            records = list(store.related_records([f.rule_id, *(i.value for i in f.identifiers)]))
        else:
            records = _records(f, base, cache)
        scored = severity.score_records(records)
        if scored is None:
            out.append(replace(f, severity_original=severity.UNKNOWN))
            continue
        out.append(
            replace(
                f,
                severity=scored.severity,
                severity_original=scored.original,
                sources=tuple(replace(s, severity_original=scored.original) for s in f.sources),
            )
        )
    return out
