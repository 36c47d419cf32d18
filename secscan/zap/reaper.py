"""A watchdog that removes secscan's ZAP container and scratch folder if secscan dies mid-scan.

Signal handlers cannot cover every way a CI job ends: Python only runs them in the main thread
(scanners run in worker threads), and SIGKILL runs nothing at all. So before anything is
created, secscan starts this small process in its own session, connected by a pipe, and tells
it, one line at a time, what it is doing:

``label KEY=VALUE``
    the label of the containers of this run (also accepted as the first argument);
``creating``
    a container-create request is about to be sent (it may still be in flight when secscan
    dies: on a slow storage driver a create takes seconds, and the engine finishes it anyway);
``created ID`` / ``removed``
    the create returned / secscan removed the container itself;
``handoff``
    secscan gives up waiting (cancelled while a create was in flight): remove the container
    when it appears, leave the scratch folder to secscan, which is still alive;
``file PATH``
    a file secscan put outside its scratch folder (local mode writes into the shared
    ``/zap/wrk``: the rule config, the API definition, the context file with its logins, the
    reports): removed too if secscan dies;
``pgid N`` / ``pgid-gone``
    local mode: the scan script's process group (ZAP's JVM included) / it has ended;
``done``
    nothing left to do: exit without touching anything.

If the pipe reaches EOF without ``done``/``handoff`` (secscan exited, was killed, crashed), the
watchdog removes every container carrying the run's label, then keeps looking for up to
``--create-grace`` seconds if a create was in flight (the engine may still be making it), and
removes the scratch folder.

It is started by absolute path (``sys.executable``) with a safe import path (``-P``,
PYTHONSAFEPATH=1) and ``/`` as working directory: a ``secscan.py`` or ``docker/`` committed in
the scanned tree is never imported. Run as ``python -P -m secscan.zap.reaper LABEL=VALUE
[--scratch DIR] [--create-grace S]``; it inherits DOCKER_HOST.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from secscan.proc import allowed_env

LABEL = "secscan.zap.run"
"""Container label whose value is unique per ZAP run."""
CREATE_GRACE_S = 300.0
"""How long to watch for a container whose create was in flight when secscan died."""
POLL_S = 0.2
_NEVER_INHERIT = ("ZAP_AUTH_HEADER_VALUE",)


class Reaper:
    """The parent side: start before creating anything, ``done()`` when all is cleaned up."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc

    @classmethod
    def start(
        cls,
        run_id: str | None = None,
        *,
        env: Mapping[str, str] | None = None,
        scratch: Path | None = None,
        create_grace: float = CREATE_GRACE_S,
        secrets_env: tuple[str, ...] = (),
    ) -> Reaper:

        base = dict(os.environ if env is None else env)
        # The watchdog needs no credential: the scanners' allow list plus where the engine is.
        # No tool mark (secscan.proc): the end of the run kills marked processes, and this one
        # must outlive it to remove a container whose create is still in flight.
        child_env = allowed_env(base)
        child_env.update({k: v for k, v in base.items() if k.startswith("DOCKER_")})
        for name in (*_NEVER_INHERIT, *secrets_env):
            child_env.pop(name, None)
        child_env["PYTHONSAFEPATH"] = "1"
        argv = [sys.executable, "-P", "-m", "secscan.zap.reaper"]
        if run_id is not None:
            argv.append(f"{LABEL}={run_id}")
        if scratch is not None:
            argv += ["--scratch", str(scratch.resolve())]
        argv += ["--create-grace", f"{create_grace:g}"]
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=child_env,
            cwd="/",  # outside the scanned tree
            # Own session: a signal to secscan's process group (Ctrl-C, a CI runner) must not
            # kill the watchdog before it has done its job.
            start_new_session=True,
        )
        return cls(proc)

    @property
    def pid(self) -> int:
        return self._proc.pid

    def send(self, line: str) -> None:
        stdin = self._proc.stdin
        try:
            if stdin is not None and not stdin.closed:
                stdin.write(line.encode() + b"\n")
                stdin.flush()
        except OSError:
            pass

    def _close(self) -> None:
        stdin = self._proc.stdin
        try:
            if stdin is not None and not stdin.closed:
                stdin.close()
        except OSError:
            pass

    def done(self) -> None:
        """Everything is gone: tell the watchdog to exit without touching Docker or files."""
        self.send("done")
        self._close()
        # No need to wait: the watchdog exits on its own once it reads "done" (subprocess reaps
        # it later), and secscan should not pay for its start-up.

    def handoff(self) -> None:
        """secscan stops waiting (a create is in flight, or removing failed): the watchdog
        removes the container, now or when it appears; secscan keeps its scratch folder."""
        self.send("handoff")
        self._close()


# ------------------------------------------------------------------ the watchdog side


def _remove_labelled(client: object, label: str) -> int:
    from docker.errors import DockerException, NotFound

    removed = 0
    try:
        found = client.containers.list(all=True, filters={"label": label}, ignore_removed=True)  # type: ignore[attr-defined]
    except DockerException:
        return 0
    for container in found:
        try:
            container.remove(force=True)
            removed += 1
        except NotFound:
            pass
        except DockerException:
            continue
    return removed


def _remove_scratch(scratch: str | None) -> None:
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)


def _kill_group(lines: list[str]) -> None:
    """SIGKILL the local scan's process group if it may still run (killed first: it writes the
    files that are removed next)."""
    last = max((i for i, x in enumerate(lines) if x.startswith("pgid ")), default=None)
    if last is None or "pgid-gone" in lines[last:]:
        return
    with contextlib.suppress(OSError, ValueError):
        os.killpg(int(lines[last].split(" ", 1)[1]), signal.SIGKILL)


def watch(label: str | None, *, scratch: str | None, create_grace: float, lines: list[str]) -> None:
    """Clean up after a dead (or departing) secscan, given the lines it sent."""
    import docker
    from docker.errors import DockerException

    labels = [label] if label else []
    labels += [x.split(" ", 1)[1] for x in lines if x.startswith("label ") and "=" in x]
    if "done" in lines:
        return
    handoff = "handoff" in lines
    if not handoff:
        # secscan is gone: nothing of its scratch folder is needed any more. Removed first: it
        # is local and quick, while the engine may be slow to answer.
        _remove_scratch(scratch)
        _kill_group(lines)
        for line in lines:
            if line.startswith("file "):
                with contextlib.suppress(OSError):
                    Path(line[5:]).unlink(missing_ok=True)
    in_flight = "creating" in lines and not any(x.startswith("created") for x in lines)
    removed_by_secscan = lines[-1:] == ["removed"]
    if not labels or (removed_by_secscan and not in_flight):
        return
    try:
        client = docker.from_env(timeout=60)
    except DockerException:
        return
    found = sum(_remove_labelled(client, lb) for lb in labels)
    if not in_flight or found:
        return
    deadline = time.monotonic() + create_grace
    while time.monotonic() < deadline:
        time.sleep(POLL_S)
        if sum(_remove_labelled(client, lb) for lb in labels):
            return


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m secscan.zap.reaper")
    parser.add_argument("label", nargs="?")
    parser.add_argument("--scratch")
    parser.add_argument("--create-grace", type=float, default=CREATE_GRACE_S)
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        return 2
    if args.label is not None and "=" not in args.label:
        print("usage: python -m secscan.zap.reaper LABEL=VALUE", file=sys.stderr)
        return 2
    lines: list[str] = []
    for raw in sys.stdin.buffer:  # blocks until secscan writes a line or its end closes
        line = raw.decode("utf-8", "replace").strip()
        lines.append(line)
        if line in ("done", "handoff"):
            break
    watch(args.label, scratch=args.scratch, create_grace=args.create_grace, lines=lines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
