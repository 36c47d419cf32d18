"""Which files each scanner reads, with which rules (issue speed-2), with the real bandit and semgrep.

Production code gets every rule; test code only the rules whose findings can block there under the
policy (live credentials; secrets where ``[block.test_code]`` says so); a file of no language of a
scanner's rules is not handed to it. The bar: the verdict, and every finding that can block, are
exactly those of a full ``--no-cache`` scan (``--scan-all-test-code``) once its test-code
findings, which the policy never blocks on, are left out.
"""

from __future__ import annotations

import functools
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from secscan import resultio
from secscan.models import RunResult
from secscan.scanners.bandit import SECRET_RULES
from secscan.testcode import LIVE_RULES, TAG
from tests.cache.test_cache import EXAMPLE, status
from tests.conftest import require_tool
from tests.realprojects.test_realprojects_sdists import _sdist
from tests.support.cli import secscan as run_secscan

secscan = functools.partial(run_secscan, clean=True)
STRIPE_LIVE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"


def run(tree: Path, out: Path, *extra: str) -> RunResult:
    proc = secscan("scan", str(tree), "--only", "bandit,semgrep", "--out", str(out), "--no-progress", *extra)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr  # a completed scan: passed or blocked
    return resultio.load(out / "secscan.json")


def blocking_view(result: RunResult) -> tuple[Any, ...]:
    """What the gate decides on: findings outside test code (and live credentials, never test
    code), their statuses; every scanner's state and incomplete files; the verdict."""
    verdict = result.verdict
    assert verdict is not None
    return (
        sorted((f.fingerprint, f.status.value, f.rule_id) for f in result.findings if TAG not in f.tags),
        sorted((s.name, s.state.value, s.incomplete_files) for s in result.scanners),
        (verdict.passed, verdict.exit_code, sorted(r.message for r in verdict.reasons)),
    )


def compare(tree: Path, tmp_path: Path) -> tuple[RunResult, RunResult]:
    """(the selection, with a fresh cache: its misses count the files handed; the full scan)."""
    selected = run(tree, tmp_path / "selected", "--cache-dir", str(tmp_path / "cache"))
    full = run(tree, tmp_path / "full", "--no-cache", "--scan-all-test-code")
    assert blocking_view(selected) == blocking_view(full)
    return selected, full


@pytest.fixture
def flask(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    require_tool("bandit")
    require_tool("semgrep")
    sdist = _sdist("flask==3.0.3", Path(request.config.cache.mkdir("realprojects-sdists")))
    with tarfile.open(sdist) as tf:
        tf.extractall(tmp_path / "src", filter="data")
    return next(p for p in (tmp_path / "src").iterdir() if p.is_dir())


def test_flask_same_gate_with_less_work(flask: Path, tmp_path: Path) -> None:
    # A live key in a test module: it blocks wherever it is, so test code keeps the live-key rules.
    (flask / "tests" / "test_planted.py").write_text(f'STRIPE = "{STRIPE_LIVE}"\n', encoding="utf-8")
    selected, full = compare(flask, tmp_path)
    assert any(TAG in f.tags for f in full.findings), "Flask's tests have findings: the filter must be exercised"
    assert not any(TAG in f.tags for f in selected.findings)
    assert any(f.rule_id == "payment.stripe-live-secret-key" for f in selected.findings)
    py = [p for p in flask.rglob("*.py")]
    tests = [p for p in py if "tests" in p.relative_to(flask).parts or p.name == "conftest.py"]
    # bandit: production Python only (none of its rules can block in test code by default);
    # semgrep: the files of its rules' languages, production and test (the live-key rules).
    assert status(selected, "bandit").cache_misses == len(py) - len(tests)
    handed = status(selected, "semgrep").cache_misses
    assert len(py) <= handed < sum(1 for p in flask.rglob("*") if p.is_file())


def test_example_app_same_gate(tmp_path: Path) -> None:
    require_tool("bandit")
    require_tool("semgrep")
    tree = tmp_path / "app"
    shutil.copytree(EXAMPLE, tree)
    # A test-path module production imports is production code: every rule, findings not test code.
    (tree / "payments" / "testing").mkdir()
    (tree / "payments" / "testing" / "__init__.py").write_text("", encoding="utf-8")
    (tree / "payments" / "testing" / "charge.py").write_text(
        "import subprocess\n\n\ndef charge(cmd):\n    return subprocess.call(cmd, shell=True)\n", encoding="utf-8"
    )
    with (tree / "payments" / "api.py").open("a", encoding="utf-8") as fh:
        fh.write("\nfrom payments.testing import charge  # noqa\n")
    (tree / "tests").mkdir()
    (tree / "tests" / "test_shell.py").write_text(
        "import subprocess\n\n\ndef test_it():\n    subprocess.call('ls', shell=True)\n", encoding="utf-8"
    )
    # A live key in JavaScript test code blocks as in Python test code: the JS live-key rules run there.
    (tree / "tests" / "charge.test.js").write_text(f'const stripe = "{STRIPE_LIVE}";\n', encoding="utf-8")
    selected, full = compare(tree, tmp_path)
    js_live = [f for f in selected.findings if f.rule_id.endswith("payment.js-stripe-live-secret-key")]
    assert js_live and not any(TAG in f.tags for f in js_live), [f.rule_id for f in selected.findings]
    imported = [f for f in selected.findings if f.location.path == "payments/testing/charge.py"]
    assert any(f.rule_id == "B602" for f in imported) and not any(TAG in f.tags for f in imported)
    assert any(f.location.path == "tests/test_shell.py" and TAG in f.tags for f in full.findings)
    assert not any(f.location.path == "tests/test_shell.py" for f in selected.findings)
    # The result says how test code was read, for the history (issue 31): bandit not at all,
    # semgrep with the live-key rules; the imported test-path module with every rule.
    assert full.scope is not None and full.scope.test_code is None
    narrowed = selected.scope.test_code if selected.scope is not None else None
    assert narrowed is not None and narrowed.rules_of("bandit") == ()
    assert set(narrowed.rules_of("semgrep") or ()) == set(LIVE_RULES)
    assert "payments/testing/charge.py" in narrowed.production


def test_every_live_key_rule_is_known_as_one() -> None:
    """A rule for a provider's live key format, in any language, is in testcode.LIVE_RULES (so it
    runs in test code and its findings block there)."""
    import yaml

    from secscan.testcode import LIVE_RULES

    rules = Path(__file__).resolve().parents[2] / "rules" / "semgrep"
    ids = [r["id"] for f in sorted(rules.glob("*.yaml")) for r in yaml.safe_load(f.read_text())["rules"]]
    live = {i for i in ids if "live" in i or i.endswith(("braintree-private-key", "plaid-secret"))}
    assert len(live) >= 6 and live == {i for i in ids if i.endswith(LIVE_RULES)}


def test_a_policy_that_blocks_secrets_in_tests_runs_the_secret_rules_there(tmp_path: Path) -> None:
    require_tool("bandit")
    require_tool("semgrep")
    tree = tmp_path / "app"
    (tree / "tests").mkdir(parents=True)
    (tree / "app.py").write_text("print('hello')\n", encoding="utf-8")
    (tree / "tests" / "test_login.py").write_text('password = "Sup3r-S3cret-Value"\n', encoding="utf-8")
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'version = 1\n[block]\nnew_at_or_above = "high"\n[block.test_code.kinds]\nsecret = "low"\n', encoding="utf-8"
    )
    selected = run(tree, tmp_path / "selected", "--policy", str(policy), "--cache-dir", str(tmp_path / "cache"))
    full = run(tree, tmp_path / "full", "--policy", str(policy), "--no-cache", "--scan-all-test-code")
    secret = [f for f in selected.findings if f.rule_id == "B105"]
    assert secret and TAG in secret[0].tags
    narrowed = selected.scope.test_code if selected.scope is not None else None
    assert narrowed is not None and narrowed.rules_of("bandit") == tuple(sorted(SECRET_RULES))
    assert set(LIVE_RULES) < set(narrowed.rules_of("semgrep") or ())  # and secscan's secret rules
    assert selected.verdict is not None and full.verdict is not None
    assert not selected.verdict.passed and selected.verdict.reasons == full.verdict.reasons


def _counting(tool: str, folder: Path) -> Path:
    """A stand-in for ``tool`` that logs each start (its arguments) and runs the real one."""
    real = (
        str(Path(sys.executable).parent / tool) if (Path(sys.executable).parent / tool).exists() else shutil.which(tool)
    )
    script = folder / tool
    script.write_text(f'#!/bin/sh\necho "$*" >> "{folder}/{tool}.starts"\nexec "{real}" "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return script


def test_an_unchanged_tree_starts_no_scanner(tmp_path: Path) -> None:
    require_tool("bandit")
    require_tool("semgrep")
    tree = tmp_path / "app"
    shutil.copytree(EXAMPLE, tree)
    (tmp_path / "bin").mkdir()
    env = {f"SECSCAN_{t.upper()}_BIN": str(_counting(t, tmp_path / "bin")) for t in ("bandit", "semgrep")}
    argv = ("scan", str(tree), "--only", "bandit,semgrep", "--no-progress", "--cache-dir", str(tmp_path / "cache"))

    def scans(tool: str) -> list[str]:
        log = tmp_path / "bin" / f"{tool}.starts"
        lines = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
        return [line for line in lines if line.strip() != "--version"]  # a user-supplied bandit is asked its version

    first = secscan(*argv, "--out", str(tmp_path / "one"), env=env)
    assert first.returncode == 1, first.stderr
    assert scans("bandit") and scans("semgrep")
    before = {t: len(scans(t)) for t in ("bandit", "semgrep")}
    again = secscan(*argv, "--out", str(tmp_path / "two"), env=env)
    assert again.returncode == 1, again.stderr
    assert {t: len(scans(t)) for t in ("bandit", "semgrep")} == before
