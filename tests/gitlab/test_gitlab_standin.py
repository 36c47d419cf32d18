"""The GitLab stand-in itself answers like GitLab (driven by the real python-gitlab client)."""

from __future__ import annotations

from typing import Any

import gitlab
import pytest
import requests

from tests.support.gitlab_standin import POSITION_400, ApiError, Fault, GitLabStandIn, Request, Response

OLD = "def pay(amount):\n    return amount\n"
NEW = "import hashlib\n\ndef pay(amount):\n    h = hashlib.md5(b'x')\n    return amount\n"


def client(gl: GitLabStandIn, **kw: Any) -> gitlab.Gitlab:
    return gitlab.Gitlab(gl.url, private_token=gl.private_token, retry_transient_errors=False, timeout=5, **kw)


def test_standin_serves_mr_versions_and_diff_refs(gitlab_standin: GitLabStandIn) -> None:
    gitlab_standin.add_merge_request(project_id=7, iid=3, files={"app/pay.py": (OLD, NEW)})
    mr = client(gitlab_standin).projects.get(7, lazy=True).mergerequests.get(3)
    assert mr.iid == 3
    assert mr.changes_count == "1"  # GitLab sends this as a string
    versions = mr.diffs.list(get_all=True)
    assert versions[0].real_size == "1"
    full = mr.diffs.get(versions[0].id)
    assert full.head_commit_sha == mr.diff_refs["head_sha"]
    assert full.diffs[0]["new_path"] == "app/pay.py"
    assert "+    h = hashlib.md5(b'x')" in full.diffs[0]["diff"]


def test_standin_checks_tokens(gitlab_standin: GitLabStandIn) -> None:
    gitlab_standin.add_merge_request(project_id=7, iid=1, files={"a.py": ("", "x = 1\n")})
    bad = gitlab.Gitlab(gitlab_standin.url, private_token="wrong", timeout=5)
    with pytest.raises(gitlab.GitlabAuthenticationError):
        bad.projects.get(7, lazy=True).mergerequests.get(1)
    job = gitlab.Gitlab(gitlab_standin.url, job_token=gitlab_standin.job_token, timeout=5)
    with pytest.raises(gitlab.GitlabCreateError) as e:
        job.projects.get(7, lazy=True).mergerequests.get(1, lazy=True).notes.create({"body": "hi"})
    assert e.value.response_code == 403
    assert gitlab_standin.write_count() == 0


def test_standin_paginates_like_gitlab(gitlab_standin: GitLabStandIn) -> None:
    mr = gitlab_standin.add_merge_request(project_id=7, iid=1, files={"a.py": ("", "x = 1\n")})
    for n in range(25):
        gitlab_standin.add_note(mr, f"note {n}\r\nsecond line")
    r = requests.get(
        f"{gitlab_standin.api_url}/projects/7/merge_requests/1/notes",
        headers={"PRIVATE-TOKEN": gitlab_standin.private_token},
        timeout=5,
    )
    assert r.headers["X-Total"] == "25"
    assert r.headers["X-Next-Page"] == "2"
    assert len(r.json()) == 20
    assert 'rel="next"' in r.headers["Link"]
    notes = client(gitlab_standin).projects.get(7, lazy=True).mergerequests.get(1, lazy=True).notes.list(get_all=True)
    assert len(notes) == 25  # python-gitlab followed the Link header
    assert "\r\n" in notes[0].body


def test_standin_rejects_positions_outside_the_diff(gitlab_standin: GitLabStandIn) -> None:
    state = gitlab_standin.add_merge_request(project_id=7, iid=1, files={"app/pay.py": (OLD, NEW)})
    v = state.latest
    mr = client(gitlab_standin).projects.get(7, lazy=True).mergerequests.get(1, lazy=True)
    base = {"base_sha": v.base_sha, "start_sha": v.start_sha, "head_sha": v.head_sha, "position_type": "text"}
    with pytest.raises(gitlab.GitlabCreateError) as e:
        mr.discussions.create({"body": "x", "position": {**base, "new_path": "app/pay.py", "new_line": 99}})
    assert e.value.response_code == 400
    assert e.value.error_message == POSITION_400
    # line 4 (the md5 call) is an added line: accepted
    d = mr.discussions.create(
        {"body": "x", "position": {**base, "old_path": "app/pay.py", "new_path": "app/pay.py", "new_line": 4}}
    )
    assert d.attributes["notes"][0]["type"] == "DiffNote"
    assert gitlab_standin.write_count("discussion_create") == 1
    assert len(gitlab_standin.write_attempts("discussion_create")) == 2


def test_standin_injects_faults_and_resets(gitlab_standin: GitLabStandIn) -> None:
    gitlab_standin.add_merge_request(project_id=7, iid=1, files={"a.py": ("", "x = 1\n")})
    gitlab_standin.inject(Fault(status=429, retry_after="3", route="mr_get"))
    url = f"{gitlab_standin.api_url}/projects/7/merge_requests/1"
    headers = {"PRIVATE-TOKEN": gitlab_standin.private_token}
    r = requests.get(url, headers=headers, timeout=5)
    assert (r.status_code, r.headers["Retry-After"]) == (429, "3")
    assert requests.get(url, headers=headers, timeout=5).status_code == 200  # times=1: spent
    gitlab_standin.inject(Fault(reset=True, route="mr_get"))
    with pytest.raises(requests.ConnectionError):
        requests.get(url, headers=headers, timeout=5)
    gitlab_standin.inject(Fault(delay=1.0, route="mr_get"))
    with pytest.raises(requests.Timeout):
        requests.get(url, headers=headers, timeout=0.3)


def test_standin_commit_status_refuses_same_state(gitlab_standin: GitLabStandIn) -> None:
    gitlab_standin.add_merge_request(project_id=7, iid=1, files={"a.py": ("", "x = 1\n")})
    commit = client(gitlab_standin).projects.get(7, lazy=True).commits.get("abc123", lazy=True)
    commit.statuses.create({"state": "success", "name": "secscan"})
    with pytest.raises(gitlab.GitlabCreateError) as e:
        commit.statuses.create({"state": "success", "name": "secscan"})
    assert "Cannot transition status" in e.value.error_message
    assert [s.status for s in commit.statuses.list(get_all=True)] == ["success"]


def test_standin_accepts_extra_routes(gitlab_standin: GitLabStandIn) -> None:
    @gitlab_standin.route("GET", "/groups/{group}/projects", name="group_projects")
    def group_projects(req: Request, params: dict[str, str]) -> Response:
        if params["group"] != "acme":
            raise ApiError(404, "404 Group Not Found")
        return gitlab_standin.paginate(req, [{"id": 7, "path_with_namespace": "acme/payments"}])

    gl = client(gitlab_standin)
    assert [p.id for p in gl.groups.get("acme", lazy=True).projects.list(get_all=True)] == [7]
    with pytest.raises(gitlab.GitlabListError):
        gl.groups.get("other", lazy=True).projects.list(get_all=True)


# ------------------------------------------------------------------ GitLab's failure modes and permissions


def _mr(gl: GitLabStandIn, token: str | None = None) -> Any:
    c = gitlab.Gitlab(gl.url, private_token=token or gl.private_token, retry_transient_errors=False, timeout=5)
    return c.projects.get(7, lazy=True).mergerequests.get(3, lazy=True)


def test_standin_lost_answer_fault_commits_the_write_then_answers_an_error(gitlab_standin: GitLabStandIn) -> None:
    gitlab_standin.add_merge_request(project_id=7, iid=3, files={"a.py": ("", "x = 1\n")})
    gitlab_standin.inject(Fault(status=502, lands=True, route="note_create"))
    with pytest.raises(gitlab.GitlabCreateError) as e:
        _mr(gitlab_standin).notes.create({"body": "hello"})
    assert e.value.response_code == 502
    assert [n["body"] for n in gitlab_standin.merge_requests[(7, 3)].notes()] == ["hello"]
    assert gitlab_standin.write_count("note_create") == 1  # applied, although answered 502


def test_standin_roles_and_scopes(gitlab_standin: GitLabStandIn) -> None:
    from tests.support.gitlab_standin import REPORTER

    gitlab_standin.add_merge_request(project_id=7, iid=3, files={"a.py": ("", NEW)})
    user = {**gitlab_standin.bot_user, "id": 9100}
    reporter = gitlab_standin.add_token("glpat-reporter-role-0123456789", user=user, access_level=REPORTER)
    read_only = gitlab_standin.add_token("glpat-read-api-scope-012345678", scopes=("read_api",))
    mr = _mr(gitlab_standin, reporter)
    d = mr.discussions.create({"body": "a thread"})  # Reporter may comment
    with pytest.raises(gitlab.GitlabUpdateError) as refused:
        d.resolved = True
        d.save()
    assert refused.value.response_code == 403  # resolving needs Developer (or the MR's author)
    client = gitlab.Gitlab(gitlab_standin.url, private_token=reporter, timeout=5)
    with pytest.raises(gitlab.GitlabCreateError) as e:
        client.projects.get(7, lazy=True).commits.get("abc1234", lazy=True).statuses.create({"state": "success"})
    assert e.value.response_code == 403  # so does a commit status
    member = client.http_get(f"/projects/7/members/all/{user['id']}")
    assert isinstance(member, dict) and member["access_level"] == REPORTER
    with pytest.raises(gitlab.GitlabCreateError) as e:
        _mr(gitlab_standin, read_only).notes.create({"body": "hi"})
    assert e.value.response_code == 403 and "insufficient_scope" in str(e.value.error_message)


def test_standin_note_length_and_comment_limits(gitlab_standin: GitLabStandIn) -> None:
    from tests.support.gitlab_standin import NOTES_LIMIT_400, TOO_LONG_400

    m = gitlab_standin.add_merge_request(project_id=7, iid=3, files={"a.py": ("", NEW)})
    mr = _mr(gitlab_standin)
    d = mr.discussions.create({"body": "thread"})
    for create in (mr.notes.create, mr.discussions.create, d.notes.create):
        with pytest.raises(gitlab.GitlabCreateError) as e:
            create({"body": "x" * 1_000_001})
        assert e.value.response_code == 400 and e.value.error_message == TOO_LONG_400
    gitlab_standin.notes_limit = 3
    gitlab_standin.add_system_notes(m, 2)
    with pytest.raises(gitlab.GitlabCreateError) as e:
        d.notes.create({"body": "one more"})
    assert e.value.error_message == NOTES_LIMIT_400
    note = m.notes()[0]
    updated = gitlab_standin.merge_requests[(7, 3)].find_note(note["id"])
    assert updated is not None
    mr.notes.update(note["id"], {"body": "edits are not new comments"})  # allowed at the limit


def test_standin_deletes_notes_and_runs_triggers(gitlab_standin: GitLabStandIn) -> None:
    m = gitlab_standin.add_merge_request(project_id=7, iid=3, files={"a.py": ("", NEW)})
    mr = _mr(gitlab_standin)
    seen: list[int] = []
    gitlab_standin.on("versions_list", lambda: seen.append(len(m.versions)))
    note = mr.notes.create({"body": "to delete"})
    mr.notes.delete(note.id)
    assert gitlab_standin.merge_requests[(7, 3)].notes() == []
    with pytest.raises(gitlab.GitlabDeleteError) as e:
        mr.notes.delete(note.id)
    assert e.value.response_code == 404
    mr.diffs.list(get_all=True)
    mr.diffs.list(get_all=True)
    assert seen == [1]  # once, by default
