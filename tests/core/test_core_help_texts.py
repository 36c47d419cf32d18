"""Help texts and the README say the same things, each generated from or checked against the
one place that decides (issue 30: help texts had drifted from the README and the code)."""

from __future__ import annotations

import importlib
import re

import click
import pytest

from secscan.cli import COMMANDS, HELP_SHORT
from secscan.reporters import Format
from secscan.scanners import registry
from tests.conftest import ROOT
from tests.support.cli import secscan

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _command(name: str) -> click.Command:
    module, attr = COMMANDS[name].split(":")
    cmd = getattr(importlib.import_module(module), attr)
    assert isinstance(cmd, click.Command)
    return cmd


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_short_help_listed_without_importing_is_the_commands_own(name: str) -> None:
    assert HELP_SHORT[name] == _command(name).get_short_help_str(limit=1000)


def test_top_level_help_lists_every_command_with_its_own_words() -> None:
    run = secscan("--help")
    flat = re.sub(r"-\s+", "-", " ".join(run.stdout.split()))  # click may wrap after a hyphen
    for name in COMMANDS:
        assert " ".join(HELP_SHORT[name].split()) in flat, name


def test_scan_help_names_every_scanner_and_format_from_their_registries() -> None:
    flat = " ".join(secscan("scan", "--help").stdout.split())
    for name in registry.names():
        assert re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", flat), name
    for fmt in Format:
        assert fmt.value in flat, fmt


def test_top_level_help_and_readme_name_every_scanner() -> None:
    intro = README.split("## Quick start")[0]
    flat = " ".join(secscan("--help").stdout.split())
    for name in registry.names():
        said = "ZAP" if name == "zap" else name
        assert said in intro, f"README intro: {name}"
        assert name in flat or said in flat, f"secscan --help: {name}"


def test_readme_commands_table_lists_every_command() -> None:
    table = README.split("## Commands")[1].split("\n## ")[0]
    for name in COMMANDS:
        assert f"`secscan {name}" in table or f"`{name}`" in table or f", `{name}" in table, name


def test_advisories_help_says_npm_too_and_prune_says_its_floor() -> None:
    assert "npm" in secscan("advisories", "--help").stdout
    assert "npm" in secscan("advisories", "import", "--help").stdout
    prune = secscan("history", "prune", "--help").stdout
    assert "at least 365" in prune and "x>=1" not in prune
