"""The real scanners (bandit, semgrep, pip-audit against the local advisory server) on the bundled
example app and on a scratch tree, end to end through the CLI."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from secscan.models import Kind, ScannerState, Status
from secscan.resultio import load
from tests.conftest import ROOT, require_tool
from tests.support.cli import Run
from tests.support.cli import secscan as _secscan

# Without the CI job's variables (a merge request pipeline running these tests sets a diff base).
secscan = functools.partial(_secscan, clean=True)

EXAMPLE = ROOT / "examples" / "payment-app"
ADVISORIES = ROOT / "examples" / "advisories"


@pytest.fixture(scope="module")
def example_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    for tool in ("bandit", "semgrep", "pip-audit"):
        require_tool(tool)
    out = tmp_path_factory.mktemp("example-out")
    proc = secscan("scan", str(EXAMPLE), "--advisory-db", str(ADVISORIES), "--out", str(out), "--no-progress")
    return proc, out


@pytest.mark.xdist_group("example-scan")
def test_example_app_all_three_scanners_report(example_scan: tuple[Run, Path]) -> None:
    proc, out = example_scan
    result = load(out / "secscan.json")
    states = {s.name: s.state for s in result.scanners}
    assert states == {
        "bandit": ScannerState.OK,
        "semgrep": ScannerState.OK,
        "pip-audit": ScannerState.OK,
        "npm-audit": ScannerState.OK,  # issue 19: examples/payment-app/checkout-node/package-lock.json
        "detect-secrets": ScannerState.OK,
        "tree": ScannerState.OK,  # issue 25: secscan's own checks of the checkout
    }, proc.stderr
    scanners_with_findings = {s.scanner for f in result.findings for s in f.sources}
    assert {"bandit", "semgrep", "pip-audit", "npm-audit"} <= scanners_with_findings
    deps = {f.location.package for f in result.findings if f.kind is Kind.DEPENDENCY}
    assert {"requests", "jinja2", "pyyaml", "flask"} <= {d.lower() for d in deps if d}
    assert "urllib3" not in {d.lower() for d in deps if d}, "urllib3 2.2.2 is not affected by the bundled advisories"
    # The run is reproducible: the advisory snapshot is recorded.
    assert result.advisory_db and result.advisory_db.startswith("sha256:")
    # The example app hard-codes a Luhn-valid card number: it is found, and never repeated in full.
    assert any(f.rule_id.endswith("card-number-literal") for f in result.findings)
    pan = "4916338506082832"
    assert pan not in (out / "secscan.json").read_text()
    assert "491633******2832" in (out / "secscan.json").read_text()
    for f in result.findings:
        assert f.fingerprint, "every finding has a fingerprint"
        if f.kind is Kind.SAST:
            assert f.location.path and not f.location.path.startswith("/"), "paths are repo-relative"


@pytest.mark.xdist_group("example-scan")
def test_example_app_gate_fails_with_exit_1_and_explains(
    example_scan: tuple[Run, Path],
) -> None:
    proc, out = example_scan
    assert proc.returncode == 1, proc.stdout + proc.stderr
    doc = json.loads((out / "secscan.json").read_text())
    assert doc["schema"] == "secscan/1"
    assert doc["verdict"]["passed"] is False
    assert doc["verdict"]["reasons"], "the verdict says which findings blocked"
    assert "FAILED" in proc.stdout
    assert "Findings by severity" in proc.stdout and "Scanners" in proc.stdout
    # Plain one-line progress events in a non-terminal log.
    assert "bandit: started" in proc.stderr and "pip-audit: finished ok" in proc.stderr


def test_clean_scratch_tree_passes(tmp_path: Path) -> None:
    require_tool("bandit")
    require_tool("semgrep")
    project = tmp_path / "clean"
    project.mkdir()
    (project / "app.py").write_text("def add(a: int, b: int) -> int:\n    return a + b\n")
    proc = secscan("scan", str(project), "--out", str(tmp_path / "out"), "--no-progress")
    result = load(tmp_path / "out" / "secscan.json")
    states = {s.name: s.state for s in result.scanners}
    # No requirements file: pip-audit has nothing to audit and says so (skipped is not an error).
    assert states["pip-audit"] is ScannerState.SKIPPED
    assert states["bandit"] is ScannerState.OK and states["semgrep"] is ScannerState.OK
    assert result.findings == ()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASSED" in proc.stdout


def test_config_file_and_env_and_flags_precedence(tmp_path: Path) -> None:
    require_tool("bandit")
    project = tmp_path / "proj"
    project.mkdir()
    (project / "app.py").write_text("import hashlib\nhashlib.md5(b'x')\n")
    (project / "pyproject.toml").write_text('[tool.secscan]\nonly = ["bandit", "semgrep"]\nout_dir = "from-file"\n')
    # The file says bandit+semgrep; the environment narrows to bandit; the flag sets --out.
    proc = secscan(
        "scan", str(project), "--out", str(tmp_path / "flag-out"), "--no-progress", env={"SECSCAN_ONLY": "bandit"}
    )
    result = load(tmp_path / "flag-out" / "secscan.json")
    assert [s.name for s in result.scanners] == ["bandit"]
    assert not (project / "from-file").exists()
    assert proc.returncode == 1  # B324 md5 is high


def test_scanners_run_concurrently(tmp_path: Path) -> None:
    """Two fake scanners that each sleep 2 s finish in about 2 s together, not 4 s."""
    require_tool("bandit")
    fakes = tmp_path / "bin"
    fakes.mkdir()
    for name in ("bandit", "semgrep"):
        script = fakes / name
        # A report that accounts for every file it was handed (bandit's per-file metrics,
        # semgrep's paths.scanned): a scan that names no file it read is incomplete (issue 25).
        script.write_text(
            f"#!{sys.executable}\nimport json, sys, time\ntime.sleep(2)\nargs = sys.argv[1:]\n"
            "files = args[args.index('--') + 1:]\n"
            "doc = {'results': [], 'errors': [], 'metrics': {f: {'loc': 1} for f in files},\n"
            "       'paths': {'scanned': files}}\n"
            # bandit writes its -o file; semgrep (osemgrep) prints its report.
            "open(args[args.index('-o') + 1], 'w').write(json.dumps(doc)) if '-o' in args else print(json.dumps(doc))\n"
        )
        script.chmod(0o755)
    project = tmp_path / "p"
    project.mkdir()
    (project / "a.py").write_text("x = 1\n")
    env = {"SECSCAN_BANDIT_BIN": str(fakes / "bandit"), "SECSCAN_SEMGREP_BIN": str(fakes / "semgrep")}
    proc = secscan(
        "scan", str(project), "--only", "bandit,semgrep", "--out", str(tmp_path / "o"), "--no-progress", env=env
    )
    assert proc.returncode == 0, proc.stderr
    result = load(tmp_path / "o" / "secscan.json")
    # Overlap is read from the scanners' own start/finish events, not from a wall-clock bound.
    starts = [line for line in proc.stderr.splitlines() if line.endswith("started")]
    first_finish = next(i for i, line in enumerate(proc.stderr.splitlines()) if "finished" in line)
    assert len(starts) == 2
    assert all(proc.stderr.splitlines().index(s) < first_finish for s in starts), "both started before either finished"
    assert all(s.duration_s >= 1.9 for s in result.scanners), [
        (s.name, s.state, s.duration_s, s.error) for s in result.scanners
    ]


def test_python_m_secscan_and_version() -> None:
    proc = secscan("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("secscan, version ")
    exe = shutil.which("secscan") or str(Path(sys.executable).parent / "secscan")
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=False, timeout=60)
    assert out.returncode == 0 and "scan" in out.stdout and "publish" in out.stdout


def test_live_secret_never_reaches_result_or_reports(tmp_path: Path) -> None:
    """A live payment key in code is found, but the key itself is masked in every file written."""
    require_tool("semgrep")
    project = tmp_path / "p"
    project.mkdir()
    key = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    (project / "billing.py").write_text(f'STRIPE_KEY = "{key}"\n')
    out = tmp_path / "out"
    secscan("scan", str(project), "--only", "semgrep", "--out", str(out), "--format", "all", "--no-progress")
    result = load(out / "secscan.json")
    assert any(f.kind is Kind.SECRET for f in result.findings), [f.rule_id for f in result.findings]
    for written in out.iterdir():
        assert key not in written.read_text(errors="replace"), written.name


def test_audit_installed_environment(tmp_path: Path) -> None:
    """--audit-installed audits the Python environment on PATH (here a venv holding an old
    `requests`, installed as metadata only: pip-audit reads distributions, not code)."""
    require_tool("pip-audit")
    venv_dir = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv_dir)], check=True, timeout=300)
    site = next(venv_dir.glob("lib/python3*/site-packages"))
    dist = site / "requests-2.19.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: requests\nVersion: 2.19.1\n")
    (dist / "RECORD").write_text("")
    (dist / "INSTALLER").write_text("pip\n")
    project = tmp_path / "p"
    project.mkdir()
    (project / "a.py").write_text("x = 1\n")
    env = {"PATH": f"{venv_dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = secscan(
        "scan", str(project), "--only", "pip-audit", "--audit-installed", "--advisory-db", str(ADVISORIES),
        "--out", str(tmp_path / "out"), "--no-progress", env=env,
    )  # fmt: skip
    result = load(tmp_path / "out" / "secscan.json")
    assert result.scanners[0].state is ScannerState.OK, proc.stderr
    found = {(f.location.package, f.rule_id) for f in result.findings}
    assert ("requests", "PYSEC-2018-28") in found
    assert all(f.location.path == "<installed environment>" for f in result.findings)


def test_live_progress_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal the progress is a live per-scanner display (redrawn in place), not log lines."""
    import pty
    import select

    require_tool("bandit")
    project = tmp_path / "p"
    project.mkdir()
    (project / "a.py").write_text("import hashlib\nhashlib.md5(b'x')\n")
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI_MERGE_REQUEST_DIFF_BASE_SHA"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "secscan", "scan", str(project), "--only", "bandit", "--out", str(tmp_path / "o")],
        stdin=slave, stdout=slave, stderr=slave, env={**env, "TERM": "xterm", "COLUMNS": "100"}, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    screen = b"".join(chunks).decode("utf-8", errors="replace")
    assert proc.returncode == 1
    assert "\x1b[" in screen, "a terminal gets ANSI redraws"
    assert "bandit" in screen and "running" in screen
    assert "[secscan +" not in screen, "no CI-style log lines on a terminal"
    assert "Findings by severity" in screen


def test_baseline_entries_of_scanners_not_run_are_not_fixed(tmp_path: Path) -> None:
    """A baseline made by bandit+semgrep, then a bandit-only scan: semgrep's entries were not
    looked at, so they must not come back as "fixed"; bandit's still-present ones are existing."""
    require_tool("bandit")
    require_tool("semgrep")
    project = tmp_path / "p"
    project.mkdir()
    (project / "app.py").write_text(
        "import hashlib\nimport pickle\n\n\ndef load(raw):\n    return pickle.loads(raw)\n\n\n"
        "def digest(data):\n    return hashlib.md5(data).hexdigest()\n\n\n"
        'SUPPORT_CARD = "4916338506082832"\n'  # semgrep only: bandit has no card-number test
    )
    full = tmp_path / "full"
    secscan("scan", str(project), "--only", "bandit,semgrep", "--out", str(full), "--no-progress")
    first = load(full / "secscan.json")
    assert {s.scanner for f in first.findings for s in f.sources} >= {"bandit", "semgrep"}
    assert any({s.scanner for s in f.sources} == {"semgrep"} for f in first.findings)
    base = tmp_path / "baseline.json"
    assert secscan("baseline", "create", str(full / "secscan.json"), "-o", str(base)).returncode == 0
    only = tmp_path / "only"
    secscan("scan", str(project), "--only", "bandit", "--baseline", str(base), "--out", str(only), "--no-progress")
    second = load(only / "secscan.json")
    assert [f for f in second.findings if f.status is Status.FIXED] == []
    assert second.findings and all(f.status is Status.EXISTING for f in second.findings)
