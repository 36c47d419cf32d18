"""The semgrep rule catalog: metadata complete and consistent with the compliance mapping, a test
file with true positives and near misses next to every rule, and the generated Luhn check intact.
(No semgrep needed: these read the YAML.)"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from secscan.compliance import default_table

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules" / "semgrep"
# The OWASP web families (web-*.yaml, issue 28) have their own catalog test: test_rules_web.py.
RULE_FILES = sorted(p for p in RULES.glob("*.yaml") if not p.stem.startswith("web-"))
# JavaScript/TypeScript twins live in js-<family>.yaml with a js-<family>.js test file (issue 19).
PY_FILES = [p for p in RULE_FILES if not p.stem.startswith("js-")]
JS_FILES = [p for p in RULE_FILES if p.stem.startswith("js-")]
FAMILIES = {
    "card-number",
    "card-data-exposure",
    "payment-secrets",
    "weak-hash",
    "weak-cipher",
    "tls-verification",
    "idempotency",
    "webhooks",
    "jwt",
    "deserialization",
    "sql-injection",
}


def _rules() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for path in RULE_FILES:
        for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
            out.append((path, rule))
    return out


ALL = _rules()


def luhn_comparison(metavariable: str = "$S", digits: int = 19) -> str:
    """semgrep's comparison language has no loops: the Luhn sum, one digit at a time.

    Digit k (0 = rightmost) is (N / 10**k) % 10 with integer division; every second digit is
    doubled, minus 9 when the double exceeds 9, i.e. 2*d - 9*(d / 5)."""
    terms = []
    for k in range(digits):
        n = f"int({metavariable})" if k == 0 else f"(int({metavariable}) / {10**k})"
        d = f"({n} % 10)"
        terms.append(d if k % 2 == 0 else f"(2 * {d} - 9 * ({d} / 5))")
    return "(" + " + ".join(terms) + ") % 10 == 0"


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def test_about_twenty_rules_covering_every_family() -> None:
    ids = [rule["id"] for _, rule in ALL]
    assert len(ids) == len(set(ids)), "rule ids are unique"
    py_ids = [r["id"] for p, r in ALL if p in PY_FILES]
    assert 18 <= len(py_ids) <= 30
    assert {p.stem for p in PY_FILES} >= FAMILIES


def test_every_python_family_has_a_javascript_twin() -> None:
    js_ids = [r["id"] for p, r in ALL if p in JS_FILES]
    assert 18 <= len(js_ids) <= 35
    assert {p.stem.removeprefix("js-") for p in JS_FILES} == FAMILIES
    assert all(i.startswith("payment.js-") for i in js_ids)


@pytest.mark.parametrize(("path", "rule"), ALL, ids=[r["id"] for _, r in ALL])
def test_rule_metadata(path: Path, rule: dict[str, Any]) -> None:
    table = default_table()
    assert re.fullmatch(r"payment\.[a-z0-9]+(-[a-z0-9]+)*", rule["id"])
    assert rule["languages"] == (["javascript", "typescript"] if path in JS_FILES else ["python"])
    assert rule["severity"] in ("ERROR", "WARNING", "INFO")
    assert len(rule["message"]) > 60, "the message says what is wrong and what to do instead"
    meta = rule["metadata"]
    assert meta["cwe"] and all(re.fullmatch(r"CWE-\d+: .+", c) for c in meta["cwe"])
    (owasp,) = meta["owasp"]
    m = re.fullmatch(r"(A\d\d):2021 - (.+)", owasp)
    assert m and table.owasp_title(m.group(1)) == m.group(2), owasp
    assert meta["pci-dss"] and all(table.pci_title(p) for p in meta["pci-dss"]), meta["pci-dss"]
    for key in ("confidence", "likelihood", "impact"):
        assert meta[key] in ("HIGH", "MEDIUM", "LOW"), key
    assert meta["references"] and all(u.startswith("https://") for u in meta["references"])
    # The compliance mapping says the same thing as the rule's metadata.
    entry = table.rules["semgrep"][rule["id"]]
    assert entry.owasp == m.group(1)
    assert set(entry.pci) == set(meta["pci-dss"])


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_every_rule_has_true_positives_and_near_misses(path: Path) -> None:
    test_file = path.with_suffix(".js" if path in JS_FILES else ".py")
    assert test_file.is_file(), f"{test_file.name} missing"
    text = test_file.read_text(encoding="utf-8")
    comment = "//" if path in JS_FILES else "#"
    for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]:
        rid = re.escape(rule["id"])
        positives = re.findall(rf"{comment}\s*ruleid:[^\n]*\b{rid}\b(?![-\w])", text)
        negatives = re.findall(rf"{comment}\s*ok:[^\n]*\b{rid}\b(?![-\w])", text)
        assert len(positives) >= 2, f"{rule['id']}: at least two true positives"
        assert len(negatives) >= 1, f"{rule['id']}: at least one near-miss negative"


def test_every_annotation_names_an_existing_rule() -> None:
    web = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in RULES.glob("web-*.yaml")]
    ids = {rule["id"] for _, rule in ALL} | {rule["id"] for doc in web for rule in doc["rules"]}
    for path in [*RULES.glob("*.py"), *RULES.glob("*.js")]:
        for name in re.findall(
            r"(?:#|//)\s*(?:ruleid|ok|todoruleid|todook):\s*([^\n]+)", path.read_text(encoding="utf-8")
        ):
            for rid in name.split(","):
                assert rid.strip() in ids, f"{path.name}: unknown rule {rid.strip()!r}"


def test_fix_only_where_marked_safe() -> None:
    # A fix rewrites code: only rules whose replacement is a drop-in may carry one.
    with_fix = {rule["id"] for _, rule in ALL if "fix" in rule or "fix-regex" in rule}
    assert with_fix == {"payment.unsafe-yaml-load"}
    assert (RULES / "deserialization.fixed.py").is_file(), "every fix has a fix test"


@pytest.mark.parametrize("rid", ["payment.card-number-literal", "payment.js-card-number-literal"])
def test_card_number_rule_uses_the_generated_luhn_check(rid: str) -> None:
    (rule,) = [r for _, r in ALL if r["id"] == rid]
    comparisons = [
        p["metavariable-comparison"]["comparison"] for p in rule["patterns"] if "metavariable-comparison" in p
    ]
    assert comparisons == [luhn_comparison()]


@pytest.mark.parametrize(
    "number",
    ["4242424242424242", "378282246310005", "6011111111111117", "4916338506082832", "6205500000000000004"],
)
def test_generated_luhn_expression_agrees_with_luhn(number: str) -> None:
    # Evaluate the same expression with Python's integer division to check the generator itself.
    expr = luhn_comparison().replace("int($S)", number).replace(" / ", " // ")
    assert eval(expr) is _luhn_ok(number) is True  # noqa: S307 - our own generated arithmetic
    broken = number[:-1] + str((int(number[-1]) + 1) % 10)
    expr = luhn_comparison().replace("int($S)", broken).replace(" / ", " // ")
    assert eval(expr) is _luhn_ok(broken) is False  # noqa: S307


def test_published_test_cards_are_luhn_valid_and_excluded_from_the_real_card_rule() -> None:
    (real,) = [r for _, r in ALL if r["id"] == "payment.card-number-literal"]
    (test,) = [r for _, r in ALL if r["id"] == "payment.test-card-number-outside-tests"]
    regex = next(p["metavariable-regex"]["regex"] for p in test["patterns"] if "metavariable-regex" in p)
    cards = re.fullmatch(r"\^\(\?:(.*)\)\$", regex)
    assert cards
    numbers = cards.group(1).split("|")
    assert "4242424242424242" in numbers and len(numbers) >= 40
    assert all(_luhn_ok(n) for n in numbers)
    real_regex = next(p["metavariable-regex"]["regex"] for p in real["patterns"] if "metavariable-regex" in p)
    assert all(re.match(real_regex, n) is None for n in numbers)
    assert re.match(real_regex, "4916338506082832")
    assert {"tests/", "test_*.py", "conftest.py"} <= set(test["paths"]["exclude"])


def test_javascript_card_rules_keep_the_python_test_cards_and_add_braintrees() -> None:
    def card_list(rid: str) -> set[str]:
        (rule,) = [r for _, r in ALL if r["id"] == rid]
        regex = next(p["metavariable-regex"]["regex"] for p in rule["patterns"] if "metavariable-regex" in p)
        m = re.search(r"\(\?:([\d|]+)\)", regex)
        assert m
        return set(m.group(1).split("|"))

    py_tests = card_list("payment.test-card-number-outside-tests")
    js_tests = card_list("payment.js-test-card-number-outside-tests")
    # braintree-node ships its sandbox numbers as braintree.Test.CreditCardNumbers (precision run).
    assert py_tests < js_tests and "4111111111131010" in js_tests - py_tests
    assert all(_luhn_ok(n) for n in js_tests)
    assert card_list("payment.js-card-number-literal") == js_tests, "the real-card rule excludes every test card"
    (real,) = [r for _, r in ALL if r["id"] == "payment.js-card-number-literal"]
    real_regex = next(p["metavariable-regex"]["regex"] for p in real["patterns"] if "metavariable-regex" in p)
    assert all(re.match(real_regex, n) is None for n in js_tests)
    assert re.match(real_regex, "4916338506082832")
