"""OSV's exports as osv.dev publishes them, served by a real HTTP server on loopback.

``<base>/PyPI/all.zip`` and ``<base>/npm/all.zip``, each a flat zip of ``<ID>.json`` records,
built from real advisories kept in the repository (origins in tests/data/advisories/MANIFEST.md):

- PyPI: the 82 PyPA records of examples/advisories/pypa (YAML there; osv.dev serves the same
  records as JSON, so they are converted here, values unchanged) and the GitHub records of
  tests/data/advisories/osv-pypi-ghsa (JSON, bytes unchanged);
- npm: the 47 records of tests/data/npm/advisories (JSON, bytes unchanged).

The server answers from a table that a test may change between requests: an archive, a status,
a body cut short of its Content-Length, or a reply that never comes (a timeout).
"""

from __future__ import annotations

import functools
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import yaml

from tests.advisories.advisories_support import DATA, EXAMPLES, ROOT

GHSA_PYPI = DATA / "osv-pypi-ghsa"
NPM = ROOT / "tests" / "data" / "npm" / "advisories"


def _json_value(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(type(value).__name__)


@functools.cache
def _pypi_members() -> tuple[tuple[str, bytes], ...]:
    out: dict[str, bytes] = {}
    for path in sorted((EXAMPLES / "pypa").rglob("*.yaml")):
        record = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[f"{record['id']}.json"] = json.dumps(record, indent=2, default=_json_value).encode()
    for path in sorted(GHSA_PYPI.glob("*.json")):
        out[path.name] = path.read_bytes()
    return tuple(out.items())


def pypi_members() -> dict[str, bytes]:
    """``<ID>.json`` -> bytes of every PyPI record of the fixtures (a new dict each call)."""
    return dict(_pypi_members())


def npm_members() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(NPM.glob("*.json"))}


def make_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@dataclass
class Reply:
    """What the server answers for one path."""

    body: bytes = b""
    status: int = 200
    cut_at: int | None = None
    """Send only this many bytes of the body (the Content-Length still says all of it)."""
    delay: float = 0.0
    """Wait this long before answering (past the client's timeout: a hung server)."""


class ExportServer:
    """A loopback HTTP server for OSV's export layout; ``replies`` maps a path to a Reply."""

    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self.requests: list[str] = []
        self.stop = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                reply = server.replies.get(self.path)
                if reply is None:
                    self.send_error(404)
                    return
                if reply.delay and server.stop.wait(reply.delay):
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                body = reply.body if reply.cut_at is None else reply.body[: reply.cut_at]
                self.wfile.write(body)
                if reply.cut_at is not None:
                    self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/osv"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def serve(self, ecosystem: str, reply: Reply) -> None:
        self.replies[f"/osv/{ecosystem}/all.zip"] = reply

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def export_server() -> Iterator[ExportServer]:
    """For a fixture: a server with both real archives in place."""
    srv = ExportServer()
    srv.serve("PyPI", Reply(body=make_zip(pypi_members())))
    srv.serve("npm", Reply(body=make_zip(npm_members())))
    try:
        yield srv
    finally:
        srv.close()
