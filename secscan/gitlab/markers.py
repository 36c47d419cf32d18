"""Hidden markers: how secscan finds its own notes and threads again (pure).

A marker is an HTML comment on the *first line* of a note we wrote. Only the first line counts, so
a snippet quoted further down (attacker-controlled text) can never pass for a marker, and only
notes authored by the token's own user are considered at all (see :mod:`secscan.gitlab.publish`).
"""

from __future__ import annotations

import hashlib
import re

from secscan.models import Finding

_SAFE_KEY = re.compile(r"^[A-Za-z0-9:._-]{1,128}$")
_SUMMARY = re.compile(r"^<!-- secscan:summary report=([A-Za-z0-9._-]{1,64}) -->\s*$")
_THREAD = re.compile(r"^<!-- secscan:finding report=([A-Za-z0-9._-]{1,64}) fp=([A-Za-z0-9:._-]{1,128}) -->\s*$")
_REPLY = re.compile(
    r"^<!-- secscan:reply report=([A-Za-z0-9._-]{1,64}) fp=([A-Za-z0-9:._-]{1,128}) kind=([a-z]{1,16}) -->\s*$"
)
_SUPERSEDED = re.compile(r"^<!-- secscan:superseded report=([A-Za-z0-9._-]{1,64}) -->\s*$")
_STATE = re.compile(r"^<!-- secscan:unplaced head=([0-9a-fA-F]{7,64}) fps=([A-Za-z0-9:._,-]*) -->\s*$", re.M)


def finding_key(f: Finding) -> str:
    """The finding's identity in markers: its fingerprint, made marker-safe.

    Fingerprints come from :mod:`secscan.fingerprint` (``v1:<hex>``). An unexpected shape is hashed
    rather than embedded (it must not be able to close the comment); a finding without one falls
    back to a hash of rule and place, so it still gets exactly one thread.
    """
    fp = f.fingerprint
    if fp and _SAFE_KEY.match(fp):
        return fp
    seed = fp or "\0".join(
        [f.scanner, f.rule_id, f.location.path or "", str(f.location.start_line or ""), f.location.url or ""]
    )
    return "x:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:40]


def pin_key(manifest: str, package: str, version: str) -> str:
    """The key of the one thread on a dependency pin (every advisory reported for the pinned
    version is discussed there): stable while the pin stays, gone when the version moves."""
    seed = "\0".join([manifest.lstrip("/"), package.lower().replace("_", "-").replace(".", "-"), version])
    return "pin:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:40]


def summary_marker(report: str) -> str:
    return f"<!-- secscan:summary report={report} -->"


def thread_marker(report: str, key: str) -> str:
    return f"<!-- secscan:finding report={report} fp={key} -->"


def reply_marker(report: str, key: str, kind: str) -> str:
    """First line of a reply secscan posts in one of its threads (``resolved``, ``duplicate``): it
    lets a re-run (or a retry whose answer was lost) see that the reply is already there."""
    return f"<!-- secscan:reply report={report} fp={key} kind={kind} -->"


def superseded_marker(report: str) -> str:
    """First line of a summary note that was emptied because another one is kept (not a summary any more)."""
    return f"<!-- secscan:superseded report={report} -->"


def is_reply(body: str, report: str, key: str, kind: str) -> bool:
    m = _REPLY.match(_first_line(body))
    return m is not None and (m.group(1), m.group(2), m.group(3)) == (report, key, kind)


def is_superseded(body: str, report: str) -> bool:
    m = _SUPERSEDED.match(_first_line(body))
    return m is not None and m.group(1) == report


def _first_line(body: str) -> str:
    return body.replace("\r\n", "\n").split("\n", 1)[0]


def is_summary(body: str, report: str) -> bool:
    m = _SUMMARY.match(_first_line(body))
    return m is not None and m.group(1) == report


def thread_key(body: str, report: str) -> str | None:
    """The finding key of one of our threads for ``report`` (None if the body is not one)."""
    m = _THREAD.match(_first_line(body))
    return m.group(2) if m is not None and m.group(1) == report else None


def state_marker(head_sha: str, keys: list[str]) -> str:
    """Remembered in the summary: positions GitLab rejected for this head commit (not retried)."""
    return f"<!-- secscan:unplaced head={head_sha} fps={','.join(sorted(set(keys)))} -->"


def read_state(body: str, head_sha: str) -> frozenset[str]:
    """Keys whose positions were rejected for ``head_sha`` (empty for another head)."""
    for m in _STATE.finditer(body.replace("\r\n", "\n")):
        if m.group(1) == head_sha:
            return frozenset(k for k in m.group(2).split(",") if k)
    return frozenset()


def same_body(a: str, b: str) -> bool:
    """Equal after GitLab's normalizations (``\\r\\n`` from the web editor, trailing whitespace)."""

    def norm(s: str) -> str:
        return "\n".join(line.rstrip() for line in s.replace("\r\n", "\n").strip().split("\n"))

    return norm(a) == norm(b)
