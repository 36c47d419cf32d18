"""Where the history lives: an SQLite file (the embedded default) or a PostgreSQL server.

``--db`` / ``$SECSCAN_HISTORY_DB`` take either a path (or ``sqlite:///path``) or a libpq URL
(``postgresql://user:password@host:5432/dbname``). The password is part of the URL, so every
text secscan prints about a target goes through :meth:`DbTarget.display`, which never holds it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from secscan.errors import ConfigError

DB_ENV = "SECSCAN_HISTORY_DB"
_PG_SCHEMES = ("postgresql://", "postgres://")
_SQLITE_PREFIX = "sqlite:"


@dataclass(frozen=True, kw_only=True)
class DbTarget:
    """One history database, as the operator named it."""

    kind: str
    """``sqlite`` or ``postgresql``."""
    path: Path | None = None
    """The SQLite file (``kind == "sqlite"``)."""
    url: str | None = None
    """The libpq connection URL, password included (``kind == "postgresql"``); never print it."""

    @property
    def is_postgres(self) -> bool:
        return self.kind == "postgresql"

    def password(self) -> str | None:
        """The password in the URL (percent-decoded), so error texts can be scrubbed of it."""
        if self.url is None:
            return None
        pw = urlsplit(self.url).password
        return unquote(pw) if pw else None

    def display(self) -> str:
        """The target for messages: the path, or the URL with its password replaced by ``***``."""
        if self.url is None:
            return str(self.path)
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """``postgresql://u:secret@h/db`` -> ``postgresql://u:***@h/db`` (query ``password=`` too)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{host}"
    query = re.sub(r"(?i)(^|&)(password)=[^&]*", r"\1\2=***", parts.query)
    # Built by hand: urlunsplit would drop the empty host of postgresql:///db (the local socket).
    out = f"{parts.scheme}://{netloc}{parts.path}"
    return out + (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def scrub(text: str, target: DbTarget) -> str:
    """``text`` with the target's password (raw and percent-encoded) and full URL removed."""
    if target.url:
        text = text.replace(target.url, target.display())
    pw = target.password()
    if pw:
        text = text.replace(pw, "***")
        raw = urlsplit(target.url or "").password
        if raw and raw != pw:
            text = text.replace(raw, "***")
    return text


def parse_target(value: str) -> DbTarget:
    """A ``--db`` value as a target; ConfigError when it is empty or not a usable URL."""
    value = value.strip()
    if not value:
        raise ConfigError("the history database is empty (give a path or a postgresql:// URL)")
    lowered = value.lower()
    if lowered.startswith(_PG_SCHEMES):
        # libpq decides the rest (postgresql:///db is the local socket); its errors are clear.
        return DbTarget(kind="postgresql", url=value)
    if lowered.startswith(_SQLITE_PREFIX):
        rest = value[len(_SQLITE_PREFIX) :]
        # sqlite:///abs/path and sqlite:relative/path both name a file.
        rest = rest[2:] if rest.startswith("//") else rest
        if not rest:
            raise ConfigError("history database sqlite: names no file")
        return DbTarget(kind="sqlite", path=Path(rest))
    if "://" in value:
        scheme = value.split("://", 1)[0]
        raise ConfigError(f"history database: unsupported scheme {scheme!r} (use a path or postgresql://)")
    return DbTarget(kind="sqlite", path=Path(value))


def default_target(env: Mapping[str, str]) -> DbTarget:
    """``$SECSCAN_HISTORY_DB``, else ``history.sqlite3`` in the user's data directory."""
    configured = env.get(DB_ENV, "")
    if configured.strip():
        return parse_target(configured)
    import platformdirs

    return DbTarget(
        kind="sqlite", path=Path(platformdirs.user_data_dir("secscan", appauthor=False)) / "history.sqlite3"
    )


def resolve(value: str | None, env: Mapping[str, str]) -> DbTarget:
    """``--db`` when given, else the default from the environment."""
    return parse_target(value) if value is not None else default_target(env)
