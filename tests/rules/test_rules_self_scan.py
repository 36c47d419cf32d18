"""secscan scans its own repository with its own pipeline's settings and passes (issue 30).

The settings are the pipeline's (``.gitlab-ci.yml``): the default policy, every scanner its
template runs (bandit, semgrep with all of secscan's builtin rules, pip-audit, npm-audit,
detect-secrets, the tree checks; ZAP only runs against a deployment) and ``SECSCAN_EXCLUDE``
(the example app, test samples, rule test files and benchmarks are vulnerable on purpose).
Nothing is suppressed. The one difference: the pipeline's pip-audit asks the OSV service, which
this machine cannot reach, so here it reads the recorded advisories the project ships
(``--advisory-db examples/advisories``, secscan's offline mode).

One scan (minutes: every builtin semgrep rule over secscan's code), shared by the assertions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT, require_tool
from tests.support.cli import Run, secscan

# One worker for the module: under xdist each worker builds a module fixture of its own, and
# self_scan is a real scan.
pytestmark = pytest.mark.xdist_group("rules-self-scan")

PIPELINE_SCANNERS = ("bandit", "semgrep", "pip-audit", "detect-secrets", "tree")
"""The template's scanner jobs that have something to scan here (no npm lockfile: npm-audit is
skipped, as in the pipeline)."""


def _pipeline_excludes() -> str:
    doc = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    value = doc["variables"]["SECSCAN_EXCLUDE"]
    assert isinstance(value, str) and value
    return value


def _checkout(dest: Path) -> Path:
    """The repository as its pipeline's checkout holds it: the tracked files, as the work tree
    has them, in a git repository. Not the folder the suite runs in, which also holds the
    virtualenv, .tools' node_modules and the linters' caches (no pipeline scans those)."""
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout
    for raw in listed.split(b"\0"):
        rel = raw.decode("utf-8")
        src = ROOT / rel
        if not rel or not (src.exists() or src.is_symlink()):
            continue  # deleted in the work tree
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel, follow_symlinks=False)
    git = ["git", "-C", str(dest), "-c", "user.email=ci@example.com", "-c", "user.name=ci"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "checkout"], check=True)
    return dest


@pytest.fixture(scope="module")
def self_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, dict[str, Any]]:
    for tool in ("bandit", "semgrep", "pip-audit", "detect-secrets"):
        require_tool(tool)
    tree = _checkout(tmp_path_factory.mktemp("self-checkout"))
    out = tmp_path_factory.mktemp("self-scan") / "out"
    run = secscan(
        "scan", tree, "-o", out, "--no-progress", "--advisory-db", ROOT / "examples" / "advisories",
        clean=True, env={"SECSCAN_EXCLUDE": _pipeline_excludes()},
    )  # fmt: skip
    return run, json.loads((out / "secscan.json").read_text(encoding="utf-8"))


@pytest.mark.integration
def test_secscan_passes_its_own_gate_with_the_pipelines_settings(self_scan: tuple[Run, dict[str, Any]]) -> None:
    run, doc = self_scan
    states = {s["name"]: s["state"] for s in doc["scanners"]}
    assert {name: states.get(name) for name in PIPELINE_SCANNERS} == dict.fromkeys(PIPELINE_SCANNERS, "ok"), states
    assert states.get("npm-audit") == "skipped"
    assert doc["verdict"]["passed"] and run.code == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # The default policy and secscan's builtin rules, nothing suppressed.
    assert doc["judged_with"]["policy"]["name"] == "default"
    assert not [f for f in doc["findings"] if f["status"] == "suppressed"]
    # Only the builtin rules (no rule setting from any layer), which semgrep gets as one bundle.
    assert not {"semgrep_builtin_rules", "semgrep_rules"} & {s["key"] for s in doc["judged_with"]["settings_origin"]}
    command = next(s for s in doc["scanners"] if s["name"] == "semgrep")["command"]
    configs = [command[i + 1] for i, arg in enumerate(command) if arg == "--config"]
    assert len(configs) == 1 and configs[0].endswith("semgrep-rules/0.json"), command


@pytest.mark.integration
def test_the_false_positives_seen_on_secscans_code_stay_gone(self_scan: tuple[Run, dict[str, Any]]) -> None:
    """The payment SQL rule on ``IN ({marks})`` placeholders, B324 on SHA-1 lookup keys: what the
    issue saw block secscan's own gate. Something was scanned: bandit's low findings are there."""
    _, doc = self_scan
    rules = {f["rule_id"] for f in doc["findings"]}
    assert "payment.sql-built-by-string-formatting" not in rules
    assert not [f for f in doc["findings"] if f["rule_id"] == "B324" and f["severity"] in ("high", "critical")]
    assert any(f["scanner"] == "bandit" for f in doc["findings"])


@pytest.mark.integration
def test_every_dependency_is_audited_through_the_lock(self_scan: tuple[Run, dict[str, Any]]) -> None:
    _, doc = self_scan
    audit = next(s for s in doc["scanners"] if s["name"] == "pip-audit")
    assert not audit.get("not_audited"), audit.get("not_audited")


def test_the_lock_pins_every_declared_dependency_within_its_range() -> None:
    """requirements-lock.txt is what the pipeline audits for pyproject.toml's ranges: a dependency
    added without a pin would be "NOT audited" and fail secscan's own gate (fail closed)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = [*project["dependencies"], *(r for group in project["optional-dependencies"].values() for r in group)]
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements-lock.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = version
    for text in declared:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is not pinned in requirements-lock.txt (python -m tests.support.lockfile)"
        assert req.specifier.contains(pins[name], prereleases=True), (text, pins[name])


def test_the_lock_is_a_requirements_file_the_audit_reads() -> None:
    from secscan.scanners import pip_audit

    assert pip_audit.is_requirements_file("requirements-lock.txt")
    assert Path(ROOT / "requirements-lock.txt").is_file()
