"""`secscan export` (issue 31): DefectDojo's Generic Findings Import and CSV, from a history that
holds results `secscan import` made of other tools' SARIF (SpotBugs, gitleaks, composer audit:
public files, tests/data/importers/sarif/README.md) and a real bandit scan.

The DefectDojo checks are written from the rules of its generic JSON parser
(``dojo/tools/generic/json_parser.py`` in DefectDojo/django-DefectDojo) and of the ``Finding``
model fields it fills with ``Finding(**item)``: required keys, the keys it allows, and each
value's type as that field stores it.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from secscan.aggregate.export import CSV_COLUMNS
from tests.conftest import ROOT, require_tool
from tests.support.cli import secscan

SARIF = ROOT / "tests" / "data" / "importers" / "sarif"
SOURCES = {
    "spotbugs": SARIF / "spotbugs" / "spotbugs_4.4.0.sarif",
    "gitleaks": SARIF / "gitleaks" / "gitleaks_7.5.0.sarif",
    "composer": SARIF / "composer" / "composer-audit_sarif-php-converters.sarif.json",
}

# The parser's rules, as it states them.
REQUIRED = {"title", "severity", "description"}
POPPED = {"endpoints", "files", "tags", "vulnerability_ids", "cwes"}  # removed before Finding(**item)
ALLOWED = {
    *("date", "cwe", "cve", "epss_score", "epss_percentile", "cvssv3", "cvssv3_score", "cvssv4", "cvssv4_score"),
    *("mitigation", "impact", "steps_to_reproduce", "severity_justification", "references", "active", "verified"),
    *("false_p", "out_of_scope", "risk_accepted", "under_review", "is_mitigated", "thread_id", "mitigated"),
    *("numerical_severity", "param", "payload", "line", "file_path", "component_name", "component_version"),
    *("static_finding", "dynamic_finding", "scanner_confidence", "unique_id_from_tool", "vuln_id_from_tool"),
    *("sast_source_object", "sast_sink_object", "sast_source_line", "sast_source_file_path", "nb_occurences"),
    *("publish_date", "service", "planned_remediation_date", "planned_remediation_version", "effort_for_fixing"),
    *("tags", "kev_date", "known_exploited", "ransomware_used", "fix_available", "fix_version"),
} | REQUIRED
TOP_LEVEL = {"name", "type", "version", "description", "dynamic_tool", "static_tool", "soc", "findings"}
# Finding model field types for the keys we write (Django: CharField/TextField -> str,
# BooleanField -> bool, IntegerField -> int, DateField -> a date string dateutil parses).
TEXT = {"title", "description", "file_path", "component_name", "component_version", "unique_id_from_tool"}
TEXT |= {"vuln_id_from_tool", "service", "mitigation", "references", "param", "payload", "impact"}
FLAGS = {"active", "verified", "false_p", "risk_accepted", "is_mitigated", "static_finding", "dynamic_finding"}
FLAGS |= {"out_of_scope", "under_review"}
INTEGERS = {"cwe", "line", "nb_occurences", "scanner_confidence", "sast_source_line"}
SEVERITIES = {"Critical", "High", "Medium", "Low", "Info"}
RUN_PY = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
MAX_LEN = {"title": 511, "unique_id_from_tool": 500, "vuln_id_from_tool": 500}


def _types(item: dict[str, Any], where: str) -> list[str]:
    """Each value's type as the Finding field it fills stores it."""
    out = []
    for key, value in item.items():
        if key in TEXT and not isinstance(value, str):
            out.append(f"{where}.{key}: {value!r} is not text")
        if key in FLAGS and not isinstance(value, bool):
            out.append(f"{where}.{key}: {value!r} is not a boolean")
        if key in INTEGERS and (isinstance(value, bool) or not isinstance(value, int)):
            out.append(f"{where}.{key}: {value!r} is not an integer")
        if key in MAX_LEN and isinstance(value, str) and len(value) > MAX_LEN[key]:
            out.append(f"{where}.{key}: longer than {MAX_LEN[key]}")
        if key in ("tags", "vulnerability_ids", "cwes") and not (
            isinstance(value, list) and all(isinstance(t, str) for t in value)
        ):
            out.append(f"{where}.{key}: not a list of strings")
    if item.get("severity") not in SEVERITIES:
        out.append(f"{where}.severity: {item.get('severity')!r} is not one of {sorted(SEVERITIES)}")
    if not str(item.get("description", "")).strip():
        out.append(f"{where}.description: empty")
    out += [
        f"{where}.endpoints: {ep!r} is neither a URL nor an endpoint object"
        for ep in item.get("endpoints", [])
        if not (isinstance(ep, dict) or (isinstance(ep, str) and ep))
    ]
    return out


def _dates(item: dict[str, Any], where: str) -> list[str]:
    """The parser runs dateutil on ``date`` and ``mitigated``; the model's date fields take ISO dates."""
    out = []
    for key in ("date", "planned_remediation_date", "publish_date"):
        if key in item:
            try:
                date.fromisoformat(item[key])
            except (TypeError, ValueError):
                out.append(f"{where}.{key}: {item[key]!r} is not a date")
    if "mitigated" in item:
        try:
            datetime.fromisoformat(item["mitigated"])
        except (TypeError, ValueError):
            out.append(f"{where}.mitigated: {item['mitigated']!r} is not a date and time")
    return out


def check_generic_findings(doc: Any) -> list[str]:
    """Every problem DefectDojo's generic JSON import would have with ``doc`` (empty: none)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        return ["the document is not an object with a findings list"]
    problems = [f"unknown top-level key {k}" for k in sorted(set(doc) - TOP_LEVEL)]
    for i, item in enumerate(doc["findings"]):
        where = f"findings[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: not an object")
            continue
        problems += [f"{where}: missing {k}" for k in sorted(REQUIRED - set(item))]
        problems += [f"{where}: not allowed {k}" for k in sorted(set(item) - ALLOWED - POPPED)]
        problems += _types(item, where) + _dates(item, where)
    return problems


def test_the_checker_catches_what_the_parser_refuses() -> None:
    """The checks can fail: each broken document is named."""
    good = {"title": "t", "severity": "High", "description": "d"}
    assert check_generic_findings({"findings": [good]}) == []
    bad = [
        ({"severity": "High", "description": "d"}, "missing title"),
        ({**good, "severity": "high"}, "severity"),
        ({**good, "cwe": "79"}, "cwe"),
        ({**good, "active": "true"}, "active"),
        ({**good, "fingerprint": "x"}, "not allowed fingerprint"),
        ({**good, "date": "07/12/2026"}, "date"),
    ]
    for item, message in bad:
        assert any(message in p for p in check_generic_findings({"findings": [item]})), item


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("export")
    db = tmp / "h.sqlite3"
    for day, (project, sarif) in enumerate(SOURCES.items(), start=1):
        out = tmp / f"{project}.json"
        imp = secscan("import", "--tool", "sarif", str(sarif), "-o", str(out), "--root", str(tmp))
        assert imp.returncode == 0, imp.stderr
        added = secscan(
            "history", "add", str(out), "--project", project, "--db", str(db), "--at", f"2026-01-0{day}T00:00:00Z"
        )
        assert added.returncode == 0 and "added as run" in added.stdout, added.stderr
    require_tool("bandit")
    app = tmp / "app"
    app.mkdir()
    (app / "run.py").write_text(RUN_PY)
    scan = secscan("scan", str(app), "--only", "bandit", "--out", str(tmp / "o"), "--no-progress")
    assert scan.returncode in (0, 1), scan.stderr
    added = secscan("history", "add", str(tmp / "o" / "secscan.json"), "--project", "app", "--db", str(db))
    assert added.returncode == 0, added.stderr
    return db


@pytest.mark.parametrize("project", [*SOURCES, "app"])
def test_defectdojo_export_follows_the_generic_parser_and_reimports_deduplicate(
    history: Path, project: str, tmp_path: Path
) -> None:
    out = tmp_path / "dd.json"
    proc = secscan("export", "--format", "defectdojo", "--project", project, "--db", str(history), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert check_generic_findings(doc) == []
    ids = [f["unique_id_from_tool"] for f in doc["findings"]]
    assert ids and len(ids) == len(set(ids)) and all(i.startswith("v1:") for i in ids)
    assert all(f["active"] and not f["is_mitigated"] for f in doc["findings"])
    again = tmp_path / "dd2.json"
    secscan("export", "--format", "defectdojo", "--project", project, "--db", str(history), "-o", str(again))
    assert sorted(f["unique_id_from_tool"] for f in json.loads(again.read_text())["findings"]) == sorted(ids)
    if project == "app":
        (shell,) = [f for f in doc["findings"] if f["vuln_id_from_tool"] == "B602"]
        assert shell["cwe"] == 78 and shell["file_path"] == "run.py" and shell["severity"] == "High"


def test_a_later_run_keeps_the_unique_ids(history: Path, tmp_path: Path) -> None:
    """The next pipeline's scan (the code moved down two lines) stored in the history: the
    re-export names the same findings with the same ids, so DefectDojo updates them."""
    db = tmp_path / "h.sqlite3"
    shutil.copyfile(history, db)  # the module's history stays as the other tests read it

    def export(name: str) -> dict[str, str]:
        out = tmp_path / name
        proc = secscan("export", "--format", "defectdojo", "--project", "app", "--db", str(db), "-o", str(out))
        assert proc.returncode == 0, proc.stderr
        return {f["vuln_id_from_tool"]: f["unique_id_from_tool"] for f in json.loads(out.read_text())["findings"]}

    before = export("dd1.json")
    app = tmp_path / "app"
    app.mkdir()
    (app / "run.py").write_text("# moved\n\n" + RUN_PY)
    scan = secscan("scan", str(app), "--only", "bandit", "--out", str(tmp_path / "o"), "--no-progress")
    assert scan.returncode in (0, 1), scan.stderr
    added = secscan("history", "add", str(tmp_path / "o" / "secscan.json"), "--project", "app", "--db", str(db))
    assert added.returncode == 0 and "added as run" in added.stdout, added.stderr
    assert export("dd2.json") == before and "B602" in before


def test_csv_export_has_a_row_per_finding_and_no_formula_cells(history: Path, tmp_path: Path) -> None:
    out = tmp_path / "f.csv"
    proc = secscan("export", "--format", "csv", "--project", "gitleaks", "--db", str(history), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows and tuple(rows[0]) == CSV_COLUMNS
    dd = tmp_path / "dd.json"
    secscan("export", "--format", "defectdojo", "--project", "gitleaks", "--db", str(history), "-o", str(dd))
    assert {r["fingerprint"] for r in rows} == {
        f["unique_id_from_tool"] for f in json.loads(dd.read_text())["findings"]
    }
    for row in rows:
        assert all(not v.startswith(("=", "+", "-", "@")) for v in row.values()), row


def test_export_refuses_an_unknown_project(history: Path, tmp_path: Path) -> None:
    proc = secscan("export", "--format", "csv", "--project", "nope", "--db", str(history), "-o", str(tmp_path / "x"))
    assert proc.returncode == 2 and "no findings of project 'nope'" in proc.stderr
    bad = secscan("export", "--format", "xml", "--project", "app", "--db", str(history), "-o", str(tmp_path / "x"))
    assert bad.returncode == 2 and "--format" in bad.stderr
