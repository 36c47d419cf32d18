"""Bounded input (issue 32): deep nesting in every JSON-reading command, archives that lie about
their sizes, and SARIF logs too large to hold."""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from secscan.advisories import sources
from secscan.errors import ConfigError
from secscan.importers import sarif
from secscan.sourcefiles import SourceTree
from tests.reliability import fuzz_support as fz
from tests.support.cli import Run, secscan

DEEP = '{"a":' * 100_000 + "1" + "}" * 100_000
OSV = {
    "id": "PYSEC-0000-1",
    "modified": "2024-01-01T00:00:00Z",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "demo"}, "versions": ["1.0"]}],
}


def _cli(*argv: str, cwd: Path) -> Run:
    # In-process: the commands under test read their own settings from the folder.
    return secscan(*argv, cwd=cwd)


@pytest.mark.parametrize(
    "argv",
    [
        ("import", "--tool", "bandit", "{f}"),
        ("import", "--tool", "sarif", "{f}"),
        ("gate", "{f}"),
        ("merge", "{f}"),
        ("report", "-f", "html", "{f}"),
        ("baseline", "create", "{f}"),
        ("history", "add", "--project", "p", "{f}"),
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_nested_10_to_the_5_is_exit_2_naming_the_file(argv: tuple[str, ...], tmp_path: Path) -> None:
    bad = tmp_path / "nested.json"
    bad.write_text(DEEP)
    proc = _cli(*(a.format(f=bad) for a in argv), cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    [line] = proc.stderr.splitlines()
    assert line.startswith("secscan: error: ") and str(bad) in line and "nested too deeply" in line


def _lying_zip(path: Path, real_size: int, claimed: int) -> None:
    """A zip whose one member unpacks to ``real_size`` bytes while both headers claim ``claimed``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("PYSEC-0000-1.json", b" " * real_size)
    data = bytearray(buf.getvalue())
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, claimed)  # uncompressed size, local header
    struct.pack_into("<I", data, central + 24, claimed)  # uncompressed size, central directory
    path.write_bytes(bytes(data))


def test_a_zip_that_understates_a_size_is_not_unpacked_whole(tmp_path: Path) -> None:
    bomb = tmp_path / "all.zip"
    _lying_zip(bomb, real_size=200 * 1024 * 1024, claimed=100)
    assert bomb.stat().st_size < 1024 * 1024
    tracemalloc.start()
    try:
        result = sources.load(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Before: the whole member was decompressed in one call (2.13 GB for the zip).
    assert peak < 16 * 1024 * 1024, f"peak {peak / 2**20:.0f} MiB"
    assert result.advisories == ()
    [problem] = result.problems
    assert problem.file == "PYSEC-0000-1.json"


def test_a_zip_member_larger_than_a_record_is_refused_by_bytes_produced(tmp_path: Path) -> None:
    bomb = tmp_path / "all.zip"
    size = sources.MAX_FILE_BYTES + 1024
    _lying_zip(bomb, real_size=size, claimed=size)  # honest headers: the count still stops it
    tracemalloc.start()
    try:
        result = sources.load(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [str(p) for p in result.problems] == [f"PYSEC-0000-1.json: unreadable: larger than {size - 1024} bytes"]
    assert peak < sources.MAX_FILE_BYTES + 4 * 1024 * 1024


def test_zip_names_that_leave_the_folder_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("../outside.json", json.dumps(OSV))
        zf.writestr("/abs.json", json.dumps({**OSV, "id": "PYSEC-0000-2"}))
        zf.writestr("PyPI/ok.json", json.dumps({**OSV, "id": "PYSEC-0000-3"}))
    result = sources.load(archive)
    assert [a.id for a in result.advisories] == ["PYSEC-0000-3"]
    assert sorted(p.file for p in result.problems) == ["../outside.json", "/abs.json"]
    assert all("leaves the archive's folder" in p.message for p in result.problems)


def test_a_zip_with_too_many_entries_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(6):
            zf.writestr(f"PyPI/{i}.json", json.dumps({**OSV, "id": f"PYSEC-0000-{i}"}))
    monkeypatch.setattr(sources, "MAX_ZIP_ENTRIES", 5)  # the limit is a setting; 10^6 entries is slow to build
    with pytest.raises(ConfigError, match="6 entries, more than 5"):
        sources.load(archive)


def _big_sarif(copies: int) -> bytes:
    """The real bandit SARIF with its results copied ``copies`` times into distinct lines."""
    doc = fz.seed("sarif")
    results = doc["runs"][0]["results"]
    out = []
    for i in range(copies):
        for r in results:
            r2 = json.loads(json.dumps(r))
            r2["locations"][0]["physicalLocation"]["region"]["startLine"] += i
            out.append(r2)
    doc["runs"][0]["results"] = out
    return json.dumps(doc, indent=2).encode()


def test_sarif_is_read_one_result_at_a_time(tmp_path: Path) -> None:
    data = _big_sarif(4000)  # 32,000 results, about 40 MB indented
    tree = SourceTree(tmp_path)
    tracemalloc.start()
    try:
        log = sarif.read(data, tree=tree, origin="big.sarif", max_findings=100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert log.results == 32_000 and len(log.findings) == 100
    # Before: json.loads built the whole log (several times the file); now only what is kept.
    assert peak < len(data) // 4, f"peak {peak / 2**20:.0f} MiB for {len(data) / 2**20:.0f} MiB of SARIF"


def test_over_the_cap_the_most_severe_are_kept_and_the_rest_counted() -> None:
    data = (fz.SEEDS["sarif"][0]).read_bytes()
    full = sarif.read(data, tree=SourceTree(None), origin="b.sarif")
    capped = sarif.read(data, tree=SourceTree(None), origin="b.sarif", max_findings=3)
    most_severe = sorted((f.severity.rank for f in full.findings), reverse=True)[:3]
    assert sorted((f.severity.rank for f in capped.findings), reverse=True) == most_severe
    # Kept in the log's order (what a reader of the report expects), not by severity.
    order = [f.location.start_line for f in full.findings]
    kept = [f.location.start_line for f in capped.findings]
    assert kept == sorted(kept, key=order.index)
    [failure] = capped.runs[0].failures
    left = len(full.findings) - 3
    assert failure.startswith(f"{left} of {len(full.findings)} findings not kept in detail")
    counted = sum(int(part.rsplit("x", 1)[1]) for part in failure.split(": ", 1)[1].split(", "))
    assert counted == left  # every finding not kept is named by rule, none silently


def test_import_over_the_cap_says_so_and_the_gate_fails_closed(tmp_path: Path) -> None:
    # In a child so the cap can be lowered the way an operator's build would (the module setting).
    src = fz.SEEDS["sarif"][0]
    out = tmp_path / "secscan.json"
    code = (
        "import sys; from secscan.importers import sarif; sarif.MAX_FINDINGS = 3\n"
        "from secscan.cli import main; main(sys.argv[1:])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "import", "--tool", "sarif", str(src), "-o", str(out), "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "not kept in detail" in proc.stdout and "findings not kept in detail" in proc.stderr
    meta = dict(json.loads(out.read_text())["meta"])
    results = int(meta["import_results"])
    parts = ("import_findings", "import_duplicates", "import_skipped", "import_summarized")
    assert results == sum(int(meta[k]) for k in parts)
    gate = _cli("gate", str(out), cwd=tmp_path)
    # Exit 1 as the kept findings block; the summarized ones fail it closed on their own.
    assert gate.returncode in (1, 3), gate.stdout + gate.stderr
    assert "blocked by fail_closed=true" in gate.stdout and "not kept in detail" in gate.stdout
