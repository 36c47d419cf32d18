"""``secscan.manifest.json``: the SHA-256 of every report a run wrote, and checking it later.

A report that is edited after the run (a finding deleted from the HTML before it is mailed on,
a verdict flipped in secscan.json) no longer matches its recorded digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from secscan.errors import InputError
from secscan.fsutil import STAGING_PREFIX, atomic_write

MANIFEST_NAME = "secscan.manifest.json"
SCHEMA = "secscan-manifest/1"


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in blocks (reports can be large)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def _relative(path: Path, base: Path) -> str:
    """The path as recorded: POSIX, relative to the manifest's folder (so the folder can move)."""
    rel = os.path.relpath(Path(path).resolve(), base.resolve())
    return PurePosixPath(Path(rel).as_posix()).as_posix()


def write_manifest(out_dir: Path, files: Sequence[Path]) -> Path:
    """Write ``<out_dir>/secscan.manifest.json`` listing ``files`` with their SHA-256 and size.

    Unreadable or missing files are an error (a manifest must not silently omit a report).
    """
    out_dir = Path(out_dir)
    target = out_dir / MANIFEST_NAME
    entries: dict[str, dict[str, object]] = {}
    for f in files:
        p = Path(f)
        if p.resolve() == target.resolve():
            continue  # never list the manifest in itself
        try:
            digest = file_sha256(p)
            size = p.stat().st_size
        except OSError as e:
            raise InputError(f"cannot hash report {p} for the manifest: {e.strerror or e}") from e
        entries[_relative(p, out_dir)] = {"sha256": digest, "size": size}
    doc = {
        "schema": SCHEMA,
        "algorithm": "sha256",
        "files": [{"path": name, **entries[name]} for name in sorted(entries)],
    }
    atomic_write(target, json.dumps(doc, indent=2) + "\n")
    return target


@dataclass(frozen=True, kw_only=True)
class FileCheck:
    path: str
    """As recorded in the manifest (relative to its folder)."""
    state: str
    """``ok``, ``modified``, ``missing``, ``unreadable``, ``refused`` (path outside the folder) or
    ``interrupted`` (a staging folder of a set whose switch was cut short by a kill)."""
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class ManifestCheck:
    manifest: Path
    files: tuple[FileCheck, ...]

    @property
    def ok(self) -> bool:
        return all(f.state == "ok" for f in self.files)

    @property
    def problems(self) -> tuple[FileCheck, ...]:
        return tuple(f for f in self.files if f.state != "ok")


def _load(path: Path) -> list[dict[str, object]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise InputError(f"manifest {path} does not exist") from e
    except OSError as e:
        raise InputError(f"cannot read manifest {path}: {e.strerror or e}") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not a JSON manifest ({e})") from e
    if not isinstance(doc, dict) or doc.get("schema") != SCHEMA:
        raise InputError(f"{path}: not a secscan manifest (expected schema {SCHEMA!r})")
    files = doc.get("files")
    if not isinstance(files, list):
        raise InputError(f"{path}: 'files' must be a list")
    out = []
    for n, item in enumerate(files):
        if not (isinstance(item, dict) and isinstance(item.get("path"), str) and isinstance(item.get("sha256"), str)):
            raise InputError(f"{path}: files[{n}] needs a 'path' and a 'sha256'")
        name = item["path"]
        if PurePosixPath(name).is_absolute() or Path(name).is_absolute():
            raise InputError(f"{path}: files[{n}]: absolute path {name!r} (paths are relative to the manifest)")
        out.append(item)
    return out


def verify_manifest(path: Path) -> ManifestCheck:
    """Re-hash every file the manifest lists; InputError only if the manifest itself is unusable."""
    path = Path(path)
    base = path.parent
    checks = []
    for item in _load(path):
        name = str(item["path"])
        p = base / name
        # A manifest lists the reports beside it; a path leaving that folder (../) would let a
        # tampered manifest point the check at some other file. (Absolute paths fail _load.)
        if not p.resolve().is_relative_to(base.resolve()):
            checks.append(FileCheck(path=name, state="refused", detail="path leaves the manifest's folder"))
            continue
        try:
            actual = file_sha256(p)
        except FileNotFoundError:
            checks.append(FileCheck(path=name, state="missing", detail="file is gone"))
            continue
        except OSError as e:
            checks.append(FileCheck(path=name, state="unreadable", detail=str(e.strerror or e)))
            continue
        if actual != item["sha256"]:
            checks.append(
                FileCheck(
                    path=name,
                    state="modified",
                    detail=f"sha256 {actual[:16]}… but the manifest says {str(item['sha256'])[:16]}…",
                )
            )
        else:
            checks.append(FileCheck(path=name, state="ok"))
    if any(c.state != "ok" for c in checks):
        checks += _interrupted_switches(base)
    return ManifestCheck(manifest=path, files=tuple(checks))


def _interrupted_switches(base: Path) -> list[FileCheck]:
    """A staging folder holding a complete set (its manifest) beside reports that do not match:
    secscan was killed outright (SIGKILL) while it switched a new set in, so the folder may mix
    two runs. Named, so the mismatch is not mistaken for an edit; the next run replaces the set."""
    detail = "a new report set was being switched in when secscan was killed: the reports may mix two runs"
    found = []
    with contextlib.suppress(OSError), os.scandir(base) as entries:
        for entry in entries:
            staged = entry.name.startswith(STAGING_PREFIX) and entry.is_dir(follow_symlinks=False)
            if staged and (Path(entry.path) / MANIFEST_NAME).is_file():
                found.append(FileCheck(path=entry.name + "/", state="interrupted", detail=detail))
    return found
