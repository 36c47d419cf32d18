"""The dashboard from a history of REAL scans (bandit, via the `secscan` CLI) of changing code.

Three small projects evolve over seven runs each: vulnerable code is added, some is fixed, one
finding is accepted with an expiring suppression, and one project's last scan times out (a real
scanner failure, so its findings must stay open). Each result is stored with `secscan history
add --at` (backfilled a few days apart), the dashboard is written by `secscan dashboard`, and
headless Chromium renders it to a screenshot.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import require, require_tool
from tests.support.cli import secscan

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("aggregate-dashboard")]

NOW = datetime.now(UTC).replace(microsecond=0)
EXPIRES = (NOW + timedelta(days=20)).date().isoformat()

# Code fragments bandit flags for real (each a separate module so fixes are file-level).
SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
MD5 = "import hashlib\n\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n"
YAML = "import yaml\n\n\ndef load(text):\n    return yaml.load(text)\n"
PASSWORD = 'DB_PASSWORD = "hunter2-production"\n'
EVAL = "def calc(expr):\n    return eval(expr)\n"
TLS = "import requests\n\n\ndef fetch(url):\n    return requests.get(url, verify=False, timeout=5)\n"
CLEAN = "def add(a, b):\n    return a + b\n"

# project -> the files present in each of 7 runs (None: the file is absent in that run).
PLAN: dict[str, list[dict[str, str]]] = {
    "payments/api": [
        {"core.py": CLEAN},
        {"core.py": CLEAN, "shell.py": SHELL},
        {"core.py": CLEAN, "shell.py": SHELL, "hash.py": MD5},
        {"core.py": CLEAN, "shell.py": SHELL, "hash.py": MD5, "conf.py": PASSWORD},
        {"core.py": CLEAN, "hash.py": MD5, "conf.py": PASSWORD},  # shell injection fixed
        {"core.py": CLEAN, "conf.py": PASSWORD},  # md5 fixed
        {"core.py": CLEAN, "conf.py": PASSWORD, "calc.py": EVAL},
    ],
    "payments/ledger": [
        {"hash.py": MD5, "load.py": YAML},
        {"hash.py": MD5, "load.py": YAML},
        {"hash.py": MD5, "load.py": YAML, "fetch.py": TLS},
        {"hash.py": MD5, "fetch.py": TLS},  # yaml fixed
        {"hash.py": MD5, "fetch.py": TLS},
        {"hash.py": MD5, "fetch.py": TLS, "shell.py": SHELL},
        {"hash.py": MD5, "fetch.py": TLS, "shell.py": SHELL},
    ],
    "web/portal": [
        {"calc.py": EVAL, "conf.py": PASSWORD},
        {"calc.py": EVAL, "conf.py": PASSWORD},
        {"conf.py": PASSWORD},  # eval fixed
        {"conf.py": PASSWORD, "fetch.py": TLS},
        {"conf.py": PASSWORD, "fetch.py": TLS},
        {"conf.py": PASSWORD, "fetch.py": TLS, "load.py": YAML},
        {"conf.py": PASSWORD, "fetch.py": TLS, "load.py": YAML},  # bandit times out in this run
    ],
}
RUNS = 7
STEP_DAYS = 4
# ledger accepts its MD5 use (a cache key) until EXPIRES.
SUPPRESS = {
    "payments/ledger": (
        'version = 1\n\n[[suppression]]\nrule_id = "B324"\nreason = "cache key, not security"\n'
        f'owner = "lead@example.com"\nexpires = "{EXPIRES}"\n'
    )
}


@dataclass
class Built:
    db: Path
    results: dict[str, list[Path]]
    html: Path
    env: dict[str, str]


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GITLAB_"))}
    env["SECSCAN_AUDIT_LOG"] = str(tmp / "audit.jsonl")
    env["SEMGREP_ENABLE_VERSION_CHECK"] = "0"
    return env


def _run_time(i: int) -> datetime:
    return NOW - timedelta(days=STEP_DAYS * (RUNS - 1 - i), hours=1)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    require_tool("bandit")
    tmp = tmp_path_factory.mktemp("aggdash")
    env = _env(tmp)
    db = tmp / "history.sqlite3"
    results: dict[str, list[Path]] = {}
    for project, runs in PLAN.items():
        src = tmp / "src" / project.replace("/", "_")
        for i, files in enumerate(runs):
            if src.exists():
                shutil.rmtree(src)
            src.mkdir(parents=True)
            for name, text in files.items():
                (src / name).write_text(text, encoding="utf-8")
            if project in SUPPRESS:
                (src / ".secscan").mkdir()
                (src / ".secscan" / "suppressions.toml").write_text(SUPPRESS[project], encoding="utf-8")
            out = tmp / "out" / project.replace("/", "_") / f"run{i}"
            run_env = dict(env)
            # Each run is its own pipeline (with warm per-file caches two scans can finish within
            # the same second and would otherwise be byte-identical results).
            run_env["CI_PIPELINE_URL"] = f"https://gitlab.example.com/{project}/-/pipelines/{i}"
            extra = []
            if project == "web/portal" and i == RUNS - 1:
                run_env["SECSCAN_TIMEOUT_BANDIT"] = "0.01"  # a real scanner failure: killed at its time limit
                extra = ["--no-cache"]  # (with cached results for these files bandit would not even start)
            scan = secscan("scan", src, "--only", "bandit", "--out", out, *extra, environ=run_env)
            assert scan.returncode in (0, 1, 3), scan.stderr
            result = out / "secscan.json"
            assert result.is_file(), scan.stderr
            where = ["--project", project, "--ref", "main", "--at", _run_time(i).isoformat(), "--db", str(db)]
            add = secscan("history", "add", result, *where, environ=env)
            assert add.returncode == 0, add.stderr
            assert "added as run" in add.stdout
            results.setdefault(project, []).append(result)
    html = tmp / "dashboard.html"
    dash = secscan("dashboard", "-o", html, "--db", db, "--now", NOW.isoformat(), environ=env)
    assert dash.returncode == 0, dash.stderr
    assert "3 projects, 21 runs" in dash.stdout
    return Built(db=db, results=results, html=html, env=env)


def _doc(path: Path) -> dict[str, object]:
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _open_rules(path: Path) -> list[str]:
    doc = _doc(path)
    return sorted(
        str(f["rule_id"])
        for f in doc["findings"]  # type: ignore[attr-defined]
        if f["status"] in ("new", "existing")
    )


def _row(html: str, project: str) -> list[str]:
    """The cells of a project's row in the projects table (text only)."""
    # The name links to the project's page (issue 31).
    m = re.search(
        r"<tr>\s*<td class=\"l name\">(?:<a href=\"[^\"]+\">)?" + re.escape(project) + r".*?</tr>", html, re.S
    )
    assert m, f"no row for {project}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", m.group(0), re.S)
    return [re.sub(r"<[^>]+>", " ", c).split()[-1] if re.sub(r"<[^>]+>", " ", c).split() else "" for c in cells]


def test_real_history_has_three_projects_and_21_runs(built: Built) -> None:
    from secscan.aggregate.history import History

    with History(built.db) as h:
        assert h.counts() == (3, 21)
        assert h.streams() == [("payments/api", "main"), ("payments/ledger", "main"), ("web/portal", "main")]
    # The scans really found what the code contains (bandit's own rule ids).
    api = built.results["payments/api"]
    assert "B602" in _open_rules(api[1])  # shell=True
    assert "B602" not in _open_rules(api[4])  # fixed
    assert "B324" in _open_rules(api[2]) and "B324" not in _open_rules(api[5])
    ledger_last = _doc(built.results["payments/ledger"][-1])
    md5 = [f for f in ledger_last["findings"] if f["rule_id"] == "B324"]  # type: ignore[attr-defined]
    assert md5 and md5[0]["status"] == "suppressed" and md5[0]["suppression"]["expires"] == EXPIRES
    portal_last = _doc(built.results["web/portal"][-1])
    assert portal_last["scanners"][0]["state"] == "timeout"  # type: ignore[index]


def test_dashboard_figures_match_the_scans(built: Built) -> None:
    html = built.html.read_text(encoding="utf-8")
    # Self-contained: no script, no external fetches of any kind.
    assert "<script" not in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "url(" not in html
    # Cells: project, last run, crit high med low info, new7 new30, fixed7 fixed30, oldest open, MTTF.
    api = _row(html, "payments/api")
    assert sum(int(x) for x in api[2:7]) == len(_open_rules(built.results["payments/api"][-1]))
    assert "B404" in _open_rules(built.results["payments/api"][1])  # `import subprocess`, fixed with shell.py
    # fixed 4 days ago: B324 (md5); 8 days ago: B602 + B404 (shell.py removed)
    assert (int(api[9]), int(api[10])) == (1, 3)
    assert int(api[7]) == 1  # B307 (eval) added in the newest run
    # portal's newest scan timed out: nothing it reported before counts as fixed, all stays open.
    portal = _row(html, "web/portal")
    assert sum(int(x) for x in portal[2:7]) == len(_open_rules(built.results["web/portal"][-2]))
    assert (int(portal[9]), int(portal[10])) == (0, 1)  # only eval, 16 days ago
    assert int(portal[7]) == 1  # B506 (yaml.load) 4 days ago
    # ledger: the accepted MD5 is suppressed, not open and not fixed; yaml fixed 12 days ago.
    ledger = _row(html, "payments/ledger")
    assert (int(ledger[9]), int(ledger[10])) == (0, 1)
    assert "B324" not in _open_rules(built.results["payments/ledger"][-1])
    # The expiring suppression and the failing scanner are listed.
    assert "B324" in html and EXPIRES in html and "lead@example.com" in html
    assert re.search(r"web/portal</td>\s*<td class=\"l nowrap\"><span class=\"badge fail\">now</span> bandit", html)
    assert "mean time to fix" in html


def test_dashboard_renders_in_headless_chromium(built: Built, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require(chromium is not None, "chromium")
    assert chromium is not None
    shot = tmp_path / "dashboard.png"
    cmd = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1400,2000",
    ]
    subprocess.run([*cmd, f"--screenshot={shot}", built.html.as_uri()], capture_output=True, timeout=90, check=False)
    assert shot.is_file() and shot.stat().st_size > 50_000  # a real page, not a blank one
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dom = subprocess.run(
        [*cmd, "--dump-dom", built.html.as_uri()], capture_output=True, text=True, timeout=90, check=False
    )
    # The browser parsed the whole document: every project row and both charts are in its DOM.
    assert dom.stdout.count('class="l name"') == 3
    assert dom.stdout.count('class="chart"') == 2
    keep = os.environ.get("SECSCAN_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
