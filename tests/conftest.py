"""Shared test helpers.

A test that needs a real component (semgrep, dockerd, chromium, git...) calls ``require()``:
locally a missing component skips the test; in CI (SECSCAN_REQUIRE_COMPONENTS=1) it fails it,
so a green CI always means the real components ran.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
VENV_BIN = Path(sys.executable).parent

# Shared fixtures from tests/support/ (importable as `tests.support.*`).
pytest_plugins = ["tests.support.gitlab_standin"]


def require(ok: bool, what: str) -> None:
    """Skip (locally) or fail (CI) when a real component is missing."""
    if ok:
        return
    if os.environ.get("SECSCAN_REQUIRE_COMPONENTS", "") not in ("", "0"):
        pytest.fail(f"required component missing: {what}")
    pytest.skip(f"component missing: {what}")


def require_tool(name: str) -> str:
    """Path of an executable in the venv or on PATH, or skip/fail."""
    candidate = VENV_BIN / name
    path = str(candidate) if candidate.exists() else shutil.which(name)
    require(path is not None, f"executable {name!r}")
    assert path is not None
    return path


@pytest.fixture
def data_dir() -> Path:
    return DATA
