"""The template and the CI/CD component, run by a real GitLab CI executor (gitlab-ci-local).

Six merge requests (clean; vulnerable; a strict project policy; a suppression the merge request
adds; ``parallel: 3`` shards; a scanner that fails), each a repository whose ``.gitlab-ci.yml`` is
the README's copy-paste, run twice: ``include: project: acme/secscan`` (the template) and
``component: $CI_SERVER_FQDN/acme/secscan/secscan@<version>`` (the component). gitlab-ci-local evaluates the
rules, extends, references, inputs, needs, parallel, artifacts and caches and runs every job's
script; the final job publishes to the GitLab stand-in. For each pipeline the verdict (the final
job's exit code), the findings and the merge request note must equal those of ``secscan scan
--publish`` on the same merge request (semgrep, the slowest scanner, runs in one pipeline of
each kind, the vulnerable template's and the sharded component's; the others and their reference
scans skip it).

The jobs run secscan from the wheel built from this checkout: most pipelines as in secscan's
image (the wheel installed once, ``secscan`` on PATH), and the vulnerable merge request's
template pipeline by the template's pip path, which downloads ``secscan==<version>`` from
secscan's package registry on the stand-in (uploaded there with twine, as the release job does).
Nothing else is installable (tests/support/ci_local.py). The pipelines run concurrently (each in
its own repository, state folder and merge request), the reference scans meanwhile in-process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from secscan import __version__
from tests.conftest import ROOT, require_tool
from tests.support import ci_local, release
from tests.support import gitlab_standin_packages as packages
from tests.support.cli import secscan
from tests.support.gitlab_standin import GitLabStandIn
from tests.support.mergerequest import Content

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("ci-local")]

OLD_PAY = "def pay(amount):\n    return amount\n"
SHELL = (
    "import subprocess\n\n\ndef pay(amount):\n    return amount\n\n\n"
    "def refund(cmd):\n    subprocess.call(cmd, shell=True)\n"
)
MODULE = "import subprocess\n\n\ndef f{n}(c):\n    subprocess.call(c, shell=True)\n"
REQ = "urllib3==2.2.2\n"
VULNERABLE_REQ = "urllib3==2.2.2\nrequests==2.19.1\n"
BASE: dict[str, Content] = {"app/pay.py": OLD_PAY, "requirements.txt": REQ}
SHARDED = "secscan:bandit:\n  parallel: 3\n"
STRICT = 'version = 1\nname = "strict"\nfail_closed = true\n[block]\nnew_at_or_above = "low"\n'
SUPPRESS_SHELL = (
    'version = 1\n[[suppression]]\nrule_id = "B602"\npath = "app/**"\n'
    'reason = "the merge request says it is fine"\nowner = "attacker@example.com"\n'
)


@dataclass(frozen=True)
class Case:
    name: str
    head: dict[str, Content]
    base: dict[str, Content]
    extra_ci: str = ""
    """Appended to the README's ``.gitlab-ci.yml`` (on both commits)."""
    expect: int = 1
    """The verdict (both ways); the comparison is the point, this guards against both being wrong."""
    semgrep: tuple[str, ...] = ()
    """The pipelines (kinds) in which semgrep runs, the slowest job (SECSCAN_SKIP=semgrep in the
    others); the reference scan of each pipeline skips what it skips."""


CASES = (
    Case("clean", {"app/pay.py": OLD_PAY + "\n\ndef total(items):\n    return sum(items)\n"}, BASE, expect=0),
    Case("vulnerable", {"app/pay.py": SHELL, "requirements.txt": VULNERABLE_REQ}, BASE, semgrep=("template",)),
    # The target branch's policy blocks lows; a new `import pickle` (bandit B403, low) blocks.
    Case(
        "strict-policy",
        {"app/pay.py": "import pickle\n\n" + OLD_PAY},
        {**BASE, ".secscan.toml": 'policy = "policy/strict.toml"\n', "policy/strict.toml": STRICT},
    ),
    # The merge request suppresses its own finding: pending until merged, the gate still fails.
    Case("suppression-in-mr", {"app/pay.py": SHELL, ".secscan/suppressions.toml": SUPPRESS_SHELL}, BASE),
    Case(
        "parallel-3",
        {
            f"app/mod{n}.py": f"import subprocess\n\n\ndef f{n}(c):\n    subprocess.call(c, shell=True)\n"
            for n in range(6)
        },
        BASE,
        extra_ci=SHARDED,
        semgrep=("component",),
    ),
    # bandit cannot parse a file: its scan fails closed, the pipeline's verdict is 3 (a blocking
    # finding would make it 1: blocked findings win over a failed scanner).
    Case("scanner-fails", {"app/broken.py": "def refund(:\n    pass\n"}, BASE, expect=3),
)
KINDS = ("template", "component")
# The one pipeline that installs secscan the template's pip way (from the package registry).
PIP_PATH = ("vulnerable", "template")
JOB_URL = ci_local.JOB_URL


@dataclass
class Outcome:
    head: str
    verdict: int | None
    result: dict[str, Any] | None
    note: str | None
    log: str
    jobs: dict[str, str]


@dataclass
class Reference:
    head: str
    code: int
    result: dict[str, Any]
    note: str | None


@dataclass
class World:
    pipelines: dict[tuple[str, str], Outcome]
    references: dict[tuple[str, bool], Reference]
    """(merge request, whether semgrep ran) -> ``secscan scan``'s outcome."""
    registry: packages.Registry
    seconds: float
    image_env: dict[str, str]
    """The environment of a job in secscan's image (the wheel installed, on PATH)."""


def _iid(case: int, kind: int) -> int:
    return 100 + case * 10 + kind


def _variables(gl: GitLabStandIn, project: ci_local.CiProject, iid: int, advisories: Path) -> dict[str, str]:
    return {
        **ci_local.mr_variables(gl, project, iid),
        # Project CI/CD variables: a runner that cannot pull secscan's image (the pip path), the
        # offline advisories.
        "SECSCAN_IMAGE": "python:3.12-slim",
        "SECSCAN_ADVISORY_DB": str(advisories),
    }


def _outcome(gl: GitLabStandIn, project: ci_local.CiProject, run: ci_local.PipelineRun, iid: int) -> Outcome:
    verdicts = re.findall(r"secscan verdict exit code (\d+)", run.log)
    result_file = project.build("secscan", "secscan-reports/secscan.json")
    result = json.loads(result_file.read_text(encoding="utf-8")) if result_file.is_file() else None
    note = ci_local.summary_note(gl, iid)
    # Kept next to the project for whoever reads a failure.
    (project.repo.parent / "pipeline.log").write_text(run.log, encoding="utf-8")
    (project.repo.parent / "note.md").write_text(note or "", encoding="utf-8")
    return Outcome(project.head, int(verdicts[-1]) if verdicts else None, result, note, run.log, run.jobs)


def _reference(gl: GitLabStandIn, case: Case, kind: str, where: Path, *, iid: int, advisories: Path) -> Reference:
    """``secscan scan --publish`` on the merge request's head, as a developer's CI job would run it."""
    project = ci_local.make_project(where, case.base, case.head, ci=ci_local.TEMPLATE_CI + case.extra_ci)
    _add_mr(gl, case, project, iid)
    env = {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_API_V4_URL": gl.api_url,
        "CI_SERVER_URL": gl.url,
        "CI_PROJECT_ID": "7",
        "CI_PROJECT_DIR": str(project.repo),
        "CI_MERGE_REQUEST_IID": str(iid),
        "CI_MERGE_REQUEST_PROJECT_ID": "7",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": project.base,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature",
        "CI_COMMIT_SHA": project.head,
        "CI_COMMIT_REF_NAME": "feature",
        "CI_JOB_URL": JOB_URL,
        "SECSCAN_GITLAB_TOKEN": gl.private_token,
        "SECSCAN_GITLAB_ALLOW_HTTP": "true",
        "SECSCAN_ADVISORY_DB": str(advisories),
        "SECSCAN_HTML_REPORT_URL": f"{JOB_URL}/artifacts/file/secscan-reports/secscan-report.html",
        **_skip(case, kind),
    }
    out = where / "reference-out"
    run = secscan("scan", ".", "--out", out, "--no-progress", "--publish", cwd=project.repo, env=env, clean=True)
    result = json.loads((out / "secscan.json").read_text(encoding="utf-8"))
    note = ci_local.summary_note(gl, iid)
    (where / "note.md").write_text(note or "", encoding="utf-8")
    return Reference(project.head, run.returncode, result, note)


def _skip(case: Case, kind: str) -> dict[str, str]:
    return {} if kind in case.semgrep else {"SECSCAN_SKIP": "semgrep"}


def _add_mr(gl: GitLabStandIn, case: Case, project: ci_local.CiProject, iid: int) -> None:
    def text(c: Content | None) -> str:
        return c if isinstance(c, str) else ""

    files = {path: (text(case.base.get(path)), text(content)) for path, content in case.head.items()}
    gl.add_merge_request(project_id=7, iid=iid, head_sha=project.head, base_sha=project.base, files=files)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    import time

    exe = ci_local.tool()
    for name in ("git", *ci_local.SCANNER_TOOLS):
        require_tool(name)
    shared = release.shared_dir(tmp_path_factory)
    dist, deps = release.build_dist(shared), release.deps_site(shared)
    work = tmp_path_factory.mktemp("ci-local")
    advisories = work / "advisories"
    shutil.copytree(ROOT / "examples" / "advisories", advisories)
    home = work / "home"
    home.mkdir()
    tools = ci_local.tool_bin(work / "tools")
    # secscan's image, as far as the jobs can tell: the wheel installed, `secscan` on PATH.
    image_bin = release.fresh_venv(work / "image", deps)
    wheel = dist / f"secscan-{__version__}-py3-none-any.whl"
    subprocess.run(
        [image_bin / "python", "-m", "pip", "install", "--quiet", str(wheel)],
        env={**os.environ, **release.OFFLINE_PIP},
        check=True,
        capture_output=True,
    )
    pip_env = ci_local.job_env(tools=tools, deps=deps, home=home)
    image_env = {**pip_env, "PATH": f"{image_bin}{os.pathsep}{pip_env['PATH']}"}
    with GitLabStandIn() as gl:
        registry = packages.install(gl)
        # The release job's upload: twine with the job token, to secscan's project.
        upload = subprocess.run(
            [
                sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar",
                "--repository-url", f"{gl.api_url}/projects/acme%2Fsecscan/packages/pypi",
                *sorted(str(p) for p in dist.iterdir() if p.suffix in (".whl", ".gz")),
            ],
            env={**os.environ, "TWINE_USERNAME": "gitlab-ci-token", "TWINE_PASSWORD": gl.job_token},
            capture_output=True,
            text=True,
            check=False,
        )  # fmt: skip
        assert upload.returncode == 0, upload.stdout + upload.stderr
        started = time.monotonic()
        runs: dict[tuple[str, str], tuple[ci_local.CiProject, int, Future[ci_local.PipelineRun]]] = {}
        with ThreadPoolExecutor(max_workers=3) as pool:
            for c, case in enumerate(CASES):
                for k, kind in enumerate(KINDS):
                    ci = (ci_local.TEMPLATE_CI if kind == "template" else ci_local.COMPONENT_CI) + case.extra_ci
                    project = ci_local.make_project(work / f"{case.name}-{kind}", case.base, case.head, ci=ci)
                    iid = _iid(c, k)
                    _add_mr(gl, case, project, iid)
                    env = pip_env if (case.name, kind) == PIP_PATH else image_env
                    variables = {**_variables(gl, project, iid, advisories), **_skip(case, kind)}
                    runs[case.name, kind] = (
                        project,
                        iid,
                        pool.submit(ci_local.run_pipeline, exe, project, variables, env),
                    )
            # Meanwhile, in this thread: what `secscan scan` says about each merge request.
            # One per merge request and semgrep setting (the kind stands for the setting it has).
            references: dict[tuple[str, bool], Reference] = {}
            for c, case in enumerate(CASES):
                for kind in KINDS:
                    key = case.name, kind in case.semgrep
                    if key not in references:
                        where = work / f"{case.name}-reference{'-semgrep' if key[1] else ''}"
                        iid = _iid(c, 8 + key[1])
                        references[key] = _reference(gl, case, kind, where, iid=iid, advisories=advisories)
            pipelines = {key: _outcome(gl, project, fut.result(), iid) for key, (project, iid, fut) in runs.items()}
        yield World(pipelines, references, registry, time.monotonic() - started, image_env)


def _reference_of(world: World, name: str, kind: str) -> Reference:
    """The reference scan of a pipeline: its merge request, with semgrep where the pipeline ran it."""
    case = next(c for c in CASES if c.name == name)
    return world.references[name, kind in case.semgrep]


RUNS = [(c, k) for c in CASES for k in KINDS]


@pytest.mark.parametrize(("case", "kind"), RUNS, ids=[f"{c.name}-{k}" for c, k in RUNS])
def test_pipeline_gives_what_secscan_scan_gives(world: World, case: Case, kind: str) -> None:
    got = world.pipelines[case.name, kind]
    ref = _reference_of(world, case.name, kind)
    context = got.log[-6000:]
    # Every scanner job succeeded (their verdicts are the final job's), the final job ran.
    scanner_jobs = {j: s for j, s in got.jobs.items() if j.startswith("secscan:")}
    assert scanner_jobs and set(scanner_jobs.values()) == {"PASS"}, context
    assert got.verdict == ref.code == case.expect, context
    assert got.result is not None, context
    assert got.result["verdict"]["passed"] is (case.expect == 0)
    if case.name == "scanner-fails":
        assert {s["name"]: s["state"] for s in got.result["scanners"]}["bandit"] == "failed"
    assert ci_local.findings_key(got.result) == ci_local.findings_key(ref.result), context
    assert got.note is not None and ref.note is not None, context
    assert "🔗 [HTML report](" in got.note
    assert ci_local.comparable_note(got.note, got.head) == ci_local.comparable_note(ref.note, ref.head)


def test_the_pip_path_installed_the_release_from_the_package_registry(world: World) -> None:
    got = world.pipelines[PIP_PATH]
    # The jobs asked secscan's registry for secscan and nothing else; whatever file they fetched
    # (the jobs share a pip cache, so maybe not every time) is the release's wheel.
    assert set(world.registry.pages) == {"secscan"}, got.log[-4000:]
    assert set(world.registry.downloads) <= {f"secscan-{__version__}-py3-none-any.whl"}
    assert got.verdict == _reference_of(world, *PIP_PATH).code == 1
    assert "secscan: using" not in got.log  # no secscan on PATH: installed by the template
    others = [o for key, o in world.pipelines.items() if key != PIP_PATH]
    assert all("secscan: using" in o.log for o in others)


def test_parallel_shards_are_merged_into_one_verdict(world: World) -> None:
    for kind in KINDS:
        got = world.pipelines["parallel-3", kind]
        shards = {j for j in got.jobs if j.startswith("secscan:bandit") and "/3" in j}
        assert len(shards) == 3, got.jobs
        assert got.result is not None
        assert len([f for f in got.result["findings"] if f["rule_id"] == "B602"]) == 6


def test_the_merge_requests_suppression_is_pending_not_applied(world: World) -> None:
    for kind in KINDS:
        got = world.pipelines["suppression-in-mr", kind]
        assert got.result is not None
        shell = [f for f in got.result["findings"] if f["rule_id"] == "B602"]
        assert shell and all(f["status"] == "new" for f in shell)


def test_report_timing(world: World, record_property: Any) -> None:
    # Not an assertion on time: the figure goes to the JUnit report and the README's bench notes.
    record_property("ci_local_pipelines_seconds", round(world.seconds, 1))
    n, m = len(world.pipelines), len(world.references)
    print(f"{n} gitlab-ci-local pipelines + {m} reference scans: {world.seconds:.0f} s")


MR_SOURCE = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_MERGE_REQUEST_IID": "1"}


@pytest.fixture(scope="module")
def listing(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, ci_local.CiProject, dict[str, str]]:
    exe = ci_local.tool()
    work = tmp_path_factory.mktemp("ci-local-list")
    project = ci_local.make_project(work, BASE, {"app/pay.py": SHELL}, ci=ci_local.TEMPLATE_CI)
    home = work / "home"
    home.mkdir()
    return exe, project, ci_local.job_env(tools=ci_local.tool_bin(work / "tools"), deps=work, home=home)


def test_rules_select_the_jobs_a_merge_request_pipeline_gets(
    listing: tuple[str, ci_local.CiProject, dict[str, str]],
) -> None:
    exe, project, env = listing

    def names(**variables: str) -> set[str]:
        return {j["name"] for j in ci_local.list_jobs(exe, project, variables, env)}

    from secscan.scanners import registry

    static = {f"secscan:{n}" for n in registry.names() if n not in registry.needing_deployment()}
    assert names(**MR_SOURCE) == static | {"secscan"}
    with_zap = names(**MR_SOURCE, SECSCAN_ZAP_TARGET="https://review.example.com", SECSCAN_SKIP="semgrep")
    assert "secscan:zap" in with_zap and "secscan:semgrep" not in with_zap and "secscan:bandit" in with_zap
    assert names(**MR_SOURCE, SECSCAN_DISABLED="true") == set()
    # A scheduled pipeline: the upkeep jobs (the compliance check among them), no scanner job
    # without a ZAP target.
    scheduled = names(CI_PIPELINE_SOURCE="schedule")
    assert "secscan:compliance" in scheduled and not scheduled & static


def test_results_committed_in_the_merge_request_never_reach_the_gate(world: World, tmp_path: Path) -> None:
    # The attacker commits a "clean" result, hoping the final job merges it.
    planted = {"schema": "secscan/1", "scanners": [{"name": "bandit", "state": "ok"}], "findings": []}
    head: dict[str, Content] = {"app/pay.py": SHELL, "secscan-results/bandit/secscan.json": json.dumps(planted)}
    project = ci_local.make_project(tmp_path, BASE, head, ci=ci_local.TEMPLATE_CI)
    run = ci_local.run_pipeline(ci_local.tool(), project, MR_SOURCE, world.image_env, jobs=("secscan:bandit",))
    assert run.jobs.get("secscan:bandit") == "FAIL", run.log[-3000:]
    assert "results cannot be committed" in run.log
