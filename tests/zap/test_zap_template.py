"""The CI template's ZAP job: the baseline in merge request pipelines, SECSCAN_ZAP_SCHEDULE_MODE
(default full) in scheduled ones, whose result the final job gates and reports. Uses the rules
evaluator of tests/ci (GitLab's rules:if semantics for the expressions the template uses)."""

from __future__ import annotations

from secscan.scanners import registry
from tests.ci.test_ci_pipeline import load_template, plan

SCHEDULE = {"CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_BRANCH": "nightly", "CI_DEFAULT_BRANCH": "main"}
"""A schedule on another branch than the default one (there every scanner runs anyway)."""
TARGET = {"SECSCAN_ZAP_TARGET": "https://nightly.example.com"}


def _names(ci: dict[str, str], project: dict[str, str]) -> set[str]:
    """The jobs of the pipeline, but the scheduled upkeep jobs (the compliance check, below; the
    advisory store's refresh, tests/advisories)."""
    return {j.name for j in plan(load_template(), ci, project)} - {"secscan:compliance", "secscan:advisories"}


def test_the_scheduled_compliance_check_runs_unless_turned_off() -> None:
    every = {j.name for j in plan(load_template(), SCHEDULE, {})}
    assert "secscan:compliance" in every
    off = {j.name for j in plan(load_template(), SCHEDULE, {"SECSCAN_COMPLIANCE_SCHEDULE": "false"})}
    assert "secscan:compliance" not in off
    mr = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_DEFAULT_BRANCH": "main"}
    assert "secscan:compliance" not in {j.name for j in plan(load_template(), mr, {})}


def test_scheduled_pipelines_run_the_full_zap_scan_and_gate_it() -> None:
    assert _names(SCHEDULE, TARGET) == {"secscan:zap", "secscan"}
    on_main = {**SCHEDULE, "CI_COMMIT_BRANCH": "main"}
    # every scanner of the registry has its job there
    assert _names(on_main, TARGET) == {f"secscan:{n}" for n in registry.names()} | {"secscan"}
    config = load_template()
    zap = config["secscan:zap"]
    (schedule_rule,) = [r for r in zap["rules"] if isinstance(r, dict) and "schedule" in r.get("if", "")]
    assert schedule_rule["variables"] == {"SECSCAN_ZAP_MODE": "$SECSCAN_ZAP_SCHEDULE_MODE"}
    assert config["variables"]["SECSCAN_ZAP_SCHEDULE_MODE"] == "full"
    assert zap["timeout"] == "3 hours"  # a full scan's 7200 s limit fits


def test_no_scheduled_zap_without_a_target_a_mode_or_when_skipped() -> None:
    assert _names(SCHEDULE, {}) == set()
    assert _names(SCHEDULE, {**TARGET, "SECSCAN_ZAP_SCHEDULE_MODE": ""}) == set()
    assert _names(SCHEDULE, {**TARGET, "SECSCAN_SKIP": "zap"}) == set()
    assert _names(SCHEDULE, {**TARGET, "SECSCAN_DISABLED": "true"}) == set()


def test_merge_request_pipelines_keep_the_baseline() -> None:
    mr = {"CI_PIPELINE_SOURCE": "merge_request_event", "CI_DEFAULT_BRANCH": "main"}
    jobs = {j.name: j for j in plan(load_template(), mr, TARGET)}
    assert "secscan:zap" in jobs and "secscan" in jobs
    assert "SECSCAN_ZAP_MODE" not in jobs["secscan:zap"].variables
