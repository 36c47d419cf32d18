"""Shared test helpers.

A test that needs a real component (semgrep, dockerd, chromium, git...) calls ``require()``:
locally a missing component skips the test; in CI (SECSCAN_REQUIRE_COMPONENTS=1) it fails it,
so a green CI always means the real components ran.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
VENV_BIN = Path(sys.executable).parent

# The per-file result cache of this test run: its own folder (never the user's ~/.cache), shared
# by the scans of the whole session as it would be by a developer's runs. The xdist workers
# inherit the folder the controller made (the cache takes concurrent scans), so content one
# worker scanned is a hit on the other; tests that count hits and misses name their own folder.
# XDG_CACHE_HOME reaches the subprocesses even where a test drops every SECSCAN_* variable.
_SESSION_CACHE = "TESTS_SECSCAN_CACHE_HOME"  # not SECSCAN_*: secscan warns of unknown ones
if not os.environ.get("PYTEST_XDIST_WORKER") or not os.environ.get(_SESSION_CACHE):
    os.environ[_SESSION_CACHE] = tempfile.mkdtemp(prefix="secscan-test-cache-")
os.environ["XDG_CACHE_HOME"] = os.environ[_SESSION_CACHE]
# Likewise the user data folder (the default history database, the advisory database): a test
# that does not name one must never read or write the developer's own (~/.local/share/secscan).
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="secscan-test-data-")

# Shared fixtures from tests/support/ (importable as `tests.support.*`).
pytest_plugins = ["tests.support.gitlab_standin", "tests.support.xdist_groups"]


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
