"""secscan scans its own code with its own pipeline's settings and passes (issue 30).

The pipeline (``.gitlab-ci.yml``) excludes what is vulnerable on purpose (the example app, test
samples, rule test files, benchmarks) through ``SECSCAN_EXCLUDE``; everything else must pass the
default policy. The run here: bandit, detect-secrets and the semgrep rule files that used to fire
on secscan's own safe code (``IN ({marks})`` placeholders, constant sub-queries, SHA-1 as a lookup
key): the whole builtin rule set takes minutes on the shared CI machine and runs in the
pipeline's security stage; pip-audit needs the OSV service, which this machine cannot reach.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, require_tool
from tests.support.cli import secscan

pytestmark = [pytest.mark.integration]

RULES = ROOT / "rules" / "semgrep"


def _pipeline_excludes() -> str:
    doc = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    value = doc["variables"]["SECSCAN_EXCLUDE"]
    assert isinstance(value, str) and value
    return value


def test_secscan_passes_its_own_gate(tmp_path: Path) -> None:
    require_tool("semgrep")
    require_tool("bandit")
    out = tmp_path / "out"
    run = secscan(
        "scan",
        ROOT,
        "-o",
        out,
        "--only",
        "bandit,semgrep,detect-secrets",
        "--no-builtin-rules",
        "--semgrep-rules",
        RULES / "sql-injection.yaml",
        "--semgrep-rules",
        RULES / "weak-hash.yaml",
        clean=True,
        env={"SECSCAN_EXCLUDE": _pipeline_excludes()},
    )
    doc = json.loads((out / "secscan.json").read_text(encoding="utf-8"))
    states = {s["name"]: s["state"] for s in doc["scanners"]}
    assert {states.get(name) for name in ("bandit", "semgrep", "detect-secrets")} == {"ok"}, states
    rules = {f["rule_id"] for f in doc["findings"]}
    assert "payment.sql-built-by-string-formatting" not in rules
    assert "B324" not in rules
    # Something was scanned (bandit's low/medium findings of secscan's own code are there).
    assert any(f["scanner"] == "bandit" for f in doc["findings"])
    assert run.code == 0, run.stdout[-3000:] + run.stderr[-2000:]
