"""One meaning of a path pattern: --exclude for bandit, semgrep and pip-audit alike (real runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from secscan import files, pathmatch
from secscan.resultio import load
from secscan.scanners import pip_audit
from tests.conftest import require_tool
from tests.support.cli import Run, secscan, shell_env

MD5 = "import hashlib\n\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n"
RULE = """rules:
- id: md5-call
  pattern: hashlib.md5(...)
  message: MD5 is not collision resistant
  languages: [python]
  severity: WARNING
"""
TREE = {
    "app/a.py": MD5,
    "tests/test_a.py": MD5,
    "pkg/mod.py": MD5,
    "pkg/tests/test_b.py": MD5,
    "pkg/tests/deep/test_c.py": MD5,
    "pkg/testsuite/c.py": MD5,  # not a "tests" folder: stays
    "pkg/build/gen.py": MD5,  # a default exclude, at any depth
    "README.md": "# demo\n",
    # Untrusted scanner config in the tree: it must not decide what is scanned.
    ".semgrepignore": "app/\npkg/\n",
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


# ---------------------------------------------------------------- the matcher itself


@pytest.mark.parametrize(
    ("patterns", "path", "selected"),
    [
        (["./.github/**"], ".github/ci.yml", True),
        (["./.github/**"], "github/x", False),
        (["./.github/**"], "sub/.github/x", False),
        (["tests"], "tests", True),
        (["tests"], "pkg/tests/a/b.py", True),
        (["tests"], "pkg/tests.py", False),
        (["tests/"], "pkg/tests/a.py", True),
        (["*.py"], "a/b.py", True),
        (["/*.py"], "a/b.py", False),
        (["docs/*.md"], "docs/sub/x.md", False),
        (["docs/**/*.md"], "docs/sub/x.md", True),
        # git: "!" re-includes a file, but never one below an excluded folder.
        (["*.py", "!keep.py"], "pkg/keep.py", False),
        (["tests", "!tests/keep.py"], "tests/keep.py", True),
    ],
)
def test_gitignore_meaning(patterns: list[str], path: str, selected: bool) -> None:
    assert pathmatch.PathMatcher(patterns).matches(path) is selected


def test_a_folder_only_pattern_needs_a_folder() -> None:
    m = pathmatch.PathMatcher(["build/"])
    assert m.matches("build", is_dir=True) and not m.matches("build")


@pytest.mark.parametrize("bad", ["", "  ", "#comment", "!", ".", "./", "/", "a\\"])
def test_patterns_that_select_nothing_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"selects nothing|invalid pattern"):
        pathmatch.check([bad])


def test_the_walk_lists_kept_files_and_never_follows_a_link(tmp_path: Path) -> None:
    root = write_tree(tmp_path, TREE)
    (root / "pkg" / "link").symlink_to(root / "app")  # a folder inside: walked where it is
    listing = files.walk(root, pathmatch.excludes(["tests"]))
    assert "pkg/link" not in listing.files and not any(f.startswith("pkg/link/") for f in listing.files)
    assert not any(f.startswith("tests/") for f in listing.files)
    assert "pkg/mod.py" in listing.files and ".semgrepignore" in listing.files
    assert files.walk(root / "app", pathmatch.excludes(["*.py"])).files == ()


def test_a_planted_very_deep_tree_is_not_a_crash(tmp_path: Path) -> None:
    deep = tmp_path / "/".join(["d"] * 300)
    deep.mkdir(parents=True)
    (deep / "x.py").write_text("x = 1\n")
    (tmp_path / "top.py").write_text("x = 1\n")
    assert files.walk(tmp_path, pathmatch.excludes()).files == ("top.py",)


def test_changed_files_are_filtered_the_same_way() -> None:
    changed = ("app/a.py", "pkg/tests/test_b.py", "tests/x.py", "node_modules/m.js", "pkg/testsuite/c.py")
    assert pathmatch.kept(changed, pathmatch.excludes(["tests"])) == ("app/a.py", "pkg/testsuite/c.py")


def test_selection_walks_the_tree_once_per_run(tmp_path: Path) -> None:
    root = write_tree(tmp_path, TREE)
    selection = files.Selection()
    first = selection.listing(root, ("tests",))
    (root / "app" / "late.py").write_text(MD5)
    (root / "tests" / "gone.py").unlink(missing_ok=True)
    (root / "newdir").mkdir()
    assert selection.listing(root, ("tests",)) is first  # the second scanner gets the same list
    assert files.Selection().listing(root, ("tests",)) != first


def test_pip_audit_discovery_uses_the_same_excludes(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "requirements.txt": "",
            "pkg/tests/requirements.txt": "",
            "vendor/requirements.txt": "",
            "lib/vendor/requirements.txt": "",
            "pkg/build/requirements.txt": "",
        },
    )
    assert pip_audit.discover_requirements(tmp_path, ("tests", "./vendor/")) == [
        "lib/vendor/requirements.txt",
        "requirements.txt",
    ]


# ---------------------------------------------------------------- real bandit and semgrep


def scan(tree: Path, out: Path, *extra: str) -> Run:
    rule = out.parent / "md5.yml"
    rule.write_text(RULE, encoding="utf-8")
    env = shell_env()
    env.pop("SECSCAN_BANDIT_BIN", None)
    argv = ["scan", str(tree), "--only", "bandit,semgrep", "--no-progress"]
    argv += ["--no-builtin-rules", "--semgrep-rules", str(rule), "--out", str(out), *extra]
    return secscan(*argv, environ=env)


def paths_by_scanner(out: Path) -> dict[str, set[str]]:
    result = load(out / "secscan.json")
    states = {s.name: s.state.value for s in result.scanners}
    assert states == {"bandit": "ok", "semgrep": "ok"}, [s.error for s in result.scanners]
    found: dict[str, set[str]] = {"bandit": set(), "semgrep": set()}
    for f in result.findings:
        for s in f.sources:
            if s.location.path:
                found[s.scanner].add(s.location.path)
    return found


@pytest.mark.integration
def test_exclude_tests_drops_nested_test_folders_for_both_scanners(tmp_path: Path) -> None:
    require_tool("bandit")
    require_tool("semgrep")
    tree = write_tree(tmp_path / "tree", TREE)
    proc = scan(tree, tmp_path / "out", "--exclude", "tests")
    assert proc.returncode in (0, 1), proc.stderr
    found = paths_by_scanner(tmp_path / "out")
    kept = {"app/a.py", "pkg/mod.py", "pkg/testsuite/c.py"}
    assert found["bandit"] == kept
    assert found["semgrep"] == kept


@pytest.mark.integration
def test_without_excludes_both_scanners_see_every_file_the_defaults_leave(tmp_path: Path) -> None:
    """semgrep's built-in ignore list (every tests/ folder) and a planted .semgrepignore decide
    nothing: the two scanners look at the same files."""
    require_tool("bandit")
    require_tool("semgrep")
    tree = write_tree(tmp_path / "tree", TREE)
    proc = scan(tree, tmp_path / "out", "--scan-all-test-code")  # test code with every rule too
    assert proc.returncode in (0, 1), proc.stderr
    found = paths_by_scanner(tmp_path / "out")
    every = {p for p in TREE if p.endswith(".py") and not p.startswith("pkg/build/")}
    assert found["bandit"] == every
    assert found["semgrep"] == every


def test_a_bad_exclude_fails_before_any_scanner_starts(tmp_path: Path) -> None:
    tree = write_tree(tmp_path / "tree", {"app/a.py": MD5})
    proc = scan(tree, tmp_path / "out", "--exclude", "#tests")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["secscan: error: exclude: pattern '#tests' selects nothing"]
    assert not (tmp_path / "out" / "raw").exists() and not (tmp_path / "out" / "secscan.json").exists()
