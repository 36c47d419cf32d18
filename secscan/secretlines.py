"""A line that holds a detected secret is shown masked by every finding that quotes it (pure).

A secret scanner knows the exact value it found; the other scanners do not. bandit's B501 on
``requests.get("https://svc:<password>@host/", verify=False)`` quotes the whole line, and so
would every report, note and dashboard that shows the B501 finding. Masking by what a value looks
like (``textsafe.redact_secret``) cannot be applied to every finding's code: it would hide code
that holds no secret. What is exact is the secret finding's own line, masked with the value the
scanner found: it replaces that line wherever another finding of the run quotes it, and the
parts it masked (found by comparing the two versions of the line) are masked in every message
and title of the run as well.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from secscan.models import Finding, Kind, Location

LineKey = tuple[str, int]
LineIndex = Mapping[LineKey, Sequence[str]]
WHOLE_LINE = "****"
"""Shown for a secret's line whose masked text is unknown (a finding with no snippet)."""
# A masked part shorter than this is not searched for in other texts: it would be a fragment
# ("=", a quote) of the diff between the two versions of a line, not a secret.
_SEARCHED_MIN = 6
# A private key is found on its BEGIN line only; its body follows on the next lines (a PEM body
# line is base64, 64 characters; a 16384-bit RSA key has fewer than 200 lines).
_KEY_BEGIN = "-----BEGI"
_KEY_LINES = 200
_KEY_BODY = re.compile(r"^[\s\"'`(,+]*(?:[A-Za-z0-9+/]{16,}={0,2}|Proc-Type:.*|DEK-Info:.*)[\s\"'`),+\\n]*$")


def secret_lines(findings: Sequence[Finding]) -> dict[LineKey, list[str]]:
    """(path, line) -> the masked versions of that line (one per secret finding or source that
    quotes it: each scanner masks what it recognises), from every secret finding in the tree as
    it is now (a secret from an earlier commit is on a line that holds other code now)."""
    index: dict[LineKey, list[str]] = {}
    for f in findings:
        if f.kind is not Kind.SECRET:
            continue
        for loc in (f.location, *(s.location for s in f.sources)):
            if loc.commit or not loc.path or not loc.start_line:
                continue
            lines = (loc.snippet or "").split("\n")
            for k in range((loc.end_line or loc.start_line) - loc.start_line + 1):
                text = lines[k] if k < len(lines) and lines[k].strip() else WHOLE_LINE
                index.setdefault((loc.path, loc.start_line + k), []).append(text)
    return index


def _masked_spans(raw: str, masked: str) -> list[tuple[int, int]]:
    """The spans of ``raw`` that ``masked`` (the same line, masked) replaced or dropped."""
    matcher = difflib.SequenceMatcher(None, raw, masked, autojunk=False)
    return [(i1, i2) for tag, i1, i2, _j1, _j2 in matcher.get_opcodes() if tag in ("replace", "delete")]


def mask_line(raw: str, versions: Sequence[str]) -> tuple[str, list[str]]:
    """``raw`` masked wherever any of the masked ``versions`` of it masked it (each scanner masks
    what it recognises: the union hides them all), and the parts of ``raw`` that were masked."""
    indent = raw[: len(raw) - len(raw.lstrip())]
    code = raw.strip()
    hidden = [False] * len(code)
    for masked in versions:
        # The scanners quote a line with or without its indentation: compare the code only.
        spans = [(0, len(code))] if masked == WHOLE_LINE else _masked_spans(code, masked.strip())
        for i1, i2 in spans:
            hidden[i1:i2] = [True] * (i2 - i1)
    out: list[str] = []
    parts: list[str] = []
    k = 0
    while k < len(code):
        j = k
        while j < len(code) and hidden[j] == hidden[k]:
            j += 1
        out.append(WHOLE_LINE if hidden[k] else code[k:j])
        if hidden[k]:
            parts.append(code[k:j])
        k = j
    return indent + "".join(out) + raw[len(indent) + len(code) :], parts


def reline(loc: Location, index: LineIndex) -> tuple[Location, list[str]]:
    """``loc`` with each quoted line that holds a secret masked as every secret finding on it
    masked it, and the parts of the code that were masked."""
    if loc.commit or not loc.path or not loc.start_line or not loc.snippet or not index:
        return loc, []
    lines = loc.snippet.split("\n")
    found: list[str] = []
    begins = _key_begins(index, loc.path)
    for k, raw in enumerate(lines):
        number = loc.start_line + k
        versions = index.get((loc.path, number))
        if versions:
            lines[k], parts = mask_line(raw, versions)
            found += parts
        elif raw.strip() and _KEY_BODY.match(raw) and any(0 < number - b <= _KEY_LINES for b in begins):
            lines[k], parts = mask_line(raw, [WHOLE_LINE])
            found += parts
    return (replace(loc, snippet="\n".join(lines)) if found else loc), found


def _key_begins(index: LineIndex, path: str) -> list[int]:
    """The lines of ``path`` where a secret finding found a private key's BEGIN line."""
    return [n for (p, n), versions in index.items() if p == path and any(_KEY_BEGIN in v for v in versions)]


def mask_parts(text: str, parts: Sequence[str]) -> str:
    """``text`` with each masked part (longest first) replaced wherever it occurs."""
    for part in parts:
        text = text.replace(part, WHOLE_LINE)
    return text


def searched(parts: Sequence[str]) -> tuple[str, ...]:
    """The masked parts worth searching other texts for, longest first."""
    keep = {p.strip() for p in parts if len(p.strip()) >= _SEARCHED_MIN}
    return tuple(sorted(keep, key=len, reverse=True))
