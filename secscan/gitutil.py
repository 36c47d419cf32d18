"""The one way secscan runs git: real git, no prompts, C locale, a time limit, one-line errors."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from secscan.errors import ConfigError


def run_git(root: Path, *args: str, check: bool = True, purpose: str = "secscan") -> str:
    """``git -C root ARGS``; its stdout. Failures become a :class:`ConfigError` naming ``purpose``."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=off", "-C", str(root), *args],
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            env=env,
            timeout=120,
            check=False,
        )
    except FileNotFoundError as e:
        raise ConfigError(f"{purpose} needs git, which is not installed") from e
    except subprocess.TimeoutExpired as e:
        raise ConfigError(f"git {args[0]} took longer than 120s in {root}") from e
    if check and proc.returncode != 0:
        err = " ".join(proc.stderr.strip().splitlines()[-1:]) or f"exit code {proc.returncode}"
        raise ConfigError(f"git {args[0]} failed in {root}: {err}")
    return proc.stdout
