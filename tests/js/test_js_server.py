"""The advisory server answers npm queries (name + ecosystem, and purls with scopes) from the
same store the lockfile audit reads, next to PyPI ones."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from secscan.advisories import service
from tests.advisories.advisories_support import EXAMPLES, post
from tests.conftest import ROOT

NPM_ADVISORIES = ROOT / "tests" / "data" / "npm" / "advisories"


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[service.AdvisoryService]:
    src = tmp_path_factory.mktemp("mixed")
    shutil.copytree(EXAMPLES / "pypa", src / "pypa")
    shutil.copytree(NPM_ADVISORIES, src / "npm")
    with service.start(Path(src)) as running:
        yield running


def ids(svc: service.AdvisoryService, body: dict[str, object]) -> set[str]:
    status, doc, _ = post(svc.url, body)
    assert status == 200, doc
    return {v["id"] for v in doc.get("vulns", [])}


def test_npm_queries_by_name_and_purl(svc: service.AdvisoryService) -> None:
    express = ids(svc, {"package": {"name": "express", "ecosystem": "npm"}, "version": "4.12.4"})
    assert express == {"GHSA-rv95-896h-c2vc", "GHSA-qw6h-vgh9-j6wx"}
    assert ids(svc, {"package": {"name": "express", "ecosystem": "npm"}, "version": "4.20.0"}) == set()
    assert ids(svc, {"package": {"purl": "pkg:npm/express@4.12.4"}}) == express
    scoped = ids(svc, {"package": {"purl": "pkg:npm/%40babel/traverse@7.23.0"}})
    assert scoped == {"GHSA-67hx-6x53-jw92"}
    # The same name in another ecosystem is another package.
    assert ids(svc, {"package": {"name": "express", "ecosystem": "PyPI"}, "version": "4.12.4"}) == set()


def test_pypi_queries_are_unchanged(svc: service.AdvisoryService) -> None:
    assert "PYSEC-2023-74" in ids(svc, {"package": {"name": "requests", "ecosystem": "PyPI"}, "version": "2.30.0"})
    assert "PYSEC-2023-74" in ids(svc, {"package": {"name": "requests"}, "version": "2.30.0"})
    assert svc.info.packages > 9  # PyPI and npm packages counted together
