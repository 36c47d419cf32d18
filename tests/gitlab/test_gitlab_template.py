"""The CI template and component serialize publishing per merge request (issue 15)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [
    ROOT / "templates" / "gitlab" / "secscan.gitlab-ci.yml",
    ROOT / "templates" / "secscan" / "template.yml",
]


class _Loader(yaml.SafeLoader):
    """GitLab's ``!reference [job, key]`` tag, kept as the list it is."""


_Loader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))  # type: ignore[arg-type]


def _jobs(path: Path) -> dict[str, dict[str, Any]]:
    docs = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader))
    jobs = docs[-1]  # the component has its spec first
    assert isinstance(jobs, dict)
    return {k: v for k, v in jobs.items() if isinstance(v, dict)}


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_the_publishing_job_has_one_resource_group_per_merge_request(path: Path) -> None:
    jobs = _jobs(path)
    publishing = [name for name, job in jobs.items() if "secscan publish" in "\n".join(map(str, job.get("script", [])))]
    assert publishing == ["secscan"]
    group = str(jobs["secscan"].get("resource_group"))
    assert "CI_MERGE_REQUEST_IID" in group
    # GitLab: letters, digits, - _ / $ { } . and spaces; not starting or ending with "/"
    assert all(ch.isalnum() or ch in "-_/${}. " for ch in group) and not group.startswith("/")
    # and no scanner job waits on it (they run in parallel)
    assert [n for n, j in jobs.items() if "resource_group" in j] == ["secscan"]
