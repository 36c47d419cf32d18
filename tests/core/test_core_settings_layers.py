"""Settings declared once for every command (issue core-3): options generated from the
declarations, one coercer for every layer ("" is unset), "unset" as a state (per-scanner
timeouts), the layer of every value kept (`secscan config show`, `secscan.json`), and unknown
SECSCAN_* variables reported. In-process (click's parser and CliRunner), except one import check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from secscan import config, settings
from secscan.commands.aggregate_cmds import history
from secscan.commands.config_cmds import show
from secscan.commands.importer import import_cmd
from secscan.commands.publish import publish
from secscan.commands.report import report
from secscan.commands.scan import scan
from secscan.commands.split_cmds import gate, merge
from secscan.commands.suppress import suppress
from secscan.errors import ConfigError
from secscan.gitlab.settings import from_env
from secscan.models import JudgedWith, RecordedPolicy, RunResult, SettingOrigin
from secscan.schema import dumps_result, loads_result
from secscan.settings import UNSET, Layer, Raw
from secscan.settings.coerce import coerce
from secscan.settings.options import effective, flag_layer
from secscan.zap.settings import timeout_of

COMMANDS: dict[str, click.Command] = {
    "scan": scan,
    "config": show,
    "import": import_cmd,
    "merge": merge,
    "gate": gate,
    "publish": publish,
    "report": report,
    "suppress": suppress,
    **{f"history {name}": cmd for name, cmd in history.commands.items()},
}
NOT_SETTINGS = {"progress"}  # scan's terminal display: not a setting of the run


def _options(cmd: click.Command) -> dict[str, click.Option]:
    return {
        p.name: p
        for p in cmd.params
        if isinstance(p, click.Option) and p.name and not p.hidden and p.name not in NOT_SETTINGS
    }


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_commands_options_are_generated_from_the_declarations(command: str) -> None:
    declared = settings.for_command(command)
    options = _options(COMMANDS[command])
    assert set(options) == set(declared)
    for key, option in options.items():
        s = declared[key]
        assert s.long in option.opts
        assert option.help is not None and s.help_for(command) in option.help  # --help from the declaration
        assert option.default is None  # "not given" is never a value that could mask a layer


def _leaves(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    ctx = click.Context(group)
    out: dict[str, click.Command] = {}
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None
        if isinstance(cmd, click.Group):
            out |= _leaves(cmd, f"{prefix}{name} ")
        else:
            out[f"{prefix}{name}"] = cmd
    return out


def test_no_command_declares_an_option_by_hand() -> None:
    """Every option of every command of the CLI (not only those listed above) is a declaration."""
    from secscan.cli import cli

    leaves = _leaves(cli)
    assert {"hook install", "advisories serve", "compliance check", "dashboard", "baseline create"} <= set(leaves)
    for path, cmd in leaves.items():
        declared = settings.for_command("config" if path == "config show" else path)
        shown = {k for k, s in declared.items() if not s.hidden}
        assert set(_options(cmd)) == shown, path


def test_config_show_knows_the_other_commands_settings(tmp_path: Path) -> None:
    env = {"SECSCAN_HISTORY_DB": str(tmp_path / "h.sqlite3")}
    res = CliRunner().invoke(show, [str(tmp_path), "--for", "compliance check"], env=env)
    assert res.exit_code == 0, res.output + repr(res.exception)
    rows = {line.split()[0]: line for line in res.stdout.splitlines()[1:]}
    assert "env (SECSCAN_HISTORY_DB)" in rows["db"] and str(tmp_path / "h.sqlite3") in rows["db"]
    assert rows["max_scan"].split()[1:] == ["7", "default"]
    res = CliRunner().invoke(show, [str(tmp_path), "--for", "nonsense"], env={})
    assert res.exit_code == 2 and "no such command with settings" in res.output


def test_secrets_are_never_options() -> None:
    token = [s for s in settings.ALL if s.secret]
    assert token and all(not s.commands for s in token)


def _ctx(cmd: click.Command, args: list[str]) -> click.Context:
    return cmd.make_context(cmd.name or "x", list(args))  # click consumes the list


@pytest.mark.parametrize(
    "case",
    [
        ("gate", ["r.json"], ["--no-fail-closed"], {"SECSCAN_FAIL_CLOSED": "yes"}, "fail_closed", True, False),
        ("publish", ["r.json"], ["--max-threads", "3"], {"SECSCAN_MAX_THREADS": "7"}, "max_threads", 7, 3),
        ("publish", ["r.json"], ["--timeout-budget", "5"], {}, "budget_s", 60.0, 5.0),
        ("gate", ["r.json"], ["--policy", "op.toml"], {"SECSCAN_POLICY": "env.toml"}, "policy", "env.toml", "op.toml"),
        ("publish", ["r.json"], ["--report-name", "b"], {"SECSCAN_REPORT_NAME": "a"}, "report_name", "a", "b"),
        ("history list", [], ["--db", "f.db"], {"SECSCAN_HISTORY_DB": "e.db"}, "db", "e.db", "f.db"),
        ("publish", ["r.json"], ["--dry-run"], {}, "dry_run", False, True),
        ("report", ["r.json"], ["-f", "html", "-f", "sarif,json"], {}, "formats", UNSET, ("html", "sarif", "json")),
    ],
)
def test_each_type_from_the_environment_and_from_a_flag(case: tuple[Any, ...]) -> None:
    """case: command, its arguments, a flag, the environment, the setting, its value from the
    environment (or default), its value from the flag."""
    command, args, flag, env, key, from_env, from_flag = case
    cmd = COMMANDS[command]
    if env:
        no_flag = effective(_ctx(cmd, args), command, env).values[key]
        assert (_plain(no_flag.value), no_flag.layer, no_flag.where) == (from_env, Layer.ENV, next(iter(env)))
    else:
        assert settings.for_command(command)[key].default == from_env
    with_flag = effective(_ctx(cmd, [*args, *flag]), command, env).values[key]
    assert (_plain(with_flag.value), with_flag.layer) == (from_flag, Layer.FLAG)


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Path) else value


def test_scan_env_and_flag_for_list_int_path_and_table(tmp_path: Path) -> None:
    env = {"SECSCAN_SKIP": "zap, semgrep", "SECSCAN_JOBS": "2", "SECSCAN_TIMEOUT_SEMGREP": "90"}
    cfg = config.load(tmp_path, {}, env=env)
    assert (cfg.skip, cfg.jobs, dict(cfg.timeouts)) == (("zap", "semgrep"), 2, {"semgrep": 90.0})
    ctx = _ctx(scan, [str(tmp_path), "--skip", "bandit", "-j", "3", "--timeout", "bandit=5", "--baseline", "b.json"])
    cfg = config.load(tmp_path, flag_layer(ctx, "scan").values, env=env)
    assert (cfg.skip, cfg.jobs) == (("bandit",), 3)
    assert dict(cfg.timeouts) == {"semgrep": 90.0, "bandit": 5.0}  # items merge across layers
    assert cfg.baseline == Path.cwd() / "b.json"  # the operator's paths are relative to where secscan runs


BOOLS = [s for s in settings.ALL if s.is_bool]


@pytest.mark.parametrize("blank", ["", "  "])
@pytest.mark.parametrize("setting", BOOLS, ids=lambda s: s.key)
def test_an_empty_boolean_is_unset_everywhere(setting: settings.Setting, blank: str) -> None:
    assert coerce(setting, blank, where="x") is UNSET
    for var in setting.env:
        got = settings.combine({setting.key: setting}, [settings.env_layer([setting], {var: blank})])
        assert got.values[setting.key].layer is Layer.DEFAULT
    if setting.file:
        raw = Raw(layer=Layer.FILE, values={setting.key: blank}, label="f")
        assert settings.combine({setting.key: setting}, [raw]).values[setting.key].layer is Layer.DEFAULT


def test_the_one_boolean_coercer_reads_every_spelling_and_refuses_the_rest() -> None:
    s = next(s for s in BOOLS if s.key == "commit_status")
    for text, value in [("true", True), ("YES", True), ("on", True), ("1", True), ("off", False), ("0", False)]:
        assert coerce(s, text, where="x") is value
    with pytest.raises(ConfigError, match="SECSCAN_COMMIT_STATUS: expected true or false, got 'maybe'"):
        from_env({"SECSCAN_COMMIT_STATUS": "maybe"}, {})
    assert from_env({"SECSCAN_COMMIT_STATUS": ""}, {}).commit_status is False  # unset: the default
    assert from_env({"SECSCAN_COMMIT_STATUS": "on"}, {}).commit_status is True


def test_publish_reads_require_publish_like_scan() -> None:
    assert from_env({"SECSCAN_REQUIRE_PUBLISH": "true"}, {}).require is True
    assert from_env({"SECSCAN_REQUIRE_PUBLISH": "true"}, {"require_publish": False}).require is False


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        (["--timeout", "zap=1800", "--zap-mode", "full"], {}, 1800.0),  # set: 1800 in any mode
        (["--zap-mode", "full"], {}, 7200.0),  # unset: ZAP's own limit for the mode
        (["--zap-mode", "full"], {"SECSCAN_TIMEOUT_ZAP": "1800"}, 1800.0),
        ([], {}, 1800.0),
        (["--zap-mode", "api", "--timeout", "zap=600"], {}, 600.0),
    ],
)
def test_a_set_timeout_is_kept_whatever_its_value(
    tmp_path: Path, flags: list[str], env: dict[str, str], expected: float
) -> None:
    ctx = _ctx(scan, [str(tmp_path), *flags])
    cfg = config.load(tmp_path, flag_layer(ctx, "scan").values, env=env)
    assert timeout_of(cfg) == expected


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=cwd, check=True, capture_output=True
    )


@pytest.fixture
def merge_request(tmp_path: Path) -> Path:
    """``[tool.secscan]`` at the merge base; the merge request changes ``skip`` and adds ``exclude``."""
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text('[tool.secscan]\nskip = ["zap"]\njobs = 3\n')
    _git(proj, "init", "-q", "-b", "main")
    _git(proj, "add", ".")
    _git(proj, "commit", "-qm", "base")
    (proj / "pyproject.toml").write_text('[tool.secscan]\nskip = ["zap", "bandit"]\njobs = 3\nexclude = ["x/"]\n')
    _git(proj, "commit", "-qam", "head")
    return proj


def _rows(output: str) -> dict[str, list[str]]:
    lines = output.splitlines()
    header = lines[0]
    starts = [header.index(h) for h in ("setting", "value", "layer", "decides the verdict", "pending")]
    cut = [*starts[1:], None]
    return {
        line[: starts[1]].strip(): [line[a:b].strip() for a, b in zip(starts[1:], cut[1:], strict=True)]
        for line in lines[1:]
    }


def test_config_show_lists_each_layer_and_the_pending_change(merge_request: Path) -> None:
    env = {"SECSCAN_FORMATS": "html", "SECSCAN_EXCLUD": "typo"}
    res = CliRunner().invoke(show, [str(merge_request), "--diff-base", "HEAD~1", "--zap-mode", "full"], env=env)
    assert res.exit_code == 0, res.output + repr(res.exception)
    rows = _rows(res.stdout)
    assert rows["skip"][0] == "zap"  # the merge base's value decides...
    assert rows["skip"][1].startswith("file at merge base (pyproject.toml at ")
    assert rows["skip"][2:] == ["yes", "zap, bandit"]  # ...the merge request's is pending
    assert rows["exclude"] == ["(unset)", "default", "yes", "x/"]
    assert rows["jobs"][:2] == ["3", rows["skip"][1]]
    assert rows["formats"] == ["html", "env (SECSCAN_FORMATS)", "", ""]
    assert rows["zap_mode"] == ["full", "flag (--zap-mode)", "yes", ""]
    assert rows["out_dir"] == ["secscan-out", "default", "", ""]
    assert rows["timeouts"][:2] == ["(unset)", "default"]
    assert "unknown environment variable SECSCAN_EXCLUD (did you mean SECSCAN_EXCLUDE?)" in res.stderr


def test_config_show_without_a_diff_base_reads_the_tree(merge_request: Path) -> None:
    res = CliRunner().invoke(show, [str(merge_request), "--timeout", "zap=1800"], env={})
    assert res.exit_code == 0, res.output + repr(res.exception)
    rows = _rows(res.stdout)
    assert rows["skip"][:2] == ["zap, bandit", f"file ({merge_request / 'pyproject.toml'})"]
    assert rows["timeouts.zap"][:2] == ["1800.0", "flag (--timeout)"]


def test_unknown_secscan_variables_warn_and_known_ones_do_not() -> None:
    env = {
        "SECSCAN_EXCLUD": "tests",
        "SECSCAN_DEBUG": "1",  # read by the CLI
        "SECSCAN_TIMEOUT_SEMGREP": "5",  # one per scanner
        "SECSCAN_IMAGE": "x",  # the CI template's
        "SECSCAN_GITLAB_TOKEN": "t",
        "SECSCAN_TIMEOUT_NOSUCH": "5",
    }
    assert config.env_warnings(env) == (
        "unknown environment variable SECSCAN_EXCLUD (did you mean SECSCAN_EXCLUDE?)",
        "unknown environment variable SECSCAN_TIMEOUT_NOSUCH (did you mean SECSCAN_TIMEOUT_ZAP?)",
    )


def test_secscan_json_records_where_settings_came_from_and_old_files_still_read() -> None:
    policy = RecordedPolicy(name="default", origin="builtin", sha256="0" * 64, definition={})
    origins = (
        SettingOrigin(key="skip", layer="file at merge base", where="pyproject.toml at 1a2b (merge base)"),
        SettingOrigin(key="timeouts.zap", layer="flag", where="--timeout"),
    )
    run = RunResult(
        tool_version="1",
        target=".",
        started_at="2026-01-01T00:00:00Z",
        finished_at="2026-01-01T00:00:01Z",
        judged_with=JudgedWith(policy=policy, settings_origin=origins),
    )
    text = dumps_result(run)
    assert json.loads(text)["judged_with"]["settings_origin"][1] == {
        "key": "timeouts.zap",
        "layer": "flag",
        "where": "--timeout",
    }
    back = loads_result(text, origin="r.json")
    assert back.judged_with is not None and back.judged_with.settings_origin == origins
    # Written before the field existed: read as "not recorded"; origins never split a merge.
    old = json.loads(text)
    del old["judged_with"]["settings_origin"]
    older = loads_result(json.dumps(old), origin="old.json")
    assert older.judged_with is not None and older.judged_with.settings_origin == ()
    assert older.judged_with.settings_key() == back.judged_with.settings_key()


def test_the_settings_package_imports_nothing_above_it() -> None:
    code = (
        "import sys, secscan.settings, secscan.settings.options, secscan.settings.docs;"
        "print(' '.join(m for m in sys.modules if m.startswith('secscan')))"
    )
    loaded = set(subprocess.check_output([sys.executable, "-c", code], text=True).split())
    below = {"secscan", "secscan.errors", "secscan.models", "secscan.testcode"}
    assert {m for m in loaded if not m.startswith("secscan.settings")} <= below
