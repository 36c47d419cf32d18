"""npm version strings -> SemVer 2.0 values (pure), ordered by ``semantic_version``.

npm versions are SemVer: precedence (prereleases before their release, numeric identifiers
compared as numbers) comes from the maintained ``semantic_version`` library, never from our own
comparison code. Three forms besides strict SemVer are accepted because real data has them:

- ``v1.2.3`` / ``=1.2.3``: node-semver's loose spellings (old lockfiles and advisories);
- ``1.0`` / ``1``: a partial version in an advisory bound (GHSA-r683-j2x4-v87g has
  ``introduced: "1.0"``), read as ``1.0.0`` / ``1.0.0`` like ``semver.coerce`` does;
- build metadata (``1.0.0+abc``) is dropped: SemVer gives builds no precedence, and
  ``semantic_version`` leaves two builds of one release unordered, so ``1.0.0+x`` would
  otherwise escape a ``last_affected: 1.0.0`` bound.
"""

from __future__ import annotations

import re

from semantic_version import Version as SemVer

_PARTIAL = re.compile(r"^\d+(\.\d+)?$")


def parse_npm_version(value: str) -> SemVer | None:
    """The SemVer value of an npm version string, or None when it is not one."""
    text = value.strip()
    if text[:1] in ("v", "="):
        text = text[1:].strip()
    try:
        parsed = SemVer(text)
    except ValueError:
        if not _PARTIAL.match(text):
            return None
        parsed = SemVer.coerce(text)
    return parsed.truncate("prerelease") if parsed.build else parsed
