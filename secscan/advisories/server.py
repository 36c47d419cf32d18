"""An OSV-compatible query server over one advisory store (PyPI and npm).

Endpoints, shaped like api.osv.dev's:

- ``POST /v1/query``: ``{"package": {"name", "ecosystem"} | {"purl"}, "version"?}`` ->
  ``{"vulns": [full records]}``, or ``{}`` when nothing matches (pip-audit reads ``{}`` as
  "no vulnerabilities"). Without a version: every non-withdrawn advisory of the package.
- ``POST /v1/querybatch``: ``{"queries": [...]}`` (at most 1000) ->
  ``{"results": [{"vulns": [{"id", "modified"}]} | {}, ...]}`` in query order.
- ``GET /v1/vulns/{id}``: one record (withdrawn ones too, with their ``withdrawn`` field); an
  alias (e.g. a CVE id) resolves to the advisory that lists it.

Errors are JSON ``{"code": <gRPC code>, "message": ...}`` like OSV's. Every response carries
``X-Secscan-Advisory-Snapshot`` so a client can record exactly which data answered it.
The server has no authentication: it binds 127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from secscan.advisories.matching import parser_for
from secscan.advisories.osv import ECOSYSTEM, ECOSYSTEMS, normalize_name
from secscan.advisories.store import AdvisoryStore

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_BATCH = 1000  # api.osv.dev's limit for /v1/querybatch
SNAPSHOT_HEADER = "X-Secscan-Advisory-Snapshot"

# gRPC status codes, which OSV's JSON errors use.
INVALID_ARGUMENT = 3
NOT_FOUND = 5
UNIMPLEMENTED = 12


class QueryError(Exception):
    def __init__(self, message: str, *, code: int = INVALID_ARGUMENT, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


@dataclass(frozen=True, kw_only=True)
class Query:
    """A validated OSV query."""

    package: str | None
    """Normalized name (``osv.normalize_name``); None for another ecosystem (never matches here)."""
    version: str | None
    ecosystem: str = ECOSYSTEM


def parse_purl(purl: str) -> tuple[str, str, str | None]:
    """``pkg:type/[namespace/]name[@version][?qualifiers][#subpath]`` -> (type, name, version)."""
    if not purl.startswith("pkg:"):
        raise QueryError(f"invalid purl {purl[:80]!r}")
    rest = purl[4:].lstrip("/").split("#", 1)[0].split("?", 1)[0]
    ptype, _, path = rest.partition("/")
    if not ptype or not path:
        raise QueryError(f"invalid purl {purl[:80]!r}")
    head, slash, last = path.rpartition("/")
    last, _, version = last.partition("@")
    # npm's namespace is part of the package name: pkg:npm/%40babel/traverse is @babel/traverse.
    namespace = unquote(head) if ptype.lower() == "npm" and slash and head else ""
    name = (namespace + "/" if namespace else "") + unquote(last)
    if not last:
        raise QueryError(f"invalid purl {purl[:80]!r}")
    return ptype.lower(), name, unquote(version) if version else None


def _purl_query(purl: object, version: str | None) -> Query:
    if not isinstance(purl, str):
        raise QueryError("package.purl must be a string")
    ptype, pname, pversion = parse_purl(purl)
    if pversion is not None and version is not None:
        raise QueryError("version specified in params and PURL query")
    eco = {"pypi": ECOSYSTEM, "npm": "npm"}.get(ptype)
    return Query(package=normalize_name(pname, eco) if eco else None, version=pversion or version, ecosystem=eco or "")


def parse_query(body: object) -> Query:
    if not isinstance(body, dict):
        raise QueryError("query must be a JSON object")
    version = body.get("version")
    if version is not None and not isinstance(version, str):
        raise QueryError("version must be a string")
    if body.get("commit"):
        raise QueryError("commit queries are not supported (PyPI ECOSYSTEM data only)", code=UNIMPLEMENTED)
    pkg = body.get("package")
    if not isinstance(pkg, dict):
        raise QueryError("package is required")
    purl, name, ecosystem = pkg.get("purl"), pkg.get("name"), pkg.get("ecosystem")
    if purl is not None:
        if name is not None or ecosystem is not None:
            raise QueryError("package: purl and name/ecosystem are mutually exclusive")
        return _purl_query(purl, version)
    if not isinstance(name, str) or not name:
        raise QueryError("package.name (or package.purl) is required")
    if ecosystem is not None and not isinstance(ecosystem, str):
        raise QueryError("package.ecosystem must be a string")
    # A name without ecosystem means PyPI here (what pip-audit's queries always were).
    eco = ECOSYSTEM if ecosystem is None else ecosystem
    known = eco in ECOSYSTEMS
    return Query(package=normalize_name(name, eco) if known else None, version=version, ecosystem=eco)


def match(store: AdvisoryStore, query: Query) -> list[tuple[str, str]]:
    """(id, modified) of every non-withdrawn advisory affecting the query, sorted by id."""
    if query.package is None:
        return []
    parsed = parser_for(query.ecosystem)(query.version) if query.version is not None else None
    hits: dict[str, str] = {}
    for cand in store.candidates(query.package, query.ecosystem):
        if cand.advisory_id in hits:
            continue
        if query.version is None or cand.matcher.affects(query.version, parsed):
            hits[cand.advisory_id] = cand.modified
    return sorted(hits.items())


def answer_query(store: AdvisoryStore, body: object) -> bytes:
    hits = match(store, parse_query(body))
    if not hits:
        return b"{}"
    # Records are stored as JSON text: splice them instead of decoding and re-encoding.
    records = [store.record(vid) or "null" for vid, _ in hits]
    return ('{"vulns":[' + ",".join(records) + "]}").encode()


def answer_batch(store: AdvisoryStore, body: object) -> bytes:
    if not isinstance(body, dict) or not isinstance(body.get("queries"), list):
        raise QueryError("querybatch needs {'queries': [...]}")
    queries = body["queries"]
    if len(queries) > MAX_BATCH:
        raise QueryError(f"too many queries: {len(queries)} (at most {MAX_BATCH})")
    parsed = [parse_query(q) for q in queries]
    results: list[dict[str, Any]] = []
    for q in parsed:
        hits = match(store, q)
        results.append({"vulns": [{"id": i, "modified": m} for i, m in hits]} if hits else {})
    return json.dumps({"results": results}, separators=(",", ":")).encode()


class _Handler(BaseHTTPRequestHandler):
    server: AdvisoryServer
    protocol_version = "HTTP/1.1"  # keep-alive: pip-audit's requests session reuses connections
    server_version = "secscan-advisories"
    sys_version = ""
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle + delayed ACK add ~40 ms.
    disable_nagle_algorithm = True
    timeout = 60  # an idle keep-alive connection frees its thread after this

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.log is not None:
            self.server.log(f"{self.address_string()} {format % args}")

    def _send(self, status: int, payload: bytes, *, close: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header(SNAPSHOT_HEADER, self.server.store.snapshot)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _error(self, status: int, code: int, message: str, *, close: bool = False) -> None:
        self._send(status, json.dumps({"code": code, "message": message}).encode(), close=close)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path.startswith("/v1/vulns/"):
            vid = self.server.store.resolve(unquote(path[len("/v1/vulns/") :]))
            record = self.server.store.record(vid) if vid else None
            if record is None:
                self._error(404, NOT_FOUND, "Bug not found.")
            else:
                self._send(200, record.encode())
        elif path in ("/", "/v1"):
            info = {"service": "secscan advisories (OSV API, PyPI and npm)", "snapshot": self.server.store.snapshot}
            self._send(200, json.dumps(info).encode())
        else:
            self._error(404, NOT_FOUND, "Not found.")

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0]
        handlers: dict[str, Callable[[AdvisoryStore, object], bytes]] = {
            "/v1/query": answer_query,
            "/v1/querybatch": answer_batch,
        }
        handler = handlers.get(path)
        length_header = self.headers.get("Content-Length")
        if length_header is None or not length_header.isdigit():
            # Also covers chunked bodies we do not read: close rather than misparse the stream.
            self._error(411, INVALID_ARGUMENT, "Content-Length required", close=True)
            return
        length = int(length_header)
        if length > MAX_BODY_BYTES:
            self._error(413, INVALID_ARGUMENT, f"request body larger than {MAX_BODY_BYTES} bytes", close=True)
            return
        raw = self.rfile.read(length)
        if handler is None:
            self._error(404, NOT_FOUND, "Not found.")
            return
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            self._error(400, INVALID_ARGUMENT, "request body is not valid JSON")
            return
        try:
            payload = handler(self.server.store, body)
        except QueryError as e:
            self._error(e.status, e.code, str(e))
            return
        self._send(200, payload)


class AdvisoryServer(ThreadingHTTPServer):
    """One thread per connection; daemon threads so a stuck client never blocks shutdown."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], store: AdvisoryStore, *, log: Callable[[str], None] | None = None
    ) -> None:
        self.store = store
        self.log = log
        super().__init__(address, _Handler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])
