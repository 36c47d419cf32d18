"""The merge request's history is read as text whatever its .gitattributes say (issue trust-2).

A key pushed in one commit and removed in the next is leaked. A merge request that also adds
``* -diff`` (or a textconv driver) to ``.gitattributes`` must not turn its history into "binary
files differ" lines that the secret scan skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.mergerequest import git, job_env, make_mr, scan_mr

LIVE_KEY = "sk_" + "live_" + "51HbQx7Zk2LmNpQrStUvWxYz"  # built from parts: this file holds no key


@pytest.mark.parametrize("attributes", [None, "* -diff\n", "*.py diff=hide\n", "*.py binary\n"])
def test_a_key_removed_again_is_found_in_the_history(attributes: str | None, tmp_path: Path) -> None:
    head: dict[str, str | bytes | None] = {"payments/settings.py": f'STRIPE = "{LIVE_KEY}"\n'}
    if attributes is not None:
        head[".gitattributes"] = attributes
    repo, base = make_mr(tmp_path, {"payments/settings.py": "STRIPE = None\n"}, head)
    if attributes is not None and "diff=hide" in attributes:
        git(repo, "config", "diff.hide.textconv", "true")  # a textconv that prints nothing
    (repo / "payments" / "settings.py").write_text('import os\nSTRIPE = os.environ["STRIPE"]\n')
    git(repo, "commit", "-qam", "read the key from the environment")
    run = scan_mr(repo, base, "detect-secrets", env=job_env(base))
    found = [f for f in run.result["findings"] if f["kind"] == "secret" and f["status"] == "new"]
    assert found and found[0]["location"].get("commit"), run.result["findings"]
    assert run.code == 1, run.result["verdict"]
    assert not any("not scanned" in w for w in run.result.get("warnings", [])), run.result["warnings"]
