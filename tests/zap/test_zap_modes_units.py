"""Pure pieces of the ZAP modes: command lines per script, API definitions, per-mode defaults,
authentication settings and masking; and the CLI's one-line usage errors (exit 2) for them,
found before anything runs."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from secscan.config import ScanConfig
from secscan.errors import ConfigError
from secscan.models import Finding, Kind, Location, Severity
from secscan.zap import api_definition, auth, settings
from secscan.zap.job import ZapJob, split_options
from secscan.zap.reaper import Reaper
from tests.conftest import require_tool

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_API = ROOT / "examples" / "payment-app" / "openapi.yaml"


def test_argv_per_mode_matches_the_real_scripts() -> None:
    full = ZapJob(target="https://shop.example/", mode="full", minutes=10)
    assert full.argv() == (
        "zap-full-scan.py", "-t", "https://shop.example/", "-c", "secscan-zap-baseline.conf", "-m", "10",
        "-J", "secscan-zap-report.json", "-x", "secscan-zap-report.xml",
    )  # fmt: skip
    api = ZapJob(target="https://shop.example/", mode="api", api_format="soap", api_definition="https://shop/ws?wsdl")
    assert api.argv()[:5] == ("zap-api-scan.py", "-t", "https://shop/ws?wsdl", "-f", "soap")
    assert "-m" not in api.argv()  # zap-api-scan.py has no spider
    gql = ZapJob(target="https://shop/graphql", mode="api", api_format="graphql", api_definition="s.graphql")
    assert gql.argv()[1:5] == ("-t", "https://shop/graphql", "-f", "graphql")
    assert gql.argv()[-2:] == ("--schema", "s.graphql")
    login = ZapJob(target="https://shop/", context_name="secscan-zap.context", context_user="alice")
    assert login.argv()[-4:] == ("-n", "secscan-zap.context", "-U", "alice")
    assert "secscan-zap.context" in login.files()
    # Credentials in a definition URL are masked in the recorded command.
    secret = ZapJob(target="https://s/", mode="api", api_format="openapi", api_definition="https://u:pw@s/o.json")
    assert secret.display_argv()[2] == "https://***@s/o.json" and "pw" not in " ".join(secret.display_argv())


def test_pass_through_options_are_checked_against_the_modes_script() -> None:
    assert split_options("-S -O api.internal", "api") == ("-S", "-O", "api.internal")  # api-scan only
    with pytest.raises(ConfigError, match="option -S not recognized"):
        split_options("-S", "baseline")
    assert split_options("--hook=hooks.py -j", "full") == ("--hook=hooks.py", "-j")
    for raw, mode, needle in [
        ("-f soap", "api", "--zap-api-format"),
        ("--schema other.graphql", "api", "--zap-api-definition"),
        ("-n my.context", "full", "--zap-context"),
        ("-U bob", "baseline", "--zap-user"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            split_options(raw, mode)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("api.yaml", EXAMPLE_API.read_text(), "openapi"),
        ("swagger.json", '{"swagger": "2.0", "info": {}, "paths": {}}', "openapi"),
        ("def.txt", "openapi: 3.1.0\ninfo: {}\n", "openapi"),
        ("svc", '<?xml version="1.0"?><definitions xmlns="http://schemas.xmlsoap.org/wsdl/"/>', "soap"),
        ("svc.wsdl", "anything", "soap"),
        ("schema", "schema {\n  query: Query\n}\ntype Query { a: Int }\n", "graphql"),
        ("schema.graphqls", "", "graphql"),
        ("notes.yaml", "title: not an api\n", None),
        ("page.html", "<html><body>hi</body></html>", None),
    ],
)
def test_definition_format_detection(name: str, text: str, expected: str | None) -> None:
    assert api_definition.detect_format(name, text) == expected


def test_definition_resolution(tmp_path: Path) -> None:
    d = api_definition.resolve(str(EXAMPLE_API))
    assert (d.format, d.work_name, d.url) == ("openapi", "secscan-api-definition.yaml", None)
    u = api_definition.resolve("https://shop.example/v3/api-docs")
    assert (u.format, u.argument) == ("openapi", "https://shop.example/v3/api-docs")
    assert api_definition.resolve("https://shop.example/Service.svc?wsdl").format == "soap"
    bad = tmp_path / "notes.yaml"
    bad.write_text("hello: world\n")
    for value, fmt, needle in [
        (str(tmp_path / "missing.yaml"), None, "does not exist"),
        (str(bad), None, "is not an OpenAPI/Swagger document"),
        (str(EXAMPLE_API), "soap", "looks like openapi, not soap"),
        ("https://shop.example/whatever", None, "pass --zap-api-format"),
        (str(EXAMPLE_API), "grpc", "expected one of openapi, soap, graphql"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            api_definition.resolve(value, explicit_format=fmt)


def test_operation_templates_of_the_example_definition() -> None:
    from secscan.scanners.zap_report import template_path

    templates = api_definition.operation_paths(EXAMPLE_API)
    assert "/api/v1/payments/{paymentId}/refunds" in templates and "/payments" in templates
    assert template_path("http://h/api/v1/payments/pay_x1/refunds", templates) == "/api/v1/payments/{paymentId}/refunds"
    assert template_path("http://h/api/v1/payments?status=paid", templates) == "/api/v1/payments"
    assert template_path("http://h/api/v1/other", templates) is None


def test_mode_defaults() -> None:
    assert settings.mode_of(ScanConfig()) == "baseline"
    assert settings.mode_of(ScanConfig(zap_api_definition="x.yaml")) == "api"
    full = ScanConfig(zap_mode="full")
    assert (settings.minutes_of(full), settings.timeout_of(full)) == (10, 7200.0)
    assert settings.timeout_of(ScanConfig(zap_mode="api")) == 3600.0
    assert settings.timeout_of(ScanConfig()) == 1800.0
    # An explicit --timeout zap=S and --zap-minutes win over the mode's defaults.
    assert settings.timeout_of(ScanConfig(zap_mode="full", timeouts={"zap": 600.0})) == 600.0
    assert settings.minutes_of(ScanConfig(zap_mode="full", zap_minutes=3)) == 3
    assert settings.minutes_of(ScanConfig(zap_minutes=0)) == 1  # 0 would mean "no limit"


def test_auth_header_settings() -> None:
    env = {"PAY_TOKEN": "Bearer abc.def", "BAD": "a\r\nX-Injected: 1"}
    h = auth.auth_header("Authorization", "PAY_TOKEN", env, site="shop.example")
    assert h is not None and h.container_env() == {
        "ZAP_AUTH_HEADER": "Authorization",
        "ZAP_AUTH_HEADER_VALUE": "Bearer abc.def",
        "ZAP_AUTH_HEADER_SITE": "shop.example",
    }
    assert "abc.def" not in repr(h)
    assert auth.auth_header(None, None, env, site="x") is None
    assert auth.auth_header("X-Key", None, {"ZAP_AUTH_HEADER_VALUE": "k"}, site="x") is not None  # the default var
    for name, var, needle in [
        ("Authorization", "MISSING", "environment variable MISSING"),
        ("Bad Header:", "PAY_TOKEN", "not a valid HTTP header name"),
        ("Authorization", "BAD", "line break"),
        ("Authorization", "1X", "not an environment variable name"),
    ]:
        with pytest.raises(ConfigError, match=needle):
            auth.auth_header(name, var, env, site="x")


def test_mask_reaches_every_text_of_a_finding() -> None:
    f = Finding(
        kind=Kind.DAST,
        scanner="zap",
        rule_id="10105",
        title="t",
        message="sent Authorization: s3cr3t-token to the app",
        severity=Severity.MEDIUM,
        severity_original="Medium (Medium)",
        location=Location(url="http://a/?k=s3cr3t-token", evidence="Bearer s3cr3t-token"),
        other_locations=(Location(url="http://a/2", evidence="s3cr3t-token"),),
    )
    masked = auth.mask(f, ("s3cr3t-token",))
    assert "s3cr3t" not in repr(masked)
    assert masked.location.evidence == "Bearer ***" and masked.severity is Severity.MEDIUM
    assert masked.other_locations[0].evidence == "***"
    assert auth.mask(f, ()) is f


def test_context_file_checks(tmp_path: Path) -> None:
    ctx = tmp_path / "c.context"
    name = base64.b64encode(b"alice").decode()
    ctx.write_text(
        f"<configuration><context><name>c</name><users><user>1;true;{name};2;x</user></users></context></configuration>"
    )
    assert auth.load_context(ctx, "alice") == ctx.read_bytes()
    with pytest.raises(ConfigError, match="defines no user 'bob'"):
        auth.load_context(ctx, "bob")
    ctx.write_text("<configuration><nope/></configuration>")
    with pytest.raises(ConfigError, match="is not a ZAP context"):
        auth.load_context(ctx, None)
    ctx.write_text('<!DOCTYPE x [<!ENTITY a "b">]><configuration/>')
    with pytest.raises(ConfigError, match="DTD"):
        auth.load_context(ctx, None)


def test_watchdog_starts_by_absolute_path_outside_the_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A secscan package planted in the scanned tree (the working directory) never runs."""
    planted = tmp_path / "tree" / "secscan" / "zap"
    planted.mkdir(parents=True)
    marker = tmp_path / "planted-code-ran"
    (planted.parent / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    (planted / "__init__.py").write_text("")
    (planted / "reaper.py").write_text(f"open({str(marker)!r}, 'w').write('x')\n")
    monkeypatch.chdir(tmp_path / "tree")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    env["ZAP_AUTH_HEADER_VALUE"] = "secret"
    reaper = Reaper.start(env=env)
    args = reaper._proc.args
    assert isinstance(args, list) and args[:3] == [sys.executable, "-P", "-m"]
    assert Path(args[0]).is_absolute()
    reaper.done()
    assert reaper._proc.wait(timeout=30) == 0
    assert not marker.exists()
    # The watchdog's environment holds no credential, and it runs outside the tree.
    started = Reaper.start(env=env)
    try:
        deadline = time.monotonic() + 10
        environ = b""
        while not environ and time.monotonic() < deadline:
            environ = Path(f"/proc/{started.pid}/environ").read_bytes()
        assert b"ZAP_AUTH_HEADER_VALUE" not in environ and b"PYTHONSAFEPATH=1" in environ
        assert os.readlink(f"/proc/{started.pid}/cwd") == "/"
    finally:
        started.done()


def _scan(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    secscan = require_tool("secscan")
    return subprocess.run(
        [secscan, "scan", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["--zap-mode", "api"], "--zap-mode api needs --zap-api-definition"),
        (["--zap-mode", "full", "--zap-api-definition", "x.yaml"], "is for --zap-mode api, not full"),
        (["--zap-api-definition", "missing.yaml"], "ZAP API definition missing.yaml does not exist"),
        (["--zap-auth-header", "Authorization"], "environment variable ZAP_AUTH_HEADER_VALUE"),
        (["--zap-auth-header", "Authorization", "--zap-auth-header-env", "NOPE"], "environment variable NOPE"),
        (["--zap-user", "alice"], "--zap-user needs --zap-context"),
        (
            ["--zap-mode", "api", "--zap-api-definition", str(EXAMPLE_API), "--zap-option=-S -f soap"],
            "-f is set by secscan",
        ),
        (["--zap-mode", "spider"], "zap_mode 'spider': expected one of baseline, api, full"),
    ],
)
def test_bad_zap_settings_are_one_line_usage_errors(tmp_path: Path, extra: list[str], needle: str) -> None:
    # The target does not even listen: every check comes before anything runs.
    env = {"ZAP_AUTH_HEADER_VALUE": "", "SECSCAN_ZAP_MODE": ""}
    proc = _scan(str(tmp_path), "--only", "zap", "--zap-target", "http://127.0.0.1:9/", *extra, env=env, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("secscan: error: ") and needle in lines[0], proc.stderr
    assert not (tmp_path / "secscan-out").exists()


def test_zap_settings_from_the_environment(tmp_path: Path) -> None:
    env = {"SECSCAN_ZAP_MODE": "fast"}
    proc = _scan(str(tmp_path), "--only", "zap", "--zap-target", "http://127.0.0.1:9/", env=env, cwd=tmp_path)
    assert proc.returncode == 2 and "zap_mode 'fast': expected one of baseline, api, full" in proc.stderr


def test_api_fingerprints_do_not_depend_on_the_ids_zap_tried() -> None:
    """Two API scans of the same app try other payment ids: the findings (and fingerprints) are
    the same per operation and parameter; a new parameter is a new finding."""
    from secscan import fingerprint
    from secscan.scanners import zap_report
    from secscan.sourcefiles import SourceTree

    text = (ROOT / "tests" / "data" / "zap" / "zap-api-scan_payment-api_constructed.json").read_text()
    templates = api_definition.operation_paths(EXAMPLE_API)
    other_ids = text.replace("pay_9fK2xQ7a", "pay_Q1w2E3r4").replace("pay_Zt81LmQe", "pay_88aa77bb")
    prints = []
    for report in (text, other_ids):
        findings = zap_report.parse(report, per_operation=True, templates=templates)
        prints.append({f.fingerprint for f in fingerprint.assign(findings, tree=SourceTree(None))})
    assert prints[0] == prints[1] and len(prints[0]) == 9
    sqli = [
        f
        for f in zap_report.parse(text, per_operation=True, templates=templates)
        if f.rule_id == "40018" and f.location.param == "paymentId"
    ]
    (op,) = sqli
    assert op.location.url == "http://localhost:8000/api/v1/payments/{paymentId}"
    assert [loc.url for loc in op.other_locations] == [
        "http://localhost:8000/api/v1/payments/pay_9fK2xQ7a",
        "http://localhost:8000/api/v1/payments/pay_Zt81LmQe",
    ]
    # Per URL (no definition), the opaque ids would have made them different findings.
    per_url = [fingerprint.assign(zap_report.parse(r), tree=SourceTree(None)) for r in (text, other_ids)]
    assert {f.fingerprint for f in per_url[0]} != {f.fingerprint for f in per_url[1]}
