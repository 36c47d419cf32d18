"""Did the imported scan complete? What a report says about its own run (pure).

An incomplete scan must not import as a clean one (the gate fails closed on a failed scanner). The
tools' own parsers say which files a report could not scan (``Parsed.incomplete``: bandit's
``errors``, semgrep's file errors of every type and level and its ``paths.skipped``), the same
parse for a live run and an import; SARIF's own signals are read in
:mod:`secscan.importers.sarif`. Here: which paths lie outside the root.
"""

from __future__ import annotations

from collections.abc import Iterable

from secscan.importers.paths import is_absolute
from secscan.models import Finding


def outside_paths(findings: Iterable[Finding]) -> list[str]:
    """Absolute (or ``../``) paths among the findings' locations, once each, in order."""
    out: dict[str, None] = {}
    for f in findings:
        for loc in (f.location, *f.other_locations, *f.related_locations):
            p = loc.path
            if p and (is_absolute(p) or p == ".." or p.startswith("../")):
                out.setdefault(p, None)
    return list(out)
