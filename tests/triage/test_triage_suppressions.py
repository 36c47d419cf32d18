"""Suppressions file (selectors, owner/reason, expiry) and inline # nosec / # nosemgrep."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from secscan import fingerprint, triage
from secscan.errors import ConfigError
from secscan.inputs import read_triage_inputs
from secscan.models import Finding, Status
from secscan.sourcefiles import SourceTree
from tests.triage.triage_helpers import PROJECT, dep, sast, write_tree

TODAY = date(2026, 3, 1)


def run(findings: list[Finding], tmp_path: Path, toml: str | None, *, root: Path = PROJECT) -> triage.TriageOutcome:
    path = None
    if toml is not None:
        path = tmp_path / "suppressions.toml"
        path.write_text(toml, encoding="utf-8")
    tree = SourceTree(root)
    # As a scan reads them: --suppressions FILE, else the tree's .secscan/suppressions.toml.
    rules = read_triage_inputs(root=root, suppressions=path).suppressions
    return triage.apply(
        fingerprint.assign(findings, tree=tree), triage.TriageContext(tree=tree, today=TODAY, suppressions=rules)
    )


def entry(selector: str, extra: str = "") -> str:
    return f'version = 1\n[[suppression]]\n{selector}\nreason = "accepted"\nowner = "alice"\n{extra}\n'


@pytest.mark.parametrize(
    ("selector", "hit"),
    [
        ('rule_id = "B324"', True),
        ('rule_id = "B602"', False),
        ('path = "app/**"', True),
        ('path = "app/*.py"', True),
        ('path = "lib/**"', False),
        ('path = "**/views.py"', True),
        ('rule_id = "B324"\npath = "lib/**"', False),  # every selector must match
    ],
)
def test_sast_selectors(tmp_path: Path, selector: str, hit: bool) -> None:
    out = run([sast()], tmp_path, entry(selector))
    [f] = out.findings
    assert (f.status is Status.SUPPRESSED) is hit
    if hit:
        assert f.suppression is not None and f.suppression.owner == "alice" and f.suppression.origin == "file"


def test_fingerprint_selector(tmp_path: Path) -> None:
    [fp] = [f.fingerprint for f in fingerprint.assign([sast()], tree=SourceTree(PROJECT))]
    [f] = run([sast()], tmp_path, entry(f'fingerprint = "{fp}"')).findings
    assert f.status is Status.SUPPRESSED and f.suppression is not None and f.suppression.matched_by == "fingerprint"


@pytest.mark.parametrize(
    ("selector", "hit"),
    [
        ('package = "Requests"', True),
        ('advisory = "CVE-2023-32681"', True),  # an alias of PYSEC-2023-74
        ('advisory = "ghsa-j8r2-6x86-q33q"', True),
        ('advisory = "CVE-2018-18074"', False),
        ('package = "urllib3"', False),
    ],
)
def test_dependency_selectors(tmp_path: Path, selector: str, hit: bool) -> None:
    [f] = run([dep()], tmp_path, entry(selector)).findings
    assert (f.status is Status.SUPPRESSED) is hit


def test_suppressed_findings_stay_in_the_output(tmp_path: Path) -> None:
    out = run([sast(), sast(rule_id="B602", line=8, cwe="CWE-78")], tmp_path, entry('rule_id = "B324"'))
    assert sorted(f.status.value for f in out.findings) == ["new", "suppressed"]


def test_expired_suppression_stops_suppressing_and_is_reported(tmp_path: Path) -> None:
    out = run([sast()], tmp_path, entry('rule_id = "B324"', "expires = 2026-02-28\nticket = 'SEC-1'"))
    [f] = out.findings
    assert f.status is Status.NEW and "suppression-expired" in f.tags
    assert any("expired on 2026-02-28" in w and "1 finding" in w for w in out.warnings)


@pytest.mark.parametrize(("expires", "warned"), [("2026-03-01", True), ("2026-03-15", True), ("2026-03-16", False)])
def test_expiring_within_14_days_is_warned_about(tmp_path: Path, expires: str, warned: bool) -> None:
    out = run([sast()], tmp_path, entry('rule_id = "B324"', f'expires = "{expires}"'))
    assert out.findings[0].status is Status.SUPPRESSED  # still valid on its last day
    assert any("expires" in w and expires in w for w in out.warnings) is warned


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[suppression]]\nrule_id = "B1"\nreason = "r"\nowner = "o"\n', "version = 1"),
        ('version = 1\n[[suppression]]\nrule_id = "B1"\nowner = "o"\n', "suppression #1: 'reason' is required"),
        ('version = 1\n[[suppression]]\nrule_id = "B1"\nreason = "r"\n', "'owner' is required"),
        ('version = 1\n[[suppression]]\nreason = "r"\nowner = "o"\n', "needs at least one of"),
        ('version = 1\n[[suppression]]\nrule = "B1"\nreason = "r"\nowner = "o"\n', "unknown key(s) rule"),
        (
            'version = 1\n[[suppression]]\nrule_id = "B1"\nreason = "r"\nowner = "o"\nexpires = "soon"\n',
            "expires must be a date",
        ),
        ("version = 1\nsuppression = [", "invalid TOML"),
    ],
)
def test_bad_suppression_files_are_clear_config_errors(tmp_path: Path, toml: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        run([sast()], tmp_path, toml)
    assert message in e.value.message and "suppressions.toml" in e.value.message


def test_default_file_in_the_target_is_used(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "proj",
        {
            "app/views.py": (PROJECT / "app/views.py").read_text(),
            ".secscan/suppressions.toml": entry('rule_id = "B324"'),
        },
    )
    [f] = run([sast()], tmp_path, None, root=root).findings
    assert f.status is Status.SUPPRESSED


INLINE = """import hashlib
import subprocess


def a(data):
    return hashlib.md5(data).hexdigest()  # nosec
def b(cmd):
    return subprocess.call(cmd, shell=True)  # nosec B324 - wrong id for this line
def c(data):
    # nosemgrep: insecure-hash-md5
    return hashlib.md5(data).hexdigest()
def d(data):
    return hashlib.md5(data).hexdigest()  # nosec - reviewed, used for cache keys
"""


def test_inline_nosec_and_nosemgrep(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"m.py": INLINE})
    findings = [
        sast(path="m.py", line=6),  # bandit + "# nosec": suppressed
        sast(path="m.py", line=8, rule_id="B602", cwe="CWE-78"),  # "# nosec B324": not for B602
        sast(path="m.py", line=11, scanner="semgrep", rule_id="rules.python.insecure-hash-md5"),  # line above
        sast(path="m.py", line=11, scanner="bandit", rule_id="B324"),  # nosemgrep does not cover bandit...
        sast(path="m.py", line=13),  # free text after # nosec: still a blanket nosec, like bandit
    ]
    out = run(findings, tmp_path, None, root=root).findings
    by_line = {f.location.start_line: f for f in out}
    assert by_line[6].status is Status.SUPPRESSED and by_line[6].suppression is not None
    assert by_line[6].suppression.origin == "inline" and "line 6" in by_line[6].suppression.reason
    assert by_line[8].status is Status.NEW
    # ...but bandit and semgrep on line 11 are one problem: the comment covers one of its sources.
    assert by_line[11].status is Status.SUPPRESSED and len(by_line[11].sources) == 2
    assert by_line[13].status is Status.SUPPRESSED
    assert "underlying:new" in by_line[6].tags


def test_nosec_does_not_cover_a_semgrep_only_finding(tmp_path: Path) -> None:
    root = write_tree(tmp_path / "p", {"m.py": "import hashlib\nhashlib.md5(b'x')  # nosec\n"})
    [f] = run([sast(path="m.py", line=2, scanner="semgrep", rule_id="md5")], tmp_path, None, root=root).findings
    assert f.status is Status.NEW


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        # "./" is the project root: both directions of the old lstrip("./") bug.
        ("./.github/**", ".github/ci.yml", True),
        ("./.github/**", "github/x", False),
        ("./.github/**", "app/.github/ci.yml", False),
        ("./app/*.py", "app/views.py", True),
        ("./app/*.py", "lib/app/views.py", False),
        ("././app/", "app/views.py", True),
        # gitignore meaning: a name without a slash is any depth; a slash anchors at the root.
        ("views.py", "app/views.py", True),
        ("tests", "pkg/tests/test_a.py", True),
        ("tests", "pkg/testsuite/a.py", False),
        ("app/*.py", "app/sub/views.py", False),
        ("app/**/*.py", "app/sub/views.py", True),
        ("src/", "src/a/b.py", True),
        ("**/*.py", "b.py", True),
    ],
)
def test_path_selector_is_gitignore_style(tmp_path: Path, pattern: str, path: str, hit: bool) -> None:
    [f] = run([sast(path=path)], tmp_path, entry(f'path = "{pattern}"')).findings
    assert (f.status is Status.SUPPRESSED) is hit, (pattern, path)
    if hit:
        assert f.suppression is not None and f.suppression.matched_by == "path"


def test_path_selector_matches_a_dependency_manifest(tmp_path: Path) -> None:
    [f] = run([dep(manifest="requirements/prod.txt")], tmp_path, entry('path = "./requirements/"')).findings
    assert f.status is Status.SUPPRESSED


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("!app/**", "a '!' pattern selects nothing on its own"),
        ("#comment", "selects nothing"),
        ("./", "selects nothing"),
        ("app\\\\", "invalid pattern"),
    ],
)
def test_paths_that_can_never_match_are_config_errors(tmp_path: Path, pattern: str, message: str) -> None:
    with pytest.raises(ConfigError) as e:
        run([sast()], tmp_path, entry(f'path = "{pattern}"'))
    assert "suppressions.toml: suppression #1: path" in e.value.message and message in e.value.message
