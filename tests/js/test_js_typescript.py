"""The JavaScript rules also read TypeScript (type annotations, `import`, generics, `as`):
a real semgrep run over tests/data/js/checkout.ts."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_tool

SAMPLE = ROOT / "tests" / "data" / "js" / "checkout.ts"

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("rules-semgrep")]


def test_typescript_sample_triggers_the_js_rules_and_not_the_safe_lines(tmp_path: Path) -> None:
    exe = require_tool("semgrep")
    configs = [a for p in sorted((ROOT / "rules" / "semgrep").glob("js-*.yaml")) for a in ("--config", str(p))]
    proc = subprocess.run(
        [exe, "--metrics=off", "--disable-version-check", *configs, "--json", "--timeout", "30", str(SAMPLE)],
        env={**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert doc["errors"] == []
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    hits = {(r["check_id"].split(".")[-1], lines[r["start"]["line"] - 1].strip()[:40]) for r in doc["results"]}
    fired = {rule for rule, _ in hits}
    assert {
        "js-card-data-in-log",
        "js-stripe-call-without-idempotency-key",
        "js-sql-built-by-string-formatting",
        "js-static-iv-or-nonce",
        "js-jwt-decode-without-verification",
        "js-webhook-without-signature-verification",
    } <= fired, hits
    safe_from = next(i for i, line in enumerate(lines, 1) if line.startswith("// Near misses"))
    assert all(r["start"]["line"] < safe_from for r in doc["results"]), "the safe spellings pass"
