"""Gate policy (TOML) and the verdict that explains itself.

Policy file format (``rules/policy/default.toml`` is the default; README "Policy file")::

    version = 1
    name = "default"
    fail_closed = true                    # a scanner error fails the gate (exit 3)

    [block]
    new_at_or_above = "high"              # new findings at or above this severity block ("none": never)
    [block.kinds]                         # per-kind thresholds override the one above
    dast = "medium"
    [block.test_code]                     # findings in test code (secscan.testcode): never by default
    new_at_or_above = "none"
    [block.test_code.kinds]
    secret = "high"

    [max_new]                             # more new findings than this blocks, per severity or total
    medium = 10
    total = 50

    [inline_suppressions]
    max_severity = "medium"               # # nosec / # nosemgrep accepted up to this severity ("none": never)

    [suppressions]
    max_days = 365                        # `secscan suppress` writes no expiry further ahead than this

    [sla]                                 # days an open finding may stay open, per severity ("none": no limit)
    critical = 30                         # defaults: PCI DSS v4.0 6.3.3 (critical and high within one month)
    high = 30
    medium = 90
    low = 180

    [advisories]                          # age of the advisory store a dependency audit used
    warn_after_days = 2                   # older: a warning ("none": never)
    max_age_days = 7                      # older: the gate fails, exit 3 ("none": never)

Only findings with status ``new`` count (``existing`` are in the baseline or outside the diff,
``fixed`` are gone, ``suppressed`` are accepted). An inline suppression of a finding above
``max_severity`` is refused: the finding counts as it would without the comment.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from secscan.errors import ConfigError, ExitCode
from secscan.models import BlockReason, Finding, Kind, RunResult, ScannerStatus, Severity, Status, Verdict
from secscan.resources import rules_dir
from secscan.settings.tomlfile import load_toml
from secscan.testcode import TAG as TEST_CODE
from secscan.textsafe import one_line

POLICY_VERSION = 1
NONE = "none"
DEFAULT_SUPPRESSION_MAX_DAYS = 365
# Fix-by days per severity. Critical and high: PCI DSS v4.0 requirement 6.3.3 (security patches
# for critical vulnerabilities installed within one month of release; the guidance extends it to
# high). Medium and low: 6.3.3 leaves them to "an appropriate time frame" set by the entity's
# risk analysis (6.3.1); 90 and 180 days are this project's choice, a common quarter / half-year.
DEFAULT_SLA_DAYS: Mapping[Severity, int | None] = {
    Severity.CRITICAL: 30,
    Severity.HIGH: 30,
    Severity.MEDIUM: 90,
    Severity.LOW: 180,
    Severity.INFO: None,
}
# OSV's exports change every hour; the template refreshes the store daily. Two days missed is
# worth a word, a week means the refresh is broken and "no known vulnerability" means little.
DEFAULT_ADVISORIES_WARN_DAYS = 2
DEFAULT_ADVISORIES_MAX_DAYS = 7
_UNDERLYING_NEW = "underlying:new"  # set by secscan.triage on suppressed findings


@dataclass(frozen=True, kw_only=True)
class Policy:
    name: str = "default"
    block_at_or_above: Severity | None = Severity.HIGH
    """New findings at or above this block; None never blocks on severity."""
    kind_thresholds: Mapping[Kind, Severity | None] = field(default_factory=dict)
    """Per-kind overrides of ``block_at_or_above``."""
    test_block_at_or_above: Severity | None = None
    """New findings in test code at or above this block; None (the default) never blocks."""
    test_kind_thresholds: Mapping[Kind, Severity | None] = field(default_factory=dict)
    """Per-kind overrides of ``test_block_at_or_above``."""
    max_new: Mapping[str, int] = field(default_factory=dict)
    """Severity name or ``total`` -> the most new findings allowed."""
    fail_closed: bool = True
    inline_max_severity: Severity | None = Severity.MEDIUM
    """Inline suppressions are accepted up to this severity; None refuses them all."""
    suppression_max_days: int = DEFAULT_SUPPRESSION_MAX_DAYS
    sla_days: Mapping[Severity, int | None] = field(default_factory=lambda: dict(DEFAULT_SLA_DAYS))
    """Days an open finding of each severity may stay open (None: no limit); the history's
    dashboard and `compliance check` list the findings past it."""
    """The furthest expiry (days from today) ``secscan suppress`` writes: an accepted risk is
    looked at again."""
    source: str = "builtin"
    """Where the policy came from (path), for the verdict."""
    advisories_warn_days: int | None = DEFAULT_ADVISORIES_WARN_DAYS
    """An advisory store older than this many days is a warning; None never warns."""
    advisories_max_days: int | None = DEFAULT_ADVISORIES_MAX_DAYS
    """An advisory store older than this many days fails the gate (exit 3); None never fails."""

    def threshold(self, kind: Kind, *, test_code: bool = False) -> tuple[Severity | None, str]:
        """The blocking threshold for ``kind`` (in test code or not) and the policy rule that sets it."""
        if test_code:
            if kind in self.test_kind_thresholds:
                sev = self.test_kind_thresholds[kind]
                return sev, f"block.test_code.kinds.{kind.value}={sev.value if sev else NONE}"
            sev = self.test_block_at_or_above
            return sev, f"block.test_code.new_at_or_above={sev.value if sev else NONE}"
        if kind in self.kind_thresholds:
            sev = self.kind_thresholds[kind]
            return sev, f"block.kinds.{kind.value}={sev.value if sev else NONE}"
        sev = self.block_at_or_above
        return sev, f"block.new_at_or_above={sev.value if sev else NONE}"

    def test_code_kinds(self) -> frozenset[Kind]:
        """The kinds a finding in test code can block with (a live credential is never test code):
        the scanners read test code with these kinds' rules only (:mod:`secscan.collect`)."""
        return frozenset(k for k in Kind if self.threshold(k, test_code=True)[0] is not None)

    def inline_refused(self, f: Finding) -> bool:
        if f.status is not Status.SUPPRESSED or f.suppression is None or f.suppression.origin != "inline":
            return False
        return self.inline_max_severity is None or f.severity.rank > self.inline_max_severity.rank


# ------------------------------------------------------------------ loading


def _severity(value: Any, where: str) -> Severity | None:
    if isinstance(value, str) and value.strip().lower() == NONE:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a severity name, got {value!r}")
    try:
        return Severity.parse(value)
    except ValueError as e:
        raise ConfigError(f"{where}: {e} or 'none'") from None


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{key}] must be a table")
    return value


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(allowed))})")


def parse_policy(data: dict[str, Any], *, origin: str) -> Policy:
    """Validate a parsed policy document; :class:`ConfigError` naming the file and key."""
    if data.get("version") != POLICY_VERSION:
        raise ConfigError(f"{origin}: expected 'version = {POLICY_VERSION}', got {data.get('version')!r}")
    _check_keys(
        data,
        {"version", "name", "fail_closed", "block", "max_new", "inline_suppressions"}
        | {"suppressions", "sla", "advisories"},
        origin,
    )
    name = data.get("name", Path(origin).stem if origin != "builtin" else "default")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{origin}: name must be a non-empty string")
    fail_closed = data.get("fail_closed", True)
    if not isinstance(fail_closed, bool):
        raise ConfigError(f"{origin}: fail_closed must be true or false")

    block = _table(data, "block", origin)
    _check_keys(block, {"new_at_or_above", "kinds", "test_code"}, f"{origin}: [block]")
    threshold = _severity(block.get("new_at_or_above", "high"), f"{origin}: block.new_at_or_above")
    kinds = _kinds(_table(block, "kinds", f"{origin}: [block]"), f"{origin}: block.kinds")
    test = _table(block, "test_code", f"{origin}: [block]")
    _check_keys(test, {"new_at_or_above", "kinds"}, f"{origin}: [block.test_code]")
    test_threshold = _severity(test.get("new_at_or_above", NONE), f"{origin}: block.test_code.new_at_or_above")
    test_kinds = _kinds(_table(test, "kinds", f"{origin}: [block.test_code]"), f"{origin}: block.test_code.kinds")

    max_new: dict[str, int] = {}
    for key, value in _table(data, "max_new", origin).items():
        if key != "total" and key not in {s.value for s in Severity}:
            raise ConfigError(f"{origin}: max_new: unknown key {key!r} (a severity name or 'total')")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{origin}: max_new.{key}: expected a non-negative integer, got {value!r}")
        max_new[key] = value

    inline = _table(data, "inline_suppressions", origin)
    _check_keys(inline, {"max_severity"}, f"{origin}: [inline_suppressions]")
    inline_max = _severity(inline.get("max_severity", "medium"), f"{origin}: inline_suppressions.max_severity")
    file_sup = _table(data, "suppressions", origin)
    _check_keys(file_sup, {"max_days"}, f"{origin}: [suppressions]")
    max_days = file_sup.get("max_days", DEFAULT_SUPPRESSION_MAX_DAYS)
    if isinstance(max_days, bool) or not isinstance(max_days, int) or max_days < 1:
        raise ConfigError(f"{origin}: suppressions.max_days: expected a positive integer, got {max_days!r}")
    adv = _table(data, "advisories", origin)
    _check_keys(adv, {"warn_after_days", "max_age_days"}, f"{origin}: [advisories]")
    warn_days = _days(adv.get("warn_after_days", DEFAULT_ADVISORIES_WARN_DAYS), f"{origin}: advisories.warn_after_days")
    age_days = _days(adv.get("max_age_days", DEFAULT_ADVISORIES_MAX_DAYS), f"{origin}: advisories.max_age_days")
    return Policy(
        name=name,
        block_at_or_above=threshold,
        kind_thresholds=kinds,
        test_block_at_or_above=test_threshold,
        test_kind_thresholds=test_kinds,
        max_new=max_new,
        fail_closed=fail_closed,
        inline_max_severity=inline_max,
        suppression_max_days=max_days,
        sla_days=_sla(_table(data, "sla", origin), f"{origin}: [sla]"),
        source=origin,
        advisories_warn_days=warn_days,
        advisories_max_days=age_days,
    )


def _sla(table: Mapping[str, Any], where: str) -> dict[Severity, int | None]:
    """The ``[sla]`` table over the defaults: a positive number of days, or "none"."""
    days = dict(DEFAULT_SLA_DAYS)
    for key, value in table.items():
        try:
            sev = Severity(key)
        except ValueError:
            raise ConfigError(
                f"{where}: unknown severity {key!r} (known: {', '.join(s.value for s in Severity)})"
            ) from None
        if value == NONE:
            days[sev] = None
        elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f'{where}: {key}: expected a positive number of days or "none", got {value!r}')
        else:
            days[sev] = value
    return days


def _days(value: Any, where: str) -> int | None:
    if isinstance(value, str) and value.strip().lower() == NONE:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}: expected a number of days (0 or more) or 'none', got {value!r}")
    return value


def _kinds(table: Mapping[str, Any], where: str) -> dict[Kind, Severity | None]:
    kinds: dict[Kind, Severity | None] = {}
    for kind_name, value in table.items():
        try:
            kind = Kind(kind_name)
        except ValueError:
            known = ", ".join(k.value for k in Kind)
            raise ConfigError(f"{where}: unknown kind {kind_name!r} (known: {known})") from None
        kinds[kind] = _severity(value, f"{where}.{kind_name}")
    return kinds


def default_policy_path() -> Path:
    return rules_dir() / "policy" / "default.toml"


def load_policy(path: Path | None) -> Policy:
    """Load a policy file (None: the shipped default); bad files are a ConfigError (exit 2)."""
    path = default_policy_path() if path is None else Path(path)
    return parse_policy(load_toml(path, what="policy file"), origin=str(path))


def _sev_name(sev: Severity | None) -> str:
    return sev.value if sev is not None else NONE


def _kinds_dict(kinds: Mapping[Kind, Severity | None]) -> dict[str, str]:
    return {k.value: _sev_name(v) for k, v in sorted(kinds.items(), key=lambda kv: kv[0].value)}


def to_dict(policy: Policy) -> dict[str, Any]:
    """The policy as a plain document of the file's shape, every key present, so that
    :func:`parse_policy` reads it back to the same policy and two spellings of one policy (a
    default left out, a key written) have one digest."""
    return {
        "version": POLICY_VERSION,
        "name": policy.name,
        "fail_closed": policy.fail_closed,
        "block": {
            "new_at_or_above": _sev_name(policy.block_at_or_above),
            "kinds": _kinds_dict(policy.kind_thresholds),
            "test_code": {
                "new_at_or_above": _sev_name(policy.test_block_at_or_above),
                "kinds": _kinds_dict(policy.test_kind_thresholds),
            },
        },
        "max_new": dict(sorted(policy.max_new.items())),
        "inline_suppressions": {"max_severity": _sev_name(policy.inline_max_severity)},
        # Only when not the default: results recorded before the key existed keep their digest.
        **(
            {"suppressions": {"max_days": policy.suppression_max_days}}
            if policy.suppression_max_days != DEFAULT_SUPPRESSION_MAX_DAYS
            else {}
        ),
        **(
            {"sla": {s.value: NONE if d is None else d for s, d in policy.sla_days.items()}}
            if dict(policy.sla_days) != dict(DEFAULT_SLA_DAYS)
            else {}
        ),
        **_advisories_dict(policy),
    }


def _advisories_dict(policy: Policy) -> dict[str, Any]:
    """``[advisories]`` only when it differs from the defaults: a policy recorded before the
    table existed (issue 27) keeps its digest, and one policy still has one spelling."""
    days = (policy.advisories_warn_days, policy.advisories_max_days)
    if days == (DEFAULT_ADVISORIES_WARN_DAYS, DEFAULT_ADVISORIES_MAX_DAYS):
        return {}
    warn, most = (NONE if d is None else d for d in days)
    return {"advisories": {"warn_after_days": warn, "max_age_days": most}}


def from_dict(data: Mapping[str, Any], *, origin: str) -> Policy:
    """A policy recorded with :func:`to_dict` (e.g. in ``secscan.json``), validated like a file."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{origin}: the recorded policy is not a table")
    return parse_policy(dict(data), origin=origin)


def digest(policy: Policy) -> str:
    """Hex SHA-256 of the policy's canonical JSON: equal for equal policies, wherever they came from."""
    text = json.dumps(to_dict(policy), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ evaluation


def _describe(f: Finding) -> str:
    loc = f.location
    if f.kind is Kind.DEPENDENCY:
        where = f"{loc.package or '?'} {loc.version or ''}".strip() + (f" ({loc.path})" if loc.path else "")
    elif f.kind is Kind.DAST:
        where = f"{loc.method or ''} {loc.url or ''}".strip()
    else:
        where = f"{loc.path or '?'}:{loc.start_line}" if loc.start_line else (loc.path or "?")
    return f"{f.severity.value} {f.kind.value} {f.rule_id} {f.title} at {where}"


def _stale_store(result: RunResult, policy: Policy, warnings: list[str]) -> BlockReason | None:
    """The advisory store's age against ``[advisories]``: a reason past ``max_age_days``, a
    warning past ``warn_after_days``; nothing when no local store was used."""
    adv = result.advisories
    if adv is None:
        return None
    if adv.age_days is None:
        age_text = "of unknown age (the store records no fetch or import time)"
    else:
        age_text = f"{adv.age_days:.1f} days old"
    what = f"advisory store {adv.snapshot} is {age_text}"
    refresh = "run `secscan advisories update`"
    limit = policy.advisories_max_days
    if limit is not None and (adv.age_days is None or adv.age_days > limit):
        return BlockReason(rule=f"advisories.max_age_days={limit}", message=f"{what}: {refresh}")
    warn = policy.advisories_warn_days
    if warn is not None and adv.age_days is not None and adv.age_days > warn:
        warnings.append(f"{what} (more than advisories.warn_after_days={warn}): {refresh}")
    return None


def _state_word(s: ScannerStatus) -> str:
    """``incomplete`` for a scan that left files unanalysed (its error names them), else the state."""
    return "incomplete" if s.incomplete_files else s.state.value


def _inline_reasons(findings: Sequence[Finding], policy: Policy) -> tuple[list[BlockReason], list[str], list[Finding]]:
    """Refused inline suppressions (blocking when the finding is new underneath, else a warning),
    and the new findings that count as unsuppressed."""
    reasons: list[BlockReason] = []
    warnings: list[str] = []
    counted: list[Finding] = []
    for f in findings:
        if f.status is Status.NEW:
            counted.append(f)
        elif policy.inline_refused(f):
            allowed = policy.inline_max_severity.value if policy.inline_max_severity else NONE
            rule = f"inline_suppressions.max_severity={allowed}"
            if _UNDERLYING_NEW in f.tags:
                why = f.suppression.reason if f.suppression else ""
                reasons.append(
                    BlockReason(
                        rule=rule,
                        message=f"inline suppression refused for {_describe(f)} ({why})",
                        fingerprint=f.fingerprint,
                    )
                )
            else:
                warnings.append(
                    f"inline suppression of an existing {f.severity.value} finding is not accepted: {_describe(f)}"
                )
    return reasons, warnings, counted


def _finding_reasons(counted: list[Finding], policy: Policy) -> list[BlockReason]:
    """Blocking new findings: each over its threshold, and the counts over ``[max_new]``."""
    reasons: list[BlockReason] = []
    for f in counted:
        in_tests = TEST_CODE in f.tags
        threshold, rule = policy.threshold(f.kind, test_code=in_tests)
        if threshold is not None and f.severity.rank >= threshold.rank:
            where = "new (test code) " if in_tests else "new "
            reasons.append(BlockReason(rule=rule, message=where + _describe(f), fingerprint=f.fingerprint))
    # The counts of [max_new] are about production code: test findings block only by [block.test_code].
    counted = [f for f in counted if TEST_CODE not in f.tags]
    by_sev = Counter(f.severity.value for f in counted)
    for key in sorted(policy.max_new, key=lambda k: (k == "total", k)):
        limit = policy.max_new[key]
        count = len(counted) if key == "total" else by_sev.get(key, 0)
        if count > limit:
            what = "new findings" if key == "total" else f"new {key} findings"
            reasons.append(
                BlockReason(rule=f"max_new.{key}={limit}", message=f"{count} {what} (at most {limit} allowed)")
            )
    return reasons


def evaluate(result: RunResult, policy: Policy) -> Verdict:
    """Apply ``policy`` to ``result``: one BlockReason per blocking finding (and per rule of the run)."""
    reasons, warnings, counted = _inline_reasons(result.findings, policy)
    reasons += _finding_reasons(counted, policy)

    failed = [s for s in result.scanners if s.state.is_error]
    scanner_reasons = [
        BlockReason(rule="fail_closed=true", message=f"scanner {s.name} {_state_word(s)}: {s.error or 'no details'}")
        for s in failed
    ]
    # Audits against a store past its age limit cannot say "no known vulnerability": like a
    # failed scanner (exit 3), whatever fail_closed says (the age limit is its own setting).
    stale = _stale_store(result, policy, warnings)
    stale_reasons = [stale] if stale is not None else []
    if not result.scanners and not result.findings and policy.fail_closed:
        # A document that records no scanner at all (a hand-made or truncated file, a merge of
        # nothing) proves nothing was checked: that is not a pass.
        return Verdict(
            passed=False,
            exit_code=ExitCode.SCANNER_FAILED,
            policy=policy.name,
            reasons=(
                BlockReason(rule="fail_closed=true", message="the result records no scanner run: nothing was checked"),
            ),
            warnings=tuple(warnings),
        )
    if failed and not policy.fail_closed:
        warnings.extend(f"scanner {s.name} {_state_word(s)} (fail_closed=false: not blocking)" for s in failed)
    expired = sum(1 for f in result.findings if "suppression-expired" in f.tags)
    if expired:
        warnings.append(f"{expired} finding(s) no longer suppressed: their suppression expired")

    if reasons:
        # Blocking findings decide the exit code even when a scanner also failed: re-running
        # will not make them go away, and the scanner failure is listed too.
        all_reasons = reasons + (scanner_reasons if policy.fail_closed else []) + stale_reasons
        return Verdict(
            passed=False,
            exit_code=ExitCode.GATE_FAILED,
            policy=policy.name,
            reasons=tuple(all_reasons),
            warnings=tuple(warnings),
        )
    if (failed and policy.fail_closed) or stale_reasons:
        return Verdict(
            passed=False,
            exit_code=ExitCode.SCANNER_FAILED,
            policy=policy.name,
            reasons=tuple((scanner_reasons if policy.fail_closed else []) + stale_reasons),
            warnings=tuple(warnings),
        )
    return Verdict(passed=True, exit_code=ExitCode.PASSED, policy=policy.name, warnings=tuple(warnings))


def format_verdict(verdict: Verdict, *, limit: int = 50, policy_from: str | None = None) -> str:
    """The verdict for a terminal or CI log (plain text): each policy clause once, with the number
    of findings it blocks (they are listed in full above it), and each reason of the run.

    ``policy_from`` says where the policy came from when that is not obvious (``recorded in the
    result``: the split pipeline's gate applies what the scan jobs resolved)."""

    head = "PASSED" if verdict.passed else f"FAILED (exit {verdict.exit_code})"
    where = f" ({policy_from})" if policy_from else ""
    lines = [f"secscan gate: {head} - policy {verdict.policy}{where}"]
    per_clause = Counter(r.rule for r in verdict.reasons if r.fingerprint)
    lines += [f"  blocked by {rule}: {n} finding(s) (listed above)" for rule, n in per_clause.items()]
    run_reasons = [r for r in verdict.reasons if not r.fingerprint]
    lines += [f"  blocked by {r.rule}: {one_line(r.message)}" for r in run_reasons[:limit]]
    if len(run_reasons) > limit:
        lines.append(f"  ... and {len(run_reasons) - limit} more (see secscan.json)")
    lines.extend(f"  warning: {one_line(w)}" for w in verdict.warnings)
    return "\n".join(lines)
