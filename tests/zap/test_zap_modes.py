"""API, full and authenticated scans through a real Docker engine with the stand-in ZAP image.

The stand-in honours each real script's contract (getopt strings, file names relative to
/zap/wrk, ZAP_AUTH_HEADER* variables) and copies report files of the real shapes; see
conftest.py and standin_zap_baseline.sh.
"""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import pytest

from secscan.config import ScanConfig
from secscan.models import Finding, RunResult, ScannerState
from secscan.resultio import dumps
from secscan.scanners.base import RunContext
from secscan.scanners.zap import ZapScanner
from secscan.sourcefiles import SourceTree
from tests.zap.conftest import Engine

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("zap-docker")]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_API = ROOT / "examples" / "payment-app" / "openapi.yaml"
TOKEN = "Bearer tok_live_9Qz7mK2pX4vR8sW1"
"""A made-up token of a real shape: it must reach the target and nowhere else."""


def _dump(findings: tuple[Finding, ...] | list[Finding]) -> str:
    """The findings as secscan.json writes them (to search every text for the header value)."""
    return dumps(RunResult(tool_version="t", target=".", started_at="", finished_at="", findings=tuple(findings)))


def _ctx(tmp_path: Path) -> RunContext:
    return RunContext(workdir=tmp_path, tree=SourceTree(None), cancel=threading.Event())


def _api_definition(tmp_path: Path, target_url: str, scenario: str = "warn") -> Path:
    """The example app's definition with a first server on the test's target (the stand-in,
    like ZAP, talks to the server the definition names)."""
    text = EXAMPLE_API.read_text()
    text = text.replace("servers:\n", f"servers:\n  - url: {target_url}/{scenario}\n", 1)
    path = tmp_path / "payment-api.yaml"
    path.write_text(text)
    return path


def _argv(tmp_path: Path) -> list[str]:
    return (tmp_path / "zap-wrk" / "standin-argv.txt").read_text().splitlines()


def _script(tmp_path: Path) -> str:
    return (tmp_path / "zap-wrk" / "standin-script.txt").read_text().strip()


def test_api_scan_of_an_openapi_file(docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path) -> None:
    definition = _api_definition(tmp_path, target_url)
    cfg = ScanConfig(zap_target=target_url, zap_image=zap_image, zap_api_definition=str(definition))
    out = ZapScanner(env=docker_engine.env()).run(cfg, _ctx(tmp_path))
    assert out.status.state is ScannerState.OK, out.status.error
    assert _script(tmp_path) == "zap-api-scan.py"
    assert _argv(tmp_path) == [
        "-t", "secscan-api-definition.yaml", "-f", "openapi",
        "-c", "secscan-zap-baseline.conf",
        "-J", "secscan-zap-report.json", "-x", "secscan-zap-report.xml",
    ]  # fmt: skip
    # The definition ZAP imported is the user's file, byte for byte.
    assert (tmp_path / "zap-wrk" / "secscan-api-definition.yaml").read_bytes() == definition.read_bytes()
    assert out.status.command[0] == "zap-api-scan.py"
    # One finding per alert, operation (the definition's path template) and parameter; the
    # location is the operation, every request ZAP made is in other_locations.
    assert all(
        f.location.url and f.location.url.startswith("http://localhost:8000/api/v1/payments") for f in out.findings
    )
    ops = sorted((f.rule_id, f.location.method, f.location.param or "", len(f.other_locations)) for f in out.findings)
    assert ops == [
        ("100000", "POST", "amount", 2),  # two payments' refunds: one operation
        ("100000", "POST", "reason", 1),
        ("10021", "GET", "x-content-type-options", 1),  # GET /payments
        ("10021", "GET", "x-content-type-options", 2),  # GET /payments/{paymentId}, two ids
        ("10105", "POST", "", 1),
        ("10105", "POST", "", 1),
        ("40018", "GET", "paymentId", 2),
        ("40018", "GET", "status", 1),
        ("40018", "POST", "order_id", 1),
    ]
    assert docker_engine.zap_containers() == []


def test_api_scan_definitions_by_url_soap_and_graphql(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path
) -> None:
    scanner = ZapScanner(env=docker_engine.env())
    # An OpenAPI definition served by the app: ZAP fetches the URL itself.
    cfg = ScanConfig(zap_target=target_url, zap_image=zap_image, zap_api_definition=f"{target_url}/v1/openapi.yaml")
    out = scanner.run(cfg, _ctx(tmp_path / "url"))
    assert out.status.state is ScannerState.OK, out.status.error
    assert _argv(tmp_path / "url")[:4] == ["-t", f"{target_url}/v1/openapi.yaml", "-f", "openapi"]
    # GraphQL: -t is the endpoint, the schema file goes to --schema.
    schema = tmp_path / "schema.graphql"
    schema.write_text("type Query {\n  payment(id: ID!): Payment\n}\ntype Payment {\n  id: ID!\n  amount: Int\n}\n")
    cfg = ScanConfig(zap_target=f"{target_url}/graphql", zap_image=zap_image, zap_api_definition=str(schema))
    out = scanner.run(cfg, _ctx(tmp_path / "gql"))
    assert out.status.state is ScannerState.OK, out.status.error
    argv = _argv(tmp_path / "gql")
    assert argv[:4] == ["-t", f"{target_url}/graphql", "-f", "graphql"]
    assert argv[-2:] == ["--schema", "secscan-api-definition.graphql"]
    # SOAP: a WSDL file.
    wsdl = tmp_path / "payments.wsdl"
    wsdl.write_text(
        '<?xml version="1.0"?>\n<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" name="Payments">\n'
        f'  <wsdl:service name="P"><wsdl:port name="p"><address location="{target_url}/warn"/></wsdl:port>'
        "</wsdl:service>\n</wsdl:definitions>\n"
    )
    cfg = ScanConfig(zap_target=target_url, zap_image=zap_image, zap_api_definition=str(wsdl))
    out = scanner.run(cfg, _ctx(tmp_path / "soap"))
    assert out.status.state is ScannerState.OK, out.status.error
    assert _argv(tmp_path / "soap")[:4] == ["-t", "secscan-api-definition.wsdl", "-f", "soap"]
    assert docker_engine.zap_containers() == []


def test_full_scan_uses_zap_full_scan_with_its_longer_spider(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path
) -> None:
    cfg = ScanConfig(zap_target=f"{target_url}/fail", zap_image=zap_image, zap_mode="full")
    out = ZapScanner(env=docker_engine.env()).run(cfg, _ctx(tmp_path))
    assert out.status.state is ScannerState.OK, out.status.error
    assert _script(tmp_path) == "zap-full-scan.py"
    assert _argv(tmp_path) == [
        "-t", f"{target_url}/fail", "-c", "secscan-zap-baseline.conf", "-m", "10",
        "-J", "secscan-zap-report.json", "-x", "secscan-zap-report.xml",
    ]  # fmt: skip
    assert len(out.findings) == 11  # the same real report shape as the baseline's
    assert docker_engine.zap_containers() == []


def test_authenticated_api_scan_never_shows_the_header_value(
    docker_engine: Engine,
    zap_image: str,
    target_url: str,
    tmp_path: Path,
    seen_requests: list[tuple[str, dict[str, str]]],
) -> None:
    definition = _api_definition(tmp_path, target_url)
    cfg = ScanConfig(
        zap_target=target_url,
        zap_image=zap_image,
        zap_api_definition=str(definition),
        zap_auth_header="Authorization",
        zap_auth_header_env="PAYMENT_API_TOKEN",
    )
    before = len(seen_requests)
    out = ZapScanner(env=docker_engine.env(PAYMENT_API_TOKEN=TOKEN)).run(cfg, _ctx(tmp_path))
    assert out.status.state is ScannerState.OK, out.status.error
    # ZAP got the header through its own variables and sent it to the target...
    env = (tmp_path / "zap-wrk" / "standin-env.txt").read_text().splitlines()
    assert env == ["ZAP_AUTH_HEADER=Authorization", "ZAP_AUTH_HEADER_SITE=127.0.0.1", "ZAP_AUTH_HEADER_VALUE=(set)"]
    assert [h.get("authorization") for _, h in seen_requests[before:]] == [TOKEN]
    # ...never on a command line...
    assert TOKEN not in " ".join(_argv(tmp_path)) and TOKEN not in " ".join(out.status.command)
    # ...and the report's echo of it (ZAP quotes request headers as evidence) is masked.
    assert TOKEN in (tmp_path / "zap-wrk" / "secscan-zap-report.json").read_text()  # the stand-in did echo it
    weak = [f for f in out.findings if f.rule_id == "10105"]
    assert weak and all(f.location.evidence == "Authorization: ***" for f in weak)
    assert "tok_live" not in _dump(out.findings)


def test_auth_value_in_zaps_log_is_masked(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path
) -> None:
    cfg = ScanConfig(zap_target=f"{target_url}/leak", zap_image=zap_image, zap_auth_header="X-Api-Key")
    out = ZapScanner(env=docker_engine.env(ZAP_AUTH_HEADER_VALUE=TOKEN)).run(cfg, _ctx(tmp_path))
    assert out.status.state is ScannerState.FAILED
    assert "DEBUG request header X-Api-Key: ***" in (out.status.error or "")
    assert "tok_live" not in (out.status.error or "")


def test_context_file_login(docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path) -> None:
    context = tmp_path / "shop.context"
    user = base64.b64encode(b"alice").decode()
    context.write_text(
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n<configuration><context><name>shop</name>'
        f"<incregexes>{target_url}.*</incregexes><authentication><type>2</type></authentication>"
        f"<users><user>1;true;{user};2;cGFzc3dvcmQ=~</user></users></context></configuration>\n"
    )
    cfg = ScanConfig(zap_target=f"{target_url}/warn", zap_image=zap_image, zap_context=context, zap_user="alice")
    out = ZapScanner(env=docker_engine.env()).run(cfg, _ctx(tmp_path))
    assert out.status.state is ScannerState.OK, out.status.error
    assert _argv(tmp_path)[-4:] == ["-n", "secscan-zap.context", "-U", "alice"]
    assert (tmp_path / "zap-wrk" / "secscan-zap.context").read_bytes() == context.read_bytes()


def test_report_of_an_api_scan_imports_into_the_result_schema() -> None:
    """The API report goes through the same parser and schema as the baseline's."""
    from secscan.scanners import zap_report
    from secscan.zap.api_definition import operation_paths

    text = (ROOT / "tests" / "data" / "zap" / "zap-api-scan_payment-api_constructed.json").read_text()
    per_url = zap_report.parse(text)
    per_op = zap_report.parse(text, per_operation=True, templates=operation_paths(EXAMPLE_API))
    # Without the definition the opaque payment ids split one operation into several findings.
    assert len(per_url) > len(per_op) == 9
    assert json.loads(_dump(per_op))  # serializable as secscan/1 findings


def test_api_scan_result_is_gated_against_a_baseline(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path
) -> None:
    """`secscan scan` in api mode, a baseline of its result, and the next scan: only new API
    alerts would block (the same DAST baseline gate as the passive scan's)."""
    import subprocess

    from tests.conftest import require_tool

    secscan = require_tool("secscan")
    project = tmp_path / "app"
    project.mkdir()
    definition = _api_definition(tmp_path, target_url)

    def scan(out: str, *extra: str) -> subprocess.CompletedProcess[str]:
        argv = [secscan, "scan", str(project), "--only", "zap", "--zap-target", target_url,
                "--zap-image", zap_image, "--zap-api-definition", str(definition),
                "--out", str(tmp_path / out), "--no-progress", *extra]  # fmt: skip
        return subprocess.run(argv, env=docker_engine.env(), capture_output=True, text=True, timeout=120, check=False)

    first = scan("r1")
    assert first.returncode == 1, first.stdout + first.stderr  # SQL injection (high) blocks
    baseline = tmp_path / "baseline.json"
    made = subprocess.run(
        [secscan, "baseline", "create", str(tmp_path / "r1" / "secscan.json"), "-o", str(baseline)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    second = scan("r2", "--baseline", str(baseline))
    assert second.returncode == 0, second.stdout + second.stderr
    doc = json.loads((tmp_path / "r2" / "secscan.json").read_text())
    assert len(doc["findings"]) == 9 and {f["status"] for f in doc["findings"]} == {"existing"}


def test_a_merge_request_cannot_change_the_api_definition_zap_uses(
    docker_engine: Engine, zap_image: str, target_url: str, tmp_path: Path
) -> None:
    """The definition decides which operations are attacked: like the policy, it is read at the
    merge base; the merge request's change to it is only reported as pending."""
    import subprocess
    import sys

    from tests.support.mergerequest import job_env, make_mr

    text = EXAMPLE_API.read_text()
    base_def = text.replace("servers:\n", f"servers:\n  - url: {target_url}/warn\n", 1)
    head_def = text.replace("servers:\n", f"servers:\n  - url: {target_url}/exit3\n", 1)  # would fail ZAP
    settings = f'zap_target = "{target_url}"\nzap_image = "{zap_image}"\nzap_api_definition = "openapi.yaml"\n'
    repo, base = make_mr(
        tmp_path,
        {"app.py": "x = 1\n", "openapi.yaml": base_def, ".secscan.toml": settings},
        {"openapi.yaml": head_def},
    )
    env = job_env(base, DOCKER_HOST=docker_engine.host)
    proc = subprocess.run(
        [sys.executable, "-m", "secscan", "scan", ".", "--only", "zap", "--out", "out", "--no-progress"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    doc = json.loads((repo / "out" / "secscan.json").read_text())
    (status,) = doc["scanners"]
    assert status["state"] == "ok", (status, proc.stderr)  # the base's definition was scanned
    assert status["command"][:3] == ["zap-api-scan.py", "-t", "secscan-api-definition.yaml"]
    assert any("ZAP API definition openapi.yaml" in w for w in doc["warnings"]), doc["warnings"]
