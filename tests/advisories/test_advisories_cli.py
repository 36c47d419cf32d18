"""`secscan advisories import|serve|info` as a user runs them (real subprocesses)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from tests.advisories.advisories_support import EDGE, EXAMPLES, MALFORMED, post
from tests.support.cli import secscan

_advisories = functools.partial(secscan, "advisories")


def test_import_then_info_report_the_same_snapshot(tmp_path: Path) -> None:
    db = tmp_path / "adv.sqlite"
    proc = _advisories("import", str(EXAMPLES), "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    # 82 PyPA records (9 packages) and 13 npm ones (11 packages).
    assert "imported 95 advisories (0 withdrawn) for 20 packages" in proc.stdout
    snapshot = proc.stdout.split("snapshot: ")[1].strip()
    info = _advisories("info", "--db", str(db), "--json")
    assert info.returncode == 0, info.stderr
    data = json.loads(info.stdout)
    assert data["snapshot"] == snapshot
    assert (data["advisories"], data["packages"], data["skipped"], data["files"]) == (95, 20, 0, 95)
    text = _advisories("info", "--db", str(db))
    assert f"snapshot:        {snapshot}" in text.stdout


def test_malformed_files_are_listed_counted_and_strict_refuses(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(EDGE, src / "edge")
    shutil.copytree(MALFORMED, src / "malformed")
    db = tmp_path / "adv.sqlite"
    strict = _advisories("import", str(src), "--db", str(db), "--strict")
    assert strict.returncode == 2
    assert "8 malformed file(s)" in strict.stderr and "database not written" in strict.stderr
    assert not db.exists()
    lenient = _advisories("import", str(src), "--db", str(db))
    assert lenient.returncode == 0, lenient.stderr
    skipped = [line for line in lenient.stderr.splitlines() if line.startswith("secscan: skipped malformed/")]
    assert len(skipped) == 8
    assert "skipped 8 malformed file(s)" in lenient.stdout
    assert "ignored 1 record(s) without a PyPI or npm package" in lenient.stdout
    info = json.loads(_advisories("info", "--db", str(db), "--json").stdout)
    assert (info["advisories"], info["withdrawn"], info["skipped"], info["ignored"]) == (7, 1, 8, 1)
    assert len(info["problems"]) == 8


def test_default_database_lives_in_the_user_data_dir(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "HOME": str(tmp_path)}
    env.pop("SECSCAN_ADVISORY_DB", None)
    proc = _advisories("import", str(EXAMPLES / "pypa" / "flask"), environ=env)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "data" / "secscan" / "advisories.sqlite").is_file()
    assert json.loads(_advisories("info", "--json", environ=env).stdout)["advisories"] == 3


def test_usage_errors_exit_2_with_one_line(tmp_path: Path) -> None:
    proc = _advisories("info", "--db", str(tmp_path / "none.sqlite"))
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "advisories import" in proc.stderr
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    proc = _advisories("import", str(junk), "--db", str(tmp_path / "x.sqlite"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_serve_answers_until_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "adv.sqlite"
    assert _advisories("import", str(EXAMPLES), "--db", str(db)).returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "secscan", "advisories", "serve", "--db", str(db), "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("serving snapshot sha256:")
        url = proc.stdout.readline().strip().removeprefix("pip-audit --osv-url ")
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1/query")
        status, body, _ = post(url, {"package": {"purl": "pkg:pypi/flask@0.12.2"}})
        assert status == 200
        assert len(body["vulns"]) == 3
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_import_of_a_missing_or_empty_source_is_a_usage_error(tmp_path: Path) -> None:
    """Issue 30: `advisories import /nonexistent` said "no advisories found"; a missing path, an
    empty folder and a file that is not OSV are each one clear line and exit 2, nothing written."""
    from tests.support.cli import secscan

    db = tmp_path / "adv.sqlite"
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("not an advisory\n")
    for source, said in (
        (tmp_path / "nonexistent", "does not exist"),
        (tmp_path / "empty", "no PyPI or npm advisories found in"),
        (tmp_path / "notes.txt", "is neither a folder of OSV files nor a zip of them"),
    ):
        run = secscan("advisories", "import", source, "--db", db)
        assert run.code == 2 and said in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert not db.exists()
