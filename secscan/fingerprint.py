"""Finding fingerprints, algorithm v1 (documented in README, "Fingerprint v1").

A fingerprint is the identity of a problem, not of a report line: it must survive line moves,
reformatting, a different checkout directory and a different run order, and it must change when
the flagged code changes. The string is ``v1:`` + the first 32 hex digits of a SHA-256 over a
``\\x1f``-separated key, so a future v2 never collides with v1 and baselines can tell them apart.

* sast / secret: kind, rule family, repo-relative path, enclosing scope (``Class.method`` from
  the Python AST; ``<module>`` at top level; empty for non-Python files), the normalized code of
  the flagged lines, and an occurrence index: the n-th distinct place in that file with the same
  key (counted in line order, so order-only, never the line number itself). Results of one
  scanner on one line that differ in region or rule get a rank there too (``spot``; the first
  keeps the fingerprint it had before ranks existed), so they are never merged as one problem.
* dependency: kind, normalized package name (PEP 503), canonical advisory id (aliases folded:
  CVE first, then GHSA, then PYSEC/OSV), manifest path.
* dast: kind, ZAP plugin id, HTTP method, URL path with ids and numbers generalized, parameter.

The rule family is scanner-independent when the finding carries a CWE (so bandit B324 and a
semgrep MD5 rule on the same code get the same fingerprint and dedupe merges them); otherwise it
is ``scanner:rule_id``.
"""

from __future__ import annotations

import ast
import gc
import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from secscan.models import Finding, Kind
from secscan.sourcefiles import SourceTree, to_repo_path
from secscan.textsafe import secret_values

VERSION = "v1"
_SEP = "\x1f"

# CWE -> family. Scanners disagree on the exact CWE for one problem (bandit says CWE-327 for
# MD5, semgrep rules say CWE-328 or CWE-327), so related weaknesses share one family name.
_CWE_FAMILIES: dict[int, str] = {
    **dict.fromkeys((77, 78, 88), "command-injection"),
    **dict.fromkeys((89, 564), "sql-injection"),
    **dict.fromkeys((79, 80, 83, 116), "xss"),
    **dict.fromkeys((94, 95, 96, 1336), "code-injection"),
    **dict.fromkeys((502,), "deserialization"),
    **dict.fromkeys((326, 327, 328, 916, 759, 760), "weak-crypto"),
    **dict.fromkeys((259, 321, 798, 522), "hardcoded-secret"),
    **dict.fromkeys((22, 23, 36, 73), "path-traversal"),
    **dict.fromkeys((295, 297, 599), "tls-verification"),
    **dict.fromkeys((330, 331, 338), "weak-random"),
    **dict.fromkeys((611, 776, 827), "xml-entities"),
    **dict.fromkeys((918,), "ssrf"),
    **dict.fromkeys((601,), "open-redirect"),
    **dict.fromkeys((377, 379), "insecure-temp-file"),
    **dict.fromkeys((703, 390, 396, 397), "error-handling"),
    **dict.fromkeys((319, 523), "cleartext-transport"),
    **dict.fromkeys((352,), "csrf"),
    **dict.fromkeys((209, 200, 497), "information-exposure"),
    **dict.fromkeys((732, 276), "permissions"),
    **dict.fromkeys((400, 1333), "resource-exhaustion"),
}

# bandit before 1.7.5 reports no CWE: the CWE each test has in newer bandit keeps the family
# (and so the fingerprint) the same when a project upgrades bandit.
_BANDIT_CWE: dict[str, int] = {
    **dict.fromkeys(("B101", "B110", "B112"), 703),
    **dict.fromkeys(("B102", "B307", "B404", "B601", "B602", "B603", "B604", "B605", "B606", "B607", "B609"), 78),
    **dict.fromkeys(("B103",), 732),
    **dict.fromkeys(("B104",), 605),
    **dict.fromkeys(("B105", "B106", "B107"), 259),
    **dict.fromkeys(("B108", "B306"), 377),
    **dict.fromkeys(("B113",), 400),
    **dict.fromkeys(("B201", "B612", "B701", "B702"), 94),
    **dict.fromkeys(("B202", "B310"), 22),
    **dict.fromkeys(("B301", "B302", "B403"), 502),
    **dict.fromkeys(("B303", "B304", "B305", "B324", "B413", "B502", "B503", "B504"), 327),
    **dict.fromkeys(("B308", "B703"), 79),
    **dict.fromkeys(("B311",), 330),
    **dict.fromkeys(("B312", "B321", "B401", "B402"), 319),
    **dict.fromkeys(("B313", "B314", "B315", "B316", "B317", "B318", "B319", "B320", "B405", "B406"), 20),
    **dict.fromkeys(("B407", "B408", "B409", "B410", "B411", "B506"), 20),
    **dict.fromkeys(("B323", "B501", "B507"), 295),
    **dict.fromkeys(("B505",), 326),
    **dict.fromkeys(("B608", "B610", "B611"), 89),
}

_CWE_NUM = re.compile(r"(?i)cwe[-_ ]?(\d+)")
_ADVISORY_TYPES = ("cve", "ghsa", "pysec", "osv")
_ADVISORY_PATTERNS = (
    ("cve", re.compile(r"^CVE-\d{4}-\d+$", re.I)),
    ("ghsa", re.compile(r"^GHSA(-[0-9a-z]{4}){3}$", re.I)),
    ("pysec", re.compile(r"^PYSEC-\d{4}-\d+$", re.I)),
)
_ADVISORY_RANK = {"cve": 0, "ghsa": 1, "pysec": 2, "osv": 3}


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a batch that only allocates acyclic data.

    Building 100,000 frozen findings triggers a full collection again and again, each one
    walking every object alive: about a third of the CPU time in the triage benchmark. Nothing
    here makes reference cycles, so reference counting frees all of it; the collector is back
    on (if it was on) when the batch ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def evolve(f: Finding, **changes: object) -> Finding:
    """``dataclasses.replace`` for a Finding whose new values are already valid.

    ``replace`` re-runs ``__init__`` (and the frozen ``__setattr__`` per field): at 100,000
    findings that alone took seconds in the benchmark. Copying the instance dict is the same
    result without the checks, which the changed fields here do not need.
    """
    new = object.__new__(Finding)
    new.__dict__.update(f.__dict__)
    new.__dict__.update(changes)
    return new


def _digest(parts: Iterable[str]) -> str:
    return f"{VERSION}:" + hashlib.sha256(_SEP.join(parts).encode("utf-8")).hexdigest()[:32]


# ------------------------------------------------------------------ sast helpers


def cwe_numbers(f: Finding) -> tuple[int, ...]:
    out = set()
    for value in f.cwe_ids():
        m = _CWE_NUM.search(value)
        if m:
            out.add(int(m.group(1)))
    return tuple(sorted(out))


def rule_family(f: Finding) -> str:
    """Scanner-independent family from the CWE ids, else ``scanner:rule_id``."""
    numbers = cwe_numbers(f)
    if not numbers and f.scanner == "bandit" and f.rule_id.upper() in _BANDIT_CWE:
        numbers = (_BANDIT_CWE[f.rule_id.upper()],)
    families = sorted({_CWE_FAMILIES.get(n, f"cwe-{n}") for n in numbers})
    if families:
        # Several CWEs on one finding: the first family name is as good as any, but it must be
        # the same choice every time, hence sorted.
        return families[0]
    return f"rule:{f.scanner}:{f.rule_id}"


_C_STYLE = frozenset({".js", ".jsx", ".ts", ".tsx", ".java", ".go", ".c", ".h", ".cc", ".cpp", ".cs", ".kt", ".rs"})
_C_STYLE |= {".swift", ".scala", ".php"}


# One pass of a regex: string literals (group 1) are kept verbatim, comments and whitespace
# dropped. Unterminated strings run to the end of the line (a flagged fragment may cut one).
_STRINGS = (
    r"""(\"\"\"[\s\S]*?(?:\"\"\"|\Z)|'''[\s\S]*?(?:'''|\Z)"""  # triple-quoted
    r"""|"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?|`[^`\n]*`?)"""  # single-line strings
)
_HASH_STYLE = re.compile(_STRINGS + r"|#[^\n]*|\s+")
_C_STYLE_RE = re.compile(_STRINGS + r"|//[^\n]*|/\*[\s\S]*?(?:\*/|\Z)|\s+")


def _keep_strings(m: re.Match[str]) -> str:
    return m.group(1) or ""


def normalize_code(text: str, path: str = "") -> str:
    """The code with whitespace and comments removed; string literals kept verbatim.

    A regex lexer rather than :mod:`tokenize`: scanners flag partial statements (one line of a
    multi-line call) that tokenize rejects, and the result must not depend on whether the
    fragment happens to parse. ``#`` comments everywhere except C-style languages, where ``//``
    and ``/* */`` are comments instead.
    """
    ext = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ""
    c_style = ext in _C_STYLE
    if not any(c in text for c in "\"'`#/"):
        return "".join(text.split())  # the common case, and ten times faster
    return (_C_STYLE_RE if c_style else _HASH_STYLE).sub(_keep_strings, text)


def _python_scopes(text: str) -> list[tuple[int, int, str]] | None:
    """(first line, last line, qualified name) of every def/class, or None if it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    scopes: list[tuple[int, int, str]] = []

    # Only statement lists can hold a def or class, so the walk never descends into expressions:
    # on a large file that is ten times fewer nodes than a full ast.walk.
    def walk(stmts: list[Any], prefix: str) -> None:
        for node in stmts:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}.{node.name}" if prefix else node.name
                # Decorators belong to the function: a finding in @app.route(...) is in it.
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                scopes.append((first, node.end_lineno or node.lineno, name))
                walk(node.body, name)
                continue
            for attr in _BLOCK_FIELDS:
                block = getattr(node, attr, None)
                if block:
                    walk(block, prefix)

    walk(tree.body, "")
    return scopes


# Fields of statements (and of except handlers / match cases) that hold nested statements.
_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


class ScopeIndex:
    """Caches parsed scopes per file text (the AST is the expensive part)."""

    def __init__(self) -> None:
        self._cache: dict[str, list[tuple[int, int, str]] | None] = {}

    def scope_at(self, text: str, line: int, *, key: str | None = None) -> str:
        """Innermost ``Class.func`` enclosing ``line``; ``<module>`` at top level; ``""`` if unparseable."""
        cache_key = key if key is not None else text
        if cache_key not in self._cache:
            self._cache[cache_key] = _python_scopes(text)
        scopes = self._cache[cache_key]
        if scopes is None:
            return ""
        best = "<module>"
        best_span = None
        for first, last, name in scopes:
            if first <= line <= last and (best_span is None or last - first <= best_span):
                best, best_span = name, last - first
        return best


def repo_path(path: str, root: Path | None) -> str:
    """:func:`to_repo_path`, skipping pathlib for paths that are already clean (nearly all)."""
    if path and "\\" not in path and not path.startswith(("/", "./")) and "//" not in path and "/./" not in path:
        return path
    return to_repo_path(path, root)


def _is_python(path: str) -> bool:
    return path.endswith((".py", ".pyi", ".pyw"))


def flagged_code(f: Finding, tree: SourceTree, path: str | None = None) -> str:
    """The flagged lines' text: from the tree when the file is there, else the reported snippet."""
    loc = f.location
    path = path if path is not None else repo_path(loc.path or "", tree.root)
    if path and loc.start_line:
        text = tree.lines(path, loc.start_line, loc.end_line)
        if text is not None:
            return text
    return loc.snippet or ""


def _sast_base(f: Finding, tree: SourceTree, scopes: ScopeIndex) -> tuple[str, ...]:
    loc = f.location
    path = repo_path(loc.path or "", tree.root)
    if loc.commit:
        # A secret found in an earlier commit of the merge request and gone from the tree: its
        # code is that commit's line (the snippet, masked by its parser), not the tree's.
        return (f.kind.value, rule_family(f), path, "", normalize_code(blank_secrets(loc.snippet or ""), path))
    scope = ""
    if path and loc.start_line and _is_python(path):
        text = tree.text(path)
        if text is not None:
            scope = scopes.scope_at(text, loc.start_line, key=path)
    code = flagged_code(f, tree, path)
    if f.kind is Kind.SECRET:
        code = blank_secrets(code)
    return (f.kind.value, rule_family(f), path, scope, normalize_code(code, path))


def blank_secrets(code: str) -> str:
    """The code with every secret-looking value replaced: a secret finding's fingerprint is
    published (reports, GitLab tracking, MR markers) and must not be a hash one could test
    guesses of the secret against."""

    for value in secret_values(code):
        code = code.replace(value, "\x00")
    return code


# ------------------------------------------------------------------ dependency helpers


def normalize_package(name: str) -> str:
    """PEP 503 normalized distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower().strip()


def advisory_ids(f: Finding) -> tuple[str, ...]:
    """Every advisory id the finding is known by (rule id and CVE/GHSA/PYSEC/OSV identifiers)."""
    ids = {f.rule_id.strip().upper()} if f.rule_id.strip() else set()
    ids |= {i.value.strip().upper() for i in f.identifiers if i.type.lower() in _ADVISORY_TYPES and i.value.strip()}
    return tuple(sorted(ids))


def canonical_advisory(f: Finding) -> str:
    """One id for all aliases: the lowest CVE, else GHSA, else PYSEC, else any (sorted)."""

    def rank(value: str) -> tuple[int, str]:
        for kind, pattern in _ADVISORY_PATTERNS:
            if pattern.match(value):
                return (_ADVISORY_RANK[kind], value)
        return (_ADVISORY_RANK["osv"], value)

    ids = advisory_ids(f)
    return min(ids, key=rank) if ids else ""


def dependency_key(f: Finding) -> tuple[str, str]:
    """(package, advisory): what makes two dependency findings the same problem."""
    return (normalize_package(f.location.package or ""), canonical_advisory(f))


# ------------------------------------------------------------------ dast helpers

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_HEXID = re.compile(r"^(?=.*\d)[0-9a-f]{16,}$", re.I)
_DIGITS = re.compile(r"\d+")


def generalize_url_path(url: str) -> str:
    """The URL's path with ids generalized: ``/users/42/orders/9f1c...`` -> ``/users/{n}/orders/{id}``.

    Host, scheme, port, query and fragment are dropped: review apps and staging differ in host,
    and the same page with another query value is the same problem.
    """
    try:
        path = urlsplit(url).path if "://" in url else url.split("?", 1)[0].split("#", 1)[0]
    except ValueError:
        path = url
    segments = []
    for seg in path.split("/"):
        if _UUID.match(seg) or _HEXID.match(seg):
            segments.append("{id}")
        else:
            segments.append(_DIGITS.sub("{n}", seg))
    generalized = "/".join(segments)
    return generalized or "/"


def zap_plugin_id(f: Finding) -> str:
    """ZAP's ``alertRef`` (the rule id): plugin id plus a variant suffix such as ``10055-13``.

    The bare plugin id is not enough: two variants of one plugin on the same path and
    parameter are different problems and must not be merged by dedupe."""
    if f.rule_id:
        return f.rule_id
    for i in f.identifiers:
        if i.type == "zap_plugin":
            return i.value
    return ""


# ------------------------------------------------------------------ entry points


def fingerprint_one(f: Finding, tree: SourceTree, *, occurrence: int = 0, scopes: ScopeIndex | None = None) -> str:
    """The v1 fingerprint of one finding (``occurrence`` only matters for sast/secret)."""
    if f.kind is Kind.DEPENDENCY:
        package, advisory = dependency_key(f)
        manifest = repo_path(f.location.path or "", tree.root)
        return _digest((f.kind.value, package, advisory, manifest))
    if f.kind is Kind.DAST:
        loc = f.location
        return _digest(
            (
                f.kind.value,
                zap_plugin_id(f),
                (loc.method or "").upper(),
                generalize_url_path(loc.url or ""),
                loc.param or "",
            )
        )
    return _digest((*_sast_base(f, tree, scopes or ScopeIndex()), str(occurrence)))


CARRIED = "secscanFingerprint/v1:"
"""Prefix of the ``fingerprint`` identifier an importer gives a finding read from a report secscan
wrote (SARIF ``partialFingerprints``, GitLab ``details``): its identity as computed where the code
was scanned (columns, merged sources), kept on import. A report can only claim an identity for a
finding it reports, which it could as well leave out."""
_V1 = re.compile(r"^v1:[0-9a-f]{32}$")


def carried_fingerprint(f: Finding) -> str | None:
    for i in f.identifiers:
        if i.type == "fingerprint" and i.value.startswith(CARRIED):
            value = i.value[len(CARRIED) :]
            if _V1.match(value):
                return value
    return None


def assign(findings: Sequence[Finding], *, tree: SourceTree) -> list[Finding]:
    """Return the findings (same order) with ``fingerprint`` set by algorithm v1.

    Occurrence indexes are counted per identical sast key in line order, so the result does not
    depend on the order the findings arrive in. Two reports of one place (e.g. two scanners on
    the same line) share the index and hence the fingerprint: that is what dedupe merges.
    """
    with gc_paused():
        return _assign(findings, tree)


def _assign(findings: Sequence[Finding], tree: SourceTree) -> list[Finding]:
    scopes = ScopeIndex()
    out: list[Finding | None] = [None] * len(findings)
    groups: dict[tuple[str, ...], list[tuple[int, int, int]]] = defaultdict(list)
    for idx, f in enumerate(findings):
        carried = carried_fingerprint(f)
        if carried is not None:
            out[idx] = evolve(f, fingerprint=carried)
        elif f.kind in (Kind.SAST, Kind.SECRET):
            base = _sast_base(f, tree, scopes)
            groups[base].append((f.location.start_line or 0, f.location.start_column or 0, idx))
        else:
            out[idx] = evolve(f, fingerprint=fingerprint_one(f, tree, scopes=scopes))
    for base, members in groups.items():
        places = sorted({line for line, _col, _idx in members})
        occurrence = {line: n for n, line in enumerate(places)}
        spots = _spot_indexes(findings, members) if len(members) > 1 else {}
        for line, _col, idx in members:
            parts = (*base, str(occurrence[line]))
            spot = spots.get(idx, 0)
            # Index 0 adds nothing, so every fingerprint that existed before spots did is kept.
            out[idx] = evolve(findings[idx], fingerprint=_digest((*parts, f"spot{spot}") if spot else parts))
    return [f for f in out if f is not None]


def _spot(f: Finding) -> tuple[int, int, int, str, str]:
    """Where on its line one scanner's finding is, and by which rule: its region (columns
    included) and rule id; without any line, its message is all that tells results apart."""
    loc = f.location
    message = "" if loc.start_line else f.message
    # Secret detectors of one scanner (detect-secrets' AWS and high-entropy plugins) flagging the
    # same place flag the same secret: one problem, whichever detector named it.
    rule = "" if f.kind is Kind.SECRET else f.rule_id
    return (loc.start_column or 0, loc.end_line or 0, loc.end_column or 0, rule, message)


def _spot_indexes(findings: Sequence[Finding], members: list[tuple[int, int, int]]) -> dict[int, int]:
    """Per finding, the rank of its spot among its own scanner's spots on the same line.

    Two reports of the same rule at the same region are one problem (rank equal: merged, and
    counted as duplicates). The same rule at other columns of the line, or another rule of the
    same family, is another problem (a higher rank). Across scanners ranks line up in column
    order, so bandit B324 and semgrep's MD5 rule on one call still share rank 0 and merge.
    """
    cells: dict[tuple[int, str], dict[tuple[int, int, int, str, str], list[int]]] = defaultdict(dict)
    for line, _col, idx in members:
        f = findings[idx]
        cells[(line, f.scanner)].setdefault(_spot(f), []).append(idx)
    out: dict[int, int] = {}
    for by_spot in cells.values():
        for rank, spot in enumerate(sorted(by_spot)):
            for idx in by_spot[spot]:
                out[idx] = rank
    return out
