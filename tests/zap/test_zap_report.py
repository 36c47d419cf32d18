"""ZAP report parsers on every real sample (tests/data/zap) plus malformed input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secscan.errors import ParseError
from secscan.models import Confidence, Kind, Severity
from secscan.scanners import zap_report
from secscan.scanners.zap_report import generalize_path, html_to_text, parse_json, parse_xml, report_version

DATA = Path(__file__).resolve().parent.parent / "data" / "zap"


def _text(name: str) -> str:
    return (DATA / name).read_text(encoding="utf-8")


def test_baseline_2_16_1_json_one_finding_per_alert_and_path() -> None:
    findings = parse_json(_text("zap-2.16.1_baseline_report_json.json"))
    # 5 alerts; "Permissions Policy" and "Storable and Cacheable" each span 4 distinct paths.
    assert len(findings) == 1 + 1 + 1 + 4 + 4
    assert all(f.kind is Kind.DAST and f.scanner == "zap" for f in findings)
    by_rule: dict[str, list[str]] = {}
    for f in findings:
        by_rule.setdefault(f.rule_id, []).append(f.location.url or "")
    # alertRef suffixes keep the two CSP alerts of plugin 10055 apart.
    assert sorted(by_rule) == ["10049", "10055-13", "10055-6", "10063-1", "90004-2"]
    base = "http://automacao-liga-env-8f342f.eba-myaib4bz.us-east-1.elasticbeanstalk.com"
    assert sorted(by_rule["10063-1"]) == [f"{base}/", f"{base}/health", f"{base}/robots.txt", f"{base}/sitemap.xml"]


def test_baseline_json_fields_mapped() -> None:
    csp = next(f for f in parse_json(_text("zap-2.16.1_baseline_report_json.json")) if f.rule_id == "10055-13")
    assert csp.title == "CSP: Failure to Define Directive with No Fallback"
    assert csp.severity is Severity.MEDIUM and csp.confidence is Confidence.HIGH
    assert csp.severity_original == "Medium (High)"
    assert csp.location.method == "GET"
    assert csp.location.param == "Content-Security-Policy"
    assert csp.location.evidence == "default-src 'none'"
    ids = {(i.type, i.value) for i in csp.identifiers}
    assert {("zap_plugin", "10055"), ("cwe", "CWE-693"), ("wasc", "WASC-15")} <= ids
    # HTML fragments become plain text: no tags survive, paragraphs become lines.
    assert "<p>" not in csp.message and "<p>" not in (csp.fix or "")
    assert csp.message.startswith("The Content Security Policy fails to define")
    assert "Other information: The directive(s): frame-ancestors" in csp.message
    assert csp.fix and csp.fix.startswith("Ensure that your web server")
    assert csp.references[0] == "https://www.w3.org/TR/CSP/"
    assert len(csp.references) == 5
    info = next(f for f in parse_json(_text("zap-2.16.1_baseline_report_json.json")) if f.rule_id == "10049")
    assert info.severity is Severity.INFO and info.severity_original == "Informational (Medium)"


@pytest.mark.parametrize(
    "name", ["zap-extensions_basic-traditional-json.json", "zap-extensions_basic-traditional-json-plus.json"]
)
def test_template_outputs_keep_every_instance(name: str) -> None:
    (f,) = parse_json(_text(name))
    assert f.rule_id == "1" and f.title == "XSS"
    assert f.severity is Severity.HIGH and f.confidence is Confidence.MEDIUM
    # riskdesc holds unresolved message keys in these outputs: rebuilt from the codes.
    assert f.severity_original == "High (Medium)"
    # Two instances on the same path: one finding, both instances kept.
    assert f.location.url == "http://example.com/example_3"
    assert len(f.other_locations) == 1
    # Evidence is raw response text, not HTML: kept verbatim.
    assert f.location.evidence == "Test <p>Evidence"
    assert ("cwe", "CWE-123") in {(i.type, i.value) for i in f.identifiers}
    assert ("wasc", "WASC-456") in {(i.type, i.value) for i in f.identifiers}
    assert f.message == "XSS Description\n\nOther information: Test 'Other\\"


def test_xml_2_9_0_sample() -> None:
    findings = parse_xml(_text("5_zap_sample_one.xml"))
    # Two alert items (same plugin id 10011, no alertRef) x two paths (/dashboard, /).
    assert len(findings) == 4
    assert {f.title for f in findings} == {"zap1: Cookie Without Secure Flag", "zap2: Cookie Without Secure Flag"}
    dash = next(
        f for f in findings if f.title.startswith("zap1") and f.location.url == "https://mainsite.com/dashboard"
    )
    assert dash.rule_id == "10011"
    assert {dash.location.param, *(o.param for o in dash.other_locations)} == {"opvc", "dmid"}
    assert dash.severity is Severity.LOW and dash.confidence is Confidence.MEDIUM
    # A balanced parenthesis belongs to the URL.
    assert dash.references == ("http://www.owasp.org/index.php/Testing_for_cookies_attributes_(OWASP-SM-002)",)
    assert ("cwe", "CWE-614") in {(i.type, i.value) for i in dash.identifiers}


def test_xml_empty_report() -> None:
    assert parse_xml(_text("empty_2.9.0.xml")) == []
    assert report_version(_text("empty_2.9.0.xml")) == "2.9.0"


def test_xml_2_16_1_with_tags_and_requests() -> None:
    findings = parse_xml(_text("zap_2.16.1_with_req_resp.xml"))
    auth = next(f for f in findings if f.rule_id == "10111")
    # cweid -1 means "no CWE": no identifier invented.
    assert auth.cwe_ids() == ()
    assert auth.location.method == "POST"
    assert auth.confidence is Confidence.LOW and auth.severity is Severity.INFO
    cache = [f for f in findings if f.rule_id == "10015"]
    # /workflow/config and /workflow/config/json/tenant/product/topic/key (DELETE, GET, PUT).
    assert len(cache) == 2
    assert sum(1 + len(f.other_locations) for f in cache) == 4
    poison = next(f for f in findings if f.rule_id == "10029")
    owasp = {i.value for i in poison.identifiers if i.type == "owasp"}
    assert owasp == {"A03:2021", "A01:2017"}
    # The query string survives in the URL (XML entities decoded).
    assert any("otuToken=otuToken&clearCache=true" in (f.location.url or "") for f in findings)
    assert report_version(_text("zap_2.16.1_with_req_resp.xml")) == "2.16.1"


def test_json_and_xml_agree_on_shape() -> None:
    """The same logical alert in both formats gives the same finding."""
    doc = json.loads(_text("zap-extensions_basic-traditional-json.json"))
    xml = (
        '<?xml version="1.0"?><OWASPZAPReport version="x"><site name="http://example.com"><alerts><alertitem>'
        "<pluginid>1</pluginid><alertRef>1</alertRef><alert>XSS</alert><riskcode>3</riskcode>"
        "<confidence>2</confidence><riskdesc>High (Medium)</riskdesc><desc>&lt;p&gt;XSS Description&lt;/p&gt;</desc>"
        "<instances><instance><uri>http://example.com/example_3</uri><method>GET</method><param>Test Param</param>"
        "<evidence>Test &lt;p&gt;Evidence</evidence></instance></instances>"
        "<otherinfo>&lt;p&gt;Test 'Other\\&lt;/p&gt;</otherinfo><solution>&lt;p&gt;Test Solution&lt;/p&gt;</solution>"
        "<cweid>123</cweid><wascid>456</wascid></alertitem></alerts></site></OWASPZAPReport>"
    )
    doc["site"][0]["alerts"][0]["instances"] = doc["site"][0]["alerts"][0]["instances"][:1]
    (from_json,) = parse_json(json.dumps(doc))
    (from_xml,) = parse_xml(xml)
    assert from_xml == from_json


def test_generalized_paths_merge_ids() -> None:
    doc = {
        "@version": "2.16.1",
        "site": [
            {
                "@name": "http://shop",
                "alerts": [
                    {
                        "pluginid": "10021",
                        "alert": "X-Content-Type-Options Header Missing",
                        "riskcode": "1",
                        "confidence": "2",
                        "instances": [
                            {"uri": "http://shop/orders/18", "method": "GET"},
                            {"uri": "http://shop/orders/17?page=2", "method": "GET"},
                            {"uri": "http://shop/orders/3f2504e0-4f89-11d3-9a0c-0305e82c3301", "method": "GET"},
                            {"uri": "http://shop/health", "method": "GET"},
                        ],
                    }
                ],
            }
        ],
    }
    findings = parse_json(json.dumps(doc))
    assert len(findings) == 2
    health, orders = findings
    assert health.location.url == "http://shop/health" and health.other_locations == ()
    # Ordered by URL: the first instance does not depend on ZAP's report order.
    assert orders.location.url == "http://shop/orders/17?page=2"
    assert len(orders.other_locations) == 2
    assert generalize_path("http://shop/orders/17?page=2") == "/orders/{id}"
    assert generalize_path("https://x/api/v2/users/abcdef0123456789abcd/cards") == "/api/v2/users/{id}/cards"
    assert generalize_path("https://x/") == "/"


def test_alert_level_uri_of_old_reports() -> None:
    doc = {
        "@version": "2.4.3",
        "site": {
            "@name": "http://old",
            "alerts": [
                {
                    "pluginid": "10016",
                    "alert": "Web Browser XSS Protection Not Enabled",
                    "riskcode": "1",
                    "uri": "http://old/login",
                    "param": "X-XSS-Protection",
                }
            ],
        },
    }
    (f,) = parse_json(json.dumps(doc))
    assert f.location.url == "http://old/login" and f.location.param == "X-XSS-Protection"
    assert f.confidence is Confidence.UNKNOWN and f.severity_original == "Low"


def test_false_positive_confidence_is_tagged() -> None:
    doc = {
        "site": [
            {
                "@name": "h",
                "alerts": [{"pluginid": "1", "riskcode": "2", "confidence": "0", "instances": [{"uri": "http://h/"}]}],
            }
        ]
    }
    (f,) = parse_json(json.dumps(doc))
    assert f.confidence is Confidence.LOW
    assert zap_report.FALSE_POSITIVE_TAG in f.tags


def test_html_to_text() -> None:
    assert html_to_text("<p>a &amp; b</p><p>c<br>d</p><ul><li>x</li></ul>") == "a & b\nc\nd\n- x"
    assert html_to_text("<script>alert(1)</script>plain") == "alert(1)plain"  # text, never markup
    assert html_to_text("1 < 2") == "1 < 2"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json",
        "[]",
        '{"foo": 1}',
        '{"site": 3}',
        '{"site": [1]}',
        '{"site": [{"alerts": {}}]}',
        '{"site": [{"alerts": [{"pluginid": "1", "riskcode": "9"}]}]}',
        '{"site": [{"alerts": [{"pluginid": "1", "riskcode": "high"}]}]}',
        '{"site": [{"alerts": [{"pluginid": "1"}]}]}',
        '{"site": [{"alerts": [{"riskcode": "1"}]}]}',
        '{"site": [{"alerts": [{"pluginid": "1", "riskcode": "1", "instances": ["x"]}]}]}',
    ],
)
def test_malformed_json(text: str) -> None:
    with pytest.raises(ParseError):
        parse_json(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "<OWASPZAPReport><site>",
        "<report/>",
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><OWASPZAPReport>&a;</OWASPZAPReport>',
        "<OWASPZAPReport><site name='s'><alerts><alertitem><pluginid>1</pluginid><riskcode>x</riskcode>"
        "</alertitem></alerts></site></OWASPZAPReport>",
    ],
)
def test_malformed_xml(text: str) -> None:
    with pytest.raises(ParseError):
        parse_xml(text)


def test_parse_detects_format() -> None:
    assert len(zap_report.parse(_text("5_zap_sample_one.xml"))) == 4
    assert len(zap_report.parse(_text("zap-extensions_basic-traditional-json.json"))) == 1
