"""The diff parser of diff-aware mode on real ``git diff`` output (issue 25, class 2).

Pure functions (``parse_patch``, ``parse_raw``, ``unquote_path``, ``Lines``) are fed what git
really prints for hostile content and names; ``diff_info`` is run on real repositories.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from secscan.triage import diff
from tests.support.mergerequest import Content, git, make_mr

FLAGS = ("--no-color", "--no-ext-diff", "--no-textconv", "--text", "--src-prefix=a/", "--dst-prefix=b/", "-M")


def _git_out(repo: Path, *args: str) -> bytes:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True).stdout


def _patch(tmp_path: Path, base: dict[str, Content], head: dict[str, Content]) -> dict[bytes, diff.PatchFile]:
    repo, base_sha = make_mr(tmp_path, base, head)
    return diff.parse_patch(_git_out(repo, "diff", *FLAGS, "-U0", base_sha, "HEAD", "--"))


def test_added_lines_that_look_like_headers_are_counted_as_added(tmp_path: Path) -> None:
    base = "a\n-- removed\nb\nc\n"
    head = "a\n++ b/evil.py\n+++ b/x\ndiff --git a/x b/x\n@@ -1 +1,9 @@\nb\nc\n"
    files = _patch(tmp_path, {"app.py": base, "z.py": "1\n"}, {"app.py": head, "z.py": "2\n"})
    assert set(files) == {b"app.py", b"z.py"}
    assert files[b"app.py"].added == frozenset({2, 3, 4, 5})
    assert files[b"z.py"].added == frozenset({1})


@pytest.mark.parametrize(
    "name",
    ['we"ird.py', "tab\tname.py", "new\nline.py", "back\\slash.py", "caf\u00e9.py", "sp ace.py", "-rf.py", "a b/c.py"],
)
def test_quoted_and_spaced_names_are_unquoted(tmp_path: Path, name: str) -> None:
    files = _patch(tmp_path, {name: "a\n"}, {name: "a\nb\n"})
    assert files == {name.encode(): diff.PatchFile(path=name.encode(), old_path=name.encode(), added=frozenset({2}))}


def test_renames_new_files_and_no_newline_at_end(tmp_path: Path) -> None:
    body = "".join(f"line {n}\n" for n in range(20))
    files = _patch(
        tmp_path,
        {'old "q".py': body, "gone.py": "x\n", "tail.py": "a"},
        {'old "q".py': None, "new\tq.py": body + "added\n", "gone.py": None, "born.py": "n\n", "tail.py": "a\nb"},
    )
    assert files[b"new\tq.py"] == diff.PatchFile(path=b"new\tq.py", old_path=b'old "q".py', added=frozenset({21}))
    assert files[b"born.py"].old_path is None and files[b"born.py"].added == frozenset({1})
    assert files[b"tail.py"].added == frozenset({1, 2})
    assert b"gone.py" not in files


def test_binary_output_or_counts_that_do_not_add_up_are_refused(tmp_path: Path) -> None:
    repo, base_sha = make_mr(tmp_path, {"app.py": "a\n"}, {"app.py": "a\nb\n", ".gitattributes": "*.py -diff\n"})
    binary = _git_out(repo, "diff", "--no-color", "-U0", base_sha, "HEAD", "--", "app.py")
    assert b"Binary files" in binary
    with pytest.raises(diff.DiffFormatError):
        diff.parse_patch(binary)
    text = _git_out(repo, "diff", *FLAGS, "-U0", base_sha, "HEAD", "--", "app.py")
    assert diff.parse_patch(text)[b"app.py"].added == frozenset({2})
    assert b"@@ -1,0 +2 @@" in text
    with pytest.raises(diff.DiffFormatError):
        diff.parse_patch(text.replace(b"@@ -1,0 +2 @@", b"@@ -1,0 +2,2 @@"))  # one line short
    with pytest.raises(diff.DiffFormatError):
        diff.parse_patch(text.replace(b"@@ -1,0 +2 @@", b"@@ -1,1 +2 @@"))  # a removal missing
    with pytest.raises(diff.DiffFormatError):
        diff.parse_patch(b"junk\n" + text)


def test_unquote_path_handles_every_escape_and_octal_utf8() -> None:
    assert diff.unquote_path(b'"a\\"b\\\\c\\td\\ne\\303\\251"') == b'a"b\\c\td\ne\xc3\xa9'
    assert diff.unquote_path(b"plain name") == b"plain name"
    with pytest.raises(diff.DiffFormatError):
        diff.unquote_path(b'"unterminated')


def test_parse_raw_reads_nul_separated_records(tmp_path: Path) -> None:
    repo, base_sha = make_mr(
        tmp_path, {"a\nb.py": "x\n" * 10, "m.py": "1\n"}, {"a\nb.py": None, "c d.py": "x\n" * 10, "m.py": "2\n"}
    )
    raw = diff.parse_raw(_git_out(repo, "diff", "--raw", "-z", "--no-abbrev", "-M", base_sha, "HEAD", "--"))
    by_path = {e.new_path: e for e in raw}
    assert by_path[b"c d.py"].status == "R" and by_path[b"c d.py"].old_path == b"a\nb.py"
    assert by_path[b"m.py"].status == "M" and by_path[b"m.py"].old_mode == "100644"


def test_lines_map_each_scheme_onto_git_lines() -> None:
    text = "a\rb\nc\fd\ne\r\nf"
    git_lines = diff.Lines.of(text, diff.LineScheme.GIT)
    assert len(git_lines) == 4
    py = diff.Lines.of(text, diff.LineScheme.PYTHON)
    assert [py.content(n) for n in range(1, len(py) + 1)] == ["a", "b", "c\fd", "e", "f"]
    assert py.span_in(git_lines, 2, 2) == (1, 1)  # "b" is on git's first line
    assert py.span_in(git_lines, 4, 5) == (3, 4)
    assert py.span_in(git_lines, 6, 6) is None  # past the end: cannot be placed
    split = diff.Lines.of(text, diff.LineScheme.SPLITLINES)
    assert [split.content(n) for n in range(1, len(split) + 1)] == text.splitlines()
    assert split.span_in(git_lines, 4, 4) == (2, 2)  # "d" is on git's second line
    assert diff.schemes_for("a\r\nb\n") == (diff.LineScheme.GIT,)
    assert diff.schemes_for("a\fb", "") == (diff.LineScheme.GIT, diff.LineScheme.SPLITLINES)
    assert len(diff.schemes_for("", "a\rb")) == 3


def test_diff_info_of_a_subfolder_with_a_rename_into_it(tmp_path: Path) -> None:
    body = "".join(f"v{n} = {n}\n" for n in range(20))
    repo, base_sha = make_mr(
        tmp_path,
        {"other/x.py": body, "svc/keep.py": "k = 1\n", "svc/gone.py": "g = 1\n", "svc/q.py": "q = 1\n"},
        {"other/x.py": None, "svc/x.py": body + "w = 1\n", "svc/gone.py": None, 'svc/"q".py': "n = 1\n"},
    )
    git(repo, "config", "diff.noprefix", "true")
    git(repo, "config", "diff.relative", "true")
    info = diff.diff_info(repo / "svc", base_sha)
    assert info.changed_paths() == ('"q".py', "x.py")
    moved = info.files["x.py"]
    assert (moved.old_path, moved.added, moved.whole_file) == ("../other/x.py", frozenset({21}), False)
    assert info.files['"q".py'].whole_file
    assert "gone.py" in info.deleted
    assert info.unchanged("keep.py", b"k = 1\n")
    assert not info.unchanged("keep.py", b"k = 2\n")
    assert not info.unchanged("gone.py", b"g = 1\n")
    assert not info.unchanged("other.py", b"")


def test_a_diff_the_parser_cannot_read_judges_every_changed_file_new_and_says_so(tmp_path: Path) -> None:
    """Fail closed, but not silently: a reviewer must know why every line counts as new."""
    repo, base_sha = make_mr(tmp_path, {"app.py": "a\nb\n", "lib.py": "1\n"}, {"app.py": "a\nB\n", "lib.py": "2\n"})
    raw = _git_out(repo, "diff", *FLAGS, "--raw", "-z", "--no-abbrev", base_sha, "--")
    patch = _git_out(repo, "diff", *FLAGS, "-p", "-U0", base_sha, "--")
    files, _deleted, warnings = diff.changes_from(raw, patch, diff.Scope(""))
    assert not warnings and not files["app.py"].whole_file and files["app.py"].added == frozenset({2})
    garbled = patch.replace(b"diff --git a/lib.py", b"something else", 1)
    files, _deleted, warnings = diff.changes_from(raw, garbled, diff.Scope(""))
    assert set(files) == {"app.py", "lib.py"} and all(f.whole_file for f in files.values())
    assert (
        len(warnings) == 1 and "could not be read" in warnings[0] and "2 changed file(s) are judged new" in warnings[0]
    )
    assert diff.diff_info(repo, base_sha).warnings == ()
