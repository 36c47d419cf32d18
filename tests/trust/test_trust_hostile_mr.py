"""A hostile merge request cannot switch the gate off, run code, or reach the token (issue trust).

Each test builds a real git repository: a trusted base (the target branch, merged state) and a
head written by an attacker that adds a real vulnerability *and* tries one way to get it through.
The scan runs the way the CI template runs it: `secscan scan . --only <scanner> --out
secscan-results/<scanner>` in a merge request pipeline (CI_MERGE_REQUEST_DIFF_BASE_SHA set), with
the job's credentials in the environment. Every test asserts that the gate still fails, and
where the attack could run code, that nothing from the tree ran and no credential reached it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_tool
from tests.support.cli import secscan
from tests.support.gitlab_standin import GitLabStandIn
from tests.support.gitlab_testkit import add_mr, ci_env
from tests.support.mergerequest import SECRETS, git, job_env, make_mr

CLEAN = "def add(a, b):\n    return a + b\n"
VULN = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
ADVISORIES = ROOT / "examples" / "advisories"


def scan(repo: Path, base_sha: str, scanner: str, *extra: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    argv = ["scan", ".", "--only", scanner, "--out", f"secscan-results/{scanner}", "--no-progress", *extra]
    proc = secscan(*argv, cwd=repo, environ=env or job_env(base_sha))
    path = repo / "secscan-results" / scanner / "secscan.json"
    assert path.is_file(), proc.stderr
    result = json.loads(path.read_text())
    for value in SECRETS.values():
        assert value not in proc.stdout + proc.stderr
        assert value not in path.read_text()
    return proc.returncode, result


def pending(result: dict) -> list[str]:
    return [w for w in result["warnings"] if w.startswith("pending settings change")]


def new_rules(result: dict) -> set[str]:
    return {f["rule_id"] for f in result["findings"] if f["status"] == "new"}


# ------------------------------------------------------------------ no code from the tree runs


PLANTED = """import os, pathlib
pathlib.Path({marker!r}).write_text(repr(dict(os.environ)))
raise SystemExit(0)
"""


def test_a_planted_pip_module_never_runs_inside_pip_audit(tmp_path: Path) -> None:
    require_tool("pip-audit")
    marker = tmp_path / "planted-code-ran"
    repo, base = make_mr(
        tmp_path,
        {"app.py": CLEAN, "requirements.txt": "jinja2==3.1.6\n"},
        {
            "requirements.txt": "jinja2==2.10\n",  # a pin with known advisories
            "pip.py": PLANTED.format(marker=str(marker)),
            "pip/__init__.py": PLANTED.format(marker=str(marker)),
            "pip_api.py": PLANTED.format(marker=str(marker)),
            "sitecustomize.py": PLANTED.format(marker=str(marker)),
        },
    )
    code, result = scan(repo, base, "pip-audit", "--advisory-db", str(ADVISORIES))
    assert not marker.exists(), "code from the merge request ran inside the scan"
    status = result["scanners"][0]
    assert status["state"] == "ok", status
    assert any(f["location"].get("package") == "jinja2" and f["status"] == "new" for f in result["findings"])
    assert code in (0, 1)


def test_scanners_get_no_credentials_and_do_not_start_in_the_tree(tmp_path: Path) -> None:
    # A stand-in scanner executable that records what a process started by secscan receives:
    # its environment and working folder. Whatever runs inside a scanner sees no more than this.
    seen = tmp_path / "seen"
    script = tmp_path / "bandit"
    script.write_text(
        "#!/bin/sh\n"
        f"env > {seen}.env\npwd > {seen}.cwd\n"
        'while [ $# -gt 0 ]; do if [ "$1" = "-o" ]; then out="$2"; fi; shift; done\n'
        'printf \'{"results": [], "errors": []}\' > "$out"\n'
    )
    script.chmod(0o755)
    repo, base = make_mr(tmp_path, {"app.py": CLEAN}, {"app.py": VULN})
    scan(repo, base, "bandit", env=job_env(base, SECSCAN_BANDIT_BIN=str(script)))
    env = seen.with_suffix(".env").read_text()
    for name, value in SECRETS.items():
        assert value not in env and f"{name}=" not in env
    assert "PYTHONSAFEPATH=1" in env
    cwd = Path(seen.with_suffix(".cwd").read_text().strip())
    assert not cwd.is_relative_to(repo.resolve()), cwd


def test_a_changed_file_named_like_an_option_stays_a_file(tmp_path: Path) -> None:
    require_tool("bandit")
    evil_ini = "[bandit]\nskips: B602,B604\nexclude: /\n"
    repo, base = make_mr(
        tmp_path,
        {"app.py": CLEAN},
        {"--ini=evil.py": evil_ini, "-x.py": "x = 1\n", "app.py": VULN},
    )
    code, result = scan(repo, base, "bandit", "--changed-only")
    # The INI text named like a Python file cannot be parsed: that file is named as not
    # analysed (issue trust-2: incomplete is never ok); the others were scanned.
    status = result["scanners"][0]
    assert status["incomplete_files"] == ["--ini=evil.py (syntax error while parsing AST from file)"], status
    assert "B602" in new_rules(result)
    assert code == 1


# ------------------------------------------------------------------ settings from the trusted side


HOSTILE_SETTINGS = {
    "exclude everything": {".secscan.toml": 'exclude = ["**", "*.py"]\n'},
    "skip the scanners": {".secscan.toml": 'skip = ["bandit", "semgrep", "pip-audit"]\n'},
    "own policy named default": {
        ".secscan.toml": 'policy = "ci/default.toml"\n',
        "ci/default.toml": 'version = 1\nname = "default"\nfail_closed = false\n[block]\nnew_at_or_above = "none"\n',
    },
    "suppress everything": {
        ".secscan/suppressions.toml": (
            'version = 1\n[[suppression]]\npath = "**"\nreason = "refactoring"\nowner = "attacker@example.com"\n'
        ),
    },
    "drop the builtin rules": {".secscan.toml": "semgrep_builtin_rules = false\n"},
    "a .bandit that skips everything": {".bandit": "[bandit]\nskips: B602,B604,B605,B607\nexclude: ./\n"},
    "broken settings file": {".secscan.toml": "exclude = [\n"},
}


@pytest.mark.parametrize("attack", sorted(HOSTILE_SETTINGS))
def test_settings_changed_by_the_merge_request_do_not_apply(attack: str, tmp_path: Path) -> None:
    require_tool("bandit")
    head: dict[str, str | None] = {"app.py": VULN, **HOSTILE_SETTINGS[attack]}
    repo, base = make_mr(tmp_path, {"app.py": CLEAN, ".secscan.toml": 'skip = ["zap"]\n'}, head)
    code, result = scan(repo, base, "bandit")
    assert code == 1, result["verdict"]
    assert "B602" in new_rules(result)
    if attack != "a .bandit that skips everything":  # a scanner's own config is simply never read
        assert pending(result), result["warnings"]


def test_a_baseline_holding_the_new_fingerprints_does_not_apply(tmp_path: Path) -> None:
    require_tool("bandit")
    repo, base = make_mr(tmp_path, {"app.py": CLEAN}, {"app.py": VULN})
    # The attacker scans the head on their machine (no diff base) and commits that as the baseline.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "secscan",
            "scan",
            ".",
            "--only",
            "bandit",
            "-o",
            str(tmp_path / "own"),
            "--no-progress",
        ],
        cwd=repo,
        env={k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_"))},
        check=False,
        capture_output=True,
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "secscan",
            "baseline",
            "create",
            str(tmp_path / "own" / "secscan.json"),
            "-o",
            str(repo / ".secscan" / "baseline.json"),
        ],
        check=True,
        capture_output=True,
    )
    (repo / ".secscan.toml").write_text('baseline = ".secscan/baseline.json"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "accept")
    code, result = scan(repo, base, "bandit")
    assert code == 1
    assert "B602" in new_rules(result)
    assert any(w.endswith(".secscan.toml: baseline") for w in pending(result)), result["warnings"]


def test_an_operator_named_file_in_the_tree_is_read_at_the_base(tmp_path: Path) -> None:
    # The operator points SECSCAN_POLICY at the project's policy; the merge request rewrites it.
    strict = 'version = 1\nname = "team"\n[block]\nnew_at_or_above = "medium"\n'
    lax = 'version = 1\nname = "team"\nfail_closed = false\n[block]\nnew_at_or_above = "none"\n'
    repo, base = make_mr(tmp_path, {"app.py": CLEAN, "ci/policy.toml": strict}, {"app.py": VULN, "ci/policy.toml": lax})
    code, result = scan(repo, base, "bandit", env=job_env(base, SECSCAN_POLICY="ci/policy.toml"))
    assert code == 1
    assert any("policy ci/policy.toml" in w for w in pending(result))


def test_an_own_advisory_source_does_not_apply(tmp_path: Path) -> None:
    require_tool("pip-audit")
    empty = tmp_path / "empty-advisories"
    empty.mkdir()
    repo, base = make_mr(
        tmp_path,
        {
            "app.py": CLEAN,
            "requirements.txt": "jinja2==3.1.6\n",
            ".secscan.toml": 'advisory_db = "osv"\n',
            "osv/README": "advisories\n",
        },
        {"requirements.txt": "jinja2==2.10\n", ".secscan.toml": 'osv_url = "http://127.0.0.1:9/"\n'},
    )
    # The operator names the advisory database (as the template does with SECSCAN_ADVISORY_DB).
    _code, result = scan(repo, base, "pip-audit", "--advisory-db", str(ADVISORIES))
    assert result["scanners"][0]["state"] == "ok", result["scanners"]
    assert any(f["location"].get("package") == "jinja2" for f in result["findings"])
    assert pending(result)


def test_a_legitimate_settings_change_on_a_branch_applies(tmp_path: Path) -> None:
    # No diff base (a branch pipeline after the merge): the work tree is the merged state.
    require_tool("bandit")
    repo, _base = make_mr(tmp_path, {"app.py": VULN}, {".secscan.toml": 'exclude = ["app.py"]\n'})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "secscan", "scan", ".", "--only", "bandit", "-o", "out", "--no-progress"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads((repo / "out" / "secscan.json").read_text())["findings"] == []


# ------------------------------------------------------------------ outputs and recorded URLs


def test_an_audit_log_committed_as_a_symlink_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    repo, base = make_mr(tmp_path, {"app.py": CLEAN}, {"app.py": VULN})
    out = repo / "secscan-results" / "bandit"
    out.mkdir(parents=True)
    (out / "secscan-audit.jsonl").symlink_to(victim)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "secscan",
            "scan",
            ".",
            "--only",
            "bandit",
            "--out",
            "secscan-results/bandit",
            "--no-progress",
        ],
        cwd=repo,
        env=job_env(base),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "symlink inside the scanned tree" in proc.stderr
    assert victim.read_text() == "precious\n"


def test_credentials_in_the_osv_url_are_not_recorded(tmp_path: Path) -> None:
    require_tool("pip-audit")
    repo, base = make_mr(tmp_path, {"requirements.txt": "jinja2==3.1.6\n"}, {"requirements.txt": "jinja2==2.10\n"})
    code, result = scan(repo, base, "pip-audit", "--osv-url", "http://svc:hunter2-osv@127.0.0.1:9/v1/query")
    text = json.dumps(result)
    assert "hunter2-osv" not in text and "svc:" not in text
    assert result["scanners"][0]["state"] == "failed"
    assert code == 3  # the endpoint is unreachable: not audited, fail closed


# ------------------------------------------------------------------ results cannot be planted


def test_merge_refuses_results_of_another_commit(tmp_path: Path) -> None:
    def result(sha: str, name: str) -> Path:
        path = tmp_path / name
        path.write_text(
            json.dumps(
                {
                    "schema": "secscan/1",
                    "tool_version": "0.1.0",
                    "target": ".",
                    "started_at": "2026-01-01T00:00:00Z",
                    "finished_at": "2026-01-01T00:00:01Z",
                    "scanners": [],
                    "findings": [],
                    "warnings": [],
                    "meta": {"ci_commit_sha": sha},
                }
            )
        )
        return path

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "secscan",
            "merge",
            str(result("a" * 40, "a.json")),
            str(result("b" * 40, "b.json")),
            "-o",
            str(tmp_path / "m.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "refusing to merge results of different commits" in proc.stderr


def test_a_merge_request_that_only_changes_settings_shows_them_as_pending_in_the_note(
    tmp_path: Path, gitlab_standin: GitLabStandIn
) -> None:
    require_tool("bandit")
    repo, base = make_mr(
        tmp_path,
        {"app.py": CLEAN, ".secscan.toml": 'skip = ["zap"]\n'},
        {".secscan.toml": 'skip = ["zap"]\nexclude = ["legacy/**"]\n'},
    )
    code, result = scan(repo, base, "bandit")
    assert code == 0
    assert pending(result) == ["pending settings change (applies once merged): .secscan.toml: exclude"]
    add_mr(gitlab_standin)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "SECSCAN_", "GITLAB_"))}
    env.update(ci_env(gitlab_standin))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "secscan",
            "publish",
            str(repo / "secscan-results" / "bandit" / "secscan.json"),
            "--allow-http",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    [note] = [n for n in gitlab_standin.merge_requests[(7, 3)].notes() if n.get("type") != "DiffNote"]
    assert "This merge request changes secscan settings" in note["body"]
    assert "exclude" in note["body"] and "apply once merged" in note["body"]
