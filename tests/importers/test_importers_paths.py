"""Paths in reports: URIs, file: forms, Windows, ./; inside --root relative, outside reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secscan.importers.paths import BaseUri, RepoPath, normalize
from tests.importers.importers_support import SARIF, load
from tests.support.cli import secscan

ROOT = Path("/builds/group/app")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("app/views.py", RepoPath(path="app/views.py")),
        ("./app/views.py", RepoPath(path="app/views.py")),
        ("./", RepoPath(path=".")),  # mobsfscan: "the whole app"; it used to become ""
        ("app\\views.py", RepoPath(path="app/views.py")),
        (".\\app\\views.py", RepoPath(path="app/views.py")),
        ("src/my%20file.py", RepoPath(path="src/my file.py")),
        ("a/./b/../c.py", RepoPath(path="a/c.py")),
        ("file:relative/x.py", RepoPath(path="relative/x.py")),
        ("/builds/group/app/app/views.py", RepoPath(path="app/views.py")),
        ("file:///builds/group/app/app/views.py", RepoPath(path="app/views.py")),
        ("file://localhost/builds/group/app/x.py", RepoPath(path="x.py")),
        ("file:////builds/group/app/x.py", RepoPath(path="x.py")),  # one slash too many
        ("/builds/group/app", RepoPath(path=".")),
        # Another machine's paths: kept absolute, and flagged for the import to report.
        ("file:////src/x", RepoPath(path="/src/x", outside=True)),  # it used to become "//src/x"
        ("file:///", RepoPath(path="/", outside=True)),  # it used to become ""
        ("file:///src/index.js", RepoPath(path="/src/index.js", outside=True)),
        ("/home/other/app/x.py", RepoPath(path="/home/other/app/x.py", outside=True)),
        ("file:///C:/code/file1.c", RepoPath(path="C:/code/file1.c", outside=True)),
        ("file:///c:/code/file1.c", RepoPath(path="C:/code/file1.c", outside=True)),
        ("C:\\code\\file1.c", RepoPath(path="C:/code/file1.c", outside=True)),
        ("file://fileserver/share/x.c", RepoPath(path="//fileserver/share/x.c", outside=True)),
        ("../outside.py", RepoPath(path="../outside.py", outside=True)),
        ("file://[::1/x.py", RepoPath(path="//[::1/x.py", outside=True)),  # not a URI urllib can split
    ],
)
def test_normalize(uri: str, expected: RepoPath) -> None:
    assert normalize(uri, root=ROOT) == expected


def test_uri_base_ids() -> None:
    bases = {
        "SRCROOT": BaseUri(uri="file:///C:/work/proj/"),
        "SRC": BaseUri(uri="src/", base_id="REPO"),
        "REPO": BaseUri(),
        "WORKINGDIR": BaseUri(uri="file:///shared/backups/bartlett/sarif-php-converters/"),
    }
    # Relative to an absolute base of the producing machine: a repo path.
    assert normalize("app/views.py", root=ROOT, base_id="SRCROOT", bases=bases) == RepoPath(path="app/views.py")
    # An absolute URI under one of the report's own bases: relative to that base.
    assert normalize("file:///C:/work/proj/app/views.py", root=ROOT, bases=bases) == RepoPath(path="app/views.py")
    # A chain of relative bases is followed.
    assert normalize("x.py", root=ROOT, base_id="SRC", bases=bases) == RepoPath(path="src/x.py")
    # Climbing out of its base (Composer's converter): absolute, outside.
    assert normalize("../../../../composer.json", root=ROOT, base_id="WORKINGDIR", bases=bases) == RepoPath(
        path="/composer.json", outside=True
    )
    # An undefined base is the checkout root.
    assert normalize("y.py", root=ROOT, base_id="NOPE", bases=bases) == RepoPath(path="y.py")


def test_absolute_paths_under_root_become_relative_in_an_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text("import hashlib\nhashlib.md5(b'x')\n")
    doc = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "T"}},
                "results": [
                    {
                        "ruleId": "R",
                        "message": {"text": "m"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": (tmp_path / "app" / "views.py").as_uri()},
                                    "region": {"startLine": 2},
                                }
                            }
                        ],
                    }
                ],
            }
        ],
    }
    src = tmp_path / "abs.sarif"
    src.write_text(json.dumps(doc))
    out = tmp_path / "r.json"
    rc, _, err = secscan("import", "--tool", "sarif", str(src), "-o", str(out), "--root", str(tmp_path))
    assert rc == 0 and "outside --root" not in err
    [f] = load(out)["findings"]
    # Relative, and the snippet read from the tree under --root.
    assert f["location"]["path"] == "app/views.py" and f["location"]["snippet"] == "hashlib.md5(b'x')"


def test_paths_outside_root_are_reported_not_silently_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.json"
    src = SARIF / "njsscan/njsscan_0.2.3.sarif"
    rc, _, err = secscan("import", "--tool", "sarif", str(src), "-o", str(out), "--root", str(tmp_path))
    assert rc == 0
    assert "1 path(s) lie outside --root and are kept as they are (/src/index.js)" in err
    doc = load(out)
    assert {f["location"]["path"] for f in doc["findings"]} == {"/src/index.js"}
    assert any("/src/index.js" in w for w in doc["warnings"]), "the warning is in secscan.json too"
