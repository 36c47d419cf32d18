"""Run zap-baseline.py in ZAP's image through the Docker Engine API (the ``docker`` SDK).

Written for the real ``ghcr.io/zaproxy/zaproxy:stable`` image: the script is on the image's
PATH, runs as the ``zap`` user (uid 1000) and reads/writes files in ``/zap/wrk``, which is a
bind mount of a host directory here. The container uses the host's network, so a target on the
runner's localhost is reachable (and it is what works on engines started with --bridge=none).
The container is removed on every path: success, failure, time limit, cancellation, and, via
:mod:`secscan.zap.reaper`, when secscan itself is killed.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from secscan.errors import ScannerError
from secscan.scanners.base import ToolCancelled, ToolMissing, ToolTimeout
from secscan.textsafe import one_line
from secscan.zap.job import WRK, ZapJob
from secscan.zap.reaper import LABEL, Reaper
from secscan.zap.runner import Progress, ZapRun, ZapRunner

ZAP_UID = 1000
"""The ``zap`` user of ZAP's images; it must be able to write the mounted work directory."""
POLL_S = 0.25
CREATE_GRACE_S = 1.0
"""How long a cancelled run still waits for an in-flight create before handing it over."""
REMOVE_GRACE_S = 5.0
"""How long a cancelled run waits for its own removal of a container whose start is in flight."""
LOG_TAIL_LINES = 200


class EngineUnreachable(ScannerError):
    """The Docker engine did not answer."""


class ImageMissing(ToolMissing):
    """The ZAP image is not present on the engine (and pulling was not asked for or failed)."""


def _short(e: BaseException) -> str:
    text = getattr(e, "explanation", None) or str(e) or type(e).__name__
    return one_line(str(text), 200)


def engine_address(env: Mapping[str, str]) -> str:
    return env.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


class DockerRunner(ZapRunner):
    mode = "docker"

    def __init__(self, *, image: str, pull: bool = False, env: Mapping[str, str] | None = None) -> None:
        self.image = image
        self.pull = pull
        self.env = dict(os.environ if env is None else env)

    # -------------------------------------------------------------- set-up

    def client(self) -> Any:
        """A connected client; EngineUnreachable with the address tried otherwise."""
        import docker
        from docker.errors import DockerException

        try:
            client = docker.from_env(environment=self.env, timeout=60)
            client.ping()
        except DockerException as e:
            raise EngineUnreachable(
                f"Docker engine unreachable at {engine_address(self.env)} (set DOCKER_HOST?): {_short(e)}"
            ) from e
        except OSError as e:  # requests' connection errors are OSErrors
            raise EngineUnreachable(f"Docker engine unreachable at {engine_address(self.env)}: {_short(e)}") from e
        return client

    def ensure_image(self, client: Any, progress: Progress) -> None:
        from docker.errors import APIError, DockerException, ImageNotFound

        try:
            client.images.get(self.image)
            return
        except ImageNotFound:
            pass
        except DockerException as e:
            raise EngineUnreachable(f"Docker engine error while looking up {self.image}: {_short(e)}") from e
        if not self.pull:
            raise ImageMissing(
                f"ZAP image {self.image} is not present on the Docker engine; "
                f"run `docker pull {self.image}` or pass --zap-pull"
            )
        progress(f"pulling {self.image}")
        try:
            client.images.pull(self.image)
        except (APIError, DockerException) as e:
            raise ImageMissing(f"cannot pull ZAP image {self.image}: {_short(e)}") from e

    def workdir(self, scratch: Path) -> Path:
        wrk = scratch / "zap-wrk"
        wrk.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(wrk, ZAP_UID, ZAP_UID)
            wrk.chmod(0o755)
        else:
            # Not root: we cannot chown, so the zap user (another uid) needs write access. The
            # directory lives in secscan's private scratch space, so this exposes nothing.
            wrk.chmod(0o777)
        return wrk

    # -------------------------------------------------------------- the run

    def _create(self, client: Any, job: ZapJob, wrk: Path, run_id: str, env: Mapping[str, str]) -> _Pending:
        from docker.types import Mount

        # A Mount, not a "volumes" bind: the engine refuses to start the container if the work
        # directory is gone, where a volumes bind would silently recreate it (an empty,
        # root-owned scratch folder left behind by a start that was in flight when secscan
        # stopped waiting).
        mount = Mount(target=WRK, source=str(wrk.resolve()), type="bind", read_only=False)
        return _in_background(
            "zap-create",
            lambda: client.containers.create(
                self.image,
                command=list(job.argv()),
                name=f"secscan-zap-{run_id[:12]}",
                labels={LABEL: run_id, "secscan.scanner": "zap"},
                network_mode="host",
                mounts=[mount],
                environment=dict(env) or None,
                detach=True,
            ),
        )

    def run(
        self,
        job: ZapJob,
        *,
        wrk: Path,
        timeout: float,
        cancel: threading.Event,
        progress: Progress,
        reaper: Reaper | None = None,
        env: Mapping[str, str] | None = None,
    ) -> ZapRun:
        started = time.monotonic()
        deadline = started + timeout
        client = self.client()
        self.ensure_image(client, progress)
        run_id = uuid.uuid4().hex
        own_reaper = reaper is None
        watchdog = reaper if reaper is not None else Reaper.start(run_id, env=self.env)
        container: Any = None
        handed_off = False

        def check(stage: str) -> None:
            if cancel.is_set():
                raise ToolCancelled(f"ZAP cancelled {stage}; its container was removed")
            if time.monotonic() >= deadline:
                raise ToolTimeout(f"ZAP exceeded its time limit of {timeout:g}s; its container was removed")

        try:
            watchdog.send(f"label {LABEL}={run_id}")
            watchdog.send("creating")
            pending = self._create(client, job, wrk, run_id, env or {})
            handed_off = self._await(pending, watchdog, cancel, deadline)
            if not handed_off:
                container = pending.value(f"cannot create the ZAP container from {self.image}")
                watchdog.send(f"created {container.id}")
            # A signal during the create: never start ZAP (the finally block removes it).
            check("while its container was being created")
            pending = _in_background("zap-start", container.start)
            handed_off = self._await_start(pending, container, watchdog, cancel, deadline)
            check("while its container was starting")
            pending.value(f"cannot start the ZAP container from {self.image}")
            progress(f"ZAP {job.mode} running in container {container.short_id} ({self.image})")
            self._wait_exit(container, check, deadline)
            return self._outcome(container, started)
        finally:
            if container is not None and not handed_off:
                handed_off = self._remove(container, watchdog)
            if own_reaper and not handed_off:
                watchdog.done()

    @staticmethod
    def _await_start(
        pending: _Pending, container: Any, watchdog: Reaper, cancel: threading.Event, deadline: float
    ) -> bool:
        """Wait for the start request; True when cancelled or out of time meanwhile, and the
        container was dealt with here (the caller's cleanup leaves it alone)."""
        while not pending.finished.wait(POLL_S):
            if cancel.is_set() or time.monotonic() >= deadline:
                # The container exists: remove it ourselves (the usual, quick case); only an
                # engine too slow for that gets the container handed to the watchdog.
                removal = _in_background("zap-remove", lambda: container.remove(force=True))
                if removal.finished.wait(REMOVE_GRACE_S) and removal.error is None:
                    watchdog.send("removed")
                else:
                    watchdog.handoff()
                return True
        return False

    @staticmethod
    def _wait_exit(container: Any, check: Callable[[str], None], deadline: float) -> None:
        """Until ZAP exits, looking at cancel/deadline (``check``) between short waits."""
        import requests
        from docker.errors import NotFound

        while True:
            check("while running")
            remaining = deadline - time.monotonic()
            try:
                # A short blocking wait: returns the moment ZAP exits.
                container.wait(timeout=max(0.05, min(POLL_S, remaining)))
                return
            except NotFound as e:
                raise ScannerError("the ZAP container disappeared while running (removed by someone else?)") from e
            except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
                continue

    def _outcome(self, container: Any, started: float) -> ZapRun:
        container.reload()
        state = container.attrs.get("State", {})
        exit_code = int(state.get("ExitCode", -1))
        log = container.logs(stdout=True, stderr=True, tail=LOG_TAIL_LINES).decode("utf-8", errors="replace")
        if state.get("OOMKilled"):
            log += "\n(the ZAP container ran out of memory)"
        return ZapRun(exit_code=exit_code, log=log, duration_s=time.monotonic() - started, mode=self.mode)

    @staticmethod
    def _remove(container: Any, watchdog: Reaper) -> bool:
        """Remove the container; True when it was handed to the watchdog instead."""
        from docker.errors import DockerException, NotFound

        try:
            container.remove(force=True)
            watchdog.send("removed")
        except NotFound:
            watchdog.send("removed")
        except DockerException:
            # Leave it to the watchdog (it removes by label).
            watchdog.handoff()
            return True
        return False

    @staticmethod
    def _await(pending: _Pending, watchdog: Reaper, cancel: threading.Event, deadline: float) -> bool:
        """Wait for the create request; True when secscan stopped waiting (cancelled or out of
        time, and the engine still busy after CREATE_GRACE_S) and handed the container-to-be
        over to the watchdog."""
        while not pending.finished.wait(POLL_S):
            if cancel.is_set() or time.monotonic() >= deadline:
                # Usually the create is about done: a moment's wait lets secscan remove the
                # container itself. A slow engine (a large image on vfs) is not waited for: the
                # watchdog removes the container as soon as the create produces it.
                if pending.finished.wait(CREATE_GRACE_S):
                    return False
                watchdog.handoff()
                return True
        return False


class _Pending:
    """The outcome of an engine request running in a helper thread."""

    def __init__(self) -> None:
        self.finished = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def value(self, what: str) -> Any:
        """The request's result; ScannerError ``what: reason`` for an engine error."""
        from docker.errors import DockerException

        if self.error is not None:
            if isinstance(self.error, DockerException):
                raise ScannerError(f"{what}: {_short(self.error)}") from self.error
            raise self.error
        return self.result


def _in_background(name: str, request: Callable[[], Any]) -> _Pending:
    """Send an engine request from a helper thread, so that a cancellation or the time limit
    never waits for a slow engine (a large image on vfs takes seconds to create). A daemon
    thread: if secscan gives up on it, it must not keep the interpreter alive."""
    pending = _Pending()

    def run() -> None:
        try:
            pending.result = request()
        except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
            pending.error = e
        finally:
            pending.finished.set()

    threading.Thread(target=run, name=name, daemon=True).start()
    return pending
