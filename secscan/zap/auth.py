"""Authenticated ZAP scans without a secret on any command line or in any report.

* A header (``--zap-auth-header NAME``): its value is read from an environment variable
  (``--zap-auth-header-env VAR``, default ``ZAP_AUTH_HEADER_VALUE``) and handed to ZAP through
  ZAP's own environment variables ``ZAP_AUTH_HEADER`` / ``ZAP_AUTH_HEADER_VALUE`` /
  ``ZAP_AUTH_HEADER_SITE``, which ZAP adds to every request to that site (never to others).
* A ZAP context file (``--zap-context FILE``, ``--zap-user NAME``) for form, JSON or script
  logins: ``-n``/``-U`` of the packaged scans. The file (which holds the user's credentials) is
  copied into the private work directory and removed with it.

``mask`` removes the header value from every text secscan keeps: ZAP's log, the findings
(the "plus" reports echo request headers) and error messages.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, TypeVar
from xml.etree import ElementTree

from secscan.errors import ConfigError

DEFAULT_VALUE_ENV = "ZAP_AUTH_HEADER_VALUE"
MASK = "***"
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an RFC 9110 token
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class AuthHeader:
    name: str
    value: str
    site: str
    """ZAP_AUTH_HEADER_SITE: the header only goes to URLs containing this (the target's host)."""

    def container_env(self) -> dict[str, str]:
        return {"ZAP_AUTH_HEADER": self.name, "ZAP_AUTH_HEADER_VALUE": self.value, "ZAP_AUTH_HEADER_SITE": self.site}

    def __repr__(self) -> str:  # never print the value, even in a debug traceback
        return f"AuthHeader(name={self.name!r}, value='***', site={self.site!r})"


def auth_header(name: str | None, value_env: str | None, env: Mapping[str, str], site: str) -> AuthHeader | None:
    """The header to send, or None; ConfigError when it is asked for but unusable."""
    if not name:
        return None
    if not _HEADER_NAME.match(name):
        raise ConfigError(f"--zap-auth-header {name!r} is not a valid HTTP header name")
    var = value_env or DEFAULT_VALUE_ENV
    if not _ENV_NAME.match(var):
        raise ConfigError(f"--zap-auth-header-env {var!r} is not an environment variable name")
    value = env.get(var, "")
    if not value:
        raise ConfigError(
            f"--zap-auth-header {name} needs its value in the environment variable {var} (unset or empty)"
        )
    if "\n" in value or "\r" in value:
        raise ConfigError(f"the value of {var} contains a line break (not a valid header value)")
    return AuthHeader(name=name, value=value, site=site)


def load_context(path: Path, user: str | None) -> bytes:
    """The context file's bytes after checking it is a ZAP context (and has ``user``)."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read ZAP context file {path}: {e.strerror or e}") from None
    if re.search(rb"<!(DOCTYPE|ENTITY)", data, re.IGNORECASE):
        raise ConfigError(f"ZAP context file {path} contains a DTD or entity declaration")
    try:
        root = ElementTree.fromstring(data)  # noqa: S314 - DTDs refused above
    except ElementTree.ParseError as e:
        raise ConfigError(f"ZAP context file {path} is not well-formed XML: {e}") from None
    ctx = root.find("context")
    if root.tag != "configuration" or ctx is None or not (ctx.findtext("name") or "").strip():
        raise ConfigError(f"ZAP context file {path} is not a ZAP context (expected <configuration><context><name>)")
    if user is not None and user not in context_users(ctx):
        raise ConfigError(f"ZAP context file {path} defines no user {user!r}")
    return data


def context_users(ctx: ElementTree.Element) -> tuple[str, ...]:
    """User names of a context: ``<users><user>ID;ENABLED;BASE64(NAME);...</user>``."""

    names = []
    for u in ctx.iterfind("users/user"):
        parts = (u.text or "").split(";")
        if len(parts) >= 3:
            try:
                names.append(base64.b64decode(parts[2], validate=True).decode("utf-8"))
            except (binascii.Error, UnicodeDecodeError):
                continue
    return tuple(names)


def mask(obj: T, secrets: tuple[str, ...]) -> T:
    """``obj`` (a str, or a frozen dataclass / tuple / dict tree of them) with every secret
    replaced by ``***``."""
    secrets = tuple(s for s in secrets if s)
    if not secrets:
        return obj
    return _mask(obj, secrets)


def _mask(obj: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(obj, str):
        if type(obj) is not str:
            return obj  # an enum member (severity, kind...): a fixed value, never a secret
        for s in secrets:
            obj = obj.replace(s, MASK)
        return obj
    if isinstance(obj, tuple):
        return tuple(_mask(o, secrets) for o in obj)
    if isinstance(obj, list):
        return [_mask(o, secrets) for o in obj]
    if isinstance(obj, dict):
        return {_mask(k, secrets): _mask(v, secrets) for k, v in obj.items()}
    if is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: _mask(getattr(obj, f.name), secrets) for f in fields(obj) if f.init}
        return replace(obj, **changes)
    return obj
