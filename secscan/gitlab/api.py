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
# Per call: our Retrier owns retrying; python-gitlab must not retry (or sleep) by itself.
NO_LIB_RETRY: dict[str, Any] = {"obey_rate_limit": False, "retry_transient_errors": False, "max_retries": 0}


class PositionRejected(Exception):
    """GitLab answered 400 to a DiffNote position (the line is not part of the diff it knows)."""


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
                return Attempt(
                    retryable=False,
                    status=code,
                    message="the token may not do this (403 Forbidden): it needs the `api` scope and at least the "
                    "Reporter role on the project",
                )
            return Attempt(
                retryable=code in RETRYABLE_STATUS,
                status=code,
                message=f"GitLab answered {code}: {detail}",
                retry_after=retry_after,
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

    def latest_version(self) -> dict[str, Any] | None:
        """The newest diff version with its diffs (None when GitLab has not computed one yet)."""
        versions = self._list(f"{self.mr_path}/versions", "listing diff versions")
        if not versions:
            return None
        newest = max(versions, key=lambda v: int(v.get("id") or 0))
        return self._get(f"{self.mr_path}/versions/{newest['id']}", "reading the latest diff version")

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
        return self._call(
            "creating the summary note", lambda: self._post(f"{self.mr_path}/notes", {"body": body}), recheck=recheck
        )

    def update_note(self, note_id: int, body: str) -> dict[str, Any]:
        # PUT of the same body is idempotent: plain retries are safe.
        return self._call(
            "updating the summary note", lambda: self._put(f"{self.mr_path}/notes/{int(note_id)}", {"body": body})
        )

    def create_thread(
        self, body: str, position: dict[str, Any], recheck: Callable[[], dict[str, Any] | None]
    ) -> dict[str, Any]:
        try:
            return self._call(
                "opening an inline thread",
                lambda: self._post(f"{self.mr_path}/discussions", {"body": body, "position": position}),
                recheck=recheck,
            )
        except CallFailed as e:
            if e.status == 400:
                raise PositionRejected(str(e)) from None
            raise

    def reply(self, discussion_id: str, body: str) -> dict[str, Any]:
        path = f"{self.mr_path}/discussions/{quote(discussion_id, safe='')}/notes"
        return self._call("replying to a thread", lambda: self._post(path, {"body": body}))

    def resolve(self, discussion_id: str) -> dict[str, Any]:
        path = f"{self.mr_path}/discussions/{quote(discussion_id, safe='')}"
        return self._call("resolving a thread", lambda: self._put(path, {"resolved": True}))

    def create_status(self, sha: str, data: dict[str, Any]) -> dict[str, Any]:
        path = f"{self.project_path}/statuses/{quote(sha, safe='')}"
        return self._call("setting the commit status", lambda: self._post(path, data))
