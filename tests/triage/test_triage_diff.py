"""Diff-aware mode on real git repositories made in the tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from secscan import fingerprint, triage
from secscan.errors import ConfigError
from secscan.models import Status
from secscan.scanners.pip_audit import is_manifest
from secscan.sourcefiles import SourceTree
from secscan.triage import diff
from tests.conftest import require_tool
from tests.support.cli import secscan
from tests.triage.triage_helpers import dep, sast, write_tree

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


def git(root: Path, *args: str) -> str:
    require_tool("git")
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True, env=env).stdout


def repo(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    write_tree(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    return root


def commit(root: Path, files: dict[str, str]) -> None:
    write_tree(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "change")


def test_parse_unified_diff_is_pure() -> None:
    text = (
        "diff --git a/app.py b/app.py\nindex 1..2 100644\n--- a/app.py\n+++ b/app.py\n"
        "@@ -3,0 +4,2 @@ def f():\n+x\n+y\n@@ -10 +12 @@\n-a\n+b\n@@ -20 +21,0 @@\n-gone\n"
        "diff --git a/old.py b/new.py\nsimilarity index 100%\nrename from old.py\nrename to new.py\n"
        "diff --git a/n.py b/n.py\nnew file mode 100644\n--- /dev/null\n+++ b/n.py\n@@ -0,0 +1 @@\n+z\n"
        "diff --git a/d.py b/d.py\ndeleted file mode 100644\n--- a/d.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-q\n"
    )
    files = diff.parse_unified_diff(text)
    assert set(files) == {"app.py", "new.py", "n.py"}
    assert files["app.py"].added == frozenset({4, 5, 12})
    assert files["new.py"].old_path == "old.py" and not files["new.py"].added
    assert files["n.py"].old_path is None


def test_changed_files_includes_uncommitted_and_untracked_and_is_relative_to_root(tmp_path: Path) -> None:
    root = repo(
        tmp_path / "r",
        {"svc/a.py": "a = 1\n", "svc/b.py": "b = 1\n", "other/c.py": "c = 1\n", "svc/requirements.txt": "x==1\n"},
    )
    commit(root, {"svc/a.py": "a = 2\n"})
    (root / "svc" / "b.py").write_text("b = 2\n")  # uncommitted
    (root / "svc" / "new.py").write_text("n = 1\n")  # untracked
    (root / "other" / "c.py").write_text("c = 2\n")  # outside the scanned folder
    assert diff.diff_info(root / "svc", "main").changed_paths() == ("a.py", "b.py", "new.py")
    assert diff.diff_info(root, "main").changed_paths() == ("other/c.py", "svc/a.py", "svc/b.py", "svc/new.py")
    assert not any(is_manifest(p) for p in diff.diff_info(root / "svc", "main").changed_paths())
    (root / "svc" / "requirements.txt").write_text("x==2\n")
    assert any(is_manifest(p) for p in diff.diff_info(root / "svc", "main").changed_paths())


def test_bad_refs_and_non_repositories_are_config_errors(tmp_path: Path) -> None:
    root = repo(tmp_path / "r", {"a.py": "a = 1\n"})
    with pytest.raises(ConfigError, match="'nope' is not a commit"):
        diff.diff_info(root, "nope")
    with pytest.raises(ConfigError, match="invalid --diff-base"):
        diff.diff_info(root, "--output=/tmp/x")
    plain = tmp_path / "plain"
    plain.mkdir()
    require_tool("git")
    with pytest.raises(ConfigError, match="needs a git work tree"):
        diff.diff_info(plain, "main")


BASE = """import hashlib
import subprocess


def run(cmd):
    return subprocess.call(cmd, shell=True)


def digest(data):
    return hashlib.md5(data).hexdigest()
"""

FILLER = "".join(f"\n\ndef helper_{n}(x):\n    return x + {n}\n" for n in range(5))  # 20 lines

# The feature branch: a new shell=True call, and digest() cut and pasted 20 lines further down.
FEATURE = (
    BASE.replace("\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n", "")
    + "\n\ndef deploy(cmd):\n    return subprocess.Popen(cmd, shell=True)\n"
    + FILLER
    + "\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n"
)


def test_moved_code_is_existing_added_code_is_new(tmp_path: Path) -> None:
    root = repo(tmp_path / "r", {"app.py": BASE, "requirements.txt": "requests==2.19.1\nflask==0.12\n"})
    commit(root, {"app.py": FEATURE, "requirements.txt": "requests==2.19.1\nflask==0.12\nurllib3==1.24.1\n"})
    lines = FEATURE.splitlines()
    md5_line = lines.index("    return hashlib.md5(data).hexdigest()") + 1
    popen_line = lines.index("    return subprocess.Popen(cmd, shell=True)") + 1
    run_line = lines.index("    return subprocess.call(cmd, shell=True)") + 1
    assert md5_line - BASE.splitlines().index("    return hashlib.md5(data).hexdigest()") - 1 >= 20
    tree = SourceTree(root)
    findings = fingerprint.assign(
        [
            sast(path="app.py", line=md5_line),
            sast(path="app.py", line=popen_line, rule_id="B602", cwe="CWE-78"),
            sast(path="app.py", line=run_line, rule_id="B602", cwe="CWE-78"),
            dep(manifest="requirements.txt", package="requests"),
            dep(manifest="requirements.txt", package="urllib3", advisory="PYSEC-2023-192", aliases=()),
        ],
        tree=tree,
    )
    installed = dep(package="jinja2", advisory="PYSEC-2019-217", aliases=())
    installed = replace(installed, location=replace(installed.location, path=None))  # --audit-installed
    findings += fingerprint.assign([installed], tree=tree)
    out = triage.apply(
        findings, triage.TriageContext(tree=tree, today=date(2026, 1, 1), diff=diff.diff_info(root, "main"))
    ).findings
    status = {(f.location.start_line, f.location.package): f.status for f in out}
    assert status == {
        (md5_line, None): Status.EXISTING,  # moved, not introduced
        (popen_line, None): Status.NEW,
        (run_line, None): Status.EXISTING,
        (None, "requests"): Status.EXISTING,
        (None, "urllib3"): Status.NEW,  # its requirement line was added
        (None, "jinja2"): Status.NEW,  # no manifest: cannot be placed in the diff, judged new
    }


def test_a_second_copy_of_existing_code_is_new(tmp_path: Path) -> None:
    root = repo(tmp_path / "r", {"app.py": BASE})
    line = "    return hashlib.md5(data).hexdigest()\n"
    commit(root, {"app.py": BASE.replace(line, line + line)})  # an identical copy, same scope
    tree = SourceTree(root)
    text = (root / "app.py").read_text().splitlines()
    md5_lines = [n + 1 for n, line in enumerate(text) if "md5" in line]
    assert len(md5_lines) == 2
    out = triage.apply(
        fingerprint.assign([sast(path="app.py", line=n) for n in md5_lines], tree=tree),
        triage.TriageContext(tree=tree, today=date(2026, 1, 1), diff=diff.diff_info(root, "main")),
    ).findings
    # Same code, same scope: the occurrence index tells them apart, and one of them is new.
    assert len({f.fingerprint for f in out}) == 2
    assert sorted(f.status.value for f in out) == ["existing", "new"]


def test_end_to_end_diff_aware_scan_reports_one_new_finding_and_gates_on_it(tmp_path: Path) -> None:
    require_tool("bandit")
    require_tool("git")
    root = repo(tmp_path / "r", {"app.py": BASE})
    commit(root, {"app.py": FEATURE})
    out = tmp_path / "out"
    env = {**os.environ, **GIT_ENV, "SECSCAN_DEBUG": "0"}
    env.pop("CI_MERGE_REQUEST_DIFF_BASE_SHA", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "secscan",
            "scan",
            str(root),
            "--only",
            "bandit",
            "--diff-base",
            "main",
            "-o",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads((out / "secscan.json").read_text())
    new = [f for f in doc["findings"] if f["status"] == "new"]
    assert [(f["rule_id"], f["location"]["snippet"].strip()) for f in new] == [
        ("B602", "return subprocess.Popen(cmd, shell=True)")
    ]
    highs = [f for f in doc["findings"] if f["severity"] == "high"]
    assert len(highs) == 3  # run(), deploy() and the moved digest(): only one of them is new
    reasons = doc["verdict"]["reasons"]
    assert [r["fingerprint"] for r in reasons] == [new[0]["fingerprint"]]
    assert doc["diff_base"] == "main"

    # Without diff-awareness all three high findings would block.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "secscan",
            "scan",
            str(root),
            "--only",
            "bandit",
            "-o",
            str(tmp_path / "o2"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1
    assert len(json.loads((tmp_path / "o2" / "secscan.json").read_text())["verdict"]["reasons"]) == 3


def test_end_to_end_changed_only_scans_just_the_changed_file(tmp_path: Path) -> None:
    require_tool("bandit")
    root = repo(tmp_path / "r", {"app.py": BASE, "untouched.py": BASE.replace("def run", "def run_old")})
    commit(root, {"app.py": FEATURE})
    env = {**os.environ, **GIT_ENV}
    env.pop("CI_MERGE_REQUEST_DIFF_BASE_SHA", None)
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "secscan", "scan", str(root), "--only", "bandit", "--diff-base", "main"]
    proc = subprocess.run(
        [*argv, "--changed-only", "-o", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads((out / "secscan.json").read_text())
    assert {f["location"]["path"] for f in doc["findings"]} == {"app.py"}  # untouched.py not scanned
    assert [f["rule_id"] for f in doc["findings"] if f["status"] == "new"] == ["B602"]


INLINE_APP = """import hashlib
import yaml


def digest(data):
    return hashlib.md5(data).hexdigest()  # nosec


def parse(text):
    return yaml.load(text)  # nosec B506
"""


def test_end_to_end_inline_suppressions_are_reported_and_high_ones_refused(tmp_path: Path) -> None:
    require_tool("bandit")
    root = write_tree(tmp_path / "p", {"app.py": INLINE_APP})
    out = tmp_path / "out"
    proc = secscan("scan", str(root), "--only", "bandit", "-o", str(out), "--no-progress")
    doc = json.loads((out / "secscan.json").read_text())
    by_rule = {f["rule_id"]: f for f in doc["findings"]}
    # bandit ran with --ignore-nosec, so both are reported, marked as inline suppressions.
    assert by_rule["B324"]["status"] == by_rule["B506"]["status"] == "suppressed"
    assert by_rule["B324"]["suppression"]["origin"] == "inline"
    # The default policy accepts # nosec up to medium (B506) but not for a new high (B324).
    assert proc.returncode == 1, proc.stderr
    assert [(r["rule"], r["fingerprint"]) for r in doc["verdict"]["reasons"]] == [
        ("inline_suppressions.max_severity=medium", by_rule["B324"]["fingerprint"])
    ]
