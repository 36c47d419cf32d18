"""SIGINT and SIGTERM, at every phase of every command: one line and the documented code
(130 / 143), never a half-written output.

The console entry point (:func:`install`) handles both signals for the whole process. The first
one raises :class:`Interrupted` in the main thread wherever it is (reading inputs, waiting for
scanners, rendering, publishing); ``finally`` blocks on the way out stop the scanners, remove temp
files and scratch folders, and ``secscan.cli.main`` prints ``secscan: error: stopped by SIGTERM``
and exits ``128 + signum``. Later signals never cut that cleanup short: Python's default SIGINT
handler would raise KeyboardInterrupt again on a second Ctrl-C, interrupting the wait for the
worker threads, and the interpreter would exit without their cleanup (a ZAP container left
running, zap-2 / issue 22), so after the first signal every later one only sets the cancel
events again.

Two more pieces:

* :func:`guard` registers a scan's cancel event (scanners kill their children and remove their
  containers when it is set); embedded (no :func:`install`, e.g. click's test runner) it installs
  the handlers for its block only.
* :func:`deferred` marks a critical section (switching a report set into place, one audit
  append): a signal that arrives inside it is held and raised when the section ends, so a stop
  lands before or after the section, never in the middle (issue 32).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(BaseException):
    """SIGINT/SIGTERM: the run stops, children are stopped, nothing more is written or published.

    A BaseException, like KeyboardInterrupt: an ``except Exception`` on the way out (a scanner
    backend, a publisher) must not turn a stop into a scanner failure or a verdict.
    """

    def __init__(self, signum: int) -> None:
        self.signum = int(signum)
        self.exit_code = 128 + self.signum
        self.message = f"stopped by {signal.Signals(self.signum).name}"
        super().__init__(self.message)


@dataclass(kw_only=True)
class _State:
    """The process's signal state (mutable: the handler updates it)."""

    installed: bool = False
    """Whether :func:`install` put the handlers in place for the whole process."""
    cancels: list[threading.Event] = field(default_factory=list)
    """Set on every signal (the running scan's cancel event)."""
    fired: list[int] = field(default_factory=list)
    """The signal that stopped the run (at most one): later ones are absorbed."""
    depth: int = 0
    """How many :func:`deferred` sections are open."""
    pending: list[int] = field(default_factory=list)
    """A signal held by a deferred section, raised when the outermost one ends."""


_state = _State()


def _handler(signum: int, frame: FrameType | None) -> None:
    for event in _state.cancels:
        event.set()
    if _state.fired:
        return  # cleanup is under way: let it finish
    if _state.depth:
        if not _state.pending:
            _state.pending.append(signum)
        return
    _state.fired.append(signum)
    raise Interrupted(signum)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def install() -> None:
    """Handle SIGINT and SIGTERM for the whole process (the console entry point calls this first).

    SIGXFSZ is ignored too: past a file-size limit (``ulimit -f``) a write then fails with EFBIG,
    which secscan reports and cleans up after, instead of the process dying with a core dump
    in the middle of a report or an audit entry.
    """
    if not _in_main_thread():
        return
    for sig in SIGNALS:
        signal.signal(sig, _handler)
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    _state.installed = True


def settle() -> None:
    """Before the process exits after a stop: later signals are blocked, so they stay pending
    and die with the process instead of replacing its 130 / 143.

    CPython puts the default handlers back while the interpreter finalizes, so a second Ctrl-C
    (or a CI runner's SIGTERM after its SIGINT) that lands in those last milliseconds would kill
    the process by the signal itself; the exit code the first signal chose must stand.
    """
    if _state.fired and _in_main_thread():
        signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)


@contextmanager
def _handlers_for_block() -> Iterator[bool]:
    """The handlers in place for the block (when :func:`install` did not run); yields whether
    they were put in place here. They stay after a stop: a late signal must not raise
    KeyboardInterrupt while the error is printed."""
    if _state.installed or not _in_main_thread():
        yield False
        return
    previous = {sig: signal.signal(sig, _handler) for sig in SIGNALS}
    try:
        yield True
    finally:
        if not _state.fired:
            for sig, old in previous.items():
                signal.signal(sig, old)


@contextmanager
def guard(cancel: threading.Event) -> Iterator[None]:
    """Inside the block every signal sets ``cancel``; the first raises :class:`Interrupted`."""
    with _handlers_for_block():
        _state.cancels.append(cancel)
        try:
            yield
        finally:
            _state.cancels.remove(cancel)


@contextmanager
def deferred() -> Iterator[None]:
    """A critical section: a SIGINT/SIGTERM arriving inside it is raised when it ends.

    Outside the main thread (signals are handled only there) it changes nothing.
    """
    with _handlers_for_block():
        _state.depth += 1
        try:
            yield
        finally:
            _state.depth -= 1
            if not _state.depth and _state.pending and not _state.fired:
                signum = _state.pending.pop()
                _state.fired.append(signum)
                # Replaces an exception in flight, if any: the stop is what the user asked for.
                raise Interrupted(signum)
