"""The normalized data model, which is also the wire format of ``secscan.json`` (schema
``secscan/1``) and of the baseline (``secscan-baseline/1``): frozen, keyword-only dataclasses.

Every stage of the pipeline is a plain function over these values. Nothing here does I/O.
:mod:`secscan.schema` generates the msgspec structs that read and write the files from these
declarations, field for field and in the order they are declared, so a new field is one edit
here. The rule on the wire: a field is written under its own name; a field that is ``None`` is
left out (absent on reading means ``None``). Where a field differs from that rule, its
:class:`Wire` says how (written only when non-empty, read leniently, refused when empty).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field
from enum import StrEnum
from typing import Any

SCHEMA = "secscan/1"
BASELINE_SCHEMA = "secscan-baseline/1"


NO_DEFAULT: Any = type("NoDefault", (), {"__repr__": lambda self: "NO_DEFAULT"})()
"""A :class:`Wire` with no ``read_default`` (dataclasses' own MISSING cannot be a default)."""


@dataclass(frozen=True, kw_only=True)
class Wire:
    """How one field is written and read when that differs from the rule (module docstring)."""

    omit_empty: bool = False
    """Written only when it differs from its default (an empty tuple, 0)."""
    read_default: Any = NO_DEFAULT
    """A field every model must set, read as this when a document leaves it out (a model class
    here means a fresh empty one)."""
    read_required: bool = False
    """A field with a default that a document must still carry."""
    non_empty: bool = False
    """Reading refuses an empty string."""
    ge: float | None = None
    """Reading refuses a number below this."""
    skip: bool = False
    """Not written nor read (known from elsewhere: the document's tag, the file's name)."""
    key: str | None = None
    """The name on the wire when it is not the field's."""
    wire_type: Any = None
    """The type on the wire, with ``encode``/``decode`` between it and the field's value."""
    encode: Callable[[Any], Any] | None = None
    decode: Callable[[Any], Any] | None = None


def wire(default: Any = MISSING, **how: Any) -> Any:
    """A dataclass field (with ``default`` if given) whose :class:`Wire` is ``how``."""
    meta = {"wire": Wire(**how)}
    if default is MISSING:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


class Severity(StrEnum):
    """Normalized severity, ordered: ``rank`` grows with badness."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]

    @classmethod
    def parse(cls, value: str) -> Severity:
        """Parse a user-supplied severity name (case-insensitive); ValueError if unknown."""
        try:
            return cls(value.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise ValueError(f"unknown severity {value!r} (expected one of: {names})") from None

    def __str__(self) -> str:
        return self.value


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}

SEVERITIES_DESC: tuple[Severity, ...] = (
    Severity.CRITICAL,
    Severity.HIGH,
    Severity.MEDIUM,
    Severity.LOW,
    Severity.INFO,
)


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"

    def __str__(self) -> str:
        return self.value


class Kind(StrEnum):
    SAST = "sast"
    DEPENDENCY = "dependency"
    DAST = "dast"
    SECRET = "secret"  # noqa: S105 - a finding kind, not a password

    def __str__(self) -> str:
        return self.value


class Status(StrEnum):
    NEW = "new"
    EXISTING = "existing"
    FIXED = "fixed"
    SUPPRESSED = "suppressed"

    def __str__(self) -> str:
        return self.value


class ScannerState(StrEnum):
    """How one scanner's run ended."""

    OK = "ok"
    FAILED = "failed"  # crashed, unparseable output, or could not audit everything
    TIMEOUT = "timeout"
    NOT_INSTALLED = "not_installed"
    SKIPPED = "skipped"  # not selected, or nothing for it to scan (e.g. no requirements file)

    def __str__(self) -> str:
        return self.value

    @property
    def is_error(self) -> bool:
        return self in (ScannerState.FAILED, ScannerState.TIMEOUT, ScannerState.NOT_INSTALLED)


# Warnings with this prefix name a merge request's changes to what decides the verdict
# (settings, policy, suppressions, baseline, rules): shown as pending, applied once merged.
PENDING_SETTINGS = "pending settings change (applies once merged): "
PENDING_SUPPRESSION = "a suppression for this is pending review (applies once merged)"
"""What every output says on a finding an entry the merge request adds would suppress."""


@dataclass(frozen=True, kw_only=True)
class Location:
    """Where a finding is. Which fields are set depends on the finding's kind."""

    path: str | None = None
    """sast/secret/dependency: repo-relative POSIX path (the manifest for dependencies)."""
    start_line: int | None = None
    """1-based first line."""
    end_line: int | None = None
    """1-based last line (inclusive)."""
    start_column: int | None = None
    """1-based column of the start, when the scanner reports one."""
    end_column: int | None = None
    """1-based column of the end, when the scanner reports one."""
    snippet: str | None = None
    """The flagged source text (untrusted)."""
    package: str | None = None
    """dependency: the distribution name as the scanner reported it."""
    version: str | None = None
    """dependency: the installed/pinned version."""
    url: str | None = None
    """dast: the full URL of the instance (untrusted)."""
    method: str | None = None
    """dast: HTTP method."""
    param: str | None = None
    """dast: the parameter or header involved."""
    evidence: str | None = None
    """dast: the evidence string ZAP matched (untrusted)."""
    commit: str | None = None
    """secret: the commit whose version of the file the lines are in, for a secret found in the
    merge request's history and no longer in the scanned tree (None: the scanned tree)."""


@dataclass(frozen=True, kw_only=True)
class Identifier:
    """An external identifier: CWE, CVE, GHSA, PYSEC, OWASP, ZAP plugin, WASC, scanner rule."""

    type: str
    """Lower-case namespace: ``cwe``, ``cve``, ``ghsa``, ``pysec``, ``osv``, ``owasp``, ``wasc``,
    ``zap_plugin``, ``bandit``, ``semgrep``."""
    value: str
    """The id within the namespace, e.g. ``CWE-79``, ``CVE-2023-1234``, ``A03:2021``."""
    url: str | None = None
    """Where to read about it."""


@dataclass(frozen=True, kw_only=True)
class Source:
    """One scanner result merged into a finding (kept verbatim-ish after dedupe)."""

    scanner: str
    rule_id: str
    severity_original: str = wire(read_default="")
    """The scanner's own severity text, e.g. ``ERROR`` or ``Medium (High)``."""
    message: str = wire(read_default="")
    location: Location = wire(read_default=Location)


@dataclass(frozen=True, kw_only=True)
class Suppression:
    """Why a finding is suppressed: an accepted risk with an owner, or an inline comment."""

    origin: str
    """``file`` (suppressions.toml / config), ``inline`` (# nosec, # nosemgrep) or ``baseline``."""
    reason: str
    owner: str | None = None
    expires: str | None = None
    """ISO date (YYYY-MM-DD) after which the suppression no longer applies."""
    ticket: str | None = None
    matched_by: str | None = None
    """Which field matched: fingerprint, rule_id, path, package, advisory, inline."""


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One normalized security finding."""

    fingerprint: str = ""
    """Stable identity (``v1:<hex>``); empty until :mod:`secscan.fingerprint` has run."""
    kind: Kind
    scanner: str
    """The (first) scanner that reported it; all of them are in ``sources``."""
    rule_id: str
    """The scanner's original rule/test/advisory id (e.g. ``B324``, ``PYSEC-2023-74``)."""
    title: str = wire(read_default="")
    """Short name (plain text)."""
    message: str = wire(read_default="")
    """The scanner's text (plain text, untrusted, never markup)."""
    severity: Severity
    severity_original: str = wire(read_default="")
    confidence: Confidence = Confidence.UNKNOWN
    location: Location = field(default_factory=Location)
    status: Status = Status.NEW
    other_locations: tuple[Location, ...] = wire((), omit_empty=True)
    """Further places the same problem was found (e.g. one advisory via two manifests)."""
    related_locations: tuple[Location, ...] = wire((), omit_empty=True)
    """Places that explain the problem without being it (SARIF ``relatedLocations``: a taint
    source, the declaration a use refers to). No snippets: only what locates them."""
    identifiers: tuple[Identifier, ...] = ()
    fix: str | None = None
    """Remediation text."""
    fixed_versions: tuple[str, ...] = wire((), omit_empty=True)
    """dependency: versions that fix it."""
    references: tuple[str, ...] = ()
    compliance: tuple[str, ...] = ()
    """Compliance ids, e.g. ``PCI-DSS-4.0:6.2.4``, ``OWASP-2021:A03``."""
    suppression: Suppression | None = None
    pending_suppression: Suppression | None = None
    """An entry the merge request adds to the suppressions file that would suppress this finding:
    it applies once merged (the target branch's file decides), so the finding still counts."""
    sources: tuple[Source, ...] = ()
    tags: tuple[str, ...] = wire((), omit_empty=True)
    """Free-form labels (e.g. ``inline-suppression-refused``)."""

    def cwe_ids(self) -> tuple[str, ...]:
        return tuple(i.value for i in self.identifiers if i.type == "cwe")


def _milliseconds(seconds: float) -> float:
    return round(seconds, 3)


@dataclass(frozen=True, kw_only=True)
class ScannerStatus:
    """How one scanner's run went."""

    name: str
    state: ScannerState
    version: str | None = None
    duration_s: float = wire(0.0, encode=_milliseconds)
    """Seconds, written to the millisecond."""
    error: str | None = None
    """One-line error text when ``state`` is an error (or a warning when partially ok)."""
    findings: int = 0
    not_audited: tuple[str, ...] = wire((), omit_empty=True)
    """pip-audit: dependencies that were skipped, i.e. NOT audited (never "clean")."""
    command: tuple[str, ...] = wire((), omit_empty=True)
    """The argv that was run (secrets are never passed on argv)."""
    cache_hits: int = wire(0, omit_empty=True)
    """Files whose results came from the per-file result cache (not scanned again)."""
    cache_misses: int = wire(0, omit_empty=True)
    """Files the scanner ran on because the cache had no result for them."""
    incomplete_files: tuple[str, ...] = wire((), omit_empty=True)
    """Files the scanner was handed but could not analyse, each ``path (why)``: a per-file
    exception, a size limit, a timeout, a file it never reported. Non-empty means the scan is
    incomplete: ``state`` is ``failed`` (the default policy fails closed) and the findings of the
    other files are kept."""


@dataclass(frozen=True, kw_only=True)
class BlockReason:
    """Why the gate failed: one policy rule hit by one finding (or by the run)."""

    rule: str
    """The policy rule, e.g. ``block_new_at_or_above=high``, ``fail_closed``."""
    message: str
    fingerprint: str | None = None


@dataclass(frozen=True, kw_only=True)
class Verdict:
    passed: bool
    exit_code: int = wire(read_default=0)
    policy: str = wire(read_default="")
    """Name or path of the policy that decided."""
    reasons: tuple[BlockReason, ...] = ()
    warnings: tuple[str, ...] = ()


JUDGED_WITH_VERSION = 1
"""Version of :class:`JudgedWith`: a reader that does not know a version refuses to judge with it."""


@dataclass(frozen=True, kw_only=True)
class RecordedFile:
    """A file that decided statuses (suppressions, baseline), as the run read it."""

    origin: str = wire(read_default="")
    """Where it was read: the operator's path, or ``path at <sha> (merge base)``."""
    sha256: str = wire(non_empty=True)
    """Hex SHA-256 of its bytes: runs that read the same file agree on it."""


@dataclass(frozen=True, kw_only=True)
class RecordedPolicy:
    """The gate policy a run was judged with, complete: a job without a checkout applies it."""

    name: str = wire(read_default="")
    origin: str = wire(read_default="")
    """``builtin``, the operator's path, or ``path at <sha> (merge base)``."""
    sha256: str = wire(non_empty=True)
    """Hex SHA-256 of the definition's canonical JSON (:func:`secscan.policy.digest`)."""
    definition: Mapping[str, Any]
    """The policy as a plain document (the TOML file's shape, every key present)."""


@dataclass(frozen=True, kw_only=True)
class SettingOrigin:
    """Where one setting of a run came from (settings not listed kept their defaults)."""

    key: str
    """The setting (``exclude``), or one item of a table setting (``timeouts.zap``)."""
    layer: str
    """``file``, ``file at merge base``, ``env`` or ``flag`` (secscan.settings.Layer)."""
    where: str = ""
    """The file, variable or option (``SECSCAN_EXCLUDE``, ``--skip``)."""


@dataclass(frozen=True, kw_only=True)
class JudgedWith:
    """What decided the statuses and the verdict, as resolved (trusted side, operator overrides).

    It travels in ``secscan.json`` so that ``merge`` can refuse results resolved from different
    settings and ``gate``, in a job without a checkout, judges the way ``scan`` did."""

    version: int = wire(JUDGED_WITH_VERSION, read_required=True)
    """Read whatever it is: ``report`` shows a newer one, ``merge`` and ``gate`` refuse it."""
    policy: RecordedPolicy
    suppressions: RecordedFile | None = None
    """None: no suppressions file applied."""
    baseline: RecordedFile | None = None
    """None: no baseline applied."""
    test_paths: tuple[str, ...] = ()
    production_only_rules: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    diff_base: str | None = None
    """The diff base the statuses were computed against, as given (None: not diff-aware)."""
    settings_origin: tuple[SettingOrigin, ...] = wire((), omit_empty=True)
    """The layer each setting came from (not part of :meth:`settings_key`: the same settings
    may come from different layers in different jobs)."""

    def settings_key(self) -> tuple[object, ...]:
        """What must be equal for two results to have been resolved from the same settings
        (origins aside: they name the same content in words that may differ)."""
        return (
            self.version,
            self.policy.sha256,
            self.suppressions.sha256 if self.suppressions else None,
            self.baseline.sha256 if self.baseline else None,
            self.test_paths,
            self.production_only_rules,
            self.excludes,
            self.diff_base,
        )


@dataclass(frozen=True, kw_only=True)
class ScannerRules:
    """The rules one scanner ran on test code, when that was not every rule."""

    scanner: str
    rules: tuple[str, ...] = ()
    """Rule ids as the rule files name them (bandit test ids, semgrep rule ids); empty: the
    scanner did not read test code at all."""


@dataclass(frozen=True, kw_only=True)
class NarrowedTestCode:
    """A run that scanned test code only with the rules that can block there (the default since
    speed-2; ``--scan-all-test-code`` turns it off): what it did not look for in test code is not
    known fixed by it (issue 31)."""

    test_paths: tuple[str, ...]
    """The ``test_paths`` globs that said what test code is."""
    production: tuple[str, ...] = ()
    """Test-path files that production code imports: production code, scanned with every rule."""
    rules: tuple[ScannerRules, ...] = ()
    """Per scanner that narrowed, the rules it ran on test code; a scanner not listed ran every
    rule there (or had no test code to read)."""

    def rules_of(self, scanner: str) -> tuple[str, ...] | None:
        """The rules ``scanner`` ran on test code; None: every rule."""
        return next((r.rules for r in self.rules if r.scanner == scanner), None)


@dataclass(frozen=True, kw_only=True)
class Scope:
    """Which part of the project a run looked at. The history closes a finding as fixed only
    where a run looked: its file is in ``paths``, its scanner ran (``scanners`` statuses) and,
    in test code, its rule ran there (``test_code``)."""

    paths: tuple[str, ...] | None = None
    """The files the run covered when not the whole tree (--changed-only, a shard, shards merged
    short of a whole); None: the whole tree."""
    changed_only: bool = False
    shard: str | None = None
    """``K/N`` of --shard (None: not a shard, or every shard merged)."""
    test_code: NarrowedTestCode | None = None
    """How test code was scanned when not with every rule (None: every rule everywhere, or not
    recorded: results written before it was)."""

    @property
    def partial(self) -> bool:
        return self.paths is not None


def _sorted_pairs(table: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(table.items()))


@dataclass(frozen=True, kw_only=True)
class AdvisorySnapshot:
    """The advisory store a dependency audit used, and how old it was (issue 27).

    Recorded at scan time so that ``gate`` anywhere judges the same age: a store older than
    the policy's ``[advisories]`` limits is a warning, then a failure."""

    snapshot: str
    """The store's snapshot id (content hash and newest ``modified``)."""
    source: str = wire(read_default="")
    """Where the records came from: the update's base URL, or the import's source."""
    taken_at: str | None = None
    """When they were taken from it (RFC 3339 UTC): fetched by ``advisories update``, else imported."""
    fetched: bool = False
    """True when ``advisories update`` fetched them (``taken_at`` is the download time)."""
    age_days: float | None = wire(None, ge=0)
    """Days between ``taken_at`` and the scan's start (None: the store does not say)."""
    records: tuple[tuple[str, int], ...] = wire(
        (), omit_empty=True, wire_type=dict[str, int], encode=dict, decode=_sorted_pairs
    )
    """Records per ecosystem."""
    digest: str | None = None
    """sha256 of the fetched archives (``advisories update`` only)."""


@dataclass(frozen=True, kw_only=True)
class Tool:
    """The program that wrote a result (on the wire only: :attr:`RunResult.tool_version`)."""

    name: str = "secscan"
    version: str = ""


def _tool(version: str) -> Tool:
    return Tool(version=version)


def _tool_version(tool: Tool) -> str:
    return tool.version


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """One run: metadata plus findings. Serialized as ``secscan.json``, ``"schema"`` first."""

    tool_version: str = wire(key="tool", wire_type=Tool, encode=_tool, decode=_tool_version, read_default=Tool)
    target: str = wire(read_default="")
    started_at: str = wire(read_default="")
    """ISO-8601 UTC timestamp (arrives as data: reporters never read the clock)."""
    finished_at: str = wire(read_default="")
    scanners: tuple[ScannerStatus, ...] = ()
    advisory_db: str | None = None
    """Snapshot id of the advisory database used for dependency audits."""
    baseline: str | None = None
    """Path or id of the baseline the statuses were computed against."""
    diff_base: str | None = None
    warnings: tuple[str, ...] = wire((), omit_empty=True)
    meta: tuple[tuple[str, str], ...] = wire(
        (), omit_empty=True, wire_type=dict[str, str], encode=dict, decode=_sorted_pairs
    )
    """Extra run metadata as sorted key/value pairs (e.g. CI job URL, commit sha)."""
    judged_with: JudgedWith | None = None
    """The policy, suppressions, baseline and paths the run was resolved with (None: a result
    written before they were recorded, or one no command judged)."""
    advisories: AdvisorySnapshot | None = None
    """The advisory store the dependency audits used and its age (None: no local store)."""
    scope: Scope | None = None
    """What the run covered (None: not recorded, read as the whole tree: imported reports and
    results written before it was recorded)."""
    verdict: Verdict | None = None
    findings: tuple[Finding, ...] = ()
    """Last on the wire: a reader sees the run's metadata before the bulk."""
    schema: str = wire(SCHEMA, skip=True)
    """The document's tag, written first."""

    def meta_dict(self) -> dict[str, str]:
        return dict(self.meta)


@dataclass(frozen=True, kw_only=True)
class BaselineEntry:
    """One accepted finding of a baseline file (``secscan-baseline/1``)."""

    fingerprint: str = wire(non_empty=True)
    kind: Kind
    rule_id: str = wire(non_empty=True)
    title: str = wire(read_default="")
    severity: Severity
    path: str | None = None
    """sast: the file; dependency: the manifest; dast: the URL."""
    package: str | None = None
    scanners: tuple[str, ...] = ()
    """Which scanners reported it: only a run of one of them can say it is fixed."""


@dataclass(frozen=True, kw_only=True)
class Baseline:
    """The findings a project has accepted as its starting point."""

    origin: str = wire(skip=True)
    """Where it was read from (for messages)."""
    entries: tuple[BaselineEntry, ...]

    def fingerprints(self) -> frozenset[str]:
        return frozenset(e.fingerprint for e in self.entries)
