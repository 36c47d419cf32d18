"""Cross-scanner dedupe and order-independent merge."""

from __future__ import annotations

import random
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from secscan import fingerprint
from secscan.models import RunResult, ScannerState, ScannerStatus, Severity, Status
from secscan.resultio import dumps
from secscan.scanners import bandit, semgrep
from secscan.sourcefiles import SourceTree
from secscan.triage.dedupe import dedupe
from secscan.triage.merge import merge_results
from tests.triage.triage_helpers import DATA, PROJECT, dep, sast


def _real() -> list:
    tree = SourceTree(PROJECT)
    b = bandit.parse((DATA / "bandit-1.9.4_generated.json").read_text(), tree=tree)
    s = semgrep.parse((DATA / "semgrep-1.182.0_generated.json").read_text(), tree=tree)
    return fingerprint.assign([*b, *s], tree=tree)


def test_bandit_b324_and_semgrep_md5_become_one_finding_with_both_sources() -> None:
    out = dedupe(_real())
    assert len(out) == 8  # 8 bandit + 3 semgrep, 3 of them the same problems
    [md5] = [f for f in out if f.location.start_line == 16]
    assert {(s.scanner, s.rule_id) for s in md5.sources} == {("bandit", "B324"), ("semgrep", "tmp.insecure-hash-md5")}
    # Severity is the highest of the sources; each source keeps its own original severity.
    assert md5.severity is Severity.HIGH
    assert {s.severity_original for s in md5.sources} == {"HIGH", "WARNING"}
    assert {"CWE-327"} <= set(md5.cwe_ids())


def test_highest_severity_wins_and_primary_follows_it() -> None:
    tree = SourceTree(PROJECT)
    low = sast(scanner="bandit", rule_id="B602", line=8, cwe="CWE-78", severity=Severity.MEDIUM)
    high = sast(scanner="semgrep", rule_id="shell-true", line=8, cwe="CWE-78", severity=Severity.CRITICAL)
    [merged] = dedupe(fingerprint.assign([low, high], tree=tree))
    assert merged.severity is Severity.CRITICAL and merged.scanner == "semgrep"
    assert len(merged.sources) == 2


def test_different_problems_on_one_line_stay_apart() -> None:
    tree = SourceTree(PROJECT)
    a = sast(rule_id="B324", line=16, cwe="CWE-327")
    b = sast(rule_id="B999", line=16, cwe="CWE-78")
    assert len(dedupe(fingerprint.assign([a, b], tree=tree))) == 2


def test_one_advisory_through_two_manifests_is_one_finding_with_two_locations() -> None:
    tree = SourceTree(None)
    a = dep(manifest="requirements.txt")
    b = dep(manifest="requirements/prod.txt", advisory="GHSA-j8r2-6x86-q33q", aliases=("CVE-2023-32681",))
    other = dep(package="urllib3", advisory="PYSEC-2023-192", aliases=())
    out = dedupe(fingerprint.assign([a, b, other], tree=tree))
    assert len(out) == 2
    [req] = [f for f in out if f.location.package == "requests"]
    paths = {req.location.path, *(loc.path for loc in req.other_locations)}
    assert paths == {"requirements.txt", "requirements/prod.txt"}
    assert len(req.sources) == 2
    assert {"PYSEC-2023-74", "GHSA-j8r2-6x86-q33q", "CVE-2023-32681"} <= {i.value for i in req.identifiers}


@settings(max_examples=30, deadline=None)
@given(st.randoms(use_true_random=False))
def test_property_dedupe_is_order_independent(rnd: random.Random) -> None:
    findings = _real() + fingerprint.assign([dep(), dep(manifest="b.txt")], tree=SourceTree(None))
    shuffled = list(findings)
    rnd.shuffle(shuffled)
    assert dedupe(shuffled) == dedupe(findings)


def _result(findings: list, name: str, started: str) -> RunResult:
    return RunResult(
        tool_version="0.1.0",
        target=".",
        started_at=started,
        finished_at=started.replace("00Z", "30Z"),
        scanners=(ScannerStatus(name=name, state=ScannerState.OK, findings=len(findings)),),
        findings=tuple(dedupe(findings)),
        meta=(("job", name),),
    )


@settings(max_examples=20, deadline=None)
@given(st.permutations([0, 1, 2]))
def test_property_merge_is_order_independent(order: list[int]) -> None:
    real = _real()
    parts = [
        _result([f for f in real if f.scanner == "bandit"], "bandit", "2026-01-01T10:00:00Z"),
        _result([f for f in real if f.scanner == "semgrep"], "semgrep", "2026-01-01T10:01:00Z"),
        _result(fingerprint.assign([dep()], tree=SourceTree(None)), "pip-audit", "2026-01-01T09:59:00Z"),
    ]
    merged = merge_results([parts[i] for i in order])
    assert dumps(merged) == dumps(merge_results(parts))
    assert len(merged.findings) == 9
    assert merged.started_at == "2026-01-01T09:59:00Z" and merged.finished_at == "2026-01-01T10:01:30Z"
    assert [s.name for s in merged.scanners] == ["bandit", "pip-audit", "semgrep"]


def test_merge_drops_a_fixed_entry_another_job_still_sees() -> None:
    [live] = fingerprint.assign([sast()], tree=SourceTree(PROJECT))
    gone = replace(live, status=Status.FIXED)
    merged = merge_results(
        [_result([gone], "bandit", "2026-01-01T10:00:00Z"), _result([live], "semgrep", "2026-01-01T10:00:00Z")]
    )
    assert [f.status for f in merged.findings] == [Status.NEW]


def test_merge_never_lets_a_suppressed_copy_hide_an_open_one() -> None:
    # A result file planted in the merge request (or a job with other inputs) saying
    # "suppressed" must not switch off a finding another job reports open (issue trust).
    from secscan.models import Suppression

    [live] = fingerprint.assign([sast()], tree=SourceTree(PROJECT))
    sup = replace(live, status=Status.SUPPRESSED, suppression=Suppression(origin="inline", reason="# nosec"))
    for order in ((live, sup), (sup, live)):
        merged = merge_results(
            [_result([order[0]], "a", "2026-01-01T10:00:00Z"), _result([order[1]], "b", "2026-01-01T10:00:00Z")]
        )
        assert merged.findings[0].status is Status.NEW
        assert merged.findings[0].suppression is None
    both = merge_results([_result([sup], "a", "2026-01-01T10:00:00Z"), _result([sup], "b", "2026-01-01T10:00:00Z")])
    assert both.findings[0].status is Status.SUPPRESSED  # suppressed by every job: stays suppressed
