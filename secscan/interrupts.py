"""SIGINT and SIGTERM during a scan: the first one stops the run, later ones never cut the
cleanup short.

The first signal sets the cancel event (scanners kill their children and remove their
containers) and raises in the main thread, which then waits for the worker threads. Python's
default SIGINT handler would raise KeyboardInterrupt again on a second Ctrl-C, interrupting
that wait; the interpreter then exits without the workers' cleanup (a ZAP container left
running). So while the guard is active every later signal only sets the event again; after a stop the
handler stays in place until the process exits.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def guard(cancel: threading.Event, error: Callable[[int], BaseException]) -> Iterator[None]:
    """Handle SIGINT/SIGTERM inside the block: the first raises ``error(signum)``, the rest are
    absorbed. Outside the main thread (signals cannot be handled there) it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        cancel.set()
        if fired:
            return  # cleanup is under way: let it finish
        fired.append(signum)
        raise error(signum)

    previous = {sig: signal.signal(sig, handler) for sig in SIGNALS}
    try:
        yield
    finally:
        # Once stopping, keep absorbing: a signal that arrived during the cleanup may only be
        # dispatched now (another thread received it), and must not raise KeyboardInterrupt in
        # the middle of printing the error and exiting.
        if not fired:
            for sig, old in previous.items():
                signal.signal(sig, old)
