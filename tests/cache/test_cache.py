"""The per-file result cache and --shard with the real bandit and semgrep (issue 20).

Every scan runs the CLI as a user does, on a copy of examples/payment-app in a temp folder with
its own ``--cache-dir``. The bar is always the same: a scan that reused entries gives exactly what
a cold scan (``--no-cache``) of the same tree gives, findings and verdict alike.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from secscan import resultio
from secscan.models import RunResult, ScannerStatus
from tests.conftest import ROOT, require_tool
from tests.support.cli import secscan as run_secscan

# One worker for the module: under xdist each worker builds a module fixture of its own, and
# cold and filled are real scans.
pytestmark = pytest.mark.xdist_group("cache")

EXAMPLE = ROOT / "examples" / "payment-app"


# Without the job's SECSCAN_* settings: the cache folder and key are what each test passes.
secscan = functools.partial(run_secscan, clean=True)


def scan_argv(tree: Path, out: Path, *extra: str) -> list[str]:
    return ["scan", str(tree), "--only", "bandit,semgrep", "--out", str(out), "--no-progress", *extra]


def scan(tree: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> RunResult:
    proc = secscan(*scan_argv(tree, out, *extra), env=env)
    # The example app has blocking findings: a completed scan is exit 1, never 0 or 3.
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return resultio.load(out / "secscan.json")


def essence(result: RunResult) -> tuple[Any, ...]:
    """What must not depend on the cache: every finding's identity, status and place, the verdict."""
    findings = sorted(
        (
            f.fingerprint,
            f.status.value,
            f.rule_id,
            f.severity.value,
            f.message,
            f.location.path or "",
            f.location.start_line or 0,
            f.location.end_line or 0,
            f.location.start_column or 0,
            f.location.snippet or "",
            tuple(sorted(s.scanner for s in f.sources)),
        )
        for f in result.findings
    )
    verdict = result.verdict
    assert verdict is not None
    return (findings, verdict.passed, verdict.exit_code, sorted(repr(r) for r in verdict.reasons))


def status(result: RunResult, name: str) -> ScannerStatus:
    found = {s.name: s for s in result.scanners}
    assert found[name].state.value == "ok", found[name]
    return found[name]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    require_tool("bandit")
    require_tool("semgrep")
    dest = tmp_path / "app"
    shutil.copytree(EXAMPLE, dest)
    return dest


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """A cold scan (no cache) of an unchanged copy of the example app, shared by the module: the
    reference the cached runs are compared with (a bandit and semgrep scan costs ~10 s)."""
    require_tool("bandit")
    require_tool("semgrep")
    where = tmp_path_factory.mktemp("cold")
    shutil.copytree(EXAMPLE, where / "app")
    return scan(where / "app", where / "out", "--no-cache")


@dataclass(frozen=True)
class Filled:
    """A cache folder filled by a first scan of an unchanged copy of the example app, and that
    scan's result: where most tests start (one first scan for the module instead of one each)."""

    store: Path
    result: RunResult

    def copy(self, where: Path) -> Path:
        """The filled folder, copied for one test to use (and tamper with)."""
        shutil.copytree(self.store, where, symlinks=True)
        return where


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> Filled:
    require_tool("bandit")
    require_tool("semgrep")
    where = tmp_path_factory.mktemp("filled")
    shutil.copytree(EXAMPLE, where / "app")
    store = where / "cache"
    return Filled(store=store, result=scan(where / "app", where / "out", "--cache-dir", str(store)))


def entries(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.rglob("*.json")) if cache_dir.exists() else []


def test_warm_run_reuses_every_file_and_changes_nothing(tree: Path, tmp_path: Path, filled: Filled) -> None:
    cache = filled.copy(tmp_path / "cache")  # a first scan of another copy of the app filled it
    cold = filled.result
    warm = scan(tree, tmp_path / "warm", "--cache-dir", str(cache))
    assert cold.findings, "the example app has findings: an empty comparison would prove nothing"
    assert essence(warm) == essence(cold)
    for name in ("bandit", "semgrep"):
        files = status(cold, name).cache_misses
        assert files > 0 and status(cold, name).cache_hits == 0
        assert status(warm, name).cache_hits == files, name
        assert status(warm, name).cache_misses == 0, name


def test_edit_rename_delete_rescan_only_the_changed_files(tree: Path, tmp_path: Path, filled: Filled) -> None:
    cache = filled.copy(tmp_path / "cache")
    first = filled.result
    files = {n: status(first, n).cache_misses for n in ("bandit", "semgrep")}
    with (tree / "payments" / "api.py").open("a") as fh:  # an edit that adds a finding
        fh.write("\n\ndef run(cmd):\n    import os\n    return os.system(cmd)\n")
    (tree / "payments" / "crypto.py").rename(tree / "payments" / "ciphers.py")
    (tree / "payments" / "storage.py").unlink()
    warm = scan(tree, tmp_path / "warm", "--cache-dir", str(cache))
    cold = scan(tree, tmp_path / "cold", "--no-cache")
    assert essence(warm) == essence(cold)
    assert essence(warm) != essence(first), "the edits change the result: the comparison is not vacuous"
    paths = {f.location.path for f in warm.findings}
    assert "payments/ciphers.py" in paths and "payments/crypto.py" not in paths
    assert "payments/storage.py" not in paths
    for name in ("bandit", "semgrep"):
        # The edited and the renamed file are new keys; the deleted one is simply gone.
        assert status(warm, name).cache_misses == 2, name
        assert status(warm, name).cache_hits == files[name] - 3, name


def test_semgrep_rule_change_rescans_everything(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules" / "semgrep", rules)
    opts = ("--only", "semgrep", "--no-builtin-rules", "--semgrep-rules", str(rules), "--cache-dir", str(cache))
    first = scan(tree, tmp_path / "first", *opts)
    again = scan(tree, tmp_path / "again", *opts)
    files = status(first, "semgrep").cache_misses
    assert status(again, "semgrep").cache_hits == files > 0
    # Edit the message of a rule that fires on the app (its hard-coded card number).
    assert any(f.rule_id.endswith("card-number-literal") for f in first.findings)
    edited = rules / "card-number.yaml"
    text = edited.read_text()
    old = "    message: >-\n"
    assert text.count(old) >= 1
    edited.write_text(text.replace(old, "    message: >-\n      Reworded by the cache test.\n", 1))
    after = scan(tree, tmp_path / "after", *opts)
    cold = scan(tree, tmp_path / "cold", *opts[:-2], "--no-cache")
    assert status(after, "semgrep").cache_hits == 0
    assert status(after, "semgrep").cache_misses == files
    assert essence(after) == essence(cold)
    assert any(f.message.startswith("Reworded by the cache test.") for f in after.findings)


def bandit_wrapper(path: Path, version: str, body: str = "") -> None:
    real = require_tool("bandit")
    script = ["#!/bin/sh", f'if [ "$1" = "--version" ]; then echo "bandit {version}"; exit 0; fi']
    path.write_text("\n".join([*script, body + f'exec "{real}" "$@"', ""]))
    path.chmod(0o755)


def test_bandit_version_change_misses_every_file(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    wrapper = tmp_path / "bin" / "bandit"
    wrapper.parent.mkdir()
    bandit_wrapper(wrapper, "9.9.1")
    env = {"SECSCAN_BANDIT_BIN": str(wrapper)}
    opts = ("--only", "bandit", "--cache-dir", str(cache))
    first = scan(tree, tmp_path / "first", *opts, env=env)
    again = scan(tree, tmp_path / "again", *opts, env=env)
    files = status(first, "bandit").cache_misses
    assert status(again, "bandit").cache_hits == files > 0, "the wrapper's results are cached like bandit's"
    # Another version behind the same path, size and mtime: only the version differs.
    st = wrapper.stat()
    bandit_wrapper(wrapper, "9.9.2")
    os.utime(wrapper, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert wrapper.stat().st_size == st.st_size
    after = scan(tree, tmp_path / "after", *opts, env=env)
    assert status(after, "bandit").version == "9.9.2"
    assert status(after, "bandit").cache_hits == 0
    assert status(after, "bandit").cache_misses == files
    assert essence(after) == essence(first)


def test_killed_run_leaves_a_usable_cache(tree: Path, tmp_path: Path, cold: RunResult) -> None:
    cache = tmp_path / "cache"
    wrapper = tmp_path / "bin" / "bandit"
    wrapper.parent.mkdir()
    pid_file = tmp_path / "bandit.pid"
    # bandit hangs; semgrep finishes and its entries are being written when the kill comes.
    bandit_wrapper(wrapper, "9.9.1", body=f'echo $$ > "{pid_file}"\nexec sleep 120\n')
    base = {k: v for k, v in os.environ.items() if not k.startswith("SECSCAN_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "secscan", *scan_argv(tree, tmp_path / "killed", "--cache-dir", str(cache))],
        env={**base, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SECSCAN_BANDIT_BIN": str(wrapper)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not entries(cache) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        assert entries(cache), "semgrep stored entries before the kill"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        if pid_file.exists():  # the hanging stand-in runs in its own session
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL
    after = scan(tree, tmp_path / "after", "--cache-dir", str(cache))
    assert essence(after) == essence(cold)
    assert status(after, "semgrep").cache_hits > 0, "what the killed run stored is reused"


def test_corrupt_entry_is_a_miss_and_rescanned(tree: Path, tmp_path: Path, filled: Filled) -> None:
    cache = filled.copy(tmp_path / "cache")
    cold = filled.result
    # An entry with findings: losing it silently would change the result.
    victim = next(p for p in entries(cache) if '"rule_id"' in p.read_text())
    victim.write_bytes(b"\x00\xffgarbage{not json" * 20)
    after = scan(tree, tmp_path / "after", "--cache-dir", str(cache))
    assert essence(after) == essence(cold)
    misses = {n: status(after, n).cache_misses for n in ("bandit", "semgrep")}
    assert sorted(misses.values()) == [0, 1], misses
    assert b"garbage" not in victim.read_bytes(), "the rescanned file's entry is written again"


def test_two_concurrent_scans_share_one_cache(tree: Path, tmp_path: Path, cold: RunResult) -> None:
    cache = tmp_path / "cache"
    base = {k: v for k, v in os.environ.items() if not k.startswith("SECSCAN_")}
    env = {**base, "SEMGREP_ENABLE_VERSION_CHECK": "0"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "secscan", *scan_argv(tree, tmp_path / f"run{i}", "--cache-dir", str(cache))],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in (1, 2)
    ]
    codes = [p.wait(timeout=600) for p in procs]
    assert codes == [1, 1], [p.stderr.read() if p.stderr else "" for p in procs]
    for p in procs:
        if p.stderr:
            p.stderr.close()
    for i in (1, 2):
        assert essence(resultio.load(tmp_path / f"run{i}" / "secscan.json")) == essence(cold)
    warm = scan(tree, tmp_path / "warm", "--cache-dir", str(cache))
    assert essence(warm) == essence(cold)
    assert status(warm, "bandit").cache_misses == 0 and status(warm, "semgrep").cache_misses == 0


def test_no_cache_reads_and_writes_nothing(tree: Path, tmp_path: Path, filled: Filled) -> None:
    cache = filled.copy(tmp_path / "cache")
    before = {p: p.read_bytes() for p in entries(cache)}
    assert before
    off = scan(tree, tmp_path / "off", "--cache-dir", str(cache), "--no-cache")
    for name in ("bandit", "semgrep"):
        assert status(off, name).cache_hits == 0 and status(off, name).cache_misses == 0
    assert {p: p.read_bytes() for p in entries(cache)} == before
    fresh = tmp_path / "fresh"
    scan(tree, tmp_path / "off2", "--cache-dir", str(fresh), "--no-cache")
    assert not fresh.exists()


def luhn_pan(prefix: str = "400000", length: int = 16) -> str:
    body = prefix + "7" * (length - len(prefix) - 1)
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def test_no_secret_or_card_number_in_clear_in_the_cache(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    secret = "Zq" + os.urandom(8).hex() + "x9"  # built at run time: never in the repository
    pan = luhn_pan()
    (tree / "payments" / "settings_local.py").write_text(
        f'password = "{secret}"\n# test card {pan} from the provider\nCARD = "{pan}"\n'
    )
    result = scan(tree, tmp_path / "out", "--cache-dir", str(cache))
    planted = [f for f in result.findings if f.location.path == "payments/settings_local.py"]
    assert planted, "the planted secret and card number are found (so their entries hold findings)"
    texts = [p.read_bytes() for p in entries(cache)]
    assert any(b"settings_local.py" in t and b"rule_id" in t for t in texts)
    for t in texts:
        assert secret.encode() not in t
        assert pan.encode() not in t
    # Masked entries give the same (masked) result as a cold scan.
    warm = scan(tree, tmp_path / "warm", "--cache-dir", str(cache))
    assert essence(warm) == essence(result)


def test_three_shards_merged_equal_one_scan(tree: Path, tmp_path: Path, cold: RunResult) -> None:
    whole = cold  # the whole tree, one scan, no cache: exit 1 (scan() checks it)
    docs = []
    seen: dict[str, int] = {}
    for k in (1, 2, 3):
        out = tmp_path / f"shard{k}"
        proc = secscan(*scan_argv(tree, out, "--no-cache", "--shard", f"{k}/3"))
        assert proc.returncode in (0, 1), proc.stdout + proc.stderr
        part = resultio.load(out / "secscan.json")
        for f in part.findings:
            seen[f.fingerprint] = seen.get(f.fingerprint, 0) + 1
        docs.append(str(out / "secscan.json"))
    assert all(n == 1 for n in seen.values()), "a finding belongs to exactly one shard"
    assert sum(1 for d in docs if resultio.load(Path(d)).findings) >= 2, "the split is not all in one shard"
    merged = tmp_path / "merged.json"
    proc = secscan("merge", *docs, "--out", str(merged))
    assert proc.returncode == 0, proc.stderr
    gated = tmp_path / "gated.json"
    gate = secscan("gate", str(merged), "--out", str(gated))
    assert gate.returncode == 1, gate.stdout + gate.stderr
    m = resultio.load(gated)
    key = sorted((f.fingerprint, f.status.value, f.rule_id) for f in whole.findings)
    assert sorted((f.fingerprint, f.status.value, f.rule_id) for f in m.findings) == key
    assert m.verdict is not None and whole.verdict is not None
    assert (m.verdict.passed, m.verdict.exit_code) == (whole.verdict.passed, whole.verdict.exit_code)


@pytest.mark.parametrize("bad", ["4/3", "0/3", "1/0", "x/3", "3"])
def test_bad_shard_is_exit_2_before_any_scanner_starts(tree: Path, tmp_path: Path, bad: str) -> None:
    proc = secscan(*scan_argv(tree, tmp_path / "out", "--shard", bad))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("secscan: error:"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert "started" not in proc.stderr
    assert not (tmp_path / "out" / "secscan.json").exists()
