"""A thin adapter over python-gitlab: the few REST v4 calls the publisher makes.

python-gitlab's own retry loops are switched off (``obey_rate_limit=False``, no transient
retries): it would sleep up to 10 times per call on 429 regardless of our time budget. Our
:class:`Retrier` decides instead, reading ``Retry-After`` from the last response, which a
``requests`` response hook records (python-gitlab's exceptions do not carry headers).
Every error text that leaves this module is redacted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

import gitlab
import gitlab.exceptions
import requests

from secscan import __version__
from secscan.gitlab.redact import Redactor
from secscan.gitlab.resilience import Attempt, CallFailed, Retrier, parse_retry_after

T = TypeVar("T")
log = logging.getLogger("secscan.gitlab")
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# A write answered with one of these may have been committed before the error: GitLab's Rails app
# can fail after the INSERT (500), and its proxy (Workhorse, nginx, a load balancer) answers
# 502/504 when it gave up waiting while Rails went on. 503 and 429 are answered before the request
# is handled (maintenance, overload, rate limits), so they mean "not done".
UNKNOWN_OUTCOME_STATUS = frozenset({500, 502, 504})
# GitLab's access levels (Members API) and the roles each of secscan's writes needs.
ROLE_NAMES = {
    0: "no",
    5: "Minimal access",
    10: "Guest",
    15: "Planner",
    20: "Reporter",
    30: "Developer",
    40: "Maintainer",
    50: "Owner",
}
REPORTER, DEVELOPER = 20, 30
# Per call: our Retrier owns retrying; python-gitlab must not retry (or sleep) by itself.
NO_LIB_RETRY: dict[str, Any] = {"obey_rate_limit": False, "retry_transient_errors": False, "max_retries": 0}


class PositionRejected(Exception):
    """GitLab answered 400 to a DiffNote position (the line is not part of the diff it knows)."""


class BodyTooLong(CallFailed):
    """GitLab answered 400: the note is longer than it accepts."""


class CommentLimit(CallFailed):
    """GitLab answered 400: the merge request has reached the maximum number of comments."""


class Forbidden(CallFailed):
    """GitLab answered 403. ``scope``: the token lacks the ``api`` scope (not a role problem)."""

    def __init__(self, message: str, *, scope: bool, detail: str = "") -> None:
        super().__init__(message, status=403, detail=detail)
        self.scope = scope


class NotFound(CallFailed):
    """GitLab answered 404 (e.g. a note deleted since it was listed)."""


def role_name(level: int | None) -> str:
    """``the Reporter role``, as it reads in a message."""
    if level is None:
        return "no role on the project (not a member)"
    name = ROLE_NAMES.get(level)
    return f"the {name} role" if name else f"access level {level}"


def refine(e: CallFailed) -> CallFailed:
    """A failed write, told apart by what GitLab said: the 400s need different handling."""
    text = e.detail.lower()
    if e.status == 400 and "too long" in text:
        return BodyTooLong(str(e), status=400, detail=e.detail)
    if e.status == 400 and "maximum number of comments" in text:
        return CommentLimit(str(e), status=400, detail=e.detail)
    if e.status == 403:
        return Forbidden(str(e), scope="insufficient_scope" in text, detail=e.detail)
    if e.status == 404:
        return NotFound(str(e), status=404, detail=e.detail)
    return e


def is_position_error(e: CallFailed) -> bool:
    """GitLab's 400 for a position it cannot place (``line_code``/``position`` validation errors)."""
    text = e.detail.lower()
    return e.status == 400 and ("line_code" in text or "position" in text) and "too long" not in text


class GitLabApi:
    def __init__(
        self,
        *,
        base_url: str,
        token: str,
        project: str,
        mr_iid: int,
        timeout_s: float,
        retrier: Retrier,
        redact: Redactor,
    ) -> None:
        self.redact = redact
        self.retrier = retrier
        self._last_headers: dict[str, str] = {}
        self._last_status: int | None = None
        session = requests.Session()
        session.hooks["response"].append(self._remember)
        self.gl = gitlab.Gitlab(
            base_url,
            private_token=token,
            timeout=timeout_s,
            session=session,
            retry_transient_errors=False,
            user_agent=f"secscan/{__version__}",
        )
        self.project_path = f"/projects/{quote(str(project), safe='')}"
        self.mr_path = f"{self.project_path}/merge_requests/{mr_iid}"

    # ------------------------------------------------------------------ plumbing

    def _remember(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        self._last_status = response.status_code
        self._last_headers = dict(response.headers)
        log.debug("%s %s -> %s", response.request.method, response.request.path_url, response.status_code)

    def classify(self, e: BaseException) -> Attempt:
        """Retryable or not, why (redacted), and GitLab's Retry-After when it sent one."""
        if isinstance(e, gitlab.exceptions.GitlabError) and e.response_code is not None:
            code = int(e.response_code)
            detail = self.redact(e.error_message)[:300]
            retry_after = (
                parse_retry_after(self._last_headers.get("Retry-After")) if self._last_status == code else None
            )
            if code == 401:
                return Attempt(retryable=False, status=code, message="GitLab rejected the token (401 Unauthorized)")
            if code == 403:
                scope = "insufficient_scope" in detail
                return Attempt(
                    retryable=False,
                    status=code,
                    detail=detail,
                    message="the token lacks the `api` scope (403 insufficient_scope)"
                    if scope
                    else "the token's user may not do this (403 Forbidden)",
                )
            return Attempt(
                retryable=code in RETRYABLE_STATUS,
                ambiguous=code in UNKNOWN_OUTCOME_STATUS,
                status=code,
                message=f"GitLab answered {code}: {detail}",
                retry_after=retry_after,
                detail=detail,
            )
        if isinstance(e, requests.Timeout):
            return Attempt(retryable=True, ambiguous=True, message="GitLab did not answer in time")
        if isinstance(e, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            return Attempt(retryable=True, ambiguous=True, message="connection to GitLab failed or was reset")
        if isinstance(e, gitlab.exceptions.GitlabError):
            return Attempt(retryable=False, message=f"GitLab error: {self.redact(e.error_message)[:300]}")
        return Attempt(retryable=False, message=f"{type(e).__name__}: {self.redact(e)[:300]}")

    def _call(self, what: str, fn: Callable[[], T], *, recheck: Callable[[], T | None] | None = None) -> T:
        return self.retrier.call(what, fn, self.classify, recheck=recheck)

    def _write(self, what: str, fn: Callable[[], T], *, recheck: Callable[[], T | None] | None = None) -> T:
        try:
            return self._call(what, fn, recheck=recheck)
        except CallFailed as e:
            raise refine(e) from None

    def _get(self, path: str, what: str) -> dict[str, Any]:
        def run() -> dict[str, Any]:
            data = self.gl.http_get(path, **NO_LIB_RETRY)
            if not isinstance(data, dict):
                raise CallFailed(f"{what}: unexpected answer from GitLab")
            return data

        return self._call(what, run)

    def _list(self, path: str, what: str, query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        def run() -> list[dict[str, Any]]:
            data = self.gl.http_list(path, query_data={"per_page": 100, **(query or {})}, get_all=True, **NO_LIB_RETRY)
            if not isinstance(data, list):
                raise CallFailed(f"{what}: unexpected answer from GitLab")
            return [x for x in data if isinstance(x, dict)]

        return self._call(what, run)

    def _post(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        result = self.gl.http_post(path, post_data=data, **NO_LIB_RETRY)
        return result if isinstance(result, dict) else {}

    def _put(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        result = self.gl.http_put(path, post_data=data, **NO_LIB_RETRY)
        return result if isinstance(result, dict) else {}

    # ------------------------------------------------------------------ reads

    def current_user_id(self) -> int:
        return int(self._get("/user", "reading the token's user")["id"])

    def merge_request(self) -> dict[str, Any]:
        return self._get(self.mr_path, "reading the merge request")

    def versions(self) -> list[dict[str, Any]]:
        return self._list(f"{self.mr_path}/versions", "listing diff versions")

    def version(self, version_id: int) -> dict[str, Any]:
        """One diff version with its ``diffs``."""
        return self._get(f"{self.mr_path}/versions/{int(version_id)}", "reading a diff version")

    def discussion(self, discussion_id: str) -> dict[str, Any]:
        return self._get(f"{self.mr_path}/discussions/{quote(discussion_id, safe='')}", "reading a thread")

    def access_level(self, user_id: int) -> int | None:
        """The user's effective access level on the project (inherited included), None if not a member."""
        try:
            data = self._get(f"{self.project_path}/members/all/{int(user_id)}", "reading the token's role")
        except CallFailed as e:
            if e.status == 404:
                return None
            raise
        level = data.get("access_level")
        return int(level) if isinstance(level, int) else None

    def notes(self) -> list[dict[str, Any]]:
        return self._list(f"{self.mr_path}/notes", "listing notes", {"sort": "asc", "order_by": "created_at"})

    def discussions(self) -> list[dict[str, Any]]:
        return self._list(f"{self.mr_path}/discussions", "listing discussions")

    def statuses(self, sha: str, name: str) -> list[dict[str, Any]]:
        return self._list(
            f"{self.project_path}/repository/commits/{quote(sha, safe='')}/statuses",
            "listing commit statuses",
            {"name": name},
        )

    # ------------------------------------------------------------------ writes

    def create_note(self, body: str, recheck: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
        return self._write(
            "creating the summary note", lambda: self._post(f"{self.mr_path}/notes", {"body": body}), recheck=recheck
        )

    def update_note(self, note_id: int, body: str) -> dict[str, Any]:
        # PUT of the same body is idempotent: plain retries are safe.
        return self._write(
            "updating the summary note", lambda: self._put(f"{self.mr_path}/notes/{int(note_id)}", {"body": body})
        )

    def delete_note(self, note_id: int) -> None:
        """Delete one of our notes; already gone (404, e.g. a resend after a lost answer) counts as done."""
        path = f"{self.mr_path}/notes/{int(note_id)}"
        try:
            self._write("deleting a duplicate summary note", lambda: self.gl.http_delete(path, **NO_LIB_RETRY))
        except NotFound:
            return

    def create_thread(
        self, body: str, position: dict[str, Any], recheck: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any]:
        try:
            return self._write(
                "opening an inline thread",
                lambda: self._post(f"{self.mr_path}/discussions", {"body": body, "position": position}),
                recheck=recheck,
            )
        except CallFailed as e:
            if is_position_error(e):
                raise PositionRejected(str(e)) from None
            raise

    def reply(self, discussion_id: str, body: str, recheck: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
        path = f"{self.mr_path}/discussions/{quote(discussion_id, safe='')}/notes"
        return self._write("replying to a thread", lambda: self._post(path, {"body": body}), recheck=recheck)

    def resolve(self, discussion_id: str) -> dict[str, Any]:
        # PUT resolved=true is idempotent: plain retries are safe.
        path = f"{self.mr_path}/discussions/{quote(discussion_id, safe='')}"
        return self._write("resolving a thread", lambda: self._put(path, {"resolved": True}))

    def create_status(
        self, sha: str, data: dict[str, Any], recheck: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any]:
        path = f"{self.project_path}/statuses/{quote(sha, safe='')}"
        return self._write("setting the commit status", lambda: self._post(path, data), recheck=recheck)
