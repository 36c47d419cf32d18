"""Nothing outside the checkout is read on the merge request's say-so (issue trust-2, class 1).

The merge request commits symbolic links: to a Python file outside the tree, to a folder outside
it, into git's metadata, and inside the tree into folders the scan excludes. The scanners are
handed files, never folders they would walk (bandit follows links in a folder it walks), so
nothing outside the tree becomes a finding, a snippet or a cache entry; what a link inside the
tree stands for is scanned under its own path when production imports it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secscan import files, pathmatch
from secscan.sourcefiles import SourceTree
from tests.support.mergerequest import Link, make_mr, scan_mr

VULN = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)  # OUTSIDE-MARKER-7731\n"
CLEAN = "def main():\n    return 0\n"


def _outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret_module.py").write_text(VULN)
    return folder


@pytest.mark.parametrize("cache", [True, False])
@pytest.mark.parametrize("shape", ["file", "folder"])
def test_a_link_out_of_the_tree_is_never_scanned(shape: str, cache: bool, tmp_path: Path) -> None:
    outside = _outside(tmp_path)
    target = outside / "secret_module.py" if shape == "file" else outside
    link = "payments/evil.py" if shape == "file" else "payments/lib"
    repo, base = make_mr(tmp_path, {"payments/app.py": CLEAN}, {link: Link(str(target))})
    run = scan_mr(repo, base, "bandit", extra=() if cache else ("--no-cache",))
    assert not [f for f in run.result["findings"] if f["location"].get("path", "").startswith(link)]
    for report in run.out_dir.rglob("*"):
        if report.is_file():
            assert "OUTSIDE-MARKER-7731" not in report.read_text(errors="replace"), report


def test_the_control_in_the_tree_is_scanned(tmp_path: Path) -> None:
    repo, base = make_mr(tmp_path, {"payments/app.py": CLEAN}, {"payments/evil.py": VULN})
    run = scan_mr(repo, base, "bandit")
    assert "B602" in run.new_rules() and run.code == 1


@pytest.mark.parametrize(
    ("link", "target", "imports"),
    [
        ("payments/helpers.py", "build/helpers.py", "from payments import helpers"),
        ("payments/vendor", "../build/vendorlib", "from payments.vendor import helpers"),
    ],
)
def test_a_link_into_an_excluded_folder_is_scanned_where_it_points_when_imported(
    link: str, target: str, imports: str, tmp_path: Path
) -> None:
    real = "payments/build/helpers.py" if link.endswith(".py") else "build/vendorlib/helpers.py"
    repo, base = make_mr(
        tmp_path,
        {"payments/__init__.py": "", "payments/app.py": CLEAN},
        {real: VULN, link: Link(target), "payments/app.py": f"{imports}\n\n\ndef main():\n    helpers.run('ls')\n"},
    )
    run = scan_mr(repo, base, "bandit")
    hits = [f for f in run.result["findings"] if f["rule_id"] == "B602"]
    assert [h["location"]["path"] for h in hits] == [real]
    assert hits[0]["status"] == "new" and run.code == 1, run.result["verdict"]


def test_links_into_git_metadata_are_not_followed(tmp_path: Path) -> None:
    repo, _base = make_mr(tmp_path, {"app.py": CLEAN}, {"notes.txt": Link(".git/config"), "cfg": Link(".git")})
    assert files.resolve(repo, "notes.txt") is None and files.resolve(repo, "cfg/config") is None
    with pytest.raises(OSError):
        files.read_bytes(repo, "notes.txt")
    listing = files.walk(repo, pathmatch.excludes())
    reasons = {e.path: e.reason for e in listing.escaping}
    assert reasons == {"cfg": "points into git's metadata", "notes.txt": "points into git's metadata"}
    assert SourceTree(repo).text("notes.txt") is None


def test_links_are_sorted_once_inside_the_tree(tmp_path: Path) -> None:
    (tmp_path / "real.py").write_text(CLEAN)
    (tmp_path / "alias.py").symlink_to("real.py")
    (tmp_path / "loop.py").symlink_to("loop.py")
    (tmp_path / "gone.py").symlink_to("missing.py")
    (tmp_path / "env.txt").symlink_to("/proc/self/environ")
    listing = files.walk(tmp_path, pathmatch.excludes())
    assert listing.files == ("real.py",)
    assert listing.links == (("alias.py", "real.py"),)
    assert {e.path: e.reason for e in listing.escaping} == {
        "env.txt": "leaves the checkout",
        "gone.py": "dangling",
        "loop.py": "dangling",
    }
    kept, refused = files.regular_files(tmp_path, ["alias.py", "real.py", "env.txt", "gone.py"])
    assert kept == ["real.py"] and refused == ["env.txt", "gone.py"]


def test_any_byte_sequence_is_a_file_name(tmp_path: Path) -> None:
    odd = [b"caf\xe9.py", b"new\nline.py", b'quo"te.py', b"tab\there.py", b"back\\slash.py"]
    for name in odd:
        with open(bytes(tmp_path) + b"/" + name, "w") as fh:
            fh.write(CLEAN)
    listing = files.walk(tmp_path, pathmatch.excludes())
    assert sorted(listing.files) == sorted(n.decode("utf-8", "surrogateescape") for n in odd)
    for rel in listing.files:
        assert files.read_bytes(tmp_path, rel) == CLEAN.encode()
