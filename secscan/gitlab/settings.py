"""Publish settings: GitLab's predefined CI variables, overridden by command-line flags.

``from_env`` never reads ``os.environ`` itself (the caller passes the mapping), and the token is
kept out of ``repr``. Missing context (not a merge request pipeline, no token) is *not* an error
here: it is recorded in :attr:`PublishSettings.problems` so that ``publish_result`` can report it
as a publish failure (exit 4 only with ``--require-publish``) without touching the gate's verdict.
Malformed flag values are usage errors (:class:`ConfigError`, exit 2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlsplit

from secscan.errors import ConfigError
from secscan.models import Severity

# field name -> GitLab predefined CI/CD variable it defaults from
CI_VARIABLES: dict[str, str] = {
    "api_url": "CI_API_V4_URL",
    "project_id": "CI_MERGE_REQUEST_PROJECT_ID",
    "mr_iid": "CI_MERGE_REQUEST_IID",
    "diff_base_sha": "CI_MERGE_REQUEST_DIFF_BASE_SHA",
    "commit_sha": "CI_COMMIT_SHA",
    "source_branch_sha": "CI_MERGE_REQUEST_SOURCE_BRANCH_SHA",
    "job_url": "CI_JOB_URL",
    "pipeline_url": "CI_PIPELINE_URL",
}
# secscan's own variables, so `secscan scan --publish` can be tuned without flags.
SECSCAN_VARIABLES: dict[str, str] = {
    "report_name": "SECSCAN_REPORT_NAME",
    "min_severity": "SECSCAN_THREAD_MIN_SEVERITY",
    "max_threads": "SECSCAN_MAX_THREADS",
    "commit_status": "SECSCAN_COMMIT_STATUS",
    "html_report_url": "SECSCAN_HTML_REPORT_URL",
    "allow_http": "SECSCAN_GITLAB_ALLOW_HTTP",
    "path_prefix": "SECSCAN_PATH_PREFIX",
}
TOKEN_VARIABLES = ("SECSCAN_GITLAB_TOKEN", "GITLAB_TOKEN")

CI_JOB_NOTES_HELP = (
    "CI_JOB_TOKEN cannot post merge request notes or threads (GitLab's job token has no access to the "
    "notes and discussions API). Create a project access token (Settings > Access tokens) with the `api` "
    "scope and the Developer role (Reporter is enough for the note and threads, but resolving threads and "
    "commit statuses need Developer), or a personal access token with `api` scope, and store it as a masked, "
    "protected CI/CD variable named SECSCAN_GITLAB_TOKEN."
)
NO_CREDENTIAL_HELP = (
    "no GitLab token: set SECSCAN_GITLAB_TOKEN (or GITLAB_TOKEN) to a project or personal access token "
    "with the `api` scope"
)

_REPORT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SHA = re.compile(r"^[0-9a-fA-F]{7,64}$")


@dataclass(frozen=True, kw_only=True)
class PublishSettings:
    """Everything ``publish_result`` needs; built by :func:`from_env`."""

    api_url: str | None = None
    """GitLab API v4 URL, e.g. ``https://gitlab.example.com/api/v4`` (CI_API_V4_URL)."""
    project_id: str | None = None
    """Numeric id or ``group/project`` path (CI_MERGE_REQUEST_PROJECT_ID)."""
    mr_iid: int | None = None
    """The merge request's project-level id (CI_MERGE_REQUEST_IID)."""
    diff_base_sha: str | None = None
    """CI_MERGE_REQUEST_DIFF_BASE_SHA: informational; positions use the MR's latest diff version."""
    commit_sha: str | None = None
    """CI_COMMIT_SHA: the commit the status is set on, and the scanned commit (see :attr:`scanned_sha`)."""
    source_branch_sha: str | None = None
    """CI_MERGE_REQUEST_SOURCE_BRANCH_SHA: set only in merged-results pipelines, where CI_COMMIT_SHA is
    GitLab's temporary merge commit and this is the merge request's head that was merged."""
    job_url: str | None = None
    pipeline_url: str | None = None
    token: str | None = field(default=None, repr=False)
    """The access token (never printed: excluded from repr, masked in every message)."""
    token_source: str | None = None
    """Name of the variable the token came from."""
    job_token_only: bool = False
    """Only CI_JOB_TOKEN is available (which cannot post notes)."""
    report_name: str = "secscan"
    """One summary note per MR *and report name* (projects running two scans use two names)."""
    min_severity: Severity = Severity.MEDIUM
    """Inline threads only for new findings at or above this severity."""
    max_threads: int = 10
    """At most this many findings discussed inline per MR and report; the rest are counted in the summary."""
    commit_status: bool = False
    require: bool = False
    """--require-publish: a publish failure exits 4."""
    dry_run: bool = False
    allow_http: bool = False
    html_report_url: str | None = None
    path_prefix: str = ""
    """Prefix that turns a finding's path (relative to the scan target) into a repository path."""
    timeout_s: float = 10.0
    """Per-request timeout."""
    budget_s: float = 60.0
    """Total time budget for all of publishing, retries included."""
    retry_base_s: float = 0.5
    retry_max_s: float = 8.0
    max_attempts: int = 4
    """Attempts per API call (1 = no retry)."""
    breaker_threshold: int = 5
    """Consecutive failed calls after which the circuit opens and GitLab is not called again."""
    comment_limit: int = 5_000
    """GitLab's maximum of notes per merge request (Noteable::MAX_NOTES_LIMIT; system notes count)."""
    env_problems: tuple[str, ...] = ()
    """Malformed CI variables (reported by :meth:`problems`)."""

    @property
    def base_url(self) -> str | None:
        """What python-gitlab wants: the API URL without its ``/api/v4`` suffix."""
        if not self.api_url:
            return None
        url = self.api_url.rstrip("/")
        return url[: -len("/api/v4")] if url.endswith("/api/v4") else url

    @property
    def scanned_sha(self) -> str | None:
        """The merge request head that was scanned: inline positions use the diff version whose head
        is this commit, so a push during the pipeline cannot move a thread onto another line."""
        return self.source_branch_sha or self.commit_sha

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.token,) if self.token else ()

    def problems(self) -> list[str]:
        """Why publishing cannot happen (empty when it can)."""
        out: list[str] = list(self.env_problems)
        if not self.mr_iid:
            out.append("not a merge request pipeline: CI_MERGE_REQUEST_IID is not set (or pass --mr-iid)")
        if not self.project_id:
            out.append("CI_MERGE_REQUEST_PROJECT_ID is not set (or pass --project-id)")
        if not self.api_url:
            out.append("CI_API_V4_URL is not set (or pass --gitlab-url)")
        else:
            scheme = urlsplit(self.api_url).scheme.lower()
            if scheme not in ("http", "https") or not urlsplit(self.api_url).netloc:
                out.append(f"GitLab URL {self.api_url!r} is not an http(s) URL")
            elif scheme == "http" and not self.allow_http:
                out.append(
                    f"refusing to send the GitLab token over plain HTTP to {self.api_url}: use an https:// URL "
                    "(or --allow-http for a test server on a trusted network)"
                )
        if not self.token:
            out.append(CI_JOB_NOTES_HELP if self.job_token_only else NO_CREDENTIAL_HELP)
        return out


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{where}: expected true/false, got {value!r}")


def _int(value: Any, where: str, *, minimum: int) -> int:
    try:
        n = int(str(value).strip()) if not isinstance(value, int) or isinstance(value, bool) else value
    except ValueError:
        raise ConfigError(f"{where}: expected an integer, got {value!r}") from None
    if isinstance(n, bool) or n < minimum:
        raise ConfigError(f"{where}: must be an integer >= {minimum}, got {value!r}")
    return n


def _float(value: Any, where: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if not x > 0:
        raise ConfigError(f"{where}: must be > 0, got {value!r}")
    return x


def _coerce(name: str, value: Any, where: str) -> Any:
    if name in ("api_url", "project_id", "job_url", "pipeline_url", "html_report_url", "path_prefix"):
        text = str(value).strip()
        if name == "path_prefix":
            text = text.strip("/")
            return text + "/" if text else ""
        return text or None
    if name in ("diff_base_sha", "commit_sha", "source_branch_sha"):
        text = str(value).strip()
        if text and not _SHA.match(text):
            raise ConfigError(f"{where}: {value!r} is not a commit SHA")
        return text or None
    if name == "mr_iid":
        return _int(value, where, minimum=1)
    if name == "report_name":
        text = str(value).strip()
        if not _REPORT_NAME.match(text):
            # The name goes into a hidden HTML marker: letters, digits, . _ - only, so it can never
            # close the comment or collide with another report's marker.
            raise ConfigError(f"{where}: report name {value!r} must be 1-64 of A-Z a-z 0-9 . _ -")
        return text
    if name == "min_severity":
        if isinstance(value, Severity):
            return value
        try:
            return Severity.parse(str(value))
        except ValueError as e:
            raise ConfigError(f"{where}: {e}") from None
    if name in ("max_threads", "max_attempts", "breaker_threshold", "comment_limit"):
        return _int(value, where, minimum=0 if name == "max_threads" else 1)
    if name in ("commit_status", "require", "dry_run", "allow_http"):
        return _bool(value, where)
    if name in ("timeout_s", "budget_s", "retry_base_s", "retry_max_s"):
        return _float(value, where)
    raise ConfigError(f"unknown publish setting {name!r}")


def from_env(env: Mapping[str, str], overrides: Mapping[str, Any]) -> PublishSettings:
    """Settings from GitLab's CI variables (and SECSCAN_* ones), then ``overrides`` (flags; None = unset).

    CI variables that are malformed are recorded as problems rather than raised, since a pipeline
    that is not a merge request pipeline is a normal situation; malformed *flags* raise
    :class:`ConfigError` (exit 2).
    """
    values: dict[str, Any] = {}
    env_problems: list[str] = []
    for name, var in {**CI_VARIABLES, **SECSCAN_VARIABLES}.items():
        raw = env.get(var)
        if raw is None or raw.strip() == "":
            continue
        try:
            values[name] = _coerce(name, raw, var)
        except ConfigError as e:
            if name in SECSCAN_VARIABLES:
                raise  # our own variable: the user set it, tell them now
            env_problems.append(e.message)
    known = {f.name for f in fields(PublishSettings)} - {"token", "token_source", "job_token_only", "env_problems"}
    for name, value in overrides.items():
        if value is None:
            continue
        if name not in known:
            raise ConfigError(f"unknown publish setting {name!r}")
        values[name] = _coerce(name, value, f"--{name.replace('_', '-')}")
    token, source = None, None
    for var in TOKEN_VARIABLES:
        if env.get(var, "").strip():
            token, source = env[var].strip(), var
            break
    settings = PublishSettings(
        **values,
        token=token,
        token_source=source,
        job_token_only=token is None and bool(env.get("CI_JOB_TOKEN", "").strip()),
    )
    # A malformed CI variable leaves its field unset; problems() reports what was wrong with it.
    return replace(settings, env_problems=tuple(env_problems)) if env_problems else settings
