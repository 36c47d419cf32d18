"""A hostile merge request cannot make the diff-aware gate call its new finding "existing"
(issue 25, class 2: when in doubt, a finding is new).

Each test is a real merge request (a trusted base commit, an attacker's head) scanned as the
merge-request pipeline scans it, with bandit. The head adds a high finding (B602,
``subprocess.call(..., shell=True)``) and tries one way to hide it from the diff; a control that
differs only by that one change is scanned too. Both must fail the gate with B602 ``new``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_tool
from tests.support.mergerequest import Content, Scan, git, make_mr, scan_mr

RULE = "B602"

BASE_APP = """import subprocess


def run(cmd):
    return 0


def deploy(cmd):
    return 1


def helper(x):
    return x + 1
"""
HEAD_APP = BASE_APP.replace("    return 1\n", "    return subprocess.call(cmd, shell=True)\n")


@pytest.fixture(autouse=True)
def _tools() -> None:
    require_tool("bandit")
    require_tool("git")


def _gate_fails_on_new(scan: Scan) -> None:
    assert scan.code == 1, scan.stderr
    assert RULE in scan.new_rules(), [(f["rule_id"], f["status"]) for f in scan.result["findings"]]
    reasons = {r.get("fingerprint") for r in scan.result["verdict"]["reasons"]}
    flagged = {f["fingerprint"] for f in scan.result["findings"] if f["rule_id"] == RULE and f["status"] == "new"}
    assert flagged & reasons


def _mr_blocks(tmp_path: Path, base: dict[str, Content], head: dict[str, Content]) -> Scan:
    tmp_path.mkdir(parents=True, exist_ok=True)
    repo, base_sha = make_mr(tmp_path, base, head)
    scan = scan_mr(repo, base_sha, "bandit")
    _gate_fails_on_new(scan)
    return scan


# ---------------------------------------------------------------- the diff is read as text


@pytest.mark.parametrize(
    "attributes",
    [
        None,  # control: the same head without the attribute
        "*.py -diff\n",
        "*.py binary\n",
        "*.py diff=hidden\n",  # a driver with a textconv and an external command (see below)
        "* -text -diff\n",
    ],
)
def test_gitattributes_cannot_hide_the_hunks(tmp_path: Path, attributes: str | None) -> None:
    head: dict[str, Content] = {"app.py": HEAD_APP}
    if attributes is not None:
        head[".gitattributes"] = attributes
    repo, base_sha = make_mr(tmp_path, {"app.py": BASE_APP}, head)
    # A driver the runner's git config might define (the operator's side): a textconv that
    # shows nothing and an external diff that prints nothing.
    git(repo, "config", "diff.hidden.textconv", "true")
    git(repo, "config", "diff.hidden.command", "true")
    _gate_fails_on_new(scan_mr(repo, base_sha, "bandit"))


@pytest.mark.parametrize(
    "config",
    [
        (),  # control
        ("diff.noprefix", "true"),
        ("diff.mnemonicPrefix", "true"),
        ("diff.srcPrefix", "x/"),
        ("color.ui", "always"),
        ("color.diff", "always"),
        ("diff.relative", "true"),
        ("diff.suppressBlankEmpty", "true"),
        ("diff.external", "true"),
        ("core.quotePath", "true"),
        ("diff.submodule", "log"),
    ],
)
def test_git_config_that_changes_the_diff_format_is_pinned(tmp_path: Path, config: tuple[str, ...]) -> None:
    repo, base_sha = make_mr(tmp_path, {"app.py": BASE_APP}, {"app.py": HEAD_APP})
    if config:
        git(repo, "config", *config)
    _gate_fails_on_new(scan_mr(repo, base_sha, "bandit"))


# ---------------------------------------------------------------- hunks by their counts


@pytest.mark.parametrize("prefix", ["", "++ ", "++ b/other.py or ", "+++ "])
def test_an_added_line_that_looks_like_a_header_is_an_added_line(tmp_path: Path, prefix: str) -> None:
    # "++ x" is unary plus twice; git prints the added line as "+++ x".
    line = f"{prefix}subprocess.call(input(), shell=True)\n"
    _mr_blocks(tmp_path, {"app.py": BASE_APP}, {"app.py": BASE_APP + line, "other.py": "x = 1\n"})


@pytest.mark.parametrize("removed", ["x = 1\n", "-- 1\n", "-- a/app.py\n", "-- /dev/null\n"])
def test_a_removed_line_that_looks_like_a_header_is_a_removed_line(tmp_path: Path, removed: str) -> None:
    base = "import subprocess\n" + removed + "\n\ndef deploy(cmd):\n    return 1\n"
    head = base.replace(removed, "").replace("return 1", "return subprocess.call(cmd, shell=True)")
    _mr_blocks(tmp_path, {"app.py": base}, {"app.py": head})


def test_a_line_that_looks_like_a_file_header_does_not_start_a_file(tmp_path: Path) -> None:
    # The vulnerable line is added to app.py after lines that, as added lines, read
    # "+diff --git a/x b/x" and "++++ b/x" in the patch.
    trick = 'TEXT = """\ndiff --git a/x.py b/x.py\n+++ b/x.py\n@@ -1 +1,99 @@\n"""\n'
    _mr_blocks(tmp_path, {"app.py": BASE_APP}, {"app.py": trick + HEAD_APP})


# ---------------------------------------------------------------- file names are unquoted


@pytest.mark.parametrize(
    "name",
    [
        "app.py",  # control
        'we"ird.py',
        "tab\tname.py",
        "new\nline.py",
        "back\\slash.py",
        "caf\u00e9.py",
        "sp ace.py",
        "-rf.py",
        'dir with "quotes"/\u00fcn\u00efc\u00f8d\u00e9 \\ x.py',
        "a.py b/a.py",
    ],
)
def test_a_file_name_git_quotes_is_matched(tmp_path: Path, name: str) -> None:
    _mr_blocks(tmp_path, {name: BASE_APP}, {name: HEAD_APP})


def test_a_renamed_file_with_a_quoted_name_keeps_its_new_lines(tmp_path: Path) -> None:
    _mr_blocks(tmp_path, {'old "name".py': BASE_APP}, {'old "name".py': None, "new\tname.py": HEAD_APP})


# ---------------------------------------------------------------- lines as the scanners count them


def test_code_joined_with_a_bare_cr_is_on_the_line_python_counts(tmp_path: Path) -> None:
    for sep in ("\n", "\r"):  # control, then the attack: git sees one changed line
        head = BASE_APP.replace("    return 1\n", f"    x = 1{sep}    return subprocess.call(cmd, shell=True)\n")
        _mr_blocks(tmp_path / str(ord(sep)), {"app.py": BASE_APP}, {"app.py": head})


@pytest.mark.parametrize("brk", ["", "\f", "\v", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"])
def test_a_comment_ending_in_a_line_break_python_ignores_does_not_shift_the_window(tmp_path: Path, brk: str) -> None:
    # str.splitlines() sees one more line than git and Python do: the window of the new call
    # would be the unchanged "def deploy(cmd):" line above it, which the base has too.
    head = HEAD_APP.replace("import subprocess\n", f"import subprocess  # the shell{brk}\n")
    _mr_blocks(tmp_path, {"app.py": BASE_APP}, {"app.py": head})


def test_crlf_files_keep_their_line_numbers(tmp_path: Path) -> None:
    crlf: dict[str, Content] = {"app.py": BASE_APP.replace("\n", "\r\n").encode()}
    _mr_blocks(tmp_path, crlf, {"app.py": HEAD_APP.replace("\n", "\r\n").encode()})


# ---------------------------------------------------------------- what the diff cannot describe


def _submodule(tmp_path: Path, text: str) -> Path:
    sub = tmp_path / "sub"
    sub.mkdir()
    git(sub, "init", "-q", "-b", "main")
    (sub / "vuln.py").write_text(text)
    git(sub, "add", "-A")
    git(sub, "commit", "-qm", "lib")
    return sub


def _add_submodule(repo: Path, sub: Path) -> None:
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub), "lib")
    git(repo, "commit", "-qm", "vendor lib")


def test_files_of_a_submodule_the_pipeline_checks_out_are_new(tmp_path: Path) -> None:
    # Control: the same file committed as a regular file.
    _mr_blocks(tmp_path / "control", {"app.py": BASE_APP}, {"lib/vuln.py": HEAD_APP})
    sub = _submodule(tmp_path, HEAD_APP)
    (tmp_path / "attack").mkdir()
    repo, base_sha = make_mr(tmp_path / "attack", {"app.py": BASE_APP}, {})
    _add_submodule(repo, sub)
    scan = scan_mr(repo, base_sha, "bandit")
    _gate_fails_on_new(scan)
    assert {f["location"]["path"] for f in scan.result["findings"] if f["rule_id"] == RULE} == {"lib/vuln.py"}


def test_a_submodule_bumped_to_a_vulnerable_commit_is_new(tmp_path: Path) -> None:
    sub = _submodule(tmp_path, BASE_APP)
    (tmp_path / "attack").mkdir()
    repo, _ = make_mr(tmp_path / "attack", {"app.py": BASE_APP}, {})
    git(repo, "checkout", "-q", "main")
    _add_submodule(repo, sub)
    base_sha = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "attack")
    git(repo, "merge", "-q", "main")
    (sub / "vuln.py").write_text(HEAD_APP)
    git(sub, "commit", "-qam", "harmless")
    git(repo / "lib", "pull", "-q", "origin", "main")
    git(repo, "commit", "-qam", "bump lib")
    _gate_fails_on_new(scan_mr(repo, base_sha, "bandit"))


def test_a_symlink_at_the_base_that_is_a_file_at_the_head_is_new(tmp_path: Path) -> None:
    from tests.support.mergerequest import Link

    base: dict[str, Content] = {"real.py": BASE_APP, "app.py": Link("real.py")}
    _mr_blocks(tmp_path / "control", {"real.py": BASE_APP, "app.py": BASE_APP}, {"app.py": HEAD_APP})
    _mr_blocks(tmp_path / "attack", base, {"app.py": HEAD_APP})


def test_a_mode_change_with_new_lines_is_still_read(tmp_path: Path) -> None:
    repo, base_sha = make_mr(tmp_path, {"app.py": BASE_APP}, {"app.py": HEAD_APP})
    (repo / "app.py").chmod(0o755)
    git(repo, "commit", "-qam", "executable")
    _gate_fails_on_new(scan_mr(repo, base_sha, "bandit"))


def test_a_smudge_filter_that_changes_the_lines_makes_the_file_new(tmp_path: Path) -> None:
    # A filter the runner defines (as git-lfs does), which the head's .gitattributes turns on:
    # the working tree is not the blob git compared, so git's line numbers do not apply.
    packed = HEAD_APP.replace("    return subprocess.call", "\x01    return subprocess.call").replace(
        "def deploy(cmd):\n\x01", "def deploy(cmd):\x01"
    )
    for attributes in ("", "app.py filter=unpack\n"):  # control, then the attack
        root = tmp_path / str(len(attributes))
        root.mkdir()
        repo, base_sha = make_mr(root, {"app.py": BASE_APP}, {"app.py": packed, ".gitattributes": attributes})
        git(repo, "config", "filter.unpack.smudge", "tr '\\001' '\\n'")
        # Its clean is the inverse of its smudge, as with git-lfs: git sees no change to commit.
        git(repo, "config", "filter.unpack.clean", "perl -0pe 's/:\\n(?=    return subprocess)/:\\x01/g'")
        (repo / "app.py").unlink()
        git(repo, "checkout", "--", "app.py")
        if attributes:
            assert (repo / "app.py").read_bytes() == HEAD_APP.encode()  # the checkout unpacked it
            assert not git(repo, "status", "--porcelain", "--untracked-files=no")
        else:
            (repo / "app.py").write_text(packed.replace("\x01", "\n"))
            git(repo, "commit", "-qam", "unpacked")
        _gate_fails_on_new(scan_mr(repo, base_sha, "bandit"))


def test_an_eol_conversion_at_checkout_keeps_existing_findings_existing(tmp_path: Path) -> None:
    # The trusted base asks for CRLF in the working tree: lines do not move, so the finding the
    # base already had stays existing, and the new one is new.
    base: dict[str, Content] = {"app.py": HEAD_APP, "other.py": BASE_APP, ".gitattributes": "*.py text eol=crlf\n"}
    repo, base_sha = make_mr(tmp_path, base, {"other.py": HEAD_APP.replace("deploy", "ship")})
    for name in ("app.py", "other.py"):
        (repo / name).unlink()
        git(repo, "checkout", "--", name)
        assert b"\r\n" in (repo / name).read_bytes()
    scan = scan_mr(repo, base_sha, "bandit")
    _gate_fails_on_new(scan)
    status = {(f["location"]["path"], f["status"]) for f in scan.result["findings"] if f["rule_id"] == RULE}
    assert status == {("app.py", "existing"), ("other.py", "new")}


def test_an_ignored_file_present_in_the_checkout_is_new(tmp_path: Path) -> None:
    for ignore in ("", "generated.py\n"):  # control (untracked), then ignored
        root = tmp_path / str(len(ignore))
        root.mkdir()
        repo, base_sha = make_mr(root, {"app.py": BASE_APP}, {".gitignore": ignore or "other\n"})
        (repo / "generated.py").write_text(HEAD_APP)
        scan = scan_mr(repo, base_sha, "bandit")
        assert any(f["location"]["path"] == "generated.py" for f in scan.result["findings"])
        _gate_fails_on_new(scan)


def test_a_file_deleted_and_re_added_under_another_case_is_new(tmp_path: Path) -> None:
    _mr_blocks(tmp_path, {"app.py": BASE_APP}, {"app.py": None, "App.py": HEAD_APP})


def test_moved_code_stays_existing_and_copied_code_is_new(tmp_path: Path) -> None:
    # The rule the diff-aware mode exists for still holds: cut-and-paste is not new.
    base = HEAD_APP
    deploy = "\n\ndef deploy(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    moved = base.replace(deploy, "") + deploy
    assert moved != base
    repo, base_sha = make_mr(tmp_path, {"app.py": base}, {"app.py": moved})
    scan = scan_mr(repo, base_sha, "bandit")
    assert scan.code == 0, [(f["rule_id"], f["status"]) for f in scan.result["findings"]]
    assert RULE not in scan.new_rules()
