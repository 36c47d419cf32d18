"""SARIF 2.1.0 -> findings (pure): any producer's SARIF, bandit's and semgrep's included.

What real files vary in, and how each is read (tests/data/importers/sarif/ has one file per
producer):

* rule: ``ruleId``; else ``rule.id``; else the rule the reference points at (``ruleIndex`` /
  ``rule.index`` in ``tool.driver`` or, with ``rule.toolComponent``, in ``tool.extensions``,
  where CodeQL keeps its query packs); a result with no rule at all (Gitleaks 7) is named by its
  message. A ``ruleId`` with no driver rule is looked up in every extension.
* severity: ``properties.security-severity`` (a CVSS-like number, GitHub's convention) on the
  result or its rule; else bandit's ``issue_severity``; else the result's ``level``, else the
  rule's ``defaultConfiguration.level``, else ``warning`` (SARIF's default).
* message: ``message.text``, else the rule's ``messageStrings[message.id]`` with ``{0}``
  arguments filled in, else ``message.markdown``.
* CWE: ``properties.tags`` (``external/cwe/cwe-78``, ``CWE-327: ...``) and ``properties.cwe``
  of the rule and the result; ``rule.relationships`` and ``result.taxa`` pointing into a CWE
  taxonomy (``run.taxonomies``, found by index, name or guid).
* paths: :mod:`secscan.importers.paths`; ``artifactLocation.index`` reads ``run.artifacts``;
  an absolute path under an absolute ``originalUriBaseIds`` entry or the invocation's
  ``workingDirectory`` is relative to it (the producing machine's checkout).
  Absolute paths outside the root are kept and reported (``RunInfo.outside``).
* every location is kept: the first is the finding's location, the others ``other_locations``;
  ``relatedLocations`` become ``related_locations``.
* ``kind`` ``pass``/``notApplicable`` and ``baselineState: absent`` results are not findings
  (counted as skipped). Suppressions of any kind with status ``accepted`` (or none) mark the
  finding suppressed, shown with kind and justification; ``underReview``/``rejected`` ones do
  not suppress and tag the finding instead.
* ``partialFingerprints`` (and string ``fingerprints``) become ``fingerprint`` identifiers.
* an incomplete run (``executionSuccessful: false``, or an ``error``-level tool execution or
  configuration notification) is a failure of the import, with the tool's reason.
"""

from __future__ import annotations

import codecs
import heapq
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import msgspec

from secscan import jsonload
from secscan.advisories.severity import severity_of_score
from secscan.errors import ParseError
from secscan.importers.paths import BaseUri, normalize
from secscan.models import Confidence, Finding, Identifier, Kind, Location, Severity, Source, Suppression
from secscan.scanners.base import sast_kind
from secscan.sourcefiles import SourceTree

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
_CWE_PAGE = re.compile(r"^https?://cwe\.mitre\.org/data/definitions/(\d+)\.html?$", re.I)
_URL = re.compile(r"^https?://", re.I)
# Tool names as they appear in driver.name -> our scanner names.
_SCANNERS = {"bandit": "bandit", "semgrep": "semgrep", "semgrep oss": "semgrep", "semgrep pro": "semgrep"}
_NOT_FINDINGS = ("pass", "notApplicable")


@dataclass(frozen=True, kw_only=True)
class SarifRun:
    """What one run says about the tool that produced it."""

    scanner: str
    version: str | None
    information_uri: str | None
    findings: int
    failures: tuple[str, ...]
    """Why this run is incomplete (empty: it completed)."""


@dataclass(frozen=True, kw_only=True)
class SarifImport:
    """What one SARIF log holds: findings, and what the import summary must say about it."""

    findings: tuple[Finding, ...]
    results: int
    """Results in the log, findings or not."""
    skipped: int
    """Results that are not findings: ``kind`` pass/notApplicable, ``baselineState`` absent."""
    failures: tuple[str, ...]
    """Why the scan is incomplete (empty: it completed)."""
    warnings: tuple[str, ...]
    runs: tuple[SarifRun, ...] = ()


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


def _text_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) and v.strip() else None


def _index(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


def _score(props: dict[str, Any]) -> float | None:
    raw = props.get("security-severity")
    try:
        return float(raw) if raw is not None and not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        return None


def _cwes(*sources: Any) -> list[str]:
    out: list[str] = []
    for src in sources:
        values = src if isinstance(src, list) else [src]
        for v in values:
            if isinstance(v, str | int) and not isinstance(v, bool):
                for m in _CWE.finditer(v if isinstance(v, str) else f"CWE-{v}"):
                    cwe = f"CWE-{int(m.group(1))}"
                    if cwe not in out:
                        out.append(cwe)
    return out


def _cwe_identifier(cwe: str) -> Identifier:
    return Identifier(type="cwe", value=cwe, url=f"https://cwe.mitre.org/data/definitions/{cwe[4:]}.html")


class _Run:
    """One run's lookup tables: rules per tool component, taxonomies, artifacts, bases."""

    def __init__(self, ctx: _Ctx, run: dict[str, Any], r: int) -> None:
        self.ctx = ctx
        tool = ctx.obj(run.get("tool"), f"runs[{r}].tool", optional=False)
        self.driver = ctx.obj(tool.get("driver"), f"runs[{r}].tool.driver")
        self.extensions = [
            ctx.obj(x, f"runs[{r}].tool.extensions[{i}]", optional=False)
            for i, x in enumerate(ctx.lst(tool.get("extensions"), f"runs[{r}].tool.extensions"))
        ]
        self.components = [self.driver, *self.extensions]
        names = ["driver", *(f"extensions[{i}]" for i in range(len(self.extensions)))]
        self.rules = [self._rules(c, f"runs[{r}].tool.{name}") for c, name in zip(self.components, names, strict=True)]
        self.by_id = [{x["id"]: x for x in rules if isinstance(x.get("id"), str)} for rules in self.rules]
        self.taxonomies = [
            ctx.obj(x, f"runs[{r}].taxonomies[{i}]", optional=False)
            for i, x in enumerate(ctx.lst(run.get("taxonomies"), f"runs[{r}].taxonomies"))
        ]
        self.artifacts = ctx.lst(run.get("artifacts"), f"runs[{r}].artifacts")
        self.bases = {
            str(k): BaseUri(
                uri=str(ctx.obj(v, f"runs[{r}].originalUriBaseIds.{k}").get("uri") or ""),
                base_id=v.get("uriBaseId") if isinstance(v, dict) and isinstance(v.get("uriBaseId"), str) else None,
            )
            for k, v in ctx.obj(run.get("originalUriBaseIds"), f"runs[{r}].originalUriBaseIds").items()
        }
        # Where the tool ran is the checkout it scanned (sast-scan, bandit run in the repo): an
        # absolute path under it is a repo path. Keyed so that no uriBaseId can name it.
        for i, inv in enumerate(ctx.lst(run.get("invocations"), f"runs[{r}].invocations")):
            wd = inv.get("workingDirectory") if isinstance(inv, dict) else None
            uri = wd.get("uri") if isinstance(wd, dict) else None
            if isinstance(uri, str) and uri:
                self.bases.setdefault(f"\x00workingDirectory[{i}]", BaseUri(uri=uri))

    def _rules(self, component: dict[str, Any], where: str) -> list[dict[str, Any]]:
        return [
            self.ctx.obj(x, f"{where}.rules[{i}]", optional=False)
            for i, x in enumerate(self.ctx.lst(component.get("rules"), f"{where}.rules"))
        ]

    def component(self, ref: dict[str, Any]) -> int | None:
        """Index into ``components`` of a toolComponentReference (None: not found)."""
        i = _index(ref.get("index"))
        if i is not None:
            return i + 1 if i < len(self.extensions) else None
        for key in ("guid", "name"):
            value = ref.get(key)
            if isinstance(value, str):
                for n, c in enumerate(self.components):
                    if c.get(key) == value:
                        return n
        return 0 if not ref else None

    def rule(self, result: dict[str, Any], where: str) -> tuple[str | None, dict[str, Any]]:
        ctx = self.ctx
        ref = ctx.obj(result.get("rule"), f"{where}.rule")
        rule_id = ctx.text(result.get("ruleId"), f"{where}.ruleId") or ctx.text(ref.get("id"), f"{where}.rule.id")
        comp_ref = ctx.obj(ref.get("toolComponent"), f"{where}.rule.toolComponent")
        comp = self.component(comp_ref) if comp_ref else 0
        index = _index(result.get("ruleIndex", ref.get("index")))
        rule: dict[str, Any] = {}
        if comp is not None:
            rules = self.rules[comp]
            if index is not None and index < len(rules):
                rule = rules[index]
            elif rule_id is not None:
                rule = self.by_id[comp].get(rule_id, {})
        if not rule and rule_id is not None:
            # A ruleId alone, its rule in an extension (CodeQL packs), or "id/sub-id".
            for table in self.by_id:
                rule = table.get(rule_id) or table.get(rule_id.split("/", 1)[0]) or {}
                if rule:
                    break
        return rule_id or ctx.text(rule.get("id"), f"{where}: the referenced rule's id"), rule

    def taxon_cwes(self, refs: Iterable[Any]) -> list[str]:
        """CWE ids of reportingDescriptorReferences (rule.relationships targets, result.taxa)."""
        out: list[str] = []
        for ref in refs:
            if not isinstance(ref, dict):
                continue
            raw_comp = ref.get("toolComponent")
            comp: dict[str, Any] = raw_comp if isinstance(raw_comp, dict) else {}
            taxonomy = self._taxonomy(comp)
            name = str(comp.get("name") or (taxonomy or {}).get("name") or "")
            taxon_id = ref.get("id")
            index = _index(ref.get("index"))
            if taxon_id is None and taxonomy is not None and index is not None:
                raw = taxonomy.get("taxa")
                taxa: list[Any] = raw if isinstance(raw, list) else []
                if index < len(taxa) and isinstance(taxa[index], dict):
                    taxon_id = taxa[index].get("id")
            if not isinstance(taxon_id, str | int) or isinstance(taxon_id, bool):
                continue
            value = str(taxon_id)
            if name.upper() == "CWE" and value.isdigit():
                value = f"CWE-{value}"
            out.extend(c for c in _cwes(value) if c not in out)
        return out

    def _taxonomy(self, comp: dict[str, Any]) -> dict[str, Any] | None:
        i = _index(comp.get("index"))
        if i is not None and i < len(self.taxonomies):
            return self.taxonomies[i]
        for key in ("guid", "name"):
            value = comp.get(key)
            if isinstance(value, str):
                for t in self.taxonomies:
                    if t.get(key) == value:
                        return t
        return None

    def artifact_location(self, art: dict[str, Any], where: str) -> tuple[str | None, str | None]:
        """(uri, uriBaseId) of an artifactLocation, following ``index`` into ``run.artifacts``."""
        uri = self.ctx.text(art.get("uri"), f"{where}.uri")
        base = art.get("uriBaseId") if isinstance(art.get("uriBaseId"), str) else None
        i = _index(art.get("index"))
        if uri is None and i is not None and i < len(self.artifacts) and isinstance(self.artifacts[i], dict):
            loc = self.artifacts[i].get("location")
            if isinstance(loc, dict):
                uri = loc.get("uri") if isinstance(loc.get("uri"), str) else None
                base = base or (loc.get("uriBaseId") if isinstance(loc.get("uriBaseId"), str) else None)
        return uri, base


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


def _rule_id_from_message(message: str) -> str:
    """A rule id for a result that names no rule: its message's first line (SARIF lets a
    producer omit ``ruleId``; Gitleaks 7 does), so equal messages still group together."""
    first = message.strip().splitlines()[0] if message.strip() else "unnamed result"
    return first if len(first) <= 80 else first[:79].rstrip() + "…"


class _Locations:
    """Turns SARIF locations into ours (paths outside the root are kept; the importer reports them)."""

    def __init__(self, ctx: _Ctx, run: _Run, tree: SourceTree) -> None:
        self.ctx = ctx
        self.run = run
        self.tree = tree

    def one(self, loc_raw: Any, where: str, *, snippets: bool = True) -> Location | None:
        ctx = self.ctx
        loc = ctx.obj(loc_raw, where, optional=False)
        phys = ctx.obj(loc.get("physicalLocation"), f"{where}.physicalLocation")
        if not phys:
            return None
        art = ctx.obj(phys.get("artifactLocation"), f"{where}.physicalLocation.artifactLocation")
        uri, base_id = self.run.artifact_location(art, f"{where}.physicalLocation.artifactLocation")
        w = f"{where}.physicalLocation.region"
        region = ctx.obj(phys.get("region"), w)
        start = ctx.line(region, "startLine", w)
        end = ctx.line(region, "endLine", w) or start
        snippet_obj = ctx.obj(region.get("snippet"), f"{w}.snippet")
        snippet = ctx.text(snippet_obj.get("text"), f"{w}.snippet.text") if snippets else None
        if uri and _URL.match(uri):
            return Location(url=uri, snippet=snippet)
        path = normalize(uri, root=self.tree.root, base_id=base_id, bases=self.run.bases).path if uri else None
        if snippets and path and start and path != ".":
            from_tree = self.tree.lines(path, start, end)
            snippet = from_tree if from_tree is not None else snippet
        return Location(
            path=path,
            start_line=start,
            end_line=end,
            start_column=ctx.line(region, "startColumn", w),
            end_column=ctx.line(region, "endColumn", w),
            snippet=snippet.rstrip("\n") if snippet else snippet,
        )

    def of(self, result: dict[str, Any], where: str) -> tuple[Location, tuple[Location, ...], tuple[Location, ...]]:
        """(location, other locations, related locations) of a result."""
        ctx = self.ctx
        locs = [
            x
            for n, raw in enumerate(ctx.lst(result.get("locations"), f"{where}.locations"))
            if (x := self.one(raw, f"{where}.locations[{n}]")) is not None
        ]
        related = tuple(
            x
            for n, raw in enumerate(ctx.lst(result.get("relatedLocations"), f"{where}.relatedLocations"))
            if (x := self.one(raw, f"{where}.relatedLocations[{n}]", snippets=False)) is not None
        )
        if not locs:
            return Location(), (), related
        return locs[0], tuple(locs[1:]), related


def _suppression(ctx: _Ctx, result: dict[str, Any], where: str) -> tuple[Suppression | None, tuple[str, ...]]:
    """The accepted suppression of a result, and tags for the ones that do not (yet) apply."""
    tags: list[str] = []
    for n, s in enumerate(ctx.lst(result.get("suppressions"), f"{where}.suppressions")):
        sd = ctx.obj(s, f"{where}.suppressions[{n}]", optional=False)
        status = sd.get("status") or "accepted"
        kind = str(sd.get("kind") or "inSource")
        justification = sd.get("justification") if isinstance(sd.get("justification"), str) else None
        if status == "accepted":
            # Both kinds are decisions carried by the report, not by the trusted suppressions
            # file: they count as inline suppressions, so the policy's cap on those applies.
            return (
                Suppression(
                    origin="inline",
                    reason=f"SARIF {kind} suppression: {justification or 'no justification given'}",
                    matched_by=f"sarif:{kind}",
                ),
                (),
            )
        tags.append("suppression-under-review" if status == "underReview" else f"suppression-{status}")
    return None, tuple(sorted(set(tags)))


def _fingerprints(result: dict[str, Any]) -> tuple[Identifier, ...]:
    out: list[Identifier] = []
    for name in ("partialFingerprints", "fingerprints"):
        table = result.get(name)
        if isinstance(table, dict):
            for key in sorted(table):
                value = table[key]
                # Only strings: other shapes (Black Duck writes objects) say nothing we can keep.
                if isinstance(value, str) and value and value != "requires login":
                    out.append(Identifier(type="fingerprint", value=f"{key}:{value}"))
    return tuple(out)


def _run_state(ctx: _Ctx, run: dict[str, Any], r: int, tool_name: str) -> tuple[list[str], list[str]]:
    """(failures, warnings) of a run's invocations: an incomplete scan is not a clean one."""
    failures: list[str] = []
    warnings: list[str] = []
    for i, inv_raw in enumerate(ctx.lst(run.get("invocations"), f"runs[{r}].invocations")):
        inv = ctx.obj(inv_raw, f"runs[{r}].invocations[{i}]", optional=False)
        notes = [
            *ctx.lst(inv.get("toolExecutionNotifications"), f"runs[{r}].invocations[{i}].toolExecutionNotifications"),
            *ctx.lst(
                inv.get("toolConfigurationNotifications"), f"runs[{r}].invocations[{i}].toolConfigurationNotifications"
            ),
        ]
        errors = []
        for note in notes:
            if not isinstance(note, dict):
                continue
            raw = note.get("message")
            msg: dict[str, Any] = raw if isinstance(raw, dict) else {}
            text = " ".join(str(msg.get("text") or msg.get("markdown") or "no message").split())[:300]
            level = note.get("level") or "warning"  # SARIF's default for notifications
            if level == "error":
                errors.append(text)
            elif level == "warning":
                warnings.append(f"{tool_name}: {text}")
        if inv.get("executionSuccessful") is False:
            reason = errors[0] if errors else "no reason given"
            failures.append(f"{tool_name} reports an unsuccessful run (executionSuccessful: false): {reason}")
        elif errors:
            failures.append(f"{tool_name} reports an error: {errors[0]}")
    return failures, warnings


MAX_FINDINGS = 50_000
"""Findings one SARIF file keeps in detail. Beyond this (a tool run over vendored code, a noisy
rule) nobody reads them one by one and holding them all would need gigabytes (issue 32: 200 MB
of SARIF took 3.46 GB): the most severe are kept, the rest are counted by rule and severity in
the run's failure, so the gate fails closed and nothing is dropped silently."""


_NULL = msgspec.Raw(b"null")  # msgspec takes no ``Raw | None``: an absent array reads as null


class _Log(msgspec.Struct):
    """The top of a SARIF log; ``runs`` stays raw bytes so that one run is decoded at a time."""

    version: Any = None
    runs: msgspec.Raw = _NULL


class _RawRun(msgspec.Struct, rename="camel"):
    """What the reader uses of a run. ``results`` stays raw: each result is decoded on its own
    and dropped once it is a finding, so memory follows the findings kept, not the file
    (code flows, graphs and web requests are skipped without being built)."""

    tool: Any = None
    invocations: Any = None
    taxonomies: Any = None
    artifacts: Any = None
    original_uri_base_ids: Any = None
    results: msgspec.Raw = _NULL

    def as_dict(self) -> dict[str, Any]:
        names = ("tool", "invocations", "taxonomies", "artifacts")
        out = {k: getattr(self, k) for k in names if getattr(self, k) is not None}
        if self.original_uri_base_ids is not None:
            out["originalUriBaseIds"] = self.original_uri_base_ids
        return out


_RAW_LIST = msgspec.json.Decoder(list[msgspec.Raw] | None)
_LOG = msgspec.json.Decoder(_Log)
_RUN = msgspec.json.Decoder(_RawRun)


class _Keeper:
    """Keeps at most ``cap`` findings, the most severe first (ties: the earlier), and counts the
    others by (rule, severity) so that the import can say exactly what it did not keep."""

    def __init__(self, cap: int) -> None:
        self.cap = max(cap, 0)
        self.seen = 0
        self.heap: list[tuple[int, int, Finding]] = []
        self.left_out: dict[tuple[str, str], int] = {}

    def add(self, f: Finding) -> None:
        self.seen += 1
        # heapq is a min-heap: its top is the finding to give up first (least severe, latest).
        item = (f.severity.rank, -self.seen, f)
        if len(self.heap) < self.cap:
            heapq.heappush(self.heap, item)
            return
        if self.heap and item[:2] > self.heap[0][:2]:
            item = heapq.heapreplace(self.heap, item)
        dropped = item[2]
        key = (dropped.rule_id, dropped.severity.value)
        self.left_out[key] = self.left_out.get(key, 0) + 1

    def kept(self) -> list[Finding]:
        return [f for _, _, f in sorted(self.heap, key=lambda x: -x[1])]

    def failure(self) -> str | None:
        """The reason the import is incomplete, or None when everything was kept."""
        n = sum(self.left_out.values())
        if not n:
            return None
        top = sorted(self.left_out.items(), key=lambda kv: (-kv[1], kv[0]))
        shown = ", ".join(f"{rule} ({sev}) x{count}" for (rule, sev), count in top[:5])
        more = f", and {len(top) - 5} more rule(s)" if len(top) > 5 else ""
        return (
            f"{n} of {self.seen} findings not kept in detail (more than {self.cap} in one SARIF file; "
            f"the most severe are kept): {shown}{more}"
        )


def _decode(decoder: msgspec.json.Decoder[Any], data: msgspec.Raw | str | bytes, ctx: _Ctx, where: str) -> Any:
    """A typed decode of part of the log, with the reader's messages."""
    try:
        return decoder.decode(data)
    except msgspec.ValidationError as e:
        raise ctx.fail(where, f"expected {_SHAPE.get(decoder.type, 'an object')}: {e}") from None
    except msgspec.DecodeError:
        # Not valid JSON: the strict loader says where (line, column), lone surrogates included.
        text = bytes(data) if isinstance(data, msgspec.Raw) else data
        return jsonload.loads(text, origin=f"{ctx.origin}: {where}", error=ParseError)


_SHAPE: dict[Any, str] = {_RAW_LIST.type: "an array"}


def _items(ctx: _Ctx, parent: Any, name: str, where: str | None = None) -> list[Any]:
    """The array ``name`` of a raw struct (raw items, decoded one by one later) or of a dict."""
    where = where or name
    if isinstance(parent, _Log | _RawRun):
        return _decode(_RAW_LIST, getattr(parent, name), ctx, where) or []
    return ctx.lst(parent.get(name) if isinstance(parent, dict) else None, where)


def _as_bytes(data: str | bytes) -> bytes | str:
    """UTF-8 bytes as msgspec reads them; UTF-16 (with BOM) is re-encoded, a UTF-8 BOM dropped."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16").encode("utf-8")
    return data.removeprefix(codecs.BOM_UTF8)


def read(
    text: str | bytes, *, tree: SourceTree, origin: str = "SARIF report", max_findings: int | None = None
) -> SarifImport:
    """Everything a SARIF 2.1.0 log says; :class:`ParseError` naming ``origin`` and the JSON path.

    ``text`` may be the file's bytes: they are read without a copy, and one result at a time is
    built (bounded memory for logs of hundreds of megabytes).
    """
    ctx = _Ctx(origin)
    data = _as_bytes(text)
    head = data[:64].lstrip()
    if head[:1] not in ("{", b"{"):
        # Not an object (or not JSON at all): the strict loader names what it is.
        doc = jsonload.loads(data, origin=origin, error=ParseError)
        ctx.obj(doc, "document", optional=False)
    log = _decode(_LOG, data, ctx, "document")
    # A log msgspec refused but the strict loader took (surrogate escapes of non-UTF-8 names) is
    # already a dict: read the same way, from memory.
    version = log.version if isinstance(log, _Log) else ctx.obj(log, "document", optional=False).get("version")
    if version != "2.1.0":
        raise ctx.fail("version", f"expected SARIF version '2.1.0', got {version!r}")
    keeper = _Keeper(MAX_FINDINGS if max_findings is None else max_findings)
    totals = _Totals()
    runs = [
        _read_run(ctx, raw, r, tree=tree, keeper=keeper, totals=totals)
        for r, raw in enumerate(_items(ctx, log, "runs"))
    ]
    left_out = keeper.failure()
    if left_out is not None:
        totals.failures.append(left_out)
        if runs:
            runs[-1] = replace(runs[-1], failures=(*runs[-1].failures, left_out))
    return SarifImport(
        runs=tuple(runs),
        findings=tuple(keeper.kept()),
        results=totals.results,
        skipped=totals.skipped,
        failures=tuple(totals.failures),
        warnings=tuple(totals.warnings),
    )


@dataclass(kw_only=True)
class _Totals:
    """Counts and messages over every run of one log (mutable while reading)."""

    results: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _read_run(ctx: _Ctx, raw: msgspec.Raw, r: int, *, tree: SourceTree, keeper: _Keeper, totals: _Totals) -> SarifRun:
    decoded = _decode(_RUN, raw, ctx, f"runs[{r}]") if isinstance(raw, msgspec.Raw) else raw
    run = decoded.as_dict() if isinstance(decoded, _RawRun) else ctx.obj(decoded, f"runs[{r}]", optional=False)
    tables = _Run(ctx, run, r)
    tool_name = ctx.text(tables.driver.get("name"), f"runs[{r}].tool.driver.name") or "sarif"
    scanner = _SCANNERS.get(tool_name.lower(), re.sub(r"[^a-z0-9_.-]+", "-", tool_name.lower()).strip("-") or "sarif")
    run_failures, run_warnings = _run_state(ctx, run, r, tool_name)
    totals.failures += run_failures
    totals.warnings += run_warnings
    reader = _Results(ctx, tables, tree, scanner=scanner)
    before = keeper.seen
    for n, item in enumerate(_items(ctx, decoded, "results", f"runs[{r}].results")):
        where = f"runs[{r}].results[{n}]"
        value = item
        if isinstance(item, msgspec.Raw):
            value = jsonload.loads(bytes(item), origin=f"{ctx.origin}: {where}", error=ParseError)
        res = ctx.obj(value, where, optional=False)
        totals.results += 1
        finding = reader.finding(res, where)
        if finding is None:
            totals.skipped += 1
        else:
            keeper.add(finding)
    return SarifRun(
        scanner=scanner,
        version=_text_or_none(tables.driver.get("version") or tables.driver.get("semanticVersion")),
        information_uri=_text_or_none(tables.driver.get("informationUri")),
        findings=keeper.seen - before,
        failures=tuple(run_failures),
    )


class _Results:
    """One run's results -> findings; what depends only on the rule is computed once per rule."""

    def __init__(self, ctx: _Ctx, tables: _Run, tree: SourceTree, *, scanner: str) -> None:
        self.ctx = ctx
        self.tables = tables
        self.scanner = scanner
        self.locations = _Locations(ctx, tables, tree)
        self.statics: dict[tuple[str, int], tuple[str, tuple[Identifier, ...], str | None]] = {}
        # Equal texts share one string: a large log repeats the same message thousands of times.
        self.texts: dict[str, str] = {}

    def finding(self, res: dict[str, Any], where: str) -> Finding | None:
        """The finding of one result (None: not a finding, e.g. ``kind: pass``)."""
        ctx, tables = self.ctx, self.tables
        if res.get("kind") in _NOT_FINDINGS or res.get("baselineState") == "absent":
            return None
        rule_id, rule = tables.rule(res, where)
        message = self.texts.setdefault(m := _message(ctx, res, rule, where), m)
        rule_id = rule_id or _rule_id_from_message(message)
        rprops = ctx.obj(rule.get("properties"), "rule.properties")
        props = ctx.obj(res.get("properties"), f"{where}.properties")
        severity, original = _severity(ctx, res, rule, props, rprops)
        conf_raw = str(props.get("issue_confidence") or rprops.get("precision") or "").lower()
        location, others, related = self.locations.of(res, where)
        key = (rule_id, id(rule))
        static = self.statics.get(key)
        if static is None:
            static = self.statics[key] = _rule_static(ctx, tables, rule_id, rule, rprops=rprops, scanner=self.scanner)
        title, identifiers, help_uri = static
        extra = _cwes(props.get("tags"), props.get("cwe")) + tables.taxon_cwes(
            ctx.lst(res.get("taxa"), f"{where}.taxa")
        )
        if extra:
            known = {i.value for i in identifiers}
            identifiers = identifiers + tuple(_cwe_identifier(c) for c in dict.fromkeys(extra) if c not in known)
        identifiers = identifiers + _fingerprints(res)
        suppression, tags = _suppression(ctx, res, where)
        kind = (
            Kind.DAST if location.url else sast_kind((i.value for i in identifiers if i.type == "cwe"), rule_id=rule_id)
        )
        fixed: tuple[str, ...] = ()
        own = _secscan_written(res, props)
        if own is not None:
            kind, location, identifiers, fixed = _own_finding(own, res, props, location, identifiers)
        source = Source(
            scanner=self.scanner, rule_id=rule_id, severity_original=original, message=message, location=location
        )
        return Finding(
            kind=kind,
            fixed_versions=fixed,
            scanner=self.scanner,
            rule_id=rule_id,
            title=title,
            message=message,
            severity=severity,
            severity_original=original,
            confidence=_PRECISION.get(conf_raw, Confidence.UNKNOWN),
            location=location,
            other_locations=others,
            related_locations=related,
            identifiers=identifiers,
            references=(help_uri,) if help_uri else (),
            suppression=suppression,
            tags=tags,
            sources=(source,),
        )


# secscan's own SARIF (secscan/reporters/sarif.py) says what a result is beyond SARIF's terms: its
# kind (a tag), its identifiers and fixed versions (properties) and the package it is about (a
# logical location). Read back, a dependency finding stays a dependency with the same identity.
_OWN_FINGERPRINT = "secscanFingerprint/v1"
_KINDS = {k.value: k for k in Kind}


def _secscan_written(res: dict[str, Any], props: dict[str, Any]) -> Kind | None:
    """The kind secscan wrote for this result, or None when secscan did not write it."""
    fps = res.get("partialFingerprints")
    if not isinstance(fps, dict) or not str(fps.get(_OWN_FINGERPRINT, "")).startswith("v1:"):
        return None
    tags = props.get("tags")
    kinds = [_KINDS[t] for t in tags if isinstance(t, str) and t in _KINDS] if isinstance(tags, list) else []
    return kinds[0] if len(kinds) == 1 else None


def _own_finding(
    kind: Kind, res: dict[str, Any], props: dict[str, Any], location: Location, identifiers: tuple[Identifier, ...]
) -> tuple[Kind, Location, tuple[Identifier, ...], tuple[str, ...]]:
    known = {(i.type, i.value) for i in identifiers}
    extra = []
    for raw in props.get("secscan/identifiers") or ():
        if isinstance(raw, str) and ":" in raw:
            type_, value = raw.split(":", 1)
            if type_ and value and (type_, value) not in known and type_ != "fingerprint":
                known.add((type_, value))
                extra.append(Identifier(type=type_, value=value))
    fixed = tuple(v for v in props.get("secscan/fixedVersions") or () if isinstance(v, str) and v)
    if kind is Kind.DEPENDENCY:
        package, version = _package(res)
        # The manifest is the location; the region (line 1) only placed it for SARIF viewers.
        location = Location(path=location.path, package=package, version=version)
    return kind, location, identifiers + tuple(extra), fixed


def _package(res: dict[str, Any]) -> tuple[str | None, str | None]:
    locs = res.get("locations")
    first = locs[0] if isinstance(locs, list) and locs and isinstance(locs[0], dict) else {}
    for logical in first.get("logicalLocations") or ():
        if isinstance(logical, dict) and logical.get("kind") == "package" and isinstance(logical.get("name"), str):
            name, _, version = logical["name"].partition("==")
            return name or None, version or None
    return None, None


def _severity(
    ctx: _Ctx, res: dict[str, Any], rule: dict[str, Any], props: dict[str, Any], rprops: dict[str, Any]
) -> tuple[Severity, str]:
    """(severity, the producer's own value): a CVSS-like score, bandit's name, else the level."""
    level = (
        res.get("level")
        or ctx.obj(rule.get("defaultConfiguration"), "rule.defaultConfiguration").get("level")
        or "warning"
    )
    score = _score(props)
    score = score if score is not None else _score(rprops)
    named = str(props.get("issue_severity", "")).upper()
    if score is not None:
        return severity_of_score(score), f"{level} ({score:g})"
    if named in _NAMED:
        return _NAMED[named], named
    return _LEVEL.get(str(level), Severity.MEDIUM), str(level)


def _rule_static(
    ctx: _Ctx, run: _Run, rule_id: str, rule: dict[str, Any], *, rprops: dict[str, Any], scanner: str
) -> tuple[str, tuple[Identifier, ...], str | None]:
    """(title, identifiers, help URI) of a rule."""
    short = ctx.obj(rule.get("shortDescription"), "rule.shortDescription").get("text")
    name = rule.get("name")
    title = name if isinstance(name, str) and name and name != rule_id else None
    title = title or (short if isinstance(short, str) and short else None) or rule_id
    cwes = _cwes(rprops.get("tags"), rprops.get("cwe"))
    help_uri = rule.get("helpUri") if isinstance(rule.get("helpUri"), str) else None
    cwe_page = _CWE_PAGE.match(help_uri or "")
    if cwe_page and f"CWE-{int(cwe_page.group(1))}" not in cwes:
        # A rule whose help page is the CWE entry (ShiftLeft sast-scan, Flawfinder) names its CWE.
        cwes.append(f"CWE-{int(cwe_page.group(1))}")
    relationships = ctx.lst(rule.get("relationships"), "rule.relationships")
    targets = (r.get("target") for r in relationships if isinstance(r, dict))
    cwes += [c for c in run.taxon_cwes(targets) if c not in cwes]
    identifiers = (
        Identifier(type=scanner if scanner in ("bandit", "semgrep") else "rule", value=rule_id),
        *(_cwe_identifier(c) for c in cwes),
    )
    return str(title).replace("_", " "), identifiers, help_uri


def parse(text: str | bytes, *, tree: SourceTree, origin: str = "SARIF report") -> list[Finding]:
    """The findings of a SARIF 2.1.0 log (see :func:`read` for everything else it says)."""
    return list(read(text, tree=tree, origin=origin).findings)
