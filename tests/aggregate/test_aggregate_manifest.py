"""secscan.manifest.json: written with each report's SHA-256; any later change is caught."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from secscan.audit.manifest import MANIFEST_NAME, verify_manifest, write_manifest
from secscan.errors import InputError


def _reports(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "secscan.json": '{"schema": "secscan/1", "findings": []}\n',
        "report.html": "<html><body>2 findings</body></html>\n",
        "sub/gl-sast-report.json": '{"version": "15.2.1"}\n',
    }
    for name, text in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(text, encoding="utf-8")
    return [out / n for n in files]


def test_manifest_lists_each_report_with_its_sha256(tmp_path: Path) -> None:
    files = _reports(tmp_path / "out")
    m = write_manifest(tmp_path / "out", [*files, tmp_path / "out" / MANIFEST_NAME])
    assert m == tmp_path / "out" / MANIFEST_NAME
    doc = json.loads(m.read_text())
    assert [f["path"] for f in doc["files"]] == ["report.html", "secscan.json", "sub/gl-sast-report.json"]
    html = next(f for f in doc["files"] if f["path"] == "report.html")
    assert html["sha256"] == hashlib.sha256((tmp_path / "out" / "report.html").read_bytes()).hexdigest()
    check = verify_manifest(m)
    assert check.ok
    assert [f.state for f in check.files] == ["ok", "ok", "ok"]


def test_modified_report_is_caught_and_others_pass(tmp_path: Path) -> None:
    out = tmp_path / "out"
    m = write_manifest(out, _reports(out))
    (out / "report.html").write_text("<html><body>0 findings</body></html>\n", encoding="utf-8")
    check = verify_manifest(m)
    assert not check.ok
    assert [(p.path, p.state) for p in check.problems] == [("report.html", "modified")]
    assert {f.path: f.state for f in check.files}["secscan.json"] == "ok"


def test_one_byte_change_and_deleted_report_are_caught(tmp_path: Path) -> None:
    out = tmp_path / "out"
    m = write_manifest(out, _reports(out))
    raw = (out / "secscan.json").read_bytes()
    (out / "secscan.json").write_bytes(raw.replace(b"[]", b"[ ]"))
    (out / "sub" / "gl-sast-report.json").unlink()
    states = {f.path: f.state for f in verify_manifest(m).files}
    assert states == {"report.html": "ok", "secscan.json": "modified", "sub/gl-sast-report.json": "missing"}


def test_moved_output_folder_still_verifies(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_manifest(out, _reports(out))
    moved = out.rename(tmp_path / "artifacts")
    assert verify_manifest(moved / MANIFEST_NAME).ok


def test_missing_report_at_write_time_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot hash report"):
        write_manifest(tmp_path, [tmp_path / "absent.html"])


@pytest.mark.parametrize(
    "content,match",
    [
        ("not json", "not a JSON manifest"),
        ('{"schema": "other"}', "not a secscan manifest"),
        ('{"schema": "secscan-manifest/1", "files": [{"path": "/etc/passwd", "sha256": "00"}]}', "absolute path"),
        ('{"schema": "secscan-manifest/1", "files": [{"path": "x"}]}', "needs a 'path' and a 'sha256'"),
    ],
)
def test_bad_manifest_is_a_clear_error(tmp_path: Path, content: str, match: str) -> None:
    m = tmp_path / MANIFEST_NAME
    m.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=match):
        verify_manifest(m)


def test_manifest_paths_outside_its_folder_are_refused(tmp_path: Path) -> None:
    """A tampered manifest cannot point the check at files elsewhere (../ refused, absolute paths
    make the manifest unusable)."""
    out = tmp_path / "out"
    m = write_manifest(out, _reports(out))
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x", encoding="utf-8")
    doc = json.loads(m.read_text())
    digest = hashlib.sha256(b"x").hexdigest()
    doc["files"].append({"path": "../elsewhere.txt", "sha256": digest, "size": 1})
    m.write_text(json.dumps(doc), encoding="utf-8")
    check = verify_manifest(m)
    assert not check.ok
    assert {f.path for f in check.files if f.state == "refused"} == {"../elsewhere.txt"}
    doc["files"][-1]["path"] = str(outside)
    m.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(InputError, match="absolute path"):
        verify_manifest(m)
