"""Every command that reads a secscan.json or a baseline names the file and the JSON path of a
malformed value (exit 2, one line), and a real result goes through merge/gate/baseline intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import secscan
from tests.triage.triage_helpers import DATA

REAL = DATA.parent / "reporters" / "result.json"  # a full secscan/1 result (every kind and status)


def broken_result(tmp_path: Path) -> Path:
    """The real result with one bad severity deep in the list: the message must say where."""
    doc = json.loads(REAL.read_text(encoding="utf-8"))
    doc["findings"][3]["severity"] = "urgent"
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    return path


EXPECTED = "$.findings[3].severity: expected one of info, low, medium, high, critical, got 'urgent'"


@pytest.mark.parametrize(
    "command",
    [
        ("merge", "{good}", "{bad}", "-o", "{tmp}/merged.json"),
        ("gate", "{bad}"),
        ("report", "{bad}", "-f", "sarif", "-o", "{tmp}/x.sarif"),
        ("baseline", "create", "{bad}", "-o", "{tmp}/base.json"),
        ("import", "--tool", "bandit", str(DATA / "bandit-1.9.4_generated.json"), "--baseline", "{bad}"),
    ],
)
def test_malformed_result_names_file_and_json_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: tuple[str, ...]
) -> None:
    bad = broken_result(tmp_path)
    argv = [a.format(good=REAL, bad=bad, tmp=tmp_path) for a in command]
    if command[0] == "import":
        argv += ["-o", str(tmp_path / "imported.json")]
    rc, _, err = secscan(*argv)
    assert rc == 2
    assert err == f"secscan: error: {bad}: {EXPECTED}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"], "nothing written on bad input"


def test_malformed_baseline_entry_names_file_and_json_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = tmp_path / "baseline.json"
    entries = [{"fingerprint": "v1:a", "kind": "sast", "rule_id": "B1", "severity": "high"}] * 2
    entries[1] = {**entries[1], "scanners": "bandit"}
    base.write_text(json.dumps({"schema": "secscan-baseline/1", "entries": entries}), encoding="utf-8")
    argv = ("import", "--tool", "bandit", str(DATA / "bandit-1.9.4_generated.json"), "--baseline", str(base))
    rc, _, err = secscan(*argv, "-o", str(tmp_path / "r.json"))
    assert rc == 2
    assert err == f"secscan: error: {base}: $.entries[1].scanners: expected an array, got a string\n"


def test_real_result_survives_merge_gate_and_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gated = tmp_path / "gated.json"
    rc, _, _ = secscan("gate", str(REAL), "-o", str(gated))
    assert rc in (0, 1)
    before, after = json.loads(REAL.read_text()), json.loads(gated.read_text())
    assert after["findings"] == before["findings"] and after.pop("verdict") and before.pop("verdict")
    assert after == before

    merged = tmp_path / "merged.json"
    assert secscan("merge", str(REAL), "-o", str(merged))[0] == 0
    assert {f["fingerprint"] for f in json.loads(merged.read_text())["findings"]} == {
        f["fingerprint"] for f in json.loads(REAL.read_text())["findings"]
    }

    base = tmp_path / "base.json"
    assert secscan("baseline", "create", str(REAL), "-o", str(base))[0] == 0
    doc = json.loads(base.read_text())
    present = {f["fingerprint"] for f in before["findings"] if f["status"] != "fixed"}
    assert doc["schema"] == "secscan-baseline/1" and {e["fingerprint"] for e in doc["entries"]} == present
    assert base.read_text() == json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
