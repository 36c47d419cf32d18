"""The output set of a run is consistent (issue 32): written to a fresh folder and switched in.

A run's reports are staged in a hidden folder inside the out folder and renamed into place in a
few renames held from SIGINT/SIGTERM, the manifest last. So a stop while they are written (a
SIGKILL at random moments, a full file system) leaves the previous run's set, which
``secscan verify-report`` still accepts; a staging folder a SIGKILL left is removed by the next
run; and if a SIGKILL ever lands inside the switch itself, verify-report names the interrupted
switch instead of reporting an edit.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from secscan import fsutil
from secscan.audit import manifest
from tests.reliability.test_reliability_signals import (
    LINES,
    base_env,
    fake_bandit,
    make_tree,
    scan_argv,
    verify_report,
    wait_for,
)


def staged(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if p.name.startswith(fsutil.STAGING_PREFIX)]


def run_scan(tmp_path: Path, tree: Path, out: Path, *, lines: int) -> subprocess.CompletedProcess[str]:
    env = {**base_env(tmp_path), "SECSCAN_BANDIT_BIN": str(fake_bandit(tmp_path / "quick", sleep=0, lines=lines))}
    return subprocess.run(
        scan_argv(tree, out, "-f", "all"), env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path
    )


def test_sigkill_while_reports_are_written_keeps_the_previous_set(tmp_path: Path) -> None:
    """SIGKILL (no handler runs) at 5 random moments while 4,800 findings are written in every
    format: the folder still verifies, as the previous set (or, a kill inside the few renames of
    the switch, as a named interrupted switch); the next run removes what the kill left."""
    rng = random.Random(3232)
    tree = make_tree(tmp_path)
    out = tmp_path / "out"
    first = run_scan(tmp_path, tree, out, lines=1)
    assert first.returncode in (0, 1), first.stderr
    previous = (out / "secscan.json").read_bytes()
    env = {**base_env(tmp_path), "SECSCAN_BANDIT_BIN": str(fake_bandit(tmp_path, sleep=0, lines=LINES))}
    for _ in range(5):
        secscan = subprocess.Popen(
            scan_argv(tree, out, "-f", "all"),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=tmp_path,
            start_new_session=True,
        )
        try:
            wait_for(lambda: bool(staged(out)), secscan, "the staging folder")
            time.sleep(rng.uniform(0.0, 1.5))
        finally:
            secscan.kill()
            secscan.wait(timeout=30)
        check = verify_report(out, base_env(tmp_path))
        if check.returncode == 0:
            new = (out / "secscan.json").read_bytes()
            assert new == previous or json.loads(new)["findings"], "a set that verifies is the old or the new one"
            previous = new
        else:  # only a kill inside the switch's renames: named, not taken for an edit
            assert "INTERRUPTED" in check.stdout, check.stdout + check.stderr
    done = run_scan(tmp_path, tree, out, lines=1)
    assert done.returncode in (0, 1), done.stderr
    assert staged(out) == [] and verify_report(out, base_env(tmp_path)).returncode == 0


@contextlib.contextmanager
def small_fs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=False)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def test_a_full_disk_while_reports_are_written_keeps_the_previous_set(tmp_path: Path) -> None:
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    tree = make_tree(tmp_path)
    with small_fs(tmp_path / "small", "4m") as fs:
        out = fs / "out"
        assert run_scan(tmp_path, tree, out, lines=1).returncode in (0, 1)
        before = {p.name: p.read_bytes() for p in out.iterdir()}
        done = run_scan(tmp_path, tree, out, lines=LINES)  # about 30 MB of reports: the disk fills
        errors = [ln for ln in done.stderr.splitlines() if not ln.startswith("[secscan +")]
        assert done.returncode == 2 and len(errors) == 1 and "No space left on device" in errors[0], done.stderr
        assert {p.name: p.read_bytes() for p in out.iterdir()} == before
        assert verify_report(out, base_env(tmp_path)).returncode == 0


def test_an_error_while_staging_leaves_the_folder_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "secscan.json").write_text("old")
    with pytest.raises(RuntimeError), fsutil.staged_set(out) as stage:
        (stage.path / "secscan.json").write_text("new")
        raise RuntimeError("the disk is full")
    assert sorted(p.name for p in out.iterdir()) == ["secscan.json"]
    assert (out / "secscan.json").read_text() == "old"


def test_a_staging_folder_left_by_a_kill_is_removed_by_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    left = out / f"{fsutil.STAGING_PREFIX}dead"
    left.mkdir(parents=True)
    (left / "secscan.json").write_text("half")
    with fsutil.staged_set(out) as stage:
        (stage.path / "secscan.json").write_text("new")
        stage.switch(["secscan.json"])
    assert sorted(p.name for p in out.iterdir()) == ["secscan.json"]


def test_verify_report_names_an_interrupted_switch(tmp_path: Path) -> None:
    """The state a SIGKILL inside the switch leaves: some reports already new, the old manifest,
    the new set's manifest still in its staging folder."""
    out = tmp_path / "out"
    out.mkdir()
    for name in ("secscan.json", "gl-sast-report.json"):
        (out / name).write_text(f"old {name}")
    manifest.write_manifest(out, [out / "secscan.json", out / "gl-sast-report.json"])
    stage = out / f"{fsutil.STAGING_PREFIX}x"
    stage.mkdir()
    (stage / "gl-sast-report.json").write_text("new report")
    (out / "secscan.json").write_text("new result")  # already switched
    manifest.write_manifest(stage, [stage / "gl-sast-report.json"])
    check = manifest.verify_manifest(out / manifest.MANIFEST_NAME)
    assert [(f.path, f.state) for f in check.problems] == [
        ("secscan.json", "modified"),
        (f"{stage.name}/", "interrupted"),
    ]
    done = verify_report(out, base_env(tmp_path))
    assert done.returncode == 1 and "INTERRUPTED" in done.stdout, done.stdout


def test_two_runs_into_one_folder_take_turns(tmp_path: Path) -> None:
    """The out folder's lock: two scans writing at once never mix their sets."""
    tree = make_tree(tmp_path)
    out = tmp_path / "out"
    env = {**base_env(tmp_path), "SECSCAN_BANDIT_BIN": str(fake_bandit(tmp_path, sleep=0, lines=50))}
    runs = [
        subprocess.Popen(
            scan_argv(tree, out, "-f", "all"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode in (0, 1), err
    assert staged(out) == [] and verify_report(out, base_env(tmp_path)).returncode == 0
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
