"""The one producer of results: scanner outputs (live or imported) -> :class:`RunResult`.

``scan``, ``import`` and ``merge`` all call :func:`produce`, so they cannot differ in what they
mask or how they triage:

    normalize (compliance ids) -> fingerprint -> dedupe + triage -> mask -> gate

Every stage is a pure function over plain data; the clock arrives as data (``today``, the
timestamps of :class:`Evidence`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from secscan import __version__, compliance, fingerprint, pathmatch, policy, secretlines, testcode, triage
from secscan.models import (
    AdvisorySnapshot,
    Finding,
    JudgedWith,
    Kind,
    Location,
    RunResult,
    ScannerState,
    ScannerStatus,
    Scope,
)
from secscan.sourcefiles import SourceTree
from secscan.textsafe import mask_pans, mask_userinfo, redact_secret, secret_title, secret_values
from secscan.triage.dedupe import dedupe, sort_key

if TYPE_CHECKING:
    from secscan.inputs import TriageInputs  # an annotation only: the resolver is above the core


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """What the scanners said, before any triage: live outcomes, imported reports or results."""

    findings: tuple[Finding, ...]
    statuses: tuple[ScannerStatus, ...]
    target: str
    started_at: str
    finished_at: str
    warnings: tuple[str, ...] = ()
    advisory_db: str | None = None
    meta: tuple[tuple[str, str], ...] = ()
    scanned_paths: tuple[str, ...] | None = None
    """With --changed-only: the files scanned (baseline entries elsewhere are not "fixed")."""
    scope: Scope | None = None
    """What the run covered (recorded in the result for the history); None: not recorded."""
    triaged: bool = False
    """The findings already carry statuses (merged result files): keep them, only re-dedupe."""
    tool_version: str = __version__
    baseline: str | None = None
    diff_base: str | None = None
    judged_with: JudgedWith | None = None
    """Merged results: what their statuses were resolved with (kept, not re-resolved)."""
    advisories: AdvisorySnapshot | None = None
    """The advisory store the dependency audits used, with its age at the scan's start."""


def produce(evidence: Evidence, *, tree: SourceTree, inputs: TriageInputs | None) -> RunResult:
    """normalize -> fingerprint -> triage -> mask -> gate.

    ``inputs`` None means "no policy here" (``secscan merge`` leaves the verdict to ``gate``) and,
    with ``evidence.triaged``, statuses already decided upstream are kept.
    """
    normalized = compliance.annotate(evidence.findings)
    # Results already carry fingerprints computed from the real code where they were scanned;
    # recomputing them here (without that tree, after masking) would change identities.
    fingerprinted = normalized if evidence.triaged else fingerprint.assign(normalized, tree=tree)
    warnings = list(evidence.warnings)
    if not evidence.triaged:
        fingerprinted = _in_scope(fingerprinted, tree, inputs.excludes if inputs is not None else ())
        # Test code is tagged (and production-only rules dropped there) before triage, so the
        # same finding is classified the same way by scan and import.
        globs = inputs.test_paths if inputs is not None else testcode.DEFAULT_TEST_PATHS
        fingerprinted = testcode.classify(
            fingerprinted,
            globs=globs,
            production_only=inputs.production_only_rules
            if inputs is not None
            else testcode.DEFAULT_PRODUCTION_ONLY_RULES,
            production=_production_tests(fingerprinted, tree, globs, inputs.excludes if inputs is not None else ()),
        )
    if evidence.triaged or inputs is None:
        findings: Sequence[Finding] = sorted(dedupe(fingerprinted), key=sort_key)
    else:
        ran = tuple(s.name for s in evidence.statuses if s.state is ScannerState.OK)
        outcome = triage.apply(
            fingerprinted,
            triage.TriageContext(
                tree=tree,
                today=inputs.today,
                suppressions=inputs.suppressions,
                baseline=inputs.baseline,
                diff=inputs.diff,
                scanners_run=ran,
                scanned_paths=evidence.scanned_paths,
                excluded=pathmatch.excludes(inputs.excludes),  # what no scanner looked at
                test_code=evidence.scope.test_code if evidence.scope is not None else None,
            ),
        )
        findings = outcome.findings
        warnings.extend(outcome.warnings)
        if inputs.diff is not None:
            warnings.extend(inputs.diff.warnings)
    result = RunResult(
        tool_version=evidence.tool_version,
        target=evidence.target,
        started_at=evidence.started_at,
        finished_at=evidence.finished_at,
        scanners=tuple(_masked_status(s) for s in evidence.statuses),
        findings=tuple(mask(findings)),
        advisory_db=evidence.advisory_db,
        baseline=evidence.baseline or (inputs.baseline_origin if inputs is not None else None),
        diff_base=evidence.diff_base or (inputs.diff_base if inputs is not None else None),
        warnings=tuple(dict.fromkeys(mask_userinfo(w) for w in warnings)),
        meta=tuple((k, mask_userinfo(v)) for k, v in evidence.meta),
        # What the statuses and the verdict were resolved with travels with them: a gate without
        # a checkout (the split pipeline's final job) judges the way this run did.
        judged_with=evidence.judged_with or (inputs.judged_with if inputs is not None else None),
        scope=evidence.scope,
        advisories=evidence.advisories,
    )
    return gate(result, inputs.policy) if inputs is not None else result


def _production_tests(
    findings: Sequence[Finding], tree: SourceTree, globs: Sequence[str], excludes: Sequence[str]
) -> frozenset[str]:
    """Test-path files that production code imports (they are production code); only looked for
    when a finding is in a test path, and only where the tree is at hand."""
    if tree.root is None or not any(testcode.is_test_path(f.location.path, globs) for f in findings):
        return frozenset()
    listing = tree.selection.listing(tree.root, excludes)
    return testcode.production_imported(listing.files, globs, tree.text)


_FILE_KINDS = (Kind.SAST, Kind.SECRET)
# secscan's own checks of the checkout look past the excludes on purpose (bytecode in
# __pycache__ that shadows its source, links out of the tree): their findings always stand.
_WHOLE_TREE = frozenset({"tree"})


def _in_scope(findings: Sequence[Finding], tree: SourceTree, excludes: Sequence[str]) -> list[Finding]:
    """Findings in files no scanner of a scan would have read (excluded, and not imported by
    production code) are dropped: a report imported from another job is held to the same excludes
    as ``scan``. Dependency and DAST findings name no scanned file."""
    matcher = pathmatch.excludes(excludes)
    outside = [
        f
        for f in findings
        if f.kind in _FILE_KINDS
        and f.scanner not in _WHOLE_TREE
        and f.location.path
        and matcher.matches(f.location.path)
    ]
    if not outside or tree.root is None:
        return list(findings)
    imported = set(tree.selection.listing(tree.root, excludes).imported)
    dropped = {id(f) for f in outside if f.location.path not in imported}
    return [f for f in findings if id(f) not in dropped]


def gate(result: RunResult, pol: policy.Policy) -> RunResult:
    return replace(result, verdict=policy.evaluate(result, pol))


def _masked_status(s: ScannerStatus) -> ScannerStatus:
    """Credentials in a URL of a recorded command line or error (``--osv-url https://u:p@...``)."""
    return replace(
        s,
        command=tuple(mask_userinfo(a) for a in s.command),
        error=mask_userinfo(s.error) if s.error else s.error,
    )


def _masked(loc: Location, values: tuple[str, ...] | None) -> Location:
    snippet = loc.snippet
    if snippet:
        snippet = mask_pans(redact_secret(snippet, values) if values is not None else snippet)
    evidence = loc.evidence
    if evidence:
        evidence = mask_pans(redact_secret(evidence, values) if values is not None else evidence)
    return replace(loc, snippet=snippet, evidence=evidence)


def _text(text: str, values: tuple[str, ...] | None) -> str:
    return mask_pans(redact_secret(text, values) if values is not None else text)


def mask(findings: Sequence[Finding]) -> list[Finding]:
    """Mask secrets and card numbers in what findings quote from the code, after fingerprinting
    (which needs the real code) and before anything is written: a live key or a PAN must not
    spread into CI artifacts, merge request notes or dashboards. Idempotent, so results that
    pass through it twice (merge) are unchanged.

    A line holding a detected secret is masked in every finding that quotes it, as the secret
    findings masked it (``secscan.secretlines``): bandit's finding on ``requests.get("https://
    svc:<password>@host", verify=False)`` must not show what detect-secrets' finding hides."""
    masked = [_mask_one(f) for f in findings]
    index = secretlines.secret_lines(masked)
    if index:
        relined = [_reline(f, index) for f in masked]
        parts = secretlines.searched([p for _f, found in relined for p in found])
        masked = [_mask_parts(f, parts) if parts else f for f, _found in relined]
    # Last, a URL's credentials in any finding: a per-scanner CI job (bandit alone) has no secret
    # finding to mask the line by, and writes its result, reports and job log all the same.
    return [_map_texts(f, mask_userinfo) for f in masked]


def _mask_one(f: Finding) -> Finding:
    values: tuple[str, ...] | None = None
    if f.kind is Kind.SECRET:
        # The values quoted in any of its snippets: titles and messages repeat them
        # (bandit: "Possible hardcoded password: '...'").
        snippets = [f.location.snippet, *(s.location.snippet for s in f.sources)]
        values = tuple(sorted({v for sn in snippets if sn for v in secret_values(sn)}, key=len, reverse=True))
    return replace(
        f,
        # A secret's title loses the quoted value altogether: titles become rule names
        # (SARIF rules, grouped summaries, the dashboard), shown far from the finding.
        title=_text(secret_title(f.title) if values is not None else f.title, values),
        message=_text(f.message, values),
        location=_masked(f.location, values),
        other_locations=tuple(_masked(x, values) for x in f.other_locations),
        sources=tuple(
            replace(s, location=_masked(s.location, values), message=_text(s.message, values)) for s in f.sources
        ),
    )


def _reline(f: Finding, index: secretlines.LineIndex) -> tuple[Finding, list[str]]:
    """``f`` with the secrets' lines it quotes masked, and the parts of the code masked."""
    found: list[str] = []

    def at(loc: Location) -> Location:
        new, parts = secretlines.reline(loc, index)
        found.extend(parts)
        return new

    out = replace(
        f,
        location=at(f.location),
        other_locations=tuple(at(x) for x in f.other_locations),
        sources=tuple(replace(s, location=at(s.location)) for s in f.sources),
    )
    return out, found


def _mask_parts(f: Finding, parts: tuple[str, ...]) -> Finding:
    """``f`` with the masked parts of secrets' lines masked in every text it carries: a message
    or another line can repeat a secret that was found elsewhere."""
    return _map_texts(f, lambda value: secretlines.mask_parts(value, parts))


def _map_texts(f: Finding, text: Callable[[str], str]) -> Finding:
    """``f`` with ``text`` applied to every text it carries."""

    def at(loc: Location) -> Location:
        return replace(
            loc,
            snippet=text(loc.snippet) if loc.snippet else loc.snippet,
            evidence=text(loc.evidence) if loc.evidence else loc.evidence,
        )

    return replace(
        f,
        title=text(f.title),
        message=text(f.message),
        fix=text(f.fix) if f.fix else f.fix,  # a semgrep fix is rendered from the matched code
        location=at(f.location),
        other_locations=tuple(at(x) for x in f.other_locations),
        sources=tuple(replace(s, location=at(s.location), message=text(s.message)) for s in f.sources),
    )
