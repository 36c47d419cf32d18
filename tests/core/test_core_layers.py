"""Layers with arrows one way (issue core-3): the import-linter contract (.importlinter) holds,
and `secscan scan --only bandit` loads no module of a backend it does not use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_tool
from tests.support.cli import shell_env

UNUSED_BY_BANDIT = ("secscan.zap", "secscan.gitlab", "secscan.advisories", "secscan.aggregate")

# Runs the real entry point in a fresh interpreter and prints the secscan modules it loaded.
PROBE = """
import json, sys
from secscan.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
sys.__stdout__.write("\\nMODULES " + json.dumps(sorted(m for m in sys.modules if m.startswith("secscan"))))
"""


def _loaded(*argv: str, cwd: Path) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *argv],
        cwd=cwd,
        env=shell_env(clean=True, PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES "))
    return list(json.loads(line.removeprefix("MODULES ")))


def _backends(modules: list[str]) -> list[str]:
    return [m for m in modules if m.startswith(UNUSED_BY_BANDIT)]


def test_the_layers_contract_holds() -> None:
    # import-linter comes with the dev extra (pyproject.toml); `make lint` runs it too.
    pytest.importorskip("importlinter")
    proc = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0 and "1 kept, 0 broken" in proc.stdout, proc.stdout[-4000:]


def test_scan_help_loads_no_backend(tmp_path: Path) -> None:
    assert _backends(_loaded("scan", "--only", "bandit", "--help", cwd=tmp_path)) == []


def test_a_bandit_scan_loads_no_backend(tmp_path: Path) -> None:
    require_tool("bandit")
    (tmp_path / "app.py").write_text("import os\n")
    argv = ("scan", ".", "--only", "bandit", "--no-progress", "--no-cache", "-o", "out")
    assert _backends(_loaded(*argv, cwd=tmp_path)) == []


def test_the_registry_names_its_scanners_without_importing_them() -> None:
    from secscan.scanners import registry

    # The names the registry lists before loading anything are the loaded classes' own names.
    assert registry.names()[: len(registry._BUILTIN)] == tuple(registry._BUILTIN)
    assert [c.name for c in registry.all_scanners()][: len(registry._BUILTIN)] == list(registry._BUILTIN)


# ------------------------------------------------------------------ local imports, each with its reason

# A function-local import is allowed where start-up time needs it (issue core-3), and here is why,
# once per module it imports: none of these loads unless the run uses it.
LAZY_REASONS = {
    "docker": "the Docker SDK loads only when ZAP runs",
    "gitlab": "python-gitlab loads only to publish or to read a group's results",
    "requests": "HTTP loads only to publish, aggregate or fetch advisories",
    "rich": "rich loads only when a table or progress is drawn",
    "yaml": "PyYAML loads only for semgrep rules, pnpm lockfiles and CI files",
    "platformdirs": "the per-user folders are looked up only when a cache or store is used",
    "packaging": "version parsing loads only for dependency findings",
    "pathspec": "gitignore-style matching loads only when a pattern is matched",
    "yarnlock": "the yarn.lock parser loads only for yarn lockfiles",
    "tomlkit": "the comment-keeping TOML writer loads only for `secscan suppress`",
    "psycopg": "the PostgreSQL driver loads only with a postgresql:// history",
    "secscan.aggregate": "the security team's tools (history, dashboard) never load in a scan",
    "secscan.audit": "the audit trail loads only when an entry is written or checked",
    "secscan.zap": "ZAP's settings and runners load only when ZAP runs",
    "secscan.gitlab": "publishing loads only with --publish",
    "secscan.advisories": "the advisory store loads only when a dependency audit runs",
    "secscan.importers": "importers load only for `secscan import`",
    "secscan.reporters": "each reporter loads only when its format is written",
    "secscan.scanners": "a scanner loads only when it runs (the registry names them without importing)",
    "secscan.triage": "triage's inputs (baseline, diff, suppressions) load only when they are given",
    "secscan.hook": "the pre-push hook loads only for `secscan hook`",
    "secscan.settings.docs": "help texts are generated only for --help and the README check",
    "secscan.secrets_history": "the history walk loads only when a diff base is scanned for secrets",
    "secscan.reach": "import reachability loads only when test code is classified",
}
# Commands import what they run when they run: `secscan --help` and the other commands do not pay.
LAZY_FOLDERS = ("secscan/commands/", "secscan/cli.py")


def _local_imports(path: Path) -> list[tuple[int, str, str]]:
    """(line, imported module, the line and the one above) of each import inside a function,
    outside ``if TYPE_CHECKING:``."""
    import ast

    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    tree = ast.parse(text)
    annotations = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for n in ast.walk(node):
            if isinstance(n, ast.Import | ast.ImportFrom) and id(n) not in annotations:
                module = n.module if isinstance(n, ast.ImportFrom) else n.names[0].name
                if module == "secscan" and isinstance(n, ast.ImportFrom):
                    module = f"secscan.{n.names[0].name}"
                out.append((n.lineno, module or "", lines[n.lineno - 1] + "\n" + lines[n.lineno - 2]))
    return sorted(set(out))


def test_every_local_import_has_its_reason() -> None:
    """Outside the commands, a function-local import names a module whose reason is above, or
    says its own in a comment on its line or the line above (a cycle is never a reason: the
    layers contract forbids the imports that would make one)."""
    unexplained = []
    for path in sorted((ROOT / "secscan").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(LAZY_FOLDERS):
            continue
        for line, module, text in _local_imports(path):
            explained = any(module == m or module.startswith(m + ".") for m in LAZY_REASONS)
            if not explained and "#" not in text:
                unexplained.append(f"{rel}:{line} {module}")
    assert unexplained == []


def test_the_local_import_check_finds_an_unexplained_import(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import os\n\n"
        "def f():\n    if TYPE_CHECKING:\n        import re\n    import json\n    import yaml  # why\n",
        encoding="utf-8",
    )
    assert [m for _line, m, _text in _local_imports(sample)] == ["json", "yaml"]
