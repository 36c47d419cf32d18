"""The scanner registry: every scanner class, keyed by its name, in a fixed order.

Everything that needs "the scanners" asks here (settings validation, ``--only``/``--skip``,
time limits, ``--changed-only``, ``secscan import --tool``, the GitLab report kinds, the pre-push
hook), so adding a scanner is one module plus one line in ``_BUILTIN`` (or :func:`register`).
"""

from __future__ import annotations

import importlib
from typing import TypeVar

from secscan.errors import ConfigError
from secscan.models import Kind
from secscan.scanners.base import Scanner

_BUILTIN: dict[str, str] = {
    "bandit": "secscan.scanners.bandit:BanditScanner",
    "semgrep": "secscan.scanners.semgrep:SemgrepScanner",
    "pip-audit": "secscan.scanners.pip_audit:PipAuditScanner",
    "zap": "secscan.scanners.zap:ZapScanner",
    "npm-audit": "secscan.scanners.npm_audit:NpmAuditScanner",
    "detect-secrets": "secscan.scanners.detect_secrets:DetectSecretsScanner",
    "tree": "secscan.scanners.tree:TreeScanner",
}
"""Name -> class, in the fixed order. Names are known without importing a backend: a run with
``--only bandit`` loads bandit's module only, not ZAP's, the advisories' or the others' (a test
checks the class's ``name`` agrees with its key)."""

_classes: dict[str, type[Scanner]] = {}
"""Loaded built-ins and classes registered by plugins and tests."""
_registered: list[str] = []

S = TypeVar("S", bound=type[Scanner])


def _builtin(name: str) -> type[Scanner]:
    if name not in _classes:
        module_name, cls_name = _BUILTIN[name].split(":")
        _classes[name] = getattr(importlib.import_module(module_name), cls_name)
    return _classes[name]


def register(cls: S) -> S:
    """Add a scanner class (a decorator; plugins and tests use it)."""
    if not getattr(cls, "name", ""):
        raise ValueError(f"{cls.__name__} has no name")
    _classes[cls.name] = cls
    if cls.name not in _BUILTIN and cls.name not in _registered:
        _registered.append(cls.name)
    return cls


def unregister(name: str) -> None:
    _classes.pop(name, None)
    if name in _registered:
        _registered.remove(name)


def names() -> tuple[str, ...]:
    """Every scanner's name, built-ins first in their fixed order; nothing is imported."""
    return (*_BUILTIN, *_registered)


def get_class(name: str) -> type[Scanner]:
    if name in _classes:
        return _classes[name]
    if name not in _BUILTIN:
        raise ConfigError(f"unknown scanner {name!r} (known: {', '.join(names())})")
    return _builtin(name)


def all_scanners() -> tuple[type[Scanner], ...]:
    """Every scanner class (imports every backend: for listings, not for a run)."""
    return tuple(get_class(n) for n in names())


def get(name: str) -> Scanner:
    """A fresh backend instance for ``name``."""
    return get_class(name)()


def produces(name: str, kind: Kind) -> bool:
    """Whether the scanner ``name`` (a known one) produces findings of ``kind``."""
    return name in names() and kind in get_class(name).kinds


def producing(kind: Kind) -> tuple[str, ...]:
    """Names of the scanners that produce findings of ``kind``."""
    return tuple(c.name for c in all_scanners() if kind in c.kinds)


def importable() -> tuple[str, ...]:
    """Tools ``secscan import --tool`` reads besides SARIF."""
    return tuple(c.name for c in all_scanners() if c.importable)


def needing_deployment() -> tuple[str, ...]:
    """Scanners the pre-push hook leaves out: those that need a running deployment."""
    return tuple(c.name for c in all_scanners() if c.needs_deployment)
