"""`secscan report` end to end, as a user runs it (a real subprocess, real files)."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from tests.support.cli import secscan

_secscan = functools.partial(secscan, "report")

DATA = Path(__file__).resolve().parent.parent / "data" / "reporters"
RESULT = DATA / "result.json"


def test_all_formats_into_a_directory(tmp_path: Path) -> None:
    out = tmp_path / "reports"
    p = _secscan(str(RESULT), "--format", "all", "--out-dir", str(out), cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    names = sorted(x.name for x in out.iterdir())
    assert "gl-sast-report.json" in names and "secscan-report.html" in names and "secscan.sarif" in names
    assert not [n for n in names if n.endswith(".tmp")]  # atomic writes leave no temp files
    assert (out / "secscan-summary.md").read_text(encoding="utf-8") == (
        DATA / "golden" / "secscan-summary.md"
    ).read_text(encoding="utf-8")


def test_single_format_to_stdout_and_file(tmp_path: Path) -> None:
    p = _secscan(str(RESULT), "-f", "codequality", "-o", "-", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)[0]["check_name"] == "rules.semgrep.payment-sql-string-concat"
    target = tmp_path / "cq" / "quality.json"
    p = _secscan(str(RESULT), "-f", "codequality", "-o", str(target), cwd=tmp_path)
    assert p.returncode == 0 and json.loads(target.read_text(encoding="utf-8"))


def test_repeatable_format(tmp_path: Path) -> None:
    p = _secscan(str(RESULT), "-f", "junit", "--format", "sarif", cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "secscan-junit.xml").exists() and (tmp_path / "secscan.sarif").exists()


def test_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    cases = [
        ((str(RESULT), "-f", "pdf"), "unknown report format 'pdf'"),
        ((str(tmp_path / "missing.json"), "-f", "sarif"), "cannot read"),
        ((str(bad), "-f", "sarif"), "not valid JSON"),
        ((str(RESULT), "-f", "sarif", "-f", "html", "-o", "x"), "-o/--out takes one format"),
    ]
    for args, message in cases:
        p = _secscan(*args, cwd=tmp_path)
        assert p.returncode == 2, (args, p.stderr)
        assert message in p.stderr and "Traceback" not in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
