"""npm without a lockfile (issue 28): a package.json alone is audited for its exact pins, and its
ranges are listed as not audited (the scanner fails closed, as pip-audit does for Python ranges),
never "skipped"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from secscan.models import ScannerState
from secscan.resultio import load
from secscan.scanners.npm_lockfiles import LockfileError, parse_manifest_pins
from tests.conftest import ROOT

ADVISORIES = ROOT / "tests" / "data" / "npm" / "advisories"


def test_exact_pins_are_packages_and_ranges_are_not_audited() -> None:
    doc = {
        "dependencies": {
            "express": "4.17.1",
            "lodash": "=4.17.20",
            "left-pad": "^1.3.0",
            "mine": "git+https://x/y.git",
        },
        "devDependencies": {"mocha": "v10.2.0", "eslint": "*"},
        "optionalDependencies": {"fsevents": "npm:fsevents@2.3.2"},
    }
    pins = parse_manifest_pins("package.json", json.dumps(doc))
    got = {(p.name, p.version, p.dev) for p in pins.packages}
    assert got == {
        ("express", "4.17.1", False),
        ("lodash", "4.17.20", False),
        ("mocha", "10.2.0", True),
        ("fsevents", "2.3.2", False),
    }
    assert len(pins.not_audited) == 3
    assert all("NOT audited" in d for d in pins.not_audited)
    assert any(d.startswith("left-pad@^1.3.0 (dependencies)") for d in pins.not_audited)


def test_a_manifest_that_is_not_an_object_is_an_error() -> None:
    with pytest.raises(LockfileError):
        parse_manifest_pins("package.json", "[1, 2]")


def _scan(root: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI_MERGE_REQUEST_DIFF_BASE_SHA"}
    argv = [sys.executable, "-m", "secscan", "scan", str(root), "--only", "npm-audit", "--advisory-db", str(ADVISORIES),
            "--out", str(out), "--no-progress"]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)


def test_package_json_alone_is_audited_and_ranges_fail_closed(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "package.json").write_text(
        json.dumps({"name": "app", "dependencies": {"express": "4.17.1", "lodash": "^4.17.0"}}), encoding="utf-8"
    )
    # an installed package's manifest is not the project's
    (root / "node_modules" / "lodash").mkdir(parents=True)
    (root / "node_modules" / "lodash" / "package.json").write_text('{"dependencies": {"x": "^1"}}')
    proc = _scan(root, tmp_path / "out")
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 3, proc.stdout + proc.stderr  # a range was not audited: fail closed
    result = load(tmp_path / "out" / "secscan.json")
    (status,) = result.scanners
    assert status.state is ScannerState.FAILED
    assert status.not_audited == ("package.json: lodash@^4.17.0 (dependencies): a range, not one version, "
                                  "and no lockfile pins it: NOT audited",)  # fmt: skip
    pinned = {(f.location.package, f.location.version) for f in result.findings}
    assert pinned == {("express", "4.17.1")}
    assert any(f.rule_id == "GHSA-rv95-896h-c2vc" for f in result.findings)  # express open redirect


def test_all_pins_exact_passes_the_audit_state(tmp_path: Path) -> None:
    root = tmp_path / "app"
    root.mkdir()
    (root / "package.json").write_text(json.dumps({"dependencies": {"express": "4.19.2"}}), encoding="utf-8")
    _scan(root, tmp_path / "out")
    (status,) = load(tmp_path / "out" / "secscan.json").scanners
    assert status.state is ScannerState.OK and status.not_audited == ()


def test_a_locked_folder_is_audited_from_its_lockfile_only(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "svc").mkdir(parents=True)
    (root / "svc" / "package.json").write_text(json.dumps({"dependencies": {"express": "^4.0.0"}}))
    lock = {"lockfileVersion": 3, "packages": {"": {"dependencies": {"express": "^4.0.0"}},
            "node_modules/express": {"version": "4.19.2"}}}  # fmt: skip
    (root / "svc" / "package-lock.json").write_text(json.dumps(lock))
    _scan(root, tmp_path / "out")
    (status,) = load(tmp_path / "out" / "secscan.json").scanners
    assert status.state is ScannerState.OK and status.not_audited == ()


def test_workspace_members_are_covered_by_the_root_lockfile(tmp_path: Path) -> None:
    root = tmp_path / "app"
    (root / "packages" / "web").mkdir(parents=True)
    (root / "package.json").write_text(json.dumps({"workspaces": ["packages/*"]}))
    (root / "packages" / "web" / "package.json").write_text(json.dumps({"dependencies": {"express": "^4.0.0"}}))
    lock = {"lockfileVersion": 3, "packages": {"": {}, "node_modules/express": {"version": "4.19.2"}}}
    (root / "package-lock.json").write_text(json.dumps(lock))
    _scan(root, tmp_path / "out")
    (status,) = load(tmp_path / "out" / "secscan.json").scanners
    assert status.state is ScannerState.OK and status.not_audited == ()
