"""The one TOML reader of settings files (project settings, policy, suppressions): errors are
one line naming the file, exit 2."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from secscan.errors import ConfigError


def load_toml(path: Path, *, what: str) -> dict[str, Any]:
    """A TOML settings file (policy, suppressions); :class:`ConfigError` (exit 2) on any problem."""

    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(f"{what} {path} not found") from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {what} {path}: {e}") from e
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from e
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
