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
from typing import Any

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


# xdist groups whose setup takes minutes (secscan's image build; the gitlab-ci-local pipelines):
# handed out first, each to its own worker, so they run beside the rest instead of after it.
FIRST_GROUPS = ("image", "ci-local")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist", None) != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SlowGroupsFirst(LoadGroupScheduling):
        def _assign_work_unit(self, node: Any) -> None:
            # xdist orders the queue by group size; the slow groups are small ones.
            for group in reversed(FIRST_GROUPS):
                if group in self.workqueue:
                    self.workqueue.move_to_end(group, last=False)
            super()._assign_work_unit(node)

    return SlowGroupsFirst(config, log)


@pytest.fixture
def data_dir() -> Path:
    return DATA
