"""The dashboard's project and finding pages (issue 31), opened in headless Chromium.

Two projects, one scanned on two branches (real bandit scans stored with `secscan history add`):
the dashboard counts 2 projects, not 3 project@ref streams; from its project table the test
follows the links the browser sees to the project page and on to a finding page, which lists the
finding's history across refs, the file it moved to, and its triage decision with its approver.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require, require_tool
from tests.support.cli import secscan

pytestmark = pytest.mark.xdist_group("aggregate-pages")

SHELL = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
MD5 = "import hashlib\n\n\ndef digest(data):\n    return hashlib.md5(data).hexdigest()\n"
# (project, ref, day, files)
RUNS = [
    ("payments/api", "main", 1, {"shell.py": SHELL, "hash.py": MD5}),
    ("payments/api", "main", 3, {"shell.py": SHELL}),  # md5 fixed
    ("payments/api", "feature/x", 4, {"shell.py": SHELL, "hash.py": MD5}),
    ("web/<portal>", "main", 2, {"hash.py": MD5}),
]


def _dom(chromium: str, page: Path, profile: Path) -> str:
    cmd = [
        chromium,
        *("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"),
        *("--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--dump-dom"),
        page.as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False).stdout


def _history(tmp_path: Path) -> tuple[str, str]:
    """The history of RUNS with a planned fix (approved) of the shell injection; (db, its fingerprint)."""
    require_tool("bandit")
    db = str(tmp_path / "h.sqlite3")
    for i, (project, ref, day, files) in enumerate(RUNS):
        tree = tmp_path / f"t{i}"
        tree.mkdir()
        for name, text in files.items():
            (tree / name).write_text(text)
        out = tmp_path / f"o{i}"
        scan = secscan("scan", str(tree), "--only", "bandit", "--out", str(out), "--no-progress")
        assert scan.returncode in (0, 1), scan.stderr
        added = secscan(
            "history", "add", str(out / "secscan.json"), "--project", project, "--ref", ref, "--db", db,
            "--at", f"2026-03-0{day}T10:00:00Z",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
    exported = tmp_path / "all.csv"
    secscan("export", "--format", "csv", "--project", "payments/api", "--db", db, "-o", str(exported))
    shell_fp = next(line.split(",")[1] for line in exported.read_text().splitlines() if ",B602," in line)
    when = ("--now", "2026-03-05T00:00:00Z")
    proposed = secscan(
        "triage", "propose", "--db", db, "--project", "payments/api", "--fingerprint", shell_fp, "--by", "alice",
        "--decision", "fix-planned", "--reason", "rewrite <without> the shell", "--owner", "carol",
        "--due", "2026-04-01", *when,
    )  # fmt: skip
    assert proposed.returncode == 0, proposed.stderr
    assert secscan("triage", "approve", "1", "--db", db, "--by", "bob", *when).returncode == 0
    return db, shell_fp


def test_finding_pages_in_headless_chromium(tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    require(chromium is not None, "chromium")
    assert chromium is not None
    db, shell_fp = _history(tmp_path)

    html = tmp_path / "dash" / "dashboard.html"
    html.parent.mkdir()
    made = secscan("dashboard", "--db", db, "-o", str(html), "--now", "2026-04-20T00:00:00Z")
    assert made.returncode == 0, made.stderr
    dom = _dom(chromium, html, tmp_path / "p1")
    assert re.search(r'<span id="project-count">2</span> projects \(3 project/ref streams\)', dom), dom[:2000]
    # The shell injection opened 2026-03-01 (high: 30 days) is past its SLA on 2026-04-20: linked.
    sla = dom.split("Open findings past their SLA", 1)[1].split("</section>", 1)[0]
    links = re.findall(r'href="([^"]+)"', sla)
    assert links and all(link.startswith("dashboard-pages/") for link in links)
    projects = dict(re.findall(r'<td class="l name"><a href="([^"]+)">([^<]+)</a>', dom))
    assert sorted(set(projects.values())) == ["payments/api", "web/&lt;portal&gt;"]

    api = next(href for href, name in projects.items() if name == "payments/api")
    page = html.parent / api
    assert page.is_file() and page.resolve().is_relative_to(html.parent / "dashboard-pages")
    pdom = _dom(chromium, page, tmp_path / "p2")
    badge = r'<span class="badge (open|fixed|suppressed)">\1</span></td>\s*<td>.*?<a href="([^"]+)"'
    rows = re.findall(badge, pdom, re.S)
    # B404, B602 and B324: MD5 was fixed on main, but feature/x still has it, so it is open.
    assert sorted(state for state, _ in rows) == ["open", "open", "open"], rows
    shell = next(h for h in re.findall(r'<a href="(f-[^"]+)"><code>B602', pdom))
    assert shell in sla_href(links)  # the dashboard's SLA table links the same page
    shell_page = page.parent / shell
    fdom = _dom(chromium, shell_page, tmp_path / "p3")
    assert f'<code id="fingerprint">{shell_fp}</code>' in fdom
    history = fdom.split('id="history"', 1)[1].split("</table>", 1)[0]
    assert history.count("<tr>") == 3  # header + main (2 runs) + feature/x (1 run)
    assert "feature/x" in history and "main" in history and "2026-03-01 10:00" in history
    decisions = fdom.split('id="decisions"', 1)[1].split("</table>", 1)[0]
    assert (
        "fix-planned" in decisions
        and "alice" in decisions
        and "bob" in decisions
        and "carol by 2026-04-01" in decisions
    )
    assert "rewrite &lt;without&gt; the shell" in decisions  # untrusted text escaped
    assert re.search(r'id="sla"><span class="badge overdue">\d+ d over</span> due 2026-03-31', fdom)
    assert 'id="first-seen">2026-03-01 10:00' in fdom and 'id="last-seen">2026-03-04 10:00' in fdom
    md5 = next(h for h in re.findall(r'<a href="(f-[^"]+)"><code>B324', pdom))
    mdom = _dom(chromium, page.parent / md5, tmp_path / "p4")
    refs = re.findall(r"<tr><td>([^<]+)</td><td><span class=\"badge (\w+)\">", mdom)
    assert ("main", "fixed") in refs and ("feature/x", "open") in refs


def sla_href(links: list[str]) -> set[str]:
    """The file names the dashboard's SLA table links to."""
    return {link.rsplit("/", 1)[1] for link in links}
