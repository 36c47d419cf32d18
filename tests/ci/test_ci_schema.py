"""The CI files against GitLab's own CI schema (tests/data/ci/gitlab-ci.json), and their wiring.

Validated: the project's .gitlab-ci.yml, the includable template and the CI/CD component (its
``spec:`` header and its body with the inputs interpolated, defaults and custom values).
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from secscan import reporters
from secscan.cli import COMMANDS
from secscan.scanners import registry

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "tests" / "data" / "ci" / "gitlab-ci.json").read_text(encoding="utf-8"))
TEMPLATE = ROOT / "templates" / "gitlab" / "secscan.gitlab-ci.yml"
COMPONENT = ROOT / "templates" / "secscan" / "template.yml"
PROJECT = ROOT / ".gitlab-ci.yml"
INPUT = re.compile(r"\$\[\[\s*inputs\.(\w+)\s*\]\]")
REPORTS = {
    "sast": "gitlab-sast",
    "dependency_scanning": "gitlab-dependency-scanning",
    "dast": "gitlab-dast",
    "secret_detection": "gitlab-secret-detection",
    "codequality": "codequality",
    "junit": "junit",
}


class _Loader(yaml.SafeLoader):
    """safe_load plus GitLab's ``!reference [job, key]`` tag (kept as the list it is)."""


_Loader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))  # type: ignore[arg-type]


def load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)


def errors(config: Any) -> list[str]:
    v = jsonschema.Draft7Validator(SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(config)]


def component_docs(inputs: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(spec header, body with the inputs interpolated as GitLab does)."""
    header_text, body_text = COMPONENT.read_text(encoding="utf-8").split("\n---\n", 1)
    header = load(header_text)
    spec = header["spec"]["inputs"]
    values = {k: v.get("default") for k, v in spec.items()}
    values.update(inputs or {})
    missing = [k for k, v in values.items() if v is None]
    assert not missing, f"inputs without default: {missing}"

    def sub(m: re.Match[str]) -> str:
        v = values[m.group(1)]
        return ("true" if v else "false") if isinstance(v, bool) else str(v)

    return header, load(INPUT.sub(sub, body_text))


def test_schema_is_gitlabs_ci_schema() -> None:
    assert SCHEMA["$id"] == "https://gitlab.com/.gitlab-ci.yml"
    assert {"sast", "dependency_scanning", "dast", "codequality", "junit"} <= set(
        SCHEMA["definitions"]["artifacts"]["properties"]["reports"]["properties"]
    )


@pytest.mark.parametrize("path", [PROJECT, TEMPLATE], ids=["project", "template"])
def test_file_is_valid_gitlab_ci(path: Path) -> None:
    assert errors(load(path.read_text(encoding="utf-8"))) == []


def test_component_is_valid_gitlab_ci_with_default_and_custom_inputs() -> None:
    header, body = component_docs()
    assert errors(header) == []
    assert errors(body) == []
    _, custom = component_docs(
        {"stage": "security", "zap_target": "https://review.example.com", "publish": False, "skip": "semgrep"}
    )
    assert errors(custom) == []
    assert custom[".secscan-base"]["stage"] == "security"
    assert custom[".secscan-base"]["variables"]["SECSCAN_PUBLISH_MR"] == "false"
    assert custom[".secscan-base"]["variables"]["SECSCAN_ZAP_TARGET"] == "https://review.example.com"


def test_every_script_line_is_a_string() -> None:
    # A line like `- echo "a: b"` is a YAML mapping, not a command: GitLab rejects the file.
    for path in (TEMPLATE, PROJECT):
        for name, job in load(path.read_text(encoding="utf-8")).items():
            if isinstance(job, dict):
                for key in ("before_script", "script", "after_script"):
                    for line in job.get(key, []):
                        assert isinstance(line, str), f"{path.name}: {name}.{key}: {line!r}"


def test_validator_rejects_a_broken_template() -> None:
    # The check is only worth something if the schema really bites on this template.
    config = load(TEMPLATE.read_text(encoding="utf-8"))
    broken = copy.deepcopy(config)
    broken["secscan"]["when"] = "sometimes"
    assert any("sometimes" in e for e in errors(broken))
    broken = copy.deepcopy(config)
    broken["secscan"]["artifacts"]["when"] = "whenever"
    assert errors(broken)


def test_final_job_declares_every_report_with_the_reporters_file_names() -> None:
    config = load(TEMPLATE.read_text(encoding="utf-8"))
    job = config["secscan"]
    reports = job["artifacts"]["reports"]
    assert {"sast", "dependency_scanning", "dast", "codequality", "junit"} <= set(reports)
    formats = config["variables"]["SECSCAN_REPORT_FORMATS"].split(",")
    for key, fmt in REPORTS.items():
        assert reports[key] == f"secscan-reports/{reporters.default_filename(fmt)}", key
        assert fmt in formats, f"{fmt} is declared as a report but not rendered"
    assert job["artifacts"]["when"] == "always"  # reports even when the gate fails


def test_one_job_per_scanner_each_keeping_its_result() -> None:
    config = load(TEMPLATE.read_text(encoding="utf-8"))
    for scanner in registry.names():  # one job per scanner the registry knows
        job = config[f"secscan:{scanner}"]
        assert job["variables"]["SECSCAN_SCANNER"] == scanner
        assert job["extends"] == ".secscan-scan"
    scan = config[".secscan-scan"]
    assert any('--only "$SECSCAN_SCANNER"' in line for line in scan["script"])
    assert scan["artifacts"]["paths"] == ["secscan-results/"]
    needed = {n["job"] for n in config["secscan"]["needs"]}
    assert needed == {f"secscan:{n}" for n in registry.names()}
    zap_rules = config["secscan:zap"]["rules"]
    assert zap_rules[0] == {"if": '$SECSCAN_ZAP_TARGET == null || $SECSCAN_ZAP_TARGET == ""', "when": "never"}


def test_component_inputs_are_declared_and_used_and_jobs_match_the_template() -> None:
    text = COMPONENT.read_text(encoding="utf-8")
    header_text, body_text = text.split("\n---\n", 1)
    declared = set(load(header_text)["spec"]["inputs"])
    used = set(INPUT.findall(body_text))
    assert used == declared
    template = load(TEMPLATE.read_text(encoding="utf-8"))
    _, body = component_docs()
    jobs = {k for k in template if k not in ("variables",)}
    assert jobs == set(body)
    for name in jobs:
        if "script" in template[name]:
            assert body[name]["script"] == template[name]["script"], name
        if "artifacts" in template[name]:
            assert body[name]["artifacts"] == template[name]["artifacts"], name


def test_readme_documents_every_variable_and_input() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## GitLab CI" in readme, "README needs its 'GitLab CI' section"
    section = readme.split("## GitLab CI", 1)[1].split("\n## ", 1)[0]
    assert "include:" in section and "secscan.gitlab-ci.yml" in section
    names = set(load(TEMPLATE.read_text(encoding="utf-8"))["variables"]) | {"SECSCAN_GITLAB_TOKEN"}
    for name in sorted(names):
        assert f"`{name}`" in section, f"README 'GitLab CI' does not document {name}"
    header, _ = component_docs()
    for name in header["spec"]["inputs"]:
        assert f"`{name}`" in section, f"README 'GitLab CI' does not document input {name}"
    assert "## Pre-push hook" in readme


def test_project_pipeline_tests_then_scans_itself_with_the_template() -> None:
    config = load(PROJECT.read_text(encoding="utf-8"))
    assert config["stages"] == ["test", "security", "release"]
    assert {"local": "templates/gitlab/secscan.gitlab-ci.yml"} in config["include"]
    assert config["test"]["stage"] == "test"
    assert "make test" in config["test"]["script"]
    assert config[".secscan-base"] == {"stage": "security"}  # the template's jobs, in the security stage


def test_pre_commit_hook_definition() -> None:
    hooks = load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["stages"] == ["pre-push"]
    assert hook["pass_filenames"] is False
    assert hook["entry"].split()[:2] == ["secscan", "hook"]
    assert "hook" in COMMANDS
