"""Baselines: create from a result, mark new/existing, report fixed entries."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from secscan import fingerprint, pathmatch, triage
from secscan.errors import InputError
from secscan.models import Finding, RunResult, Status
from secscan.resultio import dumps
from secscan.sourcefiles import SourceTree
from secscan.triage import baseline as bl
from tests.triage.triage_helpers import PROJECT, dep, sast

TREE = SourceTree(PROJECT)


def run(findings: list[Finding], baseline: Path, **kw: object) -> tuple[Finding, ...]:
    ctx = triage.TriageContext(tree=TREE, today=date(2026, 1, 1), baseline=bl.load(baseline), **kw)  # type: ignore[arg-type]
    return triage.apply(fingerprint.assign(findings, tree=TREE), ctx).findings


def make_baseline(tmp_path: Path, findings: list[Finding]) -> Path:
    res = RunResult(
        tool_version="t",
        target=".",
        started_at="s",
        finished_at="f",
        findings=tuple(fingerprint.assign(findings, tree=TREE)),
    )
    path = tmp_path / "baseline.json"
    path.write_text(bl.dumps(bl.from_result(res)))
    return path


def test_new_existing_and_fixed(tmp_path: Path) -> None:
    old_md5, old_shell, old_dep = sast(), sast(rule_id="B602", line=8, cwe="CWE-78"), dep()
    base = make_baseline(tmp_path, [old_md5, old_shell, old_dep])
    doc = json.loads(base.read_text())
    assert doc["schema"] == "secscan-baseline/1" and len(doc["entries"]) == 3
    out = run([old_md5, sast(rule_id="B301", line=12, cwe="CWE-502"), old_dep], base)
    status = {f.rule_id: f.status for f in out}
    assert status == {
        "B324": Status.EXISTING,
        "B301": Status.NEW,
        "PYSEC-2023-74": Status.EXISTING,
        "B602": Status.FIXED,
    }
    [fixed] = [f for f in out if f.status is Status.FIXED]
    assert fixed.location.path == "app/views.py" and fixed.scanner == "bandit"


def test_fixed_only_when_one_of_its_scanners_ran(tmp_path: Path) -> None:
    base = make_baseline(tmp_path, [sast(), dep()])
    out = run([], base, scanners_run=("pip-audit",))
    assert [(f.rule_id, f.status) for f in out] == [("PYSEC-2023-74", Status.FIXED)]


def test_fixed_only_for_scanned_paths_with_changed_only(tmp_path: Path) -> None:
    base = make_baseline(tmp_path, [sast()])
    assert run([], base, scanned_paths=("other.py",)) == ()
    assert [f.status for f in run([], base, scanned_paths=("app/views.py",))] == [Status.FIXED]


def test_not_fixed_where_the_scan_was_told_not_to_look(tmp_path: Path) -> None:
    """An entry in an excluded file (or a manifest in an excluded folder) was not seen, not fixed."""
    base = make_baseline(tmp_path, [sast(), dep(manifest="vendor/requirements.txt"), dep(package="jinja2")])
    out = run([], base, excluded=pathmatch.excludes(("app/*.py", "vendor")))
    assert [(f.location.package, f.status) for f in out] == [("jinja2", Status.FIXED)]
    everything = run([], base, excluded=pathmatch.excludes(()))
    assert len(everything) == 3 and {f.status for f in everything} == {Status.FIXED}


def test_baseline_file_text_and_round_trip(tmp_path: Path) -> None:
    path = make_baseline(tmp_path, [sast(), dep()])
    text = path.read_text()
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"
    doc = json.loads(text)
    assert doc["entries"][0].keys() >= {"fingerprint", "kind", "rule_id", "title", "severity", "scanners"}
    assert "package" not in next(e for e in doc["entries"] if e["kind"] == "sast")
    loaded = bl.load(path)
    assert bl.dumps(loaded) == text and len(loaded.entries) == 2


def test_a_secscan_json_works_as_a_baseline(tmp_path: Path) -> None:
    res = RunResult(
        tool_version="t",
        target=".",
        started_at="s",
        finished_at="f",
        findings=tuple(fingerprint.assign([sast()], tree=TREE)),
    )
    path = tmp_path / "secscan.json"
    path.write_text(dumps(res))
    assert [f.status for f in run([sast()], path)] == [Status.EXISTING]


def test_suppressed_and_fixed_findings_in_the_source_result(tmp_path: Path) -> None:
    [f] = fingerprint.assign([sast()], tree=TREE)
    res = RunResult(
        tool_version="t",
        target=".",
        started_at="s",
        finished_at="f",
        findings=(replace(f, status=Status.FIXED), replace(f, fingerprint="v1:abc", status=Status.SUPPRESSED)),
    )
    assert [e.fingerprint for e in bl.from_result(res).entries] == ["v1:abc"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ('{"schema": "other"}', "$.schema: expected 'secscan-baseline/1' or 'secscan/1', got 'other'"),
        ('{"schema": "secscan-baseline/1", "entries": {}}', "$.entries: expected an array, got an object"),
        (
            '{"schema": "secscan-baseline/1", "entries": [{"kind": "sast", "severity": "high", "rule_id": "B1"}]}',
            "$.entries[0]: missing required field 'fingerprint'",
        ),
        (
            '{"schema": "secscan-baseline/1", "entries": '
            '[{"fingerprint": "", "kind": "sast", "severity": "high", "rule_id": "B1"}]}',
            "$.entries[0].fingerprint: expected a non-empty string",
        ),
        (
            '{"schema": "secscan-baseline/1", "entries": '
            '[{"fingerprint": "v1:x", "kind": "web", "severity": "high", "rule_id": "B1"}]}',
            "$.entries[0].kind: expected one of sast, dependency, dast, secret, got 'web'",
        ),
        (
            '{"schema": "secscan/1", "findings": [{"kind": "sast", "scanner": "s", "rule_id": "r", "severity": 3}]}',
            "$.findings[0].severity: expected a string, got an integer",
        ),
    ],
)
def test_malformed_baselines_are_input_errors(tmp_path: Path, text: str, message: str) -> None:
    p = tmp_path / "b.json"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        bl.load(p)
    assert e.value.message.startswith(f"{p}: {message}")


def test_an_entry_in_test_code_is_fixed_only_where_its_rule_ran() -> None:
    """A run that read test code with some rules only (issue 31): entries there of other rules,
    and entries naming no scanner, are not "fixed"; the rules it ran, and production code, are."""
    from secscan.models import BaselineEntry, Kind, NarrowedTestCode, ScannerRules, Severity

    def entry(fp: str, rule: str, path: str, *scanners: str) -> BaselineEntry:
        return BaselineEntry(
            fingerprint=fp,
            kind=Kind.SAST,
            rule_id=rule,
            title="t",
            severity=Severity.HIGH,
            path=path,
            scanners=scanners,
        )

    entries = (
        entry("a", "B602", "tests/test_a.py", "bandit"),
        entry("b", "B105", "tests/test_a.py", "bandit"),
        entry("c", "B602", "app/a.py", "bandit"),
        entry("d", "B602", "tests/test_a.py"),
        entry("e", "B602", "tests/shared.py", "bandit"),
    )
    narrowed = NarrowedTestCode(
        test_paths=("tests/",),
        production=("tests/shared.py",),
        rules=(ScannerRules(scanner="bandit", rules=("B105",)),),
    )
    base = bl.Baseline(origin="b", entries=entries)
    fixed = {f.fingerprint for f in bl.fixed_entries(base, [], test_code=narrowed)}
    assert fixed == {"b", "c", "e"}
    assert {f.fingerprint for f in bl.fixed_entries(base, [])} == {"a", "b", "c", "d", "e"}
