"""Pure parsers for ZAP's traditional JSON (``-J``) and XML (``-x``) reports.

Facts about the formats these parsers rely on (see tests/data/zap/README.md for the samples):

* every number is a string (``riskcode``, ``confidence``, ``pluginid``, ``cweid``, ``@port``);
* ``alertRef`` may carry a suffix (``10055-13``): two alerts can share a ``pluginid``, so the
  rule id is the ``alertRef`` (falling back to ``pluginid`` in reports older than 2.10);
* alert-level text fields (``desc``, ``solution``, ``otherinfo``, ``reference``) are HTML
  fragments; instance fields (``evidence``, ``otherinfo``) are raw text and kept verbatim;
* ``riskdesc`` may hold unresolved message keys (``!reports.report.risk.3!``) in reports made by
  template builds, so the original severity text is rebuilt from the codes then;
* the "plus" template variant adds request/response fields and ``tags`` per alert.

One finding per alert and *generalized* URL path: ``/orders/17`` and ``/orders/18`` are the same
problem, ``/orders`` and ``/health`` are not. API scans (``per_operation``) go one step further:
one finding per alert, operation (method + path template of the API definition) and parameter,
since every operation and parameter of an API is a separate place to fix. Every instance is
kept: ``location`` is the first (instances ordered by URL, method and parameter so the choice
does not depend on ZAP's report order), ``other_locations`` holds the rest.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree

from secscan.errors import ParseError
from secscan.models import Confidence, Finding, Identifier, Kind, Location, Severity

SCANNER = "zap"

_RISK: dict[int, tuple[Severity, str]] = {
    0: (Severity.INFO, "Informational"),
    1: (Severity.LOW, "Low"),
    2: (Severity.MEDIUM, "Medium"),
    3: (Severity.HIGH, "High"),
}
_CONFIDENCE: dict[int, tuple[Confidence, str]] = {
    0: (Confidence.LOW, "False Positive"),
    1: (Confidence.LOW, "Low"),
    2: (Confidence.MEDIUM, "Medium"),
    3: (Confidence.HIGH, "High"),
    4: (Confidence.HIGH, "User Confirmed"),
}
FALSE_POSITIVE_TAG = "zap-false-positive"
"""Tag on findings ZAP itself rated confidence 0 ("False Positive")."""


# ------------------------------------------------------------------ HTML fragments -> text

_BLOCK_TAGS = frozenset({"p", "br", "div", "li", "ul", "ol", "tr", "h1", "h2", "h3", "h4", "pre", "table"})


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment; block elements become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, one paragraph per line.

    Never returns markup: the result is still untrusted text that renderers escape.
    """
    if not fragment:
        return ""
    extractor = _TextExtractor()
    extractor.feed(fragment)
    extractor.close()
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return "\n".join(line for line in lines if line)


_URL = re.compile(r"https?://[^\s<>\"']+")


def _urls(text: str) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(".,;")
        # Wiki-style URLs end in a balanced ")": only strip a parenthesis that closes prose.
        while url.endswith(")") and url.count(")") > url.count("("):
            url = url[:-1].rstrip(".,;")
        seen.setdefault(url, None)
    return tuple(seen)


# ------------------------------------------------------------------ URL path generalization

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^[0-9a-fA-F]{16,}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_\-]{20,}$")


def _generalize_segment(segment: str) -> str:
    if segment.isdigit() or _UUID.match(segment) or _HEX.match(segment):
        return "{id}"
    if _TOKEN.match(segment) and any(c.isdigit() for c in segment):
        return "{id}"  # opaque ids and tokens (base64url, slugs with hashes)
    return segment


def generalize_path(url: str) -> str:
    """The URL's path with ids and numbers replaced by ``{id}``; no query, no fragment.

    ``https://shop/orders/17?x=1`` and ``https://shop/orders/18`` both give ``/orders/{id}``.
    """
    try:
        path = urlsplit(url).path
    except ValueError:
        path = url.split("?", 1)[0]
    segments = [_generalize_segment(s) for s in path.split("/")]
    return "/".join(segments) or "/"


# ------------------------------------------------------------------ the format-neutral alert


@dataclass(frozen=True, kw_only=True)
class _Alert:
    """One ``alertitem`` with the fields both formats share, as raw strings."""

    site: str
    fields: Mapping[str, str]
    instances: tuple[Mapping[str, str], ...]
    tags: tuple[tuple[str, str], ...]
    """(tag, link) pairs from the "plus" variants."""


def _alert_name(alert: _Alert) -> str:
    return alert.fields.get("alert") or alert.fields.get("name") or alert.fields.get("pluginid") or "?"


def _int_field(alert: _Alert, key: str, allowed: Iterable[int]) -> int | None:
    """A numeric field (a string in the report); None when absent, ParseError when wrong."""
    raw = alert.fields.get(key, "").strip()
    name = _alert_name(alert)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ParseError(f"ZAP report: alert {name!r} on {alert.site!r}: {key} {raw!r} is not a number") from None
    if value not in allowed:
        raise ParseError(f"ZAP report: alert {name!r} on {alert.site!r}: unknown {key} {value}")
    return value


def _positive_id(raw: str | None) -> str | None:
    """CWE/WASC ids: ZAP writes ``-1`` or ``0`` for "none"."""
    raw = (raw or "").strip()
    return raw if raw.isdigit() and int(raw) > 0 else None


_OWASP_TAG = re.compile(r"^OWASP_(\d{4})_A(\d{1,2})$")


def _identifiers(alert: _Alert, rule_id: str) -> tuple[Identifier, ...]:
    f = alert.fields
    ids: list[Identifier] = []
    plugin = f.get("pluginid", "").strip()
    if plugin:
        ids.append(Identifier(type="zap_plugin", value=plugin, url=f"https://www.zaproxy.org/docs/alerts/{rule_id}/"))
    cwe = _positive_id(f.get("cweid"))
    if cwe:
        ids.append(Identifier(type="cwe", value=f"CWE-{cwe}", url=f"https://cwe.mitre.org/data/definitions/{cwe}.html"))
    wasc = _positive_id(f.get("wascid"))
    if wasc:
        ids.append(
            Identifier(type="wasc", value=f"WASC-{wasc}", url="http://projects.webappsec.org/Threat-Classification")
        )
    for tag, link in alert.tags:
        m = _OWASP_TAG.match(tag.strip())
        if m:
            ids.append(Identifier(type="owasp", value=f"A{int(m.group(2)):02d}:{m.group(1)}", url=link or None))
    return tuple(ids)


def _location(inst: Mapping[str, str]) -> Location:
    def opt(key: str, *, strip: bool = True) -> str | None:
        value = inst.get(key) or ""
        value = value.strip() if strip else value
        return value or None

    # Evidence is what ZAP matched in the response: kept byte for byte (no stripping).
    return Location(url=opt("uri"), method=opt("method"), param=opt("param"), evidence=opt("evidence", strip=False))


def _sort_key(loc: Location) -> tuple[str, str, str, str]:
    return (loc.url or "", loc.method or "", loc.param or "", loc.evidence or "")


def template_path(url: str, templates: tuple[str, ...]) -> str | None:
    """The API definition's path template matching the URL's path (``/payments/{id}``)."""
    try:
        segments = urlsplit(url).path.rstrip("/").split("/")
    except ValueError:
        return None
    for template in templates:
        parts = template.rstrip("/").split("/")
        if len(parts) == len(segments) and all(
            p == s or (p.startswith("{") and p.endswith("}") and s) for p, s in zip(parts, segments, strict=True)
        ):
            return template
    return None


def _group_key(loc: Location, per_operation: bool, templates: tuple[str, ...]) -> str:
    url = loc.url or ""
    if not per_operation:
        return generalize_path(url)
    path = template_path(url, templates) or generalize_path(url)
    return f"{(loc.method or '').upper()} {path} {loc.param or ''}"


def _findings_for(alert: _Alert, *, per_operation: bool = False, templates: tuple[str, ...] = ()) -> list[Finding]:
    f = alert.fields
    risk = _int_field(alert, "riskcode", _RISK)
    if risk is None:
        raise ParseError(f"ZAP report: alert {_alert_name(alert)!r} on {alert.site!r} has no riskcode")
    conf = _int_field(alert, "confidence", _CONFIDENCE)
    severity, risk_name = _RISK[risk]
    confidence, conf_name = _CONFIDENCE[conf] if conf is not None else (Confidence.UNKNOWN, "")
    riskdesc = f.get("riskdesc", "").strip()
    if not riskdesc or "!" in riskdesc:  # "!reports.report.risk.3!": an unresolved message key
        riskdesc = f"{risk_name} ({conf_name})" if conf_name else risk_name
    plugin = f.get("pluginid", "").strip()
    rule_id = f.get("alertRef", "").strip() or plugin
    if not rule_id:
        raise ParseError(f"ZAP report: an alert on {alert.site!r} has neither pluginid nor alertRef")
    title = html_to_text(f.get("alert") or f.get("name") or "") or f"ZAP alert {rule_id}"
    message = html_to_text(f.get("desc", "")) or title
    other = html_to_text(f.get("otherinfo", ""))
    if other:
        message = f"{message}\n\nOther information: {other}"
    common: dict[str, Any] = {
        "kind": Kind.DAST,
        "scanner": SCANNER,
        "rule_id": rule_id,
        "title": title,
        "message": message,
        "severity": severity,
        "severity_original": riskdesc,
        "confidence": confidence,
        "identifiers": _identifiers(alert, rule_id),
        "fix": html_to_text(f.get("solution", "")) or None,
        "references": _urls(html_to_text(f.get("reference", ""))),
        "tags": (FALSE_POSITIVE_TAG,) if conf == 0 else (),
    }
    locations = [_location(i) for i in alert.instances]
    if not locations:
        # Reports before ZAP 2.5 put uri/param/evidence on the alert itself.
        loc = _location(f)
        locations = [loc if loc.url else Location(url=alert.site or None)]
    groups: dict[str, list[Location]] = {}
    for loc in sorted(locations, key=_sort_key):
        groups.setdefault(_group_key(loc, per_operation, templates), []).append(loc)
    out = []
    for _, locs in sorted(groups.items(), key=lambda kv: kv[0]):
        operation = _operation_location(locs[0], templates) if per_operation else None
        if operation is not None:
            # The operation itself is the location (its URL carries the definition's path
            # template, so the fingerprint does not depend on which payment id ZAP tried);
            # every concrete request is kept in other_locations.
            out.append(Finding(**common, location=operation, other_locations=tuple(locs)))
        else:
            out.append(Finding(**common, location=locs[0], other_locations=tuple(locs[1:])))
    return out


def _operation_location(loc: Location, templates: tuple[str, ...]) -> Location | None:
    """``loc`` with its URL replaced by the operation's: same origin, the matching path
    template, no query (``http://shop/api/v1/payments/{paymentId}``); None without a match."""
    template = template_path(loc.url or "", templates)
    if template is None:
        return None
    try:
        parts = urlsplit(loc.url or "")
    except ValueError:
        return None
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
    return replace(loc, url=origin + template)


def _findings(
    alerts: Iterable[_Alert], *, per_operation: bool = False, templates: tuple[str, ...] = ()
) -> list[Finding]:
    out: list[Finding] = []
    for alert in alerts:
        out.extend(_findings_for(alert, per_operation=per_operation, templates=templates))
    return out


# ------------------------------------------------------------------ JSON


def _str_map(obj: Mapping[str, Any]) -> dict[str, str]:
    """Scalar fields as strings (numbers are strings in ZAP's JSON, but be lenient)."""
    return {k: ("" if v is None else str(v)) for k, v in obj.items() if isinstance(v, str | int | float) or v is None}


def _load_json(text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(f"ZAP JSON report is not valid JSON: {e.msg} at line {e.lineno}") from e
    except (TypeError, RecursionError) as e:
        raise ParseError(f"ZAP JSON report cannot be read: {e}") from e
    if not isinstance(doc, dict) or not ({"site", "@version", "@programName"} & doc.keys()):
        raise ParseError("not a ZAP JSON report (expected an object with a 'site' list)")
    return doc


def _json_alerts(doc: Mapping[str, Any]) -> list[_Alert]:
    sites = doc.get("site", [])
    if isinstance(sites, dict):  # a single site written as an object
        sites = [sites]
    if not isinstance(sites, list):
        raise ParseError("ZAP JSON report: 'site' must be a list")
    alerts: list[_Alert] = []
    for site in sites:
        if not isinstance(site, dict):
            raise ParseError("ZAP JSON report: every 'site' entry must be an object")
        name = str(site.get("@name", ""))
        raw_alerts = site.get("alerts", [])
        if not isinstance(raw_alerts, list):
            raise ParseError(f"ZAP JSON report: 'alerts' of site {name!r} must be a list")
        for raw in raw_alerts:
            if not isinstance(raw, dict):
                raise ParseError(f"ZAP JSON report: an alert of site {name!r} is not an object")
            instances = raw.get("instances", [])
            if not isinstance(instances, list) or not all(isinstance(i, dict) for i in instances):
                raise ParseError(
                    f"ZAP JSON report: 'instances' of alert {raw.get('alert')!r} must be a list of objects"
                )
            tags = raw.get("tags", [])
            tag_pairs = (
                tuple((str(t.get("tag", "")), str(t.get("link", ""))) for t in tags if isinstance(t, dict))
                if isinstance(tags, list)
                else ()
            )
            alerts.append(
                _Alert(site=name, fields=_str_map(raw), instances=tuple(_str_map(i) for i in instances), tags=tag_pairs)
            )
    return alerts


def parse_json(text: str, *, per_operation: bool = False, templates: tuple[str, ...] = ()) -> list[Finding]:
    """Findings of a ZAP traditional JSON report (``-J``); ParseError if malformed.

    ``per_operation`` (API scans): one finding per alert, operation (method and path, the
    definition's path template where one of ``templates`` matches) and parameter."""
    return _findings(_json_alerts(_load_json(text)), per_operation=per_operation, templates=templates)


# ------------------------------------------------------------------ XML


def _load_xml(text: str) -> ElementTree.Element:
    # ZAP never writes a DTD; refusing one rules out entity expansion attacks (billion laughs,
    # external entities) without needing a hardened XML library.
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        raise ParseError("ZAP XML report contains a DTD or entity declaration; refusing to parse it")
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 - DTDs refused above
    except ElementTree.ParseError as e:
        raise ParseError(f"ZAP XML report is not well-formed XML: {e}") from e
    if root.tag != "OWASPZAPReport":
        raise ParseError(f"not a ZAP XML report (root element <{root.tag}>, expected <OWASPZAPReport>)")
    return root


def _children_text(elem: ElementTree.Element) -> dict[str, str]:
    """Leaf children as name -> text (element text keeps its whitespace: evidence is verbatim)."""
    return {child.tag: (child.text or "") for child in elem if len(child) == 0}


def _xml_alerts(root: ElementTree.Element) -> list[_Alert]:
    alerts: list[_Alert] = []
    for site in root.findall("site"):
        name = site.get("name", "")
        for item in site.iterfind("alerts/alertitem"):
            fields = _children_text(item)
            instances = tuple(_children_text(inst) for inst in item.iterfind("instances/instance"))
            tags = tuple(((t.findtext("tag") or ""), (t.findtext("link") or "")) for t in item.iterfind("tags/tag"))
            alerts.append(_Alert(site=name, fields=fields, instances=instances, tags=tags))
    return alerts


def parse_xml(text: str, *, per_operation: bool = False, templates: tuple[str, ...] = ()) -> list[Finding]:
    """Findings of a ZAP traditional XML report (``-x``); ParseError if malformed."""
    return _findings(_xml_alerts(_load_xml(text)), per_operation=per_operation, templates=templates)


# ------------------------------------------------------------------ metadata


def report_version(text: str) -> str | None:
    """The ZAP version that wrote a JSON or XML report (``@version`` / ``version``), if stated."""
    stripped = text.lstrip()
    if stripped.startswith("<"):
        version = _load_xml(text).get("version")
    else:
        raw = _load_json(text).get("@version")
        version = str(raw) if raw is not None else None
    return version or None


def parse(text: str, *, per_operation: bool = False, templates: tuple[str, ...] = ()) -> list[Finding]:
    """Either format, detected from the first non-blank character (``<`` means XML)."""
    parse_fn = parse_xml if text.lstrip().startswith("<") else parse_json
    return parse_fn(text, per_operation=per_operation, templates=templates)
