"""Collect the newest ``secscan.json`` of every project in a GitLab group into the history.

For each (non-archived) project of the group and its subgroups: the newest pipelines on the
project's default branch, newest first; in each, the jobs that kept an artifacts archive; the
first whose archive holds ``artifact_path`` wins (``GET /projects/:id/jobs/:job_id/artifacts/
*artifact_path`` answers 404 when it does not). A failed gate fails the pipeline, so failed
pipelines are searched too: the CI template keeps artifacts ``when: always``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from secscan import __version__, resultio
from secscan.aggregate.history import History
from secscan.errors import ConfigError, InputError
from secscan.gitlab.redact import Redactor

TOKEN_VARIABLES = ("SECSCAN_GITLAB_TOKEN", "GITLAB_TOKEN")
# Pipelines that are still going may not have uploaded artifacts yet; they are searched anyway
# (a job that finished early may already have), then older ones.
_MAX_ARTIFACT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class GroupSource:
    """Where and as whom to read (the token is never shown)."""

    base_url: str
    token: str = field(repr=False)
    auth_kind: str = "private"
    """``private`` (PRIVATE-TOKEN) or ``job`` (CI_JOB_TOKEN, which can read artifacts only)."""
    timeout_s: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, api_url: str | None = None) -> GroupSource:
        url = (api_url or env.get("CI_API_V4_URL") or "").strip().rstrip("/")
        if not url:
            raise ConfigError("no GitLab URL: give --url https://gitlab.example.com/api/v4 (or set CI_API_V4_URL)")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"GitLab URL {url!r} is not an http(s) URL")
        allow_http = env.get("SECSCAN_GITLAB_ALLOW_HTTP", "").lower() in ("1", "true", "yes")
        if parts.scheme == "http" and not allow_http:
            raise ConfigError(
                f"refusing to send the GitLab token over plain HTTP to {url}: use https:// "
                "(or SECSCAN_GITLAB_ALLOW_HTTP=1 for a test server on a trusted network)"
            )
        base = url[: -len("/api/v4")] if url.endswith("/api/v4") else url
        for name in TOKEN_VARIABLES:
            if env.get(name):
                return cls(base_url=base, token=env[name], auth_kind="private")
        if env.get("CI_JOB_TOKEN"):
            return cls(base_url=base, token=env["CI_JOB_TOKEN"], auth_kind="job")
        raise ConfigError("no GitLab token: set SECSCAN_GITLAB_TOKEN (read_api scope on the group's projects)")


@dataclass(frozen=True, kw_only=True)
class ProjectOutcome:
    project: str
    state: str
    """``added``, ``unchanged`` (already stored), ``no_artifact`` or ``error``."""
    detail: str = ""
    ref: str | None = None
    pipeline_id: int | None = None
    job_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class Summary:
    group: str
    outcomes: tuple[ProjectOutcome, ...]

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes if o.state == state)

    def lines(self) -> list[str]:
        out = []
        for o in self.outcomes:
            where = f" (pipeline {o.pipeline_id}, job {o.job_id})" if o.job_id else ""
            detail = f": {o.detail}" if o.detail else ""
            out.append(f"{o.state:11} {o.project}{'@' + o.ref if o.ref else ''}{where}{detail}")
        out.append(
            f"group {self.group}: {len(self.outcomes)} projects, {self.count('added')} added, "
            f"{self.count('unchanged')} already stored, {self.count('no_artifact')} without a result, "
            f"{self.count('error')} failed"
        )
        return out


def _client(source: GroupSource) -> Any:
    import gitlab

    kwargs: dict[str, Any] = {"timeout": source.timeout_s, "user_agent": f"secscan/{__version__}"}
    if source.auth_kind == "job":
        kwargs["job_token"] = source.token
    else:
        kwargs["private_token"] = source.token
    # python-gitlab retries 429/5xx itself (honouring Retry-After) when asked to.
    return gitlab.Gitlab(source.base_url, retry_transient_errors=True, **kwargs)


def _find_artifact(
    gl: Any, project: Any, ref: str, *, artifact_path: str, job_name: str | None, max_pipelines: int
) -> tuple[bytes, int, int] | None:
    """(content, pipeline id, job id) of the newest matching artifact, or None."""
    import gitlab.exceptions

    proj = gl.projects.get(project.id, lazy=True)
    pipelines = proj.pipelines.list(ref=ref, order_by="id", sort="desc", per_page=max_pipelines, get_all=False)
    for pipeline in pipelines[:max_pipelines]:
        jobs = proj.pipelines.get(pipeline.id, lazy=True).jobs.list(iterator=True, include_retried=False)
        candidates = []
        for job in jobs:
            if job_name and job.name != job_name:
                continue
            kinds = {a.get("file_type") for a in (getattr(job, "artifacts", None) or []) if isinstance(a, dict)}
            if "archive" not in kinds and not getattr(job, "artifacts_file", None):
                continue
            candidates.append(job)
        # Newest job first: a retried scan supersedes the first attempt.
        for job in sorted(candidates, key=lambda j: int(j.id), reverse=True):
            try:
                content = proj.jobs.get(job.id, lazy=True).artifact(artifact_path)
            except gitlab.exceptions.GitlabGetError as e:
                if e.response_code == 404:
                    continue
                raise
            if not isinstance(content, bytes):  # pragma: no cover - streamed/iterator modes are not used
                raise InputError("unexpected artifact download type")
            if len(content) > _MAX_ARTIFACT_BYTES:
                raise InputError(f"job {job.id}: {artifact_path} is larger than {_MAX_ARTIFACT_BYTES} bytes")
            return content, int(pipeline.id), int(job.id)
    return None


@dataclass(frozen=True)
class _Wanted:
    """Which artifact of which job is a project's result."""

    artifact_path: str
    job_name: str | None
    max_pipelines: int


def _collect_project(gl: Any, p: Any, history: History, wanted: _Wanted, redact: Redactor) -> ProjectOutcome:
    """One project's newest result added to ``history``, or why not (never raises for one project)."""
    import gitlab.exceptions
    import requests

    name = str(p.path_with_namespace)
    ref = getattr(p, "default_branch", None)
    if not ref:
        return ProjectOutcome(project=name, state="no_artifact", detail="empty repository")
    artifact_path = wanted.artifact_path
    try:
        found = _find_artifact(
            gl, p, ref, artifact_path=artifact_path, job_name=wanted.job_name, max_pipelines=wanted.max_pipelines
        )
    except gitlab.exceptions.GitlabError as e:
        return ProjectOutcome(project=name, ref=ref, state="error", detail=redact(e.error_message))
    except (requests.RequestException, InputError) as e:
        return ProjectOutcome(project=name, ref=ref, state="error", detail=redact(str(e)))
    if found is None:
        detail = f"no {artifact_path} in the last {wanted.max_pipelines} pipelines"
        return ProjectOutcome(project=name, ref=ref, state="no_artifact", detail=detail)
    content, pipeline_id, job_id = found
    try:
        text = content.decode("utf-8")
        result = resultio.loads(text, origin=f"{name} job {job_id} {artifact_path}")
        added = history.add(result, project=name, ref=ref, digest=hashlib.sha256(content).hexdigest())
    except UnicodeDecodeError:
        return ProjectOutcome(project=name, ref=ref, state="error", detail=f"{artifact_path} is not UTF-8")
    except InputError as e:
        return ProjectOutcome(project=name, ref=ref, state="error", detail=e.message)
    return ProjectOutcome(
        project=name,
        ref=ref,
        state="added" if added.added else "unchanged",
        pipeline_id=pipeline_id,
        job_id=job_id,
        detail=f"{added.findings} findings, finished {added.finished_at}",
    )


def collect(
    source: GroupSource,
    group: str,
    history: History,
    *,
    artifact_path: str = "secscan-out/secscan.json",
    job_name: str | None = None,
    max_pipelines: int = 5,
) -> Summary:
    """Add each project's newest result to ``history``; one project's failure never stops the rest.

    Errors that affect every project (GitLab unreachable, token refused, group unknown) raise
    :class:`InputError` (exit 2) with the token masked.
    """
    import gitlab.exceptions
    import requests

    redact = Redactor([source.token])
    gl = _client(source)
    artifact_path = artifact_path.lstrip("/")
    try:
        grp = gl.groups.get(group)
        projects = list(grp.projects.list(iterator=True, include_subgroups=True, archived=False, order_by="path"))
    except gitlab.exceptions.GitlabAuthenticationError as e:
        raise InputError(f"GitLab refused the token ({e.response_code}): {redact(e.error_message)}") from None
    except gitlab.exceptions.GitlabError as e:
        raise InputError(f"cannot list the projects of group {group!r}: {redact(e.error_message)}") from None
    except requests.RequestException as e:
        raise InputError(f"cannot reach GitLab at {source.base_url}: {redact(type(e).__name__)}") from None

    wanted = _Wanted(artifact_path=artifact_path, job_name=job_name, max_pipelines=max_pipelines)
    outcomes = [
        _collect_project(gl, p, history, wanted, redact)
        for p in sorted(projects, key=lambda p: str(p.path_with_namespace))
    ]
    return Summary(group=group, outcomes=tuple(outcomes))
