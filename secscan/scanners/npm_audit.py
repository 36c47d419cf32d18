"""npm-audit: known vulnerabilities in npm, yarn and pnpm lockfiles, from the offline OSV store.

No package manager runs and nothing from the scanned tree executes: lockfiles are parsed as data
(:mod:`secscan.scanners.npm_lockfiles`) and every pinned version is matched against the npm
advisories of the same local OSV database pip-audit is served from (``--advisory-db``), with
SemVer ordering from ``semantic_version`` (:mod:`secscan.advisories.matching`).

Fail closed, like pip-audit: a lockfile that cannot be read or parsed, a dependency that is not
a registry package (git, tarball: no advisory can be matched to it) or a missing advisory
database fails the scanner; it never reports a tree it could not audit as clean.

Lockfiles are found by the one walker (:mod:`secscan.files`): a lockfile that is a link leaving
the tree (``package-lock.json -> /proc/self/environ``) or dangling is never read and is listed as
not audited; a link inside the tree is read once, at the path it resolves to. One lockfile that
cannot be read is listed as not audited; the others are still audited.
"""

from __future__ import annotations

import errno
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan import __version__, files, pathmatch
from secscan.advisories.matching import compile_range, parser_for
from secscan.advisories.osv import NPM, Event, Range, normalize_name
from secscan.advisories.severity import vulnerability_severity
from secscan.advisories.store import AdvisoryStore
from secscan.errors import ConfigError, ParseError
from secscan.models import Confidence, Finding, Identifier, Kind, Location, ScannerState, ScannerStatus, Source
from secscan.scanners import manifests
from secscan.scanners.base import RunContext, Scanner, ScanOutcome, failed_outcome, skipped_outcome
from secscan.scanners.npm_lockfiles import (
    LOCKFILE_NAMES,
    LockedPackage,
    Lockfile,
    parse_lockfile,
    parse_manifest,
    parse_manifest_pins,
)
from secscan.scanners.pip_audit import _id_type, _id_url

if TYPE_CHECKING:
    from secscan.config import ScanConfig  # an annotation only: the configuration is above the plugins

NAME = "npm-audit"
DEV_TAG = "dev-dependency"
UNKNOWN_SCOPE_TAG = "dependency-scope-unknown"
MAX_LOCKFILE_BYTES = 64 * 1024 * 1024
"""A 2,000-package lockfile is about 1.5 MB; anything this large is refused, not parsed."""


@dataclass(frozen=True, kw_only=True)
class Match:
    """One advisory that affects one locked package."""

    package: LockedPackage
    record: Mapping[str, Any]
    """The advisory's OSV record (as stored)."""
    related: tuple[Mapping[str, Any], ...] = ()
    """The other stored records of the same vulnerability (aliases): their scores count too."""


def fixed_versions(record: Mapping[str, Any], name: str, version: str) -> tuple[str, ...]:
    """The ``fixed`` events of the record's ranges for ``name`` that contain ``version``: the
    upgrades that clear *this* version (express 4.12.4 needs 4.19.2, not 5.0.0-beta.3)."""
    parse = parser_for(NPM)
    v = parse(version)
    out: list[str] = []
    for aff in record.get("affected") or []:
        pkg = aff.get("package") or {}
        if pkg.get("ecosystem") != NPM or normalize_name(str(pkg.get("name", "")), NPM) != name.lower():
            continue
        for rng in aff.get("ranges") or []:
            if rng.get("type") not in ("SEMVER", "ECOSYSTEM"):
                continue
            events = tuple(Event(kind=k, value=str(val)) for ev in rng.get("events") or [] for k, val in ev.items())
            if v is not None and compile_range(Range(type=str(rng["type"]), events=events), parse).contains(v):
                out.extend(e.value for e in events if e.kind == "fixed")
    return tuple(dict.fromkeys(out))


def finding(manifest: str, match: Match) -> Finding:
    """The normalized finding for one match (pure)."""
    rec, pkg = match.record, match.package
    vid = str(rec["id"])
    aliases = [str(a) for a in rec.get("aliases") or [] if isinstance(a, str)]
    specific = rec.get("database_specific") if isinstance(rec.get("database_specific"), dict) else {}
    cwes = [str(c) for c in (specific or {}).get("cwe_ids") or [] if isinstance(c, str)]
    idents = tuple(Identifier(type=_id_type(i), value=i, url=_id_url(i)) for i in [vid, *aliases]) + tuple(
        Identifier(type="cwe", value=c, url=f"https://cwe.mitre.org/data/definitions/{c.split('-')[-1]}.html")
        for c in cwes
    )
    fixes = fixed_versions(rec, pkg.name, pkg.version)
    sev = vulnerability_severity(rec, match.related)
    summary = " ".join(str(rec.get("summary") or "").split())
    details = str(rec.get("details") or "").strip()
    message = (summary + "\n\n" + details).strip() if details else summary or f"{pkg.name} {pkg.version}: {vid}"
    scope = "dev dependency" if pkg.dev else "dependency" if pkg.dev is False else "dependency (dev or not: unknown)"
    fix = (
        f"Upgrade {pkg.name} to {' or '.join(fixes)} or later ({scope} in {manifest})."
        if fixes
        else f"No fixed version is published yet for {pkg.name} {pkg.version} ({scope} in {manifest})."
    )
    loc = Location(path=manifest, package=pkg.name, version=pkg.version)
    refs = [i.url for i in idents if i.url and i.type != "cwe"]
    for r in rec.get("references") or []:
        if isinstance(r, dict) and isinstance(r.get("url"), str):
            refs.append(str(r["url"]))
    tags = (DEV_TAG,) if pkg.dev else (UNKNOWN_SCOPE_TAG,) if pkg.dev is None else ()
    return Finding(
        kind=Kind.DEPENDENCY,
        scanner=NAME,
        rule_id=vid,
        title=f"{pkg.name} {pkg.version}: {summary or vid}"[:200],
        message=message,
        severity=sev.severity,
        severity_original=sev.original,
        confidence=Confidence.HIGH,
        location=loc,
        identifiers=idents,
        fix=fix,
        fixed_versions=fixes,
        references=tuple(dict.fromkeys(refs)),
        sources=(Source(scanner=NAME, rule_id=vid, severity_original=sev.original, message=message, location=loc),),
        tags=tags,
    )


def matches(lockfile: Lockfile, store: AdvisoryStore) -> list[Match]:
    """Every (package, advisory) pair: each locked version against the npm advisories of its name."""
    parse = parser_for(NPM)
    out: list[Match] = []
    for pkg in lockfile.packages:
        candidates = store.candidates(normalize_name(pkg.name, NPM), NPM)
        if not candidates:
            continue
        parsed = parse(pkg.version)
        seen: set[str] = set()
        for cand in candidates:
            if cand.advisory_id in seen or not cand.matcher.affects(pkg.version, parsed):
                continue
            seen.add(cand.advisory_id)
            text = store.record(cand.advisory_id)
            if text is not None:
                related = tuple(r for r in store.related_records([cand.advisory_id]) if r.get("id") != cand.advisory_id)
                out.append(Match(package=pkg, record=json.loads(text), related=related))
    return out


def audit(manifest: str, lockfile: Lockfile, store: AdvisoryStore) -> list[Finding]:
    return [finding(manifest, m) for m in matches(lockfile, store)]


def _is_lockfile(path: str) -> bool:
    return path.rsplit("/", 1)[-1] in LOCKFILE_NAMES


def find_lockfiles(listing: files.Listing, excludes: Sequence[str] = ()) -> manifests.Discovery:
    """The lockfiles of one walk: regular files, links inside the tree at their tree path (once),
    and links that leave the tree, dangle or point into an excluded folder, refused (never read,
    not audited)."""
    return manifests.find(listing, _is_lockfile, pathmatch.excludes(excludes).matches)


def find_unlocked_manifests(
    listing: files.Listing, locked: Iterable[str], excludes: Sequence[str] = ()
) -> manifests.Discovery:
    """package.json files with no lockfile in their folder or above it (issue 28): their exact
    pins are audited, their ranges listed as not audited. A lockfile in a parent folder covers
    the workspace members below it (npm, yarn and pnpm workspaces); installed packages
    (node_modules) are not the project's manifests."""
    folders = {p.rsplit("/", 1)[0] if "/" in p else "" for p in locked}

    def covered(folder: str) -> bool:
        parts = folder.split("/") if folder else []
        return any("/".join(parts[:i]) in folders for i in range(len(parts) + 1))

    def wanted(path: str) -> bool:
        if path.rsplit("/", 1)[-1] != "package.json" or "node_modules" in path.split("/"):
            return False
        return not covered(path.rsplit("/", 1)[0] if "/" in path else "")

    return manifests.find(listing, wanted, pathmatch.excludes(excludes).matches)


def discover_lockfiles(root: Path, excludes: Sequence[str] = ()) -> list[str]:
    """Lockfiles under ``root`` (tree paths), with the excludes every other scanner uses."""
    return [f.path for f in find_lockfiles(files.walk(root, pathmatch.excludes(excludes)), excludes).found]


def is_manifest(path: str) -> bool:
    """A lockfile or package.json: --changed-only runs the audit when one of them changed."""
    return Path(path).name in (*LOCKFILE_NAMES, "package.json")


def relevant(changed: Iterable[str]) -> bool:
    return any(is_manifest(f) for f in changed)


def _read_text(root: Path, rel: str) -> str:
    """A tree file's text through :func:`secscan.files.read_bytes`: never outside the tree."""
    data = files.read_bytes(root, rel, limit=MAX_LOCKFILE_BYTES + 1)
    if len(data) > MAX_LOCKFILE_BYTES:
        raise OSError(errno.EFBIG, f"larger than {MAX_LOCKFILE_BYTES} bytes")
    return data.decode("utf-8")


def _package_json(root: Path, rel: str) -> tuple[Mapping[str, Any] | None, str | None]:
    """The package.json beside a lockfile (for dev flags), under the same rule for links."""
    pkg_rel = f"{rel.rsplit('/', 1)[0]}/package.json" if "/" in rel else "package.json"
    if not (root / pkg_rel).is_symlink() and not (root / pkg_rel).is_file():
        return None, None
    try:
        return parse_manifest(_read_text(root, pkg_rel)), None
    except OSError as e:
        why = e.strerror or type(e).__name__
    except UnicodeDecodeError:
        why = "not UTF-8"
    except ParseError as e:
        why = e.message
    return None, f"{NAME}: {pkg_rel} unreadable, dev flags unknown: {why}"


def read_lockfile(root: Path, rel: str) -> tuple[Lockfile, str | None]:
    """Parse one lockfile (and the package.json beside it, for dev flags). Raises ParseError;
    the message names the file and why, never what a file outside the tree holds."""
    try:
        text = _read_text(root, rel)
    except OSError as e:
        raise ParseError(f"{rel}: cannot be read: {e.strerror or type(e).__name__}") from None
    except UnicodeDecodeError:
        raise ParseError(f"{rel}: cannot be read: not UTF-8") from None
    manifest, warning = _package_json(root, rel)
    try:
        return parse_lockfile(rel, text, manifest), warning
    except ParseError as e:
        raise ParseError(f"{rel}: {e.message}") from None


class NpmAuditScanner(Scanner):
    name = NAME
    kinds = frozenset({Kind.DEPENDENCY})
    default_timeout = 300.0
    description = "npm, yarn and pnpm lockfile audit (offline OSV advisories)"
    importable = False  # it has no report format of its own: it reads the lockfiles in-process

    @classmethod
    def relevant(cls, path: str) -> bool:
        return is_manifest(path)

    def version(self) -> str | None:
        return __version__

    def run(self, cfg: ScanConfig, ctx: RunContext) -> ScanOutcome:
        started = time.monotonic()
        if ctx.changed_files is not None and not relevant(ctx.changed_files):
            return skipped_outcome(self.name, "no lockfile or package.json changed")
        listing = ctx.selection.listing(cfg.target, cfg.exclude)
        found = find_lockfiles(listing, cfg.exclude)
        # A lockfile links into the tree or out of it: its folder counts as locked either way.
        locked = [f.name for f in found.found] + [r.split(":", 1)[0] for r in found.refused]
        unlocked = find_unlocked_manifests(listing, locked, cfg.exclude)
        lockfiles = [f.path for f in found.found] + [f.path for f in unlocked.found]
        if not lockfiles and not found.refused and not unlocked.refused:
            return skipped_outcome(self.name, "no npm, yarn or pnpm lockfile or package.json found")
        if cfg.advisory_db is None:
            return failed_outcome(
                self.name,
                ScannerState.FAILED,
                f"{len(lockfiles) + len(found.refused)} lockfile(s) found but no advisory database: pass "
                "--advisory-db (a database from `secscan advisories import`, or a folder/zip of OSV files)",
                version=self.version(),
            )
        from secscan.advisories import service

        try:
            store, tmpdir = service.open_store(cfg.advisory_db)
        except ConfigError as e:
            return failed_outcome(self.name, ScannerState.FAILED, e.message, version=self.version())
        audit_run = _Run(cfg.target, store, ctx)
        audit_run.not_audited.extend(found.refused)
        audit_run.not_audited.extend(unlocked.refused)
        try:
            if not audit_run.all(found.found) or not audit_run.all(unlocked.found, manifest=True):
                return failed_outcome(self.name, ScannerState.FAILED, f"{NAME} cancelled", version=self.version())
        finally:
            store.close()
            if tmpdir is not None:
                tmpdir.cleanup()
        findings, warnings, not_audited = audit_run.findings, audit_run.warnings, audit_run.not_audited
        state, error = ScannerState.OK, None
        if not_audited:
            # Fail closed: a lockfile not read, or a dependency no advisory can be matched to
            # (git, tarball), is unknown, not clean.
            state = ScannerState.FAILED
            error = f"{len(not_audited)} lockfiles, manifests or dependencies were NOT audited ({not_audited[0]})"
        return ScanOutcome(
            status=ScannerStatus(
                name=self.name,
                state=state,
                version=self.version(),
                duration_s=time.monotonic() - started,
                error=error,
                findings=len(findings),
                not_audited=tuple(not_audited),
                command=(NAME, *lockfiles),
            ),
            findings=tuple(findings),
            warnings=tuple(warnings),
        )


class _Run:
    """The lockfiles of one run: one that cannot be read is listed, the others still audited."""

    def __init__(self, root: Path, store: AdvisoryStore, ctx: RunContext) -> None:
        self.root, self.store, self.ctx = root, store, ctx
        self.findings: list[Finding] = []
        self.warnings: list[str] = []
        self.not_audited: list[str] = []

    def all(self, found: Iterable[manifests.Found], *, manifest: bool = False) -> bool:
        """Audit each lockfile (``manifest``: each package.json without one); False when the run
        was cancelled."""
        for f in found:
            if self.ctx.cancel.is_set():
                return False
            self.ctx.events(NAME, f"auditing {f.path}")
            if manifest:
                self.unlocked(f)
            else:
                self.one(f)
        return True

    def unlocked(self, found: manifests.Found) -> None:
        """A package.json with no lockfile: exact pins audited, ranges listed as not audited."""
        try:
            pins = parse_manifest_pins(found.path, _read_text(self.root, found.path))
        except OSError as e:
            self.not_audited.append(f"{found.path}: cannot be read: {e.strerror or type(e).__name__}: NOT audited")
            return
        except UnicodeDecodeError:
            self.not_audited.append(f"{found.path}: cannot be read: not UTF-8: NOT audited")
            return
        except ParseError as e:
            self.not_audited.append(f"{found.path}: {e.message}: NOT audited")
            return
        self.not_audited.extend(f"{found.path}: {d}" for d in pins.not_audited)
        self.findings.extend(audit(found.path, pins, self.store))

    def one(self, found: manifests.Found) -> None:
        try:
            lockfile, warning = read_lockfile(self.root, found.path)
        except ParseError as e:
            self.not_audited.append(f"lockfile could not be read: {e.message}: NOT audited")
            return
        if warning:
            self.warnings.append(warning)
        self.not_audited.extend(f"{found.path}: {d}" for d in lockfile.not_audited)
        self.findings.extend(audit(found.path, lockfile, self.store))
