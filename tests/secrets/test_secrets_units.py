"""The pure parts of secret detection: git log parsing, value recovery, noise rules, the parser."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from secscan.errors import ParseError
from secscan.scanners import detect_secrets as ds
from secscan.scanners import registry
from secscan.secrets_history import History, materialize, origin, parse_log
from secscan.sourcefiles import SourceTree

SHA1 = "1" * 40
SHA2 = "2" * 40

LOG = (
    f"\x1ecommit {SHA1}\n\n"
    "diff --git a/app.py b/app.py\n"
    "index 1..2 100644\n"
    "--- a/app.py\n"
    "+++ b/app.py\n"
    "@@ -3,0 +4,2 @@ def f():\n"
    "+KEY = 1\n"
    "+++ not a header: an added line starting with '++'\n"
    "@@ -10 +12 @@\n"
    "-old\n"
    "+new\n"
    "diff --git a/logo.png b/logo.png\n"
    "new file mode 100644\n"
    "index 0..3\n"
    "Binary files /dev/null and b/logo.png differ\n"
    f"\x1ecommit {SHA2}\n\n"
    "diff --git a/app.py b/lib/app.py\n"
    "similarity index 100%\n"
    "rename from app.py\n"
    "rename to lib/app.py\n"
    'diff --git "a/we\\tird.py" "b/we\\tird.py"\n'
    "--- /dev/null\n"
    '+++ "b/we\\tird.py"\n'
    "@@ -0,0 +1 @@\n"
    "+x = 2\n"
)


def test_parse_log_added_lines_binary_and_renames() -> None:
    commits = parse_log(LOG)
    assert [c.sha for c in commits] == [SHA1, SHA2]
    first = commits[0]
    assert [(f.path, f.lines) for f in first.files] == [
        ("app.py", ((4, "KEY = 1"), (5, "++ not a header: an added line starting with '++'"), (12, "new")))
    ]
    assert first.binary == ("logo.png",)
    # A pure rename adds nothing; a quoted path is unquoted.
    assert [(f.path, f.lines) for f in commits[1].files] == [("we\tird.py", ((1, "x = 2"),))]


def test_materialize_keeps_line_numbers_and_maps_back(tmp_path: Path) -> None:
    history = History(base="0" * 40, commits=parse_log(LOG))
    written = materialize(history, tmp_path)
    app = tmp_path / SHA1 / "app.py"
    assert app in written
    lines = app.read_text().splitlines()
    assert lines[3] == "KEY = 1" and lines[11] == "new" and lines[0] == ""
    assert origin(f"{SHA1}/app.py") == (SHA1, "app.py")
    assert origin("app.py") is None


def test_find_value_recovers_the_secret_from_its_sha1() -> None:
    value = "Zq8" + "vLp2Xw9Rt4Nm"
    line = f"    password: {value}  # prod"
    assert ds.find_value(line, hashlib.sha1(value.encode()).hexdigest()) == value
    # A prefix of a longer run (a detector matching its first characters).
    assert ds.find_value(line, hashlib.sha1(value[:8].encode()).hexdigest()) == value[:8]
    assert ds.find_value(line, "0" * 40) is None


@pytest.mark.parametrize(
    ("value", "noise"),
    [
        ("password1", True),
        ("gitlab-secret-detection", True),
        ("Your password must be long", True),
        ("YOUR_API_KEY_GOES_HERE_1234", True),
        ("changeme-please", True),
        ("dev", True),
        ("${DB_PASSWORD}", True),
        ("Zq8!****", True),
        ("Zq8vLp2Xw9Rt4Nm", False),
        ("hunter2hunter2!", False),
    ],
)
def test_value_noise(value: str, noise: bool) -> None:
    assert (ds.value_noise(value) is not None) is noise


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("tests/test_auth.py", "test data"),
        ("src/pkg/conftest.py", "test data"),
        ("pkg/auth_test.py", "test data"),
        ("package-lock.json", "lock file"),
        ("static/app.min.js", "minified asset"),
        ("docs/howto/auth.rst", "documentation"),
        ("README.md", "documentation"),
        ("payments/settings.py", None),
    ],
)
def test_noise_reason(path: str, reason: str | None) -> None:
    assert ds.noise_reason(path, "x = 1") == reason


def _report(path: str, entries: list[dict[str, object]]) -> str:
    return json.dumps({"version": "1.5.0", "results": {path: entries}})


def test_parser_cases(tmp_path: Path) -> None:
    value = "Zq8" + "vLp2Xw9Rt4NmKd7"
    (tmp_path / "db.py").write_text(f"password = {value}\n")
    tree = SourceTree(tmp_path)
    digest = hashlib.sha1(value.encode()).hexdigest()
    entry = {"type": "Secret Keyword", "filename": "db.py", "hashed_secret": digest, "line_number": 1}
    findings, warnings = ds.parse(_report("db.py", [entry]), tree=tree)
    assert len(findings) == 1 and not warnings
    f = findings[0]
    # Unquoted and digit-light values are masked by the parser itself, with the exact value.
    assert value not in (f.location.snippet or "") and (f.location.snippet or "").startswith("password = Zq8v")
    assert f.rule_id == "secret-keyword" and "CWE-798" in f.cwe_ids()
    # no findings, an audited baseline entry, malformed input
    assert ds.parse(_report("db.py", []), tree=tree) == ([], [])
    audited, notes = ds.parse(_report("db.py", [{**entry, "is_secret": False}]), tree=tree)
    assert audited == [] and "audited" in notes[0]
    for bad in ("{", '{"results": []}', '{"results": {"a": [1]}}', '{"results": {"a": [{"type": "x"}]}}'):
        with pytest.raises(ParseError):
            ds.parse(bad, tree=tree)


def test_registered_as_an_importable_secret_scanner() -> None:
    cls = registry.get_class("detect-secrets")
    assert cls.importable and "detect-secrets" in registry.importable()
    assert "detect-secrets" in registry.producing(ds.Kind.SECRET)
    # The plugin file detect-secrets loads is secscan's own, shipped inside the package.
    assert ds.PLUGINS_FILE.is_file() and ds.PLUGINS_FILE.parent == Path(ds.__file__).parent


def test_a_history_finding_never_gets_an_inline_thread() -> None:
    from secscan.gitlab.plan import qualifies
    from secscan.models import Finding, Kind, Location, Severity

    here = Finding(
        kind=Kind.SECRET,
        scanner="detect-secrets",
        rule_id="stripe-access-key",
        title="Hard-coded secret",
        message="m",
        severity=Severity.HIGH,
        severity_original="Stripe Access Key",
        location=Location(path="pay.py", start_line=3),
    )
    assert qualifies(here, Severity.MEDIUM)
    earlier = Finding(**{**here.__dict__, "location": Location(path="pay.py", start_line=3, commit=SHA1)})
    assert not qualifies(earlier, Severity.MEDIUM)
