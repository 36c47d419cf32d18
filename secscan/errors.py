"""A small error hierarchy; each class carries the exit code it maps to (README, "Exit codes").

Foreign errors (OSError, json.JSONDecodeError, gitlab/docker exceptions) are wrapped where they
enter with ``raise ... from e`` so the CLI only ever has to handle ``SecscanError``.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes: one meaning each (README, "Exit codes").

    An ``IntEnum`` so a code is still the int that ``sys.exit`` and the recorded verdict take.
    """

    PASSED = 0
    GATE_FAILED = 1
    USAGE = 2
    SCANNER_FAILED = 3
    PUBLISH_FAILED = 4
    INTERNAL_ERROR = 70
    """An unexpected exception (a bug): BSD's EX_SOFTWARE, as before."""
    INTERRUPTED = 130
    """SIGINT (128 + 2), also a click abort (Ctrl-C at a prompt)."""
    TERMINATED = 143
    """SIGTERM (128 + 15): a cancelled CI job."""


class SecscanError(Exception):
    """Base class: a clear one-line message and the exit code it maps to."""

    exit_code: int = ExitCode.USAGE

    def __init__(self, message: str, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.__class__.__name__


class ConfigError(SecscanError):
    """Bad option, bad config or policy file, unreadable input (exit 2)."""

    exit_code = ExitCode.USAGE


class InputError(SecscanError):
    """A report or result file that cannot be read or parsed (exit 2)."""

    exit_code = ExitCode.USAGE


class ScannerError(SecscanError):
    """A scanner could not run, crashed, hung or produced unparseable output (exit 3)."""

    exit_code = ExitCode.SCANNER_FAILED


class ParseError(InputError):
    """A scanner's output did not have the shape its parser expects."""


class PublishError(SecscanError):
    """Results could not be published (exit 4 only when publishing is required)."""

    exit_code = ExitCode.PUBLISH_FAILED
