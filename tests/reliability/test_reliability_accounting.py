"""Every file accounted for, with the real scanners (issue reliability, first bullet; trust-2, class 3).

A file written in syntax newer than the runner's Python (3.12's ``type`` statement on 3.11)
holding ``shell=True`` and ``eval``: bandit cannot parse it, so its findings are lost. That must
make the scan incomplete, naming the file (exit 3), not a clean pass; its control, the same code
without the new syntax, fails the gate on the findings (exit 1).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.support.mergerequest import Scan, make_mr, scan_mr

# One worker for the module: under xdist each worker builds a module fixture of its own, and
# pep_695_scan is a real scan.
pytestmark = pytest.mark.xdist_group("reliability-accounting")

BODY = "import subprocess\n\n\ndef run(cmd, expr):\n    subprocess.call(cmd, shell=True)\n    return eval(expr)\n"
NEW_SYNTAX = "type Command = str\n\n"
SQL = "def find(cur, payment_id):\n    return cur.execute(\"SELECT * FROM payments WHERE id = '%s'\" % payment_id)\n"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the runner's Python parses 3.12 syntax")
def test_a_file_bandit_cannot_parse_is_named_and_fails_closed(tmp_path: Path) -> None:
    repo, base = make_mr(tmp_path, {"app.py": "x = 1\n"}, {"payments/new.py": NEW_SYNTAX + BODY})
    run = scan_mr(repo, base, "bandit")
    status = run.status("bandit")
    assert run.code == 3, run.result["verdict"]
    assert any(entry.startswith("payments/new.py") for entry in status["incomplete_files"]), status
    assert "payments/new.py" in status["error"]


def test_the_control_with_parseable_syntax_fails_on_its_findings(tmp_path: Path) -> None:
    repo, base = make_mr(tmp_path, {"app.py": "x = 1\n"}, {"payments/new.py": BODY})
    run = scan_mr(repo, base, "bandit")
    assert run.status("bandit")["state"] == "ok"
    assert {"B602", "B307"} <= run.new_rules()
    assert run.code == 1


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="the runner's Python parses 3.12 syntax")
def test_semgrep_on_the_same_file_finds_it_or_names_it(tmp_path: Path) -> None:
    repo, base = make_mr(tmp_path, {"app.py": "x = 1\n"}, {"payments/new.py": NEW_SYNTAX + SQL})
    run = scan_mr(repo, base, "semgrep")
    status = run.status("semgrep")
    named = any(entry.startswith("payments/new.py") for entry in status.get("incomplete_files", []))
    found = any(f["location"].get("path") == "payments/new.py" for f in run.result["findings"])
    # Never a silent pass: semgrep parses the file (findings) or says it could not (named).
    assert named or found, status
    assert run.code != 0


PEP_695 = {
    "alias": "type Command = str\n\n",
    "class": "class Box[T]:\n    pass\n\n",
    "function": "def first[T](items: list[T]) -> T:\n    return items[0]\n\n",
}


@pytest.fixture(scope="module")
def pep_695_scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    """One semgrep scan of a merge request holding each PEP 695 form in a file of its own, and the
    control: semgrep judges each file on its own, so one run answers for every form."""
    head = {f"payments/new_{name}.py": syntax + SQL for name, syntax in PEP_695.items()}
    repo, base = make_mr(tmp_path_factory.mktemp("pep695"), {"app.py": "x = 1\n"}, {**head, "payments/control.py": SQL})
    return scan_mr(repo, base, "semgrep")


@pytest.mark.parametrize("form", sorted(PEP_695))
def test_semgrep_does_not_pass_a_file_it_reads_without_matching(form: str, pep_695_scan: Scan) -> None:
    # semgrep 1.182 reports a file with PEP 695 syntax as scanned, with no error, and matches
    # none of its rules anywhere in it (the SQL rule below finds the control's line).
    run = pep_695_scan
    status = run.status("semgrep")
    assert [e for e in status.get("incomplete_files", []) if e.startswith(f"payments/new_{form}.py")], status
    assert not [e for e in status.get("incomplete_files", []) if e.startswith("payments/control.py")]
    assert any(f["location"].get("path") == "payments/control.py" for f in run.result["findings"])
    assert run.code in (1, 3)
