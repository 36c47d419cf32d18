"""Gate policy and verdict.

OWNER: [triage] issue, which extends this (per-kind thresholds, max counts, inline suppression
rules, TOML loading of rules/policy/default.toml).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secscan.errors import ExitCode
from secscan.models import BlockReason, RunResult, Severity, Status, Verdict


@dataclass(frozen=True, kw_only=True)
class Policy:
    name: str = "default"
    block_at_or_above: Severity = Severity.HIGH
    fail_closed: bool = True


def load_policy(path: Path | None) -> Policy:
    return Policy()


def evaluate(result: RunResult, policy: Policy) -> Verdict:
    reasons: list[BlockReason] = []
    for f in result.findings:
        if f.status is Status.NEW and f.severity.rank >= policy.block_at_or_above.rank:
            reasons.append(
                BlockReason(
                    rule=f"block_new_at_or_above={policy.block_at_or_above.value}",
                    message=f"{f.severity.value} {f.rule_id}: {f.title}",
                    fingerprint=f.fingerprint,
                )
            )
    if reasons:
        return Verdict(passed=False, exit_code=ExitCode.GATE_FAILED, policy=policy.name, reasons=tuple(reasons))
    failed = [s for s in result.scanners if s.state.is_error]
    if failed and policy.fail_closed:
        return Verdict(
            passed=False,
            exit_code=ExitCode.SCANNER_FAILED,
            policy=policy.name,
            reasons=tuple(BlockReason(rule="fail_closed", message=f"{s.name}: {s.error}") for s in failed),
        )
    return Verdict(passed=True, exit_code=ExitCode.PASSED, policy=policy.name)
