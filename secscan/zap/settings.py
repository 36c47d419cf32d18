"""The ZAP settings of a scan, checked together before anything starts (exit 2 when wrong),
and the per-mode defaults.

+----------+------------------+-----------------+----------------+
| mode     | script           | spider minutes  | time limit     |
+==========+==================+=================+================+
| baseline | zap-baseline.py  | 1               | 1800 s         |
| api      | zap-api-scan.py  | (no spider)     | 3600 s         |
| full     | zap-full-scan.py | 10              | 7200 s         |
+----------+------------------+-----------------+----------------+

A full or API scan attacks the target (active scan): it belongs in scheduled pipelines against
a disposable deployment, hence the longer limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from secscan.errors import ConfigError
from secscan.zap.job import MODES

if TYPE_CHECKING:
    from secscan.config import ScanConfig

DEFAULT_MINUTES = {"baseline": 1, "api": 1, "full": 10}
DEFAULT_TIMEOUT_S = {"baseline": 1800.0, "api": 3600.0, "full": 7200.0}


def mode_of(cfg: ScanConfig) -> str:
    return cfg.zap_mode or ("api" if cfg.zap_api_definition else "baseline")


def minutes_of(cfg: ScanConfig) -> int:
    """``--zap-minutes`` if given (at least 1: the scripts read 0 as "no limit"), else the mode's."""
    if cfg.zap_minutes is None:
        return DEFAULT_MINUTES[mode_of(cfg)]
    return max(1, cfg.zap_minutes)


def timeout_of(cfg: ScanConfig) -> float:
    """The ZAP time limit: ``--timeout zap=S`` whenever someone set it (in any mode: the
    configuration holds only limits that were set), else the mode's default."""
    limit = cfg.timeouts.get("zap")
    return float(limit) if limit is not None else DEFAULT_TIMEOUT_S[mode_of(cfg)]


def validate(cfg: ScanConfig, env: Mapping[str, str]) -> None:
    """ConfigError (exit 2) for ZAP settings that cannot work; never touches the network."""
    from secscan.zap import api_definition, auth
    from secscan.zap.job import split_options
    from secscan.zap.target import host_port

    if cfg.zap_mode is not None and cfg.zap_mode not in MODES:
        raise ConfigError(f"zap_mode {cfg.zap_mode!r}: expected one of {', '.join(MODES)}")
    mode = mode_of(cfg)
    if mode == "api" and not cfg.zap_api_definition:
        raise ConfigError("--zap-mode api needs --zap-api-definition PATH|URL")
    if mode != "api" and cfg.zap_api_definition:
        raise ConfigError(f"--zap-api-definition is for --zap-mode api, not {mode}")
    if cfg.zap_api_format and not cfg.zap_api_definition:
        raise ConfigError("--zap-api-format needs --zap-api-definition")
    if cfg.zap_api_definition:
        api_definition.resolve(cfg.zap_api_definition, explicit_format=cfg.zap_api_format)
    if cfg.zap_user and not cfg.zap_context:
        raise ConfigError("--zap-user needs --zap-context (the user is defined in the context file)")
    if cfg.zap_context:
        auth.load_context(cfg.zap_context, cfg.zap_user)
    if cfg.zap_auth_header_env and not cfg.zap_auth_header:
        raise ConfigError("--zap-auth-header-env needs --zap-auth-header NAME")
    host, _ = host_port(cfg.zap_target or "")
    auth.auth_header(cfg.zap_auth_header, cfg.zap_auth_header_env, env, site=host)
    split_options(cfg.zap_options, mode)
