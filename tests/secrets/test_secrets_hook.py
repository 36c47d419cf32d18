"""The pre-push hook scans every pushed commit for secrets: a key committed and removed again
before the push still blocks it (real git, a local bare remote, the installed hook)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import VENV_BIN, require_tool
from tests.secrets.fakes import provider_secrets


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_", "GIT_"))}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "-c", "user.email=dev@example.com", "-c", "user.name=Dev", *args],
        cwd=cwd,
        check=check,
        capture_output=True,
        text=True,
        env=_env(),
    )


def test_a_key_added_and_removed_before_the_push_blocks_it(tmp_path: Path) -> None:
    require_tool("git")
    require_tool("detect-secrets")
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(remote))
    work = tmp_path / "work"
    git(tmp_path, "init", "-q", "-b", "main", str(work))
    (work / "app.py").write_text("def pay():\n    return 1\n")
    (work / ".secscan.toml").write_text('only = ["detect-secrets"]\n')
    git(work, "add", ".")
    git(work, "commit", "-qm", "init")
    git(work, "remote", "add", "origin", str(remote))
    git(work, "push", "-q", "origin", "main")
    git(work, "remote", "set-head", "origin", "main")
    git(work, "checkout", "-qb", "feature")
    hook = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "secscan", "hook", "install"], cwd=work, capture_output=True, env=_env()
    )
    assert hook.returncode == 0, hook.stderr
    key = provider_secrets(seed=23)["adyen"]
    (work / "pay.py").write_text(f'ADYEN_API_KEY = "{key}"\n')
    git(work, "add", "pay.py")
    git(work, "commit", "-qm", "adyen")
    added = git(work, "rev-parse", "HEAD").stdout.strip()
    (work / "pay.py").write_text('import os\nADYEN_API_KEY = os.environ["ADYEN_API_KEY"]\n')
    git(work, "commit", "-qam", "read the key from the environment")
    pushed = git(work, "push", "-q", "origin", "feature", check=False)
    assert pushed.returncode != 0
    assert "push blocked for refs/heads/feature: gate failed" in pushed.stderr
    head = git(work, "rev-parse", "HEAD").stdout.strip()
    result = json.loads((work / ".git" / "secscan" / "pre-push" / head[:12] / "secscan.json").read_text())
    found = [(f["location"]["path"], f["location"].get("commit"), f["status"]) for f in result["findings"]]
    assert found == [("pay.py", added, "new")]
    assert key[10:30] not in json.dumps(result)
