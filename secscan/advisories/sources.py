"""Read OSV records from a folder (PyPA advisory-database layout, YAML or JSON) or a zip of
OSV JSON files (the osv.dev export, e.g. ``PyPI/all.zip``).

A file that cannot be read or is not a valid OSV record is reported with its name and reason
and skipped; the caller decides whether that is fatal (``--strict``). Nothing is skipped
silently: records about other ecosystems are counted as ``ignored``.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from secscan.advisories.osv import Advisory, AdvisoryFormatError, parse_record
from secscan.errors import ConfigError

SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILE_BYTES = 8 * 1024 * 1024
"""One OSV record is a few KiB; anything this large is not one (and a zip bomb guard)."""

# libyaml is ~10x faster than the pure-Python loader; both are "safe" (no object construction).
_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, kw_only=True)
class Problem:
    """A file that was skipped, and why (one line)."""

    file: str
    """Path relative to the source folder, or the zip member name."""
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass(frozen=True, kw_only=True)
class LoadResult:
    advisories: tuple[Advisory, ...]
    """Valid records with at least one PyPI or npm package, one per id, sorted by id."""
    problems: tuple[Problem, ...]
    """Malformed, unreadable or duplicate files: skipped, and reported."""
    ignored: int
    """Valid records without any PyPI or npm package (nothing to index)."""
    files: int
    """Candidate files read (``*.yaml``, ``*.yml``, ``*.json``)."""
    names: tuple[tuple[str, str], ...] = ()
    """(file or member name, id) of every valid record read, in reading order."""


def _first_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:200] or type(e).__name__


def decode(name: str, payload: bytes) -> object:
    """Bytes of one file -> the loaded document. Raises AdvisoryFormatError."""
    if len(payload) > MAX_FILE_BYTES:
        raise AdvisoryFormatError(f"larger than {MAX_FILE_BYTES} bytes")
    try:
        if name.lower().endswith(".json"):
            return json.loads(payload)
        return yaml.load(payload.decode("utf-8"), Loader=_YamlLoader)  # noqa: S506 - a safe loader
    except (ValueError, yaml.YAMLError, RecursionError) as e:  # JSONDecodeError/UnicodeError are ValueErrors
        kind = "JSON" if name.lower().endswith(".json") else "YAML"
        raise AdvisoryFormatError(f"not valid {kind}: {_first_line(e)}") from None


def _iter_folder(root: Path) -> Iterator[tuple[str, bytes | OSError]]:
    paths = sorted(
        p
        for p in root.rglob("*")
        if p.suffix.lower() in SUFFIXES and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )
    for p in paths:
        rel = p.relative_to(root).as_posix()
        if not p.is_file():
            continue
        try:
            if p.stat().st_size > MAX_FILE_BYTES:
                yield rel, OSError(f"larger than {MAX_FILE_BYTES} bytes")
                continue
            yield rel, p.read_bytes()
        except OSError as e:
            yield rel, e


MAX_ZIP_ENTRIES = 1_000_000
"""osv.dev's npm export is the largest (a few hundred thousand records, malware reports included)."""
MAX_ZIP_BYTES = 4 * 1024**3
"""Bytes decompressed from one archive, counted as they are produced (not the headers' sizes)."""
_CHUNK = 64 * 1024


def _iter_zip(path: Path, max_bytes: int = MAX_ZIP_BYTES) -> Iterator[tuple[str, bytes | OSError]]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as e:
        raise ConfigError(f"cannot read advisory zip {path}: {_first_line(e)}") from e
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise ConfigError(f"advisory zip {path}: {len(infos)} entries, more than {MAX_ZIP_ENTRIES}; refused")
        budget = _Budget(path=path, left=max_bytes, limit=max_bytes)
        for info in sorted(infos, key=lambda i: i.filename):
            name = info.filename
            if info.is_dir() or not name.lower().endswith(SUFFIXES) or name.startswith("__MACOSX/"):
                continue
            if leaves_folder(name):
                yield name, OSError("refused: the name leaves the archive's folder (absolute or '..')")
                continue
            yield name, _read_member(zf, info, budget)


@dataclass(kw_only=True)
class _Budget:
    """What is left of the archive's decompression budget (mutable while reading)."""

    path: Path
    left: int
    limit: int = MAX_ZIP_BYTES


def leaves_folder(name: str) -> bool:
    """Is a member name absolute, a drive path, or does it climb out with ``..``?"""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> bytes | OSError:
    """One member's bytes, counted as they are decompressed: the central directory's size may
    lie (issue 32: an entry that claimed a few bytes unpacked to 2 GB in one call)."""
    chunks: list[bytes] = []
    size = 0
    try:
        with zf.open(info) as member:
            while chunk := member.read(_CHUNK):
                size += len(chunk)
                budget.left -= len(chunk)
                if budget.left < 0:
                    raise ConfigError(
                        f"advisory zip {budget.path}: more than {budget.limit} bytes decompressed; refused"
                    )
                if size > MAX_FILE_BYTES:
                    return OSError(f"larger than {MAX_FILE_BYTES} bytes")
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, zlib.error) as e:
        return OSError(_first_line(e))
    return b"".join(chunks)


def iter_files(source: Path, *, max_zip_bytes: int = MAX_ZIP_BYTES) -> Iterator[tuple[str, bytes | OSError]]:
    """(name, bytes or the error reading it) for every candidate file of a folder or zip."""
    if source.is_dir():
        return _iter_folder(source)
    if source.is_file() and zipfile.is_zipfile(source):
        return _iter_zip(source, max_zip_bytes)
    if not source.exists():
        raise ConfigError(f"advisory source {source} does not exist")
    raise ConfigError(f"advisory source {source} is neither a folder of OSV files nor a zip of them")


def load(source: Path, *, max_zip_bytes: int = MAX_ZIP_BYTES) -> LoadResult:
    """Read and validate every OSV file under ``source`` (folder or zip); a zip stops at
    ``max_zip_bytes`` decompressed (ConfigError)."""
    problems: list[Problem] = []
    names: list[tuple[str, str]] = []
    by_id: dict[str, tuple[str, Advisory]] = {}
    ignored = 0
    files = 0
    for name, payload in iter_files(source, max_zip_bytes=max_zip_bytes):
        files += 1
        if isinstance(payload, OSError):
            problems.append(Problem(file=name, message=f"unreadable: {payload.strerror or payload}"))
            continue
        try:
            adv = parse_record(decode(name, payload))
        except AdvisoryFormatError as e:
            problems.append(Problem(file=name, message=e.message))
            continue
        names.append((name, adv.id))
        if not adv.affected:
            ignored += 1
            continue
        seen = by_id.get(adv.id)
        if seen is not None:
            # Two files, one id: keep the newer record (ties: the first in sorted order).
            other_name, other = seen
            if adv.modified > other.modified:
                by_id[adv.id] = (name, adv)
                problems.append(Problem(file=other_name, message=f"duplicate id {adv.id} (newer copy in {name})"))
            elif adv.canonical_json != other.canonical_json:
                problems.append(Problem(file=name, message=f"duplicate id {adv.id} (kept {other_name})"))
            continue
        by_id[adv.id] = (name, adv)
    advisories = tuple(adv for _, (_, adv) in sorted(by_id.items()))
    return LoadResult(advisories=advisories, problems=tuple(problems), ignored=ignored, files=files, names=tuple(names))
