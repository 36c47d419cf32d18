"""secscan's release image, built from the repository's ``Dockerfile`` on this machine, where no
image can be pulled: the base is made from Debian's packages.

* :func:`base_tarball` — ``mmdebstrap`` (Debian's apt repositories) makes a bookworm root file
  system with python3, python3-venv, git, ca-certificates and passwd into a tarball, which
  ``docker import`` turns into the ``BASE`` the Dockerfile takes as a build argument. Slim the
  way Debian's own slim images are: no documentation, manual pages or translations (licences
  kept), no apt (nothing is installed into the image after it is built), and nothing the scanner
  jobs never run (git's servers and mail commands, the perl modules git's perl scripts need,
  glibc's charset converters).
* :func:`wheelhouse` — the wheels of the pinned scanners and secscan's dependencies, from the
  package index with ``pip download --only-binary=:all:`` (the image installs nothing else), for
  a ``--no-index`` build.

Both are slow to make (minutes of downloads and package installs) and depend only on their
inputs, so they are kept in the git-ignored ``.tools/image-cache/`` under a name that is the hash
of those inputs: a re-run, or another checkout of the same inputs, reuses them.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import ROOT

CACHE = ROOT / ".tools" / "image-cache"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
VARIANT = "essential"
PACKAGES = ("python3", "python3-venv", "git", "ca-certificates", "passwd")
# dpkg's path filters (dpkg --path-exclude / --path-include, in this order).
PATH_FILTERS = (
    "path-exclude=/usr/share/doc/*",
    "path-include=/usr/share/doc/*/copyright",
    "path-exclude=/usr/share/man/*",
    "path-exclude=/usr/share/info/*",
    "path-exclude=/usr/share/locale/*",
    "path-exclude=/usr/share/lintian/*",
    # git's servers and mail commands.
    "path-exclude=/usr/lib/git-core/git-daemon",
    "path-exclude=/usr/lib/git-core/git-http-backend",
    "path-exclude=/usr/lib/git-core/git-http-push",
    "path-exclude=/usr/lib/git-core/git-imap-send",
    "path-exclude=/usr/lib/git-core/git-shell",
    "path-exclude=/usr/bin/git-shell",
    "path-exclude=/usr/lib/git-core/scalar",
    "path-exclude=/usr/bin/scalar",
    "path-exclude=/usr/share/gitweb/*",
    # glibc's charset converters (iconv modules): Python and git convert UTF-8 themselves.
    "path-exclude=/usr/lib/*/gconv/*",
)
# After every package is installed (usrmerge's and debconf's scripts need them while installing):
# the perl package's modules, which only git's perl scripts (send-email, svn, cvs) use; perl-base
# stays.
CUSTOMIZE = 'rm -rf "$1"/usr/share/perl/5.* "$1"/usr/lib/*/perl/5.* "$1"/usr/lib/*/libperl.so*'
BASE_TAG = f"secscan-test/debian-base:{SUITE}"
HELPER_PACKAGES = ("rsync",)
HELPER_TAG = f"secscan-test/ci-local-helper:{SUITE}"


@contextmanager
def _locked(name: str) -> Iterator[None]:
    """One maker at a time per cached thing (xdist workers, two checkouts of one machine)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f".{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _key(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def base_argv(out: Path, packages: tuple[str, ...] = PACKAGES) -> list[str]:
    argv = ["mmdebstrap", f"--variant={VARIANT}", f"--include={','.join(packages)}", "--quiet"]
    argv += [f"--dpkgopt={f}" for f in PATH_FILTERS]
    argv += [f"--customize-hook={CUSTOMIZE}"]
    return [*argv, SUITE, str(out), MIRROR]


def base_tarball(packages: tuple[str, ...] = PACKAGES, name: str = "base") -> Path:
    """The cached root file system (a tar) of ``packages``, made with mmdebstrap if not there yet."""
    tar = CACHE / f"{name}-{SUITE}-{_key(base_argv(Path('-'), packages))}.tar"
    with _locked(name):
        if not tar.is_file():
            part = tar.with_suffix(".part.tar")
            proc = subprocess.run(base_argv(part, packages), capture_output=True, text=True, check=False, timeout=3000)
            if proc.returncode != 0:
                part.unlink(missing_ok=True)
                raise RuntimeError(f"mmdebstrap failed ({proc.returncode}): {proc.stderr[-3000:]}")
            part.rename(tar)
    return tar


def helper_tarball() -> Path:
    """gitlab-ci-local's helper image (its default, firecow/gitlab-ci-local-util, cannot be
    pulled): what it runs to copy the checkout, caches and artifacts in and out of the job's
    volumes is bash, chown and rsync."""
    return base_tarball(HELPER_PACKAGES, "helper")


def _dependencies() -> list[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return sorted(project["dependencies"])


def wheelhouse() -> Path:
    """The cached folder of binary wheels the image installs besides secscan's own wheel."""
    requirements = ROOT / "image" / "requirements.txt"
    deps = _dependencies()
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    folder = CACHE / f"wheels-{tag}-{_key(requirements.read_text(encoding='utf-8'), deps)}"
    with _locked("wheels"):
        if not (folder / ".done").is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            reqs = folder / "requirements.in"
            reqs.write_text("\n".join([*deps, ""]), encoding="utf-8")
            argv = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--dest", str(folder)]
            argv += ["-r", str(requirements), "-r", str(reqs)]
            # The machine's pip configuration (its package index) is the point here.
            env = {k: v for k, v in os.environ.items() if k not in ("PIP_NO_INDEX", "PIP_CONFIG_FILE")}
            proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=3000)
            if proc.returncode != 0:
                raise RuntimeError(f"pip download failed ({proc.returncode}): {proc.stderr[-3000:]}")
            reqs.unlink()
            (folder / ".done").touch()
    return folder
