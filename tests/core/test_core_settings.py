"""Settings are declared once: the click options, TOML keys, SECSCAN_* names and the README table
all come from the declarations in secscan/settings/catalog.py, and these tests fail when they drift."""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

import click
import pytest

from secscan import config, settings
from secscan.commands.scan import scan
from secscan.errors import ConfigError
from secscan.settings import Layer, Raw
from secscan.settings.docs import readme_table
from secscan.settings.options import flag_layer
from tests.support.cli import secscan

ROOT = Path(__file__).resolve().parents[2]

# A value to set each setting to, from each source; chosen to differ from every default.
SAMPLES: dict[str, tuple[Any, str]] = {
    "out_dir": ("elsewhere", "elsewhere"),
    "only": (["bandit"], "bandit"),
    "skip": (["semgrep"], "semgrep"),
    "semgrep_rules": (["r.yml"], "r.yml"),
    "semgrep_builtin_rules": (False, "false"),
    "exclude": (["tests"], "tests"),
    "test_paths": (["spec/"], "spec/"),
    "production_only_rules": (["B101"], "B101"),
    "scan_all_test_code": (True, "true"),
    "requirements": (["req.txt"], "req.txt"),
    "audit_installed": (True, "true"),
    "advisory_db": ("osv.db", "osv.db"),
    "osv_url": ("http://127.0.0.1:9/", "http://127.0.0.1:9/"),
    "zap_target": ("http://127.0.0.1:9/", "http://127.0.0.1:9/"),
    "zap_image": ("zap:test", "zap:test"),
    "zap_pull": (True, "true"),
    "zap_minutes": (3, "3"),
    "zap_options": ("-a", "-a"),
    "zap_config": ("zap.conf", "zap.conf"),
    # zap-2 (issue 22)
    "zap_mode": ("full", "full"),
    "zap_api_definition": ("api.yaml", "api.yaml"),
    "zap_api_format": ("soap", "soap"),
    "zap_auth_header": ("Authorization", "Authorization"),
    "zap_auth_header_env": ("PAY_TOKEN", "PAY_TOKEN"),
    "zap_context": ("shop.context", "shop.context"),
    "zap_user": ("alice", "alice"),
    "baseline": ("b.json", "b.json"),
    "diff_base": ("main", "main"),
    "changed_only": (True, "true"),
    "secrets_history": ("main", "main"),
    "suppressions": ("s.toml", "s.toml"),
    "policy": ("p.toml", "p.toml"),
    "formats": (["html"], "html"),
    "publish": (True, "true"),
    "require_publish": (True, "true"),
    "fail_closed": (False, "false"),
    "jobs": (2, "2"),
    "cache": (False, "false"),
    "cache_dir": ("c", "c"),
    "shard": ("2/4", "2/4"),
    "verbose": (True, "true"),
    "heartbeat": (2.5, "2.5"),
}


def _value(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Path):
        return value.name
    return value


def _effective(key: str, raw: Any, layer: Layer, tmp_path: Path) -> Any:
    got = settings.combine(config.SPECS, [Raw(layer=layer, values={key: raw}, label="here", base=tmp_path)])
    return _value(got.value(key))


def test_every_setting_has_a_sample_here() -> None:
    # A new setting must be added to SAMPLES, so the three sources below are checked for it.
    assert set(SAMPLES) | {"timeouts"} == set(config.SPECS)


def test_scan_config_fields_are_the_scan_declarations() -> None:
    assert {f.name for f in fields(config.ScanConfig)} - {"target"} == set(config.SPECS)


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_each_setting_reads_from_toml_env_and_flag(key: str, tmp_path: Path) -> None:
    toml_value, env_value = SAMPLES[key]
    expected = Path(toml_value).name if isinstance(toml_value, str) and key in _PATHS else toml_value
    assert _effective(key, toml_value, Layer.FILE, tmp_path) == expected
    env = settings.env_layer(config.SPECS.values(), {f"SECSCAN_{key.upper()}": env_value})
    assert _value(settings.combine(config.SPECS, [env]).value(key)) == expected
    default = config.SPECS[key].default
    assert _value(default) != expected


_PATHS = {k for k, s in config.SPECS.items() if s.is_path}


def _scan_option(key: str) -> click.Option:
    for p in scan.params:
        if isinstance(p, click.Option) and p.name == key:
            return p
    raise AssertionError(f"no option for {key}")


@pytest.mark.parametrize("key", sorted(config.SPECS))
def test_each_setting_is_a_scan_option_whose_value_reaches_the_config(key: str) -> None:
    option = _scan_option(key)
    toml_value = SAMPLES.get(key, (["semgrep=60"], ""))[0]
    if config.SPECS[key].is_bool:
        argv = [option.opts[0] if toml_value else option.secondary_opts[0]]
    elif isinstance(toml_value, list):
        argv = [x for v in toml_value for x in (option.opts[-1], v)]
    else:
        argv = [option.opts[-1], str(toml_value)]
    ctx = scan.make_context("scan", ["somewhere", *argv])
    flags = flag_layer(ctx, "scan")
    assert set(flags.values) == {key}
    got = settings.combine(config.SPECS, [flags])
    assert got.values[key].layer is Layer.FLAG
    if key == "timeouts":
        assert got.value("timeouts") == {"semgrep": 60}
    else:
        expected = Path(toml_value).name if key in _PATHS else toml_value
        assert _value(got.value(key)) == expected


def test_options_not_given_are_not_flags() -> None:
    # A flag the user did not give must never mask the file or the environment.
    ctx = scan.make_context("scan", ["somewhere"])
    assert flag_layer(ctx, "scan").values == {}


def test_readme_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- settings-table:start -->\n(.*?)\n<!-- settings-table:end -->", readme, re.S)
    assert m is not None, "README lost its settings table markers"
    assert m.group(1) == readme_table(), "README settings table drifted: regenerate it (see README)"


def test_readme_publish_table_is_the_generated_one() -> None:
    from secscan.settings.docs import publish_table

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- publish-table:start -->\n(.*?)\n<!-- publish-table:end -->", readme, re.S)
    assert m is not None, "README lost its publishing table markers"
    assert m.group(1) == publish_table(), "README publishing table drifted: regenerate it (see README)"
    # Every publish option of `secscan publish --help` is in it.
    from secscan.commands.publish import publish

    for param in publish.params:
        if isinstance(param, click.Option) and not param.hidden and param.name != "help":
            assert any(f"`{o}`" in m.group(1) for o in param.opts), param.opts


def _readme_toml_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration") :]
    m = re.search(r"```toml\n(\[tool\.secscan\].*?)```", section, re.S)
    assert m is not None
    return m.group(1)


@pytest.mark.parametrize("filename", ["pyproject.toml", ".secscan.toml"])
def test_readme_example_works_in_either_settings_file(filename: str, tmp_path: Path) -> None:
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "semgrep-local.yml").write_text("rules: []\n")
    (tmp_path / filename).write_text(_readme_toml_example(), encoding="utf-8")
    cfg = config.load(tmp_path, {}, env={})
    example = tomllib.loads(_readme_toml_example())["tool"]["secscan"]
    assert list(cfg.skip) == example["skip"]
    assert list(cfg.exclude) == example["exclude"]
    assert list(cfg.formats) == example["formats"]
    assert cfg.timeouts["semgrep"] == 600


def test_unknown_toml_key_suggests_the_right_one(tmp_path: Path) -> None:
    (tmp_path / ".secscan.toml").write_text('exlude = ["x"]\n')
    with pytest.raises(ConfigError, match=r"unknown setting 'exlude' \(did you mean 'exclude'\?\)"):
        config.load(tmp_path, {}, env={})


def test_unknown_secscan_variables_are_reported_in_the_result(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "a.py").write_text("x = 1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_"))}
    env["SECSCAN_EXCLUD"] = "tests"  # a typo that would silently scan the tests
    env["SECSCAN_DEBUG"] = "0"  # known (read by the CLI), not reported
    proc = secscan("scan", "proj", "--only", "bandit", "--no-progress", "-o", "out", environ=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    warnings = json.loads((tmp_path / "out" / "secscan.json").read_text())["warnings"]
    assert "unknown environment variable SECSCAN_EXCLUD (did you mean SECSCAN_EXCLUDE?)" in warnings
    assert not any("SECSCAN_DEBUG" in w for w in warnings)
    assert "SECSCAN_EXCLUD" in proc.stdout + proc.stderr
