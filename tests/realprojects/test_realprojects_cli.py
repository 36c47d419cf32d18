"""CLI consistency (issue 16): one spelling for output options and boolean pairs, usage errors
exit 2, publish --dry-run offline, did-you-mean, readable titles."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from secscan.scanners.semgrep import readable_title
from tests.conftest import DATA
from tests.support.cli import secscan

_run = functools.partial(secscan, clean=True, env={"COLUMNS": "200"})

RESULT = DATA / "reporters" / "result.json"


def test_mistyped_command_gets_a_suggestion(tmp_path: Path) -> None:
    proc = _run("scna", cwd=tmp_path)
    assert proc.returncode == 2
    assert "did you mean 'scan'" in proc.stderr.lower() and "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["scan", "report", "gate", "merge", "import", "dashboard"])
def test_every_command_writes_with_dash_o_out(command: str, tmp_path: Path) -> None:
    proc = _run(command, "--help", cwd=tmp_path)
    assert proc.returncode == 0
    assert "-o, --out" in proc.stdout
    assert "--output" not in proc.stdout and "--fail-open" not in proc.stdout


def test_old_spellings_still_work(tmp_path: Path) -> None:
    proc = _run("report", str(RESULT), "-f", "markdown", "--output", str(tmp_path / "s.md"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "s.md").read_text().startswith("## secscan security report")
    # --fail-open is still taken (the usage error here is the missing folder, not the flag)
    proc = _run("scan", str(tmp_path / "missing"), "--fail-open", cwd=tmp_path)
    assert proc.returncode == 2 and "no such option" not in proc.stderr.lower()


def test_boolean_pairs_are_x_and_no_x(tmp_path: Path) -> None:
    for command in ("scan", "gate", "publish"):
        out = _run(command, "--help", cwd=tmp_path).stdout
        if "--fail-closed" in out:
            assert "--fail-closed / --no-fail-closed" in out, command
        if "--require-publish" in out:
            assert "--require-publish / --no-require-publish" in out, command


def test_publish_usage_errors_exit_2_and_dry_run_works_offline(tmp_path: Path) -> None:
    proc = _run("publish", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stderr.startswith("secscan: error:")
    proc = _run("publish", str(RESULT), "--dry-run", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "would publish" in proc.stdout + proc.stderr
    assert "?!?" not in proc.stdout + proc.stderr


def test_scan_help_lists_formats_and_exit_codes(tmp_path: Path) -> None:
    out = _run("scan", "--help", cwd=tmp_path).stdout
    for word in ("sarif", "gitlab-dependency-scanning", "html", "70", "130/143"):
        assert word in out


@pytest.mark.parametrize(
    ("rule", "title"),
    [
        ("rules.semgrep.aes-ecb-mode", "AES ECB mode"),
        ("python.jwt.security.jwt-decode-without-verify", "JWT decode without verify"),
        ("payment_sql_string_concat", "Payment SQL string concat"),
        ("md5-used-as-password", "MD5 used as password"),
    ],
)
def test_readable_titles(rule: str, title: str) -> None:
    assert readable_title(rule) == title
