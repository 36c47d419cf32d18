"""Run the template's jobs in pipeline order, the way a GitLab runner would, end to end.

Each job gets a fresh clone of a scratch repository (a merge request adding a shell-injection
and a vulnerable pin), GitLab's predefined variables, the template's variables (project CI/CD
variables win), and only the artifacts GitLab would hand it (``needs:``). Its ``before_script``
and ``script`` lines run in bash with ``set -eo pipefail`` as the runner does. The final job
publishes to the GitLab API stand-in with the real python-gitlab client. Nothing is mocked; the
pip-audit job uses the bundled advisories (``examples/advisories``), so no internet is needed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from secscan.scanners import registry
from tests.conftest import ROOT, VENV_BIN, require_tool
from tests.support.gitlab_standin import GitLabStandIn

TEMPLATE = ROOT / "templates" / "gitlab" / "secscan.gitlab-ci.yml"
DEFAULT_STAGES = [".pre", "build", "test", "deploy", ".post"]

OLD_PAY = "def pay(amount):\n    return amount\n"
NEW_PAY = (
    "import subprocess\n"
    "\n"
    "\n"
    "def pay(amount):\n"
    "    return amount\n"
    "\n"
    "\n"
    "def refund(cmd):\n"
    "    subprocess.call(cmd, shell=True)\n"
)
OLD_REQ = "urllib3==2.2.2\n"
NEW_REQ = "urllib3==2.2.2\nrequests==2.19.1\n"


class Reference(list[str]):
    """GitLab's ``!reference [job, key]``."""


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_constructor("!reference", lambda loader, node: Reference(loader.construct_sequence(node)))  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- GitLab semantics


def deep_merge(base: Any, over: Any) -> Any:
    """``extends`` merging: hashes merge deeply, everything else (arrays too) is replaced."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = deep_merge(base[k], v) if k in base else v
        return out
    return over


def resolve(config: dict[str, Any], name: str) -> dict[str, Any]:
    job = config[name]
    parents = job.get("extends", [])
    merged: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged = deep_merge(merged, resolve(config, parent))
    merged = deep_merge(merged, {k: v for k, v in job.items() if k != "extends"})
    return merged


def expand_references(config: dict[str, Any], value: Any) -> Any:
    if isinstance(value, Reference):
        target: Any = resolve(config, value[0])
        for key in value[1:]:
            target = target[key]
        return target
    if isinstance(value, list):
        out: list[Any] = []
        for item in value:
            resolved = expand_references(config, item)
            # A !reference to a list, inside a list (rules, script), is spliced in.
            if isinstance(item, Reference) and isinstance(resolved, list):
                out.extend(resolved)
            else:
                out.append(resolved)
        return out
    if isinstance(value, dict):
        return {k: expand_references(config, v) for k, v in value.items()}
    return value


_ATOM = re.compile(r"^\$(\w+)(?:\s*(==|!=|=~)\s*(.+))?$")


def evaluate(expr: str, variables: dict[str, str]) -> bool:
    """The subset of GitLab's rules:if expressions the template uses (anything else fails loudly)."""
    return any(all(_atom(a.strip(), variables) for a in part.split("&&")) for part in expr.split("||"))


def _atom(atom: str, variables: dict[str, str]) -> bool:
    m = _ATOM.match(atom)
    assert m, f"unsupported rules:if expression {atom!r}"
    name, op, rhs = m.groups()
    value = variables.get(name)
    if op is None:
        return bool(value)
    if op == "=~":
        pat = re.fullmatch(r"/(.*)/", rhs.strip())
        assert pat, f"unsupported regex {rhs!r}"
        return value is not None and re.search(pat.group(1), value) is not None
    rhs = rhs.strip()
    other: str | None
    if rhs == "null":
        other = None
    elif rhs.startswith('"') and rhs.endswith('"'):
        other = rhs[1:-1]
    else:
        assert rhs.startswith("$"), f"unsupported operand {rhs!r}"
        other = variables.get(rhs[1:])
    return (value == other) if op == "==" else (value != other)


def included(job: dict[str, Any], variables: dict[str, str]) -> bool:
    for rule in job.get("rules", [{"when": "on_success"}]):
        if "if" not in rule or evaluate(rule["if"], variables):
            return rule.get("when", "on_success") != "never"
    return False


def expand(value: str, variables: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), m.group(0)), value)


@dataclass
class Job:
    name: str
    spec: dict[str, Any]
    variables: dict[str, str]


def plan(config: dict[str, Any], ci_vars: dict[str, str], project_vars: dict[str, str]) -> list[Job]:
    """Jobs the pipeline creates, in an order that honours stages and needs."""
    stages = config.get("stages", DEFAULT_STAGES)
    global_vars = {k: str(v) for k, v in config.get("variables", {}).items()}
    jobs: list[Job] = []
    for name in config:
        if name.startswith(".") or name in ("variables", "stages", "include", "workflow", "default"):
            continue
        spec = expand_references(config, resolve(config, name))
        variables = {**ci_vars, **global_vars, **{k: str(v) for k, v in spec.get("variables", {}).items()}}
        variables.update(project_vars)
        variables = {k: expand(v, variables) for k, v in variables.items()}
        if included(spec, variables):
            jobs.append(Job(name, spec, variables))
    names = {j.name for j in jobs}
    for j in jobs:
        for need in j.spec.get("needs", []):
            need_name = need["job"] if isinstance(need, dict) else need
            optional = isinstance(need, dict) and need.get("optional", False)
            assert need_name in names or optional, f"{j.name} needs {need_name}, which is not in the pipeline"
    return sorted(jobs, key=lambda j: (stages.index(j.spec.get("stage", "test")), "needs" in j.spec))


# ----------------------------------------------------------------------------- the runner


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def scratch_repo(root: Path) -> tuple[Path, str, str]:
    repo = root / "origin"
    (repo / "app").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    (repo / "app" / "pay.py").write_text(OLD_PAY)
    (repo / "requirements.txt").write_text(OLD_REQ)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-qb", "refunds")
    (repo / "app" / "pay.py").write_text(NEW_PAY)
    (repo / "requirements.txt").write_text(NEW_REQ)
    git(repo, "commit", "-qam", "refunds")
    return repo, base, git(repo, "rev-parse", "HEAD")


def run_job(job: Job, *, origin: Path, work: Path, store: Path) -> tuple[int, str]:
    project = work / job.name.replace(":", "-")
    if job.variables.get("GIT_STRATEGY") == "none":
        project.mkdir(parents=True)  # GitLab: no checkout at all, only the artifacts of needs:
    else:
        subprocess.run(["git", "clone", "-q", str(origin), str(project)], check=True)
        git(project, "checkout", "-q", job.variables["CI_COMMIT_SHA"])
    needs = job.spec.get("needs")
    sources = [n["job"] if isinstance(n, dict) else n for n in needs] if needs is not None else []
    for source in sources:
        if (store / source).is_dir():
            shutil.copytree(store / source, project, dirs_exist_ok=True)
    variables = {**job.variables, "CI_PROJECT_DIR": str(project), "CI_JOB_NAME": job.name}
    variables = {k: expand(v, variables) for k, v in variables.items()}
    home = work / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        **variables,
    }
    lines = [*job.spec.get("before_script", []), *job.spec["script"]]
    script = "set -eo pipefail\n" + "\n".join(lines) + "\n"
    proc = subprocess.run(
        ["bash", "-c", script], cwd=project, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    artifacts = job.spec.get("artifacts", {})
    if proc.returncode == 0 or artifacts.get("when") in ("always", "on_failure"):
        for path in artifacts.get("paths", []):
            src = project / path
            if src.exists():
                shutil.copytree(src, store / job.name / path, dirs_exist_ok=True)
        for rel in artifacts.get("reports", {}).values():
            if (project / rel).is_file():
                (store / job.name / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(project / rel, store / job.name / rel)
    return proc.returncode, proc.stdout + proc.stderr


def load_template() -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_Loader)
    return data


def mr_variables(gl: GitLabStandIn, base: str, head: str) -> dict[str, str]:
    return {
        "CI": "true",
        "GITLAB_CI": "true",
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_API_V4_URL": gl.api_url,
        "CI_SERVER_URL": gl.url,
        "CI_PROJECT_ID": "7",
        "CI_PROJECT_PATH": "acme/payments",
        "CI_MERGE_REQUEST_IID": "3",
        "CI_MERGE_REQUEST_PROJECT_ID": "7",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "refunds",
        "CI_COMMIT_SHA": head,
        "CI_COMMIT_REF_NAME": "refunds",
        "CI_DEFAULT_BRANCH": "main",
        "CI_JOB_URL": "https://gitlab.example.com/acme/payments/-/jobs/42",
        "CI_PIPELINE_URL": "https://gitlab.example.com/acme/payments/-/pipelines/17",
    }


# ----------------------------------------------------------------------------- tests


def test_rules_select_the_jobs_a_merge_request_pipeline_gets() -> None:
    config = load_template()
    mr = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_DEFAULT_BRANCH": "main"}
    names = [j.name for j in plan(config, mr, {})]
    # One job per scanner of the registry (those of a running deployment only with a target).
    static = {f"secscan:{n}" for n in registry.names() if n not in registry.needing_deployment()}
    assert set(names) == static | {"secscan"}
    assert names[-1] == "secscan"
    with_zap = [j.name for j in plan(config, mr, {"SECSCAN_ZAP_TARGET": "https://review.example.com"})]
    assert "secscan:zap" in with_zap
    skipped = [j.name for j in plan(config, mr, {"SECSCAN_SKIP": "semgrep"})]
    assert "secscan:semgrep" not in skipped and "secscan:bandit" in skipped
    assert plan(config, mr, {"SECSCAN_DISABLED": "true"}) == []
    # A branch pipeline that is not the default branch: nothing (the MR pipeline covers it).
    assert (
        plan(config, {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "topic", "CI_DEFAULT_BRANCH": "main"}, {}) == []
    )
    default = plan(config, {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_DEFAULT_BRANCH": "main"}, {})
    assert {j.name for j in default} == static | {"secscan"}


@pytest.mark.integration
@pytest.mark.xdist_group("ci-pipeline")
def test_template_jobs_in_pipeline_order_end_to_end(tmp_path: Path, gitlab_standin: GitLabStandIn) -> None:
    require_tool("git")
    require_tool("bandit")
    require_tool("semgrep")
    require_tool("pip-audit")
    origin, base, head = scratch_repo(tmp_path)
    gl = gitlab_standin
    mr = gl.add_merge_request(
        project_id=7,
        iid=3,
        head_sha=head,
        base_sha=base,
        files={"app/pay.py": (OLD_PAY, NEW_PAY), "requirements.txt": (OLD_REQ, NEW_REQ)},
    )
    project_vars = {
        "SECSCAN_GITLAB_TOKEN": gl.private_token,
        "SECSCAN_GITLAB_ALLOW_HTTP": "true",
        "SECSCAN_ADVISORY_DB": str(ROOT / "examples" / "advisories"),
    }
    config = load_template()
    jobs = plan(config, mr_variables(gl, base, head), project_vars)
    store = tmp_path / "artifacts"
    work = tmp_path / "builds"
    codes: dict[str, int] = {}
    logs: dict[str, str] = {}
    for job in jobs:
        codes[job.name], logs[job.name] = run_job(job, origin=origin, work=work, store=store)

    # Scanner jobs succeed (the verdict is the final job's) and hand over their results.
    for name in (
        "secscan:bandit",
        "secscan:semgrep",
        "secscan:pip-audit",
        "secscan:npm-audit",
        "secscan:detect-secrets",
        "secscan:tree",
    ):
        scanner = name.split(":", 1)[1]
        assert codes[name] == 0, logs[name]
        result = json.loads((store / name / "secscan-results" / scanner / "secscan.json").read_text())
        assert [s["name"] for s in result["scanners"]] == [scanner]
    # The final job saw only those artifacts, merged them, gated (exit 1: new high findings).
    assert codes["secscan"] == 1, logs["secscan"]
    final = store / "secscan"
    gated = json.loads((final / "secscan-reports" / "secscan.json").read_text())
    scanners = {s["name"] for s in gated["scanners"]}
    assert scanners == {"bandit", "semgrep", "pip-audit", "npm-audit", "detect-secrets", "tree"}
    # No lockfile in this project: the npm audit had nothing to do (not a failure).
    assert {s["state"] for s in gated["scanners"] if s["name"] == "npm-audit"} == {"skipped"}
    assert gated["verdict"]["passed"] is False
    rules = {f["rule_id"] for f in gated["findings"]}
    assert "B602" in rules
    deps = [f for f in gated["findings"] if f["kind"] == "dependency"]
    assert deps and all(f["location"]["package"] == "requests" for f in deps)
    # Every report GitLab reads is there, where artifacts:reports points.
    reports = config["secscan"]["artifacts"]["reports"]
    for key, rel in reports.items():
        assert (final / rel).is_file(), f"{key}: {rel} missing"
    sast = json.loads((final / reports["sast"]).read_text())
    assert any(v["location"]["file"] == "app/pay.py" for v in sast["vulnerabilities"])
    dep = json.loads((final / reports["dependency_scanning"]).read_text())
    assert dep["vulnerabilities"]
    assert "<testsuite" in (final / reports["junit"]).read_text()
    # Published to the merge request through the stand-in; the token never reached a log.
    notes = mr.notes()
    summaries = [n for n in notes if n.get("type") != "DiffNote"]
    threads = [n for n in notes if n.get("type") == "DiffNote"]
    assert len(summaries) == 1 and "B602" in summaries[0]["body"]
    places = [(n["position"]["new_path"], n["position"]["new_line"]) for n in threads]
    # The new high finding, and the vulnerable pin the merge request added: one thread per
    # advisory, each offering the pin that fixes them all as a suggestion.
    assert places[0] == ("app/pay.py", 9) and set(places[1:]) == {("requirements.txt", 2)}, places
    assert all("```suggestion" in n["body"] for n in threads[1:])
    assert all(gl.private_token not in log for log in logs.values())


@pytest.mark.integration
@pytest.mark.xdist_group("ci-pipeline")
def test_results_committed_in_the_merge_request_never_reach_the_gate(
    tmp_path: Path, gitlab_standin: GitLabStandIn
) -> None:
    # The attacker commits a "clean" result for every scanner (and one for a scanner that is not
    # even in the pipeline), hoping the final job merges them instead of, or next to, real ones.
    require_tool("git")
    require_tool("bandit")
    origin, base, _head = scratch_repo(tmp_path)
    planted = {
        "schema": "secscan/1",
        "tool_version": "0.1.0",
        "target": ".",
        "started_at": "2026-01-01T00:00:00Z",
        "finished_at": "2026-01-01T00:00:01Z",
        "scanners": [{"name": "zap", "state": "ok"}],
        "findings": [],
    }
    for scanner in ("bandit", "zap"):
        path = origin / "secscan-results" / scanner / "secscan.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(planted))
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "ci: cache results")
    head = git(origin, "rev-parse", "HEAD")
    config = load_template()
    variables = mr_variables(gitlab_standin, base, head)
    jobs = {j.name: j for j in plan(config, variables, {"SECSCAN_SKIP": "semgrep,pip-audit"})}
    store, work = tmp_path / "artifacts", tmp_path / "builds"
    code, log = run_job(jobs["secscan:bandit"], origin=origin, work=work, store=store)
    assert code == 2, log
    assert "results cannot be committed" in log
    # And the final job has no checkout: even if it ran, only artifacts of needs: are there.
    assert jobs["secscan"].variables.get("GIT_STRATEGY") == "none"
    code, log = run_job(jobs["secscan"], origin=origin, work=work, store=store)
    assert code != 0  # no scanner result to merge: nothing passes
    assert not (store / "secscan" / "secscan-reports" / "secscan.json").exists()


@pytest.mark.integration
@pytest.mark.xdist_group("ci-pipeline")
def test_a_parallel_scanner_job_scans_shards_that_merge_into_one_scan(
    tmp_path: Path, gitlab_standin: GitLabStandIn
) -> None:
    # `parallel: 3` on secscan:bandit (a large repository): each node scans its shard, the final
    # job merges all of them, and the findings are those of one unsharded bandit job.
    require_tool("git")
    require_tool("bandit")
    origin, base, head = scratch_repo(tmp_path)
    for n in range(6):  # enough files that every shard gets some
        (origin / "app" / f"mod{n}.py").write_text(
            f"import subprocess\n\n\ndef f{n}(c):\n    subprocess.call(c, shell=True)\n"
        )
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "more modules")
    head = git(origin, "rev-parse", "HEAD")
    config = load_template()
    variables = mr_variables(gitlab_standin, base, head)
    skip = {"SECSCAN_SKIP": "semgrep,pip-audit,npm-audit,detect-secrets", "SECSCAN_PUBLISH_MR": "false"}
    jobs = {j.name: j for j in plan(config, variables, skip)}
    one = run_job(jobs["secscan:bandit"], origin=origin, work=tmp_path / "one", store=tmp_path / "one-store")
    assert one[0] == 0, one[1]
    single = json.loads(
        (tmp_path / "one-store" / "secscan:bandit" / "secscan-results" / "bandit" / "secscan.json").read_text()
    )
    store = tmp_path / "store"
    for k in (1, 2, 3):
        node = Job(
            jobs["secscan:bandit"].name,
            jobs["secscan:bandit"].spec,
            {**jobs["secscan:bandit"].variables, "CI_NODE_INDEX": str(k), "CI_NODE_TOTAL": "3"},
        )
        code, log = run_job(node, origin=origin, work=tmp_path / f"node{k}", store=store)
        assert code == 0, log
    shards = sorted(p.parent.name for p in (store / "secscan:bandit" / "secscan-results").glob("*/secscan.json"))
    assert shards == ["bandit-1", "bandit-2", "bandit-3"]
    code, log = run_job(jobs["secscan"], origin=origin, work=tmp_path / "final", store=store)
    assert code == 1, log
    merged = json.loads((store / "secscan" / "secscan-reports" / "secscan.json").read_text())
    key = lambda d: sorted((f["fingerprint"], f["status"]) for f in d["findings"])  # noqa: E731
    assert key(merged) == key(single)
    assert len(merged["findings"]) >= 7
