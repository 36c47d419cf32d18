"""A watchdog that removes secscan's ZAP container if secscan dies while ZAP runs.

Signal handlers cannot cover every way a CI job ends: Python only runs them in the main thread
(scanners run in worker threads), and SIGKILL runs nothing at all. So before the container is
created, secscan starts this small process in its own session, connected by a pipe. secscan
writes ``done`` when it has removed the container itself; if the pipe instead reaches EOF
(secscan exited, was killed, crashed) the watchdog removes every container carrying the run's
label. Run as ``python -m secscan.zap.reaper LABEL=VALUE``; it inherits DOCKER_HOST.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping

LABEL = "secscan.zap.run"
"""Container label whose value is unique per ZAP run."""


class Reaper:
    """The parent side: start before creating the container, ``done()`` after removing it."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc

    @classmethod
    def start(cls, run_id: str, *, env: Mapping[str, str] | None = None) -> Reaper:
        proc = subprocess.Popen(
            [sys.executable, "-m", "secscan.zap.reaper", f"{LABEL}={run_id}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            # Own session: a signal to secscan's process group (Ctrl-C, a CI runner) must not
            # kill the watchdog before it has done its job.
            start_new_session=True,
        )
        return cls(proc)

    def done(self) -> None:
        """The container is gone: tell the watchdog to exit without touching Docker."""
        stdin = self._proc.stdin
        try:
            if stdin is not None and not stdin.closed:
                stdin.write(b"done\n")
                stdin.close()
        except OSError:
            pass
        # No need to wait: the watchdog exits on its own once it reads "done" (subprocess reaps
        # it later), and secscan should not pay for its start-up.

    def abandon(self) -> None:
        """Removing the container failed here: close the pipe so the watchdog retries it."""
        stdin = self._proc.stdin
        try:
            if stdin is not None and not stdin.closed:
                stdin.close()
        except OSError:
            pass


def _remove_labelled(label: str) -> int:
    import docker
    from docker.errors import DockerException, NotFound

    client = docker.from_env()
    removed = 0
    for container in client.containers.list(all=True, filters={"label": label}, ignore_removed=True):
        try:
            container.remove(force=True)
            removed += 1
        except NotFound:
            pass
        except DockerException:
            continue
    return removed


def main(argv: list[str]) -> int:
    if len(argv) != 1 or "=" not in argv[0]:
        print("usage: python -m secscan.zap.reaper LABEL=VALUE", file=sys.stderr)
        return 2
    data = sys.stdin.buffer.read()  # blocks until secscan writes "done" or its end closes
    if data.startswith(b"done"):
        return 0
    _remove_labelled(argv[0])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
