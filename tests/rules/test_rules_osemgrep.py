"""secscan runs semgrep with ``--experimental``: semgrep's OCaml front end (osemgrep) runs the scan
instead of handing it to the Python one (pysemgrep), which costs about 2.5 CPU-s of start-up on every
run. The engine is the same; this holds the two front ends to the same report, with secscan's own
options, on the example app plus the cases secscan relies on: a planted ``.semgrepignore`` and
``# nosemgrep`` (both ignored), a file that does not parse (both recover and scan it), a file over
``--max-target-bytes`` (left out, not scanned) and test folders (scanned)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from secscan.scanners import semgrep
from tests.conftest import ROOT, require_tool
from tests.support.cli import shell_env

pytestmark = [pytest.mark.integration]


def _tree(root: Path) -> Path:
    app = root / "app"
    shutil.copytree(ROOT / "examples" / "payment-app", app)
    (app / ".semgrepignore").write_text("*\n", encoding="utf-8")
    (app / "tests").mkdir()
    (app / "tests" / "test_pan.py").write_text('PAN = "4111111111111111"\n', encoding="utf-8")
    (app / "payments" / "muted.py").write_text('PAN = "4111111111111111"  # nosemgrep\n', encoding="utf-8")
    (app / "payments" / "broken.py").write_text("def refund(:\n    pass\n", encoding="utf-8")
    (app / "payments" / "huge.py").write_text('PAN = "4111111111111111"\n' + "x = 1\n" * 20_000, encoding="utf-8")
    return app


def _report(front_end: tuple[str, ...], rules: Path, app: Path, work: Path) -> dict[str, Any]:
    exe = require_tool("semgrep")
    out = work / "out.json"
    argv = [exe, "scan", *front_end, "--json", "--metrics=off", "--disable-version-check", "--disable-nosem",
            "--quiet", "--no-git-ignore", "--timeout", str(semgrep.TIMEOUT_S), "--jobs", "2",
            "--max-target-bytes", "100000", "--config", str(rules), "--x-ignore-semgrepignore-files",
            "--", str(app)]  # fmt: skip
    if not front_end:
        argv[2:2] = ["--output", str(out)]  # pysemgrep writes the file; osemgrep prints
    proc = subprocess.run(argv, cwd=work, env=shell_env(), capture_output=True, text=True, check=False)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return json.loads(out.read_text(encoding="utf-8") if not front_end else proc.stdout)


def _error_type(error: dict[str, Any]) -> str:
    kind = error.get("type")
    return str(kind[0] if isinstance(kind, list) and kind else kind)


def _essence(doc: dict[str, Any], app: Path) -> dict[str, Any]:
    def rel(p: str) -> str:
        return str(Path(p).relative_to(app))

    return {
        "results": sorted(
            (r["check_id"], rel(r["path"]), r["start"]["line"], r["end"]["line"], r["extra"]["message"])
            for r in doc["results"]
        ),
        "errors": sorted((_error_type(e), rel(e["path"]) if e.get("path") else "") for e in doc["errors"]),
        "scanned": sorted(rel(p) for p in doc["paths"]["scanned"]),
    }


def test_both_front_ends_give_the_same_report(tmp_path: Path) -> None:
    app = _tree(tmp_path)
    work = tmp_path / "work"
    (work / "rules").mkdir(parents=True)
    rules = work / "rules" / "0.json"
    bundle = semgrep.bundled_rules(str(ROOT / "rules" / "semgrep"))
    rules.write_text(json.dumps({"rules": bundle}), encoding="utf-8")
    python_side = _essence(_report((), rules, app, work), app)
    ocaml_side = _essence(_report(("--experimental",), rules, app, work), app)
    assert ocaml_side == python_side
    # Not vacuous: what the cases are there for shows in the report.
    found = {(rid.rsplit(".", 1)[-1], path) for rid, path, *_ in ocaml_side["results"]}
    assert ("test-card-number-outside-tests", "payments/muted.py") in found  # nosemgrep and .semgrepignore ignored
    assert "tests/test_pan.py" in ocaml_side["scanned"]
    assert "payments/huge.py" not in ocaml_side["scanned"]
