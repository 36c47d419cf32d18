"""What a result was judged with travels in it (issue 26, core-3): ``judged_with`` in
``secscan.json``, how ``merge`` and ``gate`` use it, and the policy as a plain document.

In process and fast; the end-to-end proof over real merge requests is test_core_parity.py.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from secscan import policy as policy_mod
from secscan.models import JudgedWith, RecordedFile, RecordedPolicy, RunResult
from secscan.schema import dumps_result, loads_result
from tests.support.cli import secscan
from tests.triage.triage_helpers import DATA, PROJECT

BANDIT = DATA / "bandit-1.9.4_generated.json"
STRICT = 'version = 1\nname = "strict"\n[block]\nnew_at_or_above = "medium"\n'
LENIENT = 'version = 1\nname = "lenient"\n[block]\nnew_at_or_above = "critical"\n'
SUPPRESS = (
    'version = 1\n[[suppression]]\nrule_id = "B324"\nreason = "cache keys"\nowner = "sec@example.com"\n'
    'expires = "2999-12-31"\n'
)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The triage sample project, with a strict policy named by its settings (no git: no diff
    base, so the work tree's settings are the project's)."""
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    (root / "ci").mkdir()
    (root / "ci" / "strict.toml").write_text(STRICT)
    (root / ".secscan.toml").write_text('policy = "ci/strict.toml"\n')
    monkeypatch.chdir(root)
    for name in ("SECSCAN_POLICY", "CI_MERGE_REQUEST_DIFF_BASE_SHA", "SECSCAN_DIFF_BASE"):
        monkeypatch.delenv(name, raising=False)
    return root


def _import(out: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    rc, _, err = secscan("import", "--tool", "bandit", str(BANDIT), "-o", str(out), *extra)
    assert rc == 0, err
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


# ------------------------------------------------------------------ the policy as a document


def test_a_policy_survives_its_plain_document_and_has_one_digest() -> None:
    text = """version = 1
name = "payments"
fail_closed = false
[block]
new_at_or_above = "medium"
[block.kinds]
dast = "low"
sast = "none"
[block.test_code]
new_at_or_above = "critical"
[block.test_code.kinds]
secret = "high"
[max_new]
total = 5
low = 20
[inline_suppressions]
max_severity = "none"
"""
    import tomllib

    pol = policy_mod.parse_policy(tomllib.loads(text), origin="payments.toml")
    doc = policy_mod.to_dict(pol)
    assert json.loads(json.dumps(doc)) == doc  # plain JSON values
    assert policy_mod.from_dict(doc, origin="payments.toml") == pol
    # A default written out or left out is the same policy, and the same digest.
    short = policy_mod.parse_policy({"version": 1, "name": "default"}, origin="x.toml")
    assert policy_mod.digest(short) == policy_mod.digest(policy_mod.load_policy(None))
    assert policy_mod.digest(pol) != policy_mod.digest(short)
    assert policy_mod.digest(replace(pol, fail_closed=True)) != policy_mod.digest(pol)


# ------------------------------------------------------------------ the wire format


def _result(judged: JudgedWith | None) -> RunResult:
    return RunResult(tool_version="0.1.0", target=".", started_at="s", finished_at="f", judged_with=judged)


def test_judged_with_round_trips_and_old_results_stay_readable() -> None:
    pol = policy_mod.load_policy(None)
    judged = JudgedWith(
        policy=RecordedPolicy(
            name="default", origin="builtin", sha256=policy_mod.digest(pol), definition=policy_mod.to_dict(pol)
        ),
        suppressions=RecordedFile(origin=".secscan/suppressions.toml at 0123456789ab (merge base)", sha256="ab" * 32),
        test_paths=("tests/",),
        excludes=("vendor/",),
        diff_base="0123456789abcdef",
    )
    text = dumps_result(_result(judged))
    assert loads_result(text, origin="r.json") == _result(judged)
    assert json.loads(text)["judged_with"]["version"] == 1
    # Written without it, a result is what it always was; read without it, nothing is recorded.
    old = dumps_result(_result(None))
    assert "judged_with" not in old and loads_result(old, origin="old.json").judged_with is None


# ------------------------------------------------------------------ import, merge, gate


def test_import_records_the_projects_settings_and_gate_applies_them(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = _import(tmp_path / "r.json", capsys)
    judged = doc["judged_with"]
    assert judged["policy"]["name"] == "strict" and judged["policy"]["origin"] == "ci/strict.toml"
    assert judged["policy"]["definition"]["block"]["new_at_or_above"] == "medium"

    # No checkout here, no --policy, SECSCAN_POLICY empty as the template leaves it.
    elsewhere = tmp_path / "final"
    elsewhere.mkdir()
    shutil.copy(tmp_path / "r.json", elsewhere / "r.json")
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("SECSCAN_POLICY", "")
    rc, out, _ = secscan("gate", "r.json", "-o", "gated.json")
    assert rc == 1 and "FAILED (exit 1) - policy strict (recorded in the result)" in out
    assert json.loads((elsewhere / "gated.json").read_text())["verdict"]["policy"] == "strict"

    # The operator overrides it, and is told what was recorded.
    (elsewhere / "lenient.toml").write_text(LENIENT)
    monkeypatch.setenv("SECSCAN_POLICY", "lenient.toml")
    rc, out, _ = secscan("gate", "r.json", "-o", "gated.json")
    assert rc == 0 and "PASSED - policy lenient (set by the operator, not the recorded strict)" in out
    gated = json.loads((elsewhere / "gated.json").read_text())
    assert gated["judged_with"]["policy"]["name"] == "lenient"  # what decided this verdict
    # --no-fail-closed changes the applied policy, and so its digest in the gated result.
    monkeypatch.delenv("SECSCAN_POLICY")
    assert secscan("gate", "r.json", "--no-fail-closed", "-o", "g2.json")[0] == 1
    g2 = json.loads((elsewhere / "g2.json").read_text())["judged_with"]["policy"]
    assert g2["definition"]["fail_closed"] is False and g2["sha256"] != judged["policy"]["sha256"]


def test_merge_keeps_the_record_and_refuses_results_resolved_from_different_settings(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = _import(tmp_path / "a.json", capsys)
    _import(tmp_path / "b.json", capsys)
    rc, _, err = secscan("merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "-o", "m.json")
    assert rc == 0, err
    assert json.loads(Path("m.json").read_text())["judged_with"] == a["judged_with"]

    # Another suppressions file: the statuses were decided differently.
    (project / "sup.toml").write_text(SUPPRESS)
    c = _import(tmp_path / "c.json", capsys, "--suppressions", "sup.toml")
    assert c["judged_with"]["suppressions"]["origin"] == "sup.toml"
    rc, _, err = secscan("merge", str(tmp_path / "a.json"), str(tmp_path / "c.json"), "-o", "x.json")
    assert rc == 2 and not Path("x.json").exists()
    assert "refusing to merge results resolved from different settings" in err
    assert "no suppressions" in err and "suppressions sup.toml sha256:" in err

    # A result that records nothing (an older secscan's) cannot be told apart: refused too.
    old = dict(a)
    del old["judged_with"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    rc, _, err = secscan("merge", str(tmp_path / "a.json"), str(tmp_path / "old.json"), "-o", "x.json")
    assert rc == 2 and "nothing recorded" in err


def test_gate_refuses_a_recorded_policy_it_cannot_trust_or_read(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _import(tmp_path / "r.json", capsys)
    # A definition edited after it was recorded no longer matches its digest.
    tampered = json.loads(json.dumps(doc))
    tampered["judged_with"]["policy"]["definition"]["block"]["new_at_or_above"] = "none"
    (tmp_path / "t.json").write_text(json.dumps(tampered))
    rc, _, err = secscan("gate", str(tmp_path / "t.json"))
    assert rc == 2 and "does not match its sha256 digest" in err
    # A newer record is not half-applied; the report still renders it.
    newer = json.loads(json.dumps(doc))
    newer["judged_with"]["version"] = 2
    (tmp_path / "n.json").write_text(json.dumps(newer))
    rc, _, err = secscan("gate", str(tmp_path / "n.json"))
    assert rc == 2 and "judged_with version 2" in err
    assert secscan("report", str(tmp_path / "n.json"), "--format", "markdown", "-o", "-")[0] == 0
    # An old result (nothing recorded) is gated with the shipped default, as before.
    old = json.loads(json.dumps(doc))
    del old["judged_with"]
    (tmp_path / "o.json").write_text(json.dumps(old))
    rc, out, _ = secscan("gate", str(tmp_path / "o.json"))
    assert rc == 1 and "policy default (the shipped default)" in out
