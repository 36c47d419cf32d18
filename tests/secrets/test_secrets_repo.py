"""detect-secrets for real, on real git repositories shaped like merge requests (issue 18).

Every secret is a fake built at test time (tests/secrets/fakes.py). The checks: each provider's
secret is found; a secret added and removed inside the merge request is still a finding, at the
commit that added it; a renamed file reports the commit that added the secret; a key planted in
a binary file is found by its format, and said to be read so; providers' documentation example
keys are not reported; bandit and detect-secrets on one line are one finding; and no secret value
appears in any output format.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from secscan.models import Kind, Status
from secscan.resultio import load
from tests.conftest import DATA, require_tool
from tests.secrets.fakes import private_key, provider_secrets, settings_file
from tests.support.cli import Run, secscan
from tests.support.mergerequest import commit, new_repo

# One worker for the module: under xdist each worker builds a module fixture of its own, and
# provider_scan is a real scan.
pytestmark = pytest.mark.xdist_group("secrets-repo")


def scan(repo: Path, out: Path, *args: str, env: dict[str, str] | None = None) -> Run:
    require_tool("detect-secrets")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SECSCAN_", "CI_"))}
    environ = {**base, "SEMGREP_ENABLE_VERSION_CHECK": "0", **(env or {})}
    return secscan("scan", str(repo), "--out", str(out), "--no-progress", *args, environ=environ)


def every_output_text(out: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(out.iterdir()) if p.is_file())


def secret_findings(out: Path) -> list[Any]:
    return [f for f in load(out / "secscan.json").findings if f.kind is Kind.SECRET]


@pytest.fixture(scope="module")
def provider_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], str, str]:
    """A merge request adding every provider's secret and a private key in one commit, a second
    commit removing the Stripe key again."""
    tmp = tmp_path_factory.mktemp("providers")
    repo, base = new_repo(tmp, {"README.md": "payments\n", "app.py": "def pay():\n    return 1\n"})
    secrets = provider_secrets(seed=7)
    added = commit(repo, {"payments/settings.py": settings_file(secrets), "deploy/id_rsa": private_key(7)}, "config")
    kept = settings_file(secrets).replace(f'STRIPE_API_KEY = "{secrets["stripe"]}"\n', 'STRIPE_API_KEY = ""\n')
    commit(repo, {"payments/settings.py": kept}, "remove the stripe key again")
    out = tmp / "out"
    res = scan(repo, out, "--only", "detect-secrets", "--diff-base", base, "--format", "all")
    assert res.returncode == 1, res.stdout + res.stderr
    return out, secrets, added, base


def test_every_provider_is_found(provider_scan: tuple[Path, dict[str, str], str, str]) -> None:
    out, _secrets, _added, _base = provider_scan
    findings = secret_findings(out)
    kinds = {s.severity_original for f in findings for s in f.sources}
    assert {
        "Stripe Access Key",
        "Stripe Restricted or Webhook Key",
        "AWS Access Key",
        "Square OAuth Secret",
        "JSON Web Token",
        "Braintree Credential",
        "Plaid Credential",
        "Adyen API Key",
        "PayPal Client Secret",
        "Private Key",
    } <= kinds
    by_line = {(f.location.path, f.location.start_line) for f in findings if f.location.commit is None}
    # Lines 2..11 of the settings file are still there; the private key's first line too.
    assert {("payments/settings.py", n) for n in range(2, 12)} <= by_line
    assert ("deploy/id_rsa", 1) in by_line


def test_a_secret_removed_inside_the_mr_is_reported_at_the_commit_that_added_it(
    provider_scan: tuple[Path, dict[str, str], str, str],
) -> None:
    out, _secrets, added, _base = provider_scan
    gone = [f for f in secret_findings(out) if f.location.commit is not None]
    assert [(f.location.path, f.location.start_line, f.location.commit) for f in gone] == [
        ("payments/settings.py", 1, added)
    ]
    assert gone[0].status is Status.NEW
    assert "Stripe Access Key" in {s.severity_original for s in gone[0].sources}
    # Secrets still in the tree carry the commit that added them as well.
    still = [f for f in secret_findings(out) if f.location.commit is None]
    assert still and all(f"commit:{added}" in f.tags for f in still)


def test_gitlab_secret_report_is_valid_and_carries_the_commit(
    provider_scan: tuple[Path, dict[str, str], str, str],
) -> None:
    import jsonschema  # type: ignore[import-untyped]

    out, _secrets, added, _base = provider_scan
    report = json.loads((out / "gl-secret-detection-report.json").read_text())
    schema = json.loads((DATA / "reporters" / "schemas" / "secret-detection-report-format.json").read_text())
    jsonschema.validate(report, schema)
    assert report["vulnerabilities"]
    assert {v["location"]["commit"]["sha"] for v in report["vulnerabilities"]} == {added}
    assert report["scan"]["scanner"]["id"] == "detect-secrets"


def test_no_secret_value_in_any_output(provider_scan: tuple[Path, dict[str, str], str, str]) -> None:
    out, secrets, _added, _base = provider_scan
    text = every_output_text(out)
    produced = {p.name for p in out.iterdir()}
    assert {"secscan.json", "secscan.sarif", "gl-secret-detection-report.json", "secscan-report.html"} <= produced
    assert {"secscan-summary.md", "secscan-junit.xml", "secscan.txt", "gl-code-quality-report.json"} <= produced
    for name, value in secrets.items():
        # Any 12-character piece of a secret would be a leak, not only the whole value.
        pieces = {value[i : i + 12] for i in range(4, len(value) - 12, 6)}
        leaked = [p for p in pieces if p in text]
        assert not leaked, f"{name} leaked: {leaked[:2]}"
    for line in private_key(7).splitlines()[1:-1]:
        assert line[:16] not in text
    # The fingerprint is a hash over the masked code: the same line with another secret value
    # has the same identity (so it cannot be used to test guesses of the value).
    findings = secret_findings(out)
    assert all(f.fingerprint.startswith("v1:") for f in findings)


def test_key_in_a_binary_file_is_found_and_renamed_file_keeps_the_adding_commit(tmp_path: Path) -> None:
    repo, base = new_repo(tmp_path, {"README.md": "x\n"})
    s = provider_secrets(seed=11)
    first = commit(repo, {"billing/keys.py": f'STRIPE_KEY = "{s["stripe"]}"\n'}, "add key")
    commit(repo, {"billing/keys.py": None, "billing/stripe_keys.py": f'STRIPE_KEY = "{s["stripe"]}"\n'}, "rename")
    blob = b"\x89PNG\r\n\x1a\n\x00\x00" + s["aws_key_id"].encode() + b"\x00\x01"
    commit(repo, {"static/logo.png": blob}, "logo")
    out = tmp_path / "out"
    res = scan(repo, out, "--only", "detect-secrets", "--diff-base", base)
    assert res.returncode == 1, res.stdout + res.stderr
    findings = secret_findings(out)
    stripe = [f for f in findings if "stripe-access-key" in {s.rule_id for s in f.sources}]
    assert [(f.location.path, f.location.commit) for f in stripe] == [("billing/stripe_keys.py", None)]
    assert f"commit:{first}" in stripe[0].tags
    # A binary file is read where a provider's key format could be (issue speed-2): an AWS key
    # planted in an image is found in the tree, once (not again from the history).
    logo = [f for f in findings if f.location.path == "static/logo.png"]
    assert [(f.severity_original, f.location.commit) for f in logo] == [("AWS Access Key", None)]
    warnings = load(out / "secscan.json").warnings
    # The history is read as text (issue trust-2): the logo is judged binary by its content, once.
    assert [w for w in warnings if "static/logo.png" in w] == [
        "detect-secrets: 1 file(s) with lines too long for configuration, or binary, read only where a provider's"
        " key format could be (e.g. static/logo.png)"
    ], warnings


def test_documentation_example_keys_and_test_noise_are_not_reported(tmp_path: Path) -> None:
    aws_doc = "AK" + "IAIOSFODNN7" + "EXAMPLE"
    aws_doc_secret = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCY" + "EXAMPLEKEY"
    stripe_doc = "sk_" + "test_" + "4eC39HqLyjWDarjtT1zdp7dc"
    docs = (
        "# Configure\n\n"
        f"    aws_access_key_id = {aws_doc}\n"
        f"    aws_secret_access_key = {aws_doc_secret}\n"
        f'    stripe.api_key = "{stripe_doc}"\n'
    )
    tests = 'def test_login():\n    password = "' + "Zq8" + 'vLp2Xw9Rt4Nm"\n    assert password\n'
    repo, _base = new_repo(
        tmp_path,
        {
            "docs/setup.md": docs,
            "app/aws.py": f'KEY = "{aws_doc}"\n',
            "tests/test_login.py": tests,
            "package-lock.json": '{"integrity": "sha512-' + "9f8e7d6c5b4a" * 6 + '"}\n',
        },
    )
    out = tmp_path / "out"
    res = scan(repo, out, "--only", "detect-secrets")
    assert res.returncode == 0, res.stdout + res.stderr
    assert secret_findings(out) == []
    warnings = "\n".join(load(out / "secscan.json").warnings)
    assert "documentation example key" in warnings
    assert "test data" in warnings


def test_bandit_and_detect_secrets_on_one_line_are_one_finding(tmp_path: Path) -> None:
    require_tool("bandit")
    password = "Zq8" + "vLp2Xw9Rt4NmKd7"
    repo, _base = new_repo(
        tmp_path, {"app/db.py": f'def connect():\n    password = "{password}"\n    return password\n'}
    )
    out = tmp_path / "out"
    res = scan(repo, out, "--only", "bandit,detect-secrets", "--format", "sarif")
    assert res.returncode in (0, 1), res.stdout + res.stderr
    on_line = [f for f in secret_findings(out) if f.location.start_line == 2]
    assert len(on_line) == 1
    assert {s.scanner for s in on_line[0].sources} == {"bandit", "detect-secrets"}
    text = every_output_text(out)
    assert password not in text and password[4:] not in text


def test_branch_pipeline_history_is_an_option(tmp_path: Path) -> None:
    repo, base = new_repo(tmp_path, {"README.md": "x\n"})
    s = provider_secrets(seed=13)
    commit(repo, {"conf.py": f'BT = "{s["braintree"]}"\n'}, "add")
    commit(repo, {"conf.py": "BT = None\n"}, "remove")
    plain = scan(repo, tmp_path / "plain", "--only", "detect-secrets")
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert secret_findings(tmp_path / "plain") == []
    hist = scan(repo, tmp_path / "hist", "--only", "detect-secrets", "--secrets-history", base)
    assert hist.returncode == 1, hist.stdout + hist.stderr
    assert [f.location.path for f in secret_findings(tmp_path / "hist")] == ["conf.py"]


def test_bad_history_ref_is_a_usage_error_before_any_scan(tmp_path: Path) -> None:
    repo, _base = new_repo(tmp_path, {"README.md": "x\n"})
    res = scan(repo, tmp_path / "out", "--only", "detect-secrets", "--secrets-history", "no-such-ref")
    assert res.returncode == 2
    assert res.stderr.strip().startswith("secscan: error:")
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out" / "secscan.json").exists()


def test_allowlist_pragma_and_a_baseline_in_the_tree_do_not_hide_a_secret(tmp_path: Path) -> None:
    import hashlib

    s = provider_secrets(seed=17)
    # The tree's own detect-secrets baseline says "audited, not a secret": never read.
    planted = {
        "version": "1.5.0",
        "plugins_used": [],
        "filters_used": [],
        "results": {
            "pay.py": [
                {
                    "type": "Stripe Access Key",
                    "filename": "pay.py",
                    "hashed_secret": hashlib.sha1(s["stripe"].encode()).hexdigest(),
                    "is_secret": False,
                    "line_number": 1,
                }
            ]
        },
    }
    repo, _base = new_repo(
        tmp_path,
        {
            "pay.py": f'KEY = "{s["stripe"]}"  # pragma: allowlist secret\n',
            ".secrets.baseline": json.dumps(planted),
        },
    )
    res = scan(repo, tmp_path / "out", "--only", "detect-secrets")
    assert res.returncode == 1, res.stdout + res.stderr
    found = secret_findings(tmp_path / "out")
    assert [f.location.path for f in found] == ["pay.py"]
    # The pragma is shown as an inline suppression, and the policy refuses it for a high finding.
    assert found[0].status is Status.SUPPRESSED and found[0].suppression is not None
    assert found[0].suppression.origin == "inline"


def test_import_of_a_detect_secrets_baseline(tmp_path: Path) -> None:
    require_tool("detect-secrets")
    s = provider_secrets(seed=19)
    root = tmp_path / "src"
    root.mkdir()
    (root / "pay.py").write_text(f'KEY = "{s["stripe"]}"\nOTHER = "{s["plaid"]}"\n')
    exe = require_tool("detect-secrets")
    baseline = subprocess.run(
        [exe, "-C", str(root), "scan", "-n", "--", str(root / "pay.py")],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    data = json.loads(baseline)
    # An audited baseline: the second entry was marked "not a secret" by a reviewer.
    for entry in data["results"]["pay.py"]:
        entry["is_secret"] = entry["line_number"] == 1
    (tmp_path / ".secrets.baseline").write_text(json.dumps(data))
    out = tmp_path / "imported.json"
    res = secscan(
        "import", "--tool", "detect-secrets", str(tmp_path / ".secrets.baseline"), "-o", str(out), "--root", str(root)
    )
    assert res.returncode in (0, 1), res.stdout + res.stderr
    findings = load(out).findings
    assert [(f.location.path, f.location.start_line) for f in findings] == [("pay.py", 1)]
    assert s["stripe"][8:] not in out.read_text()


def test_the_advice_fits_whether_the_commit_was_pushed(tmp_path: Path) -> None:
    """A key in a commit no remote branch holds (a local scan, the pre-push hook) has not left the
    machine: rewrite the history. Once the commit is pushed, it is leaked: rotate it. The finding
    shows the commit and the line there, not the line now at that number (issue 30)."""
    repo, base = new_repo(tmp_path, {"README.md": "payments\n", "app.py": "def pay():\n    return 1\n"})
    remote = tmp_path / "remote.git"
    git_cmd(tmp_path, "init", "-q", "--bare", str(remote))
    git_cmd(repo, "remote", "add", "origin", str(remote))
    git_cmd(repo, "push", "-q", "origin", "main")
    key = provider_secrets(seed=11)["stripe"]
    added = commit(repo, {"app.py": f'STRIPE_KEY = "{key}"\n\n\ndef pay():\n    return 1\n'}, "key")
    from_env = "import os\n\nSTRIPE_KEY = os.environ['STRIPE_KEY']\n\n\ndef pay():\n    return 1\n"
    commit(repo, {"app.py": from_env}, "env")
    no_ci = {"CI": "", "GITLAB_CI": ""}

    res = scan(repo, tmp_path / "local", "--only", "detect-secrets", "--diff-base", base, env=no_ci)
    assert res.returncode == 1, res.stdout + res.stderr
    (gone,) = [f for f in secret_findings(tmp_path / "local") if f.location.commit == added]
    assert (gone.location.path, gone.location.start_line) == ("app.py", 1)
    assert gone.location.snippet is not None and gone.location.snippet.startswith("STRIPE_KEY = ")
    assert "has not been pushed" in gone.message and "rotate" not in gone.message
    assert gone.fix is not None and "git rebase -i" in gone.fix
    assert added[:12] in res.stdout  # the terminal names the commit

    git_cmd(repo, "push", "-q", "origin", "HEAD:refs/heads/feature")
    git_cmd(repo, "fetch", "-q", "origin")
    res = scan(repo, tmp_path / "pushed", "--only", "detect-secrets", "--diff-base", base, env=no_ci)
    (gone,) = [f for f in secret_findings(tmp_path / "pushed") if f.location.commit == added]
    assert "rotate" in gone.message and "has not been pushed" not in gone.message


def git_cmd(cwd: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    subprocess.run(
        ["git", "-c", "user.email=dev@example.com", "-c", "user.name=Dev", *args],
        cwd=cwd, check=True, capture_output=True, env=env,
    )  # fmt: skip


def test_a_secret_from_an_earlier_commit_names_it_in_every_report(
    provider_scan: tuple[Path, dict[str, str], str, str],
) -> None:
    out, _secrets, added, _base = provider_scan
    where = f"payments/settings.py:1 in commit {added[:12]}"
    assert where in (out / "secscan-summary.md").read_text(encoding="utf-8")
    assert where in (out / "secscan-junit.xml").read_text(encoding="utf-8")
    assert where in (out / "secscan.txt").read_text(encoding="utf-8")
