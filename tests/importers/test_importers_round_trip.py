"""Round trips keep identity (issue 30): a report secscan wrote, imported again, gives the same
findings: kinds, fingerprints and statuses.

The example payment app is scanned for real (bandit, semgrep, detect-secrets, pip-audit and the
npm lockfile audit against recorded advisories), every format is written, and each report that
``secscan import`` reads is imported against the same tree.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, require_tool
from tests.support.cli import secscan

pytestmark = [pytest.mark.integration]

EXAMPLE = ROOT / "examples" / "payment-app"
ADVISORIES = ROOT / "tests" / "data" / "npm" / "advisories"


def _identity(doc: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return sorted((f["fingerprint"], f["kind"], f["status"], f["rule_id"]) for f in doc["findings"])


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    require_tool("semgrep")
    require_tool("bandit")
    base = tmp_path_factory.mktemp("round-trip")
    app = base / "payment-app"
    shutil.copytree(EXAMPLE, app)
    out = base / "out"
    run = secscan(
        "scan", app, "--skip", "zap", "--advisory-db", ADVISORIES, "-o", out, "-f", "all", "--no-progress", clean=True
    )
    assert run.code == 1, run.stdout[-3000:] + run.stderr[-2000:]  # the example app is vulnerable on purpose
    doc = json.loads((out / "secscan.json").read_text(encoding="utf-8"))
    return app, out, doc


def test_the_scan_has_every_kind_it_round_trips(scanned: tuple[Path, Path, dict[str, Any]]) -> None:
    _app, _out, doc = scanned
    kinds = {f["kind"] for f in doc["findings"]}
    assert {"sast", "dependency", "secret"} <= kinds
    assert {f["scanner"] for f in doc["findings"] if f["kind"] == "dependency"} >= {"npm-audit"}


def test_sarif_round_trip_keeps_kinds_fingerprints_and_statuses(
    scanned: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    app, out, doc = scanned
    imported = tmp_path / "imported.json"
    run = secscan("import", "--tool", "sarif", out / "secscan.sarif", "--root", app, "-o", imported, clean=True)
    assert run.code in (0, 1), run.stderr
    again = json.loads(imported.read_text(encoding="utf-8"))
    assert _identity(again) == _identity(doc)
    deps = {f["fingerprint"]: f for f in again["findings"] if f["kind"] == "dependency"}
    for f in doc["findings"]:
        if f["kind"] == "dependency":
            got = deps[f["fingerprint"]]["location"]
            assert (got.get("package"), got.get("version"), got.get("path")) == (
                f["location"].get("package"),
                f["location"].get("version"),
                f["location"].get("path"),
            )


def test_gitlab_reports_round_trip_keep_kinds_fingerprints_and_statuses(
    scanned: tuple[Path, Path, dict[str, Any]], tmp_path: Path
) -> None:
    app, out, doc = scanned
    findings: list[dict[str, Any]] = []
    for name in ("sast", "dependency-scanning", "secret-detection"):
        imported = tmp_path / f"{name}.json"
        report = out / f"gl-{name}-report.json"
        run = secscan("import", "--tool", "gitlab", report, "--root", app, "-o", imported, clean=True)
        assert run.code in (0, 1), run.stderr
        findings += json.loads(imported.read_text(encoding="utf-8"))["findings"]
    assert _identity({"findings": findings}) == _identity(doc)
    by_fp = {f["fingerprint"]: f for f in findings}
    for f in doc["findings"]:
        got = by_fp[f["fingerprint"]]
        assert (got["scanner"], got["location"].get("path"), got["location"].get("start_line")) == (
            f["scanner"],
            f["location"].get("path"),
            f["location"].get("start_line"),
        )
