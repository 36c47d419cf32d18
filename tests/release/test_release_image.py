"""secscan's release image: the repository's Dockerfile built here, run here.

No image can be pulled on this machine, so the base is made from Debian's packages
(tests/support/image.py: mmdebstrap into a cached tarball, ``docker import``) and handed to the
Dockerfile as ``BASE``; the wheels come from the package index into a cached wheelhouse (a
``--no-index`` build); the advisory snapshot is fetched at build time by ``secscan advisories
update`` from a loopback server of OSV's export layout holding the repository's real records
(tests/advisories/export_support.py), as the release job fetches OSV's. A private dockerd
(overlay2, else vfs) builds and runs it.

Then: its size against the per-job virtualenv it replaces, non-root, no compiler, the pinned
scanners; its cold start (printed, not asserted); the demo scan in the image gives the
virtualenv's findings and verdict; its snapshot is the one ``advisories update`` makes from the
same exports; and a merge request pipeline of the template runs in it with gitlab-ci-local's
docker executor (the image is local: gitlab-ci-local inspects before it pulls; its helper
image, which copies files in and out of the job's volumes, is made from Debian's packages too),
giving what ``secscan scan`` gives.

The build takes minutes: the module is one xdist group that the suite hands out first
(tests/conftest.py, FIRST_GROUPS), so it runs beside the rest.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from secscan import __version__
from tests.advisories.export_support import ExportServer, export_server
from tests.conftest import ROOT, require, require_tool
from tests.support import ci_local, image
from tests.support.cli import secscan
from tests.support.gitlab_standin import GitLabStandIn
from tests.support.mergerequest import Content
from tests.zap.conftest import Engine, StartedEngine, start_engine

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("image")]

TAG = f"secscan-test/secscan:{__version__}"
# The virtualenv each job of the template's pip path builds (issue 27), in MB as docker counts.
VENV_MB = 528
UID = 10001
COMPILERS = ("cc", "gcc", "g++", "c++", "clang", "tcc", "as", "ld", "make")


@dataclass
class Built:
    engine: Engine
    size: int
    base_size: int
    driver: str
    seconds: float
    store: Path
    """A store made by ``secscan advisories update`` (this checkout) from the exports the image's
    build fetched: the same snapshot."""

    def docker(self, *args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _docker(self.engine, *args, timeout=timeout, check=check)


def _docker(engine: Engine, *args: str, timeout: float = 900, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_HOST": engine.host, "DOCKER_BUILDKIT": "0"}
    proc = subprocess.run(["docker", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if check:
        assert proc.returncode == 0, f"docker {' '.join(args[:3])}: {proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    return proc


def _engine(dockerd: str) -> tuple[StartedEngine, str]:
    """overlay2 where the kernel has it (a container starts without copying the image), else vfs."""
    try:
        return start_engine(dockerd, storage_driver="overlay2"), "overlay2"
    except RuntimeError as e:
        print(f"image: overlay2 unavailable, vfs instead: {str(e)[-300:]}")
        return start_engine(dockerd), "vfs"


def _context(where: Path, dist: Path, wheels: Path) -> Path:
    """The build context the release job has: the checkout's Dockerfile and image/, dist/."""
    (where / "image").mkdir(parents=True)
    shutil.copy2(ROOT / "Dockerfile", where / "Dockerfile")
    shutil.copy2(ROOT / "image" / "requirements.txt", where / "image" / "requirements.txt")
    (where / "dist").mkdir()
    shutil.copy2(dist / f"secscan-{__version__}-py3-none-any.whl", where / "dist")
    for wheel in wheels.glob("*.whl"):
        shutil.copy2(wheel, where / "dist" / wheel.name)
    return where


@pytest.fixture(scope="module")
def exports() -> Iterator[ExportServer]:
    yield from export_server()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, dist: Path, exports: ExportServer) -> Iterator[Built]:
    dockerd = shutil.which("dockerd")
    require(dockerd is not None and os.geteuid() == 0, "dockerd (docker.io) run as root, to build secscan's image")
    require(shutil.which("docker") is not None, "the docker client")
    require(shutil.which("mmdebstrap") is not None, "mmdebstrap (makes the image's base from Debian's packages)")
    assert dockerd is not None
    work = tmp_path_factory.mktemp("image")
    started = time.monotonic()
    # Whatever fails here fails the tests with its reason (CI's output says why no image was built).
    base, helper, wheels = image.base_tarball(), image.helper_tarball(), image.wheelhouse()
    engine, driver = _engine(dockerd)
    try:
        _docker(engine.engine, "import", str(base), image.BASE_TAG, timeout=1800)
        _docker(engine.engine, "import", str(helper), image.HELPER_TAG, timeout=1800)
        context = _context(work / "context", dist, wheels)
        build = _docker(
            engine.engine,
            "build", "--network", "host", "--tag", TAG,
            "--build-arg", f"BASE={image.BASE_TAG}",
            "--build-arg", "PIP_NO_INDEX=1",
            "--build-arg", "PIP_FIND_LINKS=/tmp/dist",
            "--build-arg", f"ADVISORY_SOURCE_URL={exports.url}",
            str(context),
            timeout=3600,
        )  # fmt: skip
        (work / "build.log").write_text(build.stdout + build.stderr, encoding="utf-8")
        seconds = time.monotonic() - started

        def size(tag: str) -> int:
            return int(_docker(engine.engine, "image", "inspect", "--format", "{{.Size}}", tag).stdout)

        store = work / "store" / "advisories.sqlite"
        update = secscan("advisories", "update", "--store", store, "--source-url", exports.url, clean=True)
        assert update.returncode == 0, update.stderr
        yield Built(engine.engine, size(TAG), size(image.BASE_TAG), driver, seconds, store)
    finally:
        engine.stop()


Proc = subprocess.CompletedProcess[str]


def _run(built: Built, *argv: str, volumes: tuple[str, ...] = (), check: bool = True) -> Proc:
    mounts = [a for v in volumes for a in ("--volume", v)]
    return built.docker("run", "--rm", "--network", "none", *mounts, TAG, *argv, check=check)


def test_the_image_is_smaller_than_the_virtualenv_a_job_builds(built: Built, record_property: Any) -> None:
    mb = built.size / 1e6
    layers = built.docker("history", "--format", "{{.Size}}\t{{.CreatedBy}}", TAG).stdout
    print(f"\nimage {TAG}: {mb:.0f} MB (base from Debian's packages {built.base_size / 1e6:.0f} MB), {built.driver}")
    print(f"built (with the cached base and wheels) in {built.seconds:.0f} s; layers:\n{layers}")
    record_property("image_mb", round(mb))
    record_property("image_base_mb", round(built.base_size / 1e6))
    assert mb < VENV_MB, layers
    # The base is Debian's packages (docker import), not an image from a registry.
    assert built.docker("image", "inspect", "--format", "{{.RepoDigests}}", image.BASE_TAG).stdout.strip() == "[]"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_image_runs_as_non_root_with_the_pinned_scanners_and_no_compiler(built: Built) -> None:
    pins = dict(
        line.split("==")
        for line in (ROOT / "image" / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    )
    script = (
        "id -u; for c in " + " ".join(COMPILERS) + "; do command -v $c; done; echo ---; "
        "pip list --format=json 2>/dev/null; echo; git --version; echo $SECSCAN_IMAGE_ADVISORY_DB"
    )
    out = _run(built, "sh", "-c", script).stdout
    uid, rest = out.split("\n", 1)
    found, after = rest.split("---\n", 1)
    assert uid.strip() == str(UID)
    assert found.strip() == "", f"compilers or build tools in the image: {found}"
    listing, git, store = after.strip().rsplit("\n", 2)
    installed = {_canonical(p["name"]): p["version"] for p in json.loads(listing)}
    for name, version in pins.items():
        assert installed.get(_canonical(name.split("[")[0])) == version, (name, installed)
    assert installed["secscan"] == __version__
    assert git.startswith("git version ")
    assert store == "/opt/secscan/advisories.sqlite"


def test_the_image_scans_the_example_like_the_virtualenv(built: Built, tmp_path: Path, record_property: Any) -> None:
    app, advisories, out = tmp_path / "payment-app", tmp_path / "advisories", tmp_path / "out"
    shutil.copytree(ROOT / "examples" / "payment-app", app)
    shutil.copytree(ROOT / "examples" / "advisories", advisories)
    out.mkdir()
    os.chown(out, UID, UID)
    # Cold start: a new container each time (what a job pays before its script), then the scan.
    t0 = time.monotonic()
    version = _run(built, "secscan", "--version").stdout
    t1 = time.monotonic()
    volumes = (f"{app}:/scan/payment-app:ro", f"{advisories}:/scan/advisories:ro", f"{out}:/scan/out")
    argv = ("secscan", "scan", "/scan/payment-app", "--advisory-db", "/scan/advisories", "--out", "/scan/out")
    in_image = _run(built, *argv, "--no-progress", volumes=volumes, check=False)
    t2 = time.monotonic()
    print(f"\ncold start: docker run … secscan --version {t1 - t0:.1f} s; scan of examples/payment-app {t2 - t1:.1f} s")
    record_property("image_cold_version_seconds", round(t1 - t0, 1))
    record_property("image_cold_scan_seconds", round(t2 - t1, 1))
    assert version.strip().endswith(__version__)
    assert in_image.returncode == 1, in_image.stdout[-2000:] + in_image.stderr[-2000:]  # the demo's gate fails
    demo = secscan("scan", app, "--advisory-db", advisories, "--out", tmp_path / "demo", "--no-progress", clean=True)
    assert demo.returncode == 1, demo.stderr
    got = json.loads((out / "secscan.json").read_text(encoding="utf-8"))
    want = json.loads((tmp_path / "demo" / "secscan.json").read_text(encoding="utf-8"))
    assert ci_local.findings_key(got) == ci_local.findings_key(want)
    assert got["verdict"]["passed"] is want["verdict"]["passed"] is False
    # Every scanner ran in the image (semgrep's engine, pip-audit, detect-secrets ...).
    states = {s["name"]: s["state"] for s in got["scanners"]}
    assert states == {s["name"]: s["state"] for s in want["scanners"]}
    assert {states[n] for n in ("bandit", "semgrep", "pip-audit", "detect-secrets")} == {"ok"}


def test_the_images_advisory_snapshot_is_the_one_update_makes(built: Built) -> None:
    info = 'secscan advisories info --json --db "$SECSCAN_IMAGE_ADVISORY_DB"'
    in_image = json.loads(_run(built, "sh", "-c", info).stdout)
    here = json.loads(secscan("advisories", "info", "--json", "--db", built.store, clean=True).stdout)
    assert in_image["database"] == "/opt/secscan/advisories.sqlite"
    assert in_image["snapshot"] == here["snapshot"]
    assert in_image["advisories"] == here["advisories"] > 100
    assert in_image["fetched_at"]  # fetched by `advisories update`, not imported


# ------------------------------------------------------------------ gitlab-ci-local in the image
SHELL_PAY = (
    "import subprocess\n\n\ndef pay(amount):\n    return amount\n\n\n"
    "def refund(cmd):\n    subprocess.call(cmd, shell=True)\n"
)
MR_BASE: dict[str, Content] = {
    "app/pay.py": "def pay(amount):\n    return amount\n",
    "requirements.txt": "urllib3==2.2.2\n",
}
MR_HEAD: dict[str, Content] = {"app/pay.py": SHELL_PAY, "requirements.txt": "urllib3==2.2.2\nrequests==2.19.1\n"}
IID = 300
JOB_URL = ci_local.JOB_URL


def _mr_variables(gl: GitLabStandIn, project: ci_local.CiProject, iid: int) -> dict[str, str]:
    return {**ci_local.mr_variables(gl, project, iid), "SECSCAN_SKIP": "semgrep"}


def _merge_request(gl: GitLabStandIn, where: Path, iid: int) -> ci_local.CiProject:
    project = ci_local.make_project(where, MR_BASE, MR_HEAD, ci=ci_local.TEMPLATE_CI)
    files = {p: (str(MR_BASE.get(p, "")), str(c)) for p, c in MR_HEAD.items()}
    gl.add_merge_request(project_id=7, iid=iid, head_sha=project.head, base_sha=project.base, files=files)
    return project


def _reference(gl: GitLabStandIn, where: Path, store: Path) -> tuple[int, dict[str, Any], str | None, str]:
    """``secscan scan --publish`` on the same merge request (its own copy and merge request),
    with the snapshot the image carries: the pipeline names no advisory database."""
    iid = IID + 1
    project = _merge_request(gl, where, iid)
    env = {
        **_mr_variables(gl, project, iid),
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PROJECT_DIR": str(project.repo),
        "CI_COMMIT_SHA": project.head,
        "CI_COMMIT_REF_NAME": "feature",
        "SECSCAN_ADVISORY_DB": str(store),
        "SECSCAN_HTML_REPORT_URL": f"{JOB_URL}/artifacts/file/secscan-reports/secscan-report.html",
    }
    out = where.parent / f"{where.name}-out"
    run = secscan("scan", ".", "--out", out, "--no-progress", "--publish", cwd=project.repo, env=env, clean=True)
    result = json.loads((out / "secscan.json").read_text(encoding="utf-8"))
    return run.returncode, result, ci_local.summary_note(gl, iid), project.head


def test_a_merge_request_pipeline_runs_in_the_image(built: Built, tmp_path: Path) -> None:
    exe = ci_local.tool()
    require_tool("git")
    home = tmp_path / "home"
    home.mkdir()
    env = ci_local.job_env(tools=ci_local.tool_bin(tmp_path / "tools"), deps=tmp_path, home=home)
    env["PATH"] = os.pathsep.join([str(Path(shutil.which("docker") or "docker").parent), env["PATH"]])
    env["DOCKER_HOST"] = built.engine.host
    with GitLabStandIn() as gl:
        project = _merge_request(gl, tmp_path / "pipeline", IID)
        # The image the README's SECSCAN_IMAGE names, here under its local tag.
        variables = {**_mr_variables(gl, project, IID), "SECSCAN_IMAGE": TAG}
        docker = ci_local.docker_executor(image.HELPER_TAG)
        run = ci_local.run_pipeline(exe, project, variables, env, timeout=1800, executor=docker)
        (tmp_path / "pipeline.log").write_text(run.log, encoding="utf-8")
        note = ci_local.summary_note(gl, IID)
        code, want, ref_note, ref_head = _reference(gl, tmp_path / "reference", built.store)
    context = run.log[-6000:]
    assert f"starting {TAG}" in run.log, context  # in the image, not the shell
    scanner_jobs = {j: s for j, s in run.jobs.items() if j.startswith("secscan:")}
    assert scanner_jobs and set(scanner_jobs.values()) == {"PASS"}, context
    assert "secscan: using /opt/secscan/bin/secscan" in run.log, context
    verdicts = re.findall(r"secscan verdict exit code (\d+)", run.log)
    assert verdicts and int(verdicts[-1]) == code == 1, context
    got = json.loads(project.artifact("secscan", "secscan-reports/secscan.json").read_text(encoding="utf-8"))
    assert ci_local.findings_key(got) == ci_local.findings_key(want), context
    assert any(f["rule_id"] == "B602" for f in got["findings"])  # bandit's, new in the merge request
    assert any(f["scanner"] == "pip-audit" for f in got["findings"])  # the image's snapshot matched
    assert note is not None and ref_note is not None, context
    assert ci_local.comparable_note(note, project.head) == ci_local.comparable_note(ref_note, ref_head)
