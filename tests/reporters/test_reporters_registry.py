"""The format registry: every format covered, names validated, "all" expanded per result."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from secscan import reporters
from secscan.errors import ConfigError
from secscan.models import Kind, RunResult, ScannerState, ScannerStatus
from secscan.reporters import REGISTRY, Format
from secscan.resultio import load

DATA = Path(__file__).resolve().parent.parent / "data" / "reporters"


def test_every_format_has_a_reporter_and_a_unique_file() -> None:
    assert set(REGISTRY) == set(Format)
    names = [reporters.default_filename(f) for f in Format]
    assert len(set(names)) == len(names)
    result = load(DATA / "result.json")
    for f in Format:
        assert reporters.render(f.value, result).strip(), f


def test_unknown_format_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as e:
        reporters.expand(["sarif", "pdf"])
    assert "'pdf'" in e.value.message and "gitlab-sast" in e.value.message and "all" in e.value.message
    with pytest.raises(ConfigError):
        reporters.render("pdf", load(DATA / "result.json"))


def test_expand_keeps_order_dedupes_and_splits_commas() -> None:
    assert reporters.expand(["html,SARIF", "html", " junit "]) == ("html", "sarif", "junit")
    assert reporters.expand(["all"]) == tuple(f.value for f in Format)


def test_all_includes_secret_detection_with_secret_findings_or_a_secret_scanner_run() -> None:
    result = load(DATA / "result.json")
    assert "gitlab-secret-detection" in reporters.expand(["all"], result)
    no_secrets = replace(result, findings=tuple(f for f in result.findings if f.kind is not Kind.SECRET))
    # bandit ran: it detects hard-coded credentials, so an empty report says the old ones are gone.
    assert any(s.name == "bandit" for s in no_secrets.scanners)
    assert "gitlab-secret-detection" in reporters.expand(["all"], no_secrets)
    only_deps = replace(
        no_secrets, scanners=tuple(s for s in no_secrets.scanners if s.name not in ("bandit", "semgrep"))
    )
    assert "gitlab-secret-detection" not in reporters.expand(["all"], only_deps)
    # named explicitly: always rendered (an empty report tells GitLab the old ones are gone)
    assert "gitlab-secret-detection" in reporters.expand(["all", "gitlab-secret-detection"], no_secrets)


def test_all_includes_dast_when_zap_ran_even_without_findings() -> None:
    bare = RunResult(
        tool_version="0.1.0", target=".", started_at="2024-05-01T12:00:00Z", finished_at="2024-05-01T12:00:01Z"
    )
    assert "gitlab-dast" not in reporters.expand(["all"], bare)
    ran = replace(bare, scanners=(ScannerStatus(name="zap", state=ScannerState.OK),))
    assert "gitlab-dast" in reporters.expand(["all"], ran)
    skipped = replace(bare, scanners=(ScannerStatus(name="zap", state=ScannerState.SKIPPED),))
    assert "gitlab-dast" not in reporters.expand(["all"], skipped)


def test_gitlab_report_keys_are_real_artifact_report_keys() -> None:
    # Checked against GitLab's own CI configuration schema (copy in tests/data/reporters/schemas).
    schema = json.loads((DATA / "schemas" / "gitlab-ci.json").read_text(encoding="utf-8"))
    allowed = set(schema["definitions"]["artifacts"]["properties"]["reports"]["properties"])
    keys = {s.gitlab_report for s in REGISTRY.values() if s.gitlab_report}
    assert keys == {"sast", "dependency_scanning", "dast", "secret_detection", "codequality", "junit"}
    assert keys <= allowed
