"""Cross-scanner dedupe: one problem at one place is one finding that lists every source.

sast/secret/dast findings merge when their v1 fingerprints are equal (the fingerprint already
folds the rule family, so bandit B324 and a semgrep MD5 rule on the same code agree).
Dependency findings merge on (package, canonical advisory) whatever the manifest: the same
advisory reached through two requirement files is one finding with two locations.

The result does not depend on input order: the primary of a group is chosen by a total order
(highest severity, then scanner, rule, location), and every merged collection is sorted.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import replace

from secscan.fingerprint import dependency_key, evolve
from secscan.models import Confidence, Finding, Identifier, Kind, Location, Source, Status, Suppression
from secscan.textsafe import secret_values

_CONFIDENCE_RANK = {Confidence.UNKNOWN: 0, Confidence.LOW: 1, Confidence.MEDIUM: 2, Confidence.HIGH: 3}
# When results of split jobs are merged, one finding can arrive with several statuses: the most
# alarming one wins. A suppression never overrides an open copy: a result file can be planted
# or come from a job with other inputs, and only the trusted suppressions decide (they are
# applied to the merged finding again when a scan triages it).
_STATUS_RANK = {Status.NEW: 0, Status.EXISTING: 1, Status.SUPPRESSED: 2, Status.FIXED: 3}


def _loc_key(loc: Location) -> tuple[str | int, ...]:
    return (
        loc.path or "",
        loc.start_line or 0,
        loc.start_column or 0,
        loc.end_line or 0,
        loc.package or "",
        loc.version or "",
        loc.url or "",
        loc.method or "",
        loc.param or "",
        loc.snippet or "",
        loc.evidence or "",
    )


def _primary_key(f: Finding) -> tuple[object, ...]:
    return (-f.severity.rank, f.scanner, f.rule_id, _loc_key(f.location), f.message, f.title)


def source_of(f: Finding) -> tuple[Source, ...]:
    """A finding's sources; a finding straight from a parser is its own single source."""
    if f.sources:
        return f.sources
    return (
        Source(
            scanner=f.scanner,
            rule_id=f.rule_id,
            severity_original=f.severity_original,
            message=f.message,
            location=f.location,
        ),
    )


def _source_key(s: Source) -> tuple[object, ...]:
    return (s.scanner, s.rule_id, _loc_key(s.location), s.severity_original, s.message)


def _suppression_key(s: Suppression | None) -> tuple[str, ...]:
    if s is None:
        return ("~",)
    return (s.origin, s.reason, s.owner or "", s.expires or "", s.ticket or "", s.matched_by or "")


def group_key(f: Finding) -> Hashable:
    """What two findings must share to be merged."""
    if f.kind is Kind.DEPENDENCY:
        package, advisory = dependency_key(f)
        if package and advisory:
            return ("dependency", package, advisory)
    if f.fingerprint:
        return ("fp", f.fingerprint)
    # No fingerprint yet (should not happen in the pipeline): never merge it with anything.
    return ("unique", id(f))


def merge_group(group: Sequence[Finding]) -> Finding:
    """Fold findings about one problem into one (highest severity; every source kept)."""
    if len(group) == 1:
        f = group[0]
        return f if f.sources else evolve(f, sources=source_of(f))
    ordered = sorted(group, key=_primary_key)
    primary = ordered[0]
    sources = {_source_key(s): s for f in ordered for s in source_of(f)}
    locations: dict[tuple[str | int, ...], Location] = {}
    for f in ordered:
        for loc in (f.location, *f.other_locations):
            locations.setdefault(_loc_key(loc), loc)
    locations.pop(_loc_key(primary.location), None)
    related: dict[tuple[str | int, ...], Location] = {}
    for f in ordered:
        for loc in f.related_locations:
            related.setdefault(_loc_key(loc), loc)
    identifiers: dict[tuple[str, str], Identifier] = {}
    for f in ordered:
        for ident in f.identifiers:
            identifiers.setdefault((ident.type, ident.value), ident)
    status_holder = min(ordered, key=lambda f: (_STATUS_RANK[f.status], _suppression_key(f.suppression)))
    fixes = [f.fix for f in ordered if f.fix]
    return replace(
        primary,
        severity=primary.severity,  # the primary has the highest severity by construction
        confidence=max((f.confidence for f in ordered), key=lambda c: _CONFIDENCE_RANK[c]),
        other_locations=tuple(locations[k] for k in sorted(locations)),
        related_locations=tuple(related[k] for k in sorted(related)),
        identifiers=tuple(identifiers[k] for k in sorted(identifiers)),
        fix=fixes[0] if fixes else None,
        fixed_versions=tuple(sorted({v for f in ordered for v in f.fixed_versions})),
        references=tuple(sorted({r for f in ordered for r in f.references})),
        compliance=tuple(sorted({c for f in ordered for c in f.compliance})),
        tags=tuple(sorted({t for f in ordered for t in f.tags})),
        sources=tuple(sources[k] for k in sorted(sources)),
        status=status_holder.status,
        suppression=status_holder.suppression,
        pending_suppression=next((f.pending_suppression for f in ordered if f.pending_suppression), None),
    )


def sort_key(f: Finding) -> tuple[object, ...]:
    """Stable display order: worst first, then by place; the fingerprint breaks ties."""
    return (-f.severity.rank, f.kind.value, _loc_key(f.location), f.rule_id, f.fingerprint, f.scanner, f.message)


def dedupe(findings: Sequence[Finding]) -> list[Finding]:
    """Merge findings about the same problem; output sorted by :func:`sort_key`.

    Findings already marked FIXED (baseline entries no longer found) are dropped when a live
    finding with the same identity is present: in split pipelines one job's "fixed" is only
    "not seen by my scanners".
    """
    groups: dict[Hashable, list[Finding]] = {}
    for f in findings:
        groups.setdefault(group_key(f), []).append(f)
    merged = []
    for group in groups.values():
        live = [f for f in group if f.status is not Status.FIXED]
        merged.append(merge_group(live or group))
    return sorted(_fold_constant_uses(merged), key=sort_key)


# ------------------------------------------------------------------ a secret and its uses

# `NAME = "value"` (also `const`/`let`/`var`/`export`, a type annotation): the line that defines a
# constant holding the secret.
_DEFINES = re.compile(r"^\s*(?:export\s+)?(?:const\s+|let\s+|var\s+)?([A-Za-z_][A-Za-z0-9_]{2,})\s*(?::[^=]*)?=(?!=)")


def _defined_name(f: Finding) -> str | None:
    line = (f.location.snippet or "").split("\n", 1)[0]
    m = _DEFINES.match(line)
    return m.group(1) if m and secret_values(line) else None


def _definitions(findings: Sequence[Finding]) -> dict[tuple[str, str], int]:
    """(path, constant name) -> index of the secret finding on the line defining it."""
    defs: dict[tuple[str, str], int] = {}
    for n, f in enumerate(findings):
        name = _defined_name(f) if f.kind is Kind.SECRET and f.location.path and not f.location.commit else None
        if name is not None:
            defs.setdefault((f.location.path or "", name), n)
    return defs


def _use_of(f: Finding, defs: dict[tuple[str, str], int]) -> int | None:
    """The definition ``f`` is a use of: a secret finding whose line holds no secret value of its
    own and names a constant defined with one in the same file."""
    line = f.location.snippet
    if f.kind is not Kind.SECRET or f.location.commit or not line or secret_values(line):
        return None
    return next((i for (path, name), i in sorted(defs.items()) if path == f.location.path and _uses(line, name)), None)


def _with_uses(f: Finding, uses: Sequence[Finding]) -> Finding:
    sources = {_source_key(s): s for g in (f, *uses) for s in source_of(g)}
    related = {_loc_key(loc): loc for loc in (*f.related_locations, *(u.location for u in uses))}
    return replace(
        f,
        sources=tuple(sources[k] for k in sorted(sources)),
        related_locations=tuple(related[k] for k in sorted(related)),
        status=min((f, *uses), key=lambda g: _STATUS_RANK[g.status]).status,
    )


def _fold_constant_uses(findings: list[Finding]) -> list[Finding]:
    """A secret rule firing where a constant holding the secret is used (semgrep follows
    constants) reports the same secret again: that use becomes a related location and a source
    of the finding at the definition. Only a line holding no secret value of its own folds, and
    only into a definition in the same file."""
    defs = _definitions(findings)
    if not defs:
        return findings
    definitions = set(defs.values())
    folded: dict[int, list[Finding]] = {}
    for n, f in enumerate(findings):
        target = None if n in definitions else _use_of(f, defs)
        if target is not None:
            folded.setdefault(target, []).append(f)
    gone = {id(u) for uses in folded.values() for u in uses}
    return [_with_uses(f, folded[n]) if n in folded else f for n, f in enumerate(findings) if id(f) not in gone]


def _uses(line: str, name: str) -> bool:
    return re.search(r"(?<![A-Za-z0-9_.])" + re.escape(name) + r"(?![A-Za-z0-9_])", line) is not None
