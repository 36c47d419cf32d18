"""Compliance mapping: finding -> OWASP Top 10 (2021) category and PCI DSS v4.0 requirement ids.

The table is data (``rules/compliance/mapping.toml``, see its README for how it was chosen); this
module only parses it and applies it. :func:`annotate` is pure given a table: the default table
is read once, on first use, and cached.

Lookup for one finding: the scanner's own rule id first (curated: bandit test id, semgrep rule
id, ZAP plugin id), else every CWE id it carries; the finding kind's defaults (e.g. dependency ->
A06 / 6.3.3) are always added. OWASP identifiers the scanner already supplied are kept and count.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from secscan.errors import ConfigError
from secscan.models import Finding, Identifier
from secscan.resources import rules_dir

OWASP_PREFIX = "OWASP-2021:"
PCI_PREFIX = "PCI-DSS-4.0:"

_OWASP_CAT = re.compile(r"^A(?:0[1-9]|10)$")
_PCI_REQ = re.compile(r"^\d{1,2}(?:\.\d{1,2}){1,3}$")
# Scanner-supplied OWASP values look like "A03:2021", "A03:2021 - Injection" or (older lists)
# "A1:2017-Injection": only the 2021 list is mapped.
_OWASP_2021_VALUE = re.compile(r"^\s*A(\d{1,2})\s*:\s*2021\b")
_CWE_NUM = re.compile(r"(\d+)")


@dataclass(frozen=True, kw_only=True)
class Entry:
    """What one key (rule id, CWE, kind) maps to."""

    owasp: str | None = None
    """OWASP Top 10 2021 category, ``A01`` .. ``A10``."""
    pci: tuple[str, ...] = ()
    """PCI DSS v4.0 requirement ids, e.g. ``6.2.4``."""


@dataclass(frozen=True, kw_only=True)
class ComplianceTable:
    """The parsed mapping file."""

    owasp: Mapping[str, tuple[str, str]]
    """Category -> (title, url)."""
    pci_dss: Mapping[str, str]
    """Requirement id -> short paraphrase."""
    cwe: Mapping[str, Entry]
    """``CWE-89`` -> entry."""
    rules: Mapping[str, Mapping[str, Entry]]
    """Scanner name -> rule id -> entry."""
    kinds: Mapping[str, Entry]
    """Finding kind (``dependency``, ``dast``, ``secret``, ``sast``) -> entry added to all of them."""

    def owasp_title(self, category: str) -> str | None:
        item = self.owasp.get(category)
        return item[0] if item else None

    def pci_title(self, requirement: str) -> str | None:
        return self.pci_dss.get(requirement)


def _entry(raw: object, where: str, table_owasp: Mapping[str, object], pci_known: Mapping[str, str]) -> Entry:
    if not isinstance(raw, dict):
        raise ConfigError(f"compliance mapping: {where} must be a table like {{ owasp = 'A03', pci = ['6.2.4'] }}")
    unknown = set(raw) - {"owasp", "pci"}
    if unknown:
        raise ConfigError(f"compliance mapping: {where} has unknown key(s) {', '.join(sorted(unknown))}")
    owasp = raw.get("owasp")
    if owasp is not None and (not isinstance(owasp, str) or owasp not in table_owasp):
        raise ConfigError(f"compliance mapping: {where}: owasp {owasp!r} is not a category listed in [owasp]")
    pci = raw.get("pci", [])
    if not isinstance(pci, list) or not all(isinstance(p, str) for p in pci):
        raise ConfigError(f"compliance mapping: {where}: pci must be a list of requirement ids")
    for p in pci:
        if p not in pci_known:
            raise ConfigError(f"compliance mapping: {where}: PCI DSS requirement {p!r} is not listed in [pci_dss]")
    return Entry(owasp=owasp, pci=tuple(pci))


def _section(data: Mapping[str, object], name: str) -> dict[str, object]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"compliance mapping: [{name}] must be a table")
    return value


def _owasp(data: Mapping[str, object]) -> dict[str, tuple[str, str]]:
    owasp: dict[str, tuple[str, str]] = {}
    for cat, raw in _section(data, "owasp").items():
        if not _OWASP_CAT.match(cat) or not isinstance(raw, dict):
            raise ConfigError(f"compliance mapping: [owasp] entry {cat!r} is not A01..A10 = {{ title, url }}")
        owasp[cat] = (str(raw.get("title", "")), str(raw.get("url", "")))
    return owasp


def _pci_dss(data: Mapping[str, object]) -> dict[str, str]:
    pci_dss: dict[str, str] = {}
    for req, title in _section(data, "pci_dss").items():
        if not _PCI_REQ.match(req) or not isinstance(title, str):
            raise ConfigError(f"compliance mapping: [pci_dss] entry {req!r} is not a requirement id = title")
        pci_dss[req] = title
    return pci_dss


def load_table(text: str) -> ComplianceTable:
    """Parse and validate a mapping file's text; ConfigError (one line) if it is malformed."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"compliance mapping is not valid TOML: {e}") from e
    if data.get("version") != 1:
        raise ConfigError(f"compliance mapping: unsupported version {data.get('version')!r} (expected 1)")

    owasp = _owasp(data)
    pci_dss = _pci_dss(data)
    cwe: dict[str, Entry] = {}
    for key, raw in _section(data, "cwe").items():
        m = re.fullmatch(r"CWE-(\d+)", key)
        if not m:
            raise ConfigError(f"compliance mapping: [cwe] key {key!r} is not like 'CWE-89'")
        cwe[key] = _entry(raw, f"[cwe] {key}", owasp, pci_dss)
    rules: dict[str, dict[str, Entry]] = {}
    for scanner, table in _section(data, "rules").items():
        if not isinstance(table, dict):
            raise ConfigError(f"compliance mapping: [rules.{scanner}] must be a table")
        rules[scanner] = {rid: _entry(raw, f"[rules.{scanner}] {rid}", owasp, pci_dss) for rid, raw in table.items()}
    kinds = {kind: _entry(raw, f"[kinds] {kind}", owasp, pci_dss) for kind, raw in _section(data, "kinds").items()}
    return ComplianceTable(owasp=owasp, pci_dss=pci_dss, cwe=cwe, rules=rules, kinds=kinds)


def mapping_path() -> Path:

    return rules_dir() / "compliance" / "mapping.toml"


@functools.cache
def default_table() -> ComplianceTable:
    """The bundled mapping, read once on first use."""
    path = mapping_path()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read compliance mapping {path.name}: {e.strerror or e}") from e
    return load_table(text)


def _rule_keys(scanner: str, rule_id: str) -> Iterable[str]:
    """Candidate keys for a rule id, most specific first."""
    rid = rule_id.strip()
    yield rid
    if scanner == "semgrep":
        # semgrep prefixes ids with the config folder ("rules.semgrep.payment.x"): try each suffix.
        parts = rid.split(".")
        for i in range(1, len(parts)):
            yield ".".join(parts[i:])
    elif scanner == "zap":
        # alertRef "10055-13" is a variant of plugin 10055.
        yield rid.split("-", 1)[0]
    elif scanner == "bandit":
        yield rid.split(":", 1)[0].upper()


def _rule_entry(table: ComplianceTable, finding: Finding) -> Entry | None:
    pairs = [(finding.scanner, finding.rule_id)] + [(s.scanner, s.rule_id) for s in finding.sources]
    pairs += [("zap", i.value) for i in finding.identifiers if i.type == "zap_plugin"]
    for scanner, rule_id in pairs:
        rules = table.rules.get(scanner)
        if not rules:
            continue
        for key in _rule_keys(scanner, rule_id):
            if key in rules:
                return rules[key]
    return None


def _cwe_key(value: str) -> str | None:
    m = _CWE_NUM.search(value)
    return f"CWE-{int(m.group(1))}" if m else None


def _pci_sort_key(req: str) -> tuple[int, ...]:
    return tuple(int(p) for p in req.split("."))


def _existing_owasp(finding: Finding) -> list[str]:
    """OWASP 2021 categories the scanner already supplied as identifiers (``A03``...)."""
    found = []
    for ident in finding.identifiers:
        m = _OWASP_2021_VALUE.match(ident.value) if ident.type == "owasp" else None
        if m:
            found.append(f"A{int(m.group(1)):02d}")
    return found


def classify(finding: Finding, table: ComplianceTable) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(OWASP categories, PCI DSS requirement ids) for one finding; primary category first."""
    owasp: list[str] = []
    pci: set[str] = set()

    def add(entry: Entry | None) -> None:
        if entry is None:
            return
        if entry.owasp and entry.owasp not in owasp:
            owasp.append(entry.owasp)
        pci.update(entry.pci)

    for cat in _existing_owasp(finding):
        if cat in table.owasp and cat not in owasp:
            owasp.append(cat)
    rule = _rule_entry(table, finding)
    if rule is not None:
        add(rule)
    else:
        for value in finding.cwe_ids():
            key = _cwe_key(value)
            if key is not None:
                add(table.cwe.get(key))
    add(table.kinds.get(str(finding.kind)))
    return tuple(owasp), tuple(sorted(pci, key=_pci_sort_key))


def annotate_one(finding: Finding, table: ComplianceTable) -> Finding:
    owasp, pci = classify(finding, table)
    if not owasp and not pci:
        return finding
    new_ids = [f"{OWASP_PREFIX}{c}" for c in sorted(owasp)] + [f"{PCI_PREFIX}{p}" for p in pci]
    compliance = tuple(finding.compliance) + tuple(c for c in new_ids if c not in finding.compliance)
    have = set(_existing_owasp(finding))
    extra = tuple(
        Identifier(type="owasp", value=f"{c}:2021", url=table.owasp[c][1] or None) for c in owasp if c not in have
    )
    if compliance == finding.compliance and not extra:
        return finding
    return replace(finding, compliance=compliance, identifiers=finding.identifiers + extra)


def annotate(findings: Sequence[Finding], *, table: ComplianceTable | None = None) -> list[Finding]:
    """Return the findings with ``compliance`` ids (``OWASP-2021:A03``, ``PCI-DSS-4.0:6.2.4``) and
    an ``owasp`` identifier filled in where missing. Idempotent; findings nothing maps are
    returned unchanged."""
    t = table if table is not None else default_table()
    return [annotate_one(f, t) for f in findings]
