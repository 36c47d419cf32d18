"""OSV version evaluation for PyPI with PEP 440 ordering (pure).

Follows the OSV schema's ``IsVulnerable`` pseudocode (https://ossf.github.io/osv-schema/#evaluation):
a version is affected if it is in the explicit ``versions`` list OR inside any range. Within a
range, events are sorted by version first (PyPA files are often out of order, e.g. urllib3
PYSEC-2023-192: ``introduced 2.0.0, fixed 2.0.6, introduced 0, fixed 1.26.17``), then walked:
``introduced`` switches on at ``v >= introduced``, ``fixed`` switches off at ``v >= fixed``,
``last_affected`` switches off at ``v > last_affected``. A range with ``limit`` events only
applies to versions below at least one limit (``"*"`` is infinity).

Local versions (``1.0+ubuntu1``) are builds of the public release ``1.0``: they are evaluated as
that release. Otherwise ``1.0+x`` would sort above ``last_affected: 1.0`` and escape it.
A query version that is not PEP 440 can only match the ``versions`` list, by exact string.
"""

from __future__ import annotations

from dataclasses import dataclass

from packaging.version import Version

from secscan.advisories.osv import AffectedPackage, Range, parse_version

_ZERO = Version("0")
# Tie-break for events at the same version: open before close, so introduced X + fixed X is
# empty and introduced X + last_affected X affects exactly X.
_KIND_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 2}


@dataclass(frozen=True, kw_only=True)
class _Bound:
    kind: str
    version: Version | None
    """None: the special ``introduced: "0"`` (before every version)."""


@dataclass(frozen=True, kw_only=True)
class CompiledRange:
    events: tuple[_Bound, ...]
    """introduced/fixed/last_affected, sorted by version."""
    limits: tuple[Version | None, ...]
    """Upper limits (None: ``*``); empty means an implicit ``*``."""

    def contains(self, v: Version) -> bool:
        if self.limits and not any(lim is None or v < lim for lim in self.limits):
            return False
        vulnerable = False
        for ev in self.events:
            if ev.kind == "introduced":
                if ev.version is None or v >= ev.version:
                    vulnerable = True
            elif ev.kind == "fixed":
                if ev.version is not None and v >= ev.version:
                    vulnerable = False
            elif ev.version is not None and v > ev.version:  # last_affected
                vulnerable = False
        return vulnerable


def compile_range(rng: Range) -> CompiledRange:
    bounds: list[_Bound] = []
    limits: list[Version | None] = []
    for ev in rng.events:
        if ev.kind == "limit":
            limits.append(None if "*" in ev.value else parse_version(ev.value))
            continue
        version = None if ev.kind == "introduced" and ev.value == "0" else parse_version(ev.value)
        if version is None and not (ev.kind == "introduced" and ev.value == "0"):
            continue  # osv.parse_record rejects these; a stored DB cannot contain them
        bounds.append(_Bound(kind=ev.kind, version=version))
    bounds.sort(key=lambda b: (b.version is not None, b.version or _ZERO, _KIND_ORDER[b.kind]))
    return CompiledRange(events=tuple(bounds), limits=tuple(limits))


@dataclass(frozen=True, kw_only=True)
class CompiledAffected:
    """One ``affected[]`` entry ready to answer "is version v affected?" quickly."""

    ranges: tuple[CompiledRange, ...]
    versions: frozenset[Version]
    """The parseable entries of the ``versions`` list (PEP 440 equality: 3.1.0.rc1 == 3.1.0rc1)."""
    raw_versions: frozenset[str]
    """Every entry as written, for query versions that are not PEP 440."""

    def affects(self, version: str, parsed: Version | None = None) -> bool:
        """Is ``version`` affected? ``parsed`` may carry ``parse_version(version)`` already."""
        v = parsed if parsed is not None else parse_version(version)
        if v is None:
            return version in self.raw_versions
        if v in self.versions:
            return True
        if v.local is not None:
            v = Version(v.public)
            if v in self.versions:
                return True
        return any(r.contains(v) for r in self.ranges)


def compile_affected(affected: AffectedPackage) -> CompiledAffected:
    parsed = (parse_version(s) for s in affected.versions)
    return CompiledAffected(
        ranges=tuple(compile_range(r) for r in affected.ranges),
        versions=frozenset(v for v in parsed if v is not None),
        raw_versions=frozenset(affected.versions),
    )
