"""The HTML report in real headless Chromium: table, chart, filter, sort, and hostile text.

The page reads its filter and sort order from the URL fragment, so ``--dump-dom`` of
``report.html#severity=high`` shows the DOM *after* the page's own filter code has run.
"""

from __future__ import annotations

import re
import subprocess
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest

from secscan import reporters
from secscan.models import RunResult
from secscan.resultio import load
from tests.conftest import require_tool

DATA = Path(__file__).resolve().parent.parent / "data" / "reporters"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("reporters-chromium")]


class _Dom(HTMLParser):
    """Just enough of the dumped DOM: finding rows, tags seen, and a few texts by id."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[dict[str, str | None]] = []
        self.tags: dict[str, int] = {}
        self.text_by_id: dict[str, str] = {}
        self.title = ""
        self.body_attrs: dict[str, str | None] = {}
        self.attr_names: set[str] = set()
        self._capture: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.attr_names.update(k for k, _ in attrs)
        if tag == "tr" and "finding" in (a.get("class") or "").split():
            self.rows.append(a)
        if tag == "body":
            self.body_attrs = a
        if tag == "title":
            self._in_title = True
        ident = a.get("id")
        if ident in ("shown", "verdict"):
            self._capture = ident
            self.text_by_id[ident] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        if tag in ("span", "div"):
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        if self._capture:
            self.text_by_id[self._capture] += data


@pytest.fixture(scope="module")
def result() -> RunResult:
    return load(DATA / "result.json")


@pytest.fixture(scope="module")
def page(result: RunResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(reporters.render("html", result), encoding="utf-8")
    return path


def _chromium(args: list[str], workdir: Path) -> str:
    exe = require_tool("chromium")
    profile = workdir / f"profile-{len(list(workdir.glob('profile-*')))}"
    profile.mkdir()
    proc = subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _dom(page: Path, fragment: str = "") -> _Dom:
    out = _chromium(["--dump-dom", page.as_uri() + (f"#{fragment}" if fragment else "")], page.parent)
    dom = _Dom()
    dom.feed(out)
    return dom


def _visible(dom: _Dom) -> list[dict[str, str | None]]:
    return [r for r in dom.rows if "hidden" not in r]


def test_table_chart_and_hostile_text(page: Path, result: RunResult) -> None:
    dom = _dom(page)
    assert len(dom.rows) == len(result.findings) == len(_visible(dom))
    assert dom.tags.get("svg", 0) >= 3 and dom.tags.get("rect", 0) >= 10  # the inline charts
    assert dom.text_by_id["verdict"].startswith("GATE FAILED")
    # The hostile message stayed text: no <img> element, only our own <script>, handlers never ran.
    assert dom.tags.get("img", 0) == 0
    assert dom.tags.get("script", 0) == 1
    assert "pwned" not in dom.title and "data-pwned" not in dom.body_attrs
    html = page.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=" in html


def test_filter_by_severity_and_text(page: Path) -> None:
    dom = _dom(page, "severity=high")
    assert {r["data-severity"] for r in _visible(dom)} == {"high"}
    assert len(_visible(dom)) == 3
    assert dom.text_by_id["shown"] == f"3 of {len(dom.rows)}"

    dom = _dom(page, "q=cwe-89")
    assert [r["data-scanner"] for r in _visible(dom)] == ["semgrep"]
    assert "payment-sql" in (_visible(dom)[0]["data-search"] or "")

    dom = _dom(page, "q=onerror")  # the hostile markup is searchable *text*
    assert len(_visible(dom)) == 1 and "flask-ssti" in (_visible(dom)[0]["data-search"] or "")

    dom = _dom(page, "status=suppressed&kind=sast")
    assert [r["data-search"] and "b101" in r["data-search"] for r in _visible(dom)] == [True]

    dom = _dom(page, "blocking=1")
    assert {r["data-blocking"] for r in _visible(dom)} == {"yes"} and len(_visible(dom)) == 2

    dom = _dom(page, "q=no-such-thing-anywhere")
    assert _visible(dom) == [] and dom.text_by_id["shown"] == f"0 of {len(dom.rows)}"


def test_sort_by_severity_both_ways(page: Path) -> None:
    asc = [int(r["data-sev"] or 0) for r in _dom(page, "sort=sev&dir=asc").rows]
    desc = [int(r["data-sev"] or 0) for r in _dom(page, "sort=sev&dir=desc").rows]
    assert asc == sorted(asc) and desc == sorted(desc, reverse=True) and asc != desc


def test_self_contained_no_fetches(page: Path) -> None:
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"<(link|iframe|object|embed|img|audio|video|source)\b", html, re.I)
    dom = _Dom()
    dom.feed(html)
    assert not {"src", "srcset", "poster", "background"} & dom.attr_names
    assert "url(" not in html and "@import" not in html
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp is not None
    policy = unescape(csp.group(1))
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy and "unsafe-inline" not in policy


def test_screenshot(page: Path) -> None:
    shot = page.parent / "report.png"
    _chromium(["--window-size=1400,2200", f"--screenshot={shot}", page.as_uri() + "#f5"], page.parent)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000  # a rendered page, not a blank one
