"""``secscan advisories update``: fetch OSV's exports, check them, swap the store atomically.

OSV publishes one zip per ecosystem, ``<base>/<ecosystem>/all.zip``, each member one record
named ``<ID>.json`` (https://google.github.io/osv.dev/data/#data-dumps). An update:

1. takes an exclusive lock beside the store (``<store>.lock``): concurrent updates run one
   after the other, never interleave;
2. downloads each archive into a private folder beside the store, with a time limit and a size
   cap, and checks its sha256 when the operator gave one;
3. checks each archive before anything is built: a zip, at most :data:`MAX_MEMBERS` members,
   each a flat ``<ID>.json`` (no folder, nothing that leaves it), decompressed sizes counted as
   they are produced (:mod:`.sources`: a zip bomb stops at its cap), every member a valid OSV
   record (:mod:`.osv`) whose id is its file name; one bad member refuses the whole archive;
4. builds the new database beside the old one and renames it into place (:func:`.store.build`):
   a scan that opened the old store keeps reading it, the next one reads the new one.

Anything refused raises :class:`ConfigError` (exit 2) naming the archive and the reason; the
store is then exactly what it was. The store records where the records came from, when they
were fetched, how many per ecosystem and the archives' digest: every scan result that uses the
store records its snapshot and age (``secscan.json``, ``advisories``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import http.client
import json
import os
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import urlsplit

from secscan import __version__
from secscan.advisories import sources
from secscan.advisories.osv import ECOSYSTEMS, Advisory, format_timestamp
from secscan.advisories.store import AdvisoryStore, StoreInfo, build, is_database
from secscan.errors import ConfigError
from secscan.settings.catalog import OSV_EXPORTS_URL

OSV_BASE_URL = OSV_EXPORTS_URL
ARCHIVE_NAME = "all.zip"
MAX_ARCHIVE_BYTES = 2 * 1024**3
"""Bytes downloaded per archive (npm's export, malware reports included, is a few hundred MB)."""
MAX_MEMBERS = sources.MAX_ZIP_ENTRIES
_CHUNK = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class Fetched:
    """One downloaded and checked archive."""

    ecosystem: str
    url: str
    sha256: str
    size: int
    load: sources.LoadResult


@dataclass(frozen=True, kw_only=True)
class Updated:
    """What an update did: the new store's info and the archives it was built from."""

    store: Path
    info: StoreInfo
    archives: tuple[Fetched, ...]


class Refused(ConfigError):
    """An archive was refused (unreachable, truncated, wrong digest, not OSV): exit 2."""


def archive_url(base_url: str, ecosystem: str) -> str:
    return f"{base_url.rstrip('/')}/{ecosystem}/{ARCHIVE_NAME}"


def check_base_url(base_url: str) -> str:
    """An http(s) URL with a host; anything else is a usage error before any work."""

    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"--source-url {base_url!r}: expected an http(s) URL of OSV's exports")
    if parts.query or parts.fragment:
        raise ConfigError(f"--source-url {base_url!r}: a base URL takes no query or fragment")
    return base_url.strip().rstrip("/")


def check_checksums(checksums: Sequence[str]) -> dict[str, str]:
    """``ECOSYSTEM=HEX`` items -> ``{ecosystem: sha256 hex}``; anything else is exit 2."""
    known = {e.lower(): e for e in ECOSYSTEMS}
    out: dict[str, str] = {}
    for item in checksums:
        eco, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--sha256 {item[:80]!r}: expected ECOSYSTEM=HEX, e.g. PyPI=<64 hex digits>")
        if eco.strip().lower() not in known:
            raise ConfigError(f"--sha256 {eco[:40]}=...: unknown ecosystem (known: {', '.join(ECOSYSTEMS)})")
        digest = value.strip().lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ConfigError(f"--sha256 {eco}=...: expected 64 hexadecimal digits")
        out[known[eco.strip().lower()]] = digest
    return out


# ------------------------------------------------------------------ download


def download(url: str, dest: Path, *, timeout: float, max_bytes: int = MAX_ARCHIVE_BYTES) -> tuple[str, int]:
    """Stream ``url`` into ``dest``: (sha256, size). Raises :class:`Refused` on any failure."""
    request = urllib.request.Request(url, headers={"User-Agent": f"secscan/{__version__}"})  # noqa: S310 - http(s) only, checked
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp, open(dest, "wb") as out:  # noqa: S310
            return _stream(resp, out, max_bytes=max_bytes)
    except urllib.error.HTTPError as e:
        raise Refused(f"HTTP {e.code} {e.reason}") from None
    except http.client.IncompleteRead as e:
        raise Refused(f"truncated download ({e.expected} bytes missing)") from None
    except TimeoutError:
        raise Refused(f"no answer within {timeout:g} s") from None
    except urllib.error.URLError as e:
        reason = e.reason
        if isinstance(reason, TimeoutError):
            raise Refused(f"no answer within {timeout:g} s") from None
        text = reason.strerror if isinstance(reason, OSError) and reason.strerror else str(reason)
        raise Refused(f"cannot connect: {text}") from None
    except (OSError, http.client.HTTPException) as e:
        raise Refused(f"download failed: {' '.join(str(e).split())[:200] or type(e).__name__}") from None


def _stream(resp: http.client.HTTPResponse, out: BinaryIO, *, max_bytes: int) -> tuple[str, int]:
    declared = resp.headers.get("Content-Length")
    expected = int(declared) if declared is not None and declared.isdigit() else None
    if expected is not None and expected > max_bytes:
        raise Refused(f"{expected} bytes announced, more than {max_bytes}")
    digest = hashlib.sha256()
    size = 0
    while chunk := resp.read(_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise Refused(f"more than {max_bytes} bytes")
        digest.update(chunk)
        out.write(chunk)
    if expected is not None and size < expected:
        # The connection closed early: http.client returns what came, without an error.
        raise Refused(f"truncated download ({size} of {expected} bytes)")
    return digest.hexdigest(), size


# ------------------------------------------------------------------ checks


def check_members(path: Path, *, max_members: int = MAX_MEMBERS) -> None:
    """The archive's layout, before a byte is decompressed: a zip of flat ``<ID>.json`` files."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise Refused(f"not a zip archive ({' '.join(str(e).split())[:120]})") from None
    if not infos:
        raise Refused("the archive is empty")
    if len(infos) > max_members:
        raise Refused(f"{len(infos)} members, more than {max_members}")
    for info in infos:
        name = info.filename
        if sources.leaves_folder(name):
            raise Refused(f"member {name[:120]!r}: the path leaves the archive's folder")
        pure = PurePosixPath(name.replace("\\", "/"))
        if info.is_dir() or len(pure.parts) != 1 or pure.suffix != ".json":
            raise Refused(f"member {name[:120]!r}: not an OSV record file (<ID>.json at the top)")


MAX_SKIPPED_SHARE = 0.01
MAX_SKIPPED = 10
"""Records an archive may hold that are OSV but that secscan cannot use (a version its ordering
cannot read): past 1% of its members and 10 records, the archive is refused as a whole."""


def check_records(path: Path, *, max_bytes: int = sources.MAX_ZIP_BYTES) -> sources.LoadResult:
    """Every member an OSV record named after its id. A member that is not an OSV record at all
    (not JSON, no ``id`` or ``modified``, unreadable, too large) refuses the archive; one that is
    OSV but that secscan cannot use (a version it cannot order) is skipped and listed, unless
    more than :data:`MAX_SKIPPED` and 1% of the members are: one odd upstream record must not
    keep every store stale."""
    try:
        loaded = sources.load(path, max_zip_bytes=max_bytes)
    except ConfigError as e:  # unreadable zip, more than max_bytes decompressed
        raise Refused(e.message.replace(f"advisory zip {path}: ", "")) from None
    fatal = _not_osv(path, loaded.problems)
    if fatal is not None:
        more = f" (and {len(loaded.problems) - 1} more)" if len(loaded.problems) > 1 else ""
        raise Refused(f"member {fatal}{more}")
    if len(loaded.problems) > max(MAX_SKIPPED, MAX_SKIPPED_SHARE * loaded.files):
        raise Refused(
            f"{len(loaded.problems)} of {loaded.files} records cannot be used (more than "
            f"{MAX_SKIPPED} and {MAX_SKIPPED_SHARE:.0%}), e.g. {loaded.problems[0]}"
        )
    for name, vid in loaded.names:
        if PurePosixPath(name).stem != vid:
            raise Refused(f"member {name[:120]!r} holds record {vid!r}: OSV names each file after its id")
    return loaded


def _not_osv(path: Path, problems: Sequence[sources.Problem]) -> sources.Problem | None:
    """The first problem member that is not an OSV record at all (a JSON object with a string
    ``id`` and a ``modified``), or that could not be read."""
    if not problems:
        return None
    with zipfile.ZipFile(path) as zf:
        for problem in problems:
            if problem.message.startswith(("unreadable", "duplicate id")):
                return problem
            try:
                doc = json.loads(zf.read(problem.file))  # read once already: within the caps
            except (ValueError, KeyError, OSError, zipfile.BadZipFile):
                return problem
            if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or "modified" not in doc:
                return problem
    return None


# ------------------------------------------------------------------ the update


@contextlib.contextmanager
def locked(store: Path) -> Iterator[None]:
    """An exclusive lock beside the store, held for the whole update (released on exit, even
    when the process dies: the kernel drops a dead process's ``flock``)."""
    lock = store.with_name(store.name + ".lock")
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise ConfigError(f"cannot lock the advisory store {store}: {e.strerror or e}") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _merge(loads: Sequence[sources.LoadResult]) -> sources.LoadResult:
    """One load of every archive's records (a record about PyPI and npm is in both: kept once,
    the newer copy)."""
    by_id: dict[str, Advisory] = {}
    for load in loads:
        for adv in load.advisories:
            seen = by_id.get(adv.id)
            if seen is None or adv.modified > seen.modified:
                by_id[adv.id] = adv
    return sources.LoadResult(
        advisories=tuple(adv for _, adv in sorted(by_id.items())),
        problems=tuple(p for load in loads for p in load.problems),
        ignored=sum(load.ignored for load in loads),
        files=sum(load.files for load in loads),
    )


def fetch_one(
    base_url: str,
    ecosystem: str,
    folder: Path,
    *,
    timeout: float,
    sha256: str | None,
    max_bytes: int = sources.MAX_ZIP_BYTES,
) -> Fetched:
    url = archive_url(base_url, ecosystem)
    path = folder / f"{ecosystem}.zip"
    try:
        digest, size = download(url, path, timeout=timeout)
        if sha256 is not None and digest != sha256:
            raise Refused(f"sha256 {digest} is not the expected {sha256}")
        check_members(path)
        loaded = check_records(path, max_bytes=max_bytes)
    except Refused as e:
        raise Refused(f"{ecosystem} archive {url}: {e.message}") from None
    if not loaded.advisories:
        raise Refused(f"{ecosystem} archive {url}: no {ecosystem} advisories in it")
    return Fetched(ecosystem=ecosystem, url=url, sha256=digest, size=size, load=loaded)


def update(
    store: Path,
    *,
    base_url: str = OSV_BASE_URL,
    timeout: float = 300.0,
    checksums: Sequence[str] = (),
    ecosystems: Sequence[str] = ECOSYSTEMS,
    max_bytes: int = sources.MAX_ZIP_BYTES,
) -> Updated:
    """Fetch, check and swap in a new store at ``store``. On any refusal the old one is kept."""
    base_url = check_base_url(base_url)
    sums = check_checksums(checksums)
    if store.exists() and not is_database(store):
        raise ConfigError(f"{store} exists and is not an advisory database: refusing to replace it")
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"cannot create the folder of the advisory store {store}: {e.strerror or e}") from e
    with locked(store), tempfile.TemporaryDirectory(prefix=".secscan-advisories-", dir=store.parent) as tmp:
        fetched_at = format_timestamp(datetime.now(UTC).replace(microsecond=0))
        archives = tuple(
            fetch_one(base_url, eco, Path(tmp), timeout=timeout, sha256=sums.get(eco), max_bytes=max_bytes)
            for eco in ecosystems
        )
        digest = " ".join(f"{a.ecosystem}:{a.sha256}" for a in archives)
        info = build(store, _merge([a.load for a in archives]), source=base_url, fetched_at=fetched_at, digest=digest)
    # What was renamed into place opens as a store (the next scan's first step, done now).
    AdvisoryStore(store).close()
    return Updated(store=store, info=info, archives=archives)
