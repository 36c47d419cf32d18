"""The release: one version everywhere, a wheel that works without the source tree.

The wheel and sdist are built once per session (tests/support/release.py); the fresh virtualenv
installs the wheel with ``pip --no-index`` (its dependencies are already installed next to it,
see ``deps_site``), from a folder that is not the checkout, and scans the example payment app:
the findings must be the demo's (the same scan run by the checkout's own code).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from secscan import __version__
from tests.conftest import ROOT, VENV_BIN, require_tool
from tests.support import release
from tests.support.cli import secscan

CHECK = ROOT / ".ci" / "release_check.py"


def _check(tag: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(CHECK), tag, *extra], capture_output=True, text=True, check=False)


def test_one_version_names_the_release_everywhere() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    assert secscan("--version").stdout.strip().endswith(__version__)
    ok = _check(f"v{__version__}")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == __version__
    # The check bites: another tag is refused, naming what disagrees.
    major, minor, patch = __version__.split(".")
    bad = _check(f"v{major}.{minor}.{int(patch) + 1}")
    assert bad.returncode == 1 and "is not" in bad.stderr
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject and "\nversion =" not in pyproject
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## \[([^\]]+)\]", changelog, re.M)
    assert sections[:2] == ["Unreleased", __version__]  # Keep a Changelog: newest first
    # The README's copy-paste names this release, for the template and the component alike.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## GitLab CI\n", 1)[1].split("\n## ", 1)[0]
    assert f"ref: v{__version__}" in section
    assert f"/secscan/secscan@{__version__}" in section
    assert f"secscan:{__version__}" in section


def test_the_defaults_never_install_an_unpublished_name() -> None:
    template = release.load_ci(ROOT / "templates" / "gitlab" / "secscan.gitlab-ci.yml")
    variables = template["variables"]
    assert variables["SECSCAN_IMAGE"].endswith(f"/secscan:{__version__}")
    assert variables["SECSCAN_PIP_SPEC"] == ""
    assert variables["SECSCAN_PIP_INDEX_URL"].endswith("/packages/pypi/simple")
    install = "\n".join(template[".secscan-base"]["before_script"])
    # The name secscan is looked up in secscan's own registry only, at the pinned version.
    assert '--no-deps --index-url "$SECSCAN_PIP_INDEX_URL"' in install
    assert '"secscan==$SECSCAN_VERSION"' in install
    assert not re.search(r"pip install[^\n]*\bsecscan\b(?!-)", install.replace('"secscan==$SECSCAN_VERSION"', ""))


@pytest.mark.integration
def test_wheel_and_sdist_hold_what_a_user_runs(dist: Path) -> None:
    wheel = dist / f"secscan-{__version__}-py3-none-any.whl"
    sdist = dist / f"secscan-{__version__}.tar.gz"
    names = set(zipfile.ZipFile(wheel).namelist())
    # Rules and templates ship inside the package (secscan.resources finds them there).
    assert "secscan/_data/templates/gitlab/secscan.gitlab-ci.yml" in names
    assert any(n.startswith("secscan/_data/rules/semgrep/") and n.endswith(".yaml") for n in names)
    assert "secscan/schema/__init__.py" in names
    meta = zipfile.ZipFile(wheel).read(f"secscan-{__version__}.dist-info/METADATA").decode()
    assert f"Version: {__version__}" in meta
    assert "Requires-Dist: semgrep==1.182.0" in meta
    entry = zipfile.ZipFile(wheel).read(f"secscan-{__version__}.dist-info/entry_points.txt").decode()
    assert "secscan = secscan.cli:main" in entry
    with tarfile.open(sdist) as tar:
        members = set(tar.getnames())
    top = f"secscan-{__version__}"
    for rel in ("pyproject.toml", "CHANGELOG.md", "Dockerfile", "secscan/__init__.py", "rules", "templates"):
        assert any(m == f"{top}/{rel}" or m.startswith(f"{top}/{rel}/") for m in members), rel


@pytest.mark.integration
def test_a_fresh_virtualenv_runs_the_wheel_and_finds_what_the_demo_finds(
    tmp_path: Path, dist: Path, deps_site: Path
) -> None:
    for tool in ("bandit", "semgrep", "pip-audit", "detect-secrets"):
        require_tool(tool)
    venv_bin = release.fresh_venv(tmp_path / "venv", deps_site)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "PYTHON", "PIP_"))},
        **release.OFFLINE_PIP,
        "SEMGREP_ENABLE_VERSION_CHECK": "0",
        # The scanners' own scripts (bandit, semgrep ...) come from the shared venv; secscan from
        # the fresh one, first on PATH.
        "PATH": os.pathsep.join([str(venv_bin), str(VENV_BIN), os.environ.get("PATH", "")]),
    }
    wheel = dist / f"secscan-{__version__}-py3-none-any.whl"
    pip = subprocess.run(
        [str(venv_bin / "python"), "-m", "pip", "install", str(wheel)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    # No source tree: the example is copied away from the checkout, and the installed package is
    # the wheel's (the checkout is not on the path).
    app = tmp_path / "payment-app"
    shutil.copytree(ROOT / "examples" / "payment-app", app)
    advisories = tmp_path / "advisories"
    shutil.copytree(ROOT / "examples" / "advisories", advisories)
    where = subprocess.run(
        [str(venv_bin / "python"), "-c", "import secscan, sys; print(secscan.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(tmp_path / "venv")), where
    installed = subprocess.run(
        [venv_bin / "secscan", "scan", app, "--advisory-db", advisories, "--out", "out", "--no-progress"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert installed.returncode == 1, installed.stdout[-2000:] + installed.stderr[-2000:]  # the demo's gate fails
    demo = secscan("scan", app, "--advisory-db", advisories, "--out", tmp_path / "demo", "--no-progress", clean=True)
    assert demo.returncode == 1, demo.stderr

    def findings(folder: Path) -> list[tuple[str, str, str, str]]:
        doc = json.loads((folder / "secscan.json").read_text(encoding="utf-8"))
        return sorted((f["fingerprint"], f["rule_id"], f["severity"], f["status"]) for f in doc["findings"])

    from_wheel = findings(tmp_path / "out")
    assert from_wheel == findings(tmp_path / "demo")
    # The demo app's findings cover every kind of scanner: the rules shipped in the wheel loaded.
    rules = {r for _, r, _, _ in from_wheel}
    assert len(from_wheel) >= 20 and any(r.startswith("B") for r in rules) and any("payment" in r for r in rules)
    doc = json.loads((tmp_path / "out" / "secscan.json").read_text(encoding="utf-8"))
    assert doc["tool"] == {"name": "secscan", "version": __version__}
