"""Session-wide release artifacts: the wheel and sdist built once from the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import release


@pytest.fixture(scope="session")
def release_shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return release.shared_dir(tmp_path_factory)


@pytest.fixture(scope="session")
def dist(release_shared: Path) -> Path:
    return release.build_dist(release_shared)


@pytest.fixture(scope="session")
def deps_site(release_shared: Path) -> Path:
    return release.deps_site(release_shared)
