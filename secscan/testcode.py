"""Test code is test code: which findings are in test files, and which rules mean nothing there.

A real project's tests are most of its findings (Flask 3.0.3: 976 of 1,004, nearly all
``assert``): reporting them like production code drowns what matters. Findings in files matching
the ``test_paths`` globs get the :data:`TAG` tag (the policy does not block on them unless it says
so, see :mod:`secscan.policy`); findings of the ``production_only_rules`` there are dropped, since
``assert`` in a test or ``random`` in a fixture is how tests are written, not a weakness.

Two things a path cannot decide (issue trust-2): a test-path module that production code imports
is production code (:func:`production_imported`, through :mod:`secscan.reach`), and a live
credential of a payment or cloud provider (:data:`LIVE_CREDENTIAL`) blocks wherever it is.

Pure: paths, globs and file texts in, findings out.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase

from secscan.models import Finding, Kind, NarrowedTestCode
from secscan.settings.defaults import DEFAULT_PRODUCTION_ONLY_RULES, DEFAULT_TEST_PATHS

__all__ = ["DEFAULT_PRODUCTION_ONLY_RULES", "DEFAULT_TEST_PATHS"]  # where the pipeline reads them

TAG = "test-code"
LIVE_CREDENTIAL = "live-credential"
"""Tag of a secret in a provider's live format (``sk_live_``, ``AKIA``...): never test code."""
LIVE_RULES: tuple[str, ...] = (
    "payment.stripe-live-secret-key",
    "payment.braintree-private-key",
    "payment.plaid-secret",
    "payment.js-stripe-live-secret-key",
    "payment.js-braintree-private-key",
    "payment.js-plaid-secret",
)
"""secscan's semgrep rules (Python, and JavaScript/TypeScript) that match only a provider's live
(production) key formats (tests/cache/test_selection.py checks the rule files name no other)."""


def is_live_credential(f: Finding) -> bool:
    """A provider's live key: blocks wherever it is."""
    if LIVE_CREDENTIAL in f.tags:
        return True
    ids = (f.rule_id, *(s.rule_id for s in f.sources))
    return any(i.endswith(LIVE_RULES) for i in ids)


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


def rule_ran(test_code: NarrowedTestCode | None, *, scanner: str, rule_id: str, path: str | None) -> bool:
    """Whether a run that read test code as ``test_code`` ran ``scanner``'s ``rule_id`` on ``path``:
    always outside test code (and when it read test code with every rule); in test code when the
    scanner ran every rule there or ran this one (a reported id may carry the folder prefix
    semgrep adds). What it did not run there, it cannot say is fixed (issue 31)."""
    if test_code is None or not path:
        return True
    ran = test_code.rules_of(scanner)
    if ran is None or path in test_code.production or not _is_test_cached(path, test_code.test_paths):
        return True
    return any(rule_id == r or rule_id.endswith("." + r) for r in ran)


@functools.lru_cache(maxsize=1 << 16)
def _is_test_cached(path: str, globs: tuple[str, ...]) -> bool:
    """:func:`is_test_path` for the history, which asks about the same few paths at every run."""
    return is_test_path(path, globs)


def production_imported(
    files: Iterable[str], globs: Sequence[str], read: Callable[[str], str | None]
) -> frozenset[str]:
    """The test-path files among ``files`` that the others (production code) import."""
    from secscan import reach  # a leaf of pure functions, loaded by the runs that classify

    listed = tuple(files)
    tests = frozenset(p for p in listed if is_test_path(p, globs))
    if not tests:
        return frozenset()
    production = [p for p in listed if p not in tests]
    return reach.imported(production, read, wanted=tests.__contains__, exists=tests.__contains__)


def classify(
    findings: Iterable[Finding],
    *,
    globs: Sequence[str],
    production_only: Iterable[str],
    production: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Tag findings in test code and drop the production-only rules there. ``production``: test-path
    files that production imports (:func:`production_imported`); live credentials are never
    test code."""
    dropped = frozenset(production_only)
    out: list[Finding] = []
    for f in findings:
        path = f.location.path
        if not is_test_path(path, globs) or path in production or is_live_credential(f):
            out.append(f)
            continue
        if f.rule_id in dropped or any(s.rule_id in dropped for s in f.sources):
            continue
        out.append(f if TAG in f.tags else replace(f, tags=(*f.tags, TAG)))
    return out


class TestScope:
    """Which of a run's files are test code, and which finding kinds can block there (the policy's
    ``[block.test_code]``): what the scanners need to read in test code (issue speed-2). A
    test-path file that production imports is production code; which ones are is worked out the
    first time a test-path file is asked about (a change that touches no test file never pays
    for reading the tree). Thread-safe: the scanner threads share one scope."""

    def __init__(
        self,
        globs: Sequence[str],
        kinds: Iterable[Kind],
        files: Callable[[], Iterable[str]],
        read: Callable[[str], str | None],
    ) -> None:
        self.globs = tuple(globs)
        self.kinds: frozenset[Kind] = frozenset(kinds)
        """Kinds whose test-code threshold is set: their rules run in test code too."""
        self._files, self._read = files, read
        self._lock = threading.Lock()
        self._production: frozenset[str] | None = None

    def is_test(self, path: str) -> bool:
        """Test code by its path and not imported by production code."""
        if not is_test_path(path, self.globs):
            return False
        return path not in self._imported()

    def production(self) -> tuple[str, ...]:
        """The test-path files production code imports (they are scanned as production code)."""
        return tuple(sorted(self._imported()))

    def _imported(self) -> frozenset[str]:
        with self._lock:
            if self._production is None:
                self._production = production_imported(self._files(), self.globs, self._read)
            return self._production
