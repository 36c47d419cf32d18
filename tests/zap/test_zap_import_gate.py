"""ZAP reports through `secscan import --tool zap`, a baseline and `secscan gate`: a merge
request is gated on *new* ZAP alerts only (which ZAP alone cannot do)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import secscan
from tests.zap.conftest import SAMPLE_JSON

DATA = Path(__file__).resolve().parent.parent / "data" / "zap"


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.iterdir() if p.suffix in (".json", ".xml")))
def test_import_every_sample(name: str, tmp_path: Path) -> None:
    proc = secscan("import", "--tool", "zap", str(DATA / name), "-o", "r.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "r.json").read_text())
    assert all(f["kind"] == "dast" and f["fingerprint"].startswith("v1:") for f in doc["findings"])
    assert len({f["fingerprint"] for f in doc["findings"]}) == len(doc["findings"])


def _with_changes(doc: dict[str, Any]) -> dict[str, Any]:
    """The next scan of the same app: instances reordered, plus one new high-risk alert."""
    new = copy.deepcopy(doc)
    alerts = new["site"][0]["alerts"]
    for alert in alerts:
        alert["instances"].reverse()
    base = new["site"][0]["@name"]
    alerts.append(
        {
            "pluginid": "40012",
            "alertRef": "40012",
            "alert": "Cross Site Scripting (Reflected)",
            "name": "Cross Site Scripting (Reflected)",
            "riskcode": "3",
            "confidence": "2",
            "riskdesc": "High (Medium)",
            "desc": "<p>Cross-site Scripting (XSS) is an attack technique...</p>",
            "instances": [
                {"uri": f"{base}/checkout/42?card=1", "method": "GET", "param": "card", "evidence": "<script>"},
                {"uri": f"{base}/checkout/43?card=1", "method": "GET", "param": "card", "evidence": "<script>"},
            ],
            "count": "2",
            "cweid": "79",
            "wascid": "8",
        }
    )
    return new


def test_gate_on_new_zap_alerts_against_a_baseline(tmp_path: Path) -> None:
    first = json.loads(SAMPLE_JSON.read_text())
    (tmp_path / "zap1.json").write_text(json.dumps(first))
    (tmp_path / "zap2.json").write_text(json.dumps(_with_changes(first)))
    assert secscan("import", "--tool", "zap", "zap1.json", "-o", "r1.json", cwd=tmp_path).returncode == 0
    proc = secscan("baseline", "create", "r1.json", "-o", "baseline.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    proc = secscan("import", "--tool", "zap", "zap2.json", "--baseline", "baseline.json", "-o", "r2.json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "r2.json").read_text())
    statuses = {(f["rule_id"], f["status"]) for f in doc["findings"]}
    # Reordered instances change nothing; /checkout/42 and /checkout/43 are one new finding.
    assert [f for f in doc["findings"] if f["status"] == "new"] == [
        f for f in doc["findings"] if f["rule_id"] == "40012"
    ]
    assert ("40012", "new") in statuses and len([f for f in doc["findings"] if f["rule_id"] == "40012"]) == 1
    assert sum(1 for f in doc["findings"] if f["status"] == "existing") == 11
    gate = secscan("gate", "r2.json", cwd=tmp_path)
    assert gate.returncode == 1, gate.stdout + gate.stderr
    # Without the new alert the same report passes the gate against the baseline.
    proc = secscan("import", "--tool", "zap", "zap1.json", "--baseline", "baseline.json", "-o", "r3.json", cwd=tmp_path)
    assert proc.returncode == 0
    assert secscan("gate", "r3.json", cwd=tmp_path).returncode == 0
