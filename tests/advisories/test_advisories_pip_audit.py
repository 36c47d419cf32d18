"""The real pip-audit against the real advisory server, on a pinned requirements file.

`pip-audit -r FILE --no-deps --disable-pip -s osv --osv-url URL -f json` (pip-audit 2.10 flags;
--osv-url is the full query endpoint, which pip-audit POSTs to). No network is involved: with
--no-deps --disable-pip pip-audit reads the pins itself, and every query goes to loopback.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from secscan.advisories import service, sources, store
from tests.advisories.advisories_support import EXAMPLES
from tests.conftest import require_tool

REQUIREMENTS = """\
# vulnerable per examples/advisories
requests==2.19.1
jinja2==2.10
PyYAML==5.3
flask==0.12.2
django==3.0.14
werkzeug==2.3.7
# not vulnerable: at or past every fix, or not in the database at all
urllib3==2.2.2
pillow==10.0.1
cryptography==41.0.6
click==8.1.7
"""

EXPECTED = {
    "requests": {"PYSEC-2018-28", "PYSEC-2023-74"},
    "jinja2": {"PYSEC-2019-217", "PYSEC-2021-66"},
    "pyyaml": {"PYSEC-2020-96", "PYSEC-2021-142"},
    "flask": {"PYSEC-2018-66", "PYSEC-2019-179", "PYSEC-2023-62"},
    "django": {"PYSEC-2021-98", "PYSEC-2021-99"},
    "werkzeug": {"PYSEC-2023-221"},
    "urllib3": set(),
    "pillow": set(),
    "cryptography": set(),
    "click": set(),
}


@pytest.fixture(scope="module")
def examples_dir() -> Path:
    return EXAMPLES


def pip_audit(requirements: Path, url: str, cache: Path) -> tuple[int, dict[str, Any], str]:
    exe = require_tool("pip-audit")
    proc = subprocess.run(
        [exe, "-r", str(requirements), "--no-deps", "--disable-pip", "-s", "osv", "--osv-url", url,
         "-f", "json", "--progress-spinner", "off", "--cache-dir", str(cache), "--timeout", "10"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    return proc.returncode, json.loads(proc.stdout or "{}"), proc.stderr


@pytest.fixture
def requirements(tmp_path: Path) -> Path:
    path = tmp_path / "requirements.txt"
    path.write_text(REQUIREMENTS)
    return path


def _by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {dep["name"]: dep for dep in report["dependencies"]}


@pytest.mark.integration
def test_pip_audit_finds_exactly_the_fixture_vulnerabilities(
    examples_dir: Path, requirements: Path, tmp_path: Path
) -> None:
    with service.start(examples_dir) as svc:
        rc, report, stderr = pip_audit(requirements, svc.url, tmp_path / "cache")
    assert rc == 1, stderr  # pip-audit exits 1 when it found vulnerabilities
    deps = _by_name(report)
    assert set(deps) == set(EXPECTED)
    for name, want in EXPECTED.items():
        assert "skip_reason" not in deps[name], (name, deps[name])  # audited, not silently skipped
        assert {v["id"] for v in deps[name]["vulns"]} == want, name
    flask = {v["id"]: v for v in deps["flask"]["vulns"]}
    # Both fixed versions of the two-interval range; aliases and text come through.
    assert flask["PYSEC-2023-62"]["fix_versions"] == ["2.2.5", "2.3.2"]
    assert "CVE-2023-30861" in flask["PYSEC-2023-62"]["aliases"]
    assert flask["PYSEC-2018-66"]["description"].strip()
    assert deps["pyyaml"]["version"] == "5.3"


@pytest.mark.integration
def test_pip_audit_against_an_imported_database_and_a_json_zip(
    examples_dir: Path, requirements: Path, tmp_path: Path
) -> None:
    """The same answers from a database made by `advisories import`, and from an osv.dev-style zip."""
    db = tmp_path / "adv.sqlite"
    info = store.build(db, sources.load(examples_dir), source="examples")
    import zipfile

    import yaml

    zpath = tmp_path / "all.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        # The PyPA YAML records and the demo's npm JSON ones: the same content, so the same snapshot.
        for p in sorted([*examples_dir.rglob("*.yaml"), *examples_dir.rglob("*.json")]):
            rec = yaml.safe_load(p.read_text())
            zf.writestr(f"{rec['id']}.json", json.dumps(rec, default=lambda d: d.isoformat()))
    results = []
    for path in (db, zpath):
        with service.start(path) as svc:
            assert svc.snapshot == info.snapshot
            rc, report, stderr = pip_audit(requirements, svc.url, tmp_path / "cache")
        assert rc == 1, stderr
        results.append({n: sorted(v["id"] for v in d["vulns"]) for n, d in _by_name(report).items()})
    assert results[0] == results[1]
    assert {k: set(v) for k, v in results[0].items()} == EXPECTED


@pytest.mark.integration
def test_pip_audit_clean_requirements_exit_zero(examples_dir: Path, tmp_path: Path) -> None:
    req = tmp_path / "clean.txt"
    req.write_text("urllib3==2.2.2\nflask==2.3.2\njinja2==3.1.4\n")
    with service.start(examples_dir) as svc:
        rc, report, stderr = pip_audit(req, svc.url, tmp_path / "cache")
    assert rc == 0, stderr
    assert all(d["vulns"] == [] and "skip_reason" not in d for d in report["dependencies"])
    assert len(report["dependencies"]) == 3
