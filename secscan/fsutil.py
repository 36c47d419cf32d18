"""File helpers: atomic writes, so a crash never leaves half a report behind."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from secscan.errors import SecscanError


def atomic_write(path: Path, data: str | bytes, *, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and ``os.replace``.

    Same directory so the rename never crosses file systems (rename is only atomic within one).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = data.encode("utf-8") if isinstance(data, str) else data
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
    except OSError as e:
        raise SecscanError(f"cannot write {path}: {e.strerror or e}") from e
