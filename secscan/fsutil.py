"""File helpers: atomic writes (a crash never leaves half a report behind) and reading inputs
with one-line errors that name the file."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from secscan import credentials, interrupts
from secscan.errors import InputError, SecscanError


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


# ------------------------------------------------------------------ a set of files switched in at once

STAGING_PREFIX = ".secscan-staging-"
"""Hidden folders in an output folder where a new report set is written before it is switched in."""


@dataclass(frozen=True, kw_only=True)
class StagedSet:
    """A fresh folder inside ``out_dir`` (same file system: renames out of it are atomic)."""

    out_dir: Path
    """Where the set goes."""
    path: Path
    """Where it is written first."""

    def switch(self, names: Sequence[str]) -> list[Path]:
        """Move ``names`` (in this order: the manifest last) from the stage into ``out_dir``.

        Held from SIGINT/SIGTERM (:func:`secscan.interrupts.deferred`): a few renames, so a stop
        lands before them (the previous set stays) or after them (the new set is complete).
        """

        moved = []
        with interrupts.deferred():
            try:
                for name in names:
                    os.replace(self.path / name, self.out_dir / name)
                    moved.append(self.out_dir / name)
                _fsync_dir(self.out_dir)
            except OSError as e:
                raise SecscanError(f"cannot switch the new reports into {self.out_dir}: {e.strerror or e}") from e
        return moved


def _fsync_dir(folder: Path) -> None:
    """Make the renames in ``folder`` durable (a power cut after the switch keeps the new set)."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def staged_set(out_dir: Path) -> Iterator[StagedSet]:
    """A fresh staging folder in ``out_dir`` for one report set, removed when the block ends
    (after :meth:`StagedSet.switch` it is empty; after an error or a signal it holds the
    unfinished set, which never touched ``out_dir``'s reports).

    The block holds an ``flock`` on ``out_dir``: two runs writing to one folder take turns, and
    staging folders found under the lock are left by a run that was killed outright (SIGKILL,
    which no handler sees), so they are removed first.
    """
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        lock = os.open(out_dir, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as e:
        raise SecscanError(f"cannot write to {out_dir}: {e.strerror or e}") from e
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        remove_stale_stages(out_dir)
        try:
            stage = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
        except OSError as e:
            raise SecscanError(f"cannot write to {out_dir}: {e.strerror or e}") from e
        try:
            yield StagedSet(out_dir=out_dir, path=stage)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    finally:
        os.close(lock)


def remove_stale_stages(out_dir: Path) -> int:
    """Remove staging folders of killed runs (only real folders: a link is unlinked, never followed)."""
    removed = 0
    with contextlib.suppress(OSError), os.scandir(out_dir) as entries:
        for entry in entries:
            if not entry.name.startswith(STAGING_PREFIX):
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
            removed += 1
    return removed
