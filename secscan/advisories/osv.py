"""Validate and normalize one OSV record (pure: no I/O).

Facts this module is written against (examples/advisories/README.md):

- PyPA files are YAML; ``yaml.safe_load`` turns unquoted timestamps into ``datetime`` (and a
  bare date into ``date``), so timestamps arrive as ``str`` or ``datetime``. They are written
  back as RFC 3339 UTC strings ending in ``Z`` because pip-audit parses ``published`` with
  ``strptime("%Y-%m-%dT%H:%M:%S[.%f]Z")`` and would crash on ``+00:00``.
- A version that YAML read as a number (``fixed: 3.10`` -> ``3.1``) has already lost
  information, so any non-string version makes the record malformed instead of being guessed.
- ``aliases``, ``published``, ``summary``, ``severity`` and ``withdrawn`` are all optional.
- Only PyPI and npm entries of ``affected`` are indexed; GIT ranges cannot be evaluated without
  the repository, so only ``ECOSYSTEM`` (and ``SEMVER``) ranges take part in matching.
- npm: github/advisory-database writes ``"type": "ECOSYSTEM"`` for npm ranges and osv.dev serves
  the same records as ``"type": "SEMVER"``; both are SemVer-ordered (``npm_versions``). npm names
  are matched in lower case: GHSA-8hc4-vh64-cxmj names the package ``Axios``, and the registry
  refuses names that differ from an existing one only by case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from secscan.advisories.npm_versions import parse_npm_version
from secscan.errors import InputError

ECOSYSTEM = "PyPI"
NPM = "npm"
ECOSYSTEMS = (ECOSYSTEM, NPM)
EVENT_KINDS = ("introduced", "fixed", "last_affected", "limit")
MATCHED_RANGE_TYPES = ("ECOSYSTEM", "SEMVER")
# Ids travel in URL paths (/v1/vulns/{id}) and file names: keep them to OSV's usual alphabet.
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$")


class AdvisoryFormatError(InputError):
    """One OSV record does not have the shape the OSV schema requires."""


@dataclass(frozen=True, kw_only=True)
class Event:
    """One range event, e.g. ``introduced: "1.0"``."""

    kind: str
    """``introduced``, ``fixed``, ``last_affected`` or ``limit``."""
    value: str
    """The version string as written (``"0"`` and ``"*"`` are the spec's special values)."""


@dataclass(frozen=True, kw_only=True)
class Range:
    """An evaluable (``ECOSYSTEM`` or ``SEMVER``) range, events in file order."""

    type: str
    events: tuple[Event, ...]


@dataclass(frozen=True, kw_only=True)
class AffectedPackage:
    """One ``affected[]`` entry for a PyPI or npm package."""

    name: str
    """PyPI: PEP 503 canonical name (what pip-audit queries with); npm: the name in lower case."""
    ranges: tuple[Range, ...]
    versions: tuple[str, ...]
    """The explicit ``versions`` list (an unordered set; may leave out real releases)."""
    ecosystem: str = ECOSYSTEM
    """``PyPI`` or ``npm``: which version ordering applies."""


@dataclass(frozen=True, kw_only=True)
class Advisory:
    """A validated OSV record plus what the store indexes about it."""

    id: str
    modified: datetime
    """UTC."""
    withdrawn: str | None
    aliases: tuple[str, ...]
    affected: tuple[AffectedPackage, ...]
    """PyPI and npm entries only; empty when the record is about another ecosystem."""
    record: Mapping[str, Any]
    """The whole record, JSON-ready, timestamps normalized (served verbatim)."""
    canonical_json: str
    """``record`` as sorted, compact JSON: what is stored, served and hashed."""

    @property
    def summary(self) -> str:
        text = self.record.get("summary") or self.record.get("details") or ""
        return str(text).strip().splitlines()[0] if str(text).strip() else ""


def format_timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, the two forms pip-audit's parser accepts."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(value: object, *, field: str) -> datetime:
    """A timestamp as YAML or JSON delivered it -> an aware UTC datetime."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip())
        except ValueError:
            raise AdvisoryFormatError(f"{field}: not an RFC 3339 timestamp: {value[:40]!r}") from None
    else:
        raise AdvisoryFormatError(f"{field}: expected a timestamp, got {type(value).__name__}")
    return dt.astimezone(UTC) if dt.tzinfo else dt.replace(tzinfo=UTC)


def parse_version(value: str) -> Version | None:
    """PEP 440 version, or None when the string is not one."""
    try:
        return Version(value)
    except InvalidVersion:
        return None


def _str_list(value: object, *, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise AdvisoryFormatError(f"{field}: expected a list, got {type(value).__name__}")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            # e.g. `- 3.10` in YAML became the float 3.1: the original text is gone.
            raise AdvisoryFormatError(f"{field}: {item!r} is a {type(item).__name__}, not a string (unquoted YAML?)")
        out.append(item)
    return tuple(out)


def normalize_name(name: str, ecosystem: str) -> str:
    """The indexed spelling of a package name: PEP 503 for PyPI, lower case for npm."""
    return name.strip().lower() if ecosystem == NPM else canonicalize_name(name)


def _check_event_version(kind: str, value: str, *, field: str, ecosystem: str = ECOSYSTEM) -> None:
    if kind == "introduced" and value == "0":
        return
    if kind == "limit" and "*" in value:
        return
    if ecosystem == NPM:
        if parse_npm_version(value) is None:
            raise AdvisoryFormatError(f"{field}: {kind} {value!r} is not a SemVer version")
    elif parse_version(value) is None:
        raise AdvisoryFormatError(f"{field}: {kind} {value!r} is not a PEP 440 version")


def _parse_event(ev: object, *, where: str) -> Event:
    if not isinstance(ev, dict) or len(ev) != 1:
        raise AdvisoryFormatError(f"{where}: each event must have exactly one key")
    ((kind, value),) = ev.items()
    if kind not in EVENT_KINDS:
        raise AdvisoryFormatError(f"{where}: unknown event {kind!r}")
    if not isinstance(value, str):
        raise AdvisoryFormatError(f"{where}: {kind} {value!r} is a {type(value).__name__}, not a string")
    return Event(kind=kind, value=value)


def _parse_range(raw: object, *, field: str, ecosystem: str) -> Range | None:
    if not isinstance(raw, dict):
        raise AdvisoryFormatError(f"{field}: expected a mapping")
    rtype = raw.get("type")
    if not isinstance(rtype, str):
        raise AdvisoryFormatError(f"{field}.type: missing")
    events_raw = raw.get("events")
    if not isinstance(events_raw, list) or not events_raw:
        raise AdvisoryFormatError(f"{field}.events: expected a non-empty list")
    events = [_parse_event(ev, where=f"{field}.events[{j}]") for j, ev in enumerate(events_raw)]
    if not any(e.kind == "introduced" for e in events):
        raise AdvisoryFormatError(f"{field}.events: no 'introduced' event")
    if rtype not in MATCHED_RANGE_TYPES:
        return None  # GIT: kept in the record, never evaluated (needs the repository's graph)
    if not ecosystem:
        return None  # an ecosystem that is not indexed: its versions are never compared here
    for j, e in enumerate(events):
        _check_event_version(e.kind, e.value, field=f"{field}.events[{j}]", ecosystem=ecosystem)
    return Range(type=rtype, events=tuple(events))


def _parse_affected(raw: object, *, field: str) -> AffectedPackage | None:
    if not isinstance(raw, dict):
        raise AdvisoryFormatError(f"{field}: expected a mapping")
    pkg = raw.get("package")
    if not isinstance(pkg, dict):
        raise AdvisoryFormatError(f"{field}.package: missing")
    ecosystem, name = pkg.get("ecosystem"), pkg.get("name")
    if not isinstance(ecosystem, str) or not isinstance(name, str) or not name.strip():
        raise AdvisoryFormatError(f"{field}.package: needs string 'ecosystem' and 'name'")
    ranges_raw = raw.get("ranges", [])
    if not isinstance(ranges_raw, list):
        raise AdvisoryFormatError(f"{field}.ranges: expected a list")
    versions = _str_list(raw.get("versions"), field=f"{field}.versions")
    # Validate every range (a GIT range with a broken shape is still a broken record) ...
    # (Versions are checked with the ordering of the entry's own ecosystem; other ecosystems'
    # ranges only need the shape, as their versions are never compared here.)
    ordering = ecosystem if ecosystem in ECOSYSTEMS else None
    ranges = [
        _parse_range(r, field=f"{field}.ranges[{k}]", ecosystem=ordering) if ordering else _shape_only(r, field, k)
        for k, r in enumerate(ranges_raw)
    ]
    # ... but index only PyPI and npm, spelled exactly as OSV does (no ":suffix" variants exist).
    if ordering is None:
        return None
    return AffectedPackage(
        name=normalize_name(name, ecosystem),
        ranges=tuple(r for r in ranges if r is not None),
        versions=versions,
        ecosystem=ecosystem,
    )


def _shape_only(raw: object, field: str, k: int) -> Range | None:
    """Validate a range of an ecosystem that is not indexed: its shape, not its versions (None)."""
    return _parse_range(raw, field=f"{field}.ranges[{k}]", ecosystem="")


def _json_default(value: object) -> str:
    """json.dumps hook: datetimes (YAML timestamps anywhere in a record) -> RFC 3339; else an error."""
    if isinstance(value, datetime | date):
        return format_timestamp(parse_timestamp(value, field="timestamp"))
    raise TypeError(f"unsupported value of type {type(value).__name__}")


def parse_record(data: object) -> Advisory:
    """Validate one OSV record (as loaded from YAML or JSON). Raises AdvisoryFormatError."""
    if not isinstance(data, dict):
        raise AdvisoryFormatError(f"expected one OSV record (a mapping), got {type(data).__name__}")
    vid = data.get("id")
    if not isinstance(vid, str) or not _ID_RE.match(vid):
        raise AdvisoryFormatError(f"id: missing or not a valid OSV id: {str(vid)[:60]!r}")
    schema_version = data.get("schema_version")
    if schema_version is not None:
        major = str(schema_version).split(".", 1)[0]
        if major != "1":
            raise AdvisoryFormatError(f"schema_version {schema_version!r} is not supported (only 1.x)")
    if "modified" not in data:
        raise AdvisoryFormatError("modified: missing (required by the OSV schema)")
    modified = parse_timestamp(data["modified"], field="modified")
    top = dict(data, modified=format_timestamp(modified))
    for key in ("published", "withdrawn"):
        if data.get(key) is not None:
            top[key] = format_timestamp(parse_timestamp(data[key], field=key))
    aliases = _str_list(data.get("aliases"), field="aliases")
    affected_raw = data.get("affected", [])
    if not isinstance(affected_raw, list):
        raise AdvisoryFormatError("affected: expected a list")
    affected = [_parse_affected(a, field=f"affected[{i}]") for i, a in enumerate(affected_raw)]
    # One C-speed pass instead of a Python deep copy (10x faster on records with long `versions`).
    try:
        canonical = json.dumps(
            top, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default
        )
    except (TypeError, ValueError) as e:  # NaN/Infinity, mixed-type keys, YAML-only types
        raise AdvisoryFormatError(f"not representable as JSON: {e}") from None
    record: dict[str, Any] = json.loads(canonical)
    return Advisory(
        id=vid,
        modified=modified,
        withdrawn=record.get("withdrawn"),
        aliases=aliases,
        affected=tuple(a for a in affected if a is not None),
        record=record,
        canonical_json=canonical,
    )
