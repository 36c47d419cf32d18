"""GitLab suggestion blocks for inline threads: a fix the author applies in one click (pure).

A suggestion replaces the commented line of the merge request's head with the block's text
(```` ```suggestion:-0+0 ````, GitLab's "Suggest changes", every tier). Only a fix secscan can
vouch for becomes one:

- a semgrep rule with ``fix`` among secscan's own rules (``rules/semgrep``, trusted): the
  result's rendered fix must be that rule's template with each ``$VAR`` filled by text that is in
  the matched code itself, so a planted or imported result cannot put other text in the
  suggestion;
- one line, on the line the thread is on, matched from a column to a column of that line;
- no line break, backtick (a fence break), control character, leading slash (a quick action once
  shown) or masked text in the result: anything that could change other lines, or that the note's
  masking would alter, gives no suggestion (the thread still shows the fix as text).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path

from secscan.models import Finding, Kind

_METAVAR = re.compile(r"\$([A-Z_][A-Z0-9_]*)")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f`\u2028\u2029]")


@functools.cache
def trusted_fixes(folder: Path | None = None) -> Mapping[str, str]:
    """Rule id -> fix template of secscan's own semgrep rules (the shipped rules folder)."""
    import yaml

    from secscan.resources import rules_dir

    out: dict[str, str] = {}
    for path in sorted((folder or rules_dir() / "semgrep").glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for rule in doc.get("rules") or ():
            if isinstance(rule, dict) and isinstance(rule.get("fix"), str) and isinstance(rule.get("id"), str):
                out[rule["id"]] = rule["fix"].strip()
    return out


def _template_regex(template: str) -> re.Pattern[str]:
    parts = []
    pos = 0
    seen: set[str] = set()
    for m in _METAVAR.finditer(template):
        parts.append(re.escape(template[pos : m.start()]))
        name = m.group(1)
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        pos = m.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("".join(parts))


def fixed_line(f: Finding, *, line: int, fixes: Mapping[str, str] | None = None) -> str | None:
    """The head's line ``line`` with the finding's fix applied, or None when no safe one exists."""
    loc = f.location
    if f.kind is not Kind.SAST or f.scanner != "semgrep" or not f.fix:
        return None
    template = (fixes if fixes is not None else trusted_fixes()).get(f.rule_id)
    if template is None or loc.start_line != line or (loc.end_line or line) != line:
        return None
    original = loc.snippet
    if original is None or "\n" in original.rstrip("\n") or not loc.start_column or not loc.end_column:
        return None
    original = original.rstrip("\n")
    start, end = loc.start_column - 1, loc.end_column - 1
    if not 0 <= start < end <= len(original):
        return None
    matched = original[start:end]
    fix = f.fix
    m = _template_regex(template).fullmatch(fix)
    if m is None or any(value not in matched for value in m.groupdict().values()):
        return None
    new = original[:start] + fix + original[end:]
    if new == original or _UNSAFE.search(new) or new.lstrip().startswith("/") or "****" in new:
        return None
    return new


def block(new_line: str) -> str:
    """GitLab's suggestion block replacing the commented line (no line above, none below)."""
    return f"```suggestion:-0+0\n{new_line}\n```"
