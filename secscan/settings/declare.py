"""What a setting is: one typed declaration (flag, environment name, file key, whether it decides
the verdict, help), and where an effective value came from.

This is the bottom of the settings layer: it imports no other part of secscan, so scanners,
commands and the resolver can all read declarations without pulling each other in.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, get_args, get_origin


class _Unset(enum.Enum):
    """ "Not set by anyone": a state of its own, never confused with a default value (a
    ``--timeout zap=1800`` equal to some default is still *set*)."""

    UNSET = "unset"

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset.UNSET
Unset = _Unset


class Layer(enum.StrEnum):
    """Where a value came from, lowest first: each later layer overrides the earlier ones."""

    DEFAULT = "default"
    FILE = "file"
    """The project's settings file, as it is in the tree (no diff base)."""
    FILE_BASE = "file at merge base"
    """The project's settings file as merged (a merge request's own changes are pending)."""
    ENV = "env"
    FLAG = "flag"


@dataclass(frozen=True, kw_only=True)
class Sourced:
    """An effective value and the layer it came from."""

    value: Any
    """The coerced value, or :data:`UNSET`."""
    layer: Layer = Layer.DEFAULT
    where: str = ""
    """The file, variable or option that gave it (``.secscan.toml at 1a2b3c (merge base)``,
    ``SECSCAN_SKIP``, ``--skip``); empty for defaults."""


@dataclass(frozen=True, kw_only=True)
class Setting:
    """One setting, declared once; click options, accepted file keys, ``SECSCAN_*`` names, the
    README table and ``secscan config show`` are generated from these."""

    key: str
    """The name in ``[tool.secscan]`` and in code (``zap_mode``)."""
    type: Any
    """What the value is converted to with msgspec (``int``, ``bool``, ``tuple[str, ...]``,
    ``Path``, ``dict[str, float]``, an ``Annotated`` type with constraints)."""
    help: str
    default: Any = UNSET
    """Shown in help and the README; :data:`UNSET` means "not set" is the default state and
    the consumer decides what that means (e.g. a scanner's own time limit for its mode)."""
    commands: frozenset[str] = frozenset()
    """Commands offering it as an option (empty: not an option, e.g. the GitLab token)."""
    flags: tuple[str, ...] = ()
    """Option names; empty: ``--<key with dashes>``."""
    off_flag: str | None = None
    """Booleans: the name that sets it false (default ``--no-<name>``; ``""``: none, a plain flag)."""
    off_aliases: tuple[str, ...] = ()
    """Booleans: old spellings of the off flag, accepted but not shown (``--fail-open``)."""
    aliases: tuple[str, ...] = ()
    """Old spellings of the option, accepted but not shown (``report --output``)."""
    metavar: str | None = None
    env: tuple[str, ...] = ()
    """Environment variables, first non-empty wins (``SECSCAN_*`` ones, then GitLab's ``CI_*``)."""
    env_family: str | None = None
    """A prefix naming one variable per scanner (``SECSCAN_TIMEOUT_`` + ``SEMGREP``)."""
    file: bool = False
    """Accepted as a ``[tool.secscan]`` / ``.secscan.toml`` key."""
    verdict: bool = False
    """Decides the verdict (what is scanned, how findings are triaged and gated): read from the
    trusted side when a diff base is known."""
    joined: bool = False
    """A string built from a repeatable option joined with spaces (``--zap-option``)."""
    verbatim: bool = False
    """Lists: each repeated option is one item as typed (not split at commas: ``--scan-arg``)."""
    hidden: bool = False
    """An option not shown in help (what a generated script passes)."""
    required: bool = False
    secret: bool = False
    """Never an option, never shown (a token)."""
    helps: Mapping[str, str] = field(default_factory=dict)
    """Per-command help where the command gives the setting a particular meaning."""

    @property
    def names(self) -> tuple[str, ...]:
        return self.flags or ("--" + self.key.replace("_", "-"),)

    @property
    def long(self) -> str:
        return next(n for n in self.names if n.startswith("--"))

    @property
    def is_bool(self) -> bool:
        return _bare(self.type) is bool

    @property
    def is_list(self) -> bool:
        return get_origin(_bare(self.type)) in (tuple, list)

    @property
    def is_table(self) -> bool:
        return get_origin(_bare(self.type)) is dict

    @property
    def is_path(self) -> bool:
        return _bare(self.type) is Path

    @property
    def repeatable(self) -> bool:
        return self.is_list or self.is_table or self.joined

    def off(self) -> str | None:
        if not self.is_bool:
            return None
        if self.off_flag == "":
            return None
        return self.off_flag or "--no-" + self.long[2:]

    def help_for(self, command: str) -> str:
        return self.helps.get(command, self.help)


def _bare(tp: Any) -> Any:
    """``Annotated[int, Meta(ge=0)]`` -> ``int``."""
    if hasattr(tp, "__metadata__"):
        return get_args(tp)[0]
    return tp
