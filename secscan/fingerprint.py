"""Finding fingerprints.

OWNER: [triage] issue, which replaces this with the documented, versioned v1 algorithm.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import replace

from secscan.models import Finding
from secscan.sourcefiles import SourceTree


def assign(findings: Sequence[Finding], *, tree: SourceTree) -> list[Finding]:
    """Return the findings with ``fingerprint`` set."""
    out = []
    for f in findings:
        loc = f.location
        key = "|".join(str(x) for x in (f.kind.value, f.rule_id, loc.path, loc.package, loc.url, loc.snippet))
        out.append(replace(f, fingerprint="v0:" + hashlib.sha256(key.encode()).hexdigest()[:32]))
    return out
