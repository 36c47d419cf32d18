"""The audit trail: chained entries, keyed chains, and tampering caught in each of the four ways."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from secscan.audit import trail
from secscan.models import (
    BlockReason,
    Finding,
    Kind,
    Location,
    RunResult,
    ScannerState,
    ScannerStatus,
    Severity,
    Status,
    Suppression,
    Verdict,
)

LOCAL = {"USER": "alice"}
KEYED = {"USER": "alice", "SECSCAN_AUDIT_KEY": "s3cret-key"}
KEY = b"s3cret-key"


def _write_log(path: Path, env: dict[str, str], n: int = 5) -> list[dict[str, object]]:
    return [
        trail.record(
            f"test.action{i}", {"i": i, "note": f"entry {i}"}, path=path, env=env, timestamp=f"2024-05-0{i}T10:00:00Z"
        )
        for i in range(1, n + 1)
    ]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def _put(path: Path, lines: list[str]) -> None:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("env,key", [(LOCAL, None), (KEYED, KEY)], ids=["plain", "hmac"])
def test_untouched_log_verifies_and_chains(tmp_path: Path, env: dict[str, str], key: bytes | None) -> None:
    log = tmp_path / "audit.jsonl"
    entries = _write_log(log, env)
    res = trail.verify(log, key)
    assert res.ok, res.describe()
    assert res.entries == 5
    assert res.head == entries[-1]["hash"]
    assert entries[0]["prev"] == trail.GENESIS
    for a, b in itertools.pairwise(entries):
        assert b["prev"] == a["hash"]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0]["alg"] == ("hmac-sha256" if key else "sha256")
    # The key never appears in the log.
    assert "s3cret" not in log.read_text()


@pytest.mark.parametrize("env,key", [(LOCAL, None), (KEYED, KEY)], ids=["plain", "hmac"])
def test_edited_payload_is_caught(tmp_path: Path, env: dict[str, str], key: bytes | None) -> None:
    log = tmp_path / "audit.jsonl"
    _write_log(log, env)
    lines = _lines(log)
    e = json.loads(lines[2])
    e["payload"]["note"] = "quietly changed"
    lines[2] = json.dumps(e)
    _put(log, lines)
    res = trail.verify(log, key)
    assert not res.ok
    assert res.bad_line == 3
    assert "payload" in (res.problem or "")


def test_edited_payload_with_recomputed_digest_is_caught(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    _write_log(log, LOCAL)
    lines = _lines(log)
    e = json.loads(lines[1])
    e["payload"]["note"] = "flipped"
    e["payload_sha256"] = trail.payload_digest(e["payload"])
    lines[1] = json.dumps(e)
    _put(log, lines)
    res = trail.verify(log, None)
    assert (res.ok, res.bad_line) == (False, 2)
    assert "hash does not match" in (res.problem or "")


def test_edited_actor_is_caught(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    _write_log(log, KEYED)
    lines = _lines(log)
    e = json.loads(lines[0])
    e["actor"]["user"] = "mallory"
    lines[0] = json.dumps(e)
    _put(log, lines)
    res = trail.verify(log, KEY)
    assert (res.ok, res.bad_line) == (False, 1)


def test_fully_recomputed_chain_passes_plain_but_not_keyed(tmp_path: Path) -> None:
    """Why the key matters: without it a forger can rewrite every hash; with it, not."""
    log = tmp_path / "audit.jsonl"
    _write_log(log, KEYED)
    lines = _lines(log)
    prev = trail.GENESIS
    forged = []
    for line in lines:
        e = json.loads(line)
        e["payload"]["note"] = "rewritten"
        e["payload_sha256"] = trail.payload_digest(e["payload"])
        e["prev"] = prev
        e["hash"] = trail.entry_hash(e, b"guessed-key")
        prev = e["hash"]
        forged.append(json.dumps(e))
    _put(log, forged)
    res = trail.verify(log, KEY)
    assert (res.ok, res.bad_line) == (False, 1)
    assert "HMAC" in (res.problem or "")


@pytest.mark.parametrize("env,key", [(LOCAL, None), (KEYED, KEY)], ids=["plain", "hmac"])
def test_removed_entry_is_caught(tmp_path: Path, env: dict[str, str], key: bytes | None) -> None:
    log = tmp_path / "audit.jsonl"
    _write_log(log, env)
    lines = _lines(log)
    del lines[1]
    _put(log, lines)
    res = trail.verify(log, key)
    assert not res.ok
    assert res.bad_line == 2  # the entry after the hole
    assert "removed" in (res.problem or "")
    assert "entries 2..2 are missing" in (res.problem or "")


@pytest.mark.parametrize("env,key", [(LOCAL, None), (KEYED, KEY)], ids=["plain", "hmac"])
def test_inserted_entry_is_caught(tmp_path: Path, env: dict[str, str], key: bytes | None) -> None:
    log = tmp_path / "audit.jsonl"
    _write_log(log, env)
    lines = _lines(log)
    # A plausible forged entry: correct prev, seq and its own digest, hashed without the key.
    before = json.loads(lines[1])
    forged = {
        "seq": 3,
        "timestamp": "2024-05-02T11:00:00Z",
        "actor": {"kind": "local", "user": "alice"},
        "action": "suppression.applied",
        "payload": {"rule_id": "B105", "reason": "approved, honest"},
        "alg": before["alg"],
        "prev": before["hash"],
    }
    forged["payload_sha256"] = trail.payload_digest(forged["payload"])
    forged["hash"] = trail.entry_hash(forged, b"not-the-key" if key else None)
    lines.insert(2, json.dumps(forged))
    _put(log, lines)
    res = trail.verify(log, key)
    assert not res.ok
    if key:
        assert res.bad_line == 3  # the forged entry itself fails its HMAC
    else:
        # Without a key the forgery is self-consistent; the chain breaks at the next real entry.
        assert res.bad_line == 4
        assert "out of order" in (res.problem or "")


@pytest.mark.parametrize("env,key", [(LOCAL, None), (KEYED, KEY)], ids=["plain", "hmac"])
def test_duplicated_entry_is_caught(tmp_path: Path, env: dict[str, str], key: bytes | None) -> None:
    log = tmp_path / "audit.jsonl"
    _write_log(log, env)
    lines = _lines(log)
    lines.insert(3, lines[1])  # replay entry 2 after entry 3
    _put(log, lines)
    res = trail.verify(log, key)
    assert (res.ok, res.bad_line) == (False, 4)


@pytest.mark.parametrize("env,key", [(LOCAL, None), (KEYED, KEY)], ids=["plain", "hmac"])
def test_reordered_entries_are_caught(tmp_path: Path, env: dict[str, str], key: bytes | None) -> None:
    log = tmp_path / "audit.jsonl"
    _write_log(log, env)
    lines = _lines(log)
    lines[2], lines[3] = lines[3], lines[2]
    _put(log, lines)
    res = trail.verify(log, key)
    assert not res.ok
    assert res.bad_line == 3
    assert "chain broken" in (res.problem or "")


def test_truncation_caught_against_known_head(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    entries = _write_log(log, LOCAL)
    head = str(entries[-1]["hash"])
    assert trail.verify(log, None, expected_head=head).ok
    _put(log, _lines(log)[:-1])
    res = trail.verify(log, None, expected_head=head)
    assert (res.ok, res.bad_line) == (False, 5)
    assert "cut off" in (res.problem or "")


def test_keyed_log_needs_key_and_plain_entries_in_keyed_log_are_rejected(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    _write_log(log, KEYED, n=2)
    res = trail.verify(log, None)
    assert (res.ok, res.bad_line) == (False, 1)
    assert "SECSCAN_AUDIT_KEY" in (res.problem or "")
    trail.record("sneaky", {"x": 1}, path=log, env=LOCAL)  # appended without the key
    res = trail.verify(log, KEY)
    assert (res.ok, res.bad_line) == (False, 3)
    assert "not keyed" in (res.problem or "")


def test_damaged_last_line_blocks_append(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    _write_log(log, LOCAL, n=2)
    with open(log, "a", encoding="utf-8") as fh:
        # A complete line (newline-terminated) that is not an entry: damage, not a torn write
        # (a torn write is repaired by the next append: tests/reliability/test_reliability_trail.py).
        fh.write('{"seq": 3, "trunc\n')
    with pytest.raises(trail.AuditError, match="damaged"):
        trail.record("x", {}, path=log, env=LOCAL)
    assert trail.verify(log, None).bad_line == 3


def test_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(trail.AuditError, match="does not exist"):
        trail.verify(tmp_path / "nope.jsonl", None)


def test_actor_in_ci_and_locally() -> None:
    ci = trail.actor_from_env(
        {
            "GITLAB_CI": "true",
            "GITLAB_USER_LOGIN": "bob",
            "CI_JOB_ID": "42",
            "CI_JOB_URL": "https://gl/j/42",
            "USER": "root",
        }
    )
    assert ci == {"kind": "ci", "user": "bob", "job_id": "42", "job_url": "https://gl/j/42"}
    assert trail.actor_from_env({"USER": "carol"}) == {"kind": "local", "user": "carol"}
    assert trail.actor_from_env({})["user"]  # falls back to the account name


def _result() -> RunResult:
    sup = Suppression(origin="file", reason="accepted risk", owner="sec-team", expires="2024-07-01", ticket="SEC-1")
    return RunResult(
        tool_version="0.1.0",
        target="app",
        started_at="2024-06-01T09:59:00Z",
        finished_at="2024-06-01T10:00:00Z",
        scanners=(ScannerStatus(name="bandit", state=ScannerState.OK),),
        findings=(
            Finding(
                kind=Kind.SAST,
                scanner="bandit",
                rule_id="B105",
                title="hardcoded password",
                message="m",
                severity=Severity.LOW,
                severity_original="LOW",
                location=Location(path="app.py", start_line=3),
                status=Status.SUPPRESSED,
                suppression=sup,
                fingerprint="v1:aa",
            ),
            Finding(
                kind=Kind.SAST,
                scanner="bandit",
                rule_id="B602",
                title="shell",
                message="m",
                severity=Severity.HIGH,
                severity_original="HIGH",
                location=Location(path="app.py", start_line=9),
                fingerprint="v1:bb",
            ),
        ),
        verdict=Verdict(
            passed=False,
            exit_code=1,
            policy="default",
            reasons=(BlockReason(rule="block_new_at_or_above=high", message="new high", fingerprint="v1:bb"),),
        ),
    )


def test_record_run_logs_verdict_and_each_suppression(tmp_path: Path) -> None:
    env = {"GITLAB_CI": "true", "GITLAB_USER_LOGIN": "bob", "CI_JOB_ID": "7"}
    trail.record_run(_result(), out_dir=tmp_path, env=env)
    log = tmp_path / "secscan-audit.jsonl"
    entries = trail.read_entries(log)
    assert [e["action"] for e in entries] == ["gate.verdict", "suppression.applied"]
    v = entries[0]
    assert v["timestamp"] == "2024-06-01T10:00:00Z"
    assert v["payload"]["verdict"]["passed"] is False
    assert v["payload"]["verdict"]["reasons"][0]["fingerprint"] == "v1:bb"
    assert v["payload"]["counts"] == {"new:high": 1, "suppressed:low": 1}
    assert v["actor"]["user"] == "bob"
    s = entries[1]["payload"]
    assert (s["fingerprint"], s["owner"], s["expires"], s["reason"]) == (
        "v1:aa",
        "sec-team",
        "2024-07-01",
        "accepted risk",
    )
    assert trail.verify(log, None).ok


def test_record_run_honours_shared_log_path(tmp_path: Path) -> None:
    shared = tmp_path / "shared" / "audit.jsonl"
    env = {"USER": "u", "SECSCAN_AUDIT_LOG": str(shared), "SECSCAN_AUDIT_KEY": "k"}
    trail.record_run(_result(), out_dir=tmp_path / "out1", env=env)
    trail.record_run(_result(), out_dir=tmp_path / "out2", env=env)
    assert not (tmp_path / "out1" / "secscan-audit.jsonl").exists()
    res = trail.verify(shared, b"k")
    assert res.ok and res.entries == 4
