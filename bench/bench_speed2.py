"""speed-2 benchmark (issue 29): every figure of the issue, ratios measured in one run.

On Flask's and Django's sources (sdists from the package index, kept in bench/.cache):

1. cold `secscan scan --only bandit,semgrep` (fresh cache) / the physical limit: the larger of the
   slower scanner's wall time and both scanners' CPU time over the cores, each scanner alone on
   the files secscan hands it (bandit on the tree, semgrep with its ignore files off); also
   against each scanner with its own defaults (bar 1.10);
2. re-run with nothing changed / cold (bar 0.05);
3. re-run after one file changed / both scanners alone on that file, taken the same way (bar 1.25);
4. detect-secrets inside secscan (`--only detect-secrets --no-cache`) / the slower of bandit and
   semgrep inside secscan (bar 1.0);
5. the 10,000-file tree (Django's `django/` package copied under four folder names): one file
   changed / (the scanners alone on it + a cold `git ls-files` and hash of the tree) (bar 1.25),
   and nothing changed (bar 2 s).

Every warm run's findings and verdict are compared with a cold `--no-cache` scan of the same tree
(fingerprints and statuses). The pre-push figure is bench_hook's (`python -m bench hook`).
``SECSCAN_BENCH_SPEED2`` picks parts: ``flask,django,secrets,big`` (default: all).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.bench_cache import ENV, bar, flask_tree, measured
from bench.bench_core import django_tree

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CORES = os.cpu_count() or 1


def _view(doc_path: Path) -> tuple[object, ...]:
    """What must equal a cold --no-cache scan: findings (fingerprint, status) and the verdict."""
    doc = json.loads(doc_path.read_text())
    verdict = doc.get("verdict") or {}
    return (
        sorted((f["fingerprint"], f["status"]) for f in doc["findings"]),
        (verdict.get("passed"), verdict.get("exit_code")),
    )


class Project:
    """One tree, its cache folder, and the scans of it."""

    def __init__(self, name: str, tree: Path, tmp: Path) -> None:
        self.name, self.tree, self.tmp = name, tree, tmp
        self.cache = tmp / f"{name}-cache"
        self.runs = 0

    def scan(self, *extra: str, only: str = "bandit,semgrep") -> tuple[float, float, Path]:
        self.runs += 1
        out = self.tmp / f"{self.name}-{self.runs}"
        argv = [str(BIN / "secscan"), "scan", str(self.tree), "--only", only, "--out", str(out), "--no-progress"]
        wall, cpu = measured([*argv, "--cache-dir", str(self.cache), *extra])
        return wall, cpu, out / "secscan.json"

    def same(self, doc: Path) -> str:
        _, _, cold = self.scan("--no-cache")
        return "yes" if _view(doc) == _view(cold) else "NO"


def scanners_alone(targets: list[str], tmp: Path, *, defaults: bool = False) -> tuple[float, float, float]:
    """(bandit wall, semgrep wall, the limit) of both scanners alone on ``targets``."""
    bandit_w, bandit_c = measured([str(BIN / "bandit"), "-r", *targets, "-f", "json", "-o", str(tmp / "b.json")])
    semgrep = shutil.which("semgrep", path=str(BIN)) or "semgrep"
    argv = [semgrep, "scan", "--config", str(ROOT / "rules" / "semgrep"), "--json", "-o", str(tmp / "s.json")]
    argv += ["--metrics=off", "--disable-version-check"]
    if not defaults:
        argv.append("--x-ignore-semgrepignore-files")
    semgrep_w, semgrep_c = measured([*argv, *targets])
    return bandit_w, semgrep_w, max(bandit_w, semgrep_w, (bandit_c + semgrep_c) / CORES)


def warm_page_cache(tree: Path) -> None:
    for p in tree.rglob("*"):
        if p.is_file():
            p.read_bytes()


def project(name: str, source: Path, tmp: Path) -> None:
    tree = tmp / name
    shutil.copytree(source, tree, symlinks=True)
    warm_page_cache(tree)
    p = Project(name, tree, tmp)
    files = sum(1 for f in tree.rglob("*") if f.is_file())
    print(f"--- {name}: {files} files, {CORES} cores")
    cold, cold_cpu, _ = p.scan()
    _, _, limit = scanners_alone([str(tree)], tmp)
    _, _, default_limit = scanners_alone([str(tree)], tmp, defaults=True)
    print(f"cold: {cold:.2f} s ({cold_cpu:.1f} CPU-s); limit {limit:.2f} s; scanners' defaults {default_limit:.2f} s")
    print(f"RATIO {name} cold / physical limit: {cold / limit:.3f} {bar(cold / limit, 1.10)}")
    print(f"RATIO {name} cold / scanners with their own defaults: {cold / default_limit:.3f}")
    warm, _, warm_doc = p.scan()
    print(f"RATIO {name} re-run, nothing changed / cold: {warm / cold:.3f} {bar(warm / cold, 0.05)}")
    edited = sorted(tree.rglob("*.py"))[len(list(tree.rglob("*.py"))) // 2]
    edited.write_text(edited.read_text() + "\n# edited by the speed-2 benchmark\n")
    one, _, one_doc = p.scan()
    _, _, alone = scanners_alone([str(edited)], tmp)
    print(f"one file changed: {one:.2f} s; scanners alone on it: {alone:.2f} s")
    print(f"RATIO {name} one file changed / scanners alone on it: {one / alone:.3f} {bar(one / alone, 1.25)}")
    print(f"same findings and verdict as a cold --no-cache scan: warm {p.same(warm_doc)}... ", end="")
    print(f"one-file {p.same(one_doc)}")


def secrets(name: str, source: Path, tmp: Path) -> None:
    """detect-secrets inside secscan / the slower of bandit and semgrep inside secscan."""
    tree = tmp / f"{name}-secrets"
    shutil.copytree(source, tree, symlinks=True)
    warm_page_cache(tree)
    p = Project(f"{name}-secrets", tree, tmp)
    walls = {s: p.scan("--no-cache", only=s)[0] for s in ("detect-secrets", "bandit", "semgrep")}
    slower = max(walls["bandit"], walls["semgrep"])
    shown = ", ".join(f"{s} {w:.2f} s" for s, w in walls.items())
    print(f"--- {name}, each scanner alone inside secscan (--no-cache): {shown}")
    ratio = walls["detect-secrets"] / slower
    print(f"RATIO {name} detect-secrets / slower of bandit and semgrep: {ratio:.3f} {bar(ratio, 1.0)}")


def big_tree(source: Path, tmp: Path) -> None:
    """Django's package under four folder names (about 14,600 files), a git repository."""
    tree = tmp / "big"
    for copy in ("alpha", "beta", "gamma", "delta"):
        shutil.copytree(source / "django", tree / copy / "django", symlinks=True)
    env = {
        **ENV,
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@x",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "big"]):
        subprocess.run(["git", *args], cwd=tree, env=env, check=True, capture_output=True)
    warm_page_cache(tree)
    p = Project("big", tree, tmp)
    files = subprocess.run(["git", "ls-files", "-z"], cwd=tree, capture_output=True, check=True).stdout.split(b"\0")
    print(f"--- big tree: {len(files) - 1} files")
    p.scan()  # the cache a team's pipeline keeps
    still, _, still_doc = p.scan()
    print(f"nothing changed: {still:.2f} s {'(bar <= 2 s) OK' if still <= 2 else '(bar <= 2 s) OVER'}")
    edited = tree / "gamma" / "django" / "utils" / "text.py"
    edited.write_text(edited.read_text() + "\n# edited by the speed-2 benchmark\n")
    one, _, one_doc = p.scan()
    _, _, alone = scanners_alone([str(edited)], tmp)
    listing, _ = measured(["git", "ls-files", "-z"], cwd=tree)
    hashing = _hash_all(tree)
    floor = alone + listing + hashing
    print(
        f"one file changed: {one:.2f} s; scanners alone {alone:.2f} s + ls-files {listing:.2f} s + hash {hashing:.2f} s"
    )
    print(f"RATIO big tree one file changed / floor: {one / floor:.3f} {bar(one / floor, 1.25)}")
    print(f"same findings and verdict as a cold --no-cache scan: nothing changed {p.same(still_doc)}... ", end="")
    print(f"one-file {p.same(one_doc)}")


def _hash_all(tree: Path) -> float:
    import time

    started = time.perf_counter()
    names = subprocess.run(["git", "ls-files", "-z"], cwd=tree, capture_output=True, check=True).stdout
    for rel in names.split(b"\0"):
        if rel:
            hashlib.sha256((tree / os.fsdecode(rel)).read_bytes()).hexdigest()
    return time.perf_counter() - started


def main() -> None:
    parts = set((os.environ.get("SECSCAN_BENCH_SPEED2") or "flask,django,secrets,big").split(","))
    with tempfile.TemporaryDirectory(prefix="bench-speed2-") as tmp_name:
        tmp = Path(tmp_name)
        sources = {"flask": flask_tree, "django": django_tree}
        for name in ("flask", "django"):
            if name in parts:
                project(name, sources[name](), tmp)
        if "secrets" in parts:
            for name in ("flask", "django"):
                secrets(name, sources[name](), tmp)
        if "big" in parts:
            big_tree(django_tree(), tmp)


if __name__ == "__main__":
    main()
