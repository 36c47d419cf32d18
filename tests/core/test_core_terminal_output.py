"""What a developer reads after a scan (issue 30): findings they can act on, in a real terminal
(tmux) and in a CI log (no terminal).

The demo scan of examples/payment-app (offline advisories from examples/advisories) is read back
from its own secscan.json: every blocking finding must be on the screen with its place, its code
(masked), its fix, its fingerprint and a suppression line that the suppressions file accepts and
that suppresses it; the policy clause is said once; nothing is wrapped or cut without a terminal;
the severity table, the scanners table and the sections count the same findings.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

from secscan import resultio
from secscan.models import RunResult, Status
from secscan.reporters import _common, terminal
from secscan.textsafe import one_line
from secscan.triage import suppressions
from tests.conftest import ROOT, require, require_tool
from tests.support.cli import Run, secscan, shell_env

EXAMPLE = ROOT / "examples" / "payment-app"
ADVISORIES = ROOT / "examples" / "advisories"
SECRETS = (
    "sk_live_51HxDemoDemoDemo0123456789abcdefABCDEF",
    "sk_live_51DemoFakeKey000000000000000000",
    "4916338506082832",
)
SUPPRESS = re.compile(
    r"^    suppress: secscan suppress (v1:[0-9a-f]+) --reason '[^']+' --expires \d{4}-\d\d-\d\d( --result \S+)?$"
)
CODE = re.compile(r"^ {6}\s*\d+ \| ")

pytestmark = pytest.mark.xdist_group("terminal-output")


def _tools() -> None:
    for tool in ("bandit", "semgrep", "pip-audit", "detect-secrets"):
        require_tool(tool)


@pytest.fixture(scope="module")
def ci_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, RunResult, Path]:
    """The demo scan as a CI job sees it: no terminal, no COLUMNS."""
    _tools()
    out = tmp_path_factory.mktemp("demo-ci")
    env = {k: v for k, v in shell_env(clean=True).items() if k not in ("COLUMNS", "LINES")}
    run = secscan("scan", EXAMPLE, "--advisory-db", ADVISORIES, "--out", out, "--no-progress", env=env)
    assert run.code == 1, run.stdout + run.stderr
    return run, resultio.load(out / "secscan.json"), out


def _blocking(result: RunResult) -> list[str]:
    assert result.verdict is not None
    return _common.dedupe([r.fingerprint for r in result.verdict.reasons if r.fingerprint])


def _check_findings(screen: str, result: RunResult) -> None:
    """Every blocking finding is there in full; the policy clause once; secrets masked."""
    lines = screen.splitlines()
    blocking = _blocking(result)
    assert len(blocking) > 10
    by_fp = {f.fingerprint: f for f in result.findings}
    suppress_lines = [m.group(1) for ln in lines if (m := SUPPRESS.match(ln))]
    assert set(blocking) <= set(suppress_lines)
    for fp in blocking:
        f = by_fp[fp]
        assert f"    fingerprint: {fp}" in lines
        start = lines.index(f"    fingerprint: {fp}")
        block = lines[max(0, start - 12) : start]
        where = _common.location_text(f.location)
        assert any(ln.startswith(f"    at {where}  (") for ln in block), (where, block)
        if f.location.snippet:
            assert any(CODE.match(ln) for ln in block), f"no code lines for {f.rule_id}"
        if f.fix:
            assert any(ln.startswith("    fix: ") for ln in block), f"no fix for {f.rule_id}"
        cwes = f.cwe_ids()
        if cwes:
            assert any(ln.startswith("    ids: ") and cwes[0] in ln for ln in block)
    # A vulnerable pin says which version fixes it; semgrep's code lines are numbered.
    assert any(ln.startswith("    fix: Upgrade ") for ln in lines)
    # The policy clause is said once above its findings and once in the verdict, never per finding.
    clause = next(r.rule for r in result.verdict.reasons if r.fingerprint)  # type: ignore[union-attr]
    assert sum(clause in ln for ln in lines) == 2
    assert f"Blocking: {len(blocking)} finding(s) by {clause} (policy default)" in lines
    for secret in SECRETS:
        assert secret not in screen


def _table(lines: list[str], title: str) -> dict[str, list[str]]:
    """A rich table's rows by their first cell (the header row included)."""
    start = next(i for i, ln in enumerate(lines) if ln.strip() == title)
    rows: dict[str, list[str]] = {}
    for ln in lines[start + 1 :]:
        if ln.startswith("└"):
            break
        if ln.startswith(("│", "┃")):
            cells = [c.strip() for c in re.split(r"[│┃]", ln)[1:-1]]
            rows[cells[0]] = cells[1:]
    return rows


def _check_counts(screen: str, result: RunResult) -> None:
    """One count of findings in every table and section (issue 30: semgrep 49 vs 51)."""
    lines = screen.splitlines()
    sev = _table(lines, "Findings by severity")
    health = _table(lines, "Scanners")
    assert sev.pop("scanner")[-1] == "findings" and health.pop("scanner")[3:5] == ["results", "findings"]
    for name, cells in sev.items():
        assert sum(int(c) for c in cells[:-1]) == int(cells[-1]), name
    active = [f for f in result.findings if f.status is not Status.FIXED]
    assert int(sev["all"][-1]) == len(active)
    for status in result.scanners:
        results, findings = (int(c) for c in health[status.name][3:5])
        assert results == status.findings
        assert findings == int(sev.get(status.name, ["0"])[-1]), status.name
        assert findings == sum(1 for f in active if status.name in {s.scanner for s in f.sources})
    # The sections count the same findings: blocking + not blocking = all.
    blocked = int(re.search(r"^Blocking: (\d+) finding", screen, re.M).group(1))  # type: ignore[union-attr]
    rest = int(re.search(r"^Not blocking: (\d+) finding", screen, re.M).group(1))  # type: ignore[union-attr]
    assert blocked + rest == len(active)
    per_rule = [int(m.group(1)) for m in re.finditer(r"^ +(\d+) x ", screen, re.M)]
    assert sum(per_rule) == rest


def test_ci_log_shows_each_blocking_finding_in_full(ci_log: tuple[Run, RunResult, Path]) -> None:
    run, result, _ = ci_log
    _check_findings(run.stdout, result)


def test_ci_log_counts_agree_across_tables_and_sections(ci_log: tuple[Run, RunResult, Path]) -> None:
    run, result, _ = ci_log
    _check_counts(run.stdout, result)


def test_ci_log_wraps_and_cuts_nothing(ci_log: tuple[Run, RunResult, Path]) -> None:
    run, result, _ = ci_log
    lines = run.stdout.splitlines()
    assert max(len(ln) for ln in lines) > 200, "long lines stay whole without a terminal"
    for fp in _blocking(result):
        f = next(f for f in result.findings if f.fingerprint == fp)
        first = one_line(re.split(r"\n\s*\n", f.message.strip())[0], 10_000)
        shown = [ln for ln in lines if ln.startswith("    ") and first in ln]
        if first not in one_line(f.title, 10_000):
            assert shown, f"the message of {f.rule_id} is not on one line"
    assert not [ln for ln in lines if ln.endswith("…")]
    assert any(ln.startswith("(findings after merging:") for ln in lines)


def test_suppression_lines_write_entries_that_suppress(ci_log: tuple[Run, RunResult, Path], tmp_path: Path) -> None:
    """The printed `suppress:` lines, run as they are (after writing a reason), add entries to
    the trusted suppressions file that suppress exactly the findings they were printed for."""
    run, result, out = ci_log
    commands = [ln.removeprefix("    suppress: ") for ln in run.stdout.splitlines() if SUPPRESS.match(ln)]
    assert commands
    file = tmp_path / "suppressions.toml"
    env = {**shell_env(clean=True), "GIT_AUTHOR_EMAIL": "dev@example.com"}
    for command in commands:
        argv = shlex.split(command.replace(terminal.REASON, "reviewed: test fixture"))
        assert argv[:2] == ["secscan", "suppress"] and argv[argv.index("--result") + 1] == str(out / "secscan.json")
        done = secscan(*argv[1:], "--suppressions", file, "--owner", "dev@example.com", env=env)
        assert done.code == 0, done.stderr
    rules = suppressions.load_rules(file)
    assert len(rules) == len(commands)
    today = _common.parse_timestamp(result.finished_at, "finished_at").date()
    assert all(r.expires is not None and r.expires > today for r in rules), "an accepted risk is reviewed again"
    applied = suppressions.apply_rules(result.findings, rules, today=today)
    now_suppressed = {f.fingerprint for f in applied.findings if f.status is Status.SUPPRESSED}
    assert set(_blocking(result)) <= now_suppressed
    assert now_suppressed == {r.fingerprint for r in rules}


def test_gate_prints_the_details_scan_printed(ci_log: tuple[Run, RunResult, Path]) -> None:
    run, result, out = ci_log
    env = shell_env(clean=True)
    gate = secscan("gate", out / "secscan.json", env=env)
    assert gate.code == 1, gate.stderr

    def section(text: str) -> str:
        end = "\nVERDICT:" if "\nVERDICT:" in text else "\nsecscan gate:"
        return text[text.index("\nNot blocking:") : text.index(end)]

    assert section(gate.stdout) == section(run.stdout)
    verbose = secscan("gate", out / "secscan.json", "--verbose", env=env)
    for f in result.findings:
        assert f"    fingerprint: {f.fingerprint}" in verbose.stdout.splitlines()
    assert " x " not in verbose.stdout.split("Blocking:")[0], "--verbose lists, not counts"


def test_terminal_report_lists_every_finding(ci_log: tuple[Run, RunResult, Path]) -> None:
    _, result, _ = ci_log
    text = terminal.render(result)
    for f in result.findings:
        assert f"    fingerprint: {f.fingerprint}" in text.splitlines()


# ------------------------------------------------------------------ heartbeat


def test_heartbeat_while_a_scanner_runs(tmp_path: Path) -> None:
    """A CI log hears from a running scanner at least every `--heartbeat` seconds: the real
    bandit, started through a stand-in that first sleeps (a 15 s wait would be too slow here)."""
    real = require_tool("bandit")
    slow = tmp_path / "slow-bandit"
    slow.write_text(f'#!/bin/sh\nsleep 3\nexec {shlex.quote(real)} "$@"\n')
    slow.chmod(0o755)
    project = tmp_path / "p"
    project.mkdir()
    (project / "app.py").write_text("import hashlib\n\n\ndef token(pw):\n    return hashlib.md5(pw).hexdigest()\n")
    env = shell_env(clean=True, SECSCAN_BANDIT_BIN=str(slow))
    run = secscan(
        "scan", project, "--only", "bandit", "--no-cache", "--heartbeat", "0.5",
        "--out", tmp_path / "o", "--no-progress", env=env,
    )  # fmt: skip
    beats = re.findall(r"^\[secscan \+ *\d+\.\ds\] bandit: still running \((\d+)s so far\)$", run.stderr, re.M)
    assert len(beats) >= 2, run.stderr
    assert [int(b) for b in beats] == sorted(int(b) for b in beats)
    log = run.stderr.splitlines()
    started = next(i for i, ln in enumerate(log) if ln.endswith("bandit: started"))
    finished = next(i for i, ln in enumerate(log) if "bandit: finished" in ln)
    assert all("still running" in ln for ln in log[started + 1 : finished] if "bandit" in ln)
    assert not any("still running" in ln for ln in log[finished:])


def test_heartbeat_must_be_positive() -> None:
    run = secscan("scan", EXAMPLE, "--heartbeat", "0", env=shell_env(clean=True))
    assert run.code == 2 and "heartbeat" in run.stderr and "Traceback" not in run.stderr


# ------------------------------------------------------------------ a real terminal


def _tmux_screen(tmp_path: Path, argv: list[str], env: dict[str, str], *, width: int) -> tuple[str, int]:
    """Run ``argv`` in a detached tmux terminal of ``width`` columns; the whole scrollback with
    wrapped lines joined (-J), and the exit code."""
    tmux = shutil_which("tmux")
    require(tmux is not None, "executable 'tmux'")
    assert tmux is not None
    conf = tmp_path / "tmux.conf"
    conf.write_text("set -g history-limit 50000\n")
    sock = f"secscan-test-{os.getpid()}-{time.monotonic_ns()}"
    exported = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items() if re.fullmatch(r"[A-Za-z_]\w*", k))
    command = f"env -i {exported} {shlex.join(argv)}; echo SECSCAN-EXIT=$?; sleep 600"
    base = [tmux, "-L", sock, "-f", str(conf)]
    subprocess.run([*base, "new-session", "-d", "-x", str(width), "-y", "50", "-s", "t", command], check=True)
    try:
        deadline = time.monotonic() + 600
        while True:
            screen = subprocess.run(
                [*base, "capture-pane", "-p", "-J", "-S", "-", "-E", "-", "-t", "t"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            m = re.search(r"^SECSCAN-EXIT=(\d+)$", screen, re.M)
            if m or time.monotonic() > deadline:
                break
            time.sleep(1)
    finally:
        subprocess.run([*base, "kill-server"], check=False, capture_output=True)
    assert m, screen[-3000:]
    return screen, int(m.group(1))


def shutil_which(name: str) -> str | None:
    import shutil

    return shutil.which(name)


def test_real_terminal_shows_the_same_actionable_findings(tmp_path: Path) -> None:
    _tools()
    out = tmp_path / "o"
    env = {k: v for k, v in shell_env(clean=True).items() if k not in ("COLUMNS", "LINES")}
    env.update({"TERM": "xterm-256color", "PYTHONPATH": str(ROOT)})
    argv = [sys.executable, "-m", "secscan", "scan", str(EXAMPLE), "--advisory-db", str(ADVISORIES), "--out", str(out)]
    screen, code = _tmux_screen(tmp_path, argv, env, width=160)
    assert code == 1, screen[-3000:]
    result = resultio.load(out / "secscan.json")
    _check_findings(screen, result)
    _check_counts(screen, result)
    assert "[secscan +" not in screen, "a terminal gets the live display, not log lines"
    # The terminal's width is used (tables fit), and nothing is cut short.
    assert not [ln for ln in screen.splitlines() if ln.endswith("…")]


def test_pip_audit_without_its_service_points_to_the_advisory_db(tmp_path: Path) -> None:
    """Issue 30: offline, pip-audit's "not found on PyPI" (or, behind a proxy, a refused
    connection) gave no hint. The real pip-audit, its service made unreachable by a proxy that
    refuses: the run fails closed and says how to audit offline."""
    require_tool("pip-audit")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "requirements.txt").write_text("requests==2.19.1\n")
    dead = "http://127.0.0.1:9"
    env = shell_env(clean=True, HTTPS_PROXY=dead, HTTP_PROXY=dead, https_proxy=dead, http_proxy=dead)
    run = secscan("scan", tmp_path / "app", "--only", "pip-audit", "--out", tmp_path / "o", "--no-progress", env=env)
    assert run.code == 3, run.stdout + run.stderr
    assert "audit against a local advisory database with --advisory-db PATH" in run.stdout
    # With a local advisory database the hint has no reason to be there, and the job's proxy is
    # not used for the loopback advisory server (NO_PROXY): requests 2.19.1's advisories are found.
    ok = secscan(
        "scan", tmp_path / "app", "--only", "pip-audit", "--advisory-db", ADVISORIES, "--out", tmp_path / "o2",
        "--no-progress", env=env,
    )  # fmt: skip
    assert ok.code == 0 and "--advisory-db PATH" not in ok.stdout, ok.stdout
    assert "PYSEC-2018-28" in ok.stdout and "NOT audited" not in ok.stdout


def test_mr_summary_counts_the_same_findings(ci_log: tuple[Run, RunResult, Path]) -> None:
    """The MR note (the terminal's twin) counts findings after merging, like the terminal:
    its total, its scanner table's findings column and its blocking section agree."""
    from secscan.reporters import markdown

    _, result, _ = ci_log
    text = markdown.render(result, max_chars=1_000_000)
    active = [f for f in result.findings if f.status is not Status.FIXED]
    assert f"**{len(active)} findings**" in text
    counts = _common.counts(result)
    for status in result.scanners:
        row = next(ln for ln in text.splitlines() if ln.startswith(f"| {status.name.replace('-', chr(92) + '-')} |"))
        cells = [c.strip() for c in row.split("|")[1:-1]]
        assert (int(cells[3]), int(cells[4])) == (status.findings, counts.findings_of(status.name)), row
    blocking = _blocking(result)
    assert f"### Blocking findings ({len(blocking)})" in text
    for fp in blocking:
        assert f"**Fingerprint:** `{fp}`" in text


def test_columns_sets_the_width_without_a_terminal(
    ci_log: tuple[Run, RunResult, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """COLUMNS is the width of the tables in a log; the finding lines are never wrapped or cut."""
    import io

    from secscan import console

    _, result, _ = ci_log
    monkeypatch.setenv("COLUMNS", "90")
    out = io.StringIO()
    console.summary(result, stream=out, color=False)
    lines = out.getvalue().splitlines()
    tables = [ln for ln in lines if ln[:1] in "┏┃┡│└"]
    assert tables and max(len(ln) for ln in tables) <= 90
    long = [ln for ln in lines if SUPPRESS.match(ln)]
    assert long and all(len(ln) > 90 for ln in long), "whole lines, not wrapped at 90"
    monkeypatch.delenv("COLUMNS")
    assert console.output_width(io.StringIO()) == console.UNLIMITED


def test_a_huge_verdict_stays_readable_in_a_job_log() -> None:
    """GitLab cuts a job log at 4 MB: without --verbose the first blocking findings are shown in
    full, the next in one line each, the rest counted; the verdict line still comes last."""
    from dataclasses import replace

    from secscan.models import BlockReason, Finding, Kind, Location, Severity, Verdict
    from tests.support.results import result as build

    base = Finding(
        kind=Kind.SAST, scanner="bandit", rule_id="B602", title="shell", message="subprocess with shell=True",
        severity=Severity.HIGH, severity_original="HIGH", location=Location(path="app.py", start_line=1),
    )  # fmt: skip
    n = terminal.FULL_BLOCKING + terminal.BRIEF_BLOCKING + 7
    findings = [
        replace(base, fingerprint=f"v1:{i:032x}", location=Location(path=f"m{i}.py", start_line=1)) for i in range(n)
    ]
    reasons = tuple(BlockReason(rule="block.x", message="m", fingerprint=f.fingerprint) for f in findings)
    res = build(*findings, verdict=Verdict(passed=False, exit_code=1, policy="default", reasons=reasons))
    lines = terminal.details(res) + terminal.verdict_lines(res)
    assert sum(ln.startswith("    fingerprint: ") for ln in lines) == terminal.FULL_BLOCKING
    assert sum(bool(re.match(r"^  HIGH  B602  at m\d+\.py:1  v1:", ln)) for ln in lines) == terminal.BRIEF_BLOCKING
    assert any("7 more are only in secscan.json" in ln for ln in lines)
    assert lines[-1].startswith("VERDICT: FAILED")
    everything = terminal.details(res, verbose=True)
    assert sum(ln.startswith("    fingerprint: ") for ln in everything) == n
