"""Settings for a scan, each declared once: defaults < ``[tool.secscan]`` (pyproject.toml) or
``.secscan.toml`` < ``SECSCAN_*`` environment variables < command-line flags.

A setting is one field of :class:`ScanConfig` whose metadata (:class:`Spec`) says its kind, help,
command-line spelling and whether it decides the verdict. The click options of ``secscan scan``,
the accepted TOML keys, the ``SECSCAN_*`` variable names and the README's settings table are all
generated from those fields, so they cannot drift apart (tests/core/test_core_settings.py checks
the README). A typo in a config file or an unknown ``SECSCAN_*`` variable is reported instead of
being silently ignored.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from secscan import pathmatch, testcode
from secscan.errors import ConfigError
from secscan.fsutil import load_toml

Kind = Literal["list", "bool", "int", "path", "str", "timeouts"]


@dataclass(frozen=True, kw_only=True)
class Spec:
    """How one setting is spelled everywhere it can be given."""

    kind: Kind
    help: str
    flags: tuple[str, ...] = ()
    """Command-line names (``("-o", "--out")``); empty: ``--<key with dashes>``."""
    off_flag: str | None = None
    """For booleans: the name that sets it false (default ``--no-<key>``)."""
    metavar: str | None = None
    verdict: bool = False
    """Decides the verdict (what is scanned, how findings are triaged and gated): such settings
    come from the trusted side when a diff base is known."""
    cli: bool = True
    """Offered as a ``secscan scan`` option."""
    joined: bool = False
    """A string built from a repeatable option joined with spaces (``--zap-option``)."""
    hidden_aliases: tuple[str, ...] = ()
    """For booleans: old spellings that set it false, still accepted but not shown (``--fail-open``)."""


def setting(default: Any = None, *, factory: Callable[[], Any] | None = None, **spec: Any) -> Any:
    """A :class:`ScanConfig` field carrying its :class:`Spec`."""
    meta = {"setting": Spec(**spec)}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def _default_timeouts() -> dict[str, float]:
    from secscan.scanners import registry

    return {s.name: s.default_timeout for s in registry.all_scanners()}


@dataclass(frozen=True, kw_only=True)
class ScanConfig:
    """Everything one `secscan scan` needs to know (see README, "Configuration")."""

    target: Path = Path(".")
    """The project tree to scan (the command's PATH argument, not a setting)."""
    out_dir: Path = setting(
        Path("secscan-out"), kind="path", flags=("-o", "--out"), metavar="DIR", help="Output directory."
    )
    only: tuple[str, ...] = setting(
        (), kind="list", verdict=True, metavar="SCANNER", help="Run only these scanners (repeat or comma-separate)."
    )
    skip: tuple[str, ...] = setting((), kind="list", verdict=True, metavar="SCANNER", help="Do not run these scanners.")
    timeouts: Mapping[str, float] = setting(
        factory=_default_timeouts,
        kind="timeouts",
        flags=("--timeout",),
        metavar="SCANNER=SECONDS",
        help="Per-scanner time limit; past it the scanner's whole process group is killed.",
    )
    semgrep_rules: tuple[str, ...] = setting(
        (), kind="list", verdict=True, metavar="PATH", help="Extra local semgrep rule files or folders."
    )
    semgrep_builtin_rules: bool = setting(
        True,
        kind="bool",
        verdict=True,
        off_flag="--no-builtin-rules",
        flags=("--builtin-rules",),
        help="Use secscan's payment-security semgrep rules.",
    )
    exclude: tuple[str, ...] = setting(
        (),
        kind="list",
        verdict=True,
        metavar="GLOB",
        help="gitignore-style patterns no scanner looks at (virtualenvs, .git, node_modules, build output always).",
    )
    test_paths: tuple[str, ...] = setting(
        default=testcode.DEFAULT_TEST_PATHS,
        kind="list",
        verdict=True,
        metavar="GLOB",
        help="Test code: findings there are tagged test-code and do not block unless the policy says so "
        "('dir/' a folder at any depth, 'name' a file name, else a path glob).",
    )
    production_only_rules: tuple[str, ...] = setting(
        default=testcode.DEFAULT_PRODUCTION_ONLY_RULES,
        kind="list",
        verdict=True,
        metavar="RULE",
        help="Rules not reported in test code (assert, random, subprocess, /tmp).",
    )
    requirements: tuple[str, ...] = setting(
        (),
        kind="list",
        verdict=True,
        flags=("-r", "--requirements"),
        metavar="FILE",
        help="Requirements files for pip-audit (default: discovered under PATH).",
    )
    audit_installed: bool = setting(
        False, kind="bool", verdict=True, help="Also audit the installed environment (python on PATH)."
    )
    advisory_db: Path | None = setting(
        None,
        kind="path",
        verdict=True,
        metavar="PATH",
        help="Local OSV advisory database (or folder/zip of OSV files).",
    )
    osv_url: str | None = setting(
        None, kind="str", verdict=True, metavar="URL", help="An OSV-compatible endpoint for pip-audit."
    )
    zap_target: str | None = setting(None, kind="str", verdict=True, metavar="URL", help="Run ZAP against this URL.")
    zap_image: str = setting(
        "ghcr.io/zaproxy/zaproxy:stable", kind="str", verdict=True, metavar="IMAGE", help="ZAP container image."
    )
    zap_pull: bool = setting(False, kind="bool", help="Pull the ZAP image if it is not present.")
    zap_minutes: int | None = setting(
        None, kind="int", verdict=True, metavar="N", help="ZAP spider minutes (-m) [1; full scans 10]."
    )
    zap_options: str = setting(
        "",
        kind="str",
        verdict=True,
        flags=("--zap-option",),
        joined=True,
        metavar="OPT",
        help="Extra option for zap-baseline.py (repeatable).",
    )
    zap_config: Path | None = setting(
        None, kind="path", verdict=True, metavar="FILE", help="ZAP rule config (-c) [rules/zap/baseline.conf]."
    )
    # --- zap-2 (issue 22): ZAP modes and authentication; checked by secscan/zap/settings.py ----
    # All decide what is scanned and with which credentials: trusted side only (verdict=True).
    zap_mode: str | None = setting(
        None, kind="str", verdict=True, metavar="MODE", help="ZAP scan: baseline, api or full [api with a definition]."
    )
    zap_api_definition: str | None = setting(
        None, kind="str", verdict=True, metavar="PATH|URL", help="OpenAPI/WSDL/GraphQL schema for --zap-mode api."
    )
    zap_api_format: str | None = setting(
        None, kind="str", verdict=True, metavar="FORMAT", help="API format: openapi, soap or graphql [detected]."
    )
    zap_auth_header: str | None = setting(
        None,
        kind="str",
        verdict=True,
        metavar="NAME",
        help="Header ZAP sends to the target (value: --zap-auth-header-env).",
    )
    zap_auth_header_env: str | None = setting(
        None, kind="str", verdict=True, metavar="VAR", help="Variable holding the header value [ZAP_AUTH_HEADER_VALUE]."
    )
    zap_context: Path | None = setting(
        None, kind="path", verdict=True, metavar="FILE", help="ZAP context file for form/script logins (-n)."
    )
    zap_user: str | None = setting(
        None, kind="str", verdict=True, metavar="NAME", help="User of --zap-context to scan as (-U)."
    )
    # --- end zap-2 ------------------------------------------------------------------------------
    baseline: Path | None = setting(
        None, kind="path", verdict=True, metavar="FILE", help="Baseline file: mark findings new/existing/fixed."
    )
    diff_base: str | None = setting(
        None,
        kind="str",
        metavar="REF",
        help="Git ref: findings on lines changed since REF are new [CI_MERGE_REQUEST_DIFF_BASE_SHA].",
    )
    changed_only: bool = setting(False, kind="bool", verdict=True, help="Scan only files changed since --diff-base.")
    secrets_history: str | None = setting(
        None,
        kind="str",
        verdict=True,
        metavar="REF",
        help="Also scan the added lines of every commit since REF for secrets [the diff base, if any].",
    )
    suppressions: Path | None = setting(
        None, kind="path", verdict=True, metavar="FILE", help="Suppressions file [.secscan/suppressions.toml]."
    )
    policy: Path | None = setting(
        None, kind="path", verdict=True, metavar="FILE", help="Gate policy TOML [rules/policy/default.toml]."
    )
    formats: tuple[str, ...] = setting(
        (), kind="list", flags=("-f", "--format"), metavar="FORMAT", help="Extra report formats ('all' for every one)."
    )
    publish: bool = setting(False, kind="bool", help="Post the result to the GitLab merge request.")
    require_publish: bool = setting(False, kind="bool", help="Exit 4 when publishing fails.")
    fail_closed: bool | None = setting(
        None,
        kind="bool",
        verdict=True,
        hidden_aliases=("--fail-open",),
        help="Whether a failed scanner fails the gate (exit 3) [the policy's fail_closed].",
    )
    jobs: int = setting(4, kind="int", flags=("-j", "--jobs"), metavar="N", help="Scanners running at the same time.")
    cache: bool = setting(
        True, kind="bool", help="Reuse per-file results of bandit and semgrep for files that did not change."
    )
    cache_dir: Path | None = setting(
        None, kind="path", metavar="DIR", help="Folder of the per-file result cache [the user cache folder]."
    )
    shard: str | None = setting(
        None,
        kind="str",
        verdict=True,
        metavar="K/N",
        help="Scan the K-th of N deterministic slices of the files (merge the N results with secscan merge).",
    )

    def shard_of(self) -> tuple[int, int] | None:
        """``(k, n)`` of --shard K/N (1 <= k <= n), or None."""
        if not self.shard:
            return None
        k, _, n = self.shard.partition("/")
        return int(k), int(n)

    def selected_scanners(self) -> tuple[str, ...]:
        """Scanners to run, in registry order. Scanners that need a target (ZAP) run only with one."""
        from secscan.scanners import registry

        known = registry.all_scanners()
        base = self.only or tuple(s.name for s in known if s.enabled_by_default(self))
        return tuple(s.name for s in known if s.name in base and s.name not in self.skip)

    def timeout_for(self, scanner: str) -> float:
        from secscan.scanners import registry

        if scanner in self.timeouts:
            return float(self.timeouts[scanner])
        return registry.get_class(scanner).default_timeout


def specs() -> dict[str, tuple[Field[Any], Spec]]:
    """Every setting: key -> (dataclass field, spec), in declaration order."""
    return {f.name: (f, f.metadata["setting"]) for f in fields(ScanConfig) if "setting" in f.metadata}


def default_of(f: Field[Any]) -> Any:
    if f.default is not MISSING:
        return f.default
    assert f.default_factory is not MISSING
    return f.default_factory()


def env_name(key: str) -> str:
    return "SECSCAN_" + key.upper()


# SECSCAN_* variables read elsewhere (not scan settings), so they are not reported as unknown.
# Each is documented in the README section of the part that reads it.
OTHER_VARIABLES: frozenset[str] = frozenset(
    {
        "SECSCAN_DEBUG",  # cli.py
        "SECSCAN_BANDIT_BIN",  # scanners: pin an executable
        "SECSCAN_SEMGREP_BIN",
        "SECSCAN_PIP_AUDIT_BIN",
        "SECSCAN_DETECT_SECRETS_BIN",
        "SECSCAN_AUDIT_LOG",  # audit trail
        "SECSCAN_AUDIT_KEY",
        "SECSCAN_AUDIT_HEAD",
        "SECSCAN_HISTORY_DB",  # aggregate
        "SECSCAN_SKIP_HOOK",  # pre-push hook
        "SECSCAN_HOOK_BASE",
        "SECSCAN_REQUIRE_COMPONENTS",  # the test suite
        "SECSCAN_GITLAB_TOKEN",  # publishing (gitlab/settings.py)
        "SECSCAN_MASK_VARIABLES",  # credentials.py: more variables whose values are masked
        "SECSCAN_CACHE_KEY",  # cache.py: the HMAC key of the per-file result cache
        # The CI template's own variables (templates/gitlab/): read by its job scripts.
        "SECSCAN_IMAGE",
        "SECSCAN_ZAP_IMAGE",
        "SECSCAN_PIP_SPEC",
        "SECSCAN_TARGET",
        "SECSCAN_REPORT_FORMATS",
        "SECSCAN_PUBLISH_MR",
        "SECSCAN_PUBLISH_OPTIONS",
        "SECSCAN_DISABLED",
        "SECSCAN_SCANNER",
        "SECSCAN_VENV",
        "SECSCAN_PYTHON",
        "SECSCAN_RC",
        "SECSCAN_PUBLISH_RC",
        "SECSCAN_REQUIRE_FLAG",
        "SECSCAN_VARIABLES",
        "SECSCAN_ZAP_WRK",
        "SECSCAN_OUT",
        "SECSCAN_SHARD_ARGS",
        "SECSCAN_INPUTS",
        "SECSCAN_ZAP_RUNNER",  # zap-2: docker|local (scanners/zap.py)
        "SECSCAN_ZAP_SCHEDULE_MODE",  # zap-2: the template's scheduled ZAP scan
        "SECSCAN_ZAP_STANDIN_SAMPLES",  # the test suite's stand-in ZAP scripts (tests/zap)
    }
)


def _coerce(kind: Kind, value: Any, where: str, base: Path) -> Any:
    if kind == "list":
        if isinstance(value, str):
            return tuple(v.strip() for v in value.split(",") if v.strip())
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return tuple(v.strip() for raw in value for v in raw.split(",") if v.strip())
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
        if not isinstance(value, (str, Path)):
            raise ConfigError(f"{where}: expected a path string")
        p = Path(value)
        return p if p.is_absolute() else base / p
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string")
    return value


def _timeouts(raw: Any, where: str) -> dict[str, float]:
    from secscan.scanners import registry

    if isinstance(raw, (list, tuple)):  # the command line: ("semgrep=600", ...)
        pairs: dict[str, Any] = {}
        for item in raw:
            name, sep, value = str(item).partition("=")
            if not sep:
                raise ConfigError(f"{where}: {item!r}: expected SCANNER=SECONDS, e.g. semgrep=600")
            pairs[name.strip()] = value.strip()
        raw = pairs
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table of scanner = seconds")
    known = registry.names()
    out: dict[str, float] = {}
    for k, v in raw.items():
        if k not in known:
            raise ConfigError(f"{where}: unknown scanner {k!r} (known: {', '.join(known)})")
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


SETTINGS_FILES: tuple[str, ...] = (".secscan.toml", "pyproject.toml")


def settings_table(data: Mapping[str, Any], path: str) -> dict[str, Any] | None:
    """The secscan table of a parsed settings file, or None when it has none.

    ``.secscan.toml`` holds the keys at the top level, or (pasted from pyproject.toml) under
    ``[tool.secscan]``; ``pyproject.toml`` only under ``[tool.secscan]``.
    """
    table: Any = data
    nested = data.get("tool") if isinstance(data, Mapping) else None
    if Path(path).name == "pyproject.toml" or (isinstance(nested, Mapping) and set(data) == {"tool"}):
        table = nested.get("secscan") if isinstance(nested, Mapping) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.secscan] must be a table")
    return table


def read_file_settings(target: Path) -> tuple[dict[str, Any], str | None]:
    """The raw settings table of ``target`` and its file name (``.secscan.toml`` wins: it is
    the more specific file)."""
    for name in SETTINGS_FILES:
        path = target / name
        if not path.is_file():
            continue
        table = settings_table(load_toml(path, what="settings file"), str(path))
        if table is not None:
            return table, str(path)
    return {}, None


def _unknown(key: str, where: str) -> ConfigError:
    known = sorted(specs())
    hint = difflib.get_close_matches(key, known, n=1)
    suggestion = f" (did you mean {hint[0]!r}?)" if hint else f" (known: {', '.join(known)})"
    return ConfigError(f"{where}: unknown setting {key!r}{suggestion}")


def apply_mapping(cfg: ScanConfig, raw: Mapping[str, Any], *, where: str, base: Path) -> ScanConfig:
    """Apply a settings mapping (file table, environment or flags) onto ``cfg``."""
    table = specs()
    changes: dict[str, Any] = {}
    for key, value in raw.items():
        norm = key.replace("-", "_")
        if norm not in table:
            raise _unknown(key, where)
        spec = table[norm][1]
        if spec.kind == "timeouts":
            merged = dict(cfg.timeouts)
            merged.update(_timeouts(value, f"{where}: timeouts"))
            changes[norm] = merged
            continue
        changes[norm] = _coerce(spec.kind, value, f"{where}: {key}", base)
    return replace(cfg, **changes)


def env_settings(env: Mapping[str, str]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """``SECSCAN_<KEY>`` and ``SECSCAN_TIMEOUT_<SCANNER>`` values, and warnings for unknown
    ``SECSCAN_*`` names (a misspelt variable silently doing nothing is how gates get weaker)."""
    from secscan.gitlab.settings import SECSCAN_VARIABLES, TOKEN_VARIABLES
    from secscan.scanners import registry

    raw: dict[str, Any] = {}
    known = set(OTHER_VARIABLES) | set(SECSCAN_VARIABLES.values()) | set(TOKEN_VARIABLES)
    for key, (_f, spec) in specs().items():
        if spec.kind == "timeouts":
            continue
        name = env_name(key)
        known.add(name)
        value = env.get(name)
        if value is not None and value != "":
            raw[key] = value
    timeouts: dict[str, Any] = {}
    for scanner in registry.names():
        name = "SECSCAN_TIMEOUT_" + scanner.upper().replace("-", "_")
        known.add(name)
        if env.get(name):
            timeouts[scanner] = env[name]
    if timeouts:
        raw["timeouts"] = timeouts
    warnings = []
    for name in sorted(n for n in env if n.startswith("SECSCAN_") and n not in known):
        hint = difflib.get_close_matches(name, sorted(known), n=1)
        warnings.append(f"unknown environment variable {name}" + (f" (did you mean {hint[0]}?)" if hint else ""))
    return raw, tuple(warnings)


def from_env(cfg: ScanConfig, env: Mapping[str, str], *, base: Path) -> ScanConfig:
    """Apply ``SECSCAN_<KEY>`` and ``SECSCAN_TIMEOUT_<SCANNER>`` variables."""
    raw, _warnings = env_settings(env)
    return apply_mapping(cfg, raw, where="environment", base=base)


def is_remote_semgrep_config(config: str) -> bool:
    """Registry/remote semgrep configs (``p/ci``, ``r/...``, ``auto``, URLs) need the network."""
    return config == "auto" or config.startswith(("p/", "r/", "s/", "http://", "https://", "supply-chain"))


def validate(cfg: ScanConfig) -> ScanConfig:
    """Checks of the values themselves; files are read and checked by :mod:`secscan.inputs`."""
    from secscan.scanners import registry

    known = registry.names()
    for name in (*cfg.only, *cfg.skip):
        if name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            extra = f"did you mean {hint[0]!r}? " if hint else ""
            raise ConfigError(f"unknown scanner {name!r} ({extra}known: {', '.join(known)})")
    if cfg.jobs < 1:
        raise ConfigError("jobs must be at least 1")
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
        from urllib.parse import urlsplit

        parts = urlsplit(cfg.zap_target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # Never echo the URL itself: it may carry credentials.
            raise ConfigError("--zap-target must be an http:// or https:// URL with a host")
        from secscan.zap.settings import validate as validate_zap  # zap-2 (issue 22)

        validate_zap(cfg, os.environ)
    if cfg.changed_only and not cfg.diff_base:
        raise ConfigError(
            "--changed-only needs --diff-base REF (or CI_MERGE_REQUEST_DIFF_BASE_SHA in a merge request pipeline)"
        )
    return cfg


@dataclass(frozen=True, kw_only=True)
class Layers:
    """The raw settings of each source, before they are combined (inputs.py needs them apart:
    in a merge request the file layer comes from the trusted side)."""

    file: Mapping[str, Any] = field(default_factory=dict)
    file_origin: str | None = None
    env: Mapping[str, Any] = field(default_factory=dict)
    flags: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


def combine(target: Path, layers: Layers, *, file_base: Path | None = None) -> ScanConfig:
    """defaults < file < environment < flags, validated."""
    cfg = ScanConfig(target=Path(target))
    if layers.file_origin is not None:
        cfg = apply_mapping(cfg, layers.file, where=layers.file_origin, base=file_base or Path(target))
    cfg = apply_mapping(cfg, layers.env, where="environment", base=Path.cwd())
    cfg = apply_mapping(cfg, layers.flags, where="command line", base=Path.cwd())
    return validate(cfg)


def load(target: Path, flags: Mapping[str, Any], *, env: Mapping[str, str] | None = None) -> ScanConfig:
    """The effective configuration for ``target`` (``flags``: only the options the user gave)."""
    target = Path(target)
    raw, origin = read_file_settings(target)
    env_raw, warnings = env_settings(os.environ if env is None else env)
    return combine(target, Layers(file=raw, file_origin=origin, env=env_raw, flags=flags, warnings=warnings))


# ------------------------------------------------------------------ the command line and the README


def click_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate ``secscan scan`` with one option per setting (flags default to None/empty so
    that a flag the user did not give never masks a file or environment setting)."""
    import click

    for key, (f, spec) in reversed(list(specs().items())):
        if not spec.cli:
            continue
        names = spec.flags or ("--" + key.replace("_", "-"),)
        long = next(n for n in names if n.startswith("--"))
        default = default_of(f)
        shown = "" if default in (None, (), "", False) or spec.kind == "timeouts" else f" [{_show(default)}]"
        env_hint = f" (env {env_name(key)})" if spec.kind != "timeouts" else " (env SECSCAN_TIMEOUT_<SCANNER>)"
        text = spec.help + shown + env_hint
        if spec.kind == "bool":
            off = spec.off_flag or "--no-" + long[2:]
            decls = [f"{long}/{off}", *(n for n in names if n != long)]
            command = click.option(*decls, key, default=None, help=text)(command)
            for alias in spec.hidden_aliases:
                command = click.option(alias, key + _ALIAS, is_flag=True, default=None, hidden=True)(command)
        elif spec.kind in ("list", "timeouts") or spec.joined:
            command = click.option(*names, key, multiple=True, metavar=spec.metavar, help=text)(command)
        elif spec.kind == "int":
            command = click.option(*names, key, type=int, default=None, metavar=spec.metavar, help=text)(command)
        else:
            command = click.option(*names, key, default=None, metavar=spec.metavar, help=text)(command)
    return command


_ALIAS = "__alias"


def flags_from_options(opts: Mapping[str, Any]) -> dict[str, Any]:
    """Only the options the user gave, as a settings mapping."""
    out: dict[str, Any] = {}
    for key, (_f, spec) in specs().items():
        value = opts.get(key)
        if value is None and opts.get(key + _ALIAS):
            value = False  # a hidden old spelling of the off flag
        if value is None or value == ():
            continue
        if spec.joined:
            value = " ".join(value)
        out[key] = list(value) if isinstance(value, tuple) else value
    return out


def _show(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def readme_table() -> str:
    """The README's settings table (tests/core/test_core_settings.py keeps README equal to it)."""
    rows = [
        "| setting (`[tool.secscan]` key) | option | environment | default | decides the verdict | meaning |",
        "|---|---|---|---|---|---|",
    ]
    for key, (f, spec) in specs().items():
        names = spec.flags or ("--" + key.replace("_", "-"),)
        if spec.kind == "bool":
            long = next(n for n in names if n.startswith("--"))
            option = f"`{long}` / `{spec.off_flag or '--no-' + long[2:]}`"
        else:
            option = " ".join(f"`{n}`" for n in names)
        env = "`SECSCAN_TIMEOUT_<SCANNER>`" if spec.kind == "timeouts" else f"`{env_name(key)}`"
        default = (
            "per scanner"
            if spec.kind == "timeouts"
            else (f"`{_show(default_of(f))}`" if default_of(f) not in (None, (), "") else "")
        )
        rows.append(f"| `{key}` | {option} | {env} | {default} | {'yes' if spec.verdict else ''} | {spec.help} |")
    return "\n".join(rows)
