"""The commands end to end through `secscan` (real process, exit codes and one-line errors)."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path

from secscan import resultio
from secscan.audit import trail
from secscan.audit.manifest import write_manifest
from tests.aggregate.test_aggregate_history import STORY
from tests.support.cli import secscan

_secscan = functools.partial(secscan, clean=True)


def test_audit_verify_exit_codes(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    env = {"USER": "alice", "SECSCAN_AUDIT_KEY": "k3y-value"}
    for i in range(3):
        trail.record("publish.note", {"n": i}, path=log, env=env)
    ok = _secscan("audit", "verify", "--log", str(log), env={"SECSCAN_AUDIT_KEY": "k3y-value"})
    assert ok.returncode == 0, ok.stderr
    assert "audit log OK: 3 entries" in ok.stdout
    head = ok.stdout.split("head ")[1].strip()
    assert _secscan("audit", "verify", "--log", str(log), "--expect-head", head, env=env).returncode == 0
    wrong_key = _secscan("audit", "verify", "--log", str(log), env={"SECSCAN_AUDIT_KEY": "other"})
    assert wrong_key.returncode == 1
    assert "TAMPERED at entry 1" in wrong_key.stdout
    lines = log.read_text().splitlines()
    log.write_text("\n".join([lines[0], lines[2]]) + "\n")
    removed = _secscan("audit", "verify", "--log", str(log), env=env)
    assert removed.returncode == 1 and "entry 2" in removed.stdout and "removed" in removed.stdout
    # The key is never echoed.
    assert "k3y-value" not in removed.stdout + removed.stderr
    missing = _secscan("audit", "verify", "--log", str(tmp_path / "nope.jsonl"))
    assert missing.returncode == 2
    assert missing.stderr.strip().startswith("secscan: error:") and "Traceback" not in missing.stderr


def test_audit_verify_defaults_to_env_log(tmp_path: Path) -> None:
    log = tmp_path / "shared.jsonl"
    trail.record("x", {}, path=log, env={"USER": "u"})
    res = _secscan("audit", "verify", env={"SECSCAN_AUDIT_LOG": str(log)})
    assert res.returncode == 0 and str(log) in res.stdout


def test_verify_report_cli(tmp_path: Path) -> None:
    out = tmp_path / "secscan-out"
    out.mkdir()
    (out / "secscan.json").write_text(resultio.dumps(STORY[0]), encoding="utf-8")
    (out / "report.html").write_text("<p>ok</p>\n", encoding="utf-8")
    write_manifest(out, [out / "secscan.json", out / "report.html"])
    ok = _secscan("verify-report", cwd=tmp_path)  # default: secscan-out/secscan.manifest.json
    assert ok.returncode == 0, ok.stderr
    assert "all 2 reports match" in ok.stdout
    doc = json.loads((out / "secscan.json").read_text())
    doc["verdict"]["passed"] = True
    (out / "secscan.json").write_text(json.dumps(doc), encoding="utf-8")
    bad = _secscan("verify-report", str(out))
    assert bad.returncode == 1
    assert "MODIFIED secscan.json" in bad.stdout and "ok       report.html" in bad.stdout
    unusable = _secscan("verify-report", str(tmp_path / "none.json"))
    assert unusable.returncode == 2 and "does not exist" in unusable.stderr


def test_history_add_list_and_dashboard_cli(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    files = []
    for i, r in enumerate(STORY):
        f = tmp_path / f"r{i}.json"
        f.write_text(resultio.dumps(r), encoding="utf-8")
        files.append(str(f))
    add = _secscan("history", "add", *files, "--project", "alpha", "--ref", "main", "--db", str(db))
    assert add.returncode == 0, add.stderr
    assert add.stdout.count("added as run") == 4
    again = _secscan("history", "add", files[0], "--project", "alpha", "--ref", "main", "--db", str(db))
    assert "already stored" in again.stdout
    # --db falls back to $SECSCAN_HISTORY_DB
    listed = _secscan("history", "list", env={"SECSCAN_HISTORY_DB": str(db)})
    assert listed.stdout.split("\t")[:3] == ["alpha", "main", "4 runs"]
    html = tmp_path / "d.html"
    dash = _secscan("dashboard", "-o", str(html), "--db", str(db), "--now", "2024-06-30T12:00:00Z")
    assert dash.returncode == 0, dash.stderr
    text = html.read_text(encoding="utf-8")
    assert "as of 2024-06-30 12:00 UTC" in text and "alpha" in text
    bad_now = _secscan("dashboard", "--db", str(db), "--now", "soon")
    assert bad_now.returncode == 2 and "not an ISO-8601" in bad_now.stderr


def test_dashboard_escapes_untrusted_text(tmp_path: Path) -> None:
    from dataclasses import replace

    from secscan.aggregate import dashboard, metrics
    from secscan.aggregate.history import History

    evil = "<img src=x onerror=alert(1)>"
    run = STORY[3]
    findings = tuple(replace(f, title=evil + f.title, rule_id=f.rule_id + "<u>x") for f in run.findings)
    with History(tmp_path / "h.db") as h:
        h.add(replace(run, findings=findings), project="<script>p</script>", ref="main")
        data = metrics.compute(h.iter_streams(), now=datetime(2024, 7, 1, tzinfo=UTC))
    html = dashboard.render(data)
    assert "<script>p" not in html and "&lt;script&gt;p&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<u>" not in html and "&lt;u&gt;x" in html
