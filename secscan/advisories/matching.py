"""OSV version evaluation (pure): PEP 440 ordering for PyPI, SemVer ordering for npm.

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

npm uses the same walk with SemVer precedence (``npm_versions``: ``semantic_version`` does the
ordering). OSV compares plain precedence, so a prerelease inside a range is affected even though
an npm range such as ``<4.19.2`` would not *select* it: ``5.0.0-alpha.1`` is introduced by
express' ``5.0.0-alpha.1`` event and 5.0.0-beta.1 sits below its ``5.0.0-beta.3`` fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from packaging.version import Version

from secscan.advisories.npm_versions import parse_npm_version
from secscan.advisories.osv import NPM, AffectedPackage, Range, parse_version


class Ordered(Protocol):
    """A version value: packaging's ``Version`` or semantic_version's (both totally ordered here)."""

    def __lt__(self, other: Any, /) -> bool: ...
    def __le__(self, other: Any, /) -> bool: ...
    def __gt__(self, other: Any, /) -> bool: ...
    def __ge__(self, other: Any, /) -> bool: ...


Parser = Callable[[str], Ordered | None]


def parser_for(ecosystem: str) -> Parser:
    """The version parser whose ordering the ecosystem's advisories are written in."""
    return parse_npm_version if ecosystem == NPM else parse_version


_ZERO = Version("0")
# Tie-break for events at the same version: open before close, so introduced X + fixed X is
# empty and introduced X + last_affected X affects exactly X.
_KIND_ORDER = {"introduced": 0, "fixed": 1, "last_affected": 2}


@dataclass(frozen=True, kw_only=True)
class _Bound:
    kind: str
    version: Ordered | None
    """None: the special ``introduced: "0"`` (before every version)."""


@dataclass(frozen=True, kw_only=True)
class CompiledRange:
    events: tuple[_Bound, ...]
    """introduced/fixed/last_affected, sorted by version."""
    limits: tuple[Ordered | None, ...]
    """Upper limits (None: ``*``); empty means an implicit ``*``."""

    def contains(self, v: Ordered) -> bool:
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


def compile_range(rng: Range, parse: Parser = parse_version) -> CompiledRange:
    bounds: list[_Bound] = []
    limits: list[Ordered | None] = []
    for ev in rng.events:
        if ev.kind == "limit":
            limits.append(None if "*" in ev.value else parse(ev.value))
            continue
        version = None if ev.kind == "introduced" and ev.value == "0" else parse(ev.value)
        if version is None and not (ev.kind == "introduced" and ev.value == "0"):
            continue  # osv.parse_record rejects these; a stored DB cannot contain them
        bounds.append(_Bound(kind=ev.kind, version=version))
    bounds.sort(key=_bound_key)
    return CompiledRange(events=tuple(bounds), limits=tuple(limits))


def _bound_key(b: _Bound) -> tuple[bool, Any, int]:
    # "introduced: 0" first; versions of one range are all of one ecosystem, so comparable.
    return (b.version is not None, b.version if b.version is not None else _ZERO, _KIND_ORDER[b.kind])


@dataclass(frozen=True, kw_only=True)
class CompiledAffected:
    """One ``affected[]`` entry ready to answer "is version v affected?" quickly."""

    ranges: tuple[CompiledRange, ...]
    versions: frozenset[Ordered]
    """The parseable entries of the ``versions`` list (PEP 440 equality: 3.1.0.rc1 == 3.1.0rc1)."""
    raw_versions: frozenset[str]
    """Every entry as written, for query versions that are not PEP 440 / SemVer."""
    parse: Parser = parse_version
    """The ecosystem's version parser (``parser_for``)."""

    def affects(self, version: str, parsed: Ordered | None = None) -> bool:
        """Is ``version`` affected? ``parsed`` may carry ``self.parse(version)`` already."""
        v = parsed if parsed is not None else self.parse(version)
        if v is None:
            return version in self.raw_versions
        if v in self.versions:
            return True
        if isinstance(v, Version) and v.local is not None:
            v = Version(v.public)
            if v in self.versions:
                return True
        return any(r.contains(v) for r in self.ranges)


def compile_affected(affected: AffectedPackage) -> CompiledAffected:
    parse = parser_for(affected.ecosystem)
    parsed = (parse(s) for s in affected.versions)
    return CompiledAffected(
        ranges=tuple(compile_range(r, parse) for r in affected.ranges),
        versions=frozenset(v for v in parsed if v is not None),
        raw_versions=frozenset(affected.versions),
        parse=parse,
    )
