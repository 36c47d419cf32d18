"""npm-audit end to end through the CLI: real lockfiles, real advisories, every report format;
fail closed on an unreadable lockfile, a non-registry dependency and a missing database."""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path

import jsonschema  # type: ignore[import-untyped]
import pytest

from secscan.models import Kind, ScannerState
from secscan.resultio import load
from tests.conftest import ROOT
from tests.support.cli import secscan as _secscan

# Without the CI job's variables (a merge request pipeline running these tests sets a diff base).
secscan = functools.partial(_secscan, clean=True)

NPM_DATA = ROOT / "tests" / "data" / "npm"
LOCKS = NPM_DATA / "lockfiles"
ADVISORIES = NPM_DATA / "advisories"
SCHEMAS = ROOT / "tests" / "data" / "reporters" / "schemas"


def project(tmp_path: Path, *fixtures: str) -> Path:
    root = tmp_path / "project"
    for name in fixtures:
        shutil.copytree(LOCKS / name, root / "services" / name)
    # node_modules is never read (an installed tree is not the lockfile).
    (root / "services" / fixtures[0] / "node_modules" / "x").mkdir(parents=True)
    (root / "services" / fixtures[0] / "node_modules" / "x" / "package-lock.json").write_text("{not json")
    return root


def test_scan_reports_lockfile_findings_in_every_format(tmp_path: Path) -> None:
    root = project(tmp_path, "npm-v3-workspaces", "yarn-berry-v6-goof", "pnpm-v9-goof")
    out = tmp_path / "out"
    proc = secscan(
        "scan", str(root), "--only", "npm-audit", "--advisory-db", str(ADVISORIES), "--out", str(out),
        "--no-progress", "-f", "all",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr  # new high findings block
    assert "Traceback" not in proc.stderr
    result = load(out / "secscan.json")
    (status,) = result.scanners
    assert (status.name, status.state) == ("npm-audit", ScannerState.OK)
    assert result.advisory_db is None or result.advisory_db.startswith("sha256:")
    deps = [f for f in result.findings if f.kind is Kind.DEPENDENCY]
    manifests = {f.location.path for f in deps} | {o.path for f in deps for o in f.other_locations}
    assert manifests == {
        "services/npm-v3-workspaces/package-lock.json",
        "services/yarn-berry-v6-goof/yarn.lock",
        "services/pnpm-v9-goof/pnpm-lock.yaml",
    }
    ip = next(f for f in deps if f.rule_id == "GHSA-2p57-rm9w-gvfp")
    assert (ip.location.package, ip.location.version, ip.severity.value) == ("ip", "2.0.0", "high")
    assert ip.fixed_versions == ("2.0.1",)
    assert all(f.fingerprint.startswith("v1:") for f in deps)
    assert len({f.fingerprint for f in deps}) == len(deps)
    assert any("PCI-DSS-4.0:6.3.3" in f.compliance for f in deps)

    gl = json.loads((out / "gl-dependency-scanning-report.json").read_text())
    schema = json.loads((SCHEMAS / "dependency-scanning-report-format.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(gl)
    assert gl["scan"]["analyzer"]["id"] == "npm-audit" or gl["scan"]["scanner"]["id"] == "npm-audit"
    locations = {(v["location"]["file"], v["location"]["dependency"]["package"]["name"]) for v in gl["vulnerabilities"]}
    assert ("services/yarn-berry-v6-goof/yarn.lock", "ip") in locations
    sarif = json.loads((out / "secscan.sarif").read_text())
    (run,) = sarif["runs"]
    assert run["tool"]["driver"]["name"] == "npm-audit"
    assert {r["ruleId"] for r in run["results"]} >= {"GHSA-2p57-rm9w-gvfp", "GHSA-rv95-896h-c2vc"}

    # Fingerprints do not depend on where the tree is.
    moved = tmp_path / "elsewhere"
    shutil.copytree(root, moved)
    secscan("scan", str(moved), "--only", "npm-audit", "--advisory-db", str(ADVISORIES),
                    "--out", str(tmp_path / "out2"), "--no-progress")  # fmt: skip
    assert {f.fingerprint for f in load(tmp_path / "out2" / "secscan.json").findings} == {f.fingerprint for f in deps}


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("package-lock.json", '{"lockfileVersion": 2, "packages": ', "not valid JSON"),
        ("package-lock.json", '{"lockfileVersion": 7}', "unsupported lockfileVersion"),
        ("pnpm-lock.yaml", "lockfileVersion: '9.0'\npackages:\n  - [unbalanced\n", "not valid YAML"),
        ("pnpm-lock.yaml", "packages: {}\n", "no lockfileVersion"),
        ("yarn.lock", "__metadata:\n  version: 8\nfoo@npm:1.0.0:\n  version: 1.0.0\n", "no resolution"),
    ],
)
def test_unreadable_lockfile_fails_the_scanner_with_one_line(tmp_path: Path, name: str, content: str, why: str) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / name).write_text(content)
    proc = secscan("scan", str(root), "--only", "npm-audit", "--advisory-db", str(ADVISORIES),
                   "--out", str(tmp_path / "out"), "--no-progress")  # fmt: skip
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    (status,) = load(tmp_path / "out" / "secscan.json").scanners
    assert status.state is ScannerState.FAILED
    assert status.error and name in status.error and why in status.error and "\n" not in status.error


def test_git_dependency_is_not_audited_and_fails_closed(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    doc = {
        "lockfileVersion": 1,
        "dependencies": {
            "ms": {"version": "0.7.1"},
            "left-pad": {"version": "git+https://example.invalid/left-pad.git#0123abc"},
        },
    }
    (root / "package-lock.json").write_text(json.dumps(doc))
    proc = secscan("scan", str(root), "--only", "npm-audit", "--advisory-db", str(ADVISORIES),
                   "--out", str(tmp_path / "out"), "--no-progress")  # fmt: skip
    assert proc.returncode == 3, proc.stdout + proc.stderr
    (status,) = load(tmp_path / "out" / "secscan.json").scanners
    assert status.state is ScannerState.FAILED and "NOT audited" in (status.error or "")
    assert status.not_audited and "left-pad" in status.not_audited[0]


def test_lockfile_without_advisory_database_fails_and_without_lockfile_skips(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(LOCKS / "npm-v2-one-dep", root)
    proc = secscan("scan", str(root), "--only", "npm-audit", "--out", str(tmp_path / "o1"), "--no-progress")
    assert proc.returncode == 3
    (status,) = load(tmp_path / "o1" / "secscan.json").scanners
    assert status.state is ScannerState.FAILED and "--advisory-db" in (status.error or "")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "app.js").write_text("module.exports = 1;\n")
    proc = secscan("scan", str(empty), "--only", "npm-audit", "--out", str(tmp_path / "o2"), "--no-progress")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (status,) = load(tmp_path / "o2" / "secscan.json").scanners
    assert status.state is ScannerState.SKIPPED


def test_changed_only_runs_the_audit_only_when_a_lockfile_or_manifest_changed(tmp_path: Path) -> None:
    git = shutil.which("git")
    assert git is not None
    root = tmp_path / "repo"
    shutil.copytree(LOCKS / "npm-v3-workspaces", root)

    def run(*args: str) -> None:
        subprocess.run([git, "-C", str(root), *args], check=True, capture_output=True)

    run("init", "-q", "-b", "main")
    run("-c", "user.email=t@example.com", "-c", "user.name=t", "add", ".")
    run("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-qm", "base")
    (root / "index.js").write_text("console.log('hi');\n")

    def scan(out: str) -> ScannerState:
        proc = secscan("scan", str(root), "--only", "npm-audit", "--advisory-db", str(ADVISORIES), "--changed-only",
                       "--diff-base", "main", "--out", str(tmp_path / out), "--no-progress")  # fmt: skip
        assert "Traceback" not in proc.stderr
        (status,) = load(tmp_path / out / "secscan.json").scanners
        return status.state

    assert scan("o1") is ScannerState.SKIPPED
    lock = json.loads((root / "package-lock.json").read_text())
    lock["packages"]["node_modules/ms"] = {"version": "0.6.2"}
    (root / "package-lock.json").write_text(json.dumps(lock))
    assert scan("o2") is ScannerState.OK


def test_a_symlinked_lockfile_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    outside.write_text('{"lockfileVersion": 3, "packages": {}}')
    root = tmp_path / "p"
    root.mkdir()
    (root / "package-lock.json").symlink_to(outside)
    proc = secscan("scan", str(root), "--only", "npm-audit", "--advisory-db", str(ADVISORIES),
                   "--out", str(tmp_path / "out"), "--no-progress")  # fmt: skip
    assert proc.returncode == 3, proc.stdout + proc.stderr
    (status,) = load(tmp_path / "out" / "secscan.json").scanners
    assert "symbolic link" in (status.error or "")


def _lock(**versions: str) -> str:
    packages: dict[str, object] = {"": {"name": "app", "version": "1.0.0"}}
    for name, version in versions.items():
        packages[f"node_modules/{name}"] = {
            "version": version,
            "resolved": f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz",
            "integrity": "sha512-" + "A" * 86 + "==",
        }
    return json.dumps({"name": "app", "lockfileVersion": 3, "requires": True, "packages": packages}, indent=2) + "\n"


def test_diff_aware_status_follows_the_changed_lockfile_lines(tmp_path: Path) -> None:
    git = shutil.which("git")
    assert git is not None
    root = tmp_path / "repo"
    root.mkdir()
    ident = ("-c", "user.email=t@example.com", "-c", "user.name=t")

    def run(*args: str) -> None:
        subprocess.run([git, "-C", str(root), *ident, *args], check=True, capture_output=True)

    run("init", "-q", "-b", "main")
    (root / "package-lock.json").write_text(_lock(ms="0.7.1", qs="1.2.2"))
    run("add", ".")
    run("commit", "-qm", "base: qs 1.2.2 is already vulnerable")
    # The merge request downgrades ms to a vulnerable version; qs is untouched.
    (root / "package-lock.json").write_text(_lock(ms="0.6.2", qs="1.2.2"))
    proc = secscan("scan", str(root), "--only", "npm-audit", "--advisory-db", str(ADVISORIES),
                   "--diff-base", "main", "--out", str(tmp_path / "out"), "--no-progress")  # fmt: skip
    result = load(tmp_path / "out" / "secscan.json")
    status = {(f.location.package, f.rule_id): f.status.value for f in result.findings}
    assert status[("ms", "GHSA-3fx5-fwvr-xrjg")] == "new"
    assert status[("qs", "GHSA-hrpp-h998-j3pp")] == "existing"
    assert proc.returncode == 1, proc.stdout + proc.stderr  # the new high finding blocks


@pytest.mark.parametrize(
    ("line", "name", "version", "pins"),
    [
        ('  "resolved": "https://registry.npmjs.org/express/-/express-4.18.0.tgz",', "express", "4.18.0", True),
        ('  resolved "https://registry.yarnpkg.com/express/-/express-4.18.0.tgz#0a1b"', "express", "4.18.0", True),
        ('  resolution: "express@npm:4.18.0"', "express", "4.18.0", True),
        ("  /express/4.18.0:", "express", "4.18.0", True),
        ("  /express@4.18.0(supports-color@1.3.1):", "express", "4.18.0", True),
        ("  '@babel/traverse@7.23.0':", "@babel/traverse", "7.23.0", True),
        (
            '  "resolved": "https://registry.npmjs.org/@babel/traverse/-/traverse-7.23.0.tgz",',
            "@babel/traverse",
            "7.23.0",
            True,
        ),
        ('  "version": "4.18.0",', "express", "4.18.0", False),
        ('  "resolved": "https://registry.npmjs.org/express/-/express-14.18.0.tgz",', "express", "4.18.0", False),
        ("  express@4.18.0-beta.1:", "express", "4.18.0", False),
        (
            '  "resolved": "https://registry.npmjs.org/express-session/-/express-session-4.18.0.tgz",',
            "express",
            "4.18.0",
            False,
        ),
    ],
)
def test_which_lockfile_lines_pin_a_version(line: str, name: str, version: str, pins: bool) -> None:
    from secscan.scanners.npm_lockfiles import line_pins

    assert line_pins(line, name, version) is pins
