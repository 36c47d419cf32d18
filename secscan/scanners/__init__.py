"""Scanner registry: one module per backend, keyed by :class:`ScannerName`.

Backends are imported lazily so that running one scanner (or none) never imports the others.
"""

from __future__ import annotations

import importlib

from secscan.scanners.base import Scanner, ScannerName

_BACKENDS: dict[ScannerName, str] = {
    ScannerName.BANDIT: "secscan.scanners.bandit:BanditScanner",
    ScannerName.SEMGREP: "secscan.scanners.semgrep:SemgrepScanner",
    ScannerName.PIP_AUDIT: "secscan.scanners.pip_audit:PipAuditScanner",
    ScannerName.ZAP: "secscan.scanners.zap:ZapScanner",
    # issue 19 (js): lockfile audit, in-process against the offline OSV store.
    ScannerName.NPM_AUDIT: "secscan.scanners.npm_audit:NpmAuditScanner",
}


def get(name: ScannerName | str) -> Scanner:
    """A fresh scanner backend for ``name``."""
    key = ScannerName(name)
    module_name, cls_name = _BACKENDS[key].split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    scanner = cls()
    assert isinstance(scanner, Scanner)
    return scanner


def names() -> tuple[ScannerName, ...]:
    return tuple(_BACKENDS)
