"""GitLab suggestion blocks for inline threads: a fix the author applies in one click (pure).

A suggestion replaces the commented line of the merge request's head with the block's text
(```` ```suggestion:-0+0 ````, GitLab's "Suggest changes", every tier). Only a fix secscan can
vouch for becomes one:

- a semgrep rule with ``fix`` among secscan's own rules (``rules/semgrep``, trusted): the
  result's rendered fix must be that rule's template with each ``$VAR`` filled by text that is in
  the matched code itself, so a planted or imported result cannot put other text in the
  suggestion;
- one line, on the line the thread is on, matched from a column to a column of that line;
- a dependency pinned on a line the merge request added (``name==1.0`` in a requirements file,
  ``"name": "1.0"`` in package.json) at the vulnerable version: the pin moves to the lowest fixed
  version above it, nothing else on the line changes;
- no line break, backtick (a fence break), control character, leading slash (a quick action once
  shown) or masked text in the result: anything that could change other lines, or that the note's
  masking would alter, gives no suggestion (the thread still shows the fix as text).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from secscan.models import Finding, Kind
from secscan.resources import rules_dir

_METAVAR = re.compile(r"\$([A-Z_][A-Z0-9_]*)")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f`\u2028\u2029]")


@functools.cache
def trusted_fixes(folder: Path | None = None) -> Mapping[str, str]:
    """Rule id -> fix template of secscan's own semgrep rules (the shipped rules folder)."""
    import yaml

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


def fixed_line(
    f: Finding,
    *,
    line: int,
    text: str | None = None,
    path: str | None = None,
    fixes: Mapping[str, str] | None = None,
    target: str | None = None,
) -> str | None:
    """The head's line ``line`` of ``path`` (``text``: as the diff shows it) with the finding's
    fix applied (a dependency: moved to ``target``), or None when no safe one exists."""
    if f.kind is Kind.DEPENDENCY:
        return bumped_pin(f, text, path, target) if text is not None and path is not None else None
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


# ------------------------------------------------------------------ dependency pins

_VERSION = re.compile(r"^[0-9][0-9A-Za-z.+\-]{0,63}$")
_PIP_NAME = re.compile(r"[-_.]+")


def _pip_name(name: str) -> str:
    return _PIP_NAME.sub("-", name).lower()


def _requirement_pin(line: str, package: str, version: str) -> re.Match[str] | None:
    """``name==version`` (extras, an environment marker and a comment allowed) pinning ``package``."""
    m = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*===?\s*([^\s;#,]+)\s*(;[^#]*)?(#.*)?$", line)
    if m is None or _pip_name(m.group(1)) != _pip_name(package) or m.group(3) != version:
        return None
    return m


def _package_json_pin(line: str, package: str, version: str) -> re.Match[str] | None:
    """``"name": "version"`` (an exact pin, optionally ``=``-prefixed) in a package.json line."""
    m = re.match(r'^\s*"([^"]+)"\s*:\s*"=?v?([^"]+)"\s*,?\s*$', line)
    if m is None or m.group(1) != package or m.group(2) != version:
        return None
    return m


_NPM_LOCKS = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "package.json")


def pin_files(f: Finding) -> tuple[str, ...]:
    """The manifests where the finding's package may be pinned by hand: the requirements file
    itself; for an npm lockfile, the package.json next to it (direct dependencies only)."""
    path = f.location.path or ""
    folder, _, name = path.rpartition("/")
    if name in _NPM_LOCKS:
        return (f"{folder}/package.json" if folder else "package.json",)
    if name.endswith((".txt", ".in")):
        return (path,)
    return ()


def pin_matches(f: Finding, line: str, manifest: str) -> bool:
    """Whether ``line`` of ``manifest`` pins the finding's package at its vulnerable version."""
    return _pin(f, line, manifest) is not None


def _pin(f: Finding, line: str, manifest: str) -> tuple[re.Match[str], int] | None:
    """The pin's match and the group holding its version."""
    loc = f.location
    if f.kind is not Kind.DEPENDENCY or not loc.package or not loc.version:
        return None
    if manifest.rsplit("/", 1)[-1] == "package.json":
        m = _package_json_pin(line, loc.package, loc.version)
        return (m, 2) if m else None
    m = _requirement_pin(line, loc.package, loc.version)
    return (m, 3) if m else None


def fixed_version(f: Finding) -> str | None:
    """The lowest fixed version above the pinned one (advisory data, validated as a version)."""
    from packaging.version import InvalidVersion, Version

    current = f.location.version or ""
    try:
        now = Version(current)
        candidates = sorted((Version(v), v) for v in f.fixed_versions if _VERSION.match(v) and Version(v) > now)
    except InvalidVersion:
        return None
    return candidates[0][1] if candidates else None


def common_targets(findings: Iterable[Finding]) -> dict[tuple[str, str], str]:
    """(package, version) -> the version to move to: for each advisory the lowest fixed version
    above the pin, and of those the highest, so one click fixes every advisory reported for it."""
    from packaging.version import Version

    out: dict[tuple[str, str], str] = {}
    for f in findings:
        if f.kind is not Kind.DEPENDENCY or not f.location.package or not f.location.version:
            continue
        key = (_pip_name(f.location.package), f.location.version)
        own = fixed_version(f)
        if own is not None and (key not in out or Version(own) > Version(out[key])):
            out[key] = own
    return out


def target_for(f: Finding, targets: Mapping[tuple[str, str], str]) -> str | None:
    if not f.location.package or not f.location.version:
        return None
    return targets.get((_pip_name(f.location.package), f.location.version))


def bumped_pin(f: Finding, line: str, manifest: str, target: str | None = None) -> str | None:
    """``line`` of ``manifest`` with the vulnerable pinned version replaced by ``target`` (else
    the finding's own lowest fixed version)."""
    found = _pin(f, line, manifest)
    target = target or fixed_version(f)
    if found is None or target is None:
        return None
    # The version field of the pin, as the pattern that matched it found it: nothing else moves.
    m, group = found
    new = line[: m.start(group)] + target + line[m.end(group) :]
    if _UNSAFE.search(new) or new.lstrip().startswith("/"):
        return None
    return new


def block(new_line: str) -> str:
    """GitLab's suggestion block replacing the commented line (no line above, none below)."""
    return f"```suggestion:-0+0\n{new_line}\n```"
