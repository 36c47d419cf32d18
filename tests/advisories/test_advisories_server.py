"""The OSV API on loopback: request shapes, errors, withdrawn records, aliases, service lifecycle."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from secscan.advisories import service
from secscan.advisories.server import MAX_BATCH, SNAPSHOT_HEADER
from secscan.errors import ConfigError
from tests.advisories.advisories_support import (
    EDGE,
    MALFORMED,
    get,
    make_combined_db,
    make_combined_source,
    post,
    serve_combined,
)

Post = Callable[..., Any]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[service.AdvisoryService]:
    yield from serve_combined(tmp_path_factory.mktemp("adv"))


@pytest.fixture
def edge_dir() -> Path:
    return EDGE


@pytest.fixture
def malformed_dir() -> Path:
    return MALFORMED


@pytest.fixture
def combined_source(tmp_path: Path) -> Path:
    return make_combined_source(tmp_path / "src")


@pytest.fixture
def combined_db(tmp_path: Path) -> Path:
    return make_combined_db(tmp_path / "db")


def test_query_by_name_returns_full_records(served: service.AdvisoryService) -> None:
    status, body, headers = post(served.url, {"package": {"name": "flask", "ecosystem": "PyPI"}, "version": "2.3.1"})
    assert status == 200
    assert headers[SNAPSHOT_HEADER] == served.snapshot
    (vuln,) = body["vulns"]
    assert vuln["id"] == "PYSEC-2023-62"
    assert vuln["aliases"] == ["CVE-2023-30861", "GHSA-m2qf-hxjv-5gpq"]  # as in the file
    assert vuln["affected"][0]["ranges"][1]["events"] == [
        {"introduced": "0"}, {"fixed": "2.2.5"}, {"introduced": "2.3.0"}, {"fixed": "2.3.2"},
    ]  # fmt: skip
    assert vuln["details"].startswith("Flask is a lightweight")


def test_nothing_affected_is_an_empty_object(served: service.AdvisoryService) -> None:
    """pip-audit treats a falsy body as "no vulnerabilities"; OSV answers {}."""
    for query in (
        {"package": {"name": "urllib3", "ecosystem": "PyPI"}, "version": "2.2.2"},
        {"package": {"name": "not-in-the-db", "ecosystem": "PyPI"}, "version": "1.0"},
        {"package": {"name": "flask", "ecosystem": "npm"}, "version": "0.1"},
        {"package": {"purl": "pkg:npm/flask@0.1"}},
    ):
        assert post(served.url, query)[:2] == (200, {})


def test_query_by_purl(served: service.AdvisoryService) -> None:
    _, by_purl, _ = post(served.url, {"package": {"purl": "pkg:pypi/PyYAML@5.3"}})
    _, by_name, _ = post(served.url, {"package": {"name": "pyyaml", "ecosystem": "PyPI"}, "version": "5.3"})
    assert [v["id"] for v in by_purl["vulns"]] == ["PYSEC-2020-96", "PYSEC-2021-142"]
    assert by_purl == by_name
    _, with_version_field, _ = post(served.url, {"package": {"purl": "pkg:pypi/pyyaml"}, "version": "5.3"})
    assert with_version_field == by_name


def test_query_without_version_lists_every_live_advisory(served: service.AdvisoryService) -> None:
    _, body, _ = post(served.url, {"package": {"name": "flask", "ecosystem": "PyPI"}})
    assert [v["id"] for v in body["vulns"]] == ["PYSEC-2018-66", "PYSEC-2019-179", "PYSEC-2023-62"]
    _, body, _ = post(served.url, {"package": {"name": "secscan-demo-b", "ecosystem": "PyPI"}})
    assert [v["id"] for v in body["vulns"]] == ["TEST-LIST-1"]  # the withdrawn one never matches


def test_querybatch_keeps_query_order_and_returns_ids_only(served: service.AdvisoryService) -> None:
    queries = [
        {"package": {"name": "urllib3", "ecosystem": "PyPI"}, "version": "2.2.2"},
        {"package": {"name": "requests", "ecosystem": "PyPI"}, "version": "2.19.1"},
        {"package": {"purl": "pkg:pypi/jinja2@2.10"}},
    ]
    status, body, _ = post(served.base_url + "/v1/querybatch", {"queries": queries})
    assert status == 200
    assert body["results"][0] == {}
    assert body["results"][1] == {
        "vulns": [
            {"id": "PYSEC-2018-28", "modified": "2021-06-16T00:03:24.800813Z"},
            {"id": "PYSEC-2023-74", "modified": "2023-06-05T01:13:00.534973Z"},
        ]
    }
    assert [v["id"] for v in body["results"][2]["vulns"]] == ["PYSEC-2019-217", "PYSEC-2021-66"]


def test_get_vuln_by_id_alias_and_withdrawn(served: service.AdvisoryService) -> None:
    status, rec, _ = get(served.base_url + "/v1/vulns/PYSEC-2023-192")
    assert status == 200
    assert rec["published"] == "2023-10-04T17:15:00Z"  # unquoted YAML timestamp, served as RFC 3339
    status, rec, _ = get(served.base_url + "/v1/vulns/CVE-2023-43804")
    assert (status, rec["id"]) == (200, "PYSEC-2023-192")
    status, rec, _ = get(served.base_url + "/v1/vulns/TEST-WITHDRAWN-1")
    assert (status, rec["withdrawn"]) == (200, "2024-03-04T09:00:00Z")
    status, err, _ = get(served.base_url + "/v1/vulns/PYSEC-1999-1")
    assert (status, err) == (404, {"code": 5, "message": "Bug not found."})


@pytest.mark.parametrize(
    ("path", "body", "status", "code", "fragment"),
    [
        ("/v1/query", b"{not json", 400, 3, "not valid JSON"),
        ("/v1/query", {"version": "1.0"}, 400, 3, "package is required"),
        ("/v1/query", {"commit": "abc"}, 400, 12, "commit"),
        ("/v1/query", {"package": {"purl": "pkg:pypi/flask@1.0"}, "version": "1.0"}, 400, 3, "PURL"),
        ("/v1/query", {"package": {"purl": "flask"}}, 400, 3, "invalid purl"),
        ("/v1/query", {"package": {"name": "flask", "purl": "pkg:pypi/flask"}}, 400, 3, "mutually exclusive"),
        ("/v1/query", {"package": {"name": "flask"}, "version": 1.0}, 400, 3, "string"),
        ("/v1/querybatch", {"queries": [{"package": {"name": "a"}}] * (MAX_BATCH + 1)}, 400, 3, "too many"),
        ("/v1/querybatch", {"queries": [{"package": {}}]}, 400, 3, "package.name"),
        ("/v1/nope", {}, 404, 5, "Not found"),
    ],
)
def test_bad_requests_get_osv_style_errors(  # noqa: PLR0917 - one parameter per table column
    served: service.AdvisoryService, path: str, body: Any, status: int, code: int, fragment: str
) -> None:
    got_status, err, _ = post(served.base_url + path, body)
    assert got_status == status
    assert err["code"] == code
    assert fragment in err["message"]


def test_oversized_and_unsized_bodies_are_refused(served: service.AdvisoryService) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    conn.putrequest("POST", "/v1/query")
    conn.putheader("Content-Length", str(64 * 1024 * 1024))
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 413
    assert resp.getheader("Connection") == "close"
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    conn.putrequest("POST", "/v1/query")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 411
    conn.close()


def test_keep_alive_serves_many_requests_on_one_connection(served: service.AdvisoryService) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=10)
    body = json.dumps({"package": {"name": "jinja2", "ecosystem": "PyPI"}, "version": "2.10"})
    for _ in range(20):
        conn.request("POST", "/v1/query", body=body, headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200
        assert len(json.loads(resp.read())["vulns"]) == 2
    conn.close()


def test_start_from_source_folder_and_from_database_agree(combined_source: Path, combined_db: Path) -> None:
    with service.start(combined_source) as from_source, service.start(combined_db) as from_db:
        assert from_source.snapshot == from_db.snapshot
        assert from_source.url.startswith("http://127.0.0.1:") and from_source.url.endswith("/v1/query")
        assert from_source.port != from_db.port
        tmp_db = from_source.store.path
        assert tmp_db.exists()
    # Stopped: the port refuses connections and the temporary database is gone.
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", from_source.port), timeout=2):
        pass
    assert not tmp_db.exists()
    assert combined_db.exists()  # a user's database is never removed


def test_start_reports_skipped_files(edge_dir: Path, malformed_dir: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(edge_dir, tmp_path / "src" / "edge")
    shutil.copytree(malformed_dir, tmp_path / "src" / "malformed")
    with service.start(tmp_path / "src") as svc:
        assert svc.info.skipped == 8
        assert svc.warnings == ("advisories: 8 malformed file(s) skipped at import",)


def test_start_errors_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        service.start(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no PyPI or npm advisories"):
        service.start(tmp_path / "empty")
    notes = tmp_path / "notes.txt"
    notes.write_text("hi")
    with pytest.raises(ConfigError, match="neither a folder"):
        service.start(notes)
