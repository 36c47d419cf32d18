"""`secscan suppress` and suppressions through review (issue 30).

The workflow a developer follows: the gate blocks a finding on the branch; `secscan suppress
FINGERPRINT` writes the entry; on the branch alone it is pending (the merge base's file decides)
and says why; once the entry is on the target branch the next pipeline suppresses the finding;
an entry that matches nothing is reported as stale, an expired one on every run.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from secscan.errors import ConfigError
from secscan.models import PENDING_SUPPRESSION, RunResult
from secscan.triage import suppressions as sup
from secscan.triage.merge import merge_results
from tests.conftest import require_tool
from tests.support.cli import Run, secscan
from tests.support.mergerequest import commit, git, new_repo

APP = "import hashlib\n\n\ndef checksum(data):\n    return hashlib.md5(data).hexdigest()\n"
TODAY = dt.date.today()


def _scan(repo: Path, out: str) -> tuple[Run, dict[str, Any]]:
    """The pipeline's scan of the branch (reports outside the work tree)."""
    folder = repo.parent / out
    run = secscan(
        "scan", ".", "--only", "bandit", "--diff-base", "main", "-o", folder, "--no-progress", cwd=repo, clean=True
    )
    doc = json.loads((folder / "secscan.json").read_text(encoding="utf-8"))
    doc.setdefault("warnings", [])
    return run, doc


def _suppress(repo: Path, *args: str) -> Run:
    return secscan("suppress", *args, cwd=repo, clean=True)


def _bad_inputs_write_nothing(repo: Path, fp: str, result: str) -> None:
    """Bad input: one line, exit 2, nothing written."""
    expires = (TODAY + dt.timedelta(days=30)).isoformat()
    assert _suppress(repo, "v1:not-in-the-result", "--reason", "x", "--expires", expires, "--result", result).code == 2
    too_far = (TODAY + dt.timedelta(days=366)).isoformat()
    bad = _suppress(repo, fp, "--reason", "x", "--expires", too_far, "--result", result)
    assert bad.code == 2 and "at most 365 days" in bad.stderr
    assert _suppress(repo, fp, "--reason", "x", "--expires", "31/12/2026", "--result", result).code == 2
    past = _suppress(repo, fp, "--reason", "x", "--expires", TODAY.isoformat(), "--result", result)
    assert past.code == 2 and "after today" in past.stderr
    assert not (repo / ".secscan").exists()


def _pending_is_said_on_the_finding(run: Run, doc: dict[str, Any], fp: str, result: Path) -> None:
    """The entry the branch adds is named on the finding it would suppress: in secscan.json, on
    the terminal, in the MR note and in the finding's inline thread (and the terminal offers no
    second `suppress:` line for it)."""
    from secscan import resultio
    from secscan.gitlab import notes

    got = next(f for f in doc["findings"] if f["fingerprint"] == fp)
    assert got["pending_suppression"]["reason"] == "cache key, not a checksum"
    assert got["pending_suppression"]["owner"] == "alice@example.com"
    said = f"{PENDING_SUPPRESSION}: cache key, not a checksum, owner alice@example.com"
    block = run.stdout[run.stdout.index("B324") :]
    assert said in block and f"fingerprint: {fp}" in block
    assert "suppress: secscan suppress" not in block
    # Markdown escapes the punctuation of every untrusted text (GitLab shows it unescaped) and
    # an @ (no mention of anyone from a finding).
    said = said.replace("@", "&#64;")
    note = secscan("report", result, "--format", "markdown", "-o", "-", clean=True)
    assert note.code == 0
    blocking = note.stdout[note.stdout.index("### Blocking findings") :].replace("\\", "")
    assert said in blocking, blocking[:3000]
    page = secscan("report", result, "--format", "html", "-o", "-", clean=True)
    assert page.code == 0 and html.escape(said.replace("&#64;", "@")) in page.stdout
    finding = next(f for f in resultio.load(result).findings if f.fingerprint == fp)
    assert said in notes.thread_body(finding, report="secscan", key=fp).replace("\\", "")


@pytest.mark.integration
def test_suppress_pending_on_the_branch_applies_once_merged_stale_when_it_matches_nothing(tmp_path: Path) -> None:
    require_tool("bandit")
    repo, _ = new_repo(tmp_path, {"base.py": "print(1)\n"})
    git(repo, "config", "user.email", "alice@example.com")
    commit(repo, {"app.py": APP}, "checksum")
    run, doc = _scan(repo, "out1")
    assert run.code == 1
    (finding,) = [f for f in doc["findings"] if f["rule_id"] == "B324"]
    fp = finding["fingerprint"]
    expires = (TODAY + dt.timedelta(days=30)).isoformat()
    result = str(tmp_path / "out1" / "secscan.json")

    _bad_inputs_write_nothing(repo, fp, result)

    ok = _suppress(
        repo, fp, "--reason", "cache key, not a checksum", "--expires", expires, "--ticket", "SEC-9", "--result", result
    )
    assert ok.code == 0, ok.stderr
    assert "applies once merged" in ok.stdout
    written = tomllib.loads((repo / ".secscan" / "suppressions.toml").read_text(encoding="utf-8"))
    assert written["version"] == 1
    assert written["suppression"] == [
        {
            "fingerprint": fp,
            "reason": "cache key, not a checksum",
            "owner": "alice@example.com",
            "expires": TODAY + dt.timedelta(days=30),
            "ticket": "SEC-9",
        }
    ]
    again = _suppress(repo, fp, "--reason", "again", "--expires", expires, "--result", result)
    assert again.code == 2 and "already suppresses" in again.stderr

    # On the branch only: pending, the finding still blocks, and the result says why.
    entry = commit(repo, {}, "suppress the checksum finding")
    run, doc = _scan(repo, "out2")
    assert run.code == 1
    assert next(f for f in doc["findings"] if f["fingerprint"] == fp)["status"] == "new"
    (pending,) = [w for w in doc["warnings"] if "suppressions .secscan/suppressions.toml" in w]
    assert "applies once merged" in pending and "target branch's file decides" in pending
    assert "code owners" in pending
    _pending_is_said_on_the_finding(run, doc, fp, tmp_path / "out2" / "secscan.json")

    # Merged into the target branch (the entry's commit alone): the next pipeline suppresses it.
    git(repo, "checkout", "-q", "main")
    git(repo, "cherry-pick", entry)
    git(repo, "checkout", "-q", "feature")
    git(repo, "rebase", "-q", "main")
    run, doc = _scan(repo, "out3")
    assert run.code == 0, run.stdout[-2000:]
    got = next(f for f in doc["findings"] if f["fingerprint"] == fp)
    assert got["status"] == "suppressed"
    assert got["suppression"]["owner"] == "alice@example.com"
    assert "pending_suppression" not in got
    assert not any("stale suppression" in w for w in doc["warnings"])

    # An entry for a finding that is gone: stale, in the result and on the terminal.
    git(repo, "checkout", "-q", "main")
    forced = _suppress(
        repo,
        "v1:0123456789abcdef",
        "--force",
        "--reason",
        "fixed since",
        "--expires",
        expires,
        "--result",
        str(tmp_path / "missing.json"),
    )
    assert forced.code == 0, forced.stderr
    commit(repo, {}, "another suppression")
    git(repo, "checkout", "-q", "feature")
    git(repo, "rebase", "-q", "main")
    run, doc = _scan(repo, "out4")
    assert run.code == 0
    stale = [w for w in doc["warnings"] if w.startswith(sup.STALE)]
    assert len(stale) == 1 and "v1:0123456789abcdef" in stale[0]
    assert "stale suppression" in run.stdout + run.stderr


def test_an_expired_entry_says_so_on_every_run() -> None:
    rules = sup.parse_rules(
        {"version": 1, "suppression": [{"fingerprint": "v1:a", "reason": "r", "owner": "o", "expires": "2020-01-01"}]},
        origin="s.toml",
    )
    for today in (dt.date(2020, 1, 2), dt.date(2024, 6, 1)):
        outcome = sup.apply_rules([], rules, today=today)
        assert any("expired on 2020-01-01" in w for w in outcome.warnings)


def test_an_entry_is_written_in_the_file_format_and_keeps_the_files_comments() -> None:
    existing = (
        '# our accepted risks\nversion = 1\n\n[[suppression]]\nrule_id = "B101"  # asserts\nreason = "x"\nowner = "y"\n'
    )
    entry = sup.NewEntry(
        fingerprint="v1:ff",
        reason='quoted "text"\nand a second line',
        owner="bob@example.com",
        expires=dt.date(2030, 1, 2),
        about='B324 at a.py:3\n[[suppression]]\nrule_id = "B"',  # a planted newline stays in the comment
    )
    text = sup.add_entry(existing, entry, origin="s.toml")
    assert text.startswith(existing.rstrip("\n"))
    rules = sup.parse_rules(tomllib.loads(text), origin="s.toml")
    assert [(r.rule_id, r.fingerprint) for r in rules] == [("B101", None), (None, "v1:ff")]
    assert rules[1].reason == entry.reason and rules[1].expires == entry.expires
    with pytest.raises(ConfigError, match="not valid TOML"):
        sup.add_entry("version = [", entry, origin="s.toml")


def test_expiry_limits() -> None:
    today = dt.date(2026, 1, 1)
    sup.check_expiry(dt.date(2026, 1, 2), today=today, max_days=30)
    sup.check_expiry(dt.date(2026, 1, 31), today=today, max_days=30)
    for bad in (today, dt.date(2026, 2, 1)):
        with pytest.raises(ConfigError):
            sup.check_expiry(bad, today=today, max_days=30)


def test_a_split_pipeline_reports_a_stale_entry_only_when_no_job_matched_it() -> None:
    both = sup.STALE + "suppression #1 (fingerprint=v1:a; owner o) matches no finding: remove it if the problem is gone"
    one = sup.STALE + "suppression #2 (rule_id=B324; owner o) matches no finding: remove it if the problem is gone"
    a = RunResult(tool_version="1", target=".", started_at="", finished_at="", warnings=(both, one, "other"))
    b = RunResult(tool_version="1", target=".", started_at="", finished_at="", warnings=(both,))
    merged = merge_results([a, b])
    assert both in merged.warnings and "other" in merged.warnings
    assert one not in merged.warnings


def test_an_entry_joins_the_one_line_form_the_terminal_offers() -> None:
    existing = (
        "version = 1\nsuppression = [\n"
        '  { fingerprint = "v1:aa", reason = "r", owner = "o", expires = 2027-03-07 },\n]\n'
    )
    entry = sup.NewEntry(
        fingerprint="v1:bb", reason="cache key", owner="bob@example.com", expires=dt.date(2027, 1, 2), about="B324\n]"
    )
    text = sup.add_entry(existing, entry, origin="s.toml")
    rules = sup.parse_rules(tomllib.loads(text), origin="s.toml")
    assert [(r.fingerprint, r.owner) for r in rules] == [("v1:aa", "o"), ("v1:bb", "bob@example.com")]


def test_only_the_entries_the_branch_adds_are_pending_and_only_open_findings_say_so() -> None:
    from dataclasses import replace

    from secscan.models import Status
    from tests.triage.triage_helpers import sast

    def rules(*entries: dict[str, Any]) -> tuple[sup.Rule, ...]:
        return sup.parse_rules({"version": 1, "suppression": list(entries)}, origin="s.toml")

    kept = {"rule_id": "B101", "reason": "asserts", "owner": "o"}
    added = {"fingerprint": "v1:aa", "reason": "cache key", "owner": "bob"}
    lapsed = {"fingerprint": "v1:bb", "reason": "old", "owner": "bob", "expires": "2020-01-01"}
    changed = {"rule_id": "B101", "reason": "asserts", "owner": "o", "path": "app/**"}
    base = rules(kept)
    # An entry the base already has is not pending, wherever it moved in the file.
    pending = sup.added_rules(rules(added, lapsed, changed, kept), base)
    assert [(r.fingerprint, r.path) for r in pending] == [("v1:aa", None), ("v1:bb", None), (None, "app/**")]
    assert all(r.pending for r in pending) and not any(r.pending for r in base)

    open_ = replace(sast(rule_id="B324", path="lib/x.py"), fingerprint="v1:aa")
    suppressed = replace(open_, status=Status.SUPPRESSED)
    expired_only = replace(sast(rule_id="B324", path="lib/y.py"), fingerprint="v1:bb")
    marked = sup.mark_pending([open_, suppressed, expired_only], pending, today=dt.date(2026, 1, 1))
    assert marked[0].pending_suppression is not None and marked[0].pending_suppression.reason == "cache key"
    assert marked[0].status is open_.status  # said, never applied: the target branch decides
    assert marked[1].pending_suppression is None  # already suppressed by the trusted file
    assert marked[2].pending_suppression is None  # an expired entry would not suppress it either
