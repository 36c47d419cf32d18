"""The API definition of an api-mode scan (``--zap-api-definition PATH|URL``): checked and its
format (``-f`` of zap-api-scan.py) decided before ZAP starts.

zap-api-scan.py only finds a missing or unreadable definition after ZAP has started (then it
exits 3 with its usage text); a file is checked here, in milliseconds, and named in the error.
A URL is passed through unchanged: ZAP fetches it from inside its container.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import yaml

from secscan.errors import ConfigError
from secscan.zap.job import API_FORMATS

MAX_BYTES = 50 * 1024 * 1024
"""Definitions bigger than this are refused (a mistake, not an API)."""

_EXT = {".wsdl": "soap", ".graphql": "graphql", ".graphqls": "graphql", ".gql": "graphql"}
_GRAPHQL_SDL = re.compile(r"^\s*(type|schema|interface|input|enum|scalar|union|extend)\b", re.MULTILINE)


@dataclass(frozen=True, kw_only=True)
class ApiDefinition:
    format: str
    """openapi, soap or graphql."""
    url: str | None = None
    """The definition's URL (fetched by ZAP), or None for a file."""
    path: Path | None = None
    """The local file (copied into the work directory under ``work_name``)."""
    work_name: str | None = None
    """The bare name the script gets (relative to /zap/wrk)."""

    @property
    def argument(self) -> str:
        """What zap-api-scan.py gets: the URL, or the file's name in the work directory."""
        return self.url or self.work_name or ""


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def detect_format(name: str, text: str) -> str | None:
    """openapi / soap / graphql from the file name and content; None when it is none of them."""
    ext = PurePosixPath(name).suffix.lower()
    if ext in _EXT:
        return _EXT[ext]
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<"):
        # WSDL 1.1 (<definitions>) or 2.0 (<description>), in any namespace prefix.
        head = stripped[:4096]
        if re.search(r"<(\w+:)?(definitions|description)\b", head) and "wsdl" in head.lower():
            return "soap"
        return None
    try:
        doc = json.loads(stripped) if stripped.startswith("{") else yaml.safe_load(stripped)
    except (ValueError, yaml.YAMLError, RecursionError):
        doc = None
    if isinstance(doc, dict) and ("openapi" in doc or "swagger" in doc):
        return "openapi"
    if not isinstance(doc, dict | list) and _GRAPHQL_SDL.search(stripped):
        return "graphql"  # SDL is not YAML: it parses as nothing or as one plain string
    return None


def _url_format(url: str) -> str | None:
    path = urlsplit(url).path.lower()
    if path.endswith(tuple(_EXT)):
        return _EXT[PurePosixPath(path).suffix]
    if urlsplit(url).query.lower() in ("wsdl", "singlewsdl"):
        return "soap"
    if re.search(r"(openapi|swagger|api-docs)", path):
        return "openapi"
    return None


def resolve(value: str, *, explicit_format: str | None = None) -> ApiDefinition:
    """Check ``--zap-api-definition`` (and ``--zap-api-format``); ConfigError naming the problem."""
    if explicit_format is not None and explicit_format not in API_FORMATS:
        raise ConfigError(f"--zap-api-format {explicit_format!r}: expected one of {', '.join(API_FORMATS)}")
    if is_url(value):
        fmt = explicit_format or _url_format(value)
        if fmt is None:
            raise ConfigError("cannot tell the format of the ZAP API definition URL; pass --zap-api-format")
        return ApiDefinition(format=fmt, url=value)
    path = Path(value)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise ConfigError(f"ZAP API definition {value} is not a file")
        if size > MAX_BYTES:
            raise ConfigError(f"ZAP API definition {value} is larger than {MAX_BYTES // (1024 * 1024)} MB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"ZAP API definition {value} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read ZAP API definition {value}: {e}") from None
    found = detect_format(path.name, text)
    fmt = explicit_format or found
    if fmt is None:
        raise ConfigError(
            f"ZAP API definition {value} is not an OpenAPI/Swagger document, a WSDL or a GraphQL schema "
            "(pass --zap-api-format if it is one)"
        )
    if explicit_format is not None and found is not None and found != explicit_format:
        raise ConfigError(f"ZAP API definition {value} looks like {found}, not {explicit_format}")
    suffix = path.suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,10}", path.suffix.lower()) else ""
    # A fixed name: the user's file name never reaches ZAP's command line.
    return ApiDefinition(format=fmt, path=path, work_name=f"secscan-api-definition{suffix}")


def operation_paths(path: Path) -> tuple[str, ...]:
    """The path templates of an OpenAPI definition (``/payments/{paymentId}``), longest first,
    with the servers' base path prefixed; () for anything else. Used to group ZAP's alerts per
    operation instead of per concrete URL."""
    try:
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError, RecursionError):
        return ()
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
        return ()
    bases = {""}
    servers = doc.get("servers")
    if isinstance(servers, list):
        for s in servers:
            if isinstance(s, dict) and isinstance(s.get("url"), str):
                bases.add(urlsplit(s["url"]).path.rstrip("/"))
    if isinstance(doc.get("basePath"), str):  # Swagger 2
        bases.add(doc["basePath"].rstrip("/"))
    templates = {b + p for b in bases for p in doc["paths"] if isinstance(p, str) and p.startswith("/")}
    return tuple(sorted(templates, key=lambda t: (-t.count("/"), -len(t), t)))
