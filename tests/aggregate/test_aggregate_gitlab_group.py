"""`secscan aggregate --gitlab-group`: the real python-gitlab client against the REST v4 stand-in."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from secscan import resultio
from secscan.aggregate.history import History
from tests.aggregate.test_aggregate_history import STORY
from tests.support.cli import Run, secscan
from tests.support.gitlab_standin import Fault
from tests.support.gitlab_standin_groups import Groups, gitlab_groups

__all__ = ["gitlab_groups"]  # the fixture, re-exported for pytest

ARTIFACT = "secscan-out/secscan.json"


def _result(i: int, target: str) -> bytes:
    return resultio.dumps(replace(STORY[i], target=target)).encode("utf-8")


def _aggregate(g: Groups, db: Path | str, *extra: str, token: str | None = None) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GITLAB_"))}
    env.update(
        {
            "CI_API_V4_URL": g.gl.api_url,
            "SECSCAN_GITLAB_TOKEN": token if token is not None else g.gl.private_token,
            "SECSCAN_GITLAB_ALLOW_HTTP": "1",  # the stand-in is plain HTTP on loopback
        }
    )
    return secscan("aggregate", "--gitlab-group", "payments", "--db", str(db), *extra, environ=env)


def _populate(g: Groups) -> None:
    top = g.add_group("payments")
    backend = g.add_group("backend", parent=top)
    g.add_group("elsewhere")  # another group's projects must not appear

    api = g.add_project(top, "api")
    old = g.add_pipeline(api, ref="main", status="success")
    g.add_job(old, "secscan", artifacts={ARTIFACT: _result(0, "api-old")})
    newest = g.add_pipeline(api, ref="main", status="failed")  # the gate failed: artifacts kept anyway
    g.add_job(newest, "build", artifacts={"dist/app.whl": b"PK\x03\x04"})
    g.add_job(newest, "lint", status="failed")  # no artifacts at all
    g.add_job(newest, "secscan", status="failed", artifacts={ARTIFACT: _result(3, "api-new")})
    mr = g.add_pipeline(api, ref="feature/x", status="success")  # newest overall, but not the default branch
    g.add_job(mr, "secscan", artifacts={ARTIFACT: _result(1, "api-branch")})

    ledger = g.add_project(backend, "ledger", default_branch="trunk")
    pl = g.add_pipeline(ledger, ref="trunk")
    g.add_job(pl, "secscan", artifacts={ARTIFACT: _result(2, "ledger")})

    docs = g.add_project(top, "docs")
    g.add_job(g.add_pipeline(docs, ref="main"), "pages", artifacts={"public/index.html": b"<html>"})
    g.add_project(top, "legacy", archived=True)
    g.add_project(top, "empty", default_branch=None)
    broken = g.add_project(top, "broken")
    g.add_job(g.add_pipeline(broken, ref="main"), "secscan", artifacts={ARTIFACT: b'{"schema": "other"}'})

    other = g.groups[-1]
    outside = g.add_project(other, "secret-app")
    g.add_job(g.add_pipeline(outside, ref="main"), "secscan", artifacts={ARTIFACT: _result(0, "outside")})


def test_aggregate_adds_newest_default_branch_result_per_project(gitlab_groups: Groups, tmp_path: Path) -> None:
    g = gitlab_groups
    _populate(g)
    db = tmp_path / "h.db"
    # A transient 502 on the project listing is retried by the client.
    g.gl.inject(Fault(status=502, route="group_projects", times=1))
    res = _aggregate(g, db)
    out = res.stdout
    assert res.returncode == 2, res.stderr  # one project's artifact is unreadable: reported, the rest stored
    assert "added       payments/api@main" in out
    assert "added       payments/backend/ledger@trunk" in out
    assert "no_artifact payments/docs@main: no secscan-out/secscan.json in the last 5 pipelines" in out
    assert "no_artifact payments/empty: empty repository" in out
    assert "error       payments/broken@main" in out and "is this a secscan result file" in out
    assert "legacy" not in out and "secret-app" not in out
    assert "group payments: 5 projects, 2 added, 0 already stored, 2 without a result, 1 failed" in out
    assert g.gl.private_token not in out + res.stderr
    with History(db) as h:
        assert h.streams() == [("payments/api", "main"), ("payments/backend/ledger", "trunk")]
        api = h.stream("payments/api", "main")
        # The newest default-branch pipeline's result (STORY[3]), not the older one or the branch's.
        assert [r.finished_at for r in api.runs] == ["2024-06-28T00:00:00Z"]
    # Only the secscan job's archive of the newest main pipeline was asked for the file first.
    api_id = next(p.id for p in g.projects if p.path == "api")
    asked = [(job, path) for pid, job, path in g.artifact_downloads if pid == api_id]
    assert len(asked) >= 1 and all(path == ARTIFACT for _, path in asked)
    lint = next(j for pl in g.projects[0].pipelines for j in pl.jobs if j.name == "lint")
    assert all(job != lint.id for job, _ in asked)  # jobs without an archive are not asked

    again = _aggregate(g, db)
    assert "0 added, 2 already stored" in again.stdout
    with History(db) as h:
        assert h.counts() == (2, 2)


def test_aggregate_into_postgres_works_unchanged(gitlab_groups: Groups, pg_url: str) -> None:
    g = gitlab_groups
    _populate(g)
    res = _aggregate(g, pg_url)
    assert res.returncode == 2, res.stderr  # the same outcome as on SQLite: one unreadable artifact
    assert "group payments: 5 projects, 2 added, 0 already stored, 2 without a result, 1 failed" in res.stdout
    again = _aggregate(g, pg_url)
    assert "0 added, 2 already stored" in again.stdout
    with History(pg_url) as h:
        assert h.target.is_postgres and h.counts() == (2, 2)
        assert h.streams() == [("payments/api", "main"), ("payments/backend/ledger", "trunk")]
        assert [r.finished_at for r in h.stream("payments/api", "main").runs] == ["2024-06-28T00:00:00Z"]


def test_job_filter_and_artifact_path(gitlab_groups: Groups, tmp_path: Path) -> None:
    g = gitlab_groups
    top = g.add_group("payments")
    p = g.add_project(top, "api")
    pl = g.add_pipeline(p, ref="main")
    g.add_job(pl, "secscan-bandit", artifacts={"reports/secscan.json": _result(0, "bandit-only")})
    g.add_job(pl, "secscan-all", artifacts={"reports/secscan.json": _result(3, "all")})
    res = _aggregate(g, tmp_path / "h.db", "--artifact-path", "reports/secscan.json", "--job", "secscan-bandit")
    assert res.returncode == 0, res.stderr + res.stdout
    with History(tmp_path / "h.db") as h:
        assert [r.finished_at for r in h.stream("payments/api", "main").runs] == ["2024-06-01T00:00:00Z"]


def test_refused_token_is_one_clear_line_without_the_token(gitlab_groups: Groups, tmp_path: Path) -> None:
    g = gitlab_groups
    g.add_group("payments")
    res = _aggregate(g, tmp_path / "h.db", token="glpat-WrongWrongWrong12345")
    assert res.returncode == 2
    assert res.stderr.startswith("secscan: error: GitLab refused the token (401)")
    assert "glpat-WrongWrongWrong12345" not in res.stdout + res.stderr
    assert "Traceback" not in res.stderr


def test_unknown_group_and_plain_http_refused(gitlab_groups: Groups, tmp_path: Path) -> None:
    g = gitlab_groups
    res = _aggregate(g, tmp_path / "h.db")
    assert res.returncode == 2 and "cannot list the projects of group 'payments'" in res.stderr
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GITLAB_"))}
    env.update({"SECSCAN_GITLAB_TOKEN": g.gl.private_token})
    calls_before = len(g.gl.calls)
    plain = secscan("aggregate", "--gitlab-group", "payments", "--url", g.gl.api_url, environ=env)
    assert plain.returncode == 2 and "refusing to send the GitLab token over plain HTTP" in plain.stderr
    assert len(g.gl.calls) == calls_before  # refused before any request carried the token
