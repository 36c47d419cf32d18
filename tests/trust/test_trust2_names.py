"""A name does not make code harmless (issue trust-2, class 5).

A merge request hides a vulnerability in a folder every scanner skips (``build/``, ``dist/``,
``venv/``, ``node_modules/``, ``__pycache__/`` at any depth) or under a test path, and imports it
from production code; or commits a live provider key in a test file. Each hostile merge request
must fail the gate; each has a control that differs only by the hostile change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from secscan import files, pathmatch, reach, testcode
from tests.support.mergerequest import make_mr, scan_mr

VULN = "import subprocess\n\n\ndef refund(cmd):\n    return subprocess.call(cmd, shell=True)\n"
CLEAN_APP = "def main():\n    return 0\n"


@pytest.mark.parametrize("folder", ["build", "dist", "venv", "node_modules", "__pycache__"])
def test_code_in_an_excluded_folder_that_production_imports_is_scanned(folder: str, tmp_path: Path) -> None:
    app = f"from payments.{folder} import refunds\n\n\ndef main():\n    return refunds.refund('ls')\n"
    repo, base = make_mr(
        tmp_path,
        {"payments/__init__.py": "", "payments/app.py": CLEAN_APP},
        {"payments/app.py": app, f"payments/{folder}/refunds.py": VULN},
    )
    run = scan_mr(repo, base, "bandit")
    assert run.code == 1, run.result["verdict"]
    hits = [f for f in run.result["findings"] if f["rule_id"] == "B602"]
    assert hits and hits[0]["location"]["path"] == f"payments/{folder}/refunds.py"
    assert hits[0]["status"] == "new" and "test-code" not in hits[0].get("tags", [])


def test_an_excluded_folder_nobody_imports_stays_excluded(tmp_path: Path) -> None:
    # The control of the test above: the same vulnerable file, not imported, is build output.
    repo, base = make_mr(
        tmp_path,
        {"payments/__init__.py": "", "payments/app.py": CLEAN_APP},
        {"payments/build/refunds.py": VULN},
    )
    run = scan_mr(repo, base, "bandit")
    assert "B602" not in run.new_rules()
    assert run.code == 0, run.result["verdict"]


@pytest.mark.parametrize(
    "hidden",
    [
        "payments/tests/helpers.py",
        "payments/testing/charge.py",
        "payments/test_refunds.py",
        "payments/refunds_test.py",
        "payments/conftest.py",
    ],
)
def test_a_test_path_module_that_production_imports_is_production_code(hidden: str, tmp_path: Path) -> None:
    module = hidden.removesuffix(".py").replace("/", ".")
    app = f"import {module}\n\n\ndef main():\n    return {module}.refund('ls')\n"
    package_inits = {f"{'/'.join(hidden.split('/')[:n])}/__init__.py": "" for n in range(1, hidden.count("/") + 1)}
    repo, base = make_mr(
        tmp_path,
        {"payments/__init__.py": "", "payments/app.py": CLEAN_APP},
        {**package_inits, "payments/app.py": app, hidden: VULN},
    )
    run = scan_mr(repo, base, "bandit")
    hit = next(f for f in run.result["findings"] if f["rule_id"] == "B602")
    assert hit["location"]["path"] == hidden
    assert "test-code" not in hit.get("tags", []), hit.get("tags", [])
    assert run.code == 1, run.result["verdict"]


def test_a_test_module_that_only_tests_import_stays_test_code(tmp_path: Path) -> None:
    # Control: the same vulnerable helper, imported by a test only, does not block.
    repo, base = make_mr(
        tmp_path,
        {"payments/__init__.py": "", "payments/app.py": CLEAN_APP},
        {
            "payments/tests/__init__.py": "",
            "payments/tests/helpers.py": VULN,
            "payments/tests/test_app.py": (
                "from payments.tests import helpers\n\n\ndef test_x():\n    helpers.refund('ls')\n"
            ),
        },
    )
    # Reported as test code when test code gets every rule; not even scanned for it by default
    # (no bandit rule can block there), with the same verdict.
    run = scan_mr(repo, base, "bandit", extra=("--scan-all-test-code",))
    hit = next(f for f in run.result["findings"] if f["rule_id"] == "B602")
    assert "test-code" in hit.get("tags", [])
    assert run.code == 0, run.result["verdict"]
    default = scan_mr(repo, base, "bandit")
    assert not any(f["rule_id"] == "B602" for f in default.result["findings"])
    assert default.code == 0, default.result["verdict"]


# A Stripe-shaped live key, built from parts so no scanner flags this test file itself.
LIVE_KEY = "sk_" + "live_" + "51HbQx7Zk2LmNpQrStUvWxYz"


@pytest.mark.parametrize("where", ["tests/test_payments.py", "payments/settings.py"])
def test_a_live_provider_key_blocks_wherever_it_is(where: str, tmp_path: Path) -> None:
    repo, base = make_mr(
        tmp_path,
        {"payments/__init__.py": "", "payments/app.py": CLEAN_APP},
        {where: f'STRIPE_KEY = "{LIVE_KEY}"\n'},
    )
    run = scan_mr(repo, base, "detect-secrets")
    live = [f for f in run.result["findings"] if f["kind"] == "secret" and f["status"] == "new"]
    assert live, run.result["findings"]
    assert all("test-code" not in f.get("tags", []) for f in live)
    assert run.code == 1, run.result["verdict"]
    assert LIVE_KEY not in run.stdout + run.stderr


def test_javascript_requires_reach_excluded_code(tmp_path: Path) -> None:
    (tmp_path / "src" / "build").mkdir(parents=True)
    (tmp_path / "src" / "app.js").write_text("const pay = require('./build/pay');\nimport x from \"../lib/x.js\";\n")
    (tmp_path / "src" / "build" / "pay.js").write_text("module.exports = 1;\n")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "x.ts").write_text("export default 1;\n")
    listing = files.Selection().listing(tmp_path)
    assert "src/build/pay.js" in listing.files and listing.imported == ("src/build/pay.js",)


def test_python_imports_are_found_in_every_form() -> None:
    tree = {
        "pkg/__init__.py": "",
        "pkg/app.py": (
            "import os, pkg.build.a as a\n"
            "from .build import b\n"
            "from .build.c import thing\n"
            "from pkg.tests import (\n    helpers,\n    other as o,\n)\n"
            "from . import d\n"
        ),
        "pkg/build/a.py": "from ..tests import deep\n",
        "pkg/build/b.py": "",
        "pkg/build/c.py": "",
        "pkg/tests/helpers.py": "",
        "pkg/tests/other.py": "",
        "pkg/tests/deep.py": "",
        "pkg/tests/unused.py": "",
        "pkg/d.py": "",
    }
    got = reach.imported(
        ["pkg/app.py"],
        tree.get,
        wanted=lambda p: "/build/" in p or "/tests/" in p,
        exists=tree.__contains__,
    )
    assert got == {
        "pkg/build/a.py",
        "pkg/build/b.py",
        "pkg/build/c.py",
        "pkg/tests/helpers.py",
        "pkg/tests/other.py",
        "pkg/tests/deep.py",
    }


def test_a_module_name_outside_the_tree_reaches_nothing() -> None:
    tree = {"app.js": "require('../../etc/passwd'); require('lodash');", "node_modules/lodash/index.js": ""}
    got = reach.imported(["app.js"], tree.get, wanted=lambda p: True, exists=tree.__contains__)
    assert got == frozenset()


def test_test_path_classification_follows_production_imports() -> None:
    texts = {"app.py": "from tests import fixtures\n", "tests/fixtures.py": "", "tests/test_a.py": "import app\n"}
    got = testcode.production_imported(texts, testcode.DEFAULT_TEST_PATHS, texts.get)
    assert got == {"tests/fixtures.py"}
    assert pathmatch.excludes().matches("payments/build/refunds.py")  # still excluded by name alone
