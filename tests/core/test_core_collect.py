"""The collect step (issue core-3): every file scanner only describes itself, and the steps they
share (targets from the one walk, shards, the per-file cache, the tool run with its limits, the
exit check, parse, file accounting, the outcome) are done once, in :mod:`secscan.collect`.

A fake tool (a small Python script that counts its runs) stands in for a scanner where the test is
about the steps; the in-process ``tree`` scanner and the real detect-secrets show that the cache
and shards serve every per-file scanner, not only bandit and semgrep.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import ClassVar

import pytest

from secscan import collect
from secscan.config import ScanConfig
from secscan.core import mask
from secscan.models import Finding, Kind, Location, ScannerState, Severity
from secscan.scanners import registry
from secscan.scanners.base import (
    CommandScanner,
    FileScanner,
    Parsed,
    Prepared,
    RunContext,
    Scanner,
    ScanOutcome,
)
from secscan.sourcefiles import SourceTree
from tests.conftest import require_tool

# The fake tool: reports one finding per line containing "BAD" in each file it is handed, lists
# what it scanned (a file named "skipme" it leaves out without a word), counts its runs, and exits
# with the code in the file "exit-code" beside it when there is one.
FAKE_TOOL = """\
import json, pathlib, sys
here = pathlib.Path(__file__).parent
runs = here / "runs"
runs.write_text(runs.read_text() + "x" if runs.exists() else "x")
args = sys.argv[1:]
out = pathlib.Path(args[args.index("-o") + 1])
files = args[args.index("--") + 1:]
results, scanned = [], []
for f in files:
    if f.endswith("skipme"):
        continue
    scanned.append(f)
    for n, line in enumerate(pathlib.Path(f).read_text().splitlines(), start=1):
        if "BAD" in line:
            results.append({"path": f, "line": n})
out.write_text(json.dumps({"results": results, "scanned": scanned}))
code = here / "exit-code"
sys.exit(int(code.read_text()) if code.exists() else 0)
"""


class FakeScanner(CommandScanner):
    """A per-file tool scanner declared the way bandit and semgrep are: argv, parse, accounting."""

    name = "fake"
    kinds: ClassVar[frozenset[Kind]] = frozenset({Kind.SAST})
    executable = "fake-tool"
    install_hint = "a test fixture"
    output_name = "fake.json"
    ok_codes: ClassVar[tuple[int, ...]] = (0, 1)

    def wants_file(self, path: str) -> bool:
        return path.endswith((".py", "skipme"))

    def prepare(self, cfg: ScanConfig, work: Path, targets: tuple[str, ...]) -> Prepared:
        (work / "fake.ini").write_text("[fake]\n")
        return super().prepare(cfg, work, targets)

    def argv(
        self, exe: str, cfg: ScanConfig, *, work: Path, out_file: Path, root: Path, targets: Sequence[str]
    ) -> list[str]:
        return [exe, "--ini", str(work / "fake.ini"), "-o", str(out_file), "--", *(str(root / t) for t in targets)]

    @classmethod
    def parse_report(cls, text: str, *, tree: SourceTree, origin: str, manifest: str | None = None) -> Parsed:
        data = json.loads(text)
        root = str(tree.root) + "/"
        findings = tuple(
            Finding(
                kind=Kind.SAST,
                scanner="fake",
                rule_id="FAKE-1",
                title="bad line",
                message="a line says BAD",
                severity=Severity.HIGH,
                severity_original="high",
                location=Location(path=r["path"].removeprefix(root), start_line=r["line"], end_line=r["line"]),
            )
            for r in data["results"]
        )
        return Parsed(findings=findings, scanned=frozenset(p.removeprefix(root) for p in data["scanned"]))


@pytest.fixture
def fake_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fake tool's folder (its ``runs`` file counts its runs)."""
    folder = tmp_path / "tool"
    folder.mkdir()
    script = folder / "fake-tool"
    script.write_text(f"#!{sys.executable}\n{FAKE_TOOL}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("SECSCAN_FAKE_TOOL_BIN", str(script))
    return folder


@pytest.fixture(autouse=True)
def registered() -> Iterator[None]:
    """The fake scanner is known to the registry (its time limit comes from there)."""
    registry.register(FakeScanner)
    try:
        yield
    finally:
        registry.unregister(FakeScanner.name)


def runs(tool: Path) -> int:
    counter = tool / "runs"
    return len(counter.read_text()) if counter.exists() else 0


def make_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def run(scanner: Scanner, cfg: ScanConfig, work: Path) -> ScanOutcome:
    """One run of one scanner through the collect step, as ``secscan scan`` runs it."""
    work.mkdir(parents=True, exist_ok=True)
    ctx = RunContext(workdir=work, tree=SourceTree(cfg.target), cancel=threading.Event())
    return collect.run_scanner(scanner, cfg, ctx)


def essence(out: ScanOutcome) -> list[tuple[str, str, int]]:
    return sorted((f.rule_id, f.location.path or "", f.location.start_line or 0) for f in out.findings)


APP = {
    "app/a.py": "x = 1\nBAD = 2\n",
    "app/b.py": "y = 'BAD'\n",
    "app/c.py": "clean = True\n",
    "README.md": "BAD docs are not handed over\n",
}


# ------------------------------------------------------------------ declarations


def test_every_file_scanner_is_declared_not_run_and_per_file() -> None:
    file_scanners = {n for n in registry.names() if issubclass(registry.get_class(n), FileScanner)}
    assert file_scanners >= {"bandit", "semgrep", "detect-secrets", "tree"}
    for name in file_scanners:
        cls = registry.get_class(name)
        assert issubclass(cls, FileScanner) and cls.per_file, name
        # The shared steps are collect's: a file scanner has no run of its own.
        assert cls.run is FileScanner.run, name


@pytest.mark.parametrize("name", ["bandit", "semgrep", "detect-secrets"])
def test_argv_is_a_pure_function_that_writes_nothing(name: str, tmp_path: Path) -> None:
    scanner = registry.get(name)
    assert isinstance(scanner, CommandScanner)
    cfg = ScanConfig(target=tmp_path / "tree")
    work = tmp_path / "work-never-created"
    args = {"work": work, "out_file": work / "out.json", "root": tmp_path / "tree", "targets": ("a.py",)}
    first = scanner.argv("/bin/tool", cfg, **args)  # type: ignore[arg-type]
    assert first == scanner.argv("/bin/tool", cfg, **args)  # type: ignore[arg-type]
    assert not work.exists(), "argv() wrote files: config files belong in prepare()"
    assert str(tmp_path / "tree" / "a.py") in first


def test_bandit_config_is_written_by_prepare_in_the_private_work_folder(tmp_path: Path) -> None:
    scanner = registry.get("bandit")
    assert isinstance(scanner, CommandScanner)
    work = tmp_path / "work"
    work.mkdir()
    prepared = scanner.prepare(ScanConfig(target=tmp_path), work, ("a.py",))
    assert (work / "bandit.ini").read_text() == "[bandit]\n"
    assert [r.files for r in prepared.roots] == [("a.py",)]


# ------------------------------------------------------------------ the shared steps


def test_cache_serves_a_tool_scanner_and_an_unchanged_tree_starts_no_process(fake_tool: Path, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "src", APP)
    cfg = ScanConfig(target=tree, cache_dir=tmp_path / "cache")
    cold = run(FakeScanner(), cfg, tmp_path / "w1")
    assert cold.status.state == ScannerState.OK, cold.status
    assert essence(cold) == [("FAKE-1", "app/a.py", 2), ("FAKE-1", "app/b.py", 1)]
    assert (cold.status.cache_hits, cold.status.cache_misses) == (0, 3)
    assert runs(fake_tool) == 1
    # The tool ran from its private work folder, with the config prepare() wrote there.
    assert (tmp_path / "w1" / "fake" / "fake.ini").is_file()

    warm = run(FakeScanner(), cfg, tmp_path / "w2")
    assert runs(fake_tool) == 1, "an unchanged tree must not start the tool"
    assert essence(warm) == essence(cold)
    assert (warm.status.cache_hits, warm.status.cache_misses) == (3, 0)

    (tree / "app" / "c.py").write_text("clean = False  # BAD now\n")
    one = run(FakeScanner(), cfg, tmp_path / "w3")
    assert runs(fake_tool) == 2
    assert (one.status.cache_hits, one.status.cache_misses) == (2, 1)
    assert ("FAKE-1", "app/c.py", 1) in essence(one)
    # The tool was handed the changed file only.
    assert one.status.command[-1] == str(tree.resolve() / "app" / "c.py")


def test_no_cache_runs_every_file_and_stores_nothing(fake_tool: Path, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "src", APP)
    cfg = ScanConfig(target=tree, cache=False, cache_dir=tmp_path / "cache")
    for n in (1, 2):
        out = run(FakeScanner(), cfg, tmp_path / f"w{n}")
        assert (out.status.cache_hits, out.status.cache_misses) == (0, 0)
    assert runs(fake_tool) == 2
    assert not (tmp_path / "cache").exists()


def test_targets_come_in_batches_under_the_argv_budget(fake_tool: Path, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "src", {f"m{n:02d}.py": f"BAD = {n}\n" for n in range(12)})

    class Small(FakeScanner):
        argv_budget = len(str(tree.resolve() / "m00.py")) * 5  # about four names a run

    out = run(Small(), ScanConfig(target=tree, cache=False), tmp_path / "w")
    assert out.status.state == ScannerState.OK, out.status
    assert runs(fake_tool) == 3
    assert len(out.findings) == 12


def test_a_failed_exit_fails_the_scanner_and_caches_nothing(fake_tool: Path, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "src", APP)
    cfg = ScanConfig(target=tree, cache_dir=tmp_path / "cache")
    (fake_tool / "exit-code").write_text("2")
    out = run(FakeScanner(), cfg, tmp_path / "w1")
    assert out.status.state == ScannerState.FAILED
    assert "failed (exit 2)" in (out.status.error or "")
    (fake_tool / "exit-code").unlink()
    again = run(FakeScanner(), cfg, tmp_path / "w2")
    assert again.status.state == ScannerState.OK
    assert (again.status.cache_hits, again.status.cache_misses) == (0, 3)


def test_an_incomplete_file_is_cached_as_incomplete_and_still_fails_closed(fake_tool: Path, tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "src", {**APP, "app/skipme": "BAD\n"})
    cfg = ScanConfig(target=tree, cache_dir=tmp_path / "cache")
    out = run(FakeScanner(), cfg, tmp_path / "w1")
    assert out.status.state == ScannerState.FAILED
    assert out.status.incomplete_files == ("app/skipme (fake did not report scanning it)",)
    assert essence(out) == [("FAKE-1", "app/a.py", 2), ("FAKE-1", "app/b.py", 1)]  # the others' kept
    assert runs(fake_tool) == 1
    # Unchanged: not handed over again (issue speed-2), and the run is incomplete exactly as before,
    # the file named as answered by the cache. Incompleteness is never cached as clean.
    again = run(FakeScanner(), cfg, tmp_path / "w2")
    assert (again.status.cache_hits, again.status.cache_misses) == (4, 0)
    assert runs(fake_tool) == 1
    assert again.status.state == ScannerState.FAILED
    assert again.status.incomplete_files == (f"app/skipme (fake did not report scanning it [{collect.CACHED_GAP}])",)
    assert essence(again) == essence(out)
    # Changed: scanned again, and complete now that the tool reads it.
    (tree / "app" / "skipme").rename(tree / "app" / "c.py")
    third = run(FakeScanner(), cfg, tmp_path / "w3")
    assert third.status.state == ScannerState.OK and runs(fake_tool) == 2


def test_a_missing_tool_is_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(collect, "find_executable", lambda name: None)
    tree = make_tree(tmp_path / "src", APP)
    out = run(FakeScanner(), ScanConfig(target=tree), tmp_path / "w1")
    assert out.status.state == ScannerState.NOT_INSTALLED
    assert "fake-tool is not installed (a test fixture)" in (out.status.error or "")


def test_nothing_to_scan_is_skipped(fake_tool: Path, tmp_path: Path) -> None:
    empty = make_tree(tmp_path / "empty", {"README.md": "nothing to scan\n"})
    skipped = run(FakeScanner(), ScanConfig(target=empty), tmp_path / "w2")
    assert skipped.status.state == ScannerState.SKIPPED
    assert "no files left after excludes that fake scans" in (skipped.status.error or "")
    assert runs(fake_tool) == 0


# ------------------------------------------------------------------ every per-file scanner

TRICKY = {
    # rule 3: a Python identifier in full-width letters (Python reads it as "execute")
    "pkg/db.py": "def run(cur, sql):\n    cur.\uff45\uff58\uff45\uff43\uff55\uff54\uff45(sql)\n",
    # rule 4: a bidi override (Trojan Source)
    "pkg/auth.py": "ok = 'user\u202e' == 'admin'\n",
    "pkg/plain.py": "x = 1\n",
    "web/app.js": "const a = 'x\u2066';\n",
    "docs/notes.md": "never read: \u202e\n",
}


def test_the_tree_checks_are_cached_per_file(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "src", TRICKY)
    (tree / "escape.py").symlink_to("/etc/passwd")  # rule 1: checked on every run, never cached
    cfg = ScanConfig(target=tree, cache_dir=tmp_path / "cache")
    scanner = registry.get("tree")
    cold = run(scanner, cfg, tmp_path / "w1")
    warm = run(scanner, cfg, tmp_path / "w2")
    assert cold.status.state == warm.status.state == ScannerState.OK
    rules = {f.rule_id for f in cold.findings}
    assert {"secscan.nfkc-identifier", "secscan.bidi-control", "secscan.link-outside-checkout"} <= rules
    assert essence(warm) == essence(cold)
    assert (cold.status.cache_hits, cold.status.cache_misses) == (0, 4)  # the .py and .js files
    assert (warm.status.cache_hits, warm.status.cache_misses) == (4, 0)


def test_the_tree_checks_split_into_shards_equal_one_run(tmp_path: Path) -> None:
    files = {**TRICKY, **{f"gen/m{n}.py": f"v{n} = 'a\u202eb'\n" for n in range(9)}}
    tree = make_tree(tmp_path / "src", files)
    (tree / "link.py").symlink_to("../../outside")
    scanner = registry.get("tree")
    whole = run(scanner, ScanConfig(target=tree, cache=False), tmp_path / "whole")
    parts: list[tuple[str, str, int]] = []
    covered: set[str] = set()
    for k in (1, 2, 3):
        out = run(scanner, ScanConfig(target=tree, cache=False, shard=f"{k}/3"), tmp_path / f"s{k}")
        parts += essence(out)
        assert out.scanned is not None
        assert not covered & set(out.scanned)  # each file in one shard only
        covered |= set(out.scanned)
    assert sorted(parts) == essence(whole)
    assert len({p for _, p, _ in parts}) > 3


def test_detect_secrets_results_are_cached_per_file(tmp_path: Path) -> None:
    require_tool("detect-secrets")
    key = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dcXa9"
    tree = make_tree(
        tmp_path / "src",
        {"billing/keys.py": f'STRIPE_KEY = "{key}"\n', "billing/other.py": "x = 1\n", "README.md": "hello\n"},
    )
    (tree / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x01" + bytes(range(256)))
    cfg = ScanConfig(target=tree, cache_dir=tmp_path / "cache")
    scanner = registry.get("detect-secrets")
    cold = run(scanner, cfg, tmp_path / "w1")
    assert cold.status.state == ScannerState.OK, cold.status
    assert {f.location.path for f in cold.findings} == {"billing/keys.py"}
    assert key not in json.dumps([f.location.snippet for f in cold.findings])
    assert any("1 file(s) with lines too long for configuration, or binary, read only" in w for w in cold.warnings)
    env_before = dict(os.environ)
    warm = run(scanner, cfg, tmp_path / "w2")
    assert dict(os.environ) == env_before
    # Compared as results show them: the cache holds findings masked (the line a secret is on
    # masked as every detector on it masked it), the cold run's are masked by core.
    assert [replace(f, fingerprint="") for f in mask(warm.findings)] == [
        replace(f, fingerprint="") for f in mask(cold.findings)
    ]
    assert (warm.status.cache_hits, warm.status.cache_misses) == (4, 0)  # the binary file's too
    assert warm.status.command == (), "a tree the cache answers for starts no detect-secrets process"
