"""A merge request's own suppressions file, written by the attacker (issue 30: pending entries).

The branch's ``.secscan/suppressions.toml`` is read only to say on a finding that an entry would
suppress it once merged. Its texts are the attacker's: a reason holding a card number, an AWS key
and a quoted password, GitLab quick actions on lines of their own, a mention, links, an image, an
HTML comment closing secscan's hidden markers. One real bandit scan: the entry is said, masked
and escaped, and decides nothing. Then files made to break or stall the reader (nesting deeper
than the TOML parser's stack, more entries than anyone reviews, a link out of the tree) are read
as saying nothing, without an error.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from secscan import inputs, resultio
from secscan.gitlab import notes
from tests.support.mergerequest import Link, commit, make_mr, new_repo, scan_mr

APP = "import hashlib\n\n\ndef checksum(data):\n    return hashlib.md5(data).hexdigest()\n"
PAN = "4111 1111 1111 1111"
AWS = "AKIAIOSFODNN7EXAMPLE"
PASSWORD = "Zq8hunter2Xy9"
REASON = (
    r"/approve\n/merge\n@all ![x](https://evil.example/p.png) [click](https://evil.example/) "
    rf"<!-- secscan:end --> --> {PAN} {AWS} password='{PASSWORD}' <img src=x onerror=alert(1)>"
)
HOSTILE = f"""version = 1

[[suppression]]
rule_id = "B324"
reason = "{REASON}"
owner = "@maintainers\\n/unassign"
"""


@pytest.mark.integration
def test_a_pending_entry_is_said_masked_and_escaped_and_decides_nothing(tmp_path: Path) -> None:
    repo, base = make_mr(tmp_path, {"base.py": "print(1)\n"}, {"app.py": APP, ".secscan/suppressions.toml": HOSTILE})
    scan = scan_mr(repo, base, "bandit", extra=("--format", "all"))
    assert scan.code == 1  # still blocks: the target branch's file decides
    (f,) = [f for f in scan.result["findings"] if f["rule_id"] == "B324"]
    assert f["status"] == "new" and f["pending_suppression"]["matched_by"] == "rule_id"
    assert [r["fingerprint"] for r in scan.result["verdict"]["reasons"] if r.get("fingerprint")] == [f["fingerprint"]]
    texts = {p.name: p.read_text(errors="replace") for p in scan.out_dir.iterdir() if p.is_file()}
    texts["stdout"] = scan.stdout
    for name, text in texts.items():
        for clear in (PAN, AWS, PASSWORD):
            assert clear not in text, (name, clear)
    finding = next(x for x in resultio.load(scan.out_dir / "secscan.json").findings if x.rule_id == "B324")
    body = notes.thread_body(finding, report="secscan", key=finding.fingerprint)
    assert body.count("<!--") == 1 and body.startswith("<!-- secscan:finding")  # secscan's own marker only
    for line in body.splitlines():
        assert not line.lstrip().startswith("/"), line  # no quick action
    assert "@all" not in body and "@maintainers" not in body  # no mention
    assert "](https://evil" not in body.replace("\\", "") or "\\]\\(" in body  # no live link or image
    html = texts["secscan-report.html"]
    assert "<img src=x" not in html and "<!-- secscan:end -->" not in html


@pytest.mark.parametrize(
    "content",
    [
        "version = 1\nx = " + "[" * 20000 + "]" * 20000 + "\n",
        "version = 1\n" + '[[suppression]]\nrule_id = "B324"\nreason = "r"\nowner = "o"\n' * 201,
        Link("/proc/self/environ"),
        Link("../../outside.toml"),
    ],
    ids=["deeper-than-the-parser", "more-entries-than-reviewed", "link-to-proc", "link-out-of-the-tree"],
)
def test_a_hostile_suppressions_file_on_the_branch_says_nothing(tmp_path: Path, content: str | Link) -> None:
    (tmp_path / "outside.toml").write_text(HOSTILE.replace("/approve", "leaked"), encoding="utf-8")
    repo, _ = new_repo(tmp_path, {"base.py": "print(1)\n"})
    commit(repo, {".secscan/suppressions.toml": content}, "suppress")
    with tempfile.TemporaryDirectory() as scratch:
        resolved = inputs.resolve(repo, {"diff_base": "main"}, env={}, scratch=Path(scratch))
    assert not [r for r in resolved.triage.suppressions if r.pending]
    assert any("suppressions .secscan/suppressions.toml" in w for w in resolved.warnings)  # its change is listed
