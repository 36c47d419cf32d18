"""A GitLab REST API v4 stand-in: a real threaded HTTP server on 127.0.0.1 (ephemeral port).

No GitLab server can run here, so tests talk to this one with the real python-gitlab client.
It answers like GitLab does (shapes copied from ``tests/data/gitlab/``, real API responses):
string fields (``real_size``, ``changes_count``), pagination headers (``X-Total``,
``X-Next-Page``, ``Link``), tokens checked (401; 403 for ``JOB-TOKEN`` on notes), DiffNote
positions outside the diff rejected with GitLab's 400 body, commit-status transitions refused
with GitLab's 400. Faults are injected on demand (500/502/503, 429 + Retry-After, slow answers,
connection resets) and every request is recorded, so tests can count write calls.

GitLab's real failure modes and permissions (issue 15), checked in GitLab's source:

- ``Fault(status=502, lands=True)``: the write is committed, then the answer is an error
  (Rails failing after the INSERT, or Workhorse/nginx giving up while Rails goes on);
- per-token users, roles and scopes (``add_token``): commenting needs Reporter, resolving a thread
  Developer (or being the MR's author), a commit status Developer; a token without the ``api``
  scope gets GitLab's 403 ``insufficient_scope`` on every write;
- every note (summary, thread, reply, edit) longer than 1,000,000 characters is refused with
  GitLab's 400, and so is any new note once the merge request has ``notes_limit`` notes (GitLab's
  5,000, system notes included);
- ``on(route, fn)`` runs ``fn`` when a request reaches a route (e.g. a push adding a diff version
  in the middle of a publish);
- every note body received is run through a port of GitLab's quick-action extractor
  (``tests/support/gitlab_quick_actions.py``): a command fails the test when the stand-in stops.

Usage::

    with GitLabStandIn() as gl:                      # or the ``gitlab_standin`` fixture
        mr = gl.add_merge_request(project_id=7, iid=3, files={"app.py": ("", "x = 1\\n")})
        ... python-gitlab with url=gl.url, private_token=gl.private_token ...
        assert gl.write_count() == 2

Extending it (other areas add endpoints, e.g. ``tests/support/gitlab_standin_groups.py``)::

    def install(gl: GitLabStandIn) -> None:
        @gl.route("GET", "/groups/{group}/projects", name="group_projects")
        def group_projects(req: Request, params: dict[str, str]) -> Response:
            return gl.paginate(req, [...])            # list answers: always paginate
        # raise ApiError(404, "404 Group Not Found") for GitLab's error bodies
        # gl.lock guards shared state; routes are matched in registration order.

Route patterns are paths below ``/api/v4`` with ``{name}`` placeholders (one path segment,
URL-decoded, so ``group%2Fproject`` arrives as ``group/project``). A route answers a
``JOB-TOKEN`` only when registered with ``job_token=True`` (GitLab lets the CI job token reach
few endpoints: artifacts and packages, not notes).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import re
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest

from tests.support.gitlab_quick_actions import quick_actions

DATA = Path(__file__).resolve().parent.parent / "data" / "gitlab"
API_PREFIX = "/api/v4"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# GitLab's answer to a DiffNote whose position is not a line of the diff (the note's line_code
# cannot be computed). Recorded from GitLab's API; python-gitlab surfaces it as a 400.
POSITION_400 = '400 Bad request - Note {:line_code=>["can\'t be blank", "must be a valid line code"]}'
# The API's bad_request!("Note #{note.errors.messages}") for the length validation and the
# per-noteable limit (Note#does_not_exceed_notes_limit?, Noteable::MAX_NOTES_LIMIT = 5_000).
TOO_LONG_400 = '400 Bad request - Note {:note=>["is too long (maximum is 1000000 characters)"]}'
NOTES_LIMIT_400 = '400 Bad request - Note {:base=>["Maximum number of comments exceeded"]}'
NOTE_MAX_CHARS = 1_000_000
# lib/api/api_guard.rb: a token whose scopes do not allow the request.
INSUFFICIENT_SCOPE_403 = {
    "error": "insufficient_scope",
    "error_description": "The request requires higher privileges than provided by the access token.",
    "scope": "api",
}
GUEST, REPORTER, DEVELOPER, MAINTAINER = 10, 20, 30, 40


def load_fixture(name: str) -> Any:
    """A recorded GitLab response from tests/data/gitlab/ (parsed JSON)."""
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --------------------------------------------------------------------------- request/response


@dataclass
class Request:
    """One request as a route handler sees it."""

    method: str
    path: str
    """Path below /api/v4, still URL-encoded."""
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes
    base_url: str
    """``http://127.0.0.1:PORT`` as the client addressed us (for Link headers)."""
    token_kind: str = ""
    """``private`` (PRIVATE-TOKEN or Bearer), ``job`` (JOB-TOKEN)."""
    token: Token | None = None
    """Who is calling (private tokens): user, role and scopes."""

    @property
    def user(self) -> dict[str, Any]:
        assert self.token is not None
        return self.token.user

    @property
    def access_level(self) -> int:
        return self.token.access_level if self.token is not None else 0

    def json(self) -> dict[str, Any]:
        """The body as JSON (python-gitlab sends JSON), or form-encoded fields, or {}."""
        if not self.body:
            return {}
        ctype = self.headers.get("content-type", "")
        if "json" in ctype:
            data = json.loads(self.body.decode("utf-8"))
            return data if isinstance(data, dict) else {}
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8")).items()}

    def param(self, name: str, default: Any = None) -> Any:
        """A parameter from the body or, as GitLab also accepts, the query string."""
        body = self.json()
        if name in body:
            return body[name]
        if name in self.query:
            return self.query[name][-1]
        return default


@dataclass
class Response:
    status: int = 200
    body: Any = None
    """JSON-serializable value, or bytes sent as-is."""
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """Raise from a handler to answer ``{"message": ...}`` with ``status`` (GitLab's error shape)."""

    def __init__(self, status: int, message: Any) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message


Handler = Callable[[Request, dict[str, str]], Response]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str
    handler: Handler
    job_token: bool = False
    public: bool = False
    """Answered without a token too (what a public project serves anonymously)."""


@dataclass
class Fault:
    """An injected failure. Matches requests by route name and/or method; ``times=None`` = forever."""

    status: int | None = None
    """Answer with this status (e.g. 500, 502, 503, 429) instead of handling the request."""
    retry_after: str | None = None
    """Retry-After header value to send with the status."""
    delay: float = 0.0
    """Sleep this long before answering (a slow GitLab); combined with ``status`` or not."""
    reset: bool = False
    """Close the connection with a TCP RST instead of answering."""
    times: int | None = 1
    route: str | None = None
    method: str | None = None
    message: str | None = None
    """Error message to answer with (GitLab's ``{"message": ...}``), e.g. one echoing a header."""
    apply_after_delay: bool = True
    """With only ``delay``: still handle the request afterwards (a write lands even if the
    client has given up waiting: the classic duplicate-on-retry trap)."""
    lands: bool = False
    """With ``status``: handle the request first (the write is committed), then answer ``status``
    anyway: GitLab's 500 after the INSERT, or a 502/504 from the proxy in front of it."""

    def matches(self, method: str, route: str | None) -> bool:
        if self.method is not None and self.method != method:
            return False
        return self.route is None or self.route == route


@dataclass(frozen=True)
class Call:
    """One request the stand-in received."""

    method: str
    path: str
    route: str | None
    status: int
    """Status answered (0 for a connection reset)."""
    token_kind: str
    body: str
    applied: bool = False
    """The request was handled successfully (for a write: it changed GitLab's state), whatever
    was answered (a ``lands`` fault answers an error after applying it)."""


@dataclass
class Token:
    """An access token: the user it acts as, their role on every project, and the token's scopes."""

    user: dict[str, Any]
    access_level: int = DEVELOPER
    scopes: tuple[str, ...] = ("api",)


@dataclass
class Trigger:
    route: str
    fn: Callable[[], object]
    times: int | None = 1


# --------------------------------------------------------------------------- merge request state


@dataclass
class DiffFile:
    old_path: str
    new_path: str
    diff: str
    new_file: bool = False
    deleted_file: bool = False
    renamed_file: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "old_path": self.old_path,
            "new_path": self.new_path,
            "a_mode": "0" if self.new_file else "100644",
            "b_mode": "0" if self.deleted_file else "100644",
            "new_file": self.new_file,
            "renamed_file": self.renamed_file,
            "deleted_file": self.deleted_file,
            "diff": self.diff,
        }

    def line_kinds(self) -> dict[tuple[int | None, int | None], str]:
        """Every (old_line, new_line) pair the diff shows, mapped to ``added``/``removed``/``context``.

        Deliberately independent of secscan's own diff parser: the stand-in must catch its bugs.
        """
        out: dict[tuple[int | None, int | None], str] = {}
        old = new = 0
        in_hunk = False
        for line in self.diff.split("\n"):
            m = re.match(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@", line)
            if m:
                old, new, in_hunk = int(m.group(1)), int(m.group(2)), True
                continue
            if not in_hunk or line.startswith("\\"):
                continue
            if line.startswith("+"):
                out[(None, new)] = "added"
                new += 1
            elif line.startswith("-"):
                out[(old, None)] = "removed"
                old += 1
            elif line.startswith(" "):
                out[(old, new)] = "context"
                old += 1
                new += 1
        return out


@dataclass
class Version:
    id: int
    base_sha: str
    start_sha: str
    head_sha: str
    diffs: list[DiffFile]
    created_at: str

    def as_json(self, merge_request_id: int) -> dict[str, Any]:
        return {
            "id": self.id,
            "head_commit_sha": self.head_sha,
            "base_commit_sha": self.base_sha,
            "start_commit_sha": self.start_sha,
            "created_at": self.created_at,
            "merge_request_id": merge_request_id,
            "state": "collected",
            "real_size": str(len(self.diffs)),  # a string in GitLab's API, not an int
            "patch_id_sha": hashlib.sha1(self.head_sha.encode()).hexdigest(),
        }


@dataclass
class MergeRequestState:
    project_id: int
    iid: int
    id: int
    title: str
    source_branch: str
    target_branch: str
    versions: list[Version]
    discussions: list[dict[str, Any]] = field(default_factory=list)
    """Every note lives in a discussion (individual notes in a one-note discussion), as in GitLab."""
    author_id: int = 483414
    """The merge request's author (who may resolve threads whatever their role)."""

    @property
    def latest(self) -> Version:
        return self.versions[-1]

    def notes(self) -> list[dict[str, Any]]:
        return [n for d in self.discussions for n in d["notes"]]

    def find_note(self, note_id: int) -> dict[str, Any] | None:
        return next((n for n in self.notes() if n["id"] == note_id), None)

    def threads(self) -> list[dict[str, Any]]:
        """Non-individual discussions (DiffNote/DiscussionNote threads)."""
        return [d for d in self.discussions if not d["individual_note"]]


def unified_diff(old: str, new: str) -> str:
    """A GitLab-style diff (hunks only, no ---/+++ header) between two file texts."""
    import difflib

    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), n=3)
    body = [ln if ln.endswith("\n") else ln + "\n" for ln in itertools.islice(lines, 2, None)]
    return "".join(body)


# --------------------------------------------------------------------------- the server


class GitLabStandIn:
    """The stand-in server. Start with ``start()`` or as a context manager."""

    def __init__(
        self,
        *,
        private_token: str = "glpat-StandInSecret-0123456789abcdef",  # noqa: S107 - a test token
        job_token: str = "glcbt-StandInJobToken-0123456789",  # noqa: S107 - a test token
        bot_username: str = "project_7_bot_secscan",
        crlf_bodies: bool = False,
    ) -> None:
        self.private_token = private_token
        self.job_token = job_token
        self.crlf_bodies = crlf_bodies
        """Store note bodies with ``\\r\\n`` (as GitLab's web editor does) to test normalization."""
        self.lock = threading.RLock()
        self.routes: list[Route] = []
        self.faults: list[Fault] = []
        self.calls: list[Call] = []
        self.merge_requests: dict[tuple[int, int], MergeRequestState] = {}
        self.project_paths: dict[str, int] = {}
        self.statuses: dict[tuple[int, str], list[dict[str, Any]]] = {}
        self.bot_user: dict[str, Any] = {
            "id": 9001,
            "username": bot_username,
            "name": "secscan bot",
            "state": "active",
            "avatar_url": None,
            "web_url": f"https://gitlab.example.com/{bot_username}",
        }
        self.human_user = {
            "id": 483414,
            "name": "Hugo Tunius",
            "username": "k0nserv",
            "state": "active",
            "avatar_url": None,
            "web_url": "https://gitlab.com/k0nserv",
        }
        self.tokens: dict[str, Token] = {private_token: Token(user=self.bot_user)}
        self.notes_limit = 5_000
        """GitLab's maximum of notes per merge request (system notes count)."""
        self.triggers: list[Trigger] = []
        self.quick_action_hits: list[str] = []
        """Note bodies received that hold a quick action (fails the test at stop())."""
        self.reject_positions: set[tuple[str, int]] = set()
        """(new_path, new_line) positions refused with GitLab's 400 although they are in the diff,
        as GitLab does for lines of a collapsed or too-large diff."""
        self._ids = itertools.count(100_000)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        install_core_routes(self)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> GitLabStandIn:
        standin = self

        class _Handler(_RequestHandler):
            server_standin = standin

        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="gitlab-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        hits, self.quick_action_hits = self.quick_action_hits, []
        if hits:
            pytest.fail("secscan posted text GitLab would run as quick actions:\n" + "\n".join(hits[:5]))

    def __enter__(self) -> GitLabStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL (what python-gitlab takes as ``url``)."""
        assert self._server is not None, "stand-in not started"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        """What GitLab puts in ``CI_API_V4_URL``."""
        return self.url + API_PREFIX

    # ------------------------------------------------------------------ extension API

    def route(
        self, method: str, pattern: str, *, name: str, job_token: bool = False, public: bool = False
    ) -> Callable[[Handler], Handler]:
        """Decorator: register ``handler(req, params) -> Response`` for METHOD /api/v4<pattern>."""

        def deco(fn: Handler) -> Handler:
            self.add_route(method, pattern, fn, name=name, job_token=job_token, public=public)
            return fn

        return deco

    def add_route(
        self, method: str, pattern: str, handler: Handler, *, name: str, job_token: bool = False, public: bool = False
    ) -> None:
        regex = "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern)) + "$"
        with self.lock:
            self.routes.append(Route(method.upper(), re.compile(regex), name, handler, job_token, public))

    def inject(self, fault: Fault) -> Fault:
        """Queue a fault; returns it (its ``times`` counts down as it fires)."""
        with self.lock:
            self.faults.append(fault)
        return fault

    def add_token(
        self,
        token: str,
        *,
        user: dict[str, Any] | None = None,
        access_level: int = DEVELOPER,
        scopes: tuple[str, ...] = ("api",),
    ) -> str:
        """Register another access token (by default acting as the bot user)."""
        with self.lock:
            self.tokens[token] = Token(user=dict(user or self.bot_user), access_level=access_level, scopes=scopes)
        return token

    def on(self, route: str, fn: Callable[[], object], *, times: int | None = 1) -> None:
        """Run ``fn`` (e.g. a push) when a request reaches ``route``, before it is handled."""
        with self.lock:
            self.triggers.append(Trigger(route, fn, times))

    def check_body(self, body: str, where: str) -> None:
        """Run the quick-action extractor ports on a note body secscan sent."""
        found = quick_actions(body)
        if found:
            cmds = ", ".join(sorted({f"/{c.name} ({c.extractor})" for c in found}))
            with self.lock:
                self.quick_action_hits.append(f"{where}: {cmds}")

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def next_id(self) -> int:
        return next(self._ids)

    def paginate(self, req: Request, items: list[Any]) -> Response:
        """GitLab's offset pagination: ``page``/``per_page`` (20 by default, 100 at most) and headers."""
        try:
            per_page = max(1, min(100, int(req.query.get("per_page", ["20"])[-1])))
            page = max(1, int(req.query.get("page", ["1"])[-1]))
        except ValueError:
            raise ApiError(400, "400 Bad request - page is invalid") from None
        total = len(items)
        pages = max(1, -(-total // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(per_page),
            "X-Total": str(total),
            "X-Total-Pages": str(pages),
            "X-Next-Page": str(page + 1) if page < pages else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
        }
        links = []
        base_q = {k: v[-1] for k, v in req.query.items() if k not in ("page", "per_page")}

        def link(p: int, rel: str) -> str:
            q = urlencode({**base_q, "page": p, "per_page": per_page})
            return f'<{req.base_url}{API_PREFIX}{req.path}?{q}>; rel="{rel}"'

        if page > 1:
            links.append(link(page - 1, "prev"))
        if page < pages:
            links.append(link(page + 1, "next"))
        links.append(link(1, "first"))
        links.append(link(pages, "last"))
        headers["Link"] = ", ".join(links)
        return Response(200, chunk, headers)

    # ------------------------------------------------------------------ test data

    def add_merge_request(
        self,
        *,
        project_id: int = 7,
        iid: int = 1,
        files: dict[str, tuple[str, str]] | None = None,
        diffs: list[DiffFile] | None = None,
        head_sha: str = "04e58de1fa97502d7e28c1394d471bb8fb1fc4a8",
        base_sha: str = "0e4db308b6579f7cc733e5a354e026b272e1c076",
        project_path: str = "acme/payments",
    ) -> MergeRequestState:
        """Create an open merge request with one diff version.

        ``files`` maps a path to (old text, new text); an empty old text is a new file.
        """
        diff_files = list(diffs or [])
        for path, (old, new) in (files or {}).items():
            diff_files.append(DiffFile(old_path=path, new_path=path, diff=unified_diff(old, new), new_file=old == ""))
        version = Version(self.next_id(), base_sha, base_sha, head_sha, diff_files, _now())
        mr = MergeRequestState(
            project_id=project_id,
            iid=iid,
            id=self.next_id(),
            title="Add payment refunds",
            source_branch="refunds",
            target_branch="main",
            versions=[version],
        )
        with self.lock:
            self.merge_requests[(project_id, iid)] = mr
            self.project_paths[project_path] = project_id
        return mr

    def push_version(self, mr: MergeRequestState, *, head_sha: str, files: dict[str, tuple[str, str]]) -> Version:
        """A new push to the MR: a new latest diff version."""
        diffs = [
            DiffFile(old_path=p, new_path=p, diff=unified_diff(old, new), new_file=old == "")
            for p, (old, new) in files.items()
        ]
        v = Version(self.next_id(), mr.latest.base_sha, mr.latest.start_sha, head_sha, diffs, _now())
        with self.lock:
            mr.versions.append(v)
        return v

    def add_note(self, mr: MergeRequestState, body: str, *, author: dict[str, Any] | None = None) -> dict[str, Any]:
        """Seed a plain MR note (e.g. a human's) directly, without counting a call."""
        with self.lock:
            note = self._new_note(mr, body, author=author or self.human_user, note_type=None, resolvable=False)
            note["body"] = body  # verbatim: a human's note keeps its web-editor "\r\n"
            mr.discussions.append({"id": _discussion_id(note["id"]), "individual_note": True, "notes": [note]})
        return note

    def add_system_notes(self, mr: MergeRequestState, n: int) -> None:
        """Seed ``n`` system notes ("added 1 commit", ...): they count towards GitLab's comment limit."""
        with self.lock:
            for _ in range(n):
                note = self._new_note(mr, "added 1 commit", author=self.human_user, note_type=None, resolvable=False)
                note["system"] = True
                mr.discussions.append({"id": _discussion_id(note["id"]), "individual_note": True, "notes": [note]})

    def add_thread(
        self,
        mr: MergeRequestState,
        body: str,
        *,
        position: dict[str, Any] | None = None,
        author: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Seed a resolvable thread directly (e.g. a human's fake one)."""
        with self.lock:
            note = self._new_note(
                mr,
                body,
                author=author or self.human_user,
                note_type="DiffNote" if position else "DiscussionNote",
                resolvable=True,
            )
            if position:
                note["position"] = dict(position)
            d = {"id": _discussion_id(note["id"]), "individual_note": False, "notes": [note]}
            mr.discussions.append(d)
        return d

    # ------------------------------------------------------------------ counting

    def writes(self, route: str | None = None) -> list[Call]:
        """Write calls (POST/PUT/PATCH/DELETE) that GitLab applied (whatever it answered)."""
        with self.lock:
            return [
                c for c in self.calls if c.method in WRITE_METHODS and c.applied and (route is None or c.route == route)
            ]

    def write_count(self, route: str | None = None) -> int:
        return len(self.writes(route))

    def write_attempts(self, route: str | None = None) -> list[Call]:
        """Every write request received, whatever was answered."""
        with self.lock:
            return [c for c in self.calls if c.method in WRITE_METHODS and (route is None or c.route == route)]

    def reset_calls(self) -> None:
        with self.lock:
            self.calls.clear()

    # ------------------------------------------------------------------ internals

    def _new_note(
        self, mr: MergeRequestState, body: str, *, author: dict[str, Any], note_type: str | None, resolvable: bool
    ) -> dict[str, Any]:
        now = _now()
        note: dict[str, Any] = {
            "id": self.next_id(),
            "type": note_type,
            "body": self._store_body(body),
            "attachment": None,
            "author": dict(author),
            "created_at": now,
            "updated_at": now,
            "system": False,
            "noteable_id": mr.id,
            "noteable_type": "MergeRequest",
            "project_id": mr.project_id,
            "resolvable": resolvable,
            "confidential": False,
            "internal": False,
            "noteable_iid": mr.iid,
            "commands_changes": {},
        }
        if resolvable:
            note.update({"resolved": False, "resolved_by": None, "resolved_at": None})
        return note

    def _store_body(self, body: str) -> str:
        body = body.replace("\r\n", "\n")
        return body.replace("\n", "\r\n") if self.crlf_bodies else body

    def _match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        with self.lock:
            routes = list(self.routes)
        for r in routes:
            if r.method != method:
                continue
            m = r.pattern.match(path)
            if m:
                return r, {k: unquote(v) for k, v in m.groupdict().items()}
        return None

    def _take_fault(self, method: str, route: str | None) -> Fault | None:
        with self.lock:
            for f in self.faults:
                if f.matches(method, route) and (f.times is None or f.times > 0):
                    if f.times is not None:
                        f.times -= 1
                    return f
        return None

    def _record(self, req: Request, route: str | None, status: int, *, applied: bool = False) -> None:
        with self.lock:
            self.calls.append(
                Call(
                    req.method,
                    req.path,
                    route,
                    status,
                    req.token_kind,
                    req.body.decode("utf-8", "replace"),
                    applied,
                )
            )

    def _auth(self, headers: dict[str, str]) -> tuple[str, Token | None]:
        authorization = headers.get("authorization", "")
        if authorization.startswith("Basic "):
            # HTTP basic auth (pip, twine): any user name, a token as the password; the job token
            # goes with the user gitlab-ci-token.
            user, _, password = base64.b64decode(authorization[6:]).decode("utf-8", "replace").partition(":")
            if user == "gitlab-ci-token" and password == self.job_token:
                return "job", None
            authorization = "Bearer " + password
        value = headers.get("private-token") or authorization.removeprefix("Bearer ")
        with self.lock:
            token = self.tokens.get(value) if value else None
        if token is not None:
            return "private", token
        if headers.get("job-token") == self.job_token:
            return "job", None
        return "", None

    def _run_triggers(self, route: str | None) -> None:
        with self.lock:
            due = [t for t in self.triggers if t.route == route and (t.times is None or t.times > 0)]
            for t in due:
                if t.times is not None:
                    t.times -= 1
        for t in due:
            t.fn()

    def handle(self, req: Request) -> Response | None:
        """Route one request (``None`` = reset the connection)."""
        found = self._match(req.method, req.path)
        name = found[0].name if found else None
        self._run_triggers(name)
        fault = self._take_fault(req.method, name)
        if fault is not None and not fault.lands:
            answered, answer = self._fault_first(req, name, fault)
            if answered:
                return answer
        req.token_kind, req.token = self._auth(req.headers)
        resp, recorded = self._dispatch(req, found, name)
        if recorded:
            return resp
        applied = 200 <= resp.status < 300
        if fault is not None and fault.lands:
            # Committed, and then the answer is lost: what a client sees is only the error.
            if fault.delay:
                time.sleep(fault.delay)
            self._record(req, name, 0 if fault.reset else (fault.status or 502), applied=applied)
            return None if fault.reset else self._fault_response(fault)
        self._record(req, name, resp.status, applied=applied)
        return resp

    def _fault_first(self, req: Request, name: str | None, fault: Fault) -> tuple[bool, Response | None]:
        """A fault that strikes before the request is handled: (True, its answer; ``None``: reset),
        or (False, None) when it only delays a request that is then handled."""
        if fault.delay:
            time.sleep(fault.delay)
        if fault.reset:
            self._record(req, name, 0)
            return True, None
        if fault.status is not None:
            self._record(req, name, fault.status)
            return True, self._fault_response(fault)
        if not fault.apply_after_delay:
            self._record(req, name, 504)
            return True, Response(504, {"message": "504 Gateway Timeout"})
        return False, None

    def _dispatch(
        self, req: Request, found: tuple[Route, dict[str, str]] | None, name: str | None
    ) -> tuple[Response, bool]:
        """The route's answer, or GitLab's refusal; and whether it is recorded already."""
        route = found[0] if found else None
        try:
            if not req.token_kind and (route is None or not route.public):
                raise ApiError(401, "401 Unauthorized")
            if found is None or route is None:
                raise ApiError(404, "404 Not Found")
            if req.token_kind == "job" and not route.job_token:
                raise ApiError(403, "403 Forbidden")
            if req.method in WRITE_METHODS and req.token is not None and "api" not in req.token.scopes:
                self._record(req, name, 403)
                return Response(403, dict(INSUFFICIENT_SCOPE_403)), True
            return route.handler(req, found[1]), False
        except ApiError as e:
            return Response(e.status, {"message": e.message}), False
        except (ValueError, KeyError, TypeError) as e:
            return Response(400, {"message": f"400 Bad request - {type(e).__name__}"}), False

    def _fault_response(self, fault: Fault) -> Response:
        status = fault.status or 502
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        message = {
            429: "429 Too Many Requests",
            500: "500 Internal Server Error",
            502: "502 Bad Gateway",
            504: "504 Gateway Timeout",
        }.get(status, f"{status} Service Unavailable")
        return Response(status, {"message": fault.message or message}, headers)


def _discussion_id(note_id: int) -> str:
    return hashlib.sha1(f"discussion-{note_id}".encode()).hexdigest()


class _RequestHandler(BaseHTTPRequestHandler):
    server_standin: GitLabStandIn
    protocol_version = "HTTP/1.1"  # keep-alive, like GitLab behind nginx

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: tests read the call log instead

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or "127.0.0.1"
        path = split.path
        if not path.startswith(API_PREFIX + "/"):
            self._send(Response(404, {"message": "404 Not Found"}))
            return
        req = Request(
            method=self.command,
            path=path[len(API_PREFIX) :],
            query=parse_qs(split.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            base_url=f"http://{host}",
        )
        resp = self.server_standin.handle(req)
        if resp is None:
            # SO_LINGER 0 + close: the peer gets a TCP RST ("connection reset by peer").
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        self._send(resp)

    def _send(self, resp: Response) -> None:
        headers = dict(resp.headers)
        if isinstance(resp.body, bytes):
            payload = resp.body
            ctype = headers.pop("Content-Type", "application/octet-stream")
        else:
            payload = json.dumps(resp.body).encode("utf-8")
            ctype = "application/json"
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout fired)

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def finish(self) -> None:
        with contextlib.suppress(OSError):  # socket already reset on purpose
            super().finish()


# --------------------------------------------------------------------------- core REST v4 routes


def install_core_routes(gl: GitLabStandIn) -> None:
    """The endpoints secscan's publisher uses: user, MR, versions, changes/diffs, notes, discussions, statuses."""
    _install_mr_routes(gl)
    _install_note_routes(gl)
    _install_note_write_routes(gl)
    _install_discussion_routes(gl)
    _install_discussion_state_routes(gl)
    _install_status_routes(gl)


def _mr_of(gl: GitLabStandIn, params: dict[str, str]) -> MergeRequestState:
    raw = params["project"]
    pid = gl.project_paths.get(raw) if not raw.isdigit() else int(raw)
    try:
        iid = int(params["iid"])
    except ValueError:
        raise ApiError(404, "404 Not found") from None
    mr = gl.merge_requests.get((pid or -1, iid))
    if mr is None:
        raise ApiError(404, "404 Not found")
    return mr


def _mr_json(mr: MergeRequestState) -> dict[str, Any]:
    data: dict[str, Any] = load_fixture("danger_merge_request_1_response.json")
    v = mr.latest
    data.update(
        {
            "id": mr.id,
            "iid": mr.iid,
            "project_id": mr.project_id,
            "title": mr.title,
            "source_branch": mr.source_branch,
            "target_branch": mr.target_branch,
            "source_project_id": mr.project_id,
            "target_project_id": mr.project_id,
            "sha": v.head_sha,
            "changes_count": str(len(v.diffs)),  # a string in GitLab's API
            "user_notes_count": len([n for n in mr.notes() if not n["system"]]),
            "diff_refs": {"base_sha": v.base_sha, "head_sha": v.head_sha, "start_sha": v.start_sha},
            "web_url": f"https://gitlab.example.com/acme/payments/-/merge_requests/{mr.iid}",
        }
    )
    return data


def _need(req: Request, level: int) -> None:
    """GitLab's role check for the calling token (403 Forbidden below ``level``)."""
    if req.access_level < level:
        raise ApiError(403, "403 Forbidden")


def _new_note_allowed(gl: GitLabStandIn, mr: MergeRequestState, body: Any, req: Request, where: str) -> str:
    """The checks every new note goes through: blank, length, the MR's comment limit, role."""
    _need(req, REPORTER)
    if not isinstance(body, str) or not body.strip():
        raise ApiError(400, {"body": ["can't be blank"]})
    gl.check_body(body, where)
    if len(body) > NOTE_MAX_CHARS:
        raise ApiError(400, TOO_LONG_400)
    if len(mr.notes()) >= gl.notes_limit:
        raise ApiError(400, NOTES_LIMIT_400)
    return body


def _install_mr_routes(gl: GitLabStandIn) -> None:
    """The calling user, project members, the merge request, its changes, diffs and versions."""

    @gl.route("GET", "/user", name="user_get")
    def user_get(req: Request, params: dict[str, str]) -> Response:
        return Response(200, dict(req.user))

    @gl.route("GET", "/projects/{project}/members/all/{user}", name="member_get")
    def member_get(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            same = req.token is not None and str(req.user["id"]) == params["user"]
            others = (t for t in gl.tokens.values() if str(t.user["id"]) == params["user"])
            token = req.token if same else next(others, None)
            if token is None or token.access_level <= 0:
                raise ApiError(404, "404 Not found")
            member = {k: token.user[k] for k in ("id", "username", "name", "state", "avatar_url", "web_url")}
            member.update({"access_level": token.access_level, "created_at": _now(), "expires_at": None})
            return Response(200, member)

    @gl.route("GET", "/projects/{project}/merge_requests/{iid}", name="mr_get")
    def mr_get(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            return Response(200, _mr_json(_mr_of(gl, params)))

    @gl.route("GET", "/projects/{project}/merge_requests/{iid}/changes", name="mr_changes")
    def mr_changes(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            mr = _mr_of(gl, params)
            data = _mr_json(mr)
            data["changes"] = [d.as_json() for d in mr.latest.diffs]
            return Response(200, data)

    @gl.route("GET", "/projects/{project}/merge_requests/{iid}/diffs", name="mr_diffs")
    def mr_diffs(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            mr = _mr_of(gl, params)
            return gl.paginate(req, [d.as_json() for d in mr.latest.diffs])

    @gl.route("GET", "/projects/{project}/merge_requests/{iid}/versions", name="versions_list")
    def versions_list(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            mr = _mr_of(gl, params)
            # newest first, like GitLab
            return gl.paginate(req, [v.as_json(mr.id) for v in reversed(mr.versions)])

    @gl.route("GET", "/projects/{project}/merge_requests/{iid}/versions/{version}", name="version_get")
    def version_get(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            mr = _mr_of(gl, params)
            v = next((v for v in mr.versions if str(v.id) == params["version"]), None)
            if v is None:
                raise ApiError(404, "404 Not found")
            data = v.as_json(mr.id)
            data["commits"] = []
            data["diffs"] = [d.as_json() for d in v.diffs]
            return Response(200, data)


def _install_note_routes(gl: GitLabStandIn) -> None:
    """The merge request's notes: list, create, update, delete."""

    # ---- notes

    @gl.route("GET", "/projects/{project}/merge_requests/{iid}/notes", name="notes_list")
    def notes_list(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            mr = _mr_of(gl, params)
            notes = sorted(mr.notes(), key=lambda n: n["id"])
            if req.query.get("sort", ["desc"])[-1] != "asc":
                notes.reverse()  # GitLab's default: newest first
            return gl.paginate(req, [dict(n) for n in notes])

    @gl.route("POST", "/projects/{project}/merge_requests/{iid}/notes", name="note_create")
    def note_create(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            mr = _mr_of(gl, params)
            body = _new_note_allowed(gl, mr, req.param("body"), req, "note")
            note = gl._new_note(mr, body, author=req.user, note_type=None, resolvable=False)
            mr.discussions.append({"id": _discussion_id(note["id"]), "individual_note": True, "notes": [note]})
            return Response(201, dict(note))


def _install_note_write_routes(gl: GitLabStandIn) -> None:
    """Changing a note: update and delete."""

    @gl.route("PUT", "/projects/{project}/merge_requests/{iid}/notes/{note}", name="note_update")
    def note_update(req: Request, params: dict[str, str]) -> Response:
        body = req.param("body")
        with gl.lock:
            mr = _mr_of(gl, params)
            note = mr.find_note(int(params["note"]))
            if note is None:
                raise ApiError(404, "404 Not found")
            if note["author"]["id"] != req.user["id"] and req.access_level < MAINTAINER:
                raise ApiError(403, "403 Forbidden")  # :admin_note: the author, or a Maintainer
            if isinstance(body, str):
                gl.check_body(body, "note edit")
                if len(body) > NOTE_MAX_CHARS:
                    raise ApiError(400, TOO_LONG_400)
                note["body"] = gl._store_body(body)
                note["updated_at"] = _now()
            return Response(200, dict(note))

    @gl.route("DELETE", "/projects/{project}/merge_requests/{iid}/notes/{note}", name="note_delete")
    def note_delete(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            mr = _mr_of(gl, params)
            note = mr.find_note(int(params["note"]))
            if note is None:
                raise ApiError(404, "404 Not found")
            if note["author"]["id"] != req.user["id"] and req.access_level < MAINTAINER:
                raise ApiError(403, "403 Forbidden")
            for d in mr.discussions:
                d["notes"] = [n for n in d["notes"] if n["id"] != note["id"]]
            mr.discussions = [d for d in mr.discussions if d["notes"]]
            return Response(204, b"")


def _install_discussion_routes(gl: GitLabStandIn) -> None:
    """Discussions (inline threads): list, create, reply, get, resolve."""

    # ---- discussions

    @gl.route("GET", "/projects/{project}/merge_requests/{iid}/discussions", name="discussions_list")
    def discussions_list(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            mr = _mr_of(gl, params)
            return gl.paginate(req, json.loads(json.dumps(mr.discussions)))

    @gl.route("POST", "/projects/{project}/merge_requests/{iid}/discussions", name="discussion_create")
    def discussion_create(req: Request, params: dict[str, str]) -> Response:
        data = req.json()
        position = data.get("position")
        with gl.lock:
            mr = _mr_of(gl, params)
            body = _new_note_allowed(gl, mr, data.get("body"), req, "thread")
            if position is not None:
                _check_position(mr, position)
                if (position.get("new_path"), _int_or_none(position.get("new_line"))) in gl.reject_positions:
                    raise ApiError(400, POSITION_400)
            note = gl._new_note(
                mr, body, author=req.user, note_type="DiffNote" if position else "DiscussionNote", resolvable=True
            )
            if position is not None:
                note["position"] = {
                    "base_sha": position["base_sha"],
                    "start_sha": position["start_sha"],
                    "head_sha": position["head_sha"],
                    "old_path": position.get("old_path") or position.get("new_path"),
                    "new_path": position.get("new_path") or position.get("old_path"),
                    "position_type": "text",
                    "old_line": _int_or_none(position.get("old_line")),
                    "new_line": _int_or_none(position.get("new_line")),
                }
            d = {"id": _discussion_id(note["id"]), "individual_note": False, "notes": [note]}
            mr.discussions.append(d)
            return Response(201, json.loads(json.dumps(d)))

    @gl.route(
        "POST", "/projects/{project}/merge_requests/{iid}/discussions/{discussion}/notes", name="discussion_reply"
    )
    def discussion_reply(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            mr = _mr_of(gl, params)
            d = next((d for d in mr.discussions if d["id"] == params["discussion"]), None)
            if d is None or d["individual_note"]:
                raise ApiError(404, "404 Not found")
            body = _new_note_allowed(gl, mr, req.param("body"), req, "reply")
            first = d["notes"][0]
            note = gl._new_note(mr, body, author=req.user, note_type=first["type"], resolvable=True)
            if "position" in first:
                note["position"] = dict(first["position"])
            note["resolved"] = first.get("resolved", False)
            d["notes"].append(note)
            return Response(201, dict(note))


def _install_discussion_state_routes(gl: GitLabStandIn) -> None:
    """One discussion: get and resolve."""

    @gl.route("GET", "/projects/{project}/merge_requests/{iid}/discussions/{discussion}", name="discussion_get")
    def discussion_get(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            mr = _mr_of(gl, params)
            d = next((d for d in mr.discussions if d["id"] == params["discussion"]), None)
            if d is None:
                raise ApiError(404, "404 Not found")
            return Response(200, json.loads(json.dumps(d)))

    @gl.route("PUT", "/projects/{project}/merge_requests/{iid}/discussions/{discussion}", name="discussion_resolve")
    def discussion_resolve(req: Request, params: dict[str, str]) -> Response:
        resolved = req.param("resolved")
        if isinstance(resolved, str):
            resolved = resolved.lower() == "true"
        if not isinstance(resolved, bool):
            raise ApiError(400, "400 Bad request - resolved is missing")
        with gl.lock:
            mr = _mr_of(gl, params)
            d = next((d for d in mr.discussions if d["id"] == params["discussion"]), None)
            if d is None or d["individual_note"]:
                raise ApiError(404, "404 Not found")
            # Discussion#can_resolve?: the merge request's author, or the Developer role.
            if req.user["id"] != mr.author_id:
                _need(req, DEVELOPER)
            for n in d["notes"]:
                n["resolved"] = resolved
                n["resolved_by"] = dict(req.user) if resolved else None
                n["resolved_at"] = _now() if resolved else None
            return Response(200, json.loads(json.dumps(d)))


def _install_status_routes(gl: GitLabStandIn) -> None:
    """Commit statuses: list and create."""

    # ---- commit statuses

    @gl.route("GET", "/projects/{project}/repository/commits/{sha}/statuses", name="statuses_list")
    def statuses_list(req: Request, params: dict[str, str]) -> Response:
        with gl.lock:
            pid = int(params["project"]) if params["project"].isdigit() else gl.project_paths.get(params["project"], -1)
            items = list(reversed(gl.statuses.get((pid, params["sha"]), [])))
            name = req.query.get("name", [None])[-1]
            if name is not None:
                items = [s for s in items if s["name"] == name]
            return gl.paginate(req, items)

    @gl.route("POST", "/projects/{project}/statuses/{sha}", name="status_create")
    def status_create(req: Request, params: dict[str, str]) -> Response:
        state = req.param("state")
        if state not in ("pending", "running", "success", "failed", "canceled", "skipped"):
            raise ApiError(400, "400 Bad request - state does not have a valid value")
        name = req.param("name") or req.param("context") or "default"
        _need(req, DEVELOPER)  # :create_commit_status
        with gl.lock:
            pid = int(params["project"]) if params["project"].isdigit() else gl.project_paths.get(params["project"], -1)
            history = gl.statuses.setdefault((pid, params["sha"]), [])
            previous = next((s for s in reversed(history) if s["name"] == name), None)
            if previous is not None and previous["status"] == state:
                # GitLab refuses a transition to the state a status is already in.
                raise ApiError(400, f"Cannot transition status via :{_event(state)} from :{state}")
            now = _now()
            status = {
                "id": gl.next_id(),
                "sha": params["sha"],
                "ref": req.param("ref"),
                "status": state,
                "name": name,
                "target_url": req.param("target_url"),
                "description": req.param("description"),
                "created_at": now,
                "started_at": now,
                "finished_at": now if state in ("success", "failed", "canceled", "skipped") else None,
                "allow_failure": False,
                "coverage": None,
                "author": dict(req.user),
            }
            history.append(status)
            return Response(201, dict(status))


def _event(state: str) -> str:
    return {"success": "success", "failed": "drop", "running": "run", "pending": "enqueue", "canceled": "cancel"}.get(
        state, state
    )


def _int_or_none(v: Any) -> int | None:
    if v is None or v == "":
        return None
    return int(v)


def _check_position(mr: MergeRequestState, position: Any) -> None:
    """Reject what GitLab rejects: unknown diff refs, a path not in the diff, a line not in it."""
    if not isinstance(position, dict) or position.get("position_type", "text") != "text":
        raise ApiError(400, POSITION_400)
    refs = (position.get("base_sha"), position.get("start_sha"), position.get("head_sha"))
    version = next((v for v in mr.versions if (v.base_sha, v.start_sha, v.head_sha) == refs), None)
    if version is None:
        raise ApiError(400, POSITION_400)
    new_path, old_path = position.get("new_path"), position.get("old_path")
    diff = next((d for d in version.diffs if d.new_path == (new_path or old_path)), None)
    if diff is None or (old_path is not None and old_path != diff.old_path):
        raise ApiError(400, POSITION_400)
    try:
        key = (_int_or_none(position.get("old_line")), _int_or_none(position.get("new_line")))
    except (TypeError, ValueError):
        raise ApiError(400, POSITION_400) from None
    if key == (None, None) or key not in diff.line_kinds():
        raise ApiError(400, POSITION_400)


# --------------------------------------------------------------------------- pytest fixture


@pytest.fixture
def gitlab_standin() -> Iterator[GitLabStandIn]:
    """A started stand-in with the core routes (add MRs with ``add_merge_request``)."""
    with GitLabStandIn() as gl:
        yield gl
