"""Parsers on real scanner outputs, one case per format variant (tests/data/scanners/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secscan.errors import ParseError
from secscan.models import Confidence, Kind, Severity
from secscan.scanners import bandit, pip_audit, semgrep
from secscan.sourcefiles import SourceTree, to_repo_path

DATA = Path(__file__).resolve().parent.parent / "data" / "scanners"
SCRATCH = DATA / "scratch-app"


def read(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


# ----------------------------------------------------------------- bandit


def test_bandit_1_9_many_findings_with_cwe_and_columns() -> None:
    findings = bandit.parse(read("bandit-1.9.4_generated.json"), tree=SourceTree(None))
    assert [f.rule_id for f in findings] == ["B403", "B404", "B602", "B301", "B324", "B506", "B105", "B110"]
    md5 = next(f for f in findings if f.rule_id == "B324")
    assert md5.kind is Kind.SAST
    assert md5.severity is Severity.HIGH and md5.severity_original == "HIGH"
    assert md5.confidence is Confidence.HIGH
    assert md5.location.path == "app/views.py"
    assert md5.location.start_line == 16
    assert md5.location.start_column == 12  # bandit's 0-based col_offset 11, made 1-based
    assert "CWE-327" in md5.cwe_ids()
    # No source tree: the snippet comes from bandit's numbered `code`, numbers stripped.
    # (only the flagged line: bandit's context lines and line numbers are dropped).
    assert md5.location.snippet == "    return hashlib.md5(data).hexdigest()"
    assert md5.sources[0].scanner == "bandit"


def test_bandit_1_7_0_without_cwe_or_columns() -> None:
    findings = bandit.parse(read("bandit-1.7.0_no-cwe-no-columns_generated.json"), tree=SourceTree(SCRATCH))
    assert findings, "the sample has findings"
    for f in findings:
        assert f.location.start_column is None and f.location.end_column is None
        assert f.cwe_ids() == ()
    shell = next(f for f in findings if f.rule_id == "B602")
    # With a source tree the snippet is the real line, read from the file by line range.
    assert shell.location.snippet == "    return subprocess.call(cmd, shell=True)"


def test_bandit_1_7_4_start_column_only() -> None:
    findings = bandit.parse(read("bandit-1.7.4_no-end-column_generated.json"), tree=SourceTree(SCRATCH))
    assert all(f.location.start_column is not None and f.location.end_column is None for f in findings)


def test_bandit_windows_paths_become_posix() -> None:
    findings = bandit.parse(read("bandit-1.9.4_windows-paths_derived.json"), tree=SourceTree(None))
    assert {f.location.path for f in findings} == {"app/views.py"}


def test_bandit_no_findings() -> None:
    assert bandit.parse(json.dumps({"errors": [], "results": []}), tree=SourceTree(None)) == []


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"results": 3}', '{"results": [{"test_id": "B101"}]}', '{"results": [1]}'],
)
def test_bandit_malformed(text: str) -> None:
    with pytest.raises(ParseError, match="bandit report"):
        bandit.parse(text, tree=SourceTree(None))


# ----------------------------------------------------------------- semgrep


def test_semgrep_requires_login_snippets_read_from_file() -> None:
    findings = semgrep.parse(read("semgrep-1.182.0_generated.json"), tree=SourceTree(SCRATCH), prefixes=("tmp",))
    assert [f.rule_id for f in findings] == ["subprocess-shell-true", "avoid-pickle", "insecure-hash-md5"]
    for f in findings:
        assert f.location.snippet != semgrep.REQUIRES_LOGIN
    by_id = {f.rule_id: f for f in findings}
    assert by_id["subprocess-shell-true"].severity is Severity.HIGH  # ERROR
    assert by_id["insecure-hash-md5"].severity is Severity.MEDIUM  # WARNING
    assert by_id["avoid-pickle"].severity is Severity.LOW  # INFO
    assert by_id["subprocess-shell-true"].cwe_ids() == ("CWE-78",)
    assert by_id["subprocess-shell-true"].fix == "subprocess.call(cmd, shell=False)"
    assert any(i.type == "owasp" and i.value == "A03:2021" for i in by_id["subprocess-shell-true"].identifiers)


def test_semgrep_requires_login_without_file_gives_no_fake_snippet() -> None:
    findings = semgrep.parse(read("semgrep-1.182.0_generated.json"), tree=SourceTree(None))
    assert all(f.location.snippet is None for f in findings)
    assert findings[0].rule_id == "tmp.subprocess-shell-true"  # no prefix known: id kept whole


def test_semgrep_new_severities_and_string_cwe() -> None:
    findings = semgrep.parse(
        read("semgrep-1.182.0_new-severities-string-cwe_generated.json"),
        tree=SourceTree(SCRATCH),
        prefixes=("tmp.gen.rules",),
    )
    by_id = {f.rule_id: f for f in findings}
    assert by_id["yaml-load"].severity is Severity.CRITICAL
    assert by_id["insecure-hash-md5"].severity is Severity.HIGH
    assert by_id["avoid-pickle"].severity is Severity.LOW
    assert by_id["insecure-hash-md5"].cwe_ids() == ("CWE-328",)  # from a plain string
    assert by_id["avoid-pickle"].cwe_ids() == ("CWE-502",)  # from a list
    assert by_id["insecure-hash-md5"].confidence is Confidence.HIGH
    assert by_id["yaml-load"].location.snippet == "    return yaml.load(text)"


def test_semgrep_rule_error_is_fatal() -> None:
    text = read("semgrep-1.182.0_rule-error_generated.json")
    assert semgrep.parse(text, tree=SourceTree(None)) == []
    errors = semgrep.SemgrepScanner.parse_report(text, tree=SourceTree(None), origin="x").errors
    assert len(errors) == 1 and "Rule parse error" in errors[0]


@pytest.mark.parametrize("text", ["{", '{"results": {}}', '{"results": [{"check_id": "x"}]}'])
def test_semgrep_malformed(text: str) -> None:
    with pytest.raises(ParseError, match="semgrep report"):
        semgrep.parse(text, tree=SourceTree(None))


def test_semgrep_prefixes_from_config_paths(tmp_path: Path) -> None:
    rules = tmp_path / "rules" / "semgrep"
    rules.mkdir(parents=True)
    prefix = semgrep.rule_prefixes([str(rules)], tmp_path / "elsewhere")
    assert prefix[0].endswith("rules.semgrep")
    assert semgrep.short_rule_id(prefix[0] + ".payment.weak-hash", prefix) == "payment.weak-hash"


@pytest.mark.parametrize("config", ["p/ci", "r/python.lang", "auto", "https://semgrep.dev/c/p/ci"])
def test_semgrep_remote_configs_detected(config: str) -> None:
    assert semgrep.is_remote_config(config)


def test_semgrep_local_config_not_remote() -> None:
    assert not semgrep.is_remote_config("rules/semgrep")


# ----------------------------------------------------------------- pip-audit

VULN = {
    "id": "PYSEC-2018-28",
    "fix_versions": ["2.20.0"],
    "aliases": ["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"],
    "description": "The Requests package before 2.20.0 sends an HTTP Authorization header to an http URI.",
}


def test_pip_audit_all_skipped_is_not_audited_never_clean() -> None:
    report = pip_audit.parse(read("pip-audit-2.10.1_all_skipped_generated.json"), manifest="requirements.txt")
    assert report.findings == ()
    assert len(report.not_audited) == 3
    assert report.not_audited[0].startswith("requests: Dependency not found")


@pytest.mark.parametrize(
    "shape",
    [
        "list",  # pip-audit 1.x: a top-level list
        "dependencies",  # {"dependencies": [...]}
        "dependencies+fixes",  # {"dependencies": [...], "fixes": [...]}
    ],
)
def test_pip_audit_three_shapes(shape: str) -> None:
    deps = [
        {"name": "requests", "version": "2.19.1", "vulns": [VULN]},
        {"name": "urllib3", "version": "2.2.2", "vulns": []},
    ]
    doc: object
    if shape == "list":
        doc = deps
    elif shape == "dependencies":
        doc = {"dependencies": deps}
    else:
        doc = {"dependencies": deps, "fixes": [{"name": "requests", "old_version": "2.19.1", "new_version": "2.20.0"}]}
    report = pip_audit.parse(json.dumps(doc), manifest="requirements.txt")
    assert report.not_audited == ()
    assert len(report.findings) == 1
    f = report.findings[0]
    assert f.kind is Kind.DEPENDENCY
    assert f.rule_id == "PYSEC-2018-28"
    assert f.location.package == "requests" and f.location.version == "2.19.1"
    assert f.location.path == "requirements.txt"
    assert f.fixed_versions == ("2.20.0",)
    assert {(i.type, i.value) for i in f.identifiers} >= {("cve", "CVE-2018-18074"), ("ghsa", "GHSA-x84v-xcm2-53pg")}


@pytest.mark.parametrize(
    "text", ["", "{}", '{"dependencies": [3]}', '{"dependencies": [{"name": "a", "vulns": [{}]}]}']
)
def test_pip_audit_malformed(text: str) -> None:
    with pytest.raises(ParseError, match="pip-audit report"):
        pip_audit.parse(text, manifest=None)


def test_discover_requirements_skips_virtualenvs(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("a==1\n")
    (tmp_path / "requirements-dev.txt").write_text("b==1\n")
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "prod.txt").write_text("c==1\n")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "requirements.txt").write_text("d==1\n")
    (tmp_path / "notes.txt").write_text("x\n")
    assert pip_audit.discover_requirements(tmp_path) == [
        "requirements-dev.txt",
        "requirements.txt",
        "requirements/prod.txt",
    ]


# ----------------------------------------------------------------- paths


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("app\\views.py", "app/views.py"), ("./app/views.py", "app/views.py"), ("app/views.py", "app/views.py")],
)
def test_to_repo_path(raw: str, expected: str) -> None:
    assert to_repo_path(raw) == expected


def test_to_repo_path_strips_absolute_root(tmp_path: Path) -> None:
    assert to_repo_path(str(tmp_path.resolve() / "pkg" / "m.py"), tmp_path) == "pkg/m.py"
