"""Layers with arrows one way (issue core-3): the import-linter contract (.importlinter) holds,
and `secscan scan --only bandit` loads no module of a backend it does not use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_tool
from tests.support.cli import shell_env

UNUSED_BY_BANDIT = ("secscan.zap", "secscan.gitlab", "secscan.advisories", "secscan.aggregate")

# Runs the real entry point in a fresh interpreter and prints the secscan modules it loaded.
PROBE = """
import json, sys
from secscan.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.__stdout__.write("\\nMODULES " + json.dumps(sorted(m for m in sys.modules if m.startswith("secscan"))))
"""


def _loaded(*argv: str, cwd: Path) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=cwd,
        env=shell_env(clean=True, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES "))
    return list(json.loads(line.removeprefix("MODULES ")))


def _backends(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(UNUSED_BY_BANDIT)]


def test_the_layers_contract_holds() -> None:
    # import-linter comes with the dev extra (pyproject.toml); `make lint` runs it too.
    pytest.importorskip("importlinter")
    proc = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0 and "1 kept, 0 broken" in proc.stdout, proc.stdout[-4000:]


def test_scan_help_loads_no_backend(tmp_path: Path) -> None:
    assert _backends(_loaded("scan", "--only", "bandit", "--help", cwd=tmp_path)) == []


def test_a_bandit_scan_loads_no_backend(tmp_path: Path) -> None:
    require_tool("bandit")
    (tmp_path / "app.py").write_text("import os\n")
    argv = ("scan", ".", "--only", "bandit", "--no-progress", "--no-cache", "-o", "out")
    assert _backends(_loaded(*argv, cwd=tmp_path)) == []


def test_the_registry_names_its_scanners_without_importing_them() -> None:
    from secscan.scanners import registry

    # The names the registry lists before loading anything are the loaded classes' own names.
    assert registry.names()[: len(registry._BUILTIN)] == tuple(registry._BUILTIN)
    assert [c.name for c in registry.all_scanners()][: len(registry._BUILTIN)] == list(registry._BUILTIN)
