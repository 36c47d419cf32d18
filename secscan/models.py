"""The normalized data model (schema ``secscan/1``): frozen, keyword-only dataclasses.

Every stage of the pipeline is a plain function over these values. Nothing here does I/O;
(de)serialization to ``secscan.json`` and the baseline file lives in :mod:`secscan.schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

SCHEMA = "secscan/1"


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
    severity_original: str
    """The scanner's own severity text, e.g. ``ERROR`` or ``Medium (High)``."""
    message: str
    location: Location


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

    kind: Kind
    scanner: str
    """The (first) scanner that reported it; all of them are in ``sources``."""
    rule_id: str
    """The scanner's original rule/test/advisory id (e.g. ``B324``, ``PYSEC-2023-74``)."""
    title: str
    """Short name (plain text)."""
    message: str
    """The scanner's text (plain text, untrusted, never markup)."""
    severity: Severity
    severity_original: str
    confidence: Confidence = Confidence.UNKNOWN
    location: Location = field(default_factory=Location)
    other_locations: tuple[Location, ...] = ()
    """Further places the same problem was found (e.g. one advisory via two manifests)."""
    related_locations: tuple[Location, ...] = ()
    """Places that explain the problem without being it (SARIF ``relatedLocations``: a taint
    source, the declaration a use refers to). No snippets: only what locates them."""
    identifiers: tuple[Identifier, ...] = ()
    fix: str | None = None
    """Remediation text."""
    fixed_versions: tuple[str, ...] = ()
    """dependency: versions that fix it."""
    references: tuple[str, ...] = ()
    compliance: tuple[str, ...] = ()
    """Compliance ids, e.g. ``PCI-DSS-4.0:6.2.4``, ``OWASP-2021:A03``."""
    status: Status = Status.NEW
    suppression: Suppression | None = None
    sources: tuple[Source, ...] = ()
    fingerprint: str = ""
    """Stable identity (``v1:<hex>``); empty until :mod:`secscan.fingerprint` has run."""
    tags: tuple[str, ...] = ()
    """Free-form labels (e.g. ``inline-suppression-refused``)."""

    def cwe_ids(self) -> tuple[str, ...]:
        return tuple(i.value for i in self.identifiers if i.type == "cwe")


@dataclass(frozen=True, kw_only=True)
class ScannerStatus:
    """How one scanner's run went."""

    name: str
    state: ScannerState
    version: str | None = None
    duration_s: float = 0.0
    error: str | None = None
    """One-line error text when ``state`` is an error (or a warning when partially ok)."""
    findings: int = 0
    not_audited: tuple[str, ...] = ()
    """pip-audit: dependencies that were skipped, i.e. NOT audited (never "clean")."""
    command: tuple[str, ...] = ()
    """The argv that was run (secrets are never passed on argv)."""
    cache_hits: int = 0
    """Files whose results came from the per-file result cache (not scanned again)."""
    cache_misses: int = 0
    """Files the scanner ran on because the cache had no result for them."""
    incomplete_files: tuple[str, ...] = ()
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
    exit_code: int
    policy: str
    """Name or path of the policy that decided."""
    reasons: tuple[BlockReason, ...] = ()
    warnings: tuple[str, ...] = ()


JUDGED_WITH_VERSION = 1
"""Version of :class:`JudgedWith`: a reader that does not know a version refuses to judge with it."""


@dataclass(frozen=True, kw_only=True)
class RecordedFile:
    """A file that decided statuses (suppressions, baseline), as the run read it."""

    origin: str
    """Where it was read: the operator's path, or ``path at <sha> (merge base)``."""
    sha256: str
    """Hex SHA-256 of its bytes: runs that read the same file agree on it."""


@dataclass(frozen=True, kw_only=True)
class RecordedPolicy:
    """The gate policy a run was judged with, complete: a job without a checkout applies it."""

    name: str
    origin: str
    """``builtin``, the operator's path, or ``path at <sha> (merge base)``."""
    sha256: str
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

    version: int = JUDGED_WITH_VERSION
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
    settings_origin: tuple[SettingOrigin, ...] = ()
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
class Scope:
    """Which part of the project a run looked at. The history closes a finding as fixed only
    where a run looked: its file is in ``paths`` and its scanner ran (``scanners`` statuses)."""

    paths: tuple[str, ...] | None = None
    """The files the run covered when not the whole tree (--changed-only, a shard, shards merged
    short of a whole); None: the whole tree."""
    changed_only: bool = False
    shard: str | None = None
    """``K/N`` of --shard (None: not a shard, or every shard merged)."""

    @property
    def partial(self) -> bool:
        return self.paths is not None


@dataclass(frozen=True, kw_only=True)
class AdvisorySnapshot:
    """The advisory store a dependency audit used, and how old it was (issue 27).

    Recorded at scan time so that ``gate`` anywhere judges the same age: a store older than
    the policy's ``[advisories]`` limits is a warning, then a failure."""

    snapshot: str
    """The store's snapshot id (content hash and newest ``modified``)."""
    source: str
    """Where the records came from: the update's base URL, or the import's source."""
    taken_at: str | None = None
    """When they were taken from it (RFC 3339 UTC): fetched by ``advisories update``, else imported."""
    fetched: bool = False
    """True when ``advisories update`` fetched them (``taken_at`` is the download time)."""
    age_days: float | None = None
    """Days between ``taken_at`` and the scan's start (None: the store does not say)."""
    records: tuple[tuple[str, int], ...] = ()
    """Records per ecosystem."""
    digest: str | None = None
    """sha256 of the fetched archives (``advisories update`` only)."""


@dataclass(frozen=True, kw_only=True)
class RunResult:
    """One run: metadata plus findings. Serialized as ``secscan.json``."""

    tool_version: str
    target: str
    started_at: str
    """ISO-8601 UTC timestamp (arrives as data: reporters never read the clock)."""
    finished_at: str
    scanners: tuple[ScannerStatus, ...] = ()
    findings: tuple[Finding, ...] = ()
    verdict: Verdict | None = None
    advisory_db: str | None = None
    """Snapshot id of the advisory database used for dependency audits."""
    baseline: str | None = None
    """Path or id of the baseline the statuses were computed against."""
    diff_base: str | None = None
    warnings: tuple[str, ...] = ()
    meta: tuple[tuple[str, str], ...] = ()
    """Extra run metadata as sorted key/value pairs (e.g. CI job URL, commit sha)."""
    judged_with: JudgedWith | None = None
    """The policy, suppressions, baseline and paths the run was resolved with (None: a result
    written before they were recorded, or one no command judged)."""
    scope: Scope | None = None
    """What the run covered (None: not recorded, read as the whole tree: imported reports and
    results written before it was recorded)."""
    advisories: AdvisorySnapshot | None = None
    """The advisory store the dependency audits used and its age (None: no local store)."""
    schema: str = SCHEMA

    def meta_dict(self) -> dict[str, str]:
        return dict(self.meta)


@dataclass(frozen=True, kw_only=True)
class BaselineEntry:
    """One accepted finding of a baseline file (``secscan-baseline/1``)."""

    fingerprint: str
    kind: Kind
    rule_id: str
    title: str
    severity: Severity
    path: str | None = None
    """sast: the file; dependency: the manifest; dast: the URL."""
    package: str | None = None
    scanners: tuple[str, ...] = ()
    """Which scanners reported it: only a run of one of them can say it is fixed."""


@dataclass(frozen=True, kw_only=True)
class Baseline:
    """The findings a project has accepted as its starting point."""

    origin: str
    """Where it was read from (for messages)."""
    entries: tuple[BaselineEntry, ...]

    def fingerprints(self) -> frozenset[str]:
        return frozenset(e.fingerprint for e in self.entries)
