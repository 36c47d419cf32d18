"""The release artifacts, built once per test session from the checkout, and environments that
install them with nothing but local files.

* :func:`build_dist` — ``python -m build --no-isolation`` (sdist, then the wheel *from the sdist*,
  as the release job does): a file the sdist forgets is missing from the wheel too.
* :func:`deps_site` — the shared virtualenv's installed distributions *except secscan* (its
  editable install points at a source tree), as one folder of links. A fresh virtualenv with
  this folder on its path has every dependency installed, so ``pip install --no-index`` of the
  wheel installs exactly one thing: the wheel (pip checks the requirements against it).
* :func:`fresh_venv` — such a virtualenv (pip, too, comes from that folder).

The session-wide copies live in one folder per session (``tmp_path_factory``), shared by the
xdist workers through a lock file, so the wheel is built once however the tests are spread.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from secscan import __version__
from tests.conftest import ROOT

SITE = Path(next(p for p in sys.path if p.endswith("site-packages")))
# What makes secscan importable from the shared virtualenv: never visible to an installed wheel.
_OURS = ("secscan", "_editable_impl_secscan", "__editable__", "_secscan")
# pip's configuration of this machine (its find-links and extra indexes) stays out: only the
# files a test names are installable.
OFFLINE_PIP = {
    "PIP_CONFIG_FILE": os.devnull,
    "PIP_NO_INDEX": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    "PIP_NO_CACHE_DIR": "1",
}


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def shared_dir(factory: pytest.TempPathFactory) -> Path:
    """This session's folder for the release artifacts: the parent of the per-worker folders
    under xdist (common to the workers, new each session), the session's own folder otherwise
    (the parent there is common to every session: a wheel of an older checkout would be reused)."""
    base = factory.getbasetemp()
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "secscan-release"


def build_dist(shared: Path) -> Path:
    """The folder with ``secscan-<version>.tar.gz`` and ``secscan-<version>-py3-none-any.whl``."""
    dist = shared / "dist"
    with _locked(shared):
        wheel = dist / f"secscan-{__version__}-py3-none-any.whl"
        if not wheel.is_file():
            env = {**os.environ, **OFFLINE_PIP}
            proc = subprocess.run(
                [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(ROOT)],
                capture_output=True,
                text=True,
                env=env,
                check=False,
                timeout=600,
            )
            assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dist


def deps_site(shared: Path) -> Path:
    """One folder of links to every installed distribution of the shared venv but secscan."""
    site = shared / "deps-site"
    with _locked(shared):
        if not (site / ".done").exists():
            site.mkdir(exist_ok=True)
            for entry in SITE.iterdir():
                if entry.name.startswith(_OURS) or entry.suffix == ".pth":
                    continue
                link = site / entry.name
                if not link.exists():
                    link.symlink_to(entry)
            (site / ".done").touch()
    return site


def fresh_venv(where: Path, site: Path) -> Path:
    """A new virtualenv whose path also holds ``site``; returns its ``bin``. Its ``python -m pip``
    is the shared venv's pip, reached through ``site`` (ensurepip would cost ~5 CPU-s a venv),
    and installs into the new virtualenv (pip installs into ``sys.prefix``, the venv's)."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, capture_output=True, timeout=300
    )
    inner = next((where / "lib").glob("python3*/site-packages"))
    (inner / "secscan-test-deps.pth").write_text(f"{site}\n", encoding="utf-8")
    return where / "bin"


class _CiLoader(yaml.SafeLoader):
    """safe_load plus GitLab's ``!reference [job, key]`` tag (kept as the list it is)."""


_CiLoader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))  # type: ignore[arg-type]


def load_ci(path: Path) -> Any:
    """A GitLab CI file (or a component's body) as data."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_CiLoader)
