"""A cache that cannot lie (issue 32): an entry that does not prove itself is a miss.

With the real bandit and semgrep on a copy of examples/payment-app: entries with flipped bytes
(still valid JSON), emptied findings, an entry copied to another file's key, a truncated entry,
an entry or a shard folder replaced by a link to a copy elsewhere, and, with ``SECSCAN_CACHE_KEY``
set, entries sealed without the key or forged with another one: every one is a miss, shown in a
warning, and the scan's findings, statuses and verdict equal a cold scan's. Without the seal
checks each of these is a hit (the tampered entries still parse), so the comparisons can fail.
The cheap cases (another scanner's or rule set's entry, a FIFO, links in the folder when pruning)
use the cache directly on real files.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from secscan import cache, resultio
from secscan.models import RunResult, ScannerStatus
from tests.conftest import ROOT, require_tool
from tests.support.cli import secscan as run_secscan

# One worker for the module: under xdist each worker builds a module fixture of its own, and
# cold is a real scan.
pytestmark = pytest.mark.xdist_group("reliability-cache")

EXAMPLE = ROOT / "examples" / "payment-app"
KEY = "k3y-for-tests-" + "x" * 24


# Without the job's SECSCAN_* settings: the cache folder and key are what each test passes.
secscan = functools.partial(run_secscan, clean=True)


def scan(tree: Path, out: Path, cache_dir: Path | None, *, key: str | None = None) -> RunResult:
    where = ["--cache-dir", str(cache_dir)] if cache_dir is not None else ["--no-cache"]
    argv = ["scan", str(tree), "--only", "bandit,semgrep", "--out", str(out), "--no-progress", *where]
    proc = secscan(*argv, env={cache.KEY_ENV: key} if key else None)
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
            f.location.snippet or "",
            tuple(sorted(s.scanner for s in f.sources)),
        )
        for f in result.findings
    )
    verdict = result.verdict
    assert verdict is not None
    return (findings, verdict.passed, verdict.exit_code)


def status(result: RunResult, name: str) -> ScannerStatus:
    found = {s.name: s for s in result.scanners}
    assert found[name].state.value == "ok", found[name]
    return found[name]


def entries(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.glob("??/*.json") if p.is_file() and not p.is_symlink())


def split(entry: bytes) -> tuple[bytes, dict[str, Any]]:
    head, _, body = entry.partition(b"\n")
    return head, json.loads(body)


def scanner_of(path: Path) -> str:
    return str(dict(split(path.read_bytes())[1]["meta"])["scanner"])


def with_findings(cache_dir: Path) -> list[Path]:
    return [p for p in entries(cache_dir) if split(p.read_bytes())[1]["findings"]]


def reseal(path: Path, doc: dict[str, Any], secret: bytes | None) -> None:
    """What a forger who knows the format does: rewrite the body and compute a fresh seal."""
    body = json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n"
    key = dict(doc["meta"])["cache_key"]
    message = cache.FORMAT.encode() + b"\0" + key.encode() + b"\0" + body
    if secret is None:
        head = "sha256:" + hashlib.sha256(message).hexdigest()
    else:
        head = "hmac-sha256:" + hmac.new(secret, message, hashlib.sha256).hexdigest()
    path.write_bytes(f"{cache.FORMAT} {head}\n".encode() + body)


@dataclass(frozen=True)
class Cold:
    """A copy of the example app, a cache folder its first scan filled, and that scan's result."""

    tree: Path
    store: Path
    result: RunResult

    def store_copy(self, where: Path) -> Path:
        """The filled cache folder, copied for one test to tamper with."""
        shutil.copytree(self.store, where, symlinks=True)
        return where


@pytest.fixture(scope="module")
def cold(tmp_path_factory: pytest.TempPathFactory) -> Cold:
    """One cold scan for the module: every test tampers with its own copy of the entries it wrote."""
    require_tool("bandit")
    require_tool("semgrep")
    root = tmp_path_factory.mktemp("cold")
    tree = root / "app"
    shutil.copytree(EXAMPLE, tree)
    store = root / "cache"
    return Cold(tree=tree, store=store, result=scan(tree, root / "out", store))


def flip_three_bytes(path: Path) -> None:
    """Three letters of the first finding's rule id and message changed: still valid JSON, a
    plausible entry (the issue saw such an entry used, with a wrong rule)."""
    data = bytearray(path.read_bytes())
    body_at = data.index(b"\n") + 1
    for field in (b'"rule_id": "', b'"message": "', b'"title": "'):
        at = data.index(field, body_at) + len(field)
        data[at] = ord("Z") if data[at] != ord("Z") else ord("Y")
    split(bytes(data))  # still parses
    path.write_bytes(bytes(data))


def tamper(cache_dir: Path, outside: Path) -> dict[str, int]:
    """Six kinds of lie, each in an entry with findings; how many entries per scanner."""
    victims = with_findings(cache_dir)
    assert len(victims) >= 7, "the example app has enough files with findings"
    flipped, emptied, source, moved_to, truncated, linked = victims[:6]
    counts: dict[str, int] = {}
    for p in (flipped, emptied, moved_to, truncated, linked):
        counts[scanner_of(p)] = counts.get(scanner_of(p), 0) + 1
    flip_three_bytes(flipped)
    head, doc = split(emptied.read_bytes())
    doc["findings"] = []
    emptied.write_bytes(head + b"\n" + json.dumps(doc, indent=2, sort_keys=True).encode() + b"\n")
    moved_to.write_bytes(source.read_bytes())  # another file's (valid) entry under this key
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    outside.mkdir()
    copy = outside / "copy.json"
    copy.write_bytes(linked.read_bytes())  # a valid entry, reached only through a link
    linked.unlink()
    linked.symlink_to(copy)
    return counts


def link_a_shard(cache_dir: Path, outside: Path, skip: set[Path]) -> tuple[Path, Path, dict[str, int]]:
    """A whole shard folder moved out and replaced by a link: valid entries, behind a link."""
    shard = next(
        d for d in sorted(cache_dir.iterdir()) if d.is_dir() and not (set(d.iterdir()) & skip) and any(d.iterdir())
    )
    counts: dict[str, int] = {}
    for p in shard.glob("*.json"):
        counts[scanner_of(p)] = counts.get(scanner_of(p), 0) + 1
    moved = outside / "shard"
    shutil.move(str(shard), moved)
    shard.symlink_to(moved, target_is_directory=True)
    return shard, moved, counts


def test_tampered_entries_are_misses_and_the_result_equals_a_cold_scan(cold: Cold, tmp_path: Path) -> None:
    store = cold.store_copy(tmp_path / "cache")
    tree = cold.tree
    assert cold.result.findings
    victims = set(with_findings(store)[:6])
    lies = tamper(store, tmp_path / "outside")
    shard, moved, shard_counts = link_a_shard(store, tmp_path / "outside", victims)
    before = {p: p.read_bytes() for p in moved.iterdir()}
    warm = scan(tree, tmp_path / "warm", store)
    assert essence(warm) == essence(cold.result)
    for name in ("bandit", "semgrep"):
        expected = lies.get(name, 0) + shard_counts.get(name, 0)
        assert status(warm, name).cache_misses == expected, (name, lies, shard_counts)
        assert status(warm, name).cache_hits == status(cold.result, name).cache_misses - expected
    shown = [w for w in warm.warnings if "did not verify" in w]
    assert shown, warm.warnings
    # Every lie is named. The linked shard's entries are misses either way (asserted above), but
    # bandit and semgrep look up side by side: when one of them has already replaced the link with
    # a real folder, the other finds those entries absent, not unverified.
    named = sum(int(w.split(": ", 1)[1].split()[0]) for w in shown)
    assert sum(lies.values()) <= named <= sum(lies.values()) + sum(shard_counts.values()), shown
    # Nothing was written through the link; the shard is a real folder again, the entries fresh.
    assert {p: p.read_bytes() for p in moved.iterdir()} == before
    assert shard.is_dir() and not shard.is_symlink()
    again = scan(tree, tmp_path / "again", store)
    assert essence(again) == essence(cold.result)
    for name in ("bandit", "semgrep"):
        assert status(again, name).cache_misses == 0, name
    assert not [w for w in again.warnings if "did not verify" in w]


def test_with_a_key_only_entries_sealed_with_it_are_believed(cold: Cold, tmp_path: Path) -> None:
    store = cold.store_copy(tmp_path / "cache")  # written without a key: digest-sealed entries
    tree = cold.tree
    files = {n: status(cold.result, n).cache_misses for n in ("bandit", "semgrep")}
    keyed = scan(tree, tmp_path / "keyed", store, key=KEY)
    assert essence(keyed) == essence(cold.result)
    for name in ("bandit", "semgrep"):
        # A job without the key (a merge request's) wrote them: not one is believed.
        assert status(keyed, name).cache_hits == 0 and status(keyed, name).cache_misses == files[name]
    assert any("no HMAC" in w for w in keyed.warnings), keyed.warnings
    # Forged entries: findings emptied, resealed with a digest or with a key that is not ours.
    forged = with_findings(store)[:2]
    for p, secret in zip(forged, (None, b"not-the-operator-key"), strict=True):
        head, doc = split(p.read_bytes())
        assert head.startswith(cache.FORMAT.encode() + b" hmac-sha256:")
        doc["findings"] = []
        reseal(p, doc, secret)
    warm = scan(tree, tmp_path / "warm", store, key=KEY)
    assert essence(warm) == essence(cold.result)
    assert sum(status(warm, n).cache_misses for n in ("bandit", "semgrep")) == 2
    # And the same folder without the key: entries sealed with it are not believed either.
    unkeyed = scan(tree, tmp_path / "unkeyed", store)
    assert essence(unkeyed) == essence(cold.result)
    assert sum(status(unkeyed, n).cache_hits for n in ("bandit", "semgrep")) == 0


# ------------------------------------------------------------------ the cache on its own


def _put(root: Path, *, scanner: str = "bandit", context: str = "ctx", secret: bytes | None = None) -> cache.FileCache:
    store = cache.FileCache(root, scanner=scanner, context=context, secret=secret)
    assert store.put("a.py", "d1", ())
    return store


def _entry(store: cache.FileCache, path: str, content: str) -> Path:
    key = store.key(path, content)
    return store.root / key[:2] / f"{key}.json"


@pytest.mark.parametrize(
    ("scanner", "context"),
    [
        ("semgrep", "ctx"),  # another scanner
        ("bandit", "other rules"),  # another rule set, scanner version or secscan version
    ],
)
def test_an_entry_of_another_scanner_or_context_is_a_miss(tmp_path: Path, scanner: str, context: str) -> None:
    mine = _put(tmp_path / "c")
    theirs = cache.FileCache(tmp_path / "c", scanner=scanner, context=context)
    target = _entry(theirs, "a.py", "d1")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_entry(mine, "a.py", "d1"), target)
    found = theirs.lookup("a.py", "d1")
    assert found.findings is None and found.rejected and "does not match" in found.rejected
    assert mine.lookup("a.py", "d1").findings == ()  # the original still checks


def test_a_fifo_or_a_huge_entry_is_rejected_without_hanging(tmp_path: Path) -> None:
    store = _put(tmp_path / "c")
    entry = _entry(store, "a.py", "d1")
    entry.unlink()
    os.mkfifo(entry)
    result: list[cache.Lookup] = []
    t = threading.Thread(target=lambda: result.append(store.lookup("a.py", "d1")), daemon=True)
    t.start()
    t.join(5)
    assert result and result[0].rejected == "not a regular file"
    entry.unlink()
    with entry.open("wb") as fh:
        fh.truncate(cache.MAX_ENTRY_BYTES + 1)
    assert store.lookup("a.py", "d1").rejected == "too large"


def test_a_linked_cache_folder_is_not_used(tmp_path: Path) -> None:
    real = tmp_path / "real"
    _put(real)
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    through = cache.FileCache(tmp_path / "link", scanner="bandit", context="ctx")
    found = through.lookup("a.py", "d1")
    assert found.findings is None and found.rejected
    assert not through.put("b.py", "d2", ())
    assert sorted(p.name for p in real.rglob("*.json")) == [_entry(through, "a.py", "d1").name]


def test_prune_removes_planted_links_and_never_what_they_point_to(tmp_path: Path) -> None:
    store = _put(tmp_path / "c")
    outside = tmp_path / "outside"
    outside.mkdir()
    precious = outside / ("0" * 64 + ".json")
    precious.write_text("keep me")
    (store.root / "zz").symlink_to(outside, target_is_directory=True)
    entry = _entry(store, "a.py", "d1")
    (entry.parent / ("1" * 64 + ".json")).symlink_to(precious)
    tiny = cache.FileCache(store.root, scanner="bandit", context="ctx", max_bytes=0)
    assert tiny.prune() >= 3  # two links, and the one real entry (over the bound)
    assert precious.read_text() == "keep me"
    assert not (store.root / "zz").exists() and not entry.exists()
