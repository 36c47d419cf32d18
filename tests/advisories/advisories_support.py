"""Helpers for the advisories tests: the real PyPA advisories (examples/advisories) plus the
hand-written edge cases (tests/data/advisories/edge), built into a real database and served
by the real server on loopback.

A plain module, not a conftest.py: a second ``conftest`` module would replace
``sys.modules["conftest"]`` and break other areas' ``from conftest import ...``.
"""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from secscan.advisories import service, sources, store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "advisories"
DATA = ROOT / "tests" / "data" / "advisories"


EDGE = DATA / "edge"
MALFORMED = DATA / "malformed"


def make_combined_source(root: Path) -> Path:
    """The PyPA fixtures plus the edge cases, in one source folder under ``root``."""
    shutil.copytree(EXAMPLES / "pypa", root / "pypa")
    shutil.copytree(EDGE, root / "edge")
    return root


def make_combined_db(root: Path) -> Path:
    db = root / "advisories.sqlite"
    store.build(db, sources.load(make_combined_source(root / "src")), source="combined")
    return db


def serve_combined(root: Path) -> Iterator[service.AdvisoryService]:
    """For a module-scoped fixture: build the combined database and serve it."""
    with service.start(make_combined_db(root)) as svc:
        yield svc


def post(url: str, body: Any) -> tuple[int, Any, dict[str, str]]:
    """POST JSON, return (status, decoded body, headers); HTTP errors are returned, not raised."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    return _open(req)


def get(url: str) -> tuple[int, Any, dict[str, str]]:
    return _open(urllib.request.Request(url))


def _open(req: urllib.request.Request) -> tuple[int, Any, dict[str, str]]:
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read()), dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read()), dict(e.headers)
