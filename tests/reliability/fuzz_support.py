"""The fuzz of ``secscan import`` (issue 32): real reports of every importer, one value replaced.

Shared by tests/reliability/test_reliability_fuzz.py and bench/bench_reliability.py. A case is a
real report with one value (anywhere in the document) replaced by a hostile one: another type,
a non-finite number, a lone surrogate, deep nesting, a huge integer. The CLI runs in-process;
the contract is exit 0 (the value did not matter) or exit 2 with one line naming the file.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secscan.cli import main

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data"
HERE = Path(__file__).resolve().parent / "data"

SEEDS: dict[str, tuple[Path, ...]] = {
    "sarif": (
        DATA / "importers/sarif/bandit/bandit-1.9.4_generated.sarif",
        DATA / "importers/sarif/semgrep/semgrep-1.182.0_generated.sarif",
        DATA / "importers/sarif/gitleaks/gitleaks_7.5.0.sarif",
    ),
    "bandit": (DATA / "scanners/bandit-1.9.4_generated.json",),
    "semgrep": (DATA / "scanners/semgrep-1.182.0_generated.json",),
    "pip-audit": (HERE / "pip-audit-2.10.1_payment-app_generated.json",),
    "detect-secrets": (HERE / "detect-secrets-1.5.0_one-file_generated.json",),
    "zap": (DATA / "zap/zap-2.16.1_baseline_report_json.json",),
}


@dataclass(frozen=True)
class Outcome:
    code: int
    stderr: str


def run_import(tool: str, text: str, workdir: Path, *, name: str = "report.json") -> Outcome:
    """``secscan import --tool TOOL FILE`` in-process: the exit code and what went to stderr."""
    report = workdir / name
    report.write_text(text, encoding="utf-8", errors="surrogatepass")
    root = workdir / "root"
    root.mkdir(exist_ok=True)
    err = io.StringIO()
    argv = ["import", "--tool", tool, str(report), "-o", str(workdir / "out.json"), "--root", str(root)]
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            main(argv)
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
    return Outcome(code=code, stderr=err.getvalue())


def problems(outcome: Outcome, report: Path) -> list[str]:
    """What is wrong with an outcome under the contract (empty: it holds)."""
    out: list[str] = []
    if outcome.code not in (0, 2):
        out.append(f"exit {outcome.code}")
    if "Traceback" in outcome.stderr or "internal error" in outcome.stderr:
        out.append("a traceback or internal error")
    if outcome.code == 2:
        lines = outcome.stderr.splitlines()
        if len(lines) != 1 or not lines[0].startswith("secscan: error: "):
            out.append(f"not one error line: {outcome.stderr[:300]!r}")
        elif str(report) not in lines[0]:
            out.append(f"the file is not named: {lines[0][:300]!r}")
    return out


def seed(tool: str, index: int = 0) -> Any:
    paths = SEEDS[tool]
    return json.loads(paths[index % len(paths)].read_text(encoding="utf-8"))


def paths_of(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a document a value sits (the root excluded), depth first."""
    out: list[tuple[Any, ...]] = []
    if isinstance(doc, dict):
        items: list[tuple[Any, Any]] = list(doc.items())
    elif isinstance(doc, list):
        items = list(enumerate(doc))
    else:
        return out
    for key, value in items:
        out.append((*prefix, key))
        out.extend(paths_of(value, (*prefix, key)))
    return out


def replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``doc`` with the value at ``path`` replaced."""
    copy = json.loads(json.dumps(doc))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return copy


def deep(levels: int) -> str:
    """A placeholder :func:`dumps` turns into ``levels`` nested arrays (json.dumps would recurse)."""
    return f"\x00DEEP{levels}"


# The values that broke the importers (issue 32) and their neighbours.
HOSTILE = st.one_of(
    st.sampled_from([5, -1, 0, 2**70, 1.5, float("inf"), float("-inf"), float("nan"), True, None, "", [], {}]),
    st.sampled_from(["\ud800", "\udfff", "a\udc80b", "\x00", "../../etc/passwd", "\u202e", "x" * 10_000]),
    st.builds(deep, st.integers(min_value=2000, max_value=3000)),
    st.lists(st.one_of(st.integers(), st.text(max_size=5), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.text(max_size=20),
)


def dumps(doc: Any) -> str:
    """JSON as a careless producer writes it: NaN and Infinity as bare words, surrogates as escapes."""
    text = json.dumps(doc, allow_nan=True)
    for m in re.finditer(r'"\\u0000DEEP(\d+)"', text):
        n = int(m.group(1))
        text = text.replace(m.group(0), "[" * n + "1" + "]" * n)
    return text


def case_strategy() -> st.SearchStrategy[tuple[str, str]]:
    """(tool, report text): one real report with one value replaced."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, str]:
        tool = draw(st.sampled_from(sorted(SEEDS)))
        doc = seed(tool, draw(st.integers(min_value=0, max_value=2)))
        path = draw(st.sampled_from(paths_of(doc)))
        return tool, dumps(replaced(doc, path, draw(HOSTILE)))

    return build()


def run_fuzz(max_examples: int) -> Counter[int]:
    """Run ``max_examples`` cases; the exit codes seen. Raises AssertionError on a broken contract."""
    seen: Counter[int] = Counter()
    workdir = Path(tempfile.mkdtemp(prefix="secscan-fuzz-"))

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case_strategy())
    def one(case: tuple[str, str]) -> None:
        tool, text = case
        outcome = run_import(tool, text, workdir)
        seen[outcome.code] += 1
        wrong = problems(outcome, workdir / "report.json")
        assert not wrong, f"{tool}: {wrong}"

    one()
    return seen
