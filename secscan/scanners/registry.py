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

_BUILTIN: tuple[str, ...] = (
    "secscan.scanners.bandit:BanditScanner",
    "secscan.scanners.semgrep:SemgrepScanner",
    "secscan.scanners.pip_audit:PipAuditScanner",
    "secscan.scanners.zap:ZapScanner",
    "secscan.scanners.npm_audit:NpmAuditScanner",
    "secscan.scanners.detect_secrets:DetectSecretsScanner",
    "secscan.scanners.tree:TreeScanner",
)

_classes: dict[str, type[Scanner]] = {}
_state = {"loaded": False}

S = TypeVar("S", bound=type[Scanner])


def _load() -> dict[str, type[Scanner]]:
    if not _state["loaded"]:
        builtin: dict[str, type[Scanner]] = {}
        for target in _BUILTIN:
            module_name, cls_name = target.split(":")
            cls = getattr(importlib.import_module(module_name), cls_name)
            builtin[cls.name] = cls
        # Built-ins first, in their fixed order; classes registered before loading keep theirs after.
        _classes.update({**builtin, **{k: v for k, v in _classes.items() if k not in builtin}})
        _state["loaded"] = True
    return _classes


def register(cls: S) -> S:
    """Add a scanner class (a decorator; plugins and tests use it)."""
    _load()
    if not getattr(cls, "name", ""):
        raise ValueError(f"{cls.__name__} has no name")
    _classes[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    _load().pop(name, None)


def all_scanners() -> tuple[type[Scanner], ...]:
    return tuple(_load().values())


def names() -> tuple[str, ...]:
    return tuple(_load())


def get_class(name: str) -> type[Scanner]:
    classes = _load()
    if name not in classes:
        raise ConfigError(f"unknown scanner {name!r} (known: {', '.join(classes)})")
    return classes[name]


def get(name: str) -> Scanner:
    """A fresh backend instance for ``name``."""
    return get_class(name)()


def producing(kind: Kind) -> tuple[str, ...]:
    """Names of the scanners that produce findings of ``kind``."""
    return tuple(n for n, c in _load().items() if kind in c.kinds)


def importable() -> tuple[str, ...]:
    """Tools ``secscan import --tool`` reads besides SARIF."""
    return tuple(n for n, c in _load().items() if c.importable)


def needing_deployment() -> tuple[str, ...]:
    """Scanners the pre-push hook leaves out: those that need a running deployment."""
    return tuple(n for n, c in _load().items() if c.needs_deployment)
