"""``--dist loadgroup`` that groups again: every test of an ``xdist_group`` on one worker.

pytest-xdist (3.8) tells its scheduler a test's group by appending ``@group`` to the node id in
the worker, through ``item._nodeid``. pytest 9 keeps the node id elsewhere (``Node._id``), so the
suffix is lost, every test is scheduled on its own, and what a group shares is built once per
worker: two dockerd engines with the stand-in ZAP image, two PostgreSQL servers, two Chromiums,
the gitlab-ci-local world (minutes) and the example app's shared scan, twice. This hook sets the
suffix where pytest 9 reads it, after xdist's own hook, and leaves a node id xdist could already
suffix (an older pytest) as it is.

The order needs nothing: the scheduler hands out its units largest first (xdist's loadscope
reorder, on by default), so the groups start before the single tests.
"""

from __future__ import annotations

import pytest
from _pytest.nodeid import coerce_node_id  # the node id's own type since pytest 9


def _group(item: pytest.Item) -> str | None:
    names = {
        str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
        for mark in item.iter_markers("xdist_group")
    }
    return "_".join(sorted(names)) if names else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):  # set in the workers of --dist loadgroup
        return
    for item in items:
        group = _group(item)
        if group is None or item.nodeid.endswith(f"@{group}"):
            continue
        item._id = coerce_node_id(f"{item.nodeid}@{group}")  # what xdist sets as item._nodeid
