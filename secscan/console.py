"""Terminal output: live per-scanner progress on a TTY, plain one-line events in CI logs, and
the end-of-run summary (findings by severity and scanner, scanner health, the verdict).

Everything printed here that came from scanned code goes through ``textsafe.one_line`` (control
characters stripped) and rich's ``escape`` (no markup injection). The operator's credentials are
masked in every text before it is cut or wrapped into a table cell, and again in each line written
(the streams themselves mask too, see :func:`secscan.credentials.install_on_std_streams`).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from typing import IO, Any, cast

from secscan import credentials
from secscan.models import SEVERITIES_DESC, RunResult, ScannerState, Status
from secscan.scanners.base import ScanOutcome
from secscan.textsafe import one_line

_STATE_STYLE = {
    ScannerState.OK: "green",
    ScannerState.SKIPPED: "dim",
    ScannerState.FAILED: "red",
    ScannerState.TIMEOUT: "red",
    ScannerState.NOT_INSTALLED: "red",
}
_SEV_STYLE = {"critical": "bold magenta", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


class Progress:
    """Scanner progress: a rich live table on a terminal, timestamped lines otherwise."""

    def __init__(self, scanners: tuple[str, ...], *, stream: IO[str] | None = None, live: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.live_mode = self.stream.isatty() if live is None else live
        self.scanners = scanners
        self.state: dict[str, str] = dict.fromkeys(scanners, "waiting")
        self.started: dict[str, float] = {}
        self.finished: dict[str, float] = {}
        self._lock = threading.Lock()
        self._live: Any = None
        self._t0 = time.monotonic()

    def __enter__(self) -> Progress:
        if self.live_mode:
            from rich.console import Console
            from rich.live import Live

            # get_renderable: rebuilt at every refresh, so running scanners' clocks keep ticking.
            self._live = Live(
                console=Console(file=self.stream),
                get_renderable=self._table,
                refresh_per_second=8,
                transient=True,
            )
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def _table(self) -> Any:
        from rich.spinner import Spinner
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        now = time.monotonic()
        for name in self.scanners:
            st = self.state[name]
            t0 = self.started.get(name)
            elapsed = (self.finished.get(name, now) - t0) if t0 is not None else 0.0
            icon: Any = (
                Spinner("dots")
                if st in ("started",) or st.startswith("running")
                else ("✓" if st.startswith("ok") else "•")
            )
            table.add_row(icon, name, f"{elapsed:5.1f}s", one_line(st, 80))
        return table

    def event(self, scanner: str, message: str) -> None:
        message = credentials.mask(message)
        with self._lock:
            if message == "started":
                self.started[scanner] = time.monotonic()
                self.state[scanner] = "running"
            else:
                self.state[scanner] = f"running: {message}"
            if self._live is None:
                self._line(f"{scanner}: {message}")

    def done(self, outcome: ScanOutcome) -> None:
        s = credentials.current().structure(outcome.status)
        with self._lock:
            self.finished[s.name] = time.monotonic()
            self.state[s.name] = f"{s.state.value}, {s.findings} findings" + (
                f" ({one_line(s.error, 120)})" if s.error else ""
            )
            if self._live is None:
                self._line(
                    f"{s.name}: finished {s.state.value} in {s.duration_s:.1f}s, {s.findings} findings"
                    + (f": {one_line(s.error, 200)}" if s.error else "")
                )

    def _line(self, text: str) -> None:
        elapsed = time.monotonic() - self._t0
        self.stream.write(credentials.mask(f"[secscan +{elapsed:6.1f}s] {text}\n"))
        self.stream.flush()


def summary(
    result: RunResult, *, stream: IO[str] | None = None, color: bool | None = None, width: int | None = None
) -> None:
    """Print the end-of-run summary tables and the verdict."""
    target = stream or sys.stdout
    # The final bytes are masked too: a rich table may fold a value the texts did not show whole.
    out = cast(IO[str], target if isinstance(target, credentials.MaskingStream) else credentials.MaskingStream(target))
    try:
        _summary(result, out, color=color, width=width)
    finally:
        out.flush()


def _summary(result: RunResult, out: IO[str], *, color: bool | None, width: int | None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    result = credentials.current().structure(result)
    if width is None:
        import shutil

        # The terminal's width (or $COLUMNS); 100 columns in CI logs, where there is no terminal.
        width = max(60, shutil.get_terminal_size((100, 24)).columns)
    console = Console(file=out, force_terminal=color, no_color=color is False, width=width, highlight=False)

    by_scanner: dict[str, Counter[str]] = {}
    for f in result.findings:
        for scanner in sorted({s.scanner for s in f.sources} or {f.scanner}):
            by_scanner.setdefault(scanner, Counter())[f.severity.value] += 1
    sev_table = Table(title="Findings by severity", title_justify="left")
    sev_table.add_column("scanner")
    for sev in SEVERITIES_DESC:
        sev_table.add_column(sev.value, justify="right", style=_SEV_STYLE[sev.value])
    totals: Counter[str] = Counter(f.severity.value for f in result.findings)
    for scanner in sorted(by_scanner):
        sev_table.add_row(scanner, *(str(by_scanner[scanner][s.value]) for s in SEVERITIES_DESC))
    sev_table.add_row("[bold]all (deduplicated)[/bold]", *(str(totals[s.value]) for s in SEVERITIES_DESC))
    console.print(sev_table)

    status_counts = Counter(f.status.value for f in result.findings)
    if result.findings:
        console.print(
            "Status: " + ", ".join(f"{status_counts[s.value]} {s.value}" for s in Status if status_counts[s.value])
        )

    health = Table(title="Scanners", title_justify="left")
    for col in ("scanner", "status", "version", "time", "findings", "note"):
        health.add_column(col, justify="right" if col in ("time", "findings") else "left")
    for s in result.scanners:
        health.add_row(
            s.name,
            f"[{_STATE_STYLE[s.state]}]{s.state.value}[/]",
            escape(s.version or "-"),
            f"{s.duration_s:.1f}s",
            str(s.findings),
            escape(one_line(s.error or "", 90)),
        )
    console.print(health)
    if result.advisory_db:
        console.print(f"Advisory database snapshot: {escape(result.advisory_db)}")
    for w in result.warnings[:10]:
        console.print(f"[yellow]warning:[/] {escape(one_line(w, 200))}")
    if len(result.warnings) > 10:
        console.print(f"[yellow]… and {len(result.warnings) - 10} more warnings (see secscan.json)[/]")

    v = result.verdict
    if v is None:
        return
    if v.passed:
        console.print(f"[bold green]PASSED[/] (policy {escape(v.policy)})")
    else:
        console.print(f"[bold red]FAILED[/] (policy {escape(v.policy)}, exit code {v.exit_code})")
        for r in v.reasons[:20]:
            console.print(f"  [red]✗[/] {escape(r.rule)}: {escape(one_line(r.message, 160))}")
        if len(v.reasons) > 20:
            console.print(f"  … and {len(v.reasons) - 20} more")
    for w in v.warnings[:10]:
        console.print(f"[yellow]warning:[/] {escape(one_line(w, 200))}")
