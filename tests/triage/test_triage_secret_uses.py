"""One secret, one finding (issue 30): detect-secrets and the payment rule on the line that
defines a key, and the rule again where the constant holding it is used, are one finding with
every source, the use a related location; the masked snippet keeps the code that is not the
secret ("Bearer "). Real semgrep and detect-secrets on a small payment module."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secscan.models import Confidence, Finding, Kind, Location, Severity, Source
from secscan.triage.dedupe import dedupe
from tests.conftest import require_tool
from tests.support.cli import secscan

KEY = "sk_live_51HxQwErTyUiOp" + "0123456789abcdefABCDEF"
MODULE = (
    "import requests\n"
    "\n"
    f'STRIPE_KEY = "{KEY}"\n'
    "\n"
    "\n"
    "def charge(amount):\n"
    '    headers = {"Authorization": "Bearer " + STRIPE_KEY}\n'
    '    return requests.post("https://api.stripe.com/v1/charges", headers=headers, timeout=5)\n'
)


def _secret(line: int, snippet: str, *, scanner: str = "semgrep", rule: str = "payment.stripe-live-secret-key",
            path: str = "app/payments.py", fp: str = "") -> Finding:  # fmt: skip
    loc = Location(path=path, start_line=line, end_line=line, snippet=snippet)
    return Finding(
        kind=Kind.SECRET, scanner=scanner, rule_id=rule, title="Stripe key", message="m", severity=Severity.HIGH,
        severity_original="ERROR", confidence=Confidence.HIGH, location=loc, fingerprint=fp or f"v1:{line}{path}",
        sources=(Source(scanner=scanner, rule_id=rule, severity_original="ERROR", message="m", location=loc),),
    )  # fmt: skip


def test_a_use_of_the_constant_folds_into_the_definition() -> None:
    define = _secret(3, f'STRIPE_KEY = "{KEY}"')
    use = _secret(7, '    headers = {"Authorization": "Bearer " + STRIPE_KEY}')
    (one,) = dedupe([use, define])
    assert one.location.start_line == 3
    assert [loc.start_line for loc in one.related_locations] == [7]
    assert sorted(s.location.start_line or 0 for s in one.sources) == [3, 7]


def test_what_is_not_a_use_stays_its_own_finding() -> None:
    define = _secret(3, f'STRIPE_KEY = "{KEY}"')
    other_file = _secret(2, "client = Client(STRIPE_KEY)", path="app/other.py")
    own_value = _secret(9, f'BACKUP = STRIPE_KEY or "{KEY[:-4]}WXYZ"')
    longer_name = _secret(11, "x = STRIPE_KEY_ID")
    out = dedupe([define, other_file, own_value, longer_name])
    assert len(out) == 4
    assert all(not f.related_locations for f in out)


@pytest.mark.integration
def test_the_real_scanners_report_one_finding_for_one_key(tmp_path: Path) -> None:
    require_tool("semgrep")
    require_tool("detect-secrets")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "payments.py").write_text(MODULE, encoding="utf-8")
    out = tmp_path / "out"
    run = secscan("scan", tmp_path, "--only", "semgrep,detect-secrets", "-o", out, "--no-progress", clean=True)
    assert run.code == 1, run.stdout[-2000:]
    doc = json.loads((out / "secscan.json").read_text(encoding="utf-8"))
    secrets = [f for f in doc["findings"] if f["kind"] == "secret"]
    assert len(secrets) == 1, [(f["rule_id"], f["location"]["start_line"]) for f in secrets]
    (f,) = secrets
    assert f["location"]["start_line"] == 3
    scanners = {(s["scanner"], s["location"]["start_line"]) for s in f["sources"]}
    assert {("detect-secrets", 3), ("semgrep", 3), ("semgrep", 7)} <= scanners
    assert [r["start_line"] for r in f["related_locations"]] == [7]
    use = next(s for s in f["sources"] if s["location"]["start_line"] == 7)
    assert '"Bearer " + STRIPE_KEY' in use["location"]["snippet"]
    assert KEY not in (out / "secscan.json").read_text(encoding="utf-8")
