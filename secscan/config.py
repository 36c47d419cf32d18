"""Settings for a scan: defaults < ``[tool.secscan]`` (pyproject.toml) or ``.secscan.toml``
< ``SECSCAN_*`` environment variables < command-line flags.

Every known key is declared once in ``KEYS`` with its type, so a typo in a config file is a
clear error (exit 2) instead of a silently ignored setting.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from secscan.errors import ConfigError
from secscan.fsutil import load_toml

ALL_SCANNERS: tuple[str, ...] = ("bandit", "semgrep", "pip-audit", "zap")
DEFAULT_TIMEOUTS: dict[str, float] = {"bandit": 600.0, "semgrep": 900.0, "pip-audit": 300.0, "zap": 1800.0}


@dataclass(frozen=True, kw_only=True)
class ScanConfig:
    """Everything one `secscan scan` needs to know (see README, "Configuration")."""

    target: Path = Path(".")
    """The project tree to scan."""
    out_dir: Path = Path("secscan-out")
    """Where secscan.json and reports go."""
    only: tuple[str, ...] = ()
    """Run only these scanners (empty: all that apply)."""
    skip: tuple[str, ...] = ()
    """Never run these scanners."""
    timeouts: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_TIMEOUTS))
    """Per-scanner wall-clock limit in seconds; the whole process group is killed past it."""
    semgrep_rules: tuple[str, ...] = ()
    """Extra semgrep configs (local rule files or folders) on top of secscan's own rules/."""
    semgrep_builtin_rules: bool = True
    """Use secscan's bundled payment-security rules."""
    exclude: tuple[str, ...] = ()
    """Path globs (relative to target) that bandit and semgrep skip."""
    requirements: tuple[str, ...] = ()
    """Requirements files for pip-audit (empty: discover under target)."""
    audit_installed: bool = False
    """Also audit the installed environment with pip-audit."""
    advisory_db: Path | None = None
    """Local OSV advisory database (secscan advisories import); served on loopback for pip-audit."""
    osv_url: str | None = None
    """An OSV-compatible query endpoint for pip-audit (overrides advisory_db)."""
    zap_target: str | None = None
    zap_image: str = "ghcr.io/zaproxy/zaproxy:stable"
    zap_pull: bool = False
    zap_minutes: int | None = None
    """ZAP spider minutes (-m); None: the mode's default (zap-2: 1, full scans 10)."""
    zap_options: str = ""
    """Extra options passed to zap-baseline.py (-z is for ZAP itself)."""
    zap_config: Path | None = None
    """ZAP rule config file (-c); default rules/zap/baseline.conf."""
    # --- zap-2 (issue 22): ZAP modes and authentication; see secscan/zap/settings.py -------
    zap_mode: str | None = None
    """baseline, api or full (None: api with an API definition, else baseline)."""
    zap_api_definition: str | None = None
    """OpenAPI / WSDL / GraphQL schema file or URL for api mode."""
    zap_api_format: str | None = None
    """openapi, soap or graphql (None: detected from the definition)."""
    zap_auth_header: str | None = None
    """Header ZAP adds to every request to the target (its value comes from the environment)."""
    zap_auth_header_env: str | None = None
    """Environment variable holding the header's value [ZAP_AUTH_HEADER_VALUE]."""
    zap_context: Path | None = None
    """ZAP context file (-n) for form/script logins."""
    zap_user: str | None = None
    """The context's user to scan as (-U)."""
    # --- end zap-2 ------------------------------------------------------------------------
    baseline: Path | None = None
    diff_base: str | None = None
    changed_only: bool = False
    suppressions: Path | None = None
    policy: Path | None = None
    formats: tuple[str, ...] = ()
    """Extra report formats written to out_dir besides secscan.json."""
    publish: bool = False
    require_publish: bool = False
    fail_closed: bool | None = None
    """Overrides the policy's fail_closed when set."""
    jobs: int = 4
    """How many scanners run at the same time."""

    def selected_scanners(self) -> tuple[str, ...]:
        """Scanners to run, in a fixed order. ZAP runs only with a target URL."""
        base = self.only or tuple(s for s in ALL_SCANNERS if s != "zap" or self.zap_target)
        return tuple(s for s in ALL_SCANNERS if s in base and s not in self.skip)

    def timeout_for(self, scanner: str) -> float:
        return float(self.timeouts.get(scanner, DEFAULT_TIMEOUTS.get(scanner, 600.0)))


# key -> (type, field name). "list" values accept a TOML array or a comma-separated string.
KEYS: dict[str, tuple[str, str]] = {
    "out_dir": ("path", "out_dir"),
    "only": ("list", "only"),
    "skip": ("list", "skip"),
    "semgrep_rules": ("list", "semgrep_rules"),
    "semgrep_builtin_rules": ("bool", "semgrep_builtin_rules"),
    "exclude": ("list", "exclude"),
    "requirements": ("list", "requirements"),
    "audit_installed": ("bool", "audit_installed"),
    "advisory_db": ("path", "advisory_db"),
    "osv_url": ("str", "osv_url"),
    "zap_target": ("str", "zap_target"),
    "zap_image": ("str", "zap_image"),
    "zap_pull": ("bool", "zap_pull"),
    "zap_minutes": ("int", "zap_minutes"),
    "zap_options": ("str", "zap_options"),
    "zap_config": ("path", "zap_config"),
    # --- zap-2 (issue 22) ---
    "zap_mode": ("str", "zap_mode"),
    "zap_api_definition": ("str", "zap_api_definition"),
    "zap_api_format": ("str", "zap_api_format"),
    "zap_auth_header": ("str", "zap_auth_header"),
    "zap_auth_header_env": ("str", "zap_auth_header_env"),
    "zap_context": ("path", "zap_context"),
    "zap_user": ("str", "zap_user"),
    # --- end zap-2 ---
    "baseline": ("path", "baseline"),
    "diff_base": ("str", "diff_base"),
    "changed_only": ("bool", "changed_only"),
    "suppressions": ("path", "suppressions"),
    "policy": ("path", "policy"),
    "formats": ("list", "formats"),
    "publish": ("bool", "publish"),
    "require_publish": ("bool", "require_publish"),
    "fail_closed": ("bool", "fail_closed"),
    "jobs": ("int", "jobs"),
}
# Per-scanner time limits: `[tool.secscan.timeouts] bandit = 120` or SECSCAN_TIMEOUT_BANDIT=120.


def _coerce(kind: str, value: Any, where: str, base: Path) -> Any:
    if kind == "list":
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(value)
        raise ConfigError(f"{where}: expected a list of strings")
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return value.lower() in ("1", "true", "yes", "on")
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if kind == "int":
        try:
            if isinstance(value, bool):
                raise ValueError
            n = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected an integer, got {value!r}") from None
        if n < 0:
            raise ConfigError(f"{where}: must not be negative")
        return n
    if kind == "path":
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a path string")
        p = Path(value)
        return p if p.is_absolute() else base / p
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string")
    return value


def _timeouts(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of scanner = seconds")
    out: dict[str, float] = {}
    for k, v in raw.items():
        if k not in ALL_SCANNERS:
            raise ConfigError(f"{where}: unknown scanner {k!r} (known: {', '.join(ALL_SCANNERS)})")
        try:
            if isinstance(v, bool):
                raise ValueError
            seconds = float(v)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}.{k}: expected seconds, got {v!r}") from None
        if not math.isfinite(seconds):
            raise ConfigError(f"{where}.{k}: expected a finite number of seconds, got {v!r}")
        if seconds <= 0:
            raise ConfigError(f"{where}.{k}: must be positive")
        out[k] = seconds
    return out


def read_file_settings(target: Path) -> tuple[dict[str, Any], str | None]:
    """The raw ``[tool.secscan]`` table (or ``.secscan.toml``) of ``target``, and its file name.

    ``.secscan.toml`` wins when both exist: it is the more specific file.
    """
    for name, table_path in ((".secscan.toml", ()), ("pyproject.toml", ("tool", "secscan"))):
        path = target / name
        if not path.is_file():
            continue
        data: Any = load_toml(path, what="settings file")
        for key in table_path:
            data = data.get(key) if isinstance(data, dict) else None
        if data is None:
            continue
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: [tool.secscan] must be a table")
        return data, str(path)
    return {}, None


def apply_mapping(
    cfg: ScanConfig, raw: Mapping[str, Any], *, where: str, base: Path, strict: bool = True
) -> ScanConfig:
    """Apply a settings mapping (file table or flags) onto ``cfg``."""
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        norm = key.replace("-", "_")
        if norm == "timeouts":
            merged = dict(cfg.timeouts)
            merged.update(_timeouts(value, f"{where}: timeouts"))
            changes["timeouts"] = merged
            continue
        if norm not in KEYS:
            if strict:
                known = ", ".join(sorted([*KEYS, "timeouts"]))
                raise ConfigError(f"{where}: unknown setting {key!r} (known: {known})")
            continue
        kind, fname = KEYS[norm]
        changes[fname] = _coerce(kind, value, f"{where}: {key}", base)
    return replace(cfg, **changes)


def from_env(cfg: ScanConfig, env: Mapping[str, str], *, base: Path) -> ScanConfig:
    """Apply ``SECSCAN_<KEY>`` and ``SECSCAN_TIMEOUT_<SCANNER>`` variables."""
    raw: dict[str, Any] = {}
    for key in KEYS:
        value = env.get("SECSCAN_" + key.upper())
        if value is not None and value != "":
            raw[key] = value
    timeouts: dict[str, Any] = {}
    for scanner in ALL_SCANNERS:
        value = env.get("SECSCAN_TIMEOUT_" + scanner.upper().replace("-", "_"))
        if value:
            timeouts[scanner] = value
    if timeouts:
        raw["timeouts"] = timeouts
    return apply_mapping(cfg, raw, where="environment", base=base)


def is_remote_semgrep_config(config: str) -> bool:
    """Registry/remote semgrep configs (``p/ci``, ``r/...``, ``auto``, URLs) need the network."""
    return config == "auto" or config.startswith(("p/", "r/", "s/", "http://", "https://", "supply-chain"))


def validate(cfg: ScanConfig) -> ScanConfig:
    for name in (*cfg.only, *cfg.skip):
        if name not in ALL_SCANNERS:
            raise ConfigError(f"unknown scanner {name!r} (known: {', '.join(ALL_SCANNERS)})")
    if cfg.jobs < 1:
        raise ConfigError("jobs must be at least 1")
    if not cfg.target.is_dir():
        raise ConfigError(f"scan target {cfg.target} is not a directory")
    if cfg.only == ("zap",) and not cfg.zap_target:
        raise ConfigError("--only zap needs --zap-target URL")
    if cfg.zap_target:
        from urllib.parse import urlsplit

        parts = urlsplit(cfg.zap_target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # Never echo the URL itself: it may carry credentials.
            raise ConfigError("--zap-target must be an http:// or https:// URL with a host")
    # Inputs the user named must exist now, not after minutes of scanning (exit 2, not 3).
    for req in cfg.requirements:
        if not (cfg.target / req).is_file():
            raise ConfigError(f"requirements file {req!r} not found under {cfg.target}")
    for rules in cfg.semgrep_rules:
        if not is_remote_semgrep_config(rules) and not Path(rules).exists():
            raise ConfigError(f"semgrep rule file {rules!r} does not exist")
    for label, path in (
        ("policy", cfg.policy),
        ("baseline", cfg.baseline),
        ("suppressions", cfg.suppressions),
        ("ZAP rule config", cfg.zap_config),
        ("ZAP context", cfg.zap_context),
    ):
        if path is not None and not path.is_file():
            raise ConfigError(f"{label} file {path} does not exist")
    if cfg.zap_target:  # zap-2 (issue 22): modes, API definition, authentication
        from secscan.zap.settings import validate as validate_zap

        validate_zap(cfg, os.environ)
    return cfg


def load(target: Path, flags: Mapping[str, Any], *, env: Mapping[str, str] | None = None) -> ScanConfig:
    """Build the effective configuration for ``target``.

    ``flags`` holds only the options the user actually gave (None/empty values are dropped by
    the CLI), so a flag always beats the environment, which beats the file.
    """
    target = Path(target)
    cfg = ScanConfig(target=target)
    raw, origin = read_file_settings(target)
    if origin is not None:
        cfg = apply_mapping(cfg, raw, where=origin, base=target)
    cfg = from_env(cfg, os.environ if env is None else env, base=Path.cwd())
    cfg = apply_mapping(cfg, flags, where="command line", base=Path.cwd())
    return validate(cfg)


def describe(cfg: ScanConfig) -> dict[str, str]:
    """A flat, printable view of the effective configuration (for --debug and the README)."""
    return {f.name: str(getattr(cfg, f.name)) for f in fields(cfg)}
