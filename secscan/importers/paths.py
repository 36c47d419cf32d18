"""Report paths and URIs -> repo-relative POSIX paths (pure; the root arrives as data).

Reports name files in many forms: relative paths, ``./x``, Windows ``C:\\x`` and ``.\\x``,
``file:`` URIs (``file:///abs``, ``file:////abs``, ``file:///C:/x``, ``file://host/share``),
percent-encoding, and SARIF's ``uriBaseId`` indirection through ``originalUriBaseIds``.

* A relative path stays relative: it is relative to the checkout the tool scanned, which is
  ours (a relative base chain such as ``SRC -> src/`` is prefixed first).
* An absolute path under ``root`` becomes relative to it. One that is not (another machine's
  checkout, a container mount such as ``/src``) is kept absolute and *reported* by the caller:
  guessing which part of it is the repo would silently move findings to other files.
* ``./`` (the whole checkout, as mobsfscan writes it) is ``.``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

_DRIVE = re.compile(r"^[A-Za-z]:(?:/|$)")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:")


@dataclass(frozen=True, kw_only=True)
class BaseUri:
    """One ``originalUriBaseIds`` entry: its URI and the base it is itself relative to."""

    uri: str = ""
    base_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class RepoPath:
    path: str
    """Repo-relative POSIX path; absolute (POSIX, ``C:/`` or ``//host``) when ``outside``."""
    outside: bool = False
    """An absolute path that does not lie under the root: the caller reports it."""


def is_absolute(path: str) -> bool:
    return path.startswith("/") or bool(_DRIVE.match(path))


def _file_uri_path(uri: str) -> str:
    """The local path a ``file:`` URI names (RFC 8089, plus the forms tools really write)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        # Not a parseable URI (e.g. "file://[..." is an unterminated IPv6 host): the rest after
        # the scheme is the best path there is, and it ends up reported as outside the root.
        return unquote(uri[5:])
    path = unquote(parts.path)
    host = parts.netloc
    if host and host.lower() != "localhost":
        if _DRIVE.match(host + "/"):  # file://C:/x (not RFC, but written by some tools)
            return host + path
        return "//" + host + path  # a UNC path: another machine's share
    if re.match(r"^/+[A-Za-z]:(?:/|$)", path):
        return path.lstrip("/")  # file:///C:/x -> C:/x
    if path.startswith("//"):
        # file:////src/x: RFC 8089's UNC form, but in practice an absolute path with a slash
        # too many. Either way it is absolute; one leading slash keeps it comparable to root.
        return "/" + path.lstrip("/")
    return path


def _clean(path: str) -> str:
    """Forward slashes, no ``.`` segments, no duplicate slashes; ``..`` kept where it escapes."""
    p = path.replace("\\", "/")
    unc = p.startswith("//") and not p.startswith("///")
    norm = posixpath.normpath(p) if p else ""
    if unc and not norm.startswith("//"):
        norm = "/" + norm
    if _DRIVE.match(norm):
        norm = norm[0].upper() + norm[1:]
    return norm


def _root_prefix(root: Path | str | None) -> str | None:
    if root is None:
        return None
    return str(root).replace("\\", "/").rstrip("/") + "/"


def _relative_to_root(absolute: str, root: Path | str | None) -> RepoPath:
    prefix = _root_prefix(root)
    if prefix is not None:
        a = absolute.lower() if _DRIVE.match(absolute) else absolute
        p = prefix.lower() if _DRIVE.match(prefix) else prefix
        if a == p.rstrip("/"):
            return RepoPath(path=".")
        if a.startswith(p):
            return RepoPath(path=absolute[len(p) :])
    return RepoPath(path=absolute, outside=True)


def _as_path(uri: str) -> str:
    """A URI reference or a plain path, as a path (decoded, forward slashes)."""
    if uri[:5].lower() == "file:":
        return _file_uri_path(uri)
    if _DRIVE.match(uri.replace("\\", "/")):
        return uri
    # A relative URI reference: percent-decode it (SARIF URIs are URIs, not paths).
    return unquote(uri) if "%" in uri else uri


@lru_cache(maxsize=256)
def _is_checkout_root(base: BaseUri | None) -> bool:
    """A base a relative path needs nothing from: undefined, empty, or absolute (the producing
    machine's checkout)."""
    return base is None or not base.uri or is_absolute(_as_path(base.uri).replace("\\", "/"))


def normalize(
    uri: str,
    *,
    root: Path | None,
    base_id: str | None = None,
    bases: Mapping[str, BaseUri] | None = None,
) -> RepoPath:
    """A repo-relative path for ``uri`` (see the module docstring)."""
    if (
        not any(c in uri for c in ":%\\")
        and not uri.startswith(("/", "."))
        and "//" not in uri
        and "/." not in uri
        and (base_id is None or not bases or _is_checkout_root(bases.get(base_id)))
    ):
        return RepoPath(path=uri)  # already clean: nearly every result of every tool
    path = _as_path(uri)
    seen: set[str] = set()
    while not is_absolute(path.replace("\\", "/")) and base_id is not None and bases and base_id not in seen:
        seen.add(base_id)
        base = bases.get(base_id)
        if base is None or not base.uri:
            break  # an undefined base is the scanned checkout's root: ours
        base_path = _as_path(base.uri).replace("\\", "/")
        joined = _clean(posixpath.join(base_path, path.replace("\\", "/")))
        if is_absolute(base_path):
            # An absolute base is the producing machine's checkout: the relative part is the
            # repo path, unless it climbs out of that base (then it is really absolute).
            rel = _clean(path)
            path = joined if rel == ".." or rel.startswith("../") else rel
            break
        path = joined
        base_id = base.base_id
    p = _clean(path)
    if is_absolute(p):
        found = _relative_to_root(p, root)
        if found.outside and bases:
            # Under one of the report's own absolute bases (the producing machine's checkout,
            # e.g. SRCROOT = file:///C:/work/proj/): relative to that base.
            for base in bases.values():
                base_path = _clean(_as_path(base.uri)) if base.uri else ""
                if is_absolute(base_path):
                    under = _relative_to_root(p, base_path)
                    if not under.outside:
                        return under
        return found
    # ``../x`` leaves the checkout the tool scanned: as unknown a place as another machine's.
    return RepoPath(path=p or ".", outside=p == ".." or p.startswith("../"))
