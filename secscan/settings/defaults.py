"""Defaults and facts about setting values that the layers above share (test paths, which
semgrep rule sources need the network): here, at the bottom, so settings and scanners read them
without importing the modules that apply them."""

from __future__ import annotations

DEFAULT_TEST_PATHS: tuple[str, ...] = (
    "tests/",
    "test/",
    "testing/",
    "test_*.py",
    "*_test.py",
    "conftest.py",
    # JavaScript and TypeScript (issue 28): Jest/Mocha/Vitest/Jasmine file names ([jt] is an
    # fnmatch character class: .js or .ts), Jest's folder, Cypress and end-to-end suites.
    "*.spec.[jt]s",
    "*.spec.[jt]sx",
    "*.spec.[cm]js",
    "*.test.[jt]s",
    "*.test.[jt]sx",
    "*.test.[cm]js",
    "__tests__/",
    "cypress/",
    "e2e/",
)
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


def is_remote_semgrep_config(config: str) -> bool:
    """Registry/remote semgrep configs (``p/ci``, ``r/...``, ``auto``, URLs) need the network."""
    return config == "auto" or config.startswith(("p/", "r/", "s/", "http://", "https://", "supply-chain"))
