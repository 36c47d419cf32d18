"""Errors become exit codes inside the command layer (secscan/commands/wrapper.py): a command
called in-process gives the exit code and the one stderr line of the real process."""

from __future__ import annotations

import importlib
from pathlib import Path

import click
import pytest

from secscan.cli import COMMANDS
from secscan.commands.wrapper import WRAPPED, Command, Group
from secscan.errors import ExitCode
from tests.support.cli import secscan


def _leaves(cmd: click.Command, path: str) -> list[tuple[str, click.Command]]:
    if isinstance(cmd, click.Group):
        return [leaf for name, sub in cmd.commands.items() for leaf in _leaves(sub, f"{path} {name}")]
    return [(path, cmd)]


def test_every_command_has_the_error_wrapper_and_one_line_usage_errors() -> None:
    for name, target in COMMANDS.items():
        module, attr = target.split(":")
        top = getattr(importlib.import_module(module), attr)
        assert isinstance(top, Group if isinstance(top, click.Group) else Command), name
        for path, leaf in _leaves(top, name):
            assert isinstance(leaf, Command), path
            assert getattr(leaf.callback, WRAPPED, False), f"{path}: callback without handle_command_errors"


def test_exit_codes_are_an_enum_of_the_documented_codes() -> None:
    assert [int(c) for c in ExitCode] == [0, 1, 2, 3, 4, 70, 130, 143]
    assert f"{ExitCode.USAGE}" == "2"  # formats as the number it is


CASES = [
    pytest.param(["scan", "--bogus"], ExitCode.USAGE, "No such option '--bogus'", id="usage-error"),
    pytest.param(["nosuch"], ExitCode.USAGE, "No such command 'nosuch'", id="unknown-command"),
    pytest.param(["gate", "missing.json"], ExitCode.USAGE, "missing.json", id="secscan-error"),
    pytest.param(["report", "r.json", "-f", "nope"], ExitCode.USAGE, "nope", id="bad-format"),
]


@pytest.mark.parametrize(("argv", "code", "text"), CASES)
def test_in_process_gives_the_code_and_line_of_the_process(
    tmp_path: Path, argv: list[str], code: int, text: str
) -> None:
    inside = secscan(*argv, cwd=tmp_path)
    assert inside.code == code and text in inside.stderr
    lines = inside.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("secscan: error: "), inside.stderr
    assert "Traceback" not in inside.stderr and "Usage:" not in inside.stderr


def test_parity_with_a_real_process(tmp_path: Path) -> None:
    # One real process (~1.5 s) stands for all: same code, same line.
    for argv in (["scan", "--bogus"], ["gate", "missing.json"]):
        inside = secscan(*argv, cwd=tmp_path)
        outside = secscan(*argv, cwd=tmp_path, process=True)
        assert (inside.code, inside.stderr, inside.stdout) == (outside.code, outside.stderr, outside.stdout)


def test_standalone_mode_false_returns_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from secscan.cli import cli

    monkeypatch.chdir(tmp_path)
    assert cli.main(["gate", "missing.json"], standalone_mode=False) == ExitCode.USAGE
    assert cli.main(["--version"], standalone_mode=False) == ExitCode.PASSED


def test_an_unexpected_exception_is_one_line_and_70(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from secscan import resultio

    def boom(path: Path) -> None:
        raise ValueError("unexpected")

    monkeypatch.setattr(resultio, "load", boom)
    got = secscan("gate", str(tmp_path / "r.json"), env={"SECSCAN_DEBUG": ""})
    assert got.code == ExitCode.INTERNAL_ERROR
    assert got.stderr.strip() == ("secscan: internal error: ValueError: unexpected (re-run with --debug for details)")
    with pytest.raises(ValueError, match="unexpected"):
        secscan("--debug", "gate", str(tmp_path / "r.json"))


def test_a_gate_verdict_is_the_exit_code_in_process_too(tmp_path: Path) -> None:
    # CliRunner is standalone: without the wrapper a returned 1 would exit 0.
    from tests.triage.triage_helpers import DATA

    src = DATA / "bandit-1.9.4_generated.json"
    assert secscan("import", "--tool", "bandit", str(src), "-o", str(tmp_path / "r.json"), cwd=tmp_path).code == 0
    assert secscan("gate", str(tmp_path / "r.json"), cwd=tmp_path, clean=True).code == ExitCode.GATE_FAILED


def test_no_command_shows_the_help_without_an_error_prefix() -> None:
    got = secscan()
    assert got.code == ExitCode.USAGE
    assert got.stderr.startswith("Usage: secscan [OPTIONS] COMMAND") and "secscan: error" not in got.stderr
