"""Shared helpers for the [gitlab] tests: RunResults built directly from secscan.models."""

from __future__ import annotations

import dataclasses
from typing import Any

from secscan.gitlab.settings import PublishSettings, from_env
from secscan.models import (
    BlockReason,
    Confidence,
    Finding,
    Kind,
    Location,
    RunResult,
    ScannerState,
    ScannerStatus,
    Severity,
    Status,
    Verdict,
)
from tests.support.gitlab_standin import GitLabStandIn, MergeRequestState

OLD_PAY = "import hashlib\n\n\ndef pay(amount):\n    return amount\n\n\ndef refund(amount):\n    return -amount\n"
NEW_PAY = (
    "import hashlib\n"
    "import subprocess\n"
    "\n"
    "\n"
    "def pay(amount):\n"
    "    digest = hashlib.md5(str(amount).encode())\n"  # line 6: added
    "    return amount\n"
    "\n"
    "\n"
    "def refund(amount, cmd):\n"  # line 10: added
    "    subprocess.call(cmd, shell=True)\n"  # line 11: added
    "    return -amount\n"
)
NEW_FILE = "API_KEY = 'sk_live_0123456789abcdefghij'\nDEBUG = True\n"


def add_mr(gl: GitLabStandIn, **kw: Any) -> MergeRequestState:
    return gl.add_merge_request(
        project_id=7, iid=3, files={"app/pay.py": (OLD_PAY, NEW_PAY), "app/config.py": ("", NEW_FILE)}, **kw
    )


def finding(
    fp: str,
    *,
    line: int,
    path: str = "app/pay.py",
    severity: Severity = Severity.HIGH,
    status: Status = Status.NEW,
    rule: str = "B324",
    message: str = "Use of weak MD5 hash for security.",
    snippet: str | None = "digest = hashlib.md5(str(amount).encode())",
    kind: Kind = Kind.SAST,
) -> Finding:
    return Finding(
        kind=kind,
        scanner="bandit",
        rule_id=rule,
        title=f"{rule} finding",
        message=message,
        severity=severity,
        severity_original=severity.value.upper(),
        confidence=Confidence.HIGH,
        location=Location(path=path, start_line=line, end_line=line, snippet=snippet),
        status=status,
        fingerprint=fp,
    )


MD5 = finding("v1:aaaa0001", line=6)
SHELL = finding(
    "v1:aaaa0002", line=11, rule="B602", message="subprocess call with shell=True", severity=Severity.CRITICAL
)
KEY = finding(
    "v1:aaaa0003",
    line=1,
    path="app/config.py",
    rule="secret",
    kind=Kind.SECRET,
    snippet=NEW_FILE.split("\n", maxsplit=1)[0],
)
LOW = finding("v1:aaaa0004", line=7, severity=Severity.LOW, rule="B101")
OLD = finding("v1:aaaa0005", line=1, status=Status.EXISTING, rule="B403", message="import of hashlib")


def result(*findings: Finding, passed: bool = False, started: str = "2026-01-05T10:00:00Z") -> RunResult:
    blocking = tuple(
        BlockReason(rule="block_new_at_or_above=high", message=f.title, fingerprint=f.fingerprint)
        for f in findings
        if f.status is Status.NEW and f.severity.rank >= Severity.HIGH.rank
    )
    return RunResult(
        tool_version="0.1.0",
        target=".",
        started_at=started,
        finished_at="2026-01-05T10:01:00Z",
        scanners=(ScannerStatus(name="bandit", state=ScannerState.OK, version="1.9.4", findings=len(findings)),),
        findings=tuple(findings),
        verdict=Verdict(
            passed=passed, exit_code=0 if passed else 1, policy="default", reasons=() if passed else blocking
        ),
    )


def ci_env(gl: GitLabStandIn, **extra: str) -> dict[str, str]:
    env = {
        "CI_API_V4_URL": gl.api_url,
        "CI_MERGE_REQUEST_PROJECT_ID": "7",
        "CI_MERGE_REQUEST_IID": "3",
        "CI_COMMIT_SHA": "04e58de1fa97502d7e28c1394d471bb8fb1fc4a8",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": "0e4db308b6579f7cc733e5a354e026b272e1c076",
        "CI_JOB_URL": "https://gitlab.example.com/acme/payments/-/jobs/42",
        "CI_PIPELINE_URL": "https://gitlab.example.com/acme/payments/-/pipelines/17",
        "SECSCAN_GITLAB_TOKEN": gl.private_token,
    }
    env.update(extra)
    return env


def settings(gl: GitLabStandIn, **overrides: Any) -> PublishSettings:
    """Settings for the stand-in: plain HTTP allowed, fast retries (real sleeps, tiny base)."""
    s = from_env(ci_env(gl), {"allow_http": True, **overrides})
    return dataclasses.replace(s, retry_base_s=0.05, retry_max_s=0.2, timeout_s=2.0, budget_s=20.0)
