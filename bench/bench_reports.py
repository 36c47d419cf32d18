"""Render every report format for 100,000 findings: wall time and peak memory per format.

Each format renders in a forked child process: wall time, and peak memory as the child's
high-water RSS above its RSS before rendering (tracemalloc would slow rendering several-fold).
Ratios are against the ``json`` format in the same run, so they compare across machines.
``SECSCAN_BENCH_FINDINGS`` changes the count.
"""

from __future__ import annotations

import gc
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from secscan import reporters
from secscan.models import (
    BlockReason,
    Confidence,
    Finding,
    Identifier,
    Kind,
    Location,
    RunResult,
    ScannerState,
    ScannerStatus,
    Severity,
    Source,
    Status,
    Suppression,
    Verdict,
)

SCANNER = {Kind.SAST: "bandit", Kind.DEPENDENCY: "pip-audit", Kind.DAST: "zap", Kind.SECRET: "semgrep"}


def _finding(i: int) -> Finding:
    kind = list(Kind)[i % 4]
    sev = list(Severity)[i % 5]
    status = list(Status)[(i // 7) % 4]
    if kind is Kind.DEPENDENCY:
        loc = Location(path="requirements.txt", package=f"pkg{i % 500}", version=f"1.{i % 30}.0")
    elif kind is Kind.DAST:
        loc = Location(
            url=f"http://app.test:8080/p/{i % 2000}?q=1", method="GET", param="X-Frame-Options", evidence="nginx"
        )
    else:
        loc = Location(
            path=f"app/module_{i % 3000}/file_{i % 41}.py",
            start_line=1 + i % 900,
            end_line=2 + i % 900,
            snippet=f"value_{i} = compute(request.args['x'])  # line {i}",
        )
    return Finding(
        kind=kind,
        scanner=SCANNER[kind],
        rule_id=f"R{i % 250}",
        title=f"Rule {i % 250} title",
        message=f"Finding {i}: untrusted <input> reaches a sink | with `markup` and @mention.",
        severity=sev,
        severity_original=sev.value.upper(),
        confidence=Confidence.HIGH,
        location=loc,
        identifiers=(
            Identifier(type="cwe", value=f"CWE-{79 + i % 20}"),
            Identifier(type="cve", value=f"CVE-2024-{i:05d}"),
        ),
        fix="Use the safe API.",
        references=("https://example.org/advice",),
        compliance=("PCI-DSS-4.0:6.2.4",),
        status=status,
        suppression=Suppression(origin="file", reason="accepted", owner="team", expires="2030-01-01")
        if status is Status.SUPPRESSED
        else None,
        sources=(
            Source(scanner=SCANNER[kind], rule_id=f"R{i % 250}", severity_original="X", message="m", location=loc),
        ),
        fingerprint=f"v1:{i:032x}",
    )


def _result(n: int) -> RunResult:
    findings = tuple(_finding(i) for i in range(n))
    reasons = tuple(
        BlockReason(rule="block_new_at_or_above=high", message=f.title, fingerprint=f.fingerprint)
        for f in findings
        if f.status is Status.NEW and f.severity.rank >= Severity.HIGH.rank
    )
    return RunResult(
        tool_version="0.1.0",
        target="bench",
        started_at="2024-05-01T12:00:00Z",
        finished_at="2024-05-01T12:10:00Z",
        scanners=tuple(ScannerStatus(name=s, state=ScannerState.OK, version="1.0") for s in SCANNER.values()),
        findings=findings,
        verdict=Verdict(passed=False, exit_code=1, policy="default", reasons=reasons),
    )


def _rss_kb() -> int:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def _measure(fmt: reporters.Format, result: RunResult) -> tuple[float, int, int]:
    """Render in a forked child (sharing the result copy-on-write): (seconds, output bytes, peak KB).

    Peak = the child's high-water RSS minus its RSS before rendering, so formats do not inherit
    each other's garbage and tracing overhead does not distort the time.
    """
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(read)
            before = _rss_kb()
            t = time.perf_counter()
            text = reporters.render(fmt, result)
            elapsed = time.perf_counter() - t
            grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
            os.write(write, f"{elapsed} {len(text.encode('utf-8'))} {grown}".encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        data = fh.read().decode()
    os.waitpid(pid, 0)
    secs, size, peak = data.split()
    return float(secs), int(size), int(peak)


def main() -> None:
    n = int(os.environ.get("SECSCAN_BENCH_FINDINGS", "100000"))
    t0 = time.perf_counter()
    result = _result(n)
    gc.collect()
    gc.freeze()  # keep the child's garbage collector from touching (and copying) the shared result
    print(f"{n} findings built in {time.perf_counter() - t0:.1f}s (RSS {_rss_kb() / 1024:.0f} MB)", flush=True)
    print(f"{'format':28} {'time s':>8} {'us/finding':>11} {'x json':>7} {'output MB':>10} {'peak MB':>8}", flush=True)
    rows = []
    for fmt in reporters.Format:
        elapsed, size, peak = _measure(fmt, result)
        rows.append((fmt.value, elapsed, size, peak))
    base = next(r[1] for r in rows if r[0] == "json") or 1e-9
    for name, elapsed, size, peak in rows:
        per = elapsed / n * 1e6
        print(f"{name:28} {elapsed:8.2f} {per:11.1f} {elapsed / base:7.2f} {size / 1e6:10.1f} {peak / 1024:8.1f}")
    total = sum(r[1] for r in rows)
    print(f"all {len(rows)} formats: {total:.1f}s ({total / n * 1e6:.0f} us per finding)")
    _note_and_first_screen(result)


def _chromium_seconds(url: str, workdir: Path) -> float | None:
    """Wall time of a headless Chromium loading ``url`` and taking a screenshot of the first screen."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        return None
    profile = Path(tempfile.mkdtemp(dir=workdir))
    t = time.perf_counter()
    subprocess.run(
        [
            exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
            f"--screenshot={profile / 'shot.png'}", "--window-size=1280,900", url,
        ],
        capture_output=True, timeout=300, check=False,
    )  # fmt: skip
    return time.perf_counter() - t


def _note_and_first_screen(result: RunResult) -> None:
    """The MR summary's size and the HTML report's first screen in Chromium, at this scale."""
    from secscan.reporters import html, markdown

    note = markdown.render(result)
    print(f"markdown summary (MR note): {len(note)} chars (cap {markdown.SUMMARY_MAX_CHARS})")
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html.render(result), encoding="utf-8")
        blank = Path(tmp) / "blank.html"
        blank.write_text("<!doctype html><p>blank</p>", encoding="utf-8")
        size = page.stat().st_size
        base = _chromium_seconds(blank.as_uri(), Path(tmp))
        shown = _chromium_seconds(page.as_uri(), Path(tmp))
        if base is None or shown is None:
            print(f"html: {size / 1e6:.1f} MB; chromium not installed: first screen not measured")
            return
        print(
            f"html: {size / 1e6:.1f} MB, {min(len(result.findings), html.MAX_ROWS)} rows listed; Chromium first screen "
            f"{shown:.1f} s vs {base:.1f} s for a blank page (x{shown / base:.1f}; page alone {shown - base:.1f} s)"
        )
