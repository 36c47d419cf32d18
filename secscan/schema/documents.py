"""The wire format of ``secscan.json`` (``secscan/1``) and the baseline (``secscan-baseline/1``):
msgspec structs, field for field and in the order they are written."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, Meta, UnsetType, field

from secscan.models import SCHEMA, Confidence, Kind, ScannerState, Severity, Status

BASELINE_SCHEMA = "secscan-baseline/1"

NonEmpty = Annotated[str, Meta(min_length=1)]

# Fields typed ``X | UnsetType = UNSET`` are written only when set: the format leaves them out
# when empty (absent on reading means empty too). Fields with a plain default are always written.
# gc=False: these trees never hold a cycle, and 100,000 findings are millions of structs the
# cyclic collector would otherwise keep re-scanning.


class LocationDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    path: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    start_column: int | None = None
    end_column: int | None = None
    snippet: str | None = None
    package: str | None = None
    version: str | None = None
    url: str | None = None
    method: str | None = None
    param: str | None = None
    evidence: str | None = None
    commit: str | None = None


class IdentifierDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    type: str
    value: str
    url: str | None = None


class SuppressionDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    origin: str
    reason: str
    owner: str | None = None
    expires: str | None = None
    ticket: str | None = None
    matched_by: str | None = None


class SourceDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    scanner: str
    rule_id: str
    severity_original: str = ""
    message: str = ""
    location: LocationDoc = field(default_factory=LocationDoc)


class FindingDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    fingerprint: str = ""
    kind: Kind
    scanner: str
    rule_id: str
    title: str = ""
    message: str = ""
    severity: Severity
    severity_original: str = ""
    confidence: Confidence = Confidence.UNKNOWN
    location: LocationDoc = field(default_factory=LocationDoc)
    status: Status = Status.NEW
    other_locations: tuple[LocationDoc, ...] | UnsetType = UNSET
    related_locations: tuple[LocationDoc, ...] | UnsetType = UNSET
    identifiers: tuple[IdentifierDoc, ...] = ()
    fix: str | UnsetType | None = UNSET
    fixed_versions: tuple[str, ...] | UnsetType = UNSET
    references: tuple[str, ...] = ()
    compliance: tuple[str, ...] = ()
    suppression: SuppressionDoc | UnsetType | None = UNSET
    sources: tuple[SourceDoc, ...] = ()
    tags: tuple[str, ...] | UnsetType = UNSET


class ScannerDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    name: str
    state: ScannerState
    version: str | UnsetType | None = UNSET
    duration_s: float = 0.0
    error: str | UnsetType | None = UNSET
    findings: int = 0
    not_audited: tuple[str, ...] | UnsetType = UNSET
    command: tuple[str, ...] | UnsetType = UNSET
    cache_hits: int | UnsetType = UNSET
    cache_misses: int | UnsetType = UNSET
    incomplete_files: tuple[str, ...] | UnsetType = UNSET


class ToolDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    name: str = "secscan"
    version: str = ""


class ReasonDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False, omit_defaults=True):
    rule: str
    message: str
    fingerprint: str | None = None


class VerdictDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    passed: bool
    exit_code: int = 0
    policy: str = ""
    reasons: tuple[ReasonDoc, ...] = ()
    warnings: tuple[str, ...] = ()


class RecordedFileDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    origin: str = ""
    sha256: NonEmpty


class RecordedPolicyDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    name: str = ""
    origin: str = ""
    sha256: NonEmpty
    definition: dict[str, Any]


class SettingOriginDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    key: str
    layer: str
    where: str = ""


class JudgedWithDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What the result was judged with (models.JudgedWith). ``version`` is read whatever it is:
    ``report`` shows a newer one, ``merge`` and ``gate`` refuse to judge with it."""

    version: int
    policy: RecordedPolicyDoc
    suppressions: RecordedFileDoc | UnsetType | None = UNSET
    baseline: RecordedFileDoc | UnsetType | None = UNSET
    test_paths: tuple[str, ...] = ()
    production_only_rules: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    diff_base: str | UnsetType | None = UNSET
    settings_origin: tuple[SettingOriginDoc, ...] | UnsetType = UNSET
    """Optional: results written before it existed read as "not recorded"."""


class ScopeDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """What the run covered (models.Scope); ``paths`` absent: the whole tree."""

    paths: tuple[str, ...] | UnsetType = UNSET
    changed_only: bool = False
    shard: str | UnsetType | None = UNSET


class AdvisoriesDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The advisory store a result's dependency audits used, and its age (issue 27)."""

    snapshot: str
    source: str = ""
    taken_at: str | UnsetType | None = UNSET
    fetched: bool = False
    age_days: Annotated[float, Meta(ge=0)] | UnsetType | None = UNSET
    records: dict[str, Annotated[int, Meta(ge=0)]] | UnsetType = UNSET
    digest: str | UnsetType | None = UNSET


class ResultDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="schema", tag=SCHEMA):
    """``secscan.json``: ``"schema": "secscan/1"`` is written first (msgspec writes the tag first)."""

    tool: ToolDoc = field(default_factory=ToolDoc)
    target: str = ""
    started_at: str = ""
    finished_at: str = ""
    scanners: tuple[ScannerDoc, ...] = ()
    advisory_db: str | UnsetType | None = UNSET
    baseline: str | UnsetType | None = UNSET
    diff_base: str | UnsetType | None = UNSET
    warnings: tuple[str, ...] | UnsetType = UNSET
    meta: dict[str, str] | UnsetType = UNSET
    judged_with: JudgedWithDoc | UnsetType | None = UNSET
    """Optional: results written before it existed are read as judged with nothing recorded."""
    advisories: AdvisoriesDoc | UnsetType | None = UNSET
    """Optional: the advisory store of the dependency audits (absent: none was used)."""
    scope: ScopeDoc | UnsetType | None = UNSET
    """Optional: absent means not recorded (read as the whole tree)."""
    verdict: VerdictDoc | UnsetType | None = UNSET
    findings: tuple[FindingDoc, ...] = ()


class EntryDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    fingerprint: NonEmpty
    kind: Kind
    rule_id: NonEmpty
    title: str = ""
    severity: Severity
    path: str | UnsetType | None = UNSET
    package: str | UnsetType | None = UNSET
    scanners: tuple[str, ...] = ()


class BaselineDoc(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="schema", tag=BASELINE_SCHEMA):
    entries: tuple[EntryDoc, ...]


class BaselineHead(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="schema", tag=BASELINE_SCHEMA):
    """Recognizes a baseline where a result is expected (without decoding its entries)."""


# A union tagged by "schema": the tag is then required, and a file of the other kind is named as such.
RESULT_DECODER = msgspec.json.Decoder(ResultDoc | BaselineHead)
BASELINE_DECODER = msgspec.json.Decoder(BaselineDoc | ResultDoc)
ENCODER = msgspec.json.Encoder()
