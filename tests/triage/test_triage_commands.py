"""`secscan import`, `merge`, `gate` and `baseline create` through the real CLI entry point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.cli import secscan
from tests.triage.triage_helpers import DATA, PROJECT


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(PROJECT, tmp_path / "project")
    monkeypatch.chdir(tmp_path / "project")
    return tmp_path


def findings(path: Path) -> list[dict]:
    return json.loads(path.read_text())["findings"]


@pytest.mark.parametrize(
    ("tool", "sample", "count"),
    [
        ("bandit", "bandit-1.9.4_generated.json", 8),
        ("semgrep", "semgrep-1.182.0_generated.json", 3),
        ("sarif", "bandit-1.9.4_generated.sarif", 8),
        ("zap", "zap-2.16.1_baseline_report_json.json", None),
        ("zap", "5_zap_sample_one.xml", None),
    ],
)
def test_import_each_tool(
    work: Path, capsys: pytest.CaptureFixture[str], tool: str, sample: str, count: int | None
) -> None:
    rc, out, _ = secscan("import", "--tool", tool, str(DATA / sample), "-o", str(work / "r.json"))
    assert rc == 0 and "r.json" in out
    got = findings(work / "r.json")
    assert got and all(f["fingerprint"].startswith("v1:") for f in got)
    if count is not None:
        assert len(got) == count
    doc = json.loads((work / "r.json").read_text())
    # A SARIF import reports one status per run, named after its producer (here bandit).
    assert doc["schema"] == "secscan/1" and doc["scanners"][0]["name"] == ("bandit" if tool == "sarif" else tool)


def test_import_merge_gate_and_baseline_round_trip(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b, s = work / "b.json", work / "s.json"
    assert secscan("import", "--tool", "bandit", str(DATA / "bandit-1.9.4_generated.json"), "-o", str(b))[0] == 0
    assert secscan("import", "--tool", "semgrep", str(DATA / "semgrep-1.182.0_generated.json"), "-o", str(s))[0] == 0
    assert secscan("merge", str(b), str(s), "-o", str(work / "m1.json"))[0] == 0
    assert secscan("merge", str(s), str(b), "-o", str(work / "m2.json"))[0] == 0
    assert (work / "m1.json").read_text() == (work / "m2.json").read_text()  # order-independent
    merged = findings(work / "m1.json")
    assert len(merged) == 8 and sum(len(f["sources"]) == 2 for f in merged) == 3

    rc, out, _ = secscan("gate", str(work / "m1.json"), "-o", str(work / "gated.json"))
    assert rc == 1 and "blocked by block.new_at_or_above=high: 2 finding(s)" in out and out.count("blocked by") == 1
    # The gate prints the finding details `scan` prints: each blocking finding with its fingerprint.
    gated_doc = json.loads((work / "gated.json").read_text())
    for reason in gated_doc["verdict"]["reasons"]:
        assert f"fingerprint: {reason['fingerprint']}" in out
        assert f"suppress: secscan suppress {reason['fingerprint']} --reason " in out
    verdict = json.loads((work / "gated.json").read_text())["verdict"]
    assert verdict["exit_code"] == 1 and len(verdict["reasons"]) == 2

    rc, out, _ = secscan("baseline", "create", str(work / "m1.json"), "-o", str(work / "base.json"))
    assert rc == 0 and "8 finding(s)" in out
    # With the baseline everything is existing: the same reports now pass the gate.
    args = (
        "import",
        "--tool",
        "bandit",
        str(DATA / "bandit-1.9.4_generated.json"),
        "--baseline",
        str(work / "base.json"),
    )
    assert secscan(*args, "-o", str(work / "again.json"))[0] == 0
    assert {f["status"] for f in findings(work / "again.json")} == {"existing"}
    assert secscan("gate", str(work / "again.json"))[0] == 0


def test_gate_with_a_policy_file(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secscan("import", "--tool", "bandit", str(DATA / "bandit-1.9.4_generated.json"), "-o", str(work / "b.json"))
    pol = work / "strict.toml"
    pol.write_text('version = 1\nname = "lenient"\n[block]\nnew_at_or_above = "critical"\n')
    rc, out, _ = secscan("gate", str(work / "b.json"), "--policy", str(pol))
    assert rc == 0 and "PASSED - policy lenient" in out
    # The verdict is on the audit trail next to the result, and the chain verifies.
    from secscan.audit import trail

    log = work / "secscan-audit.jsonl"
    entries = trail.read_entries(log)
    assert any(e["action"].startswith("gate") or "verdict" in e["action"] for e in entries), entries
    assert trail.verify(log, None).ok
    pol.write_text("version = 1\n[block]\nnew_at_or_above = 3\n")
    rc, _, err = secscan("gate", str(work / "b.json"), "--policy", str(pol))
    assert rc == 2 and "strict.toml" in err and "Traceback" not in err


def test_pip_audit_skips_fail_closed(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sample = DATA / "pip-audit-2.10.1_all_skipped_generated.json"
    rc, _, err = secscan("import", "--tool", "pip-audit", str(sample), "-o", str(work / "p.json"))
    assert rc == 0 and "3 dependencies not audited" in err
    doc = json.loads((work / "p.json").read_text())
    assert doc["scanners"][0]["state"] == "failed" and len(doc["scanners"][0]["not_audited"]) == 3
    rc, out, _ = secscan("gate", str(work / "p.json"))
    assert rc == 3 and "fail_closed" in out


@pytest.mark.parametrize(
    "shape",
    [
        [
            {
                "name": "requests",
                "version": "2.19.1",
                "vulns": [{"id": "PYSEC-2023-74", "fix_versions": ["2.31.0"], "aliases": ["CVE-2023-32681"]}],
            }
        ],
        {
            "dependencies": [
                {
                    "name": "requests",
                    "version": "2.19.1",
                    "vulns": [{"id": "PYSEC-2023-74", "fix_versions": ["2.31.0"]}],
                }
            ]
        },
        {
            "dependencies": [
                {
                    "name": "requests",
                    "version": "2.19.1",
                    "vulns": [{"id": "PYSEC-2023-74", "fix_versions": ["2.31.0"]}],
                }
            ],
            "fixes": [],
        },
    ],
)
def test_pip_audit_old_and_new_shapes(work: Path, capsys: pytest.CaptureFixture[str], shape: object) -> None:
    report = work / "audit.json"
    report.write_text(json.dumps(shape))
    rc, _, _ = secscan(
        "import", "--tool", "pip-audit", str(report), "--manifest", "requirements.txt", "-o", str(work / "p.json")
    )
    [f] = findings(work / "p.json")
    assert rc == 0 and f["rule_id"] == "PYSEC-2023-74" and f["location"]["path"] == "requirements.txt"


def test_older_bandit_with_windows_paths_and_utf16(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads((DATA / "bandit-1.9.4_generated.json").read_text())
    for r in doc["results"]:
        r["filename"] = "app\\views.py"
        for key in ("issue_cwe", "col_offset", "end_col_offset"):
            r.pop(key)
    report = work / "bandit-old.json"
    report.write_bytes(json.dumps(doc).encode("utf-16"))  # PowerShell's `>` writes UTF-16 with a BOM
    rc, _, err = secscan("import", "--tool", "bandit", str(report), "-o", str(work / "o.json"))
    assert rc == 0, err
    assert {f["location"]["path"] for f in findings(work / "o.json")} == {"app/views.py"}


@pytest.mark.parametrize(
    ("tool", "content", "message"),
    [
        ("bandit", "", "report is empty"),
        ("bandit", "{broken", "not valid JSON"),
        ("semgrep", '{"results": {}}', "'results' list"),
        ("sarif", '{"version": "2.1.0"}', None),
        ("zap", "<OWASPZAPReport><site>", None),
        ("pip-audit", '{"deps": []}', "dependencies"),
    ],
)
def test_malformed_reports_exit_2_naming_the_file(
    work: Path, capsys: pytest.CaptureFixture[str], tool: str, content: str, message: str | None
) -> None:
    report = work / f"bad-{tool}.report"
    report.write_text(content)
    rc, _, err = secscan("import", "--tool", tool, str(report), "-o", str(work / "x.json"))
    if tool == "sarif":  # a SARIF log with no runs is an empty report, not an error
        assert rc == 0
        return
    assert rc == 2 and str(report) in err and err.count("\n") == 1 and "Traceback" not in err
    if message:
        assert message in err
    assert not (work / "x.json").exists()


def test_missing_and_bad_inputs(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = secscan("merge", str(work / "nope.json"), "-o", str(work / "m.json"))
    assert rc == 2 and "nope.json" in err
    (work / "notresult.json").write_text('{"schema": "other"}')
    rc, _, err = secscan("gate", str(work / "notresult.json"))
    assert rc == 2 and "is this a secscan result file" in err


def test_empty_reports_are_not_errors(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty_bandit = work / "bandit-empty.json"
    empty_bandit.write_text('{"errors": [], "results": [], "metrics": {}}')
    for tool, report in (("zap", DATA / "empty_2.9.0.xml"), ("bandit", empty_bandit)):
        rc, out, err = secscan("import", "--tool", tool, str(report), "-o", str(work / "e.json"))
        assert rc == 0, err
        assert "0 finding(s)" in out and findings(work / "e.json") == []
        assert secscan("gate", str(work / "e.json"))[0] == 0


def test_newer_semgrep_severities(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = json.loads((DATA / "semgrep-1.182.0_generated.json").read_text())
    for r, sev in zip(doc["results"], ("CRITICAL", "LOW", "MEDIUM"), strict=True):
        r["extra"]["severity"] = sev  # rules written with the newer severity names
    report = work / "semgrep-new.json"
    report.write_text(json.dumps(doc))
    assert secscan("import", "--tool", "semgrep", str(report), "-o", str(work / "s.json"))[0] == 0
    assert sorted(f["severity"] for f in findings(work / "s.json")) == ["critical", "low", "medium"]
