"""Triage decisions with approval (issue 31), end to end with the real bandit.

A finding stored from a real scan is decided on (``secscan triage propose``); the author alone
cannot approve it; another person can, and both steps are on the hash-chained audit trail. The
export writes the decision into the suppressions file: on the merge request that adds it the file
is only pending, once merged the next pipeline's finding is suppressed. An accepted risk past its
expiry is left out and, in a file that still holds it, no longer suppresses: the finding reopens.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from secscan.aggregate import decisions
from secscan.aggregate.history import History
from tests.conftest import require_tool
from tests.support.cli import secscan
from tests.support.mergerequest import commit, git, new_repo, scan_mr

VULN = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"


def _scan_main(repo: Path, out: Path) -> dict:
    proc = secscan("scan", ".", "--only", "bandit", "--out", str(out), "--no-progress", cwd=repo, clean=True)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads((out / "secscan.json").read_text())


def _b602(result: dict) -> dict:
    return next(f for f in result["findings"] if f["rule_id"] == "B602")


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, str, str]:
    """A repository on main with one shell-injection finding stored in a history; (repo, db, fingerprint)."""
    require_tool("bandit")
    repo, _ = new_repo(tmp_path, {"app/run.py": VULN, "README.md": "shop\n"}, branch="main2")
    git(repo, "checkout", "-q", "main")
    result = _scan_main(repo, tmp_path / "o1")
    db = str(tmp_path / "history.sqlite3")
    added = secscan(
        "history", "add", str(tmp_path / "o1" / "secscan.json"), "--project", "shop", "--ref", "main", "--db", db
    )
    assert added.returncode == 0, added.stderr
    return repo, db, _b602(result)["fingerprint"]


def _propose(db: str, fp: str, *extra: str, by: str = "alice") -> int:
    proc = secscan(
        "triage", "propose", "--db", db, "--project", "shop", "--fingerprint", fp, "--by", by, *extra, clean=True
    )
    assert proc.returncode == 0, proc.stderr
    return int(proc.stdout.split("#", 1)[1].split(":", 1)[0])


def test_an_approved_decision_is_on_the_trail_and_suppresses_once_merged(shop: tuple[Path, str, str]) -> None:
    repo, db, fp = shop
    n = _propose(
        db, fp, "--decision", "accepted-risk", "--reason", "internal tool, fixed input", "--expires", "2099-01-01"
    )
    alone = secscan("triage", "approve", str(n), "--db", db, "--by", "alice", clean=True)
    assert alone.returncode == 2 and "needs an approver other than its author" in alone.stderr
    # Not approved: nothing is exported.
    out = repo / ".secscan" / "suppressions.toml"
    secscan("triage", "export", "--db", db, "--project", "shop", "-o", str(out), clean=True)
    assert tomllib.loads(out.read_text()).get("suppression", []) == []
    ok = secscan("triage", "approve", str(n), "--db", db, "--by", "bob", clean=True)
    assert ok.returncode == 0, ok.stderr
    with History(db) as h:
        (d,) = decisions.listing(h, project="shop")
        assert (d.author, d.approver, d.decision, d.expires) == ("alice", "bob", "accepted-risk", "2099-01-01")
        entries = [json.loads(e) for (e,) in h.db.execute("SELECT entry FROM audit_entries ORDER BY seq")]
    steps = [(e["action"], e["payload"]["author"], e["payload"]["approver"]) for e in entries]
    assert steps == [("triage.proposed", "alice", None), ("triage.approved", "alice", "bob")]
    assert secscan("audit", "verify", "--log", f"sqlite:{db}").returncode == 0

    exported = secscan("triage", "export", "--db", db, "--project", "shop", "-o", str(out), clean=True)
    assert exported.returncode == 0, exported.stderr
    (entry,) = tomllib.loads(out.read_text())["suppression"]
    assert entry["fingerprint"] == fp and entry["ticket"] == f"triage-{n}" and "bob" in entry["reason"]

    # The merge request that adds the file: pending, the finding is not suppressed by it.
    git(repo, "checkout", "-qb", "triage-mr")
    commit(repo, {"README.md": "shop v2\n"}, "mr")
    base = git(repo, "rev-parse", "main")
    pending = scan_mr(repo, base, "bandit")
    assert _b602(pending.result)["status"] != "suppressed"
    # Merged: the next pipeline honours it.
    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-edit", "triage-mr")
    git(repo, "checkout", "-qb", "next-mr")
    commit(repo, {"README.md": "shop v3\n"}, "next")
    after = scan_mr(repo, git(repo, "rev-parse", "main"), "bandit")
    finding = _b602(after.result)
    assert finding["status"] == "suppressed" and finding["suppression"]["ticket"] == f"triage-{n}"


def test_an_expired_accepted_risk_reopens_the_finding(shop: tuple[Path, str, str]) -> None:
    repo, db, fp = shop
    n = _propose(
        db,
        fp,
        "--decision",
        "accepted-risk",
        "--reason",
        "r",
        "--expires",
        "2025-02-01",
        "--now",
        "2025-01-01T00:00:00Z",
    )
    approved = secscan("triage", "approve", str(n), "--db", db, "--by", "bob", "--now", "2025-01-02T00:00:00Z")
    assert approved.returncode == 0, approved.stderr
    out = repo / ".secscan" / "suppressions.toml"
    # Exported while in force (January 2025), then merged.
    secscan("triage", "export", "--db", db, "--project", "shop", "-o", str(out), "--now", "2025-01-15T00:00:00Z")
    assert tomllib.loads(out.read_text())["suppression"][0]["expires"].isoformat() == "2025-02-01"
    commit(repo, {}, "suppressions")
    # Today it has expired: the suppressions file no longer suppresses, the finding counts again.
    result = _scan_main(repo, repo.parent / "o2")
    assert _b602(result)["status"] in ("new", "existing")
    assert any("expired on 2025-02-01" in w for w in result.get("warnings", []))
    listed = secscan("triage", "list", "--db", db, clean=True)
    assert f"#{n}\tshop\t{fp}\taccepted-risk\texpired" in listed.stdout
    # A fresh export leaves it out.
    secscan("triage", "export", "--db", db, "--project", "shop", "-o", str(out), clean=True)
    assert tomllib.loads(out.read_text()).get("suppression", []) == []


def test_bad_decisions_are_refused_before_anything_is_written(shop: tuple[Path, str, str]) -> None:
    _, db, fp = shop
    cases = [
        (("--decision", "accepted-risk", "--reason", "r"), "needs --expires"),
        (("--decision", "fix-planned", "--reason", "r", "--owner", "carol"), "needs --owner and --due"),
        (("--decision", "won't-fix", "--reason", "r"), "Invalid value for '--decision'"),
        (("--decision", "false-positive"), "--reason is required"),
        (("--decision", "accepted-risk", "--reason", "r", "--expires", "2020-01-01"), "must be after today"),
    ]
    for args, message in cases:
        proc = secscan("triage", "propose", "--db", db, "--project", "shop", "--fingerprint", fp, "--by", "a", *args)
        assert proc.returncode == 2 and message in proc.stderr, (args, proc.stderr)
    unknown = secscan(
        "triage", "propose", "--db", db, "--project", "shop", "--fingerprint", "v1:nope", "--by", "a",
        "--decision", "false-positive", "--reason", "r",
    )  # fmt: skip
    assert unknown.returncode == 2 and "no finding 'v1:nope'" in unknown.stderr
    with History(db) as h:
        assert decisions.listing(h) == []
        # The database holds the rule too, whatever client writes to it.
        with pytest.raises(Exception, match=r"(?i)check"), h.db.transaction():
            h.db.execute(
                "INSERT INTO triage_decisions (project_id, fingerprint, decision, reason, author, created_at,"
                " approver) VALUES (1, ?, 'false-positive', 'r', 'eve', 'now', 'eve')",
                (fp,),
            )


def test_decisions_on_both_stores(store: str) -> None:
    """Propose, refuse the author's own approval, approve: the same on SQLite and PostgreSQL, and
    the database itself refuses an approver who is the author."""
    from datetime import UTC, datetime

    from secscan.errors import ConfigError
    from secscan.models import Finding, Kind, Location, Severity
    from tests.support.results import result, scanner

    f = Finding(
        kind=Kind.SAST, scanner="bandit", rule_id="B602", title="shell", message="m", severity=Severity.HIGH,
        severity_original="HIGH", location=Location(path="app/run.py", start_line=5), fingerprint="v1:shell",
    )  # fmt: skip
    now = datetime(2026, 1, 10, tzinfo=UTC)
    env = {"SECSCAN_AUDIT_LOG": ""}
    with History(store) as h:
        h.add(result(f, scanners=[scanner("bandit")]), project="shop")
        plan = decisions.Proposal(
            project="shop", fingerprint="v1:shell", decision="fix-planned", reason="r", author="alice",
            owner="carol", due="2026-02-01",
        )  # fmt: skip
        d = decisions.propose(h, plan, now=now, env=env)
        with pytest.raises(ConfigError, match="other than its author"):
            decisions.approve(h, d.id, approver="alice", now=now, env=env)
        done = decisions.approve(h, d.id, approver="bob", now=now, env=env)
        assert (done.approver, done.state(now.date())) == ("bob", "active")
        assert done.state(datetime(2026, 3, 1, tzinfo=UTC).date()) == "overdue"
        assert [(e.decision, e.approver) for e in decisions.listing(h, fingerprint="v1:shell")] == [
            ("fix-planned", "bob")
        ]
        actions = [a for (a,) in h.db.execute("SELECT action FROM audit_entries ORDER BY seq")]
        assert actions == ["triage.proposed", "triage.approved"]
        with pytest.raises(Exception, match=r"(?i)check"), h.db.transaction():
            h.db.execute("UPDATE triage_decisions SET approver = author WHERE id = ?", (d.id,))
