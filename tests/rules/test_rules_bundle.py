"""semgrep gets each local rule config as one JSON rule file (secscan.scanners.semgrep.bundled_rules):
the same rule ids and findings as the config itself, with real semgrep, and the config passed
whole wherever semgrep would read it differently."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from secscan.scanners import semgrep
from tests.conftest import ROOT, require_tool
from tests.support.cli import secscan, shell_env

RULE = """rules:
  - id: {id}
    languages: [python]
    severity: ERROR
    message: {id} fired
    metadata: {{cwe: "CWE-89: SQL injection"}}
    pattern: {pattern}
"""
APP = "import os\n\ndef f(q, cur):\n    cur.execute('SELECT ' + q)\n    os.system(q)\n"


def rules_folder(root: Path) -> Path:
    """A project's rule folder: one file on top, one in a sub-folder (semgrep names its rules
    ``team.<id>``)."""
    (root / "team").mkdir(parents=True)
    (root / "top.yaml").write_text(RULE.format(id="raw-system", pattern="os.system(...)"))
    (root / "team" / "sql.yml").write_text(RULE.format(id="raw-sql", pattern="$C.execute('...' + $Q)"))
    return root


def scan_ids(tmp_path: Path, rules: Path, name: str) -> tuple[int, list[str], list[str]]:
    """(exit code, the rule ids of the findings, the semgrep command line) of a scan of APP."""
    tree = tmp_path / f"tree-{name}"
    tree.mkdir()
    (tree / "app.py").write_text(APP)
    out = tmp_path / f"out-{name}"
    run = secscan(
        "scan", tree, "--only", "semgrep", "--no-builtin-rules", "--semgrep-rules", rules, "--no-cache", "--out", out
    )
    doc = json.loads((out / "secscan.json").read_text())
    argv = next(s["command"] for s in doc["scanners"] if s["name"] == "semgrep")
    return run.returncode, sorted(f["rule_id"] for f in doc["findings"]), argv


def configs(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == "--config"]


def test_a_bundled_folder_gives_the_ids_semgrep_gives_the_folder(tmp_path: Path) -> None:
    rules = rules_folder(tmp_path / "rules")
    code, ids, argv = scan_ids(tmp_path, rules, "bundled")
    assert code == 1
    assert ids == ["raw-system", "team.raw-sql"]
    assert [Path(c).relative_to(Path(c).parents[1]) for c in configs(argv)] == [Path(semgrep.BUNDLE_DIR, "0.json")]
    # semgrep itself, given the folder, names the rules the same way (after the folder's prefix).
    exe = require_tool("semgrep")
    (tmp_path / "app.py").write_text(APP)
    argv_direct = [exe, "scan", "--json", "--metrics=off", "--disable-version-check", "--config", str(rules),
                   str(tmp_path / "app.py")]  # fmt: skip
    direct = json.loads(
        subprocess.run(argv_direct, cwd=tmp_path, env=shell_env(), capture_output=True, text=True).stdout
    )
    prefixes = semgrep.rule_prefixes([str(rules)], tmp_path)
    assert sorted(semgrep.short_rule_id(r["check_id"], prefixes) for r in direct["results"]) == ids


def test_a_folder_semgrep_reads_differently_is_passed_whole(tmp_path: Path) -> None:
    rules = rules_folder(tmp_path / "rules")
    # A rule test file (semgrep's own convention) and a hidden file: semgrep's folder walk leaves
    # them out, which a bundle of every YAML file would not.
    (rules / "top.test.yaml").write_text(RULE.format(id="never", pattern="os.system(...)"))
    assert semgrep.bundled_rules(str(rules)) is None
    code, ids, argv = scan_ids(tmp_path, rules, "whole")
    assert code == 1 and "raw-system" in ids
    assert configs(argv) == [str(rules.resolve())]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("broken.yaml", "rules: [\n"),
        ("not-rules.yaml", "checks: []\n"),
        ("no-id.yaml", "rules:\n  - languages: [python]\n    pattern: x\n"),
    ],
)
def test_a_folder_with_a_file_that_is_no_rule_list_is_passed_whole(tmp_path: Path, name: str, text: str) -> None:
    """Not bundled: semgrep gets the folder and reports such a file itself, as without secscan."""
    rules = rules_folder(tmp_path / "rules")
    (rules / name).write_text(text)
    assert semgrep.bundled_rules(str(rules)) is None


def test_repeated_ids_are_not_bundled(tmp_path: Path) -> None:
    rules = rules_folder(tmp_path / "rules")
    shutil.copy(rules / "top.yaml", rules / "again.yaml")
    assert semgrep.bundled_rules(str(rules)) is None


def test_the_builtin_rules_are_bundled_whole() -> None:
    """Every built-in rule is in the bundle, ids unchanged (the rules folder has no sub-folder)."""
    builtin = ROOT / "rules" / "semgrep"
    bundle = semgrep.bundled_rules(str(builtin))
    assert bundle is not None
    expected = [r["id"] for f in sorted(builtin.glob("*.yaml")) for r in yaml.safe_load(f.read_text())["rules"]]
    assert sorted(r["id"] for r in bundle) == sorted(expected) and len(expected) > 80
