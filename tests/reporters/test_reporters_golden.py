"""Golden files: every format rendered from one fixed result (fixed clock, fixed versions).

An intended output change is reviewed as a diff of tests/data/reporters/golden/ after
re-running with SECSCAN_UPDATE_GOLDEN=1; a failure here is never fixed by regenerating blindly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from secscan import reporters
from secscan.models import RunResult
from secscan.reporters import Format
from secscan.resultio import load

DATA = Path(__file__).resolve().parent.parent / "data" / "reporters"
GOLDEN = DATA / "golden"


@pytest.fixture(scope="module")
def result() -> RunResult:
    return load(DATA / "result.json")


@pytest.mark.parametrize("fmt", list(Format), ids=lambda f: f.value)
def test_golden(fmt: Format, result: RunResult) -> None:
    path = GOLDEN / reporters.default_filename(fmt)
    text = reporters.render(fmt, result)
    if os.environ.get("SECSCAN_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path.name}"
    assert text == path.read_text(encoding="utf-8")


def test_rendering_is_deterministic(result: RunResult) -> None:
    for fmt in Format:
        assert reporters.render(fmt, result) == reporters.render(fmt, result), fmt


def test_json_format_is_the_result_document_itself(result: RunResult) -> None:
    assert reporters.render("json", result) == (DATA / "result.json").read_text(encoding="utf-8")


def test_every_golden_file_is_a_known_format() -> None:
    # A renamed format must not leave a stale golden file behind that nothing checks.
    names = {reporters.default_filename(f) for f in Format}
    assert {p.name for p in GOLDEN.iterdir()} == names
