"""GitLab CI pipelines run by a real executor of GitLab CI YAML: ``gitlab-ci-local``.

``gitlab-ci-local`` (npm, pinned in ``.ci/run``, found through ``SECSCAN_GITLAB_CI_LOCAL``) reads a
project's ``.gitlab-ci.yml`` the way GitLab does (``include:`` of a project file or a CI/CD
component with ``inputs``, ``extends``, ``!reference``, ``rules``, ``needs``, ``parallel``,
artifacts, ``cache``) and runs each job's script in its own copy of the checkout
(``--shell-isolation``), on this machine (``--force-shell-executor``: no image can be pulled).

A :class:`CiProject` is a merge request's repository whose ``.gitlab-ci.yml`` is exactly what the
README tells a user to write (``include: project: acme/secscan`` or ``component:
$CI_SERVER_FQDN/acme/secscan/secscan@<version>``). gitlab-ci-local fetches such includes into its
state folder; the project gets them there from this checkout instead, so the pipeline runs the
template and component of the tree under test, at the ref the README names.

The jobs install secscan the template's way (``SECSCAN_IMAGE`` is not secscan's image here: the
pip path), from secscan's package registry on the GitLab stand-in, where the session's wheel was
uploaded with twine. Nothing else is installable: pip's configuration is ``/dev/null`` and its
index an address that refuses connections; the dependencies are already there (:func:`job_env`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from secscan import __version__
from tests.conftest import ROOT, VENV_BIN, require
from tests.support.mergerequest import Content, commit, git, new_repo

if TYPE_CHECKING:
    from tests.support.gitlab_standin import GitLabStandIn

TOOL_ENV = "SECSCAN_GITLAB_CI_LOCAL"
DEFAULT_TOOL = ROOT / ".tools" / "gitlab-ci-local" / "node_modules" / ".bin" / "gitlab-ci-local"
HOST = "gitlab.example.com"
PROJECT_PATH = "acme/payments"


def readme_ci(marker: str) -> str:
    """The ``.gitlab-ci.yml`` the README's "GitLab CI" section tells a user to write (its YAML
    block holding ``marker``), without the lines it marks ``# optional``: the pipelines run the
    README's copy-paste itself, so the two cannot drift apart."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## GitLab CI\n", 1)[1].split("\n## ", 1)[0]
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", section, re.S) if marker in b)
    kept = "\n".join(line for line in block.splitlines() if "# optional" not in line)
    doc = {key: value for key, value in yaml.safe_load(kept).items() if value is not None}
    return yaml.safe_dump(doc, sort_keys=False)


TEMPLATE_CI = readme_ci("project: acme/secscan")
COMPONENT_CI = readme_ci("component: ")
# The scanners' own executables (their packages are in the dependency folder too).
SCANNER_TOOLS = ("bandit", "semgrep", "pysemgrep", "pip-audit", "detect-secrets")


def tool() -> str:
    """gitlab-ci-local's path, or skip (locally) / fail (CI)."""
    path = os.environ.get(TOOL_ENV) or str(DEFAULT_TOOL)
    require(Path(path).is_file() and shutil.which("rsync") is not None, f"gitlab-ci-local ({TOOL_ENV}) and rsync")
    return path


def tool_bin(where: Path) -> Path:
    """A folder with the scanners and a ``python3`` (the interpreter the dependencies were
    installed for) and nothing named secscan: what a runner's image would have on PATH."""
    where.mkdir(parents=True, exist_ok=True)
    for name in SCANNER_TOOLS:
        if not (where / name).exists():
            (where / name).symlink_to(VENV_BIN / name)
    base = Path(getattr(sys, "_base_executable", sys.executable)).resolve()
    for name in ("python3", "python"):
        if not (where / name).exists():
            (where / name).symlink_to(base)
    return where


def job_env(*, tools: Path, deps: Path, home: Path) -> dict[str, str]:
    """gitlab-ci-local's environment, which its shell-executor jobs inherit."""
    system = [str(Path(p).parent) for p in (shutil.which("git"), shutil.which("node"), shutil.which("rsync")) if p]
    return {
        "PATH": os.pathsep.join([str(tools), *dict.fromkeys(system), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        # The dependencies are installed (pip sees them on the path and installs only the wheel).
        "PYTHONPATH": str(deps),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",  # refuses connections: nothing from an index
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "XDG_CACHE_HOME": str(home / ".cache"),
        "SEMGREP_ENABLE_VERSION_CHECK": "0",
        "GCL_IGNORE_PREDEFINED_VARS": ",".join(PREDEFINED),
    }


# Predefined variables the test sets for a merge request pipeline (gitlab-ci-local warns).
PREDEFINED = (
    "CI_PIPELINE_SOURCE",
    "CI_API_V4_URL",
    "CI_SERVER_URL",
    "CI_PROJECT_ID",
    "CI_JOB_URL",
    "CI_JOB_TOKEN",
    "CI_PIPELINE_URL",
    "CI_OPEN_MERGE_REQUESTS",
)


@dataclass
class CiProject:
    repo: Path
    base: str
    head: str

    @property
    def state(self) -> Path:
        return self.repo / ".gitlab-ci-local"

    def artifact(self, job: str, rel: str) -> Path:
        return self.state / "artifacts" / job.replace(":", "-").replace(" ", "-") / rel

    def build(self, job: str, rel: str = "") -> Path:
        return self.state / "builds" / job.replace(":", "-").replace(" ", "-") / rel


def make_project(
    where: Path,
    base: dict[str, Content],
    head: dict[str, Content],
    *,
    ci: str,
) -> CiProject:
    """A merge request's repository (``main`` = base, branch ``feature`` = head) with ``ci`` as
    its ``.gitlab-ci.yml`` on both, and secscan's template and component where gitlab-ci-local
    looks for the includes it would fetch."""
    where.mkdir(parents=True, exist_ok=True)
    repo, base_sha = new_repo(where, {**base, ".gitlab-ci.yml": ci})
    head_sha = commit(repo, head, "the merge request")
    git(repo, "remote", "add", "origin", f"https://{HOST}/{PROJECT_PATH}.git")
    includes = repo / ".gitlab-ci-local" / "includes" / HOST / "acme" / "secscan"
    template = includes / f"v{__version__}" / "templates" / "gitlab" / "secscan.gitlab-ci.yml"
    component = includes / __version__ / "templates" / "secscan" / "template.yml"
    for dest, src in (
        (template, ROOT / "templates" / "gitlab" / "secscan.gitlab-ci.yml"),
        (component, ROOT / "templates" / "secscan" / "template.yml"),
    ):
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest)
    (repo / ".git" / "info" / "exclude").write_text(".gitlab-ci-local/\n", encoding="utf-8")
    return CiProject(repo, base_sha, head_sha)


# Each job on this machine, in its own copy of the checkout (no image can be pulled here).
SHELL_EXECUTOR = ("--force-shell-executor", "--shell-isolation")


JOB_URL = "https://gitlab.example.com/acme/payments/-/jobs/42"


def mr_variables(gl: GitLabStandIn, project: CiProject, iid: int) -> dict[str, str]:
    """The predefined variables of a merge request pipeline of the stand-in's project 7, and the
    token and plain-HTTP permission the jobs publish to the stand-in with."""
    return {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_API_V4_URL": gl.api_url,
        "CI_SERVER_URL": gl.url,
        "CI_PROJECT_ID": "7",
        "CI_MERGE_REQUEST_IID": str(iid),
        "CI_MERGE_REQUEST_PROJECT_ID": "7",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": project.base,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature",
        "CI_JOB_URL": JOB_URL,
        "SECSCAN_GITLAB_TOKEN": gl.private_token,
        "SECSCAN_GITLAB_ALLOW_HTTP": "true",
    }


def docker_executor(helper: str) -> tuple[str, ...]:
    """Each job in a container of its ``image:`` (local images only: gitlab-ci-local inspects
    before it pulls), on the host's network (the GitLab stand-in listens on loopback); ``helper``
    is the image of the containers that copy the checkout, caches and artifacts (bash, rsync)."""
    return ("--network", "host", "--helper-image", helper, "--pull-policy", "if-not-present", "--cleanup")


@dataclass
class PipelineRun:
    returncode: int
    log: str
    jobs: dict[str, str]
    """Job name -> gitlab-ci-local's final status line for it (e.g. ``success``, ``failed``)."""


def run_pipeline(
    exe: str,
    project: CiProject,
    variables: dict[str, str],
    env: dict[str, str],
    *,
    jobs: tuple[str, ...] = (),
    timeout: float = 1500,
    executor: tuple[str, ...] = SHELL_EXECUTOR,
) -> PipelineRun:
    """The merge request pipeline (or only ``jobs``), each job run the way ``executor`` says."""
    argv = [exe, *jobs, *executor, "--no-color", "--max-job-name-padding", "0"]
    for k, v in variables.items():
        argv += ["--variable", f"{k}={v}"]
    proc = subprocess.run(argv, cwd=project.repo, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    log = proc.stdout + proc.stderr
    return PipelineRun(proc.returncode, log, _job_states(log))


def _job_states(log: str) -> dict[str, str]:
    """gitlab-ci-local's summary lines: ``PASS  job``, ``FAIL  job``, ``WARN  job`` (allowed to fail)."""
    states: dict[str, str] = {}
    for line in log.splitlines():
        m = re.match(r"^\s*(PASS|FAIL|WARN)\s+(\S.*?)\s*$", line)
        if m:
            states[m.group(2)] = m.group(1)
    return states


def list_jobs(exe: str, project: CiProject, variables: dict[str, str], env: dict[str, str]) -> list[dict[str, Any]]:
    """The jobs the pipeline would create (``--list-json``: rules evaluated, ``when: never`` included)."""
    argv = [exe, "--list-json", "--no-json-schema-validation"]
    for k, v in variables.items():
        argv += ["--variable", f"{k}={v}"]
    proc = subprocess.run(argv, cwd=project.repo, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    start = proc.stdout.index("[")
    jobs: list[dict[str, Any]] = json.loads(proc.stdout[start:])
    return [j for j in jobs if j.get("when") != "never"]


def summary_note(gl: GitLabStandIn, iid: int) -> str | None:
    """The merge request's secscan summary note (the last one), if any."""
    mr = gl.merge_requests.get((7, iid))
    if mr is None:
        return None
    notes = [n["body"] for n in mr.notes() if n.get("type") != "DiffNote" and "secscan:summary" in n["body"]]
    return notes[-1] if notes else None


def findings_key(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """What two runs on one merge request must agree on, finding by finding."""
    return sorted((f["fingerprint"], f["rule_id"], f["severity"], f["status"]) for f in result["findings"])


def comparable_note(body: str | None, head: str) -> tuple[list[str], list[tuple[str, str]]] | None:
    """The note without what two runs of one merge request may differ in: the scanner table's
    rows become a set of (scanner, state) (their order is the order results arrived, their
    durations differ, a sharded scanner has one row per shard), the footer's start time and diff
    base commit (each run's repository is its own, with its own .gitlab-ci.yml) and the links
    line (only a pipeline has a job and artifacts) go; the head commit is named as such."""
    if body is None:
        return None
    lines: list[str] = []
    rows: set[tuple[str, str]] = set()
    # A file a scanner could not analyse says so the same way, whether this run or a cached one
    # found out (a warm local cache marks it "[from the cache]"; the pipeline's cache is its own).
    body = body.replace(" \\[from the cache\\]", "")
    for line in body.replace(f"commit {head[:12]}", "commit <head>").splitlines():
        cells = [c.strip() for c in line.split("|")[1:-1]]
        if len(cells) >= 6 and cells[1].split()[-1:] and cells[1].split()[-1] in SCANNER_STATES:
            # Scanner and state (the columns after them: version, counts, time, note).
            rows.add((cells[0], cells[1]))
        elif not line.startswith(("🔗", "<sub>secscan ")):
            lines.append(line)
    return lines, sorted(rows)


SCANNER_STATES = {"ok", "skipped", "failed", "timeout", "incomplete", "error"}
