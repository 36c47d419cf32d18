"""Run the real semgrep: the rules' own tests (`semgrep --test`), and the example payment app,
which must trigger every rule family. Part of `make test`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules" / "semgrep"
EXAMPLE = ROOT / "examples" / "payment-app"
SEMGREP_FLAGS = ("--metrics=off", "--disable-version-check")

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("rules-semgrep")]


def _semgrep(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    exe = require_tool("semgrep")
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    return subprocess.run(
        [exe, *SEMGREP_FLAGS, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )


def _rule_ids_by_family() -> dict[str, set[str]]:
    return {
        p.stem: {r["id"] for r in yaml.safe_load(p.read_text(encoding="utf-8"))["rules"]}
        for p in sorted(RULES.glob("*.yaml"))
        if not p.stem.startswith("web-")  # the OWASP web families (issue 28) are not payment families
    }


def _all_rule_ids() -> set[str]:
    """Every rule under rules/semgrep, the OWASP web families (web-*.yaml, issue 28) included."""
    docs = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(RULES.glob("*.yaml"))]
    return {r["id"] for doc in docs for r in doc["rules"]}


def _scan(target: Path, cwd: Path) -> dict[str, Any]:
    proc = _semgrep("--config", str(RULES), "--json", "--timeout", "30", str(target), cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc: dict[str, Any] = json.loads(proc.stdout)
    assert doc["errors"] == [], "no rule errors or timeouts"
    return doc


def _short(check_id: str) -> str:
    # semgrep prefixes the id with the rules folder ("rules.semgrep.payment.x").
    m = re.search(r"((?:payment|web)\.[a-z0-9-]+)$", check_id)
    assert m, check_id
    return m.group(1)


def test_semgrep_rule_tests_all_pass() -> None:
    proc = _semgrep("--test", "--json", "rules/semgrep")
    doc = json.loads(proc.stdout)
    # `semgrep --test` prints "All tests passed" even when a config failed to load: check it all.
    assert doc["config_with_errors"] == [], doc["config_with_errors"]
    assert doc["config_missing_tests"] == []
    assert doc["config_missing_fixtests"] == []
    checks = {rid: c for f in doc["results"].values() for rid, c in f["checks"].items()}
    expected = _all_rule_ids()
    assert set(checks) == expected
    failed = {rid: c["matches"] for rid, c in checks.items() if not c["passed"]}
    assert failed == {}
    assert doc["fixtest_results"], "the yaml fix has a fix test"
    assert all(r["passed"] for r in doc["fixtest_results"].values())
    # Every check really compared lines (an empty test would pass vacuously).
    for rid, c in checks.items():
        assert any(m["expected_lines"] for m in c["matches"].values()), rid
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_example_app_triggers_every_rule_family_and_test_cards_only_outside_tests(tmp_path: Path) -> None:
    app = tmp_path / "payment-app"
    shutil.copytree(EXAMPLE, app)
    # A test file with a provider test card: allowed there. An empty .semgrepignore so that
    # semgrep's default ignore list (which skips tests/) does not hide what the rule's own
    # `paths: exclude` does.
    (app / ".semgrepignore").write_text("", encoding="utf-8")
    (app / "tests").mkdir()
    (app / "tests" / "test_checkout.py").write_text('CARD = "4242424242424242"\n', encoding="utf-8")
    (app / "payments" / "test_refunds.py").write_text('CARD = "5555555555554444"\n', encoding="utf-8")
    (app / "checkout-node" / "test").mkdir()
    (app / "checkout-node" / "test" / "checkout.test.js").write_text('const CARD = "4242424242424242";\n')
    (app / "checkout-node" / "refunds.spec.ts").write_text('export const CARD = "5555555555554444";\n')

    doc = _scan(Path("."), cwd=app)
    hits = [(_short(r["check_id"]), r["path"]) for r in doc["results"]]
    fired = {rid for rid, _ in hits}
    for family, ids in _rule_ids_by_family().items():
        assert ids & fired, f"no rule of family {family} fired on the example app"
    payment_fired = {rid for rid in fired if rid.startswith("payment.")}
    assert payment_fired == set().union(*_rule_ids_by_family().values()), "every single rule fires on the example app"
    test_cards = {path for rid, path in hits if rid == "payment.test-card-number-outside-tests"}
    assert test_cards == {"payments/config.py"}
    js_test_cards = {path for rid, path in hits if rid == "payment.js-test-card-number-outside-tests"}
    assert js_test_cards == {"checkout-node/server.js"}
    # Python rules fire on Python files only, and the JavaScript twins on JavaScript only.
    for rid, path in hits:
        assert path.endswith(".js") is rid.startswith(("payment.js-", "web.js-")), (rid, path)


def test_bandit_still_has_something_to_say_about_the_example_app() -> None:
    exe = require_tool("bandit")
    proc = subprocess.run(
        [exe, "-r", "-q", "-f", "json", str(EXAMPLE)], capture_output=True, text=True, timeout=300, check=False
    )
    doc = json.loads(proc.stdout)
    tests = {r["test_id"] for r in doc["results"]}
    assert {"B301", "B324", "B501", "B506", "B602", "B608"} <= tests, tests
