"""Recall of secscan's semgrep rules on an independent corpus (issue 28): documented
vulnerabilities of intentionally vulnerable web applications in public repositories.

The corpus is a manifest, not code: ``bench/recall/cases.csv`` names each case by repository,
commit, file, line and family (``bench/recall/MANIFEST.md`` says where each repository's cases
come from and under which licence). Nothing of the applications is committed; their trees are
read from git at the pinned commit:

- ``BENCH_RECALL_SRC``: a folder holding, per repository, ``<owner>+<name>/repo`` (a bare git
  directory, as a snapshot tool lays them out) or ``<owner>+<name>`` (a clone);
- otherwise each repository is cloned from GitHub into ``bench/.cache/recall``.

All rules in ``rules/semgrep`` run once over the extracted trees (semgrep's default ignores, as
``secscan scan`` runs it). A case is found when a finding of a rule of its family lies in its file
within 3 lines of its line (line 0: anywhere in the file, for corpora whose ground truth is one
vulnerability per file). Cases marked ``vulnerable=no`` are the corpora's own safe twins: a finding
of the family there is a false positive.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import tarfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "bench" / "recall" / "cases.csv"
CACHE = ROOT / "bench" / ".cache" / "recall"
NEAR = 3

# Which rules answer for which family: substrings of the rule id (ids are prefixed by semgrep
# with the config's path, so only the tail is compared).
FAMILIES: dict[str, tuple[str, ...]] = {
    "xss": (
        "xss-",
        "jinja2-autoescape-disabled",
        "template-unescaped-output",
        "template-autoescape-off",
        "angular-bypass-security-trust",
        "react-dangerously-set-inner-html",
        "template-engine-escaping-disabled",
    ),
    "sql-injection": ("sql-built-by-string-formatting",),
    "nosql-injection": ("nosql-",),
    "command-injection": ("command-injection",),
    "code-injection": ("code-injection", "server-side-template-injection", "eval-of-dynamic-code"),
    "deserialization": (
        "unsafe-pickle-load",
        "unsafe-yaml-load",
        "yaml-unsafe-load",
        "unsafe-deserialization",
        "pickle-session-serializer",
    ),
    "path-traversal": ("path-traversal", "archive-extraction-outside-target", "zip-slip"),
    "ssrf": ("ssrf",),
    "open-redirect": ("open-redirect",),
    "xxe": ("xml-external-entities",),
    "redos": ("redos-", "regex-from-request-data"),
    "weak-crypto": (
        "weak-hash",
        "fast-hash-for-password",
        "weak-cipher",
        "aes-ecb",
        "static-iv",
        "unauthenticated-cipher",
        "weak-crypto-key",
        "weak-password-hasher",
    ),
    "jwt": ("jwt-",),
    "hardcoded-secret": ("hardcoded-secret", "hardcoded-session-secret", "hardcoded-secret-key"),
    "misconfig": (
        "insecure-session-cookie",
        "csrf-protection-disabled",
        "session-without-csrf",
        "debug-enabled",
        "allowed-hosts",
        "directory-listing",
        "x-powered-by",
        "plain-http-server",
        "tls-verification-disabled",
    ),
}


@dataclass(frozen=True)
class Case:
    repo: str
    commit: str
    file: str
    line: int
    family: str
    vulnerable: bool
    lang: str
    note: str


def load_cases(path: Path = CASES) -> list[Case]:
    with path.open(newline="") as f:
        rows = [r for r in csv.DictReader(line for line in f if not line.startswith("#"))]
    return [
        Case(
            r["repo"],
            r["commit"],
            r["file"],
            int(r["line"]),
            r["family"],
            r["vulnerable"] == "yes",
            r["lang"],
            r["note"],
        )
        for r in rows
    ]


def family_of(rule_id: str) -> str | None:
    tail = rule_id.rsplit("payment.", 1)[-1].rsplit("web.", 1)[-1]
    return next((fam for fam, keys in FAMILIES.items() if any(k in tail for k in keys)), None)


def git_dir(repo: str) -> Path:
    """A git directory holding ``repo``'s history: from BENCH_RECALL_SRC, else a fresh clone."""
    key = repo.replace("/", "+")
    src = os.environ.get("BENCH_RECALL_SRC")
    if src:
        for cand in (Path(src) / key / "repo", Path(src) / key / ".git", Path(src) / key):
            if (cand / "HEAD").is_file():
                return cand
        raise SystemExit(f"bench recall: {repo} not found under BENCH_RECALL_SRC ({key}/repo or {key})")
    dest = CACHE / f"{key}.git"
    if not dest.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        url = f"https://github.com/{repo}.git"
        subprocess.run(["git", "clone", "-q", "--bare", url, str(dest)], check=True)
    return dest


def tree(repo: str, commit: str) -> Path:
    """The repository's files at ``commit``, extracted once under bench/.cache/recall/trees."""
    dest = CACHE / "trees" / f"{repo.replace('/', '+')}@{commit[:12]}"
    if not dest.exists():
        data = subprocess.run(["git", "--git-dir", str(git_dir(repo)), "archive", commit],
                              capture_output=True, check=True).stdout  # fmt: skip
        part = dest.with_name(dest.name + ".part")
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            tf.extractall(part, filter="data")
        part.rename(dest)
    return dest


def findings(base: Path, targets: list[str]) -> dict[tuple[str, str], list[tuple[int, int, str]]]:
    """(tree name, file) -> [(start line, end line, family)] of one semgrep run over the cases'
    files (named relative to ``base``, the folder of the trees): only they are scored, and whole
    trees would mostly time vendored JavaScript."""
    semgrep = str(Path(sys.executable).parent / "semgrep")
    argv = [semgrep, "--metrics=off", "--disable-version-check", "--no-git-ignore", "--config",
            str(ROOT / "rules" / "semgrep"), "--json", "--timeout", "30", *targets]  # fmt: skip
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    proc = subprocess.run(argv, cwd=base, env=env, capture_output=True, text=True, check=False)
    doc = json.loads(proc.stdout)
    out: dict[tuple[str, str], list[tuple[int, int, str]]] = defaultdict(list)
    for r in doc["results"]:
        fam = family_of(r["check_id"])
        if fam:
            top, _, rel = r["path"].partition("/")
            out[(top, rel)].append((r["start"]["line"], r["end"]["line"], fam))
    errors = [e for e in doc.get("errors", []) if e.get("level") == "error"]
    if errors:
        print(f"semgrep reported {len(errors)} errors (first: {errors[0].get('message', '')[:200]})")
    return out


def found(case: Case, hits: dict[tuple[str, str], list[tuple[int, int, str]]], name: str) -> bool:
    for start, end, fam in hits.get((name, case.file), []):
        if fam == case.family and (case.line == 0 or start - NEAR <= case.line <= end + NEAR):
            return True
    return False


def report(cases: list[Case], hit: dict[Case, bool]) -> None:
    rows: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for c in cases:
        for key in ((c.family, c.lang), (c.family, "all"), ("all", c.lang), ("all", "all")):
            row = rows[key]
            if c.vulnerable:
                row[0] += 1
                row[1] += hit[c]
            else:
                row[2] += 1
                row[3] += hit[c]
    print(f"{'family':<18} {'lang':<7} {'found':>9} {'recall':>7}   {'safe twins hit':>14}")
    for (fam, lang), (n, k, s, fp) in sorted(rows.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        if lang == "all" and fam != "all" and sum(1 for f, _ in rows if f == fam) == 2:
            continue  # one language only: its row already says it
        pct = f"{100 * k / n:.0f}%" if n else "-"
        twins = f"{fp}/{s}" if s else "-"
        print(f"{fam:<18} {lang:<7} {k:>4}/{n:<4} {pct:>7}   {twins:>14}")
    if os.environ.get("BENCH_RECALL_MISSES"):
        for c in cases:
            if c.vulnerable != hit[c]:
                kind = "missed" if c.vulnerable else "false positive"
                print(f"{kind}: {c.family} {c.repo} {c.file}:{c.line} {c.note}")


def main() -> None:
    cases = load_cases()
    names = {(c.repo, c.commit): tree(c.repo, c.commit) for c in cases}
    targets = sorted({f"{names[(c.repo, c.commit)].name}/{c.file}" for c in cases})
    hits = findings(CACHE / "trees", targets)
    hit = {c: found(c, hits, names[(c.repo, c.commit)].name) for c in cases}
    repos = len({c.repo for c in cases})
    print(f"recall corpus: {sum(c.vulnerable for c in cases)} vulnerable cases and "
          f"{sum(not c.vulnerable for c in cases)} safe twins in {repos} repositories")  # fmt: skip
    report(cases, hit)


if __name__ == "__main__":
    main()
