"""[trust-2] (issue 25) classes 1 (manifests) and 4: audited means audited.

Real merge requests, scanned as the merge-request pipeline runs secscan (job token in the
environment), with the real pip-audit offline against the project's advisory fixtures
(``jinja2==2.10`` has advisories there; ``jinja2==3.1.6`` has none). Each hostile case sits next
to a control that differs only by the hostile change: the control fails the gate (exit 1, the
finding new); the hostile case fails it too (exit 1 with the finding new, or exit 3 with the
manifest named as not audited) and leaks nothing (``scan_mr`` checks every output for the job's
credentials; these tests also check that no byte of a file outside the tree shows up).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.support.mergerequest import SECRETS, Content, Link, Scan, git, job_env, make_mr, scan_mr

ROOT = Path(__file__).resolve().parents[2]
ADVISORY_DB = ("--advisory-db", str(ROOT / "examples" / "advisories"))
CLEAN = "x = 1\n"
BASE: dict[str, Content] = {"app.py": CLEAN, "requirements.txt": "jinja2==3.1.6\n"}
VULNERABLE = "jinja2==2.10\n"
OUTSIDE_MARKER = "OUTSIDE-THE-TREE-4242"
# The operator's policy (trusted: read at the base): a new medium finding blocks, as the jinja2
# 2.10 advisories are (their records carry no CVSS score).
POLICY = {"ci/policy.toml": 'version = 1\nname = "team"\n[block]\nnew_at_or_above = "medium"\n'}


def mr(tmp_path: Path, base: dict[str, Content], head: dict[str, Content]) -> tuple[Path, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return make_mr(tmp_path, {**POLICY, **base}, head)


def pipeline_env(sha: str, **extra: str) -> dict[str, str]:
    return job_env(sha, SECSCAN_POLICY="ci/policy.toml", **extra)


def outside_file(tmp_path: Path) -> Path:
    """A file next to the repository (outside it) whose bytes must never reach an output."""
    path = tmp_path / "outside.txt"
    path.write_text(f"{OUTSIDE_MARKER}==1.0\nnot a requirement {OUTSIDE_MARKER}\n")
    return path


def audit(tmp_path: Path, head: dict[str, Content], *, base: dict[str, Content] | None = None) -> Scan:
    require_tool("pip-audit")
    repo, sha = mr(tmp_path, BASE if base is None else base, head)
    return scan_mr(repo, sha, "pip-audit", extra=ADVISORY_DB, env=pipeline_env(sha))


def outputs(scan: Scan) -> str:
    files = [p.read_text(errors="replace") for p in scan.out_dir.rglob("*") if p.is_file()]
    return "\n".join([scan.stdout, scan.stderr, *files])


def jinja_is_new(scan: Scan) -> bool:
    return any(f["location"].get("package") == "jinja2" and f["status"] == "new" for f in scan.result["findings"])


def not_audited(scan: Scan, scanner: str = "pip-audit") -> str:
    return "\n".join(scan.status(scanner).get("not_audited") or [])


def assert_control(scan: Scan) -> None:
    assert scan.status("pip-audit")["state"] == "ok", scan.status("pip-audit")
    assert jinja_is_new(scan), scan.result["findings"]
    assert scan.code == 1, scan.stderr


def assert_not_audited(scan: Scan, *names: str) -> None:
    status = scan.status("pip-audit")
    assert status["state"] == "failed", status
    listed = not_audited(scan)
    for name in names:
        assert name in listed, listed
    assert scan.code in (1, 3), scan.stderr
    assert scan.code == 1 or jinja_is_new(scan) is False


def test_control_a_vulnerable_pin_fails_the_gate(tmp_path: Path) -> None:
    assert_control(audit(tmp_path, {"requirements.txt": VULNERABLE}))


# ------------------------------------------------------------------ manifests that are links


def test_a_requirements_link_to_the_environment_is_never_read(tmp_path: Path) -> None:
    scan = audit(tmp_path, {"requirements.txt": Link("/proc/self/environ")})
    assert scan.code == 3, scan.stderr
    assert_not_audited(scan, "requirements.txt")
    text = outputs(scan)
    for name in SECRETS:  # not even the variables' names: the file was never opened
        assert name not in text
    assert "PATH=" not in text


def test_a_requirements_link_to_the_git_config_is_never_read(tmp_path: Path) -> None:
    require_tool("pip-audit")
    repo, sha = mr(tmp_path, BASE, {"requirements.txt": Link(".git/config")})
    # The runner's clone: the job token sits in the remote URL.
    git(
        repo, "remote", "add", "origin", f"https://gitlab-ci-token:{SECRETS['CI_JOB_TOKEN']}@gitlab.example.com/g/p.git"
    )
    scan = scan_mr(repo, sha, "pip-audit", extra=ADVISORY_DB)
    assert scan.code == 3, scan.stderr
    assert_not_audited(scan, "requirements.txt")
    assert "gitlab.example.com" not in outputs(scan)


@pytest.mark.parametrize("target", ["../outside.txt", "missing.txt"], ids=["leaves-the-tree", "dangling"])
def test_a_requirements_link_out_of_the_tree_or_dangling_is_not_audited(tmp_path: Path, target: str) -> None:
    outside_file(tmp_path)
    scan = audit(tmp_path, {"requirements.txt": Link(target)})
    assert scan.code == 3, scan.stderr
    assert_not_audited(scan, "requirements.txt")
    assert OUTSIDE_MARKER not in outputs(scan)


def test_a_requirements_link_inside_the_tree_is_audited_at_its_tree_path(tmp_path: Path) -> None:
    scan = audit(tmp_path, {"deps/pins.txt": VULNERABLE, "requirements.txt": Link("deps/pins.txt")})
    assert_control(scan)
    jinja = [f for f in scan.result["findings"] if f["location"].get("package") == "jinja2"]
    assert {f["location"]["path"] for f in jinja} == {"deps/pins.txt"}


def test_a_link_to_another_manifest_is_read_once(tmp_path: Path) -> None:
    scan = audit(tmp_path, {"requirements/base.txt": VULNERABLE, "requirements.txt": Link("requirements/base.txt")})
    assert_control(scan)
    assert sum("requirements/base.txt" in c for c in scan.status("pip-audit")["command"]) == 1


@pytest.mark.parametrize(
    "line",
    [
        "-r ../outside.txt",
        "-r../outside.txt",
        "--requirement=../outside.txt",
        "-c ../outside.txt",
        "--constraint ../outside.txt",
        "-r {outside}",
        "-r ../../../../../../../../proc/self/environ",
        "-r .git/config",
    ],
)
def test_an_include_outside_the_tree_is_never_read(tmp_path: Path, line: str) -> None:
    outside = outside_file(tmp_path)
    control = audit(tmp_path / "control", {"requirements.txt": VULNERABLE})
    assert_control(control)
    scan = audit(tmp_path, {"requirements.txt": VULNERABLE + line.format(outside=outside) + "\n"})
    # The pins of the file are still audited; the include is listed as not audited.
    assert jinja_is_new(scan)
    assert_not_audited(scan, "requirements.txt: -")
    text = outputs(scan)
    assert OUTSIDE_MARKER not in text
    assert "PATH=" not in text


def test_an_include_inside_the_tree_is_followed(tmp_path: Path) -> None:
    control = audit(tmp_path / "control", {"requirements.txt": VULNERABLE})
    assert_control(control)
    scan = audit(
        tmp_path / "hostile", {"requirements.txt": "-r requirements/base.in\n", "requirements/base.in": VULNERABLE}
    )
    assert_control(scan)


def test_a_lock_name_that_injects_an_include_is_not_handed_to_pip_audit(tmp_path: Path) -> None:
    outside_file(tmp_path)
    lock = (
        'version = 1\n[[package]]\nname = "jinja2"\nversion = "2.10"\n'
        '[[package]]\nname = "x==1\\n-r ../../outside.txt\\n#"\nversion = "1.0"\n'
    )
    scan = audit(tmp_path, {"uv.lock": lock})
    assert jinja_is_new(scan)
    assert_not_audited(scan, "uv.lock")
    assert OUTSIDE_MARKER not in outputs(scan)


# ------------------------------------------------------------------ environment markers


@pytest.mark.parametrize(
    "marker",
    ['python_version >= "3.99"', 'platform_machine == "aarch64-nope"', 'sys_platform == "win32"'],
)
def test_a_pin_is_audited_whatever_the_runners_markers_say(tmp_path: Path, marker: str) -> None:
    assert_control(audit(tmp_path / "control", {"requirements.txt": VULNERABLE}))
    scan = audit(tmp_path / "hostile", {"requirements.txt": f"jinja2==2.10 ; {marker}\n"})
    assert_control(scan)


def test_a_marker_false_on_the_runner_in_pyproject_is_audited(tmp_path: Path) -> None:
    pyproject = '[project]\nname = "app"\nversion = "1"\ndependencies = ["jinja2==2.10; sys_platform == \'win32\'"]\n'
    assert_control(audit(tmp_path, {"pyproject.toml": pyproject}))


def _fake_pip_audit(tmp_path: Path, report_pins: bool) -> Path:
    """A stand-in pip-audit: reports every pin it is handed (jinja2 2.10 vulnerable), or none."""
    script = tmp_path / "pip-audit"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "a = sys.argv\n"
        "out, req = a[a.index('-o') + 1], a[a.index('-r') + 1]\n"
        "deps = []\n"
        f"for line in open(req).read().split() if {report_pins!r} else []:\n"
        "    n, v = line.split('==')\n"
        "    vulns = [{'id': 'PYSEC-2019-217', 'fix_versions': ['2.10.1'], 'aliases': []}] if n == 'jinja2' else []\n"
        "    deps.append({'name': n, 'version': v, 'vulns': vulns})\n"
        "json.dump({'dependencies': deps, 'fixes': []}, open(out, 'w'))\n"
    )
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("report_pins", [True, False], ids=["control", "reports-nothing"])
def test_pins_pip_audit_does_not_report_are_not_audited(tmp_path: Path, report_pins: bool) -> None:
    five = "jinja2==2.10\nflask==0.12\nrequests==2.19.1\nurllib3==1.26.4\npyyaml==5.3\n"
    repo, sha = mr(tmp_path, BASE, {"requirements.txt": five})
    fake = _fake_pip_audit(tmp_path, report_pins)
    scan = scan_mr(repo, sha, "pip-audit", extra=ADVISORY_DB, env=pipeline_env(sha, SECSCAN_PIP_AUDIT_BIN=str(fake)))
    if report_pins:
        assert_control(scan)
        return
    assert scan.code == 3, scan.stderr
    assert_not_audited(scan, "jinja2==2.10", "flask==0.12", "requests==2.19.1", "urllib3==1.26.4", "pyyaml==5.3")


# ------------------------------------------------------------------ declarations pip-audit cannot read


POETRY = '[tool.poetry]\nname = "app"\nversion = "1"\n[tool.poetry.dependencies]\npython = "^3.9"\n'


@pytest.mark.parametrize(
    ("head", "audited"),
    [
        ({"pyproject.toml": POETRY + 'jinja2 = "2.10"\n'}, True),
        ({"pyproject.toml": POETRY + 'jinja2 = {version = "==2.10", extras = ["i18n"]}\n'}, True),
        ({"pyproject.toml": POETRY + '[tool.poetry.group.dev.dependencies]\njinja2 = "2.10"\n'}, True),
        ({"pyproject.toml": POETRY + 'jinja2 = "^2.10"\n'}, False),
        ({"pyproject.toml": POETRY + '[tool.poetry.group.dev.dependencies]\njinja2 = ">=2.10"\n'}, False),
        ({"pyproject.toml": POETRY + 'jinja2 = {git = "https://example.com/jinja.git"}\n'}, False),
        (
            {
                "pyproject.toml": POETRY + 'jinja2 = "^2.10"\n',
                "poetry.lock": '[[package]]\nname = "jinja2"\nversion = "2.10"\n',
            },
            True,
        ),
        ({"Pipfile": '[packages]\njinja2 = "==2.10"\n'}, True),
        ({"Pipfile": '[dev-packages]\njinja2 = {version = "==2.10"}\n'}, True),
        ({"Pipfile": '[packages]\njinja2 = "*"\n'}, False),
    ],
    ids=[
        "poetry-exact",
        "poetry-table",
        "poetry-group",
        "poetry-caret-no-lock",
        "poetry-group-range",
        "poetry-git",
        "poetry-with-lock",
        "pipfile-exact",
        "pipfile-dev-table",
        "pipfile-star-no-lock",
    ],
)
def test_poetry_and_pipfile_dependencies_are_audited_or_listed(
    tmp_path: Path, head: dict[str, Content], audited: bool
) -> None:
    base: dict[str, Content] = {"app.py": CLEAN}
    assert_control(audit(tmp_path / "control", {"requirements.txt": VULNERABLE}, base=base))
    scan = audit(tmp_path / "hostile", head, base=base)
    if audited:
        assert_control(scan)
    else:
        assert scan.code == 3, scan.stderr
        assert_not_audited(scan, "jinja2")


DYNAMIC = '[project]\nname = "app"\nversion = "1"\ndynamic = ["dependencies"]\n'


@pytest.mark.parametrize(
    ("head", "audited", "listed"),
    [
        (
            {
                "pyproject.toml": DYNAMIC + '[tool.setuptools.dynamic]\ndependencies = {file = ["deps/runtime.txt"]}\n',
                "deps/runtime.txt": VULNERABLE,
            },
            True,
            "",
        ),
        (
            {
                "pyproject.toml": DYNAMIC + '[tool.setuptools.dynamic]\ndependencies = {file = ["requirements.in"]}\n',
                "requirements.in": VULNERABLE,
            },
            True,
            "",
        ),
        (
            {"pyproject.toml": DYNAMIC + '[tool.setuptools.dynamic]\ndependencies = {file = ["../outside.txt"]}\n'},
            False,
            "../outside.txt",
        ),
        ({"pyproject.toml": DYNAMIC}, False, "dynamic"),
    ],
    ids=["file-in-tree", "requirements-in", "file-outside-the-tree", "no-file-named"],
)
def test_dynamic_dependencies_are_read_from_the_tree_or_listed(
    tmp_path: Path, head: dict[str, Content], audited: bool, listed: str
) -> None:
    outside_file(tmp_path)
    base: dict[str, Content] = {"app.py": CLEAN}
    scan = audit(tmp_path, head, base=base)
    if audited:
        assert_control(scan)
    else:
        assert scan.code == 3, scan.stderr
        assert_not_audited(scan, "pyproject.toml", listed)
    assert OUTSIDE_MARKER not in outputs(scan)


# ------------------------------------------------------------------ npm lockfiles


def _npm_lock(**versions: str) -> str:
    packages: dict[str, object] = {"": {"name": "app", "version": "1.0.0"}}
    for name, version in versions.items():
        packages[f"node_modules/{name}"] = {
            "version": version,
            "resolved": f"https://registry.npmjs.org/{name}/-/{name}-{version}.tgz",
            "integrity": "sha512-" + "A" * 86 + "==",
        }
    return json.dumps({"name": "app", "lockfileVersion": 3, "requires": True, "packages": packages}, indent=2) + "\n"


@pytest.mark.parametrize(
    "hostile", [None, Link("/proc/self/environ"), Link("../outside.txt"), Link(".git/config")], ids=str
)
def test_npm_lockfile_links_out_of_the_tree_are_never_read(tmp_path: Path, hostile: Link | None) -> None:
    outside_file(tmp_path)
    base: dict[str, Content] = {"app.js": "1;\n", "package-lock.json": _npm_lock(express="4.21.0")}
    head: dict[str, Content] = {"package-lock.json": hostile or _npm_lock(express="4.18.0")}
    repo, sha = mr(tmp_path, base, head)
    scan = scan_mr(repo, sha, "npm-audit", extra=ADVISORY_DB, env=pipeline_env(sha))
    status = scan.status("npm-audit")
    if hostile is None:
        assert status["state"] == "ok", status
        assert any(f["location"].get("package") == "express" and f["status"] == "new" for f in scan.result["findings"])
        assert scan.code == 1
        return
    assert scan.code == 3, scan.stderr
    assert status["state"] == "failed"
    assert "package-lock.json" in not_audited(scan, "npm-audit")
    text = outputs(scan)
    assert OUTSIDE_MARKER not in text
    for name in SECRETS:
        assert name not in text


@pytest.mark.parametrize(
    "manifest",
    [
        ("requirements.txt", "-r deps/common.txt\n"),
        ("pyproject.toml", DYNAMIC + '[tool.setuptools.dynamic]\ndependencies = {file = ["deps/common.txt"]}\n'),
    ],
    ids=["include", "dynamic"],
)
def test_a_pin_changed_in_a_file_a_manifest_names_is_new_there(tmp_path: Path, manifest: tuple[str, str]) -> None:
    # Only the named file changes: the finding is placed on its changed line, not on the
    # unchanged manifest (where it would be read as "existing" and pass).
    base: dict[str, Content] = {"app.py": CLEAN, manifest[0]: manifest[1], "deps/common.txt": "jinja2==3.1.6\n"}
    scan = audit(tmp_path, {"deps/common.txt": VULNERABLE}, base=base)
    assert_control(scan)
    assert {f["location"]["path"] for f in scan.result["findings"]} == {"deps/common.txt"}
