"""Incomplete is never ok (issues trust-2 class 3, reliability "every file accounted for").

A file a scanner was handed and could not analyse (a per-file exception, a size limit, a file
skipped as binary that is text, a name that is not UTF-8, a file the report never mentions) makes
that scanner incomplete: the file is named, the other files' findings are kept, and the default
policy fails closed (exit 3), live and through ``secscan import`` + ``gate`` alike. Each hostile
merge request sits next to a control that differs only by the hostile change.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import secscan
from tests.support.mergerequest import job_env, make_mr, scan_mr

VULN = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
# 1,500 terms: bandit's AST visitor recurses past Python's limit ("exception while scanning file").
DEEP = "import subprocess\n\n\ndef run(cmd, x):\n    y = " + " + ".join(["x"] * 1500) + "\n"
DEEP += "    return subprocess.call(cmd, shell=True)\n"
# A Stripe-shaped live key, built from parts so no scanner flags this test's source.
LIVE_KEY = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dcQ9"


def _import_and_gate(repo: Path, tool: str, raw: Path) -> tuple[int, dict]:
    """``secscan import --tool TOOL raw`` then ``secscan gate``: the verdict of the same report."""
    out = repo.parent / f"imported-{tool}.json"
    imp = secscan("import", "--tool", tool, str(raw), "-o", str(out), "--root", str(repo), cwd=repo)
    assert imp.returncode == 0, imp.stderr
    gated = repo.parent / f"gated-{tool}.json"
    code = secscan("gate", str(out), "-o", str(gated), cwd=repo).returncode
    return code, json.loads(gated.read_text())


def _bandit_report(repo: Path, *files: str) -> Path:
    """The raw report real bandit writes for these files (what a split pipeline would import)."""
    out = repo.parent / "bandit-raw.json"
    bandit = Path(sys.executable).parent / "bandit"
    subprocess.run(
        [str(bandit), "-f", "json", "-o", str(out), "-q", "--", *(str(repo / f) for f in files)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert out.is_file()
    return out


def _incomplete(status: dict) -> list[str]:
    return list(status.get("incomplete_files", []))


# ------------------------------------------------------------------ bandit


def test_bandit_exception_while_scanning_file_fails_closed_live_and_imported(tmp_path: Path) -> None:
    repo, base = make_mr(tmp_path, {"app.py": "X = 1\n"}, {"deep.py": DEEP, "other.py": VULN})
    scan = scan_mr(repo, base, "bandit")
    status = scan.status("bandit")
    assert status["state"] == "failed"
    assert _incomplete(status) == ["deep.py (exception while scanning file)"]
    # The rest is kept: other.py's shell=True is found (and blocks: exit 1 wins over 3).
    assert "B602" in scan.new_rules() and scan.code == 1
    assert any("deep.py" in r["message"] for r in scan.result["verdict"]["reasons"])
    code, gated = _import_and_gate(repo, "bandit", _bandit_report(repo, "deep.py", "other.py"))
    assert code == 1 and any("deep.py" in r["message"] for r in gated["verdict"]["reasons"])


def test_bandit_exception_alone_is_exit_3_and_its_control_is_exit_1(tmp_path: Path) -> None:
    repo, base = make_mr(tmp_path, {"app.py": "X = 1\n"}, {"deep.py": DEEP})
    scan = scan_mr(repo, base, "bandit", extra=("--no-cache",))
    assert scan.code == 3 and "deep.py (exception while scanning file)" in scan.status("bandit")["error"]
    code, _ = _import_and_gate(repo, "bandit", _bandit_report(repo, "deep.py"))
    assert code == 3
    (tmp_path / "control").mkdir()
    control, cbase = make_mr(tmp_path / "control", {"app.py": "X = 1\n"}, {"deep.py": VULN})
    ctl = scan_mr(control, cbase, "bandit", extra=("--no-cache",))
    assert ctl.code == 1 and ctl.status("bandit")["state"] == "ok"


@pytest.mark.parametrize(
    "name",
    [b"caf\xe9.py", b"new\nline.py", b"q'uo\"te.py", b"back\\slash.py"],
    ids=["latin1", "newline", "quotes", "backslash"],
)
def test_any_byte_sequence_is_a_file_name(tmp_path: Path, name: bytes) -> None:
    fname = os.fsdecode(name)
    repo, base = make_mr(tmp_path, {"app.py": "X = 1\n"}, {fname: VULN})
    scan = scan_mr(repo, base, "bandit")
    # Never a crash (exit 70), never a silent pass: found (exit 1) or named as not analysed.
    assert scan.code in (1, 3), scan.stderr
    status = scan.status("bandit")
    if scan.code == 3:
        assert status["incomplete_files"], status
    if name == b"caf\xe9.py":
        assert _incomplete(status) == ["caf\\xe9.py (file name is not valid UTF-8)"]
    if name in (b"new\nline.py", b"q'uo\"te.py"):
        assert status["state"] == "ok" and "B602" in scan.new_rules()


# ------------------------------------------------------------------ fake scanners


def _fake(tmp_path: Path, name: str, script: str) -> str:
    path = tmp_path / name
    path.write_text("#!" + sys.executable + "\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


_FAKE_BANDIT = """
import json, sys
out = sys.argv[sys.argv.index("-o") + 1]
json.dump({"errors": [], "results": [], "metrics": {"_totals": {}}}, open(out, "w"))
"""

_FAKE_SEMGREP = """
import json, sys
json.dump({"errors": [], "results": [], "paths": {"scanned": []}, "version": "1.182.0"}, sys.stdout)
"""

_FAKE_DETECT_SECRETS = """
print("{}")
"""


@pytest.mark.parametrize(
    ("scanner", "env_name", "script"),
    [
        ("bandit", "SECSCAN_BANDIT_BIN", _FAKE_BANDIT),
        ("semgrep", "SECSCAN_SEMGREP_BIN", _FAKE_SEMGREP),
        ("detect-secrets", "SECSCAN_DETECT_SECRETS_BIN", _FAKE_DETECT_SECRETS),
    ],
)
def test_a_scanner_that_reports_nothing_scanned_fails_closed(
    tmp_path: Path, scanner: str, env_name: str, script: str
) -> None:
    repo, base = make_mr(tmp_path, {"app.py": "X = 1\n"}, {"pay.py": VULN})
    fake = _fake(tmp_path, scanner, script)
    scan = scan_mr(repo, base, scanner, extra=("--no-cache",), env=job_env(base, **{env_name: fake}))
    assert scan.code == 3, scan.stdout
    status = scan.status(scanner)
    assert status["state"] == "failed"
    if scanner != "detect-secrets":
        assert any(f.startswith("pay.py (") for f in _incomplete(status)), status


# ------------------------------------------------------------------ semgrep


def test_semgrep_large_file_is_never_skipped_silently(tmp_path: Path) -> None:
    # 1.2 MB of Python with a card number literal at the end: semgrep's default limit (1 MB)
    # skipped it without a word. secscan sets 10 MB: the finding comes back, or (a rule that runs
    # past the per-file timeout on a loaded machine) the file is named and the gate fails closed.
    filler = "".join(f"# {i:06d} " + "x" * 90 + "\n" for i in range(12_500))
    assert len(filler) > 1_200_000
    pan = "4111" + "1111" + "1111" + "1111"
    repo, base = make_mr(tmp_path, {"app.py": "X = 1\n"}, {"big.py": filler + f'CARD = "{pan}"\n'})
    scan = scan_mr(repo, base, "semgrep", extra=("--no-cache",))
    status = scan.status("semgrep")
    assert "--max-target-bytes" in status["command"]
    if status["state"] == "ok":
        # Found at the end of the file (whether a card literal blocks is the policy's matter).
        assert any(f["location"]["path"] == "big.py" and f["status"] == "new" for f in scan.result["findings"])
    else:
        assert [f for f in _incomplete(status) if f.startswith("big.py (")], status
        assert scan.code in (1, 3)


def test_semgrep_file_over_the_limit_is_incomplete_live_and_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same report semgrep writes for a skipped file (--verbose lists it), and a file it never
    # mentions: both make the import incomplete.
    repo, _ = make_mr(tmp_path, {"app.py": "X = 1\n"}, {"big.py": "X = 2\n"})
    report = {
        "errors": [
            {
                "code": 3,
                "level": "warn",
                "type": ["Timeout", []],
                "message": "Timeout when running a rule on slow.py",
                "path": str(repo / "slow.py"),
            }
        ],
        "results": [],
        "paths": {
            "scanned": [str(repo / "app.py")],
            "skipped": [{"path": str(repo / "big.py"), "reason": "exceeded_size_limit"}],
        },
    }
    raw = tmp_path / "semgrep.json"
    raw.write_text(json.dumps(report))
    code, gated = _import_and_gate(repo, "semgrep", raw)
    assert code == 3
    [reason] = [r["message"] for r in gated["verdict"]["reasons"]]
    assert "big.py (skipped: exceeded_size_limit)" in reason and "slow.py (Timeout:" in reason


# ------------------------------------------------------------------ detect-secrets


def test_detect_secrets_key_in_a_config_with_a_nul_byte_blocks(tmp_path: Path) -> None:
    config = f"# settings\nSTRIPE_KEY = '{LIVE_KEY}'\n"
    repo, base = make_mr(tmp_path, {"app.py": "X = 1\n"}, {"settings.cfg": config.encode() + b"\0\n"})
    scan = scan_mr(repo, base, "detect-secrets")
    hits = [f for f in scan.result["findings"] if f["location"]["path"] == "settings.cfg"]
    assert hits and hits[0]["location"]["start_line"] == 2, scan.result["findings"]
    assert scan.code == 1
    assert LIVE_KEY not in json.dumps(scan.result)  # masked as any other secret
    (tmp_path / "control").mkdir()
    control, cbase = make_mr(tmp_path / "control", {"app.py": "X = 1\n"}, {"settings.cfg": config})
    ctl = scan_mr(control, cbase, "detect-secrets")
    assert ctl.code == 1


def test_detect_secrets_key_in_a_file_named_like_a_binary_blocks(tmp_path: Path) -> None:
    # detect-secrets skips ".css", ".svg", ".bin" ... by name; the content is text.
    repo, base = make_mr(tmp_path, {"app.py": "X = 1\n"}, {"theme.css": f"/* {LIVE_KEY} */\n"})
    scan = scan_mr(repo, base, "detect-secrets")
    assert scan.code == 1 and any(f["location"]["path"] == "theme.css" for f in scan.result["findings"])


def test_detect_secrets_text_heuristic() -> None:
    from secscan.scanners.secret_text import is_text, text_form

    assert is_text(b"a = 1\n\0") and is_text(b"") and not is_text(b"\0\0\0")
    assert not is_text(bytes(range(256)) * 4)
    nul = text_form(b"a\0b\nc\n")
    assert nul is not None and nul.data == b"a b\nc\n" and nul.bulk is None
    assert text_form(b"plain\n") is None
    latin1 = text_form(b"caf\xe9\nkey\n")
    assert latin1 is not None and latin1.data.count(b"\n") == 2
