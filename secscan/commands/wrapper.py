"""Every outcome of a command becomes an exit code and at most one line on stderr, inside the
command layer (the way semgrep's ``commands/wrapper.py`` does it).

Two pieces, used by every command:

* :func:`handle_command_errors` wraps a command's callback: a :class:`SecscanError` becomes its
  code and ``secscan: error: <message>``; :class:`Interrupted` (SIGINT/SIGTERM) its 130/143; an
  unexpected exception 70 and one line (the traceback only with ``--debug``); the callback's
  int return value becomes the exit code. It ends with ``click.exceptions.Exit``, which click
  turns into ``sys.exit(code)`` (standalone) or returns (``standalone_mode=False``), so the same
  command gives the same code called in-process (click's ``CliRunner``) as in a subprocess.
* :class:`Command` and :class:`Group` (``cls=`` of every command) do the same for what happens
  before the callback runs: a usage error (bad option, unknown command) is one line and 2, not
  click's three-line usage block.

What stays in :mod:`secscan.cli` is process-wide only: the signal handlers and the masking of
the real ``sys.stdout``/``sys.stderr``. Every line printed here is masked too, because error
texts quote scanners, files and GitLab's answers, none of which secscan controls.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, ParamSpec, TypeVar

import click

from secscan.credentials import install_on_std_streams, mask
from secscan.errors import ExitCode, SecscanError
from secscan.interrupts import Interrupted

P = ParamSpec("P")
R = TypeVar("R")

WRAPPED = "__secscan_command_errors__"
"""Set on every wrapped callback: a test checks that every command has the wrapper."""


def _say(text: str) -> None:
    click.echo(mask(f"secscan: {text}"), err=True)


def _debug() -> bool:
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    if isinstance(obj, dict) and obj.get("debug"):
        return True
    return os.environ.get("SECSCAN_DEBUG", "") not in ("", "0")


def _exit(code: int) -> NoReturn:
    raise click.exceptions.Exit(int(code))


def handle_command_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Wrap a command callback: every outcome is an exit code and at most one line on stderr."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            rv = func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise  # click's own outcomes: the command class below words them
        except SecscanError as e:
            _say(f"error: {e.message}")
            _exit(e.exit_code)
        except Interrupted as e:
            # The stop the user asked for; the ``finally`` blocks on the way here already stopped
            # the scanners and removed the temp files (secscan/interrupts.py).
            _say(f"error: {e.message}")
            _exit(e.exit_code)
        except KeyboardInterrupt:  # embedded without secscan's signal handlers
            _say("interrupted")
            _exit(ExitCode.INTERRUPTED)
        except Exception as e:
            if _debug():
                raise
            _say(f"internal error: {type(e).__name__}: {e} (re-run with --debug for details)")
            _exit(ExitCode.INTERNAL_ERROR)
        if isinstance(rv, int) and rv:
            _exit(rv)
        return rv

    setattr(wrapper, WRAPPED, True)
    return wrapper


class _OneLineErrors(click.Command):
    """``main`` maps click's own errors (usage, abort) to one line and a code, whether called
    standalone (exits) or not (returns the code), so both ways give the same code and text."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        # In-process too (a test runner, a wrapper script): nothing printed carries a credential.
        install_on_std_streams()
        code = _main_code(super().main, args, prog_name, complete_var, extra)
        if standalone_mode:
            sys.exit(code)
        return code


def _main_code(
    main: Callable[..., Any],
    args: Sequence[str] | None,
    prog_name: str | None,
    complete_var: str | None,
    extra: dict[str, Any],
) -> int:
    try:
        rv = main(args, prog_name, complete_var, standalone_mode=False, **extra)
    except click.exceptions.NoArgsIsHelpError as e:
        # `secscan` (or a group) alone: its help, not an error line around it; still exit 2.
        click.echo(e.format_message(), err=True)
        return ExitCode.USAGE
    except click.UsageError as e:
        # One line, like every other error; the command's --help is one step away.
        where = e.ctx.command_path if e.ctx is not None else "secscan"
        _say(f"error: {e.format_message()} (see '{where} --help')")
        return ExitCode.USAGE
    except click.ClickException as e:
        _say(f"error: {e.format_message()}")
        return ExitCode.USAGE
    except click.Abort:
        _say("aborted")
        return ExitCode.INTERRUPTED
    except Interrupted as e:  # while a command module was being imported or its options parsed
        _say(f"error: {e.message}")
        return e.exit_code
    return rv if isinstance(rv, int) else ExitCode.PASSED


class Command(_OneLineErrors):
    """A secscan command: one-line usage errors (``cls=`` of every ``click.command``)."""


class Group(_OneLineErrors, click.Group):
    """A secscan command group: one-line usage errors (``cls=`` of every ``click.group``)."""

    command_class = Command
    group_class = type
