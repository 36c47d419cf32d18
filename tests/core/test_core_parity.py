"""Verdict parity (issue 26, core-3): one merge request, one verdict, whichever way it is judged.

Every case is a real merge request (a git repository with a trusted base and a head, as GitLab's
merge request pipeline checks it out), judged three ways:

a. ``secscan scan --only bandit --only detect-secrets``, as a developer or a one-job pipeline;
b. bandit's own report of the tree + ``secscan import --tool bandit`` + ``secscan gate``;
c. the CI template's split pipeline: one ``secscan scan --only X`` job per scanner, then
   ``secscan merge`` + ``secscan gate`` in a final job that has no checkout (only the scan jobs'
   artifacts, ``SECSCAN_POLICY`` empty as the template's variables leave it).

All three must give the same findings (fingerprints), the same statuses and the same exit code,
and say the same policy: what decides the verdict is resolved once, from the merge-base commit,
and travels in ``secscan.json`` (``judged_with``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from secscan.models import PENDING_SETTINGS
from tests.conftest import require_tool
from tests.support.cli import Run, secscan
from tests.support.mergerequest import Content, job_env, make_mr, scan_mr

CLEAN = "def add(a, b):\n    return a + b\n"
HIGH = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
# The same code reformatted: the flagged line changes, the fingerprint (whitespace removed) does not.
HIGH_REFORMATTED = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd,  shell=True)\n"
MEDIUM = "def calc(expr):\n    return eval(expr)\n"
WEAK_HASH = "import hashlib\n\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n"
STRICT = 'version = 1\nname = "strict"\n[block]\nnew_at_or_above = "medium"\n'
SUPPRESS_B602 = """version = 1

[[suppression]]
rule_id = "B602"
path = "pay.py"
reason = "commands are built from constants only"
owner = "sec@example.com"
expires = "2999-12-31"
"""
INLINE = (
    "import subprocess\n\n\n"
    "def calc(expr):\n    return eval(expr)  # nosec B307\n\n\n"
    "def run(cmd):\n    return subprocess.call(cmd, shell=True)  # nosec B602\n"
)

# A bandit that dies on every file it is given: it writes what real bandit writes when a file
# raises inside it (an ``errors`` entry per file, no results) and exits with a traceback. A
# pipeline that imports its report gets the same failure the live scan sees.
CRASHING_BANDIT = """
import json, os, sys
args = sys.argv[1:]
if "--version" in args:
    print("bandit 1.9.4")
    sys.exit(0)
out = args[args.index("-o") + 1]
files = []
for t in (a for a in args[args.index("-r") + 1 :] if a != "--"):
    if os.path.isfile(t):
        files.append(t)
    for d, dirs, names in os.walk(t):
        dirs[:] = [x for x in dirs if x != ".git"]
        files += [os.path.join(d, n) for n in names if n.endswith(".py")]
report = {
    "errors": [{"filename": f, "reason": "exception while scanning file"} for f in sorted(files)],
    "results": [],
    "metrics": {"_totals": {}, **{f: {"loc": 1} for f in files}},
}
with open(out, "w") as fh:
    json.dump(report, fh)
sys.stderr.write("Traceback (most recent call last):\\nRecursionError: maximum recursion depth exceeded\\n")
sys.exit(2)
"""


@dataclass(frozen=True, kw_only=True)
class Case:
    base: Mapping[str, Content]
    head: Mapping[str, Content]
    code: int
    """The verdict's exit code every path must give."""
    policy: str = "default"
    statuses: Mapping[str, str] = field(default_factory=dict)
    """rule id -> status, for the findings the case is about."""
    env: Mapping[str, str] = field(default_factory=dict)
    """The operator's CI/CD variables, in every job."""
    fake_bandit: bool = False
    check: Callable[[dict[str, Any]], None] | None = None
    """More checks on the scan's secscan.json."""


def _pending_change(doc: dict[str, Any], what: str) -> None:
    assert any(w.startswith(PENDING_SETTINGS) and what in w for w in doc.get("warnings", [])), doc.get("warnings")


def _pending(doc: dict[str, Any]) -> None:
    _pending_change(doc, "suppressions .secscan/suppressions.toml")


def _test_code(doc: dict[str, Any]) -> None:
    [f] = [f for f in doc["findings"] if f["rule_id"] == "B324"]
    assert "test-code" in f.get("tags", ()), f  # the project's test path, read at the base


def _inline(doc: dict[str, Any]) -> None:
    by_rule = {f["rule_id"]: f for f in doc["findings"]}
    assert by_rule["B307"]["suppression"]["origin"] == "inline"
    reasons = doc["verdict"]["reasons"]
    assert [r["rule"] for r in reasons] == ["inline_suppressions.max_severity=medium"], reasons


def _baseline_case(tmp_path: Path) -> Case:
    """A baseline committed at the base, named by the project's settings, accepting the finding
    the merge request only reformats (without it: new, on a changed line)."""
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "pay.py").write_text(HIGH)
    report = _bandit_report(seed, tmp_path / "seed-bandit.json", os.environ.get("SECSCAN_BANDIT_BIN"))
    env = job_env("")
    del env["CI_MERGE_REQUEST_DIFF_BASE_SHA"]
    _secscan(
        "import", "--tool", "bandit", str(report), "--root", ".", "-o", str(tmp_path / "s.json"), cwd=seed, env=env
    )
    base_file = tmp_path / "baseline.json"
    _secscan("baseline", "create", str(tmp_path / "s.json"), "-o", str(base_file), cwd=tmp_path, env=env)
    return Case(
        base={
            "pay.py": HIGH,
            ".secscan/baseline.json": base_file.read_text(),
            "pyproject.toml": '[tool.secscan]\nbaseline = ".secscan/baseline.json"\n',
        },
        head={"pay.py": HIGH_REFORMATTED},
        code=0,
        statuses={"B602": "existing"},
        check=lambda doc: _baseline_recorded(doc),
    )


def _baseline_recorded(doc: dict[str, Any]) -> None:
    recorded = doc["judged_with"]["baseline"]
    assert recorded["origin"].startswith(".secscan/baseline.json at "), recorded
    assert len(recorded["sha256"]) == 64


CASES: dict[str, Case | Callable[[Path], Case]] = {
    "default-settings": Case(base={"app.py": CLEAN}, head={"pay.py": HIGH}, code=1, statuses={"B602": "new"}),
    "strict-project-policy": Case(
        base={
            "app.py": CLEAN,
            "pyproject.toml": '[tool.secscan]\npolicy = "ci/strict.toml"\n',
            "ci/strict.toml": STRICT,
        },
        head={"calc.py": MEDIUM},
        code=1,
        policy="strict",
        statuses={"B307": "new"},
    ),
    "suppression-at-the-base": Case(
        base={"app.py": CLEAN, ".secscan/suppressions.toml": SUPPRESS_B602},
        head={"pay.py": HIGH},
        code=0,
        statuses={"B602": "suppressed"},
    ),
    "suppression-added-by-the-merge-request": Case(
        base={"app.py": CLEAN},
        head={"pay.py": HIGH, ".secscan/suppressions.toml": SUPPRESS_B602},
        code=1,
        statuses={"B602": "new"},
        check=_pending,
    ),
    "baseline": _baseline_case,
    "test-paths-set-by-the-project": Case(
        base={"app.py": CLEAN, "pyproject.toml": '[tool.secscan]\ntest_paths = ["checks/"]\n'},
        head={"checks/probe.py": WEAK_HASH},
        code=0,
        statuses={"B324": "new"},
        check=_test_code,
    ),
    # The operator names a policy file of the project (a CI/CD variable, read by every job);
    # the merge request weakens it: the base's version applies, in the final job too.
    "operator-policy-variable-weakened-by-the-merge-request": Case(
        base={"app.py": CLEAN, "ci/strict.toml": STRICT},
        head={"calc.py": MEDIUM, "ci/strict.toml": STRICT.replace('"medium"', '"critical"')},
        env={"SECSCAN_POLICY": "ci/strict.toml"},
        code=1,
        policy="strict",
        statuses={"B307": "new"},
        check=lambda doc: _pending_change(doc, "policy ci/strict.toml"),
    ),
    "failed-scanner": Case(base={"app.py": CLEAN}, head={"pay.py": HIGH}, code=3, fake_bandit=True),
    "inline-suppressions": Case(
        base={"app.py": CLEAN},
        head={"calc.py": INLINE},
        code=1,
        statuses={"B307": "suppressed", "B602": "suppressed"},
        check=_inline,
    ),
}


def _secscan(*args: str, cwd: Path, env: Mapping[str, str], codes: tuple[int, ...] = (0,)) -> Run:
    proc = secscan(*args, cwd=cwd, environ=env)
    assert proc.returncode in codes, (args, proc.returncode, proc.stdout, proc.stderr)
    return proc


def _bandit_report(root: Path, out: Path, exe: str | None) -> Path:
    """bandit's own JSON report of the tree, run as secscan runs it (``--ignore-nosec``: inline
    suppressions are secscan's to judge, and an import must see them to refuse a high one)."""
    bandit = exe or require_tool("bandit")
    subprocess.run(
        [bandit, "-f", "json", "-o", str(out), "-q", "--ignore-nosec", "-r", "."],
        cwd=root,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert out.is_file()
    return out


def _judged(doc: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """fingerprint -> (status, how it is suppressed): what the verdict depends on."""
    return {f["fingerprint"]: (f["status"], (f.get("suppression") or {}).get("origin")) for f in doc["findings"]}


def _settings(doc: dict[str, Any]) -> tuple[object, ...]:
    j = doc["judged_with"]
    return tuple(
        (j.get(k) or {}).get("sha256") if k in ("policy", "suppressions", "baseline") else j.get(k)
        for k in ("policy", "suppressions", "baseline", "test_paths", "production_only_rules", "excludes", "diff_base")
    )


@pytest.mark.parametrize("name", list(CASES))
def test_scan_import_and_the_split_pipeline_give_one_verdict(name: str, tmp_path: Path) -> None:
    spec = CASES[name]
    case = spec(tmp_path) if callable(spec) else spec
    repo, base = make_mr(tmp_path, case.base, case.head)
    extra: dict[str, str] = {}
    if case.fake_bandit:
        fake = tmp_path / "bin" / "bandit"
        fake.parent.mkdir()
        fake.write_text(f"#!{sys.executable}\n{CRASHING_BANDIT}")
        fake.chmod(0o755)
        extra["SECSCAN_BANDIT_BIN"] = str(fake)
    env = job_env(base, **extra, **case.env)
    # Every rule in test code too: an imported report holds all the tool found there.
    flags = ("--no-cache", "--scan-all-test-code")

    # a. one scan
    a = scan_mr(repo, base, "bandit", "detect-secrets", extra=flags, env=env)
    shutil.rmtree(repo / "secscan-results")  # each CI job starts from a fresh checkout

    # b. bandit's own report, imported in the merge request's checkout, gated elsewhere
    report = _bandit_report(repo, tmp_path / "bandit-report.json", extra.get("SECSCAN_BANDIT_BIN"))
    imported = tmp_path / "imported" / "secscan.json"
    _secscan("import", "--tool", "bandit", str(report), "-o", str(imported), cwd=repo, env=env)
    gate_env = {**env, "SECSCAN_POLICY": ""}  # as the template's final job runs `secscan gate`
    b_gate = _secscan(
        "gate",
        str(imported),
        "-o",
        str(imported.parent / "gated.json"),
        cwd=imported.parent,
        env=gate_env,
        codes=(case.code,),
    )
    b = json.loads((imported.parent / "gated.json").read_text())

    # c. the template's split pipeline: one job per scanner, then a final job without a checkout
    final = tmp_path / "final"
    for scanner in ("bandit", "detect-secrets"):
        job = scan_mr(repo, base, scanner, extra=flags, env=env)
        assert job.code in (0, 1, 3), job.stderr  # the scan job succeeds; the verdict is the final job's
        shutil.copytree(job.out_dir, final / "secscan-results" / scanner)
        shutil.rmtree(repo / "secscan-results")
    inputs = [str(Path("secscan-results") / s / "secscan.json") for s in ("bandit", "detect-secrets")]
    _secscan("merge", *inputs, "--out", "secscan-reports/merged.json", cwd=final, env=gate_env)
    c_gate = _secscan(
        "gate",
        "secscan-reports/merged.json",
        "--out",
        "secscan-reports/secscan.json",
        cwd=final,
        env=gate_env,
        codes=(case.code,),
    )
    c = json.loads((final / "secscan-reports" / "secscan.json").read_text())

    assert a.code == case.code, (a.stdout, a.stderr)
    assert _judged(a.result) == _judged(b) == _judged(c)
    assert a.result["verdict"]["exit_code"] == b["verdict"]["exit_code"] == c["verdict"]["exit_code"] == case.code
    assert a.result["verdict"]["policy"] == b["verdict"]["policy"] == c["verdict"]["policy"] == case.policy
    assert _settings(a.result) == _settings(b) == _settings(c)
    for gate in (b_gate, c_gate):
        assert f"policy {case.policy} (recorded in the result)" in gate.stdout, gate.stdout
    by_rule = {f["rule_id"]: f["status"] for f in a.result["findings"]}
    for rule, status in case.statuses.items():
        assert by_rule.get(rule) == status, (rule, a.result["findings"])
    if case.fake_bandit:
        assert {s["name"]: s["state"] for s in b["scanners"]} == {"bandit": "failed"}
        assert {s["name"]: s["state"] for s in c["scanners"]}["bandit"] == "failed"
    if case.check is not None:
        case.check(a.result)
    # The final job's reports name the policy that judged (the recorded one).
    md = _secscan("report", "secscan-reports/secscan.json", "--format", "markdown", "-o", "-", cwd=final, env=gate_env)
    assert f"policy {case.policy})" in md.stdout, md.stdout[:400]
