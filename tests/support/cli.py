"""One way for tests to run secscan: :func:`secscan`.

In-process by default: the real entry point's command group through click's ``CliRunner``, with
the environment and working directory of the call, the masking streams active (the command
layer installs them, as the process does). A usage error costs a millisecond instead of the
~1.5 s of a new interpreter, and the exit code and stderr line are the process's own
(``secscan/commands/wrapper.py`` maps every outcome inside the command layer).

``process=True`` runs ``python -m secscan`` instead, for what only a real process shows:
signals, kills, orphans, the masking of the real process streams, the pre-push hook, the CI
template. Both return a :class:`Run` that reads like ``subprocess.CompletedProcess``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from click.testing import CliRunner

from tests.conftest import ROOT


class Run(NamedTuple):
    """What a run of secscan gave: the names of ``subprocess.CompletedProcess``, and a tuple
    ``(code, stdout, stderr)`` to unpack."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def code(self) -> int:
        return self.returncode


@contextmanager
def _environment(env: Mapping[str, str], cwd: Path | None) -> Iterator[None]:
    """``os.environ`` replaced by ``env`` (the whole environment, as ``subprocess.run(env=...)``
    takes it) and the working directory changed, both restored afterwards."""
    saved_env = dict(os.environ)
    saved_cwd = Path.cwd()
    try:
        os.environ.clear()
        os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        yield
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)


def shell_env(*, clean: bool = False, **extra: str) -> dict[str, str]:
    """The test's environment (``clean``: without secscan, CI and GitLab variables, a developer's
    shell rather than the CI job running the tests), semgrep's version check off (it would stall
    offline), plus ``extra``."""
    drop = ("SECSCAN_", "CI_", "GITLAB_") if clean else ()
    env = {k: v for k, v in os.environ.items() if not (drop and k.startswith(drop))}
    env["SEMGREP_ENABLE_VERSION_CHECK"] = "0"
    env.update(extra)
    return env


def secscan(
    *args: str | os.PathLike[str],
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    clean: bool = False,
    environ: Mapping[str, str] | None = None,
    input: str | None = None,  # the name subprocess.run and CliRunner use
    process: bool = False,
    timeout: float = 900,
) -> Run:
    """``secscan ARGS`` in ``cwd``, with :func:`shell_env` (``clean`` or not) plus ``env``, or
    exactly ``environ`` (a job's whole environment); ``process`` for a real ``python -m secscan``."""
    argv = tuple(str(a) for a in args)
    where = Path(cwd) if cwd is not None else None
    full = dict(environ) if environ is not None else shell_env(clean=clean, **(env or {}))
    if process:
        return _in_process_of_its_own(argv, env=full, cwd=where, input=input, timeout=timeout)
    from secscan.cli import cli

    with _environment(full, where):
        result = CliRunner().invoke(cli, list(argv), input=input, prog_name="secscan", catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        # The command layer maps every exception: one that escapes it is a bug (or --debug).
        raise result.exception
    return Run(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def _in_process_of_its_own(
    argv: tuple[str, ...], *, env: Mapping[str, str], cwd: Path | None, input: str | None, timeout: float
) -> Run:
    full = dict(env)
    # The checkout first on the import path, wherever the process starts (a temporary folder).
    full["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), full.get("PYTHONPATH", "")) if p)
    proc = subprocess.run(
        [sys.executable, "-m", "secscan", *argv],
        cwd=cwd,
        env=full,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(returncode=proc.returncode, stdout=proc.stdout, stderr=proc.stderr)
