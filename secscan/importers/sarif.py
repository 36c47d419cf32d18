"""SARIF 2.1.0 -> findings (pure): any tool's SARIF, bandit's and semgrep's included.

What real files vary in, and how each is read:

* severity: ``properties.security-severity`` (a CVSS-like number, GitHub's convention) on the
  result or its rule; else bandit's ``issue_severity``; else the result's ``level``, else the
  rule's ``defaultConfiguration.level``, else ``warning`` (SARIF's default).
* rule: ``ruleId``, else ``rule.id``, else the rule at ``ruleIndex``/``rule.index``.
* message: ``message.text``, else the rule's ``messageStrings[message.id]`` with ``{0}``
  arguments filled in.
* paths: relative URIs (``uriBaseId`` such as ``%SRCROOT%`` resolved through
  ``originalUriBaseIds`` when absolute), ``file:///C:/...`` and backslashes: all become
  repo-relative POSIX paths; percent-encoding is decoded.
* CWE: rule/result ``properties.tags`` (``external/cwe/cwe-78``, ``CWE-327: ...``) and
  ``properties.cwe``.
* ``kind`` ``pass``/``notApplicable`` results are not findings; ``suppressions`` with status
  ``accepted`` (or none) mark the finding suppressed in source, kept and reported.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote, urlsplit

from secscan.errors import ParseError
from secscan.models import Confidence, Finding, Identifier, Kind, Location, Severity, Source, Suppression
from secscan.scanners.base import sast_kind
from secscan.sourcefiles import SourceTree, to_repo_path

_LEVEL = {"error": Severity.HIGH, "warning": Severity.MEDIUM, "note": Severity.LOW, "none": Severity.INFO}
_NAMED = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "INFO": Severity.INFO,
    "UNDEFINED": Severity.INFO,
}
_PRECISION = {
    "very-high": Confidence.HIGH,
    "high": Confidence.HIGH,
    "medium": Confidence.MEDIUM,
    "low": Confidence.LOW,
}
_CWE = re.compile(r"(?i)\bcwe[-_/: ]?(\d+)")
_ARG = re.compile(r"\{(\d+)\}")
# Tool names as they appear in driver.name -> our scanner names.
_SCANNERS = {"bandit": "bandit", "semgrep": "semgrep", "semgrep oss": "semgrep", "semgrep pro": "semgrep"}


class _Ctx:
    def __init__(self, origin: str) -> None:
        self.origin = origin

    def fail(self, where: str, what: str) -> ParseError:
        return ParseError(f"{self.origin}: {where}: {what}")

    def obj(self, v: Any, where: str, *, optional: bool = True) -> dict[str, Any]:
        if v is None and optional:
            return {}
        if not isinstance(v, dict):
            raise self.fail(where, f"expected an object, got {type(v).__name__}")
        return v

    def lst(self, v: Any, where: str) -> list[Any]:
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.fail(where, f"expected an array, got {type(v).__name__}")
        return v

    def text(self, v: Any, where: str) -> str | None:
        if v is None:
            return None
        if not isinstance(v, str):
            raise self.fail(where, f"expected a string, got {type(v).__name__}")
        return v

    def line(self, region: dict[str, Any], key: str, where: str) -> int | None:
        v = region.get(key)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise self.fail(f"{where}.{key}", f"expected a positive integer, got {v!r}")
        return v or None


def _severity_from_score(score: float) -> Severity:
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


def _score(props: dict[str, Any]) -> float | None:
    raw = props.get("security-severity")
    try:
        return float(raw) if raw is not None and not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        return None


def _uri_to_path(uri: str, bases: dict[str, str], tree: SourceTree) -> str:
    """A repo-relative POSIX path from a SARIF artifact URI (relative, file:// or Windows)."""
    if not any(c in uri for c in ":%\\") and not uri.startswith(("/", "./")) and "//" not in uri:
        return uri  # already a clean relative path: the common case, without pathlib
    # A relative URI stays relative whatever its uriBaseId: that base is the checkout root on
    # the machine that produced the report, not ours.
    full = uri
    if full.lower().startswith("file:"):
        parts = urlsplit(full)
        full = unquote(parts.path)
        if re.match(r"^/[A-Za-z]:", full):
            full = full[1:]  # file:///C:/x -> C:/x
        for b in bases.values():
            bpath = unquote(urlsplit(b).path) if b.lower().startswith("file:") else b
            bpath = bpath[1:] if re.match(r"^/[A-Za-z]:", bpath) else bpath
            if bpath and full.replace("\\", "/").startswith(bpath.replace("\\", "/").rstrip("/") + "/"):
                full = full.replace("\\", "/")[len(bpath.replace("\\", "/").rstrip("/")) + 1 :]
                break
    else:
        full = unquote(full)
    path = to_repo_path(full, tree.root)
    # A Windows absolute path we could not relate to a base: keep its tail after the drive so it
    # is at least not an absolute path of another machine.
    return re.sub(r"^[A-Za-z]:/", "", path)


def _cwes(*sources: Any) -> list[str]:
    out: list[str] = []
    for src in sources:
        values = src if isinstance(src, list) else [src]
        for v in values:
            if isinstance(v, str | int):
                for m in _CWE.finditer(str(v) if isinstance(v, str) else f"CWE-{v}"):
                    cwe = f"CWE-{int(m.group(1))}"
                    if cwe not in out:
                        out.append(cwe)
    return out


def _message(ctx: _Ctx, result: dict[str, Any], rule: dict[str, Any], where: str) -> str:
    msg = ctx.obj(result.get("message"), f"{where}.message")
    text = ctx.text(msg.get("text"), f"{where}.message.text")
    if text is None and isinstance(msg.get("id"), str):
        strings = ctx.obj(rule.get("messageStrings"), "rule.messageStrings")
        template = ctx.obj(strings.get(msg["id"]), f"rule.messageStrings.{msg['id']}").get("text")
        if isinstance(template, str):
            args = [str(a) for a in ctx.lst(msg.get("arguments"), f"{where}.message.arguments")]
            text = _ARG.sub(lambda m: args[int(m.group(1))] if int(m.group(1)) < len(args) else m.group(0), template)
    if text is None:
        text = ctx.text(msg.get("markdown"), f"{where}.message.markdown")
    return text or ""


def _rule_for(
    ctx: _Ctx, result: dict[str, Any], rules: list[dict[str, Any]], by_id: dict[str, dict[str, Any]], where: str
) -> tuple[str, dict[str, Any]]:
    ref = ctx.obj(result.get("rule"), f"{where}.rule")
    rule_id = ctx.text(result.get("ruleId"), f"{where}.ruleId") or ctx.text(ref.get("id"), f"{where}.rule.id")
    index = result.get("ruleIndex", ref.get("index"))
    rule: dict[str, Any] = {}
    if isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(rules):
        rule = rules[index]
    elif rule_id is not None:
        rule = by_id.get(rule_id, {})
    rule_id = rule_id or ctx.text(rule.get("id"), "rule.id")
    if not rule_id:
        raise ctx.fail(where, "result has no ruleId (and no rule reference)")
    return rule_id, rule


def _location(ctx: _Ctx, result: dict[str, Any], bases: dict[str, str], tree: SourceTree, where: str) -> Location:
    locs = ctx.lst(result.get("locations"), f"{where}.locations")
    if not locs:
        return Location()
    loc = ctx.obj(locs[0], f"{where}.locations[0]", optional=False)
    phys = ctx.obj(loc.get("physicalLocation"), f"{where}.locations[0].physicalLocation")
    art = ctx.obj(phys.get("artifactLocation"), f"{where}.locations[0].physicalLocation.artifactLocation")
    uri = ctx.text(art.get("uri"), f"{where}.locations[0].physicalLocation.artifactLocation.uri")
    w = f"{where}.locations[0].physicalLocation.region"
    region = ctx.obj(phys.get("region"), w)
    start = ctx.line(region, "startLine", w)
    end = ctx.line(region, "endLine", w) or start
    snippet_obj = ctx.obj(region.get("snippet"), f"{w}.snippet")
    snippet = ctx.text(snippet_obj.get("text"), f"{w}.snippet.text")
    if uri and re.match(r"^https?://", uri, re.I):
        return Location(url=uri, snippet=snippet)
    path = _uri_to_path(uri, bases, tree) if uri else None
    if path and start:
        from_tree = tree.lines(path, start, end)
        snippet = from_tree if from_tree is not None else snippet
    return Location(
        path=path,
        start_line=start,
        end_line=end,
        start_column=ctx.line(region, "startColumn", w),
        end_column=ctx.line(region, "endColumn", w),
        snippet=snippet.rstrip("\n") if snippet else snippet,
    )


def _suppression(ctx: _Ctx, result: dict[str, Any], where: str) -> Suppression | None:
    for n, s in enumerate(ctx.lst(result.get("suppressions"), f"{where}.suppressions")):
        sd = ctx.obj(s, f"{where}.suppressions[{n}]", optional=False)
        status = sd.get("status", "accepted")
        if status in ("accepted", None):
            kind = str(sd.get("kind", "inSource"))
            justification = sd.get("justification") if isinstance(sd.get("justification"), str) else None
            return Suppression(
                origin="inline" if kind == "inSource" else "file",
                reason=justification or f"suppressed in the SARIF report ({kind})",
                matched_by="inline" if kind == "inSource" else "sarif",
            )
    return None


def _cwe_identifier(cwe: str) -> Identifier:
    return Identifier(type="cwe", value=cwe, url=f"https://cwe.mitre.org/data/definitions/{cwe[4:]}.html")


def _rule_static(
    ctx: _Ctx, rule_id: str, rule: dict[str, Any], rprops: dict[str, Any], scanner: str
) -> tuple[str, tuple[Identifier, ...], str | None]:
    """(title, identifiers, help URI) of a rule."""
    short = ctx.obj(rule.get("shortDescription"), "rule.shortDescription").get("text")
    name = rule.get("name")
    title = name if isinstance(name, str) and name != rule_id else None
    title = title or (short if isinstance(short, str) else None) or rule_id
    cwes = _cwes(rprops.get("tags"), rprops.get("cwe"))
    identifiers = (
        Identifier(type=scanner if scanner in ("bandit", "semgrep") else "rule", value=rule_id),
        *(_cwe_identifier(c) for c in cwes),
    )
    help_uri = rule.get("helpUri") if isinstance(rule.get("helpUri"), str) else None
    return str(title).replace("_", " "), identifiers, help_uri


def parse(text: str, *, tree: SourceTree, origin: str = "SARIF report") -> list[Finding]:
    """Findings from a SARIF 2.1.0 log; :class:`ParseError` naming ``origin`` and the JSON path."""
    ctx = _Ctx(origin)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(f"{origin}: not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from e
    doc = ctx.obj(data, "document", optional=False)
    version = doc.get("version")
    if version != "2.1.0":
        raise ctx.fail("version", f"expected SARIF version '2.1.0', got {version!r}")
    findings: list[Finding] = []
    for r, run_raw in enumerate(ctx.lst(doc.get("runs"), "runs")):
        run = ctx.obj(run_raw, f"runs[{r}]", optional=False)
        driver = ctx.obj(
            ctx.obj(run.get("tool"), f"runs[{r}].tool", optional=False).get("driver"), f"runs[{r}].tool.driver"
        )
        tool_name = ctx.text(driver.get("name"), f"runs[{r}].tool.driver.name") or "sarif"
        scanner = _SCANNERS.get(
            tool_name.lower(), re.sub(r"[^a-z0-9_.-]+", "-", tool_name.lower()).strip("-") or "sarif"
        )
        rules = [
            ctx.obj(x, f"runs[{r}].tool.driver.rules[{i}]", optional=False)
            for i, x in enumerate(ctx.lst(driver.get("rules"), f"runs[{r}].tool.driver.rules"))
        ]
        by_id = {x["id"]: x for x in rules if isinstance(x.get("id"), str)}
        # What depends only on the rule is computed once per rule, not once per result.
        statics: dict[str, tuple[str, tuple[Identifier, ...], str | None]] = {}
        bases = {
            k: str(ctx.obj(v, f"runs[{r}].originalUriBaseIds.{k}").get("uri", ""))
            for k, v in ctx.obj(run.get("originalUriBaseIds"), f"runs[{r}].originalUriBaseIds").items()
        }
        for n, res_raw in enumerate(ctx.lst(run.get("results"), f"runs[{r}].results")):
            where = f"runs[{r}].results[{n}]"
            res = ctx.obj(res_raw, where, optional=False)
            if res.get("kind") in ("pass", "notApplicable"):
                continue
            rule_id, rule = _rule_for(ctx, res, rules, by_id, where)
            rprops = ctx.obj(rule.get("properties"), "rule.properties")
            props = ctx.obj(res.get("properties"), f"{where}.properties")
            level = (
                res.get("level")
                or ctx.obj(rule.get("defaultConfiguration"), "rule.defaultConfiguration").get("level")
                or "warning"
            )
            score = _score(props) if _score(props) is not None else _score(rprops)
            named = str(props.get("issue_severity", "")).upper()
            if score is not None:
                severity, original = _severity_from_score(score), f"{level} ({score:g})"
            elif named in _NAMED:
                severity, original = _NAMED[named], named
            else:
                severity, original = _LEVEL.get(str(level), Severity.MEDIUM), str(level)
            conf_raw = str(props.get("issue_confidence") or rprops.get("precision") or "").lower()
            location = _location(ctx, res, bases, tree, where)
            message = _message(ctx, res, rule, where)
            static = statics.get(rule_id)
            if static is None:
                static = statics[rule_id] = _rule_static(ctx, rule_id, rule, rprops, scanner)
            title, identifiers, help_uri = static
            if props.get("tags") is not None or props.get("cwe") is not None:
                extra = [
                    c for c in _cwes(props.get("tags"), props.get("cwe")) if c not in {i.value for i in identifiers}
                ]
                identifiers = identifiers + tuple(_cwe_identifier(c) for c in extra)
            suppression = _suppression(ctx, res, where)
            findings.append(
                Finding(
                    kind=Kind.DAST
                    if location.url
                    else sast_kind((i.value for i in identifiers if i.type == "cwe"), rule_id=rule_id),
                    scanner=scanner,
                    rule_id=rule_id,
                    title=title,
                    message=message,
                    severity=severity,
                    severity_original=original,
                    confidence=_PRECISION.get(conf_raw, Confidence.UNKNOWN),
                    location=location,
                    identifiers=identifiers,
                    references=(help_uri,) if help_uri else (),
                    suppression=suppression,
                    sources=(
                        Source(
                            scanner=scanner,
                            rule_id=rule_id,
                            severity_original=original,
                            message=message,
                            location=location,
                        ),
                    ),
                )
            )
    return findings
