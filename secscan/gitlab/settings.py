"""Publish settings: GitLab's predefined CI variables and secscan's own, overridden by flags.

Each setting (its option, variables, type and help) is declared in
:mod:`secscan.settings.catalog` (``PUBLISH_SETTINGS``) and coerced by the one settings coercer;
this module adds what only publishing knows (severities, the path prefix's shape, the token).

``from_env`` never reads ``os.environ`` itself (the caller passes the mapping), and the token is
kept out of ``repr``. Missing context (not a merge request pipeline, no token) is *not* an error
here: it is recorded in :attr:`PublishSettings.problems` so that ``publish_result`` can report it
as a publish failure (exit 4 only with ``--require-publish``) without touching the gate's verdict.
Malformed flag values are usage errors (:class:`ConfigError`, exit 2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from secscan.errors import ConfigError
from secscan.models import Severity
from secscan.settings import UNSET, env_layer
from secscan.settings.catalog import PUBLISH_SETTINGS, by_key, for_command
from secscan.settings.coerce import coerce

# Publishing's settings: its options (one, --require-publish, shared with scan), the variables
# that only set a field (CI_MERGE_REQUEST_SOURCE_BRANCH_SHA) and the token.
PUBLISH = {**by_key(PUBLISH_SETTINGS), **for_command("publish")}
TOKEN_VARIABLES = PUBLISH["gitlab_token"].env

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
    report_name: str = PUBLISH["report_name"].default
    """One summary note per MR *and report name* (projects running two scans use two names)."""
    min_severity: Severity = Severity(PUBLISH["min_severity"].default)  # noqa: RUF009 (an enum member)
    """Inline threads only for new findings at or above this severity."""
    max_threads: int = PUBLISH["max_threads"].default
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
    budget_s: float = PUBLISH["budget_s"].default
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


# Fields that are not settings: internal limits, tuned by tests and by GitLab's own limits.
_TUNABLES = frozenset(
    {"timeout_s", "retry_base_s", "retry_max_s", "max_attempts", "breaker_threshold", "comment_limit"}
)
# The declared key -> the field it sets, where the two names differ.
_FIELD = {"require_publish": "require"}
_KEY = {v: k for k, v in _FIELD.items()}


def _finish(key: str, value: Any, where: str) -> Any:
    """What the declaration's type cannot say."""
    if key == "min_severity":
        if isinstance(value, Severity):
            return value
        try:
            return Severity.parse(str(value))
        except ValueError as e:
            raise ConfigError(f"{where}: {e}") from None
    if key == "path_prefix":
        text = str(value).strip().strip("/")
        return text + "/" if text else ""
    return value


def _from_env(env: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Declared variables; a malformed GitLab ``CI_*`` variable is a problem (not every pipeline
    is a merge request pipeline), a malformed ``SECSCAN_*`` one an error: the user set it."""
    values: dict[str, Any] = {}
    problems: list[str] = []
    raw = env_layer([s for s in PUBLISH.values() if not s.secret], env)
    for key, text in raw.values.items():
        where = raw.where[key]
        try:
            value = coerce(PUBLISH[key], text, where=where)
            if value is not UNSET:
                values[_FIELD.get(key, key)] = _finish(key, value, where)
        except ConfigError as e:
            if not where.startswith("CI_"):
                raise
            problems.append(e.message)
    return values, problems


def _override(name: str, value: Any) -> Any:
    key = _KEY.get(name, name)
    if name in _TUNABLES:
        return value
    if key not in PUBLISH or PUBLISH[key].secret:
        raise ConfigError(f"unknown publish setting {name!r}")
    where = PUBLISH[key].long
    return _finish(key, coerce(PUBLISH[key], value, where=where), where)


def from_env(env: Mapping[str, str], overrides: Mapping[str, Any]) -> PublishSettings:
    """Settings from GitLab's CI variables (and SECSCAN_* ones), then ``overrides`` (flags, by
    declared key or field name; None = unset).

    CI variables that are malformed are recorded as problems rather than raised, since a pipeline
    that is not a merge request pipeline is a normal situation; malformed *flags* raise
    :class:`ConfigError` (exit 2).
    """
    values, env_problems = _from_env(env)
    for name, value in overrides.items():
        if value is None:
            continue
        coerced = _override(name, value)
        if coerced is not UNSET:
            key = _KEY.get(name, name)  # a field name (require) or a declared key (require_publish)
            values[_FIELD.get(key, key)] = coerced
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
