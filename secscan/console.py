"""Terminal output: live per-scanner progress on a TTY, plain one-line events in CI logs, and
the end-of-run summary (findings by severity and scanner, scanner health, the verdict).

Everything printed here that came from scanned code goes through ``textsafe.one_line`` (control
characters stripped) and rich's ``escape`` (no markup injection). The operator's credentials are
masked in every text before it is cut or wrapped into a table cell, and again in each line written
(the streams themselves mask too, see :func:`secscan.credentials.install_on_std_streams`).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, cast

from secscan import credentials
from secscan.models import SEVERITIES_DESC, RunResult, ScannerState
from secscan.scanners.base import ScanOutcome
from secscan.settings import catalog
from secscan.textsafe import one_line, strip_controls

_STATE_STYLE = {
    ScannerState.OK: "green",
    ScannerState.SKIPPED: "dim",
    ScannerState.FAILED: "red",
    ScannerState.TIMEOUT: "red",
    ScannerState.NOT_INSTALLED: "red",
}
HEARTBEAT_S = 15.0
"""How often a CI log hears from a running scanner (the ``heartbeat`` setting's default)."""
_SEV_STYLE = {"critical": "bold magenta", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


class Progress:
    """Scanner progress: a rich live table on a terminal, timestamped lines otherwise."""

    def __init__(
        self,
        scanners: tuple[str, ...],
        *,
        stream: IO[str] | None = None,
        live: bool | None = None,
        heartbeat: float = HEARTBEAT_S,
    ) -> None:
        self.stream = stream or sys.stderr
        self.live_mode = self.stream.isatty() if live is None else live
        self.scanners = scanners
        self.state: dict[str, str] = dict.fromkeys(scanners, "waiting")
        self.started: dict[str, float] = {}
        self.finished: dict[str, float] = {}
        self.heartbeat = heartbeat
        self._said: dict[str, float] = {}
        """When each running scanner last had a line in the log."""
        self._lock = threading.Lock()
        self._live: Any = None
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None
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
        else:
            # A CI log shows nothing between a scanner's start and its end: a line per running
            # scanner at least every `heartbeat` seconds says it is alive (and which one is slow).
            self._beat = threading.Thread(target=self._heartbeats, name="secscan-heartbeat", daemon=True)
            self._beat.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join(timeout=5)
            self._beat = None
        if self._live is not None:
            self._live.__exit__(None, None, None)
            self._live = None

    def _heartbeats(self) -> None:
        """Wait until the next running scanner is due (never later: "at least every N seconds"),
        then give it a line."""
        wait = min(0.5, self.heartbeat)
        while not self._stop.wait(wait):
            now = time.monotonic()
            due: list[float] = []
            with self._lock:
                for name in self.scanners:
                    t0 = self.started.get(name)
                    if t0 is None or name in self.finished:
                        continue
                    if now - self._said.get(name, t0) >= self.heartbeat:
                        doing = self.state[name].removeprefix("running").removeprefix(": ")
                        said = f"{name}: still running ({now - t0:.0f}s so far" + (f"; {doing})" if doing else ")")
                        self._line(said)
                        self._said[name] = now
                    due.append(self._said.get(name, t0) + self.heartbeat)
            wait = max(0.01, min(due) - time.monotonic()) if due else min(0.5, self.heartbeat)

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
                self._said[scanner] = time.monotonic()

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
    result: RunResult,
    *,
    stream: IO[str] | None = None,
    color: bool | None = None,
    width: int | None = None,
    verbose: bool = False,
    result_file: str | None = None,
) -> None:
    """Print the end-of-run summary tables, the findings to act on and the verdict
    (``result_file``: the secscan.json the printed ``secscan suppress`` lines name)."""
    target = stream or sys.stdout
    # The final bytes are masked too: a rich table may fold a value the texts did not show whole.
    out = cast(IO[str], target if isinstance(target, credentials.MaskingStream) else credentials.MaskingStream(target))
    try:
        _summary(result, out, color=color, width=width if width is not None else output_width(target))
        details(result, stream=out, verbose=verbose, result_file=result_file)
    finally:
        out.flush()


UNLIMITED = 1_000_000
"""The width of a log that is not a terminal: nothing is wrapped or cut."""


def output_width(stream: IO[str], env: Mapping[str, str] | None = None) -> int:
    """A terminal's width; else ``$COLUMNS``; else unlimited (a CI log wraps nothing itself, and a
    line cut or wrapped at some guessed width is what made notes unreadable there)."""

    environ = os.environ if env is None else env
    try:
        if stream.isatty():
            return max(40, os.get_terminal_size(stream.fileno()).columns)
    except (AttributeError, OSError, ValueError):
        pass
    columns = environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(40, int(columns))
    return UNLIMITED


def details(
    result: RunResult,
    *,
    stream: IO[str] | None = None,
    verbose: bool = False,
    result_file: str | None = None,
    verdict: bool = True,
) -> None:
    """The findings to act on and the verdict, as plain lines (``scan`` and ``gate`` alike):
    never wrapped, never cut, masked (see :mod:`secscan.reporters.terminal`)."""
    from secscan.reporters import terminal

    result = credentials.current().structure(result)
    target = stream or sys.stdout
    out = cast(IO[str], target if isinstance(target, credentials.MaskingStream) else credentials.MaskingStream(target))
    lines = ["", *terminal.details(result, verbose=verbose, result_file=result_file)]
    if verdict:
        lines += terminal.verdict_lines(result)
    out.write(strip_controls("\n".join(lines)) + "\n")
    out.flush()


def result_option(path: Path) -> str | None:
    """``path`` as ``secscan suppress --result`` wants it: None when it is that option's default
    (``secscan-out/secscan.json`` where secscan runs), else as given."""

    default = catalog.for_command("suppress")["result"].default
    try:
        same = path.resolve() == Path(default).resolve()
    except OSError:
        same = False
    return None if same else str(path)


def _summary(result: RunResult, out: IO[str], *, color: bool | None, width: int) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from secscan.reporters import _common, terminal

    result = credentials.current().structure(result)
    console = Console(file=out, force_terminal=color, no_color=color is False, width=width, highlight=False)

    # One count everywhere (reporters._common.counts, which the Markdown and HTML reports print
    # too): findings after merging, fixed ones left out. A scanner's row counts the findings it
    # took part in; the scanners table also shows its raw results.
    counts = _common.counts(result)
    sev_table = Table(title="Findings by severity", title_justify="left")
    sev_table.add_column("scanner")
    for sev in SEVERITIES_DESC:
        sev_table.add_column(sev.value, justify="right", style=_SEV_STYLE[sev.value])
    sev_table.add_column("findings", justify="right")
    for row in sorted((r for r in counts.scanners if r.findings), key=lambda r: r.name):
        sev_table.add_row(row.name, *(str(row.by_severity[s]) for s in SEVERITIES_DESC), str(row.findings))
    sev_table.add_row("[bold]all[/bold]", *(str(counts.by_severity[s]) for s in SEVERITIES_DESC), str(counts.total))
    console.print(sev_table)
    # Plain lines after the tables: a rich title or caption would be wrapped to the table's width.
    console.print(
        "(findings after merging: a finding several scanners reported counts in each of their rows, once in all)",
        soft_wrap=True,
        markup=False,
    )

    if result.findings:
        said = ", ".join(f"{n} {s.value}" for s, n in counts.by_status.items() if n)
        console.print(f"Status: {said}", soft_wrap=True)

    health = Table(title="Scanners", title_justify="left")
    for col in ("scanner", "status", "version", "time", "results", "findings", "note"):
        health.add_column(col, justify="right" if col in ("time", "results", "findings") else "left")
    for s in result.scanners:
        health.add_row(
            s.name,
            f"[{_STATE_STYLE[s.state]}]{s.state.value}[/]",
            escape(s.version or "-"),
            f"{s.duration_s:.1f}s",
            str(s.findings),
            str(counts.findings_of(s.name)),
            escape(one_line(s.error or "", terminal.LONG)),
        )
    console.print(health)
    console.print(
        "(results: what the scanner reported; findings: after merging, as counted above)", soft_wrap=True, markup=False
    )
    if result.advisory_db:
        console.print(f"Advisory database snapshot: {escape(result.advisory_db)}", soft_wrap=True)
    for w in result.warnings[:10]:
        console.print(f"[yellow]warning:[/] {escape(one_line(w, terminal.LONG))}", soft_wrap=True)
    if len(result.warnings) > 10:
        console.print(f"[yellow]… and {len(result.warnings) - 10} more warnings (see secscan.json)[/]")
