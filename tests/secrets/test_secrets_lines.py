"""A line holding a detected secret is masked in every finding that quotes it.

Found in review: detect-secrets found the password in ``https://svc:<password>@host`` and its
own finding masked it, but bandit's B501 on the same line (``verify=False``) quoted the whole
line, so every report, the terminal and the MR note showed the password in clear. Real bandit
and detect-secrets on a real git tree; then the pure parts (``secscan.secretlines``).
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from secscan import core
from secscan.models import Finding, Kind, Location, Severity, Source
from secscan.secretlines import mask_line, secret_lines
from tests.support.cli import secscan

# One worker for the module: under xdist each worker builds a module fixture of its own, and
# reports is a real scan.
pytestmark = pytest.mark.xdist_group("secrets-lines")

PASSWORD = "Zq8vkLm2pQxTw9"
CLIENT = f"""import requests


def fetch():
    return requests.get("https://svc:{PASSWORD}@billing.example.com/api", verify=False, timeout=5)


def again():
    # The same password, quoted on a line no secret scanner flags by itself.
    log = "retrying with {PASSWORD}"
    return requests.post("https://billing.example.com/api", verify=False, timeout=5, data=log)
"""


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = tmp_path_factory.mktemp("repo")
    (repo / "app").mkdir()
    (repo / "app" / "client.py").write_text(CLIENT, encoding="utf-8")
    git = ["git", "-C", str(repo), "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "client"], check=True)
    return repo


@pytest.fixture(scope="module")
def reports(repo: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("out")
    run = secscan("scan", repo, "--only", "bandit,detect-secrets", "--out", out, "--format", "all", "--no-cache")
    assert run.code == 1, run.stderr
    return out, run.stdout


def test_no_report_and_no_terminal_line_shows_the_secret(reports: tuple[Path, str]) -> None:
    out, terminal = reports
    written = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir() if p.is_file()}
    assert {"secscan.json", "secscan.sarif", "secscan-report.html", "secscan-summary.md"} <= set(written)
    for name, text in [*written.items(), ("terminal", terminal)]:
        # Masked values keep their first four characters: the rest must be gone everywhere.
        assert PASSWORD[4:] not in text, name
    # The bandit findings are still shown with their code, masked where the secret was.
    assert 'requests.get("http' in terminal and "verify=False" in terminal
    assert "B501" in written["secscan.json"]


def test_the_pipelines_bandit_job_alone_and_the_merge_do_not_show_it(
    repo: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The CI template runs one job per scanner (its result, reports and log are artifacts), then
    merges the results: the bandit job has no detect-secrets finding to mask the line by."""
    out = tmp_path_factory.mktemp("jobs")
    logs = []
    for scanner in ("bandit", "detect-secrets"):
        run = secscan("scan", repo, "--only", scanner, "--out", out / scanner, "--format", "all", "--no-cache")
        assert run.code == 1, run.stderr
        logs.append(run.stdout + run.stderr)
    merged = out / "merged.json"
    assert (
        secscan("merge", out / "bandit" / "secscan.json", out / "detect-secrets" / "secscan.json", "-o", merged).code
        == 0
    )
    written = [p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file()]
    for text in [*written, *logs]:
        assert PASSWORD[4:] not in text
    assert "verify=False, timeout=5" in (out / "bandit" / "secscan.json").read_text(encoding="utf-8")


def test_the_line_is_masked_in_the_bandit_finding_as_in_the_secret_finding(reports: tuple[Path, str]) -> None:
    import json

    doc = json.loads((reports[0] / "secscan.json").read_text(encoding="utf-8"))
    on_line_5 = {f["scanner"]: f["location"]["snippet"] for f in doc["findings"] if f["location"]["start_line"] == 5}
    assert set(on_line_5) == {"bandit", "detect-secrets"}
    assert on_line_5["bandit"] == on_line_5["detect-secrets"]
    # Code that is not the secret stays readable.
    assert "verify=False, timeout=5" in on_line_5["bandit"]


# ------------------------------------------------------------------ the pure parts


def _finding(kind: Kind, snippet: str, line: int = 3, scanner: str = "bandit", path: str = "a.py") -> Finding:
    loc = Location(path=path, start_line=line, end_line=line + snippet.count("\n"), snippet=snippet)
    return Finding(
        kind=kind,
        scanner=scanner,
        rule_id="R1",
        title="t",
        message=f"m {snippet}",
        severity=Severity.HIGH,
        severity_original="HIGH",
        location=loc,
        sources=(Source(scanner=scanner, rule_id="R1", severity_original="HIGH", message="m", location=loc),),
    )


def test_every_scanners_masking_of_a_line_is_applied_together() -> None:
    raw = 'connect(user="admin", password="s3cr3tPassw0rd!", key="AKIAABCDEFGHIJKLMNOP")'
    one = 'connect(user="admin", password="s3cr****", key="AKIAABCDEFGHIJKLMNOP")'
    two = 'connect(user="admin", password="s3cr3tPassw0rd!", key="AKIA****")'
    masked, parts = mask_line("    " + raw, [one, two])
    assert masked == '    connect(user="admin", password="s3cr****", key="AKIA****")'
    assert sorted(parts) == sorted(["3tPassw0rd!", "ABCDEFGHIJKLMNOP"])


def test_a_secret_line_without_its_text_hides_the_whole_line() -> None:
    secret = _finding(Kind.SECRET, "", line=3)
    other = _finding(Kind.SAST, "x = 1\nsecret line\ny = 2", line=2)
    masked = core.mask([secret, other])
    assert masked[1].location.snippet == "x = 1\n****\ny = 2"


def test_the_masking_is_idempotent_and_leaves_other_files_and_lines_alone() -> None:
    line = f'url = "https://svc:{PASSWORD}@h/"'
    secret = _finding(Kind.SECRET, line.replace(PASSWORD[4:], "****"), scanner="detect-secrets")
    same_line = _finding(Kind.SAST, line)
    other_line = _finding(Kind.SAST, line, line=9)  # another line: the repeated value is still found
    other_file = _finding(Kind.SAST, "verify=False", path="b.py")
    once = core.mask([secret, same_line, other_line, other_file])
    assert core.mask(once) == once
    assert once[1].location.snippet == once[0].location.snippet != line
    assert PASSWORD[4:] not in once[1].message and PASSWORD[4:] not in (once[2].location.snippet or "")
    assert once[3].location.snippet == "verify=False"
    # A secret from an earlier commit is on a line that holds other code now: not an index entry.
    historic = replace(secret, location=Location(path="a.py", start_line=3, commit="abc"), sources=())
    assert secret_lines([historic]) == {}


def test_a_private_keys_body_is_masked_in_a_finding_that_quotes_it() -> None:
    """detect-secrets finds a private key on its BEGIN line only; bandit's B501 on the call that
    passes it quotes the whole call, body and all (seen with real bandit and detect-secrets)."""
    body = [
        "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun",
        "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK",
    ]
    call = "\n".join(
        [
            "    return requests.get(",
            '        "https://billing.example.com/api",',
            "        verify=False,",
            '        data="""-----BEGIN RSA PRIVATE KEY-----',
            *body,
            '-----END RSA PRIVATE KEY-----""",',
            "    )",
        ]
    )
    key = _finding(Kind.SECRET, '        data="""-----BEGI****-----', line=8, scanner="detect-secrets")
    b501 = _finding(Kind.SAST, call, line=5)
    from_body = _finding(Kind.SAST, body[1], line=10)  # a finding on a line of the body alone
    masked = core.mask([key, b501, from_body])
    for f in masked[1:]:
        for line in body:
            assert line not in (f.location.snippet or "") and line not in f.message, f
    assert "verify=False," in (masked[1].location.snippet or "")  # the code around stays readable
    assert "-----END RSA PRIVATE KEY-----" in (masked[1].location.snippet or "")
