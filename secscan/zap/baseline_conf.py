"""zap-baseline's rule configuration file (``-c``): one TAB-separated rule per line.

``<plugin id>\\t<LEVEL>\\t(<rule name>)[\\t<message>]`` with LEVEL one of PASS, IGNORE, INFO,
WARN, FAIL, or ``<ids>\\tOUTOFSCOPE\\t<url regex>``; ``#`` starts a comment. zap-baseline only
finds a bad line after ZAP has started (and then exits 3), so secscan checks the file first and
names the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from secscan.errors import ConfigError
from secscan.resources import rules_dir

LEVELS = ("PASS", "IGNORE", "INFO", "WARN", "FAIL")


@dataclass(frozen=True, kw_only=True)
class BaselineConfig:
    levels: tuple[tuple[str, str], ...]
    """(plugin id, level) in file order."""
    out_of_scope: tuple[tuple[str, str], ...] = ()
    """(plugin id, URL regex) pairs."""

    def level_of(self, plugin_id: str) -> str:
        """The configured level; zap-baseline treats unlisted rules as WARN."""
        return dict(self.levels).get(plugin_id, "WARN")

    def ignored(self) -> frozenset[str]:
        return frozenset(pid for pid, level in self.levels if level == "IGNORE")


def default_path() -> Path:
    return rules_dir() / "zap" / "baseline.conf"


def parse(text: str, *, source: str = "ZAP rule config") -> BaselineConfig:
    """Parse and validate; ConfigError naming the line when it would make zap-baseline fail."""
    levels: list[tuple[str, str]] = []
    scope: list[tuple[str, str]] = []
    for n, line in enumerate(text.splitlines(), start=1):
        # zap-baseline skips lines starting with '#' and lines of at most one character.
        if line.startswith("#") or len(line) <= 1:
            continue
        parts = line.rstrip().split("\t", 2)
        if len(parts) < 3:
            raise ConfigError(f"{source}, line {n}: expected TAB-separated 'id<TAB>LEVEL<TAB>(name)'")
        key, level, rest = parts
        if level == "OUTOFSCOPE":
            try:
                re.compile(rest)
            except re.error as e:
                raise ConfigError(f"{source}, line {n}: bad OUTOFSCOPE regex: {e}") from None
            scope.extend((pid.strip(), rest) for pid in key.split(","))
            continue
        if level not in LEVELS:
            raise ConfigError(f"{source}, line {n}: level {level!r} is not one of {', '.join(LEVELS)}")
        if not key.strip().lstrip("-").isdigit():
            raise ConfigError(f"{source}, line {n}: plugin id {key!r} is not a number")
        if rest.count("\t") > 1:
            raise ConfigError(f"{source}, line {n}: too many TABs (the message must not contain one)")
        levels.append((key.strip(), level))
    return BaselineConfig(levels=tuple(levels), out_of_scope=tuple(scope))


def load(path: Path) -> tuple[str, BaselineConfig]:
    """The file's text (passed to ZAP unchanged) and its parsed form."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read ZAP rule config {path}: {e}") from e
    return text, parse(text, source=str(path))
