"""Bad reports: one clear line naming the file (exit 2), never a traceback, whatever the shape."""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from secscan.errors import InputError
from secscan.importers import parse_report
from secscan.sourcefiles import SourceTree
from tests.importers.importers_support import SARIF
from tests.support.cli import secscan

# Values a broken or hostile producer could put anywhere in a log.
ODD: list[Any] = [
    None,
    True,
    0,
    -1,
    3.5,
    "",
    "x",
    "file://[::1/x",
    "file:///C:/",
    "%ZZ",
    "\\\\host\\share",
    [],
    {},
    [1],
    {"a": 1},
    "../..",
    "//",
    "./",
    10**20,
]


def _mutate(node: Any, rnd: random.Random) -> None:
    if isinstance(node, dict) and node:
        key = rnd.choice(list(node))
        if rnd.random() < 0.3:
            node[key] = copy.deepcopy(rnd.choice(ODD))
        else:
            _mutate(node[key], rnd)
    elif isinstance(node, list) and node:
        i = rnd.randrange(len(node))
        if rnd.random() < 0.3:
            node[i] = copy.deepcopy(rnd.choice(ODD))
        else:
            _mutate(node[i], rnd)


def test_mutated_real_logs_import_or_fail_with_an_input_error(tmp_path: Path) -> None:
    files = sorted(p for p in SARIF.glob("*/*") if p.name != "README.md")
    rnd = random.Random(17)  # fixed: the same 1,500 mutants on every run
    tree = SourceTree(tmp_path)
    outcomes = {"imported": 0, "rejected": 0}
    for _ in range(1500):
        doc = json.loads(rnd.choice(files).read_text(encoding="utf-8"))
        for _ in range(rnd.randint(1, 4)):
            _mutate(doc, rnd)
        try:
            parse_report("sarif", json.dumps(doc), origin="mutant.sarif", tree=tree)
            outcomes["imported"] += 1
        except InputError as e:
            assert e.message.startswith("mutant.sarif: ") and "\n" not in e.message
            outcomes["rejected"] += 1
    assert outcomes["imported"] and outcomes["rejected"], outcomes  # both paths were exercised


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T"}}, "results": [{"locations": [7]}]}]},
            "runs[0].results[0].locations[0]: expected an object",
        ),
        (
            {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T"}}, "invocations": ["x"]}]},
            "runs[0].invocations[0]: expected an object",
        ),
        (
            {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T"}}, "originalUriBaseIds": []}]},
            "runs[0].originalUriBaseIds: expected an object",
        ),
    ],
)
def test_malformed_log_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], doc: dict[str, Any], message: str
) -> None:
    src = tmp_path / "bad.sarif"
    src.write_text(json.dumps(doc))
    rc, out, err = secscan("import", "--tool", "sarif", str(src), "-o", str(tmp_path / "r.json"))
    assert rc == 2 and out == ""
    assert err.startswith("secscan: error: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err and not (tmp_path / "r.json").exists()
