"""Exit 70 never for bad input (issue 32): every importer, fuzzed and at the known signatures.

The contract (README, "Exit codes"): a malformed report is exit 2 with one line naming the file;
never a traceback, never exit 70. The fuzz replaces one value anywhere in a real report of each
tool; the fixed cases are the signatures that broke before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.reliability import fuzz_support as fz

# About 10 s on one core of the CI machine; the whole file stays under 30 s.
FUZZ_EXAMPLES = 300


def test_fuzzed_reports_are_exit_0_or_2_naming_the_file() -> None:
    seen = fz.run_fuzz(FUZZ_EXAMPLES)
    assert set(seen) <= {0, 2}
    # The fuzz must reach the error path, or it proves nothing about it.
    assert seen[2] > FUZZ_EXAMPLES // 10


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    return fz.replaced(doc, path, value)


def _surrogate(tool: str) -> str:
    """The real report with a lone surrogate escape in its first string value."""
    text = json.dumps(fz.seed(tool))
    head, sep, rest = text.partition(': "')
    return head + sep + "\\ud800" + rest


SIGNATURES: list[tuple[str, str, str]] = [
    *((f"lone surrogate ({tool})", tool, _surrogate(tool)) for tool in sorted(fz.SEEDS)),
    ("semgrep errors: 5", "semgrep", json.dumps(_set(fz.seed("semgrep"), ("errors",), 5))),
    (
        "pip-audit aliases: 5",
        "pip-audit",
        json.dumps(_set(fz.seed("pip-audit"), ("dependencies", 0, "vulns", 0, "aliases"), 5)),
    ),
    (
        "pip-audit fix_versions: 5",
        "pip-audit",
        json.dumps(_set(fz.seed("pip-audit"), ("dependencies", 0, "vulns", 0, "fix_versions"), 5)),
    ),
    (
        "detect-secrets hashed_secret: []",
        "detect-secrets",
        json.dumps(_set(fz.seed("detect-secrets"), ("results", "settings.py", 0, "hashed_secret"), [])),
    ),
    (
        "bandit line: Infinity",
        "bandit",
        fz.dumps(_set(fz.seed("bandit"), ("results", 0, "line_number"), float("inf"))),
    ),
    (
        "semgrep line: Infinity",
        "semgrep",
        fz.dumps(_set(fz.seed("semgrep"), ("results", 0, "start", "line"), float("inf"))),
    ),
    (
        "sarif startLine: Infinity",
        "sarif",
        fz.dumps(
            _set(
                fz.seed("sarif"),
                ("runs", 0, "results", 0, "locations", 0, "physicalLocation", "region", "startLine"),
                float("inf"),
            )
        ),
    ),
    # Found by the fuzz (round 3): JSON true is a Python int, and reached the model as a line.
    ("bandit line_range: [true]", "bandit", json.dumps(_set(fz.seed("bandit"), ("results", 0, "line_range"), [True]))),
    *((f"nested 10^5 deep ({tool})", tool, '{"a":' * 100_000 + "1" + "}" * 100_000) for tool in sorted(fz.SEEDS)),
]


@pytest.mark.parametrize(("tool", "text"), [pytest.param(t, x, id=name) for name, t, x in SIGNATURES])
def test_known_signatures_are_exit_2_naming_the_file(tool: str, text: str, tmp_path: Path) -> None:
    outcome = fz.run_import(tool, text, tmp_path, name="bad-report.json")
    assert outcome.code == 2, outcome.stderr
    assert fz.problems(outcome, tmp_path / "bad-report.json") == []


def test_the_seeds_themselves_import_cleanly(tmp_path: Path) -> None:
    """The fuzz starts from reports that are good: exit 0, so a 2 is the mutation's doing."""
    for tool, paths in fz.SEEDS.items():
        for path in paths:
            outcome = fz.run_import(tool, path.read_text(encoding="utf-8"), tmp_path)
            assert outcome.code == 0, f"{tool} {path.name}: {outcome.stderr}"


@pytest.mark.parametrize("field", ["more_info", "cwe link"])
def test_a_link_of_another_type_is_left_out_not_a_crash(field: str, tmp_path: Path) -> None:
    """Found by the fuzz in CI: a bandit result whose ``more_info`` was a number was exit 70."""
    seed = next(p for p in fz.SEEDS["bandit"])
    data: dict[str, Any] = json.loads(seed.read_text(encoding="utf-8"))
    first = data["results"][0]
    if field == "more_info":
        first["more_info"] = 5
    else:
        first["issue_cwe"] = {"id": 78, "link": ["not", "a", "url"]}
    outcome = fz.run_import("bandit", json.dumps(data), tmp_path)
    assert outcome.code == 0 and fz.problems(outcome, tmp_path / "report.json") == [], outcome.stderr
