"""Group, project, pipeline, job and artifact endpoints for the GitLab stand-in (REST v4).

What `secscan aggregate --gitlab-group` reads, answered in GitLab's shapes (field names and
types from GitLab's REST API documentation for groups, projects, pipelines and jobs):

* ``GET /groups/:id`` (numeric id or URL-encoded full path)
* ``GET /groups/:id/projects`` (``include_subgroups``, ``archived``; paginated)
* ``GET /projects/:id/pipelines`` (``ref``, ``status``, ``order_by=id``, ``sort``; paginated)
* ``GET /projects/:id/pipelines/:pipeline_id/jobs`` (``include_retried``; paginated)
* ``GET /projects/:id/jobs/:job_id/artifacts/*artifact_path`` (raw file; 404 when the job has no
  archive or the archive lacks the file; the CI job token may call it)

Usage::

    def test_x(gitlab_groups: Groups) -> None:
        g = gitlab_groups.add_group("payments")
        p = gitlab_groups.add_project(g, "api", default_branch="main")
        pl = gitlab_groups.add_pipeline(p, ref="main", status="failed")
        gitlab_groups.add_job(pl, "secscan", artifacts={"secscan-out/secscan.json": b"{...}"})
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.gitlab_standin import ApiError, GitLabStandIn, Request, Response

WEB = "https://gitlab.example.com"
_MAX_DEPTH = 6  # artifact paths up to this many segments (routes match one segment per placeholder)


@dataclass
class Job:
    id: int
    name: str
    status: str
    stage: str
    pipeline: Pipeline
    artifacts: dict[str, bytes] = field(default_factory=dict)
    """Files in the job's artifacts archive, by path. Empty: the job kept no archive."""
    retried: bool = False

    def as_json(self) -> dict[str, Any]:
        p = self.pipeline
        archive_size = sum(len(v) for v in self.artifacts.values())
        data: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "stage": self.stage,
            "name": self.name,
            "ref": p.ref,
            "tag": False,
            "coverage": None,
            "allow_failure": False,
            "created_at": "2024-06-28T09:59:00.000Z",
            "started_at": "2024-06-28T10:00:00.000Z",
            "finished_at": "2024-06-28T10:02:00.000Z",
            "erased_at": None,
            "duration": 120.0,
            "queued_duration": 1.5,
            "user": {"id": 1, "username": "ci-bot", "name": "CI bot", "state": "active"},
            "commit": {"id": p.sha, "short_id": p.sha[:8], "title": "Update", "author_name": "Dev"},
            "pipeline": {"id": p.id, "project_id": p.project.id, "ref": p.ref, "sha": p.sha, "status": p.status},
            "web_url": f"{WEB}/{p.project.path_with_namespace}/-/jobs/{self.id}",
            "project": {"ci_job_token_scope_enabled": False},
            "artifacts": [],
            "runner": None,
            "artifacts_expire_at": None,
            "tag_list": [],
        }
        if self.artifacts:
            data["artifacts_file"] = {"filename": "artifacts.zip", "size": archive_size}
            data["artifacts"] = [
                {"file_type": "archive", "size": archive_size, "filename": "artifacts.zip", "file_format": "zip"},
                {"file_type": "metadata", "size": 180, "filename": "metadata.gz", "file_format": "gzip"},
                {"file_type": "trace", "size": 1500, "filename": "job.log", "file_format": None},
            ]
            data["artifacts_expire_at"] = "2024-07-28T10:02:00.000Z"
        else:
            data["artifacts"] = [{"file_type": "trace", "size": 1500, "filename": "job.log", "file_format": None}]
        return data


@dataclass
class Pipeline:
    id: int
    iid: int
    ref: str
    status: str
    sha: str
    project: Project
    jobs: list[Job] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "iid": self.iid,
            "project_id": self.project.id,
            "sha": self.sha,
            "ref": self.ref,
            "status": self.status,
            "source": "push",
            "created_at": "2024-06-28T09:58:00.000Z",
            "updated_at": "2024-06-28T10:03:00.000Z",
            "web_url": f"{WEB}/{self.project.path_with_namespace}/-/pipelines/{self.id}",
        }


@dataclass
class Project:
    id: int
    path: str
    group: Group
    default_branch: str | None
    archived: bool = False
    pipelines: list[Pipeline] = field(default_factory=list)

    @property
    def path_with_namespace(self) -> str:
        return f"{self.group.full_path}/{self.path}"

    def as_json(self) -> dict[str, Any]:
        g = self.group
        return {
            "id": self.id,
            "description": None,
            "name": self.path.replace("-", " ").title(),
            "name_with_namespace": f"{g.name} / {self.path.replace('-', ' ').title()}",
            "path": self.path,
            "path_with_namespace": self.path_with_namespace,
            "created_at": "2023-01-10T08:00:00.000Z",
            "default_branch": self.default_branch,
            "tag_list": [],
            "topics": [],
            "ssh_url_to_repo": f"git@gitlab.example.com:{self.path_with_namespace}.git",
            "http_url_to_repo": f"{WEB}/{self.path_with_namespace}.git",
            "web_url": f"{WEB}/{self.path_with_namespace}",
            "readme_url": None,
            "forks_count": 0,
            "avatar_url": None,
            "star_count": 0,
            "last_activity_at": "2024-06-28T10:03:00.000Z",
            "namespace": {
                "id": g.id,
                "name": g.name,
                "path": g.path,
                "kind": "group",
                "full_path": g.full_path,
                "parent_id": g.parent.id if g.parent else None,
                "avatar_url": None,
                "web_url": f"{WEB}/groups/{g.full_path}",
            },
            "archived": self.archived,
            "visibility": "private",
            "empty_repo": self.default_branch is None,
        }


@dataclass
class Group:
    id: int
    path: str
    parent: Group | None = None
    projects: list[Project] = field(default_factory=list)

    @property
    def full_path(self) -> str:
        return f"{self.parent.full_path}/{self.path}" if self.parent else self.path

    @property
    def name(self) -> str:
        return self.path.replace("-", " ").title()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "path": self.path,
            "description": "",
            "visibility": "private",
            "full_name": " / ".join(part.title() for part in self.full_path.split("/")),
            "full_path": self.full_path,
            "parent_id": self.parent.id if self.parent else None,
            "web_url": f"{WEB}/groups/{self.full_path}",
            "created_at": "2023-01-01T00:00:00.000Z",
        }


class Groups:
    """The group/project/pipeline/job state behind the routes, with helpers to fill it."""

    def __init__(self, gl: GitLabStandIn) -> None:
        self.gl = gl
        self.groups: list[Group] = []
        self.projects: list[Project] = []
        self.artifact_downloads: list[tuple[int, int, str]] = []
        """(project id, job id, path) of every artifact request, found or not."""

    def add_group(self, path: str, *, parent: Group | None = None) -> Group:
        with self.gl.lock:
            g = Group(id=self.gl.next_id(), path=path, parent=parent)
            self.groups.append(g)
            return g

    def add_project(
        self, group: Group, path: str, *, default_branch: str | None = "main", archived: bool = False
    ) -> Project:
        with self.gl.lock:
            p = Project(id=self.gl.next_id(), path=path, group=group, default_branch=default_branch, archived=archived)
            group.projects.append(p)
            self.projects.append(p)
            return p

    def add_pipeline(self, project: Project, *, ref: str, status: str = "success") -> Pipeline:
        with self.gl.lock:
            pid = self.gl.next_id()
            sha = f"{pid:040x}"
            pl = Pipeline(id=pid, iid=len(project.pipelines) + 1, ref=ref, status=status, sha=sha, project=project)
            project.pipelines.append(pl)
            return pl

    def add_job(
        self,
        pipeline: Pipeline,
        name: str,
        *,
        artifacts: dict[str, bytes] | None = None,
        status: str = "success",
        stage: str = "test",
        retried: bool = False,
    ) -> Job:
        with self.gl.lock:
            job = Job(
                id=self.gl.next_id(),
                name=name,
                status=status,
                stage=stage,
                pipeline=pipeline,
                artifacts=dict(artifacts or {}),
                retried=retried,
            )
            pipeline.jobs.append(job)
            return job

    # ------------------------------------------------------------------ lookups

    def group(self, key: str) -> Group:
        for g in self.groups:
            if key == str(g.id) or key == g.full_path:
                return g
        raise ApiError(404, "404 Group Not Found")

    def project(self, key: str) -> Project:
        for p in self.projects:
            if key == str(p.id) or key == p.path_with_namespace:
                return p
        raise ApiError(404, "404 Project Not Found")

    def subgroups(self, g: Group) -> list[Group]:
        out = []
        for child in self.groups:
            if child.parent is g:
                out.append(child)
                out.extend(self.subgroups(child))
        return out


def _flag(req: Request, name: str) -> bool | None:
    raw = req.query.get(name, [None])[-1]
    if raw is None:
        return None
    return str(raw).lower() in ("true", "1", "yes")


def install(gl: GitLabStandIn) -> Groups:
    """Register the routes on ``gl``; returns the state to fill."""
    state = Groups(gl)
    _install_group_routes(gl, state)
    _install_pipeline_routes(gl, state)
    _install_artifact_routes(gl, state)
    return state


def _install_group_routes(gl: GitLabStandIn, state: Groups) -> None:
    """A group and its projects (subgroups included on request)."""

    @gl.route("GET", "/groups/{group}", name="group_get")
    def group_get(req: Request, params: dict[str, str]) -> Response:
        return Response(200, state.group(params["group"]).as_json())

    @gl.route("GET", "/groups/{group}/projects", name="group_projects")
    def group_projects(req: Request, params: dict[str, str]) -> Response:
        g = state.group(params["group"])
        groups = [g, *state.subgroups(g)] if _flag(req, "include_subgroups") else [g]
        items = [p for grp in groups for p in grp.projects]
        archived = _flag(req, "archived")
        if archived is not None:
            items = [p for p in items if p.archived == archived]
        # GitLab's default order is created_at desc; order_by=path / name sort ascending by default.
        order = req.query.get("order_by", ["created_at"])[-1]
        if order in ("path", "name"):
            items.sort(key=lambda p: p.path)
        else:
            items.sort(key=lambda p: p.id, reverse=True)
        return gl.paginate(req, [p.as_json() for p in items])


def _install_pipeline_routes(gl: GitLabStandIn, state: Groups) -> None:
    """A project's pipelines and a pipeline's jobs."""

    @gl.route("GET", "/projects/{project}/pipelines", name="project_pipelines", job_token=False)
    def project_pipelines(req: Request, params: dict[str, str]) -> Response:
        p = state.project(params["project"])
        items = list(p.pipelines)
        ref = req.query.get("ref", [None])[-1]
        if ref is not None:
            items = [x for x in items if x.ref == ref]
        status = req.query.get("status", [None])[-1]
        if status is not None:
            items = [x for x in items if x.status == status]
        order = req.query.get("order_by", ["id"])[-1]
        if order not in ("id", "status", "ref", "updated_at", "user_id"):
            raise ApiError(400, "400 Bad request - order_by does not have a valid value")
        desc = req.query.get("sort", ["desc"])[-1] != "asc"
        items.sort(key=lambda x: x.id, reverse=desc)
        return gl.paginate(req, [x.as_json() for x in items])

    @gl.route("GET", "/projects/{project}/pipelines/{pipeline_id}/jobs", name="pipeline_jobs")
    def pipeline_jobs(req: Request, params: dict[str, str]) -> Response:
        p = state.project(params["project"])
        pl = next((x for x in p.pipelines if str(x.id) == params["pipeline_id"]), None)
        if pl is None:
            raise ApiError(404, "404 Not found")
        jobs = pl.jobs if _flag(req, "include_retried") else [j for j in pl.jobs if not j.retried]
        # GitLab lists a pipeline's jobs newest first.
        return gl.paginate(req, [j.as_json() for j in sorted(jobs, key=lambda j: j.id, reverse=True)])


def _install_artifact_routes(gl: GitLabStandIn, state: Groups) -> None:
    """A job's artifact file, at every folder depth the tests use."""

    def artifact(req: Request, params: dict[str, str]) -> Response:
        p = state.project(params["project"])
        path = "/".join(params[f"a{i}"] for i in range(_MAX_DEPTH) if f"a{i}" in params)
        with gl.lock:
            state.artifact_downloads.append((p.id, int(params["job_id"]) if params["job_id"].isdigit() else -1, path))
        job = next((j for pl in p.pipelines for j in pl.jobs if str(j.id) == params["job_id"]), None)
        if job is None:
            raise ApiError(404, "404 Not found")
        if not job.artifacts or path not in job.artifacts:
            raise ApiError(404, "404 Not found")
        return Response(200, job.artifacts[path])

    for depth in range(1, _MAX_DEPTH + 1):
        tail = "/".join(f"{{a{i}}}" for i in range(depth))
        gl.add_route(
            "GET",
            f"/projects/{{project}}/jobs/{{job_id}}/artifacts/{tail}",
            artifact,
            name="job_artifact_file",
            job_token=True,
        )


@pytest.fixture
def gitlab_groups() -> Iterator[Groups]:
    with GitLabStandIn() as gl:
        yield install(gl)
