"""The settings of a scan as one typed value, :class:`ScanConfig`, combined from layers:
defaults < ``[tool.secscan]`` (pyproject.toml) or ``.secscan.toml`` < ``SECSCAN_*`` environment
variables < command-line flags.

What a setting is (its type, option, variable, file key, help, whether it decides the verdict)
is declared once in :mod:`secscan.settings.catalog`, for every command; this module adds what
only a scan knows: the scanner registry (names, per-scanner time limits) and the checks of the
values together. A test keeps :class:`ScanConfig`'s fields equal to the scan declarations.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from secscan import pathmatch, settings
from secscan.errors import ConfigError
from secscan.settings import UNSET, Effective, Layer, Raw
from secscan.settings.catalog import SCAN_SETTINGS, by_key
from secscan.settings.layers import SETTINGS_FILES, read_file_settings, settings_table

__all__ = ["SETTINGS_FILES", "Layers", "ScanConfig", "combine", "load", "read_file_settings", "settings_table"]

SPECS = by_key(SCAN_SETTINGS)
"""The scan's settings by key (the ``[tool.secscan]`` keys)."""


def _d(key: str) -> Any:
    """The declared default, or None for "unset" (a field's value for no value)."""
    default = SPECS[key].default
    return None if default is UNSET else default


@dataclass(frozen=True, kw_only=True)
class ScanConfig:
    """Everything one `secscan scan` needs to know (see README, "Configuration"); each field is
    the setting of the same name in :mod:`secscan.settings.catalog` (its help is there)."""

    target: Path = Path(".")
    """The project tree to scan (the command's PATH argument, not a setting)."""
    out_dir: Path = _d("out_dir")  # noqa: RUF009 (a constant: the declared default, read once)
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    timeouts: Mapping[str, float] = field(default_factory=dict)
    """Only the limits someone set: a scanner missing here uses its own limit for its mode."""
    semgrep_rules: tuple[str, ...] = ()
    semgrep_builtin_rules: bool = _d("semgrep_builtin_rules")
    exclude: tuple[str, ...] = ()
    test_paths: tuple[str, ...] = _d("test_paths")
    production_only_rules: tuple[str, ...] = _d("production_only_rules")
    scan_all_test_code: bool = _d("scan_all_test_code")
    requirements: tuple[str, ...] = ()
    audit_installed: bool = _d("audit_installed")
    advisory_db: Path | None = None
    osv_url: str | None = None
    zap_target: str | None = None
    zap_image: str = _d("zap_image")
    zap_pull: bool = _d("zap_pull")
    zap_minutes: int | None = None
    zap_options: str = ""
    zap_config: Path | None = None
    zap_mode: str | None = None
    zap_api_definition: str | None = None
    zap_api_format: str | None = None
    zap_auth_header: str | None = None
    zap_auth_header_env: str | None = None
    zap_context: Path | None = None
    zap_user: str | None = None
    baseline: Path | None = None
    diff_base: str | None = None
    changed_only: bool = _d("changed_only")
    secrets_history: str | None = None
    suppressions: Path | None = None
    policy: Path | None = None
    formats: tuple[str, ...] = ()
    publish: bool = _d("publish")
    require_publish: bool = _d("require_publish")
    fail_closed: bool | None = None
    """None: the policy's fail_closed."""
    verbose: bool = _d("verbose")
    heartbeat: float = _d("heartbeat")
    jobs: int = _d("jobs")
    cache: bool = _d("cache")
    cache_dir: Path | None = None
    shard: str | None = None

    def shard_of(self) -> tuple[int, int] | None:
        """``(k, n)`` of --shard K/N (1 <= k <= n), or None."""
        if not self.shard:
            return None
        k, _, n = self.shard.partition("/")
        return int(k), int(n)

    def selected_scanners(self) -> tuple[str, ...]:
        """Scanners to run, in registry order. Scanners that need a target (ZAP) run only with one."""
        from secscan.scanners import registry

        if self.only:
            # Names only: a run with --only bandit imports bandit's backend, not every one.
            return tuple(n for n in registry.names() if n in self.only and n not in self.skip)
        known = registry.all_scanners()
        base = tuple(s.name for s in known if s.enabled_by_default(self))
        return tuple(s.name for s in known if s.name in base and s.name not in self.skip)

    def timeout_for(self, scanner: str) -> float:
        """The limit someone set, else the scanner's own (ZAP's depends on its mode, see
        secscan/zap/settings.py, which reads :attr:`timeouts` itself)."""
        from secscan.scanners import registry

        if scanner in self.timeouts:
            return float(self.timeouts[scanner])
        return registry.get_class(scanner).default_timeout


def validate(cfg: ScanConfig) -> ScanConfig:
    """Checks of the values themselves; files are read and checked by :mod:`secscan.inputs`."""
    from secscan.scanners import registry

    _check_scanner_names(cfg, registry.names())
    if cfg.shard:
        k, sep, n = cfg.shard.partition("/")
        if not (sep and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
            raise ConfigError(f"shard {cfg.shard!r}: expected K/N with 1 <= K <= N, e.g. 2/4")
    try:  # an exclude that can never match is a typo: said now, not by files scanned anyway
        pathmatch.check(cfg.exclude)
    except ValueError as e:
        raise ConfigError(f"exclude: {e}") from None
    if not cfg.target.is_dir():
        raise ConfigError(f"scan target {cfg.target} is not a directory")
    for name in cfg.only:
        registry.get_class(name).check_selected(cfg)
    if cfg.zap_target:
        _check_zap_target(cfg)
    if cfg.changed_only and not cfg.diff_base:
        raise ConfigError(
            "--changed-only needs --diff-base REF (or CI_MERGE_REQUEST_DIFF_BASE_SHA in a merge request pipeline)"
        )
    return cfg


def _check_scanner_names(cfg: ScanConfig, known: tuple[str, ...]) -> None:
    for name in (*cfg.only, *cfg.skip, *cfg.timeouts):
        if name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            extra = f"did you mean {hint[0]!r}? " if hint else ""
            raise ConfigError(f"unknown scanner {name!r} ({extra}known: {', '.join(known)})")


def _check_zap_target(cfg: ScanConfig) -> None:

    parts = urlsplit(cfg.zap_target or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # Never echo the URL itself: it may carry credentials.
        raise ConfigError("--zap-target must be an http:// or https:// URL with a host")
    from secscan.zap.settings import validate as validate_zap  # start-up: only a ZAP run loads ZAP's settings

    validate_zap(cfg, os.environ)


@dataclass(frozen=True, kw_only=True)
class Layers:
    """The raw settings of each source, before they are combined (inputs.py needs them apart:
    in a merge request the file layer comes from the trusted side)."""

    file: Mapping[str, Any] = field(default_factory=dict)
    file_origin: str | None = None
    """The settings file's name as shown (``.secscan.toml at 1a2b3c (merge base)``); None: no file."""
    file_layer: Layer = Layer.FILE
    env: Mapping[str, str] = field(default_factory=dict)
    """The environment itself (only declared variables are read)."""
    flags: Mapping[str, Any] = field(default_factory=dict)
    """Only the options the user gave."""


def scanner_names() -> tuple[str, ...]:
    from secscan.scanners import registry  # the registry is above the settings: it is asked, not imported

    return registry.names()


def known_variables() -> frozenset[str]:
    """Every ``SECSCAN_*`` (and CI) variable some declaration reads."""
    return settings.known_variables(settings.ALL, family=scanner_names())


def env_warnings(env: Mapping[str, str]) -> tuple[str, ...]:
    return settings.unknown_variables(env, known_variables())


def _raw_layers(target: Path, layers: Layers, *, file_base: Path | None) -> list[Raw]:
    out = []
    if layers.file_origin is not None:
        out.append(
            Raw(layer=layers.file_layer, values=layers.file, label=layers.file_origin, base=file_base or Path(target))
        )
    # Paths from the operator (environment, flags) are relative to where secscan runs.
    out.append(replace(settings.env_layer(SCAN_SETTINGS, layers.env, family=scanner_names()), base=Path.cwd()))
    where = {k: SPECS[k].long for k in layers.flags if k in SPECS}
    out.append(Raw(layer=Layer.FLAG, values=layers.flags, where=where, label="command line", base=Path.cwd()))
    return out


def resolve(target: Path, layers: Layers, *, file_base: Path | None = None) -> tuple[ScanConfig, Effective]:
    """defaults < file < environment < flags, validated; and where each value came from."""
    effective = settings.combine(SPECS, _raw_layers(target, layers, file_base=file_base))
    given = {k: v for k, v in effective.given().items() if k in _FIELDS}
    cfg = ScanConfig(target=Path(target), **given)
    return validate(cfg), effective


_FIELDS = frozenset(f.name for f in fields(ScanConfig))


def combine(target: Path, layers: Layers, *, file_base: Path | None = None) -> ScanConfig:
    return resolve(target, layers, file_base=file_base)[0]


def load(target: Path, flags: Mapping[str, Any], *, env: Mapping[str, str] | None = None) -> ScanConfig:
    """The effective configuration for ``target`` (``flags``: only the options the user gave)."""
    target = Path(target)
    raw, origin = read_file_settings(target)
    return combine(target, Layers(file=raw, file_origin=origin, env=os.environ if env is None else env, flags=flags))
