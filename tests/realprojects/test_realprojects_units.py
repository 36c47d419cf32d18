"""Issue 16 units: masking keeps names, test code, declared dependencies, CVSS severities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secscan import policy, testcode
from secscan.advisories import severity
from secscan.models import Finding, Kind, Location, RunResult, Severity, Source, Status
from secscan.scanners import manifests
from secscan.scanners.pip_audit import discover_manifests
from secscan.textsafe import redact_secret, secret_title, secret_values
from tests.support import results

DATA = Path(__file__).resolve().parent.parent / "data" / "realprojects"

# ------------------------------------------------------------------ masking


@pytest.mark.parametrize(
    ("line", "masked", "gone"),
    [
        ('password = "Zq8!hunter2-prod-Xy"', 'password = "Zq8!****"', "hunter2"),
        # dict keys and subscripts name the secret: they stay readable
        ('creds = {"password": "s3cr3tvalue"}', 'creds = {"password": "****"}', "s3cr3tvalue"),
        ('cfg["token"] = "abcdEFGH1234"', 'cfg["token"] = "abcd****"', "EFGH1234"),
        # names in code are not keys, even long ones with digits
        (
            'oauth2_gateway_for_merchant = BraintreeGateway2(access_token="access_token$production$abc123")',
            'oauth2_gateway_for_merchant = BraintreeGateway2(access_token="acce****")',
            "production$abc123",
        ),
        ("url = https://user:sk_live_4eC39HqLyjWDarjtT1zdp7dc@x", "url = https://user:sk_l****@x", "4eC39Hq"),
    ],
)
def test_the_value_is_masked_and_the_code_around_it_kept(line: str, masked: str, gone: str) -> None:
    out = redact_secret(line, secret_values(line))
    assert out == masked
    assert gone not in out
    assert redact_secret(out, secret_values(out)) == out  # idempotent


def test_secret_titles_lose_the_value_and_a_word_of_the_title_is_never_masked() -> None:
    title = "Possible hardcoded password: 'password'"
    assert secret_title(title) == "Possible hardcoded password"
    snippet = 'login(username="password", password="password")'
    text = redact_secret(title, secret_values(snippet))
    assert text.startswith("Possible hardcoded password: ") and "'password'" not in text


# ------------------------------------------------------------------ test code


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("tests/test_basic.py", True),
        ("examples/tutorial/tests/conftest.py", True),
        ("src/flask/testing.py", False),
        ("pkg/test_helpers.py", True),
        ("pkg/helpers_test.py", True),
        ("src/flask/app.py", False),
        ("contest.py", False),
        (None, False),
    ],
)
def test_test_paths_defaults(path: str | None, expected: bool) -> None:
    assert testcode.is_test_path(path, testcode.DEFAULT_TEST_PATHS) is expected


def _finding(rule: str, path: str, sev: Severity = Severity.HIGH, kind: Kind = Kind.SAST) -> Finding:
    loc = Location(path=path, start_line=1)
    return Finding(
        kind=kind,
        scanner="bandit",
        rule_id=rule,
        title=rule,
        message=rule,
        severity=sev,
        severity_original=sev.value,
        location=loc,
        fingerprint=f"v1:{rule}:{path}",
        sources=(Source(scanner="bandit", rule_id=rule, severity_original="x", message="", location=loc),),
    )


def test_production_only_rules_are_dropped_in_tests_and_the_rest_tagged() -> None:
    found = [_finding("B101", "tests/test_a.py"), _finding("B101", "app.py"), _finding("B201", "tests/test_a.py")]
    out = testcode.classify(found, globs=testcode.DEFAULT_TEST_PATHS, production_only=("B101",))
    assert [(f.rule_id, f.location.path, testcode.TAG in f.tags) for f in out] == [
        ("B101", "app.py", False),
        ("B201", "tests/test_a.py", True),
    ]


def _result(findings: list[Finding]) -> RunResult:
    return results.result(*findings, scanners=[results.scanner("bandit")], tool_version="t")


def test_test_findings_do_not_block_by_default_and_the_policy_can_say_otherwise() -> None:
    debug = testcode.classify(
        [_finding("B201", "tests/test_app.py"), _finding("B105", "tests/test_key.py", Severity.HIGH, Kind.SECRET)],
        globs=testcode.DEFAULT_TEST_PATHS,
        production_only=(),
    )
    result = _result(debug)
    assert policy.evaluate(result, policy.load_policy(None)).passed
    strict = policy.parse_policy(
        {"version": 1, "block": {"test_code": {"new_at_or_above": "none", "kinds": {"secret": "high"}}}},
        origin="p.toml",
    )
    verdict = policy.evaluate(result, strict)
    assert not verdict.passed
    assert [r.rule for r in verdict.reasons] == ["block.test_code.kinds.secret=high"]
    # ... and the same finding outside test code blocks under the default policy
    prod = _result([_finding("B201", "app.py")])
    assert not policy.evaluate(prod, policy.load_policy(None)).passed
    assert all(f.status is Status.NEW for f in debug)


def test_bad_test_code_policy_is_a_config_error() -> None:
    from secscan.errors import ConfigError

    with pytest.raises(ConfigError, match=r"block\.test_code\.kinds"):
        policy.parse_policy({"version": 1, "block": {"test_code": {"kinds": {"nope": "high"}}}}, origin="p.toml")


# ------------------------------------------------------------------ declared dependencies (real manifests)


def test_flask_pyproject_declares_ranges_and_extras() -> None:
    d = manifests.read("pyproject.toml", (DATA / "manifests" / "flask-3.0.3-pyproject.toml").read_text())
    names = {manifests.requirement_name(r) for r in d.unpinned}
    assert {"werkzeug", "jinja2", "itsdangerous", "click", "blinker", "asgiref", "python-dotenv"} <= names
    assert d.pinned == () and d.errors == ()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("httpie-3.2.2-setup.py", {"charset-normalizer", "defusedxml", "requests", "pygments", "rich", "pytest"}),
        ("braintree-4.28.0-setup.py", {"requests"}),
        ("stripe-9.12.0-setup.py", {"typing-extensions", "requests"}),
    ],
)
def test_setup_py_is_read_with_ast_never_run(name: str, expected: set[str], tmp_path: Path) -> None:
    text = (DATA / "manifests" / name).read_text()
    marker = tmp_path / "ran"
    # Were the file executed, this line would create the marker.
    d = manifests.read("setup.py", f"open({str(marker)!r}, 'w').close()\n" + text)
    assert not marker.exists()
    names = {manifests.requirement_name(r) for r in d.unpinned} | {n for n, _v in d.pinned}
    assert expected <= names


def test_pep735_groups_lock_files_and_pins(tmp_path: Path) -> None:
    d = manifests.from_pyproject(
        '[project]\nname="x"\ndependencies=["requests==2.19.1"]\n'
        '[dependency-groups]\ntest=["pytest>=8"]\ndev=[{include-group="test"}, "jinja2==2.10"]\n'
    )
    assert set(d.pinned) == {("requests", "2.19.1"), ("jinja2", "2.10")}
    assert d.unpinned == ("pytest>=8",)
    lock = manifests.read(
        "uv.lock",
        'version = 1\n[[package]]\nname = "x"\nversion = "0.1"\nsource = { editable = "." }\n'
        '[[package]]\nname = "urllib3"\nversion = "1.26.4"\n',
    )
    assert lock.pinned == (("urllib3", "1.26.4"),)


def test_a_manifest_nested_deeper_than_the_parser_is_an_error_of_that_file() -> None:
    """A merge request's pyproject.toml, Pipfile or lock file built to exhaust the parser's stack
    (a RecursionError, the run's internal error before) is reported like any unreadable file."""
    toml = "x = " + "[" * 20000 + "]" * 20000 + "\n"
    for declared in (
        manifests.from_pyproject(toml),
        manifests.from_pipfile(toml),
        manifests.from_lock(toml, "poetry.lock"),
        manifests.from_lock("[" * 200000 + "]" * 200000, "Pipfile.lock"),
    ):
        assert declared.errors and not declared.pinned, declared


def test_in_files_are_skipped_next_to_their_compiled_txt(tmp_path: Path) -> None:
    (tmp_path / "requirements").mkdir()
    for name in ("tests.in", "tests.txt", "docs.in"):
        (tmp_path / "requirements" / name).write_text("x==1\n")
    (tmp_path / "deep" / "svc").mkdir(parents=True)
    (tmp_path / "deep" / "svc" / "requirements.txt").write_text("x==1\n")
    (tmp_path / "setup.py").write_text("")
    (tmp_path / "constraints.txt").write_text("x==1\n")
    assert discover_manifests(tmp_path) == [
        "deep/svc/requirements.txt",
        "requirements/docs.in",
        "requirements/tests.txt",
        "setup.py",
    ]


# ------------------------------------------------------------------ CVSS severities (real records)


def _record(name: str) -> dict[str, object]:
    data = json.loads((DATA / "advisories" / f"{name}.json").read_text())
    assert isinstance(data, dict)
    return data


def test_cvss_v4_is_preferred_to_v3_in_one_record() -> None:
    scored = severity.score_record(_record("GHSA-qwcr-r2fm-qrc7"))  # v3.1 7.5, v4.0 8.7
    assert scored is not None
    assert scored.vector.startswith("CVSS:4.0/") and scored.score == 8.7 and scored.severity is Severity.HIGH
    low = severity.score_record(_record("GHSA-m6fv-jmcg-4jfg"))  # v3.1 5.0 medium, v4.0 2.3 low
    assert low is not None and low.severity is Severity.LOW and low.original.startswith("CVSS:4.0 2.3")


def test_cvss_v31_only_and_the_worst_alias_wins() -> None:
    crit = severity.score_record(_record("GHSA-phwq-j96m-2c2q"))
    assert crit is not None and crit.score == 9.8 and crit.severity is Severity.CRITICAL
    both = severity.score_records([_record("GHSA-m6fv-jmcg-4jfg"), _record("GHSA-phwq-j96m-2c2q")])
    assert both is not None and both.advisory == "GHSA-phwq-j96m-2c2q"


def test_no_vector_anywhere_is_unknown() -> None:
    assert severity.score_record(_record("GHSA-pxg6-pf52-xh8x")) is None  # empty severity array
    assert severity.score_records([{"id": "X", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:Q"}]}]) is None


# ------------------------------------------------------------------ HTML report at scale


def test_html_groups_by_rule_blocking_first_and_caps_the_listed_rows() -> None:
    import re
    from dataclasses import replace

    from secscan.models import BlockReason, Verdict
    from secscan.reporters import html

    many = [replace(_finding("B311", f"app/m{i}.py", Severity.LOW), fingerprint=f"v1:a{i}") for i in range(2400)]
    mid = [replace(_finding("B608", f"app/q{i}.py", Severity.MEDIUM), fingerprint=f"v1:b{i}") for i in range(5)]
    blocker = replace(_finding("B602", "app/run.py", Severity.HIGH), fingerprint="v1:c0")
    result = replace(
        _result([*many, *mid, blocker]),
        verdict=Verdict(
            passed=False,
            exit_code=1,
            policy="default",
            reasons=(BlockReason(rule="r", message="m", fingerprint="v1:c0"),),
        ),
    )
    page = html.render(result)
    rules_table = page[page.index('id="rules"') : page.index("</table>", page.index('id="rules"'))]
    assert re.findall(r'<code class="rule">(B\d+)</code>', rules_table) == ["B602", "B608", "B311"]
    rows = re.findall(r'<tr class="finding( blocking)?" id="f(\d+)"', page)
    assert len(rows) == html.MAX_ROWS
    assert rows[0] == (" blocking", "0")  # the blocking finding is listed first
    assert 'id="unlisted"' in page and f"{2406 - html.MAX_ROWS} more" in page
