"""The ZAP target URL: validated, and checked for reachability before any container starts.

An unreachable target otherwise costs a container start, ZAP's start-up (tens of seconds) and
ends in "No URLs found" with exit 3; a TCP connect says the same in milliseconds.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit, urlunsplit

from secscan.errors import ConfigError, ScannerError


class TargetUnreachable(ScannerError):
    """The target did not accept a TCP connection."""


def redact(url: str) -> str:
    """The URL without user:password (never echo credentials into logs or reports)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def host_port(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL; ConfigError for anything zap-baseline would refuse."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise ConfigError(f"ZAP target {redact(url)!r} is not a valid URL: {e}") from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"ZAP target {redact(url)!r} must start with http:// or https://")
    if not parts.hostname:
        raise ConfigError(f"ZAP target {redact(url)!r} has no host")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_reachable(url: str, *, timeout: float = 5.0) -> None:
    """Raise TargetUnreachable unless the target's host:port accepts a TCP connection."""
    host, port = host_port(url)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except TimeoutError:
        raise TargetUnreachable(f"ZAP target {redact(url)} is unreachable: no answer within {timeout:g}s") from None
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise TargetUnreachable(f"ZAP target {redact(url)} is unreachable: {reason}") from None
