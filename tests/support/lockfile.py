"""secscan's own dependency lock (``requirements-lock.txt``): every package ``pip install -e
'.[dev]'`` installs, at the version installed here (the environment the suite runs in).

``python -m tests.support.lockfile > requirements-lock.txt`` regenerates it after a dependency
changes; tests/rules/test_rules_self_scan.py checks that it pins every dependency pyproject.toml
declares, within its range (secscan's pipeline audits the pins: an unpinned range is not audited).
"""

from __future__ import annotations

import importlib.metadata as md
import sys

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

HEADER = """\
# The versions secscan is built and tested with: every package of `pip install -e '.[dev]'`
# (runtime and dev dependencies, and theirs), pinned. `make` installs with
# `-c requirements-lock.txt`, and secscan's own pipeline audits these pins (pyproject.toml declares
# ranges, which pip-audit cannot audit as written: without this file they are "NOT audited" and
# the gate fails closed). Regenerate after changing a dependency:
# python -m tests.support.lockfile > requirements-lock.txt
"""
LEFT_OUT = frozenset({"secscan", "pip", "setuptools", "wheel"})
"""The project itself and the installer's own tools (pip upgrades itself in `make`)."""


def closure(root: str = "secscan", extras: tuple[str, ...] = ("dev",)) -> dict[str, str]:
    """Canonical name -> installed version of ``root[extras]`` and everything it requires."""
    seen: dict[str, tuple[str, frozenset[str]]] = {}
    todo = [(root, frozenset(extras))]
    while todo:
        name, wanted = todo.pop()
        dist = md.distribution(name)
        key = canonicalize_name(dist.metadata["Name"])
        before = seen.get(key)
        if before is not None and wanted <= before[1]:
            continue
        seen[key] = (dist.version, wanted | (before[1] if before else frozenset()))
        envs = [{"extra": e} for e in wanted] or [{"extra": ""}]
        for text in dist.requires or ():
            req = Requirement(text)
            if req.marker is None or any(req.marker.evaluate(env) for env in envs):
                todo.append((req.name, frozenset(req.extras)))
    return {k: v for k, (v, _) in sorted(seen.items()) if k not in LEFT_OUT}


def render(pins: dict[str, str]) -> str:
    return HEADER + "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))


if __name__ == "__main__":
    sys.stdout.write(render(closure()))
