"""Telling same-line results apart kept the old merges of real bandit + semgrep output, and the
fingerprints baselines already hold."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from secscan import fingerprint
from secscan.scanners import bandit, semgrep
from secscan.sourcefiles import SourceTree
from secscan.triage.dedupe import dedupe
from tests.importers.importers_support import load
from tests.support.cli import secscan

TRIAGE = Path(__file__).resolve().parent.parent / "data" / "triage"
TREE = SourceTree(TRIAGE / "project")

# Recorded with secscan before fingerprints told same-line results apart (commit fc9cd18): a
# baseline written then must still match every one of these findings.
RECORDED = {
    ("bandit", "B403"): "v1:693a33e54fdc573bff1df70a6e3fde51",
    ("bandit", "B404"): "v1:3719d3dc1ccb0805eba23f13043ea9e0",
    ("bandit", "B602"): "v1:1bce89a2e26745e46c1aa76fc421f779",
    ("bandit", "B301"): "v1:5811dd3812504ede7d1de705e983e802",
    ("bandit", "B324"): "v1:812c5fe91c3b89708e597ae2d1b17b33",
    ("bandit", "B506"): "v1:eb9ebc1ffd819ea7d1162d11abfb7a51",
    # Changed on purpose by issue 18 [secrets]: a secret finding's fingerprint is computed with
    # its secret value blanked, so the fingerprint (stored in baselines and reports) never
    # depends on, or leaks anything of, the secret. Was v1:555d2bf983a1aebef15cc82326ca8244.
    ("bandit", "B105"): "v1:a72022fac8cc2601cf068f5320b5cfd4",
    ("bandit", "B110"): "v1:71cab021797507f0c6f2abbbf0be2b2c",
    ("semgrep", "tmp.subprocess-shell-true"): "v1:1bce89a2e26745e46c1aa76fc421f779",
    ("semgrep", "tmp.avoid-pickle"): "v1:5811dd3812504ede7d1de705e983e802",
    ("semgrep", "tmp.insecure-hash-md5"): "v1:812c5fe91c3b89708e597ae2d1b17b33",
}


def _real() -> list:
    found = bandit.parse((TRIAGE / "bandit-1.9.4_generated.json").read_text(), tree=TREE)
    found += semgrep.parse((TRIAGE / "semgrep-1.182.0_generated.json").read_text(), tree=TREE)
    return found


def test_fingerprints_of_real_bandit_and_semgrep_are_unchanged() -> None:
    got = {(f.scanner, f.rule_id): f.fingerprint for f in fingerprint.assign(_real(), tree=TREE)}
    assert got == RECORDED


def test_bandit_and_semgrep_on_the_same_call_still_merge() -> None:
    merged = dedupe(fingerprint.assign(_real(), tree=TREE))
    assert len(merged) == 8
    pairs = sorted(tuple(sorted(s.rule_id for s in f.sources)) for f in merged if len(f.sources) > 1)
    assert pairs == [
        ("B301", "tmp.avoid-pickle"),
        ("B324", "tmp.insecure-hash-md5"),
        ("B602", "tmp.subprocess-shell-true"),
    ]


def test_same_rule_twice_on_one_line_keeps_the_first_fingerprint() -> None:
    # A second call on the flagged line gets a new identity; the first keeps the one it had,
    # so a baseline entry for it stays "existing".
    [md5] = [
        f for f in bandit.parse((TRIAGE / "bandit-1.9.4_generated.json").read_text(), tree=TREE) if f.rule_id == "B324"
    ]
    loc = md5.location
    second = replace(
        md5, location=replace(loc, start_column=(loc.start_column or 0) + 20, end_column=(loc.end_column or 0) + 20)
    )
    a, b = fingerprint.assign([md5, second], tree=TREE)
    assert a.fingerprint == RECORDED[("bandit", "B324")] and b.fingerprint != a.fingerprint
    assert len(dedupe([a, b])) == 2


def test_split_imports_merge_like_before(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    b, s, m = tmp_path / "b.json", tmp_path / "s.json", tmp_path / "m.json"
    root = str(TRIAGE / "project")
    secscan("import", "--tool", "bandit", str(TRIAGE / "bandit-1.9.4_generated.json"), "-o", str(b), "--root", root)
    secscan("import", "--tool", "semgrep", str(TRIAGE / "semgrep-1.182.0_generated.json"), "-o", str(s), "--root", root)
    assert secscan("merge", str(b), str(s), "-o", str(m))[0] == 0
    assert len(load(m)["findings"]) == 8
