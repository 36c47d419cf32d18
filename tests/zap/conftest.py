"""Real components for the ZAP tests: a private Docker engine, a stand-in ZAP image built with
``docker import``, and an HTTP target on loopback.

The engine runs with --bridge=none (no iptables here), so containers use host networking,
which is also what secscan's runner asks for.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import os
import shutil
import signal
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, require

HERE = Path(__file__).resolve().parent
STANDIN_SCRIPT = HERE / "standin_zap_baseline.sh"
STANDIN_IMAGE = "secscan-test/zap-standin:1"
SAMPLE_JSON = DATA / "zap" / "zap-2.16.1_baseline_report_json.json"
SAMPLE_XML = DATA / "zap" / "zap_2.16.1_with_req_resp.xml"
SAMPLE_API_JSON = DATA / "zap" / "zap-api-scan_payment-api_constructed.json"
SCRIPT_NAMES = ("zap-baseline.py", "zap-api-scan.py", "zap-full-scan.py")
APPLETS = ("sh", "cat", "cp", "echo", "env", "grep", "head", "id", "nc", "printf", "sed", "sleep", "sort", "busybox")


def busybox_path() -> str | None:
    """A statically linked busybox (busybox-static): the only binary the stand-in image needs."""
    for candidate in (shutil.which("busybox"), "/bin/busybox", "/usr/bin/busybox"):
        if candidate and Path(candidate).is_file():
            with open(candidate, "rb") as fh:
                head = fh.read(4096)
            # A dynamic ELF names its interpreter (ld-linux); a static one does not.
            if b"ld-linux" not in head:
                return candidate
    return None


_CLIENTS: dict[str, Any] = {}


@dataclass(frozen=True)
class Engine:
    host: str
    """DOCKER_HOST value (unix://...)."""

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SECSCAN_ZAP")}
        env["DOCKER_HOST"] = self.host
        env.update(extra)
        return env

    def client(self) -> Any:
        """One client per engine: tests poll the engine every few ms, and a new client each
        time leaves its connections open until the engine stops accepting new ones."""
        import docker

        if self.host not in _CLIENTS:
            _CLIENTS[self.host] = docker.DockerClient(base_url=self.host, timeout=60)
        return _CLIENTS[self.host]

    def zap_containers(self) -> list[Any]:
        return list(
            self.client().containers.list(all=True, filters={"label": "secscan.scanner=zap"}, ignore_removed=True)
        )


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Engine]:
    dockerd = shutil.which("dockerd")
    require(dockerd is not None and os.geteuid() == 0, "dockerd (docker.io) run as root")
    assert dockerd is not None
    started = start_engine(dockerd)
    try:
        yield started.engine
    finally:
        started.stop()


@dataclass
class StartedEngine:
    engine: Engine
    proc: subprocess.Popen[bytes]
    root: Path

    def stop(self) -> None:
        try:
            for c in self.engine.client().containers.list(all=True, ignore_removed=True):
                c.remove(force=True)
        except Exception:  # noqa: BLE001, S110 - best effort before stopping the engine
            pass
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        # dockerd leaves its default network namespace bind-mounted under exec-root.
        for mount_point in _mounts_under(self.root):
            subprocess.run(["umount", "-l", mount_point], capture_output=True, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _mounts_under(root: Path) -> list[str]:
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    prefix = str(root.resolve()) + "/"
    points = [line.split()[1] for line in lines if len(line.split()) > 1]
    return sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True)


def start_engine(dockerd: str, storage_driver: str = "vfs") -> StartedEngine:
    """A private dockerd (vfs storage unless told, no bridge, no iptables) on a socket in a new
    temp dir."""
    root = Path(tempfile.mkdtemp(prefix="szd-"))  # short: unix socket paths are limited to 108 bytes
    sock = root / "d.sock"
    with open(root / "dockerd.log", "wb") as log:
        proc = subprocess.Popen(
            [
                dockerd,
                f"--storage-driver={storage_driver}",
                "--iptables=false",
                "--bridge=none",
                "--data-root", str(root / "data"),
                "--exec-root", str(root / "exec"),
                "-H", f"unix://{sock}",
                "--pidfile", str(root / "d.pid"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    engine = Engine(host=f"unix://{sock}")
    deadline = time.monotonic() + 60
    while True:
        try:
            engine.client().ping()
            return StartedEngine(engine=engine, proc=proc, root=root)
        except Exception as e:
            if proc.poll() is not None or time.monotonic() > deadline:
                text = (root / "dockerd.log").read_text(errors="replace")[-2000:]
                StartedEngine(engine=engine, proc=proc, root=root).stop()
                raise RuntimeError(f"dockerd did not start: {text}") from e
            time.sleep(0.2)


def _rootfs_tar(busybox: str) -> bytes:
    """busybox-static plus the stand-in script and two real recorded ZAP reports."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:

        def add_dir(name: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = mode
            tar.addfile(info)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            tar.addfile(info, io.BytesIO(data))

        for d in ("bin", "zap", "zap/samples", "etc"):
            add_dir(d)
        add_dir("tmp", 0o1777)
        add_dir("zap/wrk", 0o777)
        add_file("bin/busybox", Path(busybox).read_bytes(), 0o755)
        for applet in APPLETS[:-1]:
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tar.addfile(info)
        add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nzap:x:1000:1000:zap:/zap:/bin/sh\n")
        for name in SCRIPT_NAMES:  # one stand-in, three names (it reads $0)
            add_file(f"zap/{name}", STANDIN_SCRIPT.read_bytes(), 0o755)
        add_file("zap/samples/report.json", SAMPLE_JSON.read_bytes())
        add_file("zap/samples/api-report.json", SAMPLE_API_JSON.read_bytes())
        add_file("zap/samples/report.xml", SAMPLE_XML.read_bytes())
    return buf.getvalue()


def build_standin_image(engine: Engine, busybox: str) -> str:
    """Import the stand-in ZAP image (like ZAP's: script on PATH, default user zap, uid 1000)."""
    with tempfile.TemporaryDirectory() as tmp:
        tar = Path(tmp) / "rootfs.tar"
        tar.write_bytes(_rootfs_tar(busybox))
        repo, tag = STANDIN_IMAGE.rsplit(":", 1)
        engine.client().api.import_image(
            src=str(tar), repository=repo, tag=tag, changes=["ENV PATH=/zap:/bin", "USER 1000", "WORKDIR /zap"]
        )
    return STANDIN_IMAGE


@pytest.fixture(scope="session")
def zap_image(docker_engine: Engine) -> str:
    busybox = busybox_path()
    require(busybox is not None, "busybox-static")
    assert busybox is not None
    return build_standin_image(docker_engine, busybox)


SEEN: list[tuple[str, dict[str, str]]] = []
"""(path, headers) of every request any test target received (the stand-in's requests)."""
API_DEFINITION = b"openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        SEEN.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.path.endswith("/openapi.yaml"):  # a definition served by the app itself
            body, kind = API_DEFINITION, "application/yaml"
        else:
            body, kind = b"<html><body>payment app</body></html>", "text/html"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_target() -> Iterator[str]:
    """http://127.0.0.1:PORT: a real HTTP server the stand-in ZAP talks to over host networking."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def seen_requests() -> list[tuple[str, dict[str, str]]]:
    """The requests the targets received (this module's list: pytest imports conftest under
    its own name, so a test importing SEEN directly would get another copy)."""
    return SEEN


@pytest.fixture(scope="session")
def target_url() -> Iterator[str]:
    with serve_target() as url:
        yield url


def free_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ a slow storage driver


class EngineProxy:
    """A pass-through proxy in front of the real engine's socket that can hold one kind of
    request (``hold("/containers/create")``): the way a large image on a slow storage driver
    keeps a create (or start) in flight for seconds. Every other request and every response
    passes unchanged; a held request is forwarded (and so really executed by the engine) when
    released, even if the client that sent it is gone, as the engine itself would do."""

    def __init__(self, upstream: str, root: Path) -> None:
        import socket

        self.upstream = upstream.removeprefix("unix://")
        self.path = root / "p.sock"
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self._server.listen(64)
        self._pattern: str | None = None
        self.arrived = threading.Event()
        self.released = threading.Event()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def host(self) -> str:
        return f"unix://{self.path}"

    def hold(self, pattern: str) -> None:
        self._pattern = pattern
        self.arrived.clear()
        self.released.clear()

    def release(self) -> None:
        self._pattern = None
        self.released.set()

    def close(self) -> None:
        self._closed = True
        self.release()
        self._server.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: Any) -> None:
        import socket

        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            upstream.connect(self.upstream)
        except OSError:
            client.close()
            return
        threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
        buf = b""
        try:
            while True:
                request = _read_request(client, buf)
                if request is None:
                    return
                head, body, buf = request
                request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
                pattern = self._pattern
                if pattern is not None and pattern in request_line:
                    self.arrived.set()
                    self.released.wait(120)
                upstream.sendall(head + b"\r\n\r\n" + body)
        except OSError:
            return
        finally:
            # Let the engine finish and answer (like a real in-flight request), then close.
            threading.Timer(10, upstream.close).start()


def _read_request(client: Any, buf: bytes) -> tuple[bytes, bytes, bytes] | None:
    """One HTTP request from ``client`` (after what ``buf`` holds already): its head, its body
    and what came after it; None when the client closed before a whole head."""
    while b"\r\n\r\n" not in buf:
        chunk = client.recv(65536)
        if not chunk:
            return None
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(buf) < length:
        chunk = client.recv(65536)
        if not chunk:
            break
        buf += chunk
    return head, buf[:length], buf[length:]


def _pipe(src: Any, dst: Any) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            dst.close()


@pytest.fixture
def engine_proxy(docker_engine: Engine) -> Iterator[EngineProxy]:
    root = Path(tempfile.mkdtemp(prefix="szp-"))
    proxy = EngineProxy(docker_engine.host, root)
    try:
        yield proxy
    finally:
        proxy.close()
        shutil.rmtree(root, ignore_errors=True)
