"""Test code is test code: which findings are in test files, and which rules mean nothing there.

A real project's tests are most of its findings (Flask 3.0.3: 976 of 1,004, nearly all
``assert``): reporting them like production code drowns what matters. Findings in files matching
the ``test_paths`` globs get the :data:`TAG` tag (the policy does not block on them unless it says
so, see :mod:`secscan.policy`); findings of the ``production_only_rules`` there are dropped, since
``assert`` in a test or ``random`` in a fixture is how tests are written, not a weakness.

Pure: paths and globs in, findings out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase

from secscan.models import Finding

TAG = "test-code"

DEFAULT_TEST_PATHS: tuple[str, ...] = ("tests/", "test/", "testing/", "test_*.py", "*_test.py", "conftest.py")
"""``dir/``: a folder of that name at any depth; a pattern without ``/``: a file name; any other
pattern: matched against the whole repo-relative path."""

DEFAULT_PRODUCTION_ONLY_RULES: tuple[str, ...] = (
    "B101",  # assert_used: asserts are how tests check things
    "B311",  # random: test data, not security tokens
    "B108",  # hardcoded /tmp: fixtures
    "B404",  # import subprocess: tests drive the CLI
    "B603",  # subprocess without shell
    "B607",  # partial executable path
)
"""Rules that only mean something in production code (bandit ids or semgrep rule ids)."""


def is_test_path(path: str | None, globs: Sequence[str]) -> bool:
    """Whether a repo-relative POSIX path is test code by ``globs``."""
    if not path:
        return False
    parts = path.split("/")
    name = parts[-1]
    for glob in globs:
        if glob.endswith("/"):
            folder = glob.rstrip("/")
            if "/" in folder:
                if path.startswith(folder + "/") or fnmatchcase(path, folder + "/*"):
                    return True
            elif any(fnmatchcase(p, folder) for p in parts[:-1]):
                return True
        elif "/" in glob:
            if fnmatchcase(path, glob):
                return True
        elif fnmatchcase(name, glob):
            return True
    return False


def classify(findings: Iterable[Finding], *, globs: Sequence[str], production_only: Iterable[str]) -> list[Finding]:
    """Tag findings in test code and drop the production-only rules there."""
    dropped = frozenset(production_only)
    out: list[Finding] = []
    for f in findings:
        if not is_test_path(f.location.path, globs):
            out.append(f)
            continue
        if f.rule_id in dropped or any(s.rule_id in dropped for s in f.sources):
            continue
        out.append(f if TAG in f.tags else replace(f, tags=(*f.tags, TAG)))
    return out
