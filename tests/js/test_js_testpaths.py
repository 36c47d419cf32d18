"""JavaScript and TypeScript test conventions are test code by default (issue 28)."""

from __future__ import annotations

import pytest

from secscan import testcode


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src/app/basket/basket.component.spec.ts", True),
        ("frontend/src/app/app.component.spec.tsx", True),
        ("lib/router.test.js", True),
        ("lib/router.test.mjs", True),
        ("src/__tests__/login.js", True),
        ("cypress/integration/login.ts", True),
        ("test/e2e/basket.ts", True),
        ("e2e/app.e2e-spec.ts", True),
        # production names that only look alike
        ("lib/spec.js", False),
        ("lib/test-utils.js", False),
        ("src/contest.ts", False),
        ("src/app/spec-helper.service.ts", False),
        ("routes/latest.js", False),
        ("lib/testing.js", False),
    ],
)
def test_javascript_test_paths(path: str, expected: bool) -> None:
    assert testcode.is_test_path(path, testcode.DEFAULT_TEST_PATHS) is expected


def test_python_defaults_kept() -> None:
    assert testcode.DEFAULT_TEST_PATHS[:6] == ("tests/", "test/", "testing/", "test_*.py", "*_test.py", "conftest.py")
