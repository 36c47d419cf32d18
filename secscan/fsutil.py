"""File helpers: atomic writes (a crash never leaves half a report behind) and reading inputs
with one-line errors that name the file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from secscan import credentials
from secscan.errors import ConfigError, InputError, SecscanError


def atomic_write(path: Path, data: str | bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and ``os.replace``.

    Same directory so the rename never crosses file systems (rename is only atomic within one).
    Every report goes through here, so the operator's credentials are masked here, on the final
    bytes, after whatever escaping the format did (:mod:`secscan.credentials`).
    """
    path = Path(path)
    masked = credentials.current().data(data)
    payload = masked.encode("utf-8") if isinstance(masked, str) else masked
    try:
        if _write_in_place(path):
            with open(path, "wb") as fh:
                fh.write(payload)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
    except FileExistsError as e:
        # mkdir found a file where a folder of the path should be.
        raise SecscanError(f"cannot write {path}: {e.filename or path.parent} is not a directory") from e
    except OSError as e:
        raise SecscanError(f"cannot write {path}: {e.strerror or e}") from e


def _write_in_place(path: Path) -> bool:
    """A device, FIFO or socket, or a path through /dev or /proc (``-o /dev/stdout``): write into it.

    Renaming a temp file over such a path would replace the device node or the /dev/stdout link
    itself (as root, that breaks the system) instead of writing to it.
    """
    try:
        if path.is_symlink() and Path(os.path.abspath(path)).parts[1:2] in (("dev",), ("proc",)):
            return True
        return path.exists() and not path.is_file() and not path.is_dir()
    except OSError:
        return False


def read_input_text(path: Path, *, what: str = "") -> str:
    """A UTF-8 input file's text; :class:`InputError` naming it (``what``: e.g. "baseline ")."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read {what}{path}: {e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 text ({e.reason})") from e


def load_toml(path: Path, *, what: str) -> dict[str, Any]:
    """A TOML settings file (policy, suppressions); :class:`ConfigError` (exit 2) on any problem."""
    import tomllib

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
