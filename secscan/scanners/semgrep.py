"""semgrep: pattern-based SAST with secscan's own rules (rules/semgrep) and any local rules.

Format facts (tests/data/scanners/README.md): OSS output has ``extra.lines`` and
``extra.fingerprint`` set to the literal ``"requires login"`` (we read the snippet from the file
by line range); ``metadata.cwe`` is a string or a list; severity is ERROR/WARNING/INFO or, in
newer rules, LOW/MEDIUM/HIGH/CRITICAL; rule ids carry the rule folder as a dotted prefix.
"""

from __future__ import annotations

import fnmatch
import functools
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan import files as files_mod
from secscan.errors import ParseError
from secscan.models import (
    Confidence,
    Finding,
    Identifier,
    Kind,
    Location,
    Severity,
    Source,
)
from secscan.resources import rules_dir
from secscan.scanners.base import (
    CommandScanner,
    FileGap,
    Parsed,
    Prepared,
    Root,
    installed_version,
    sast_kind,
    text_path,
)
from secscan.settings.defaults import is_remote_semgrep_config
from secscan.sourcefiles import SourceTree, to_repo_path
from secscan.testcode import LIVE_RULES

if TYPE_CHECKING:
    from secscan.config import ScanConfig  # the layer above: an annotation only

_SEVERITY = {
    "ERROR": Severity.HIGH,
    "WARNING": Severity.MEDIUM,
    "INFO": Severity.LOW,
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "INVENTORY": Severity.INFO,
    "EXPERIMENT": Severity.INFO,
}
_CONFIDENCE = {"HIGH": Confidence.HIGH, "MEDIUM": Confidence.MEDIUM, "LOW": Confidence.LOW}
_CWE = re.compile(r"CWE-(\d+)", re.IGNORECASE)
_OWASP = re.compile(r"\b(A\d{2}:\d{4})\b")
REQUIRES_LOGIN = "requires login"
# secscan sets semgrep's limits itself and reads back what they cost (issue trust-2): semgrep's
# default --max-target-bytes (1 MB) skips a larger file silently. 10 MB covers generated modules
# and bundles; a larger file is not handed over quietly: it is an incomplete scan (fail closed),
# which an operator resolves by excluding the file. A rule running past TIMEOUT_S on one file is
# a Timeout error naming the file: incomplete too.
MAX_TARGET_BYTES = 10_000_000
TIMEOUT_S = 30
# File suffixes semgrep gives each language (its lang.json), for the languages rules are written
# in most: a handed file with one of these, for a language of the configured rules, must come back
# in paths.scanned. Other languages (generic, regex, ...) are not accounted file by file.
LANGUAGE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "python": (".py", ".pyi"),
    "javascript": (".js", ".jsx", ".mjs", ".cjs"),
    "typescript": (".ts", ".tsx", ".mts", ".cts"),
    "java": (".java",),
    "go": (".go",),
    "ruby": (".rb",),
    "php": (".php",),
}
# Semgrep's environment: never phone home (metrics, version check) — offline runners stall
# for minutes on the version check otherwise (about three minutes per run, measured offline).
SEMGREP_ENV = {"SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}


# Words of rule ids that are acronyms: "aes-ecb-mode" reads "AES ECB mode", not "Aes ecb mode".
_ACRONYMS = frozenset(
    (  # noqa: SIM905 - one line of words reads better than forty
        "aes api cbc cors csrf cvv des dsa ecb gcm hmac html http https iv jwt ldap md5 nosql os pan pci "
        "pii rce rsa sha1 sha256 sql ssh ssl ssrf ssti tls url uuid xml xss xxe yaml zap"
    ).split()
)


def readable_title(rule_id: str) -> str:
    """A title from a rule id's last part: words split on ``-``/``_``, acronyms upper-cased."""
    words = rule_id.rsplit(".", 1)[-1].replace("_", "-").split("-")
    out = [w.upper() if w.lower() in _ACRONYMS else w.lower() for w in words if w]
    if out and out[0].islower():
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out) or rule_id


def _as_list(v: Any) -> list[str]:
    if v is None:
        return []
    if isinstance(v, list):
        return [str(x) for x in v]
    return [str(v)]


def short_rule_id(check_id: str, prefixes: tuple[str, ...] = ()) -> str:
    """Drop the folder-derived dotted prefix semgrep adds to rule ids (``a.b.rules.x`` -> ``x``)."""
    for prefix in sorted(prefixes, key=len, reverse=True):
        if prefix and check_id.startswith(prefix + "."):
            return check_id[len(prefix) + 1 :]
    return check_id


def _finding(item: dict[str, Any], n: int, tree: SourceTree, prefixes: tuple[str, ...]) -> Finding:
    where = f"results[{n}]"
    try:
        check_id = str(item["check_id"])
        on_disk = to_repo_path(str(item["path"]), tree.root)
        path = text_path(on_disk)
        start = item["start"]
        end = item.get("end") or start
        start_line, end_line = int(start["line"]), int(end["line"])
        extra = item.get("extra") or {}
        if not isinstance(extra, dict):
            raise TypeError("extra is not an object")
    except (KeyError, TypeError, ValueError) as e:
        raise ParseError(f"semgrep report: {where}: missing or invalid field ({e})") from e
    meta = extra.get("metadata") if isinstance(extra.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    rule_id = short_rule_id(check_id, prefixes)
    message = str(extra.get("message", ""))
    sev_raw = str(extra.get("severity", "INFO")).upper()
    lines = extra.get("lines")
    snippet = tree.lines(on_disk, start_line, end_line)
    if snippet is None and isinstance(lines, str) and lines != REQUIRES_LOGIN:
        snippet = lines
    loc = Location(
        path=path,
        start_line=start_line,
        end_line=end_line,
        start_column=int(start["col"]) if isinstance(start.get("col"), int) else None,
        end_column=int(end["col"]) if isinstance(end.get("col"), int) else None,
        snippet=snippet,
    )
    identifiers = [Identifier(type="semgrep", value=rule_id)]
    seen: set[str] = set()
    for cwe in _as_list(meta.get("cwe")):
        m = _CWE.search(cwe)
        if m and m.group(1) not in seen:
            seen.add(m.group(1))
            identifiers.append(
                Identifier(
                    type="cwe",
                    value=f"CWE-{m.group(1)}",
                    url=f"https://cwe.mitre.org/data/definitions/{m.group(1)}.html",
                )
            )
    for owasp in _as_list(meta.get("owasp")):
        m = _OWASP.search(owasp)
        if m:
            identifiers.append(Identifier(type="owasp", value=m.group(1)))
    conf = _CONFIDENCE.get(str(meta.get("confidence", "")).upper(), Confidence.UNKNOWN)
    fix = extra.get("fix") if isinstance(extra.get("fix"), str) else None
    title = readable_title(rule_id)
    # secscan's JavaScript twins are `payment.js-<name>` (issue 19) and `web.js-<name>` (issue 28):
    # "Card number literal (JavaScript)".
    if any(rule_id.startswith(f"{p}.js-") or f".{p}.js-" in rule_id for p in ("payment", "web")):
        title = readable_title(rule_id.rsplit(".", 1)[-1][3:]) + " (JavaScript)"
    return Finding(
        kind=sast_kind((i.value for i in identifiers if i.type == "cwe"), str(meta.get("category", ""))),
        scanner="semgrep",
        rule_id=rule_id,
        title=title,
        message=message,
        severity=_SEVERITY.get(sev_raw, Severity.INFO),
        severity_original=sev_raw,
        confidence=conf,
        location=loc,
        identifiers=tuple(identifiers),
        fix=fix,
        references=tuple(_as_list(meta.get("references"))),
        sources=(Source(scanner="semgrep", rule_id=rule_id, severity_original=sev_raw, message=message, location=loc),),
    )


def _load(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(f"semgrep report is not valid JSON: {e.msg} at line {e.lineno}") from e
    return _checked(data)


def _checked(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ParseError("semgrep report: expected an object with a 'results' list")
    return data


def _findings(data: dict[str, Any], tree: SourceTree, prefixes: tuple[str, ...]) -> list[Finding]:
    out = []
    for n, item in enumerate(data["results"]):
        if not isinstance(item, dict):
            raise ParseError(f"semgrep report: results[{n}]: expected an object")
        out.append(_finding(item, n, tree, prefixes))
    return out


def parse(text: str, *, tree: SourceTree, prefixes: tuple[str, ...] = ()) -> list[Finding]:
    """Findings from a semgrep ``--json`` report (old and new severities, string or list CWE)."""
    return _findings(_load(text), tree, prefixes)


def _error_entries(data: Any) -> list[dict[str, Any]]:
    errors = data.get("errors") if isinstance(data, dict) else None
    return [e for e in errors or [] if isinstance(e, dict)]


def _etype(e: dict[str, Any]) -> str:
    etype = e.get("type")
    return str(etype[0] if isinstance(etype, list) and etype else etype or "error")


def _message(e: dict[str, Any], limit: int = 300) -> str:
    return " ".join(str(e.get("message", "")).split())[:limit]


def _fatal(entries: list[dict[str, Any]]) -> list[str]:
    """Errors that stopped the run or a rule (no file named): the scanner failed."""
    out = []
    for e in entries:
        if not e.get("path") and str(e.get("level", "error")).lower() == "error":
            where = f" ({e['rule_id']})" if e.get("rule_id") else ""
            out.append(f"{_etype(e)}{where}: {_message(e)}")
    return out


def _rule_warnings(entries: list[dict[str, Any]]) -> list[str]:
    """``warn`` entries that name no file (a rule semgrep skipped with a note)."""
    return [
        f"semgrep {_etype(e)}: {_message(e, 200)}"
        for e in entries
        if not e.get("path") and str(e.get("level", "error")).lower() != "error"
    ]


def _file_gaps(data: Any, entries: list[dict[str, Any]], tree: SourceTree) -> list[FileGap]:
    """Every file an error names, whatever its type or level (a Timeout, a Syntax, Lexical or
    PartialParsing error left part of the file unanalysed), and every file ``paths.skipped`` lists
    (``exceeded_size_limit``, ``analysis_failed_parser_or_internal_error``, ...; present with
    ``--verbose``)."""
    out = [
        FileGap(path=to_repo_path(str(e["path"]), tree.root), reason=f"{_etype(e)}: {_message(e, 200)}")
        for e in entries
        if e.get("path")
    ]
    paths = data.get("paths") if isinstance(data, dict) else None
    skipped = paths.get("skipped") if isinstance(paths, dict) else None
    for x in skipped if isinstance(skipped, list) else []:
        if isinstance(x, dict) and x.get("path"):
            out.append(FileGap(path=to_repo_path(str(x["path"]), tree.root), reason=f"skipped: {x.get('reason', '?')}"))
    return out


def _scanned(data: Any, tree: SourceTree) -> frozenset[str]:
    """``paths.scanned``: the files semgrep analysed (a report without it scanned nothing it can show)."""
    paths = data.get("paths") if isinstance(data, dict) else None
    scanned = paths.get("scanned") if isinstance(paths, dict) else None
    return frozenset(to_repo_path(str(p), tree.root) for p in scanned if isinstance(p, str)) if scanned else frozenset()


def _loads_or_none(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


is_remote_config = is_remote_semgrep_config


def rule_prefixes(configs: list[str], cwd: Path) -> tuple[str, ...]:
    """The dotted prefixes semgrep will put before rule ids from these local configs."""
    out = []
    for c in configs:
        p = Path(c)
        try:
            rel = p.resolve().relative_to(cwd.resolve())
        except ValueError:
            rel = Path(*p.resolve().parts[1:])
        base = rel if p.is_dir() else rel.parent
        dotted = ".".join(part for part in base.parts if part not in ("", "."))
        if dotted:
            out.append(dotted)
    return tuple(out)


class SemgrepScanner(CommandScanner):
    name = "semgrep"
    kinds = frozenset({Kind.SAST, Kind.SECRET})
    default_timeout = 900.0
    description = "pattern-based SAST with secscan's payment-security rules"
    executable = "semgrep"
    install_hint = "pip install semgrep"
    output_name = None  # its JSON on stdout: osemgrep (below) does not write --output files

    per_file = True  # OSS semgrep: intra-file analysis only, so a file's results are its own

    def __init__(
        self, *, test_rules: tuple[frozenset[Kind], tuple[str, ...]] | None = None, kept: tuple[str, ...] = ()
    ) -> None:
        self.test_rules = test_rules
        """The variant for test code: (the kinds it keeps, the folders its rules were copied
        to); None: the configured rules."""
        self.kept = kept
        """The variant's rule ids (as their files name them)."""

    def for_test_code(self, cfg: ScanConfig, kinds: frozenset[Kind], work: Path) -> SemgrepScanner | None:
        """The live-credential rules (they block anywhere), and the secret rules where secrets
        can block in test code: copies of those rules under ``work`` (ids and folders kept)."""
        if Kind.SAST in kinds or self.test_rules is not None:
            return self
        kept: list[str] = []

        def keep(rule: dict[str, Any]) -> bool:
            if _keeps(rule, kinds):
                kept.append(str(rule.get("id", "")))
                return True
            return False

        copies = copy_rules(self.configs(cfg), work / "rules", keep=keep)
        return SemgrepScanner(test_rules=(kinds, tuple(copies)), kept=tuple(sorted(set(kept)))) if copies else None

    def rule_ids(self) -> tuple[str, ...] | None:
        return None if self.test_rules is None else self.kept

    def covers(self, cfg: ScanConfig, path: str) -> bool:
        """A file of a language the rules are written for, or one a generic rule includes."""
        reach = rule_reach(tuple(self.configs(cfg)))
        if reach.everything:
            return True
        name = path.rsplit("/", 1)[-1]
        return path.lower().endswith(reach.suffixes) or any(
            fnmatch.fnmatchcase(path if "/" in g else name, g) for g in reach.globs
        )

    @classmethod
    def parse_report(cls, text: str, *, tree: SourceTree, origin: str, manifest: str | None = None) -> Parsed:
        return _parsed(_loads_or_none(text), text, tree, ())

    def cache_context(self, cfg: ScanConfig, *, exe: str, version: str | None) -> list[str]:
        """The rules' content too: a changed rule must rescan every file. The test-code variant:
        the configured rules' context and the kinds it keeps (its copies live in a new folder
        on every run)."""

        if self.test_rules is not None:
            kinds = sorted(k.value for k in self.test_rules[0])
            return [*SemgrepScanner().cache_context(cfg, exe=exe, version=version), "test-code", *kinds]
        parts = super().cache_context(cfg, exe=exe, version=version)
        for c in self.configs(cfg):
            base = Path(c)
            rule_files = sorted(base.rglob("*")) if base.is_dir() else [base]
            for f in rule_files:
                if f.is_file():
                    name = f.relative_to(base) if base.is_dir() else f.name
                    parts.append(f"{name}:{hashlib.sha256(f.read_bytes()).hexdigest()}")
        return parts

    def version(self) -> str | None:
        return installed_version("semgrep")

    def prepare(self, cfg: ScanConfig, work: Path, targets: tuple[str, ...]) -> Prepared:
        """Each local config whose rule files all load, as one JSON rule file in ``work`` (see
        :func:`bundled_rules`)."""
        for n, c in enumerate(self.configs(cfg)):
            rules = bundled_rules(c)
            if rules is not None:
                bundle = work / BUNDLE_DIR / f"{n}.json"
                bundle.parent.mkdir(parents=True, exist_ok=True)
                bundle.write_text(json.dumps({"rules": rules}), encoding="utf-8")
        return super().prepare(cfg, work, targets)

    def rule_configs(self, cfg: ScanConfig, work: Path) -> list[str]:
        """The ``--config`` paths: the bundle :meth:`prepare` wrote for a config, else the config."""
        out = []
        for n, c in enumerate(self.configs(cfg)):
            bundle = work / BUNDLE_DIR / f"{n}.json"
            out.append(str(bundle if bundle.is_file() else Path(c).resolve()))
        return out

    def configs(self, cfg: ScanConfig) -> list[str]:
        if self.test_rules is not None:
            return list(self.test_rules[1])
        configs = []
        if cfg.semgrep_builtin_rules:
            builtin = rules_dir() / "semgrep"
            if builtin.is_dir() and any(builtin.rglob("*.y*ml")):
                configs.append(str(builtin))
        configs.extend(cfg.semgrep_rules)
        return configs

    def jobs(self, cfg: ScanConfig) -> int:
        """Every core. semgrep's workers take files from a shared queue, so while single-threaded
        bandit runs beside them the kernel shares the cores, and once bandit has finished no core
        idles (holding semgrep to the cores bandit leaves free kept one idle for the rest of the
        run: 1.37x the physical limit on Django, see issue core-2)."""
        return max(1, os.cpu_count() or 1)

    def preflight(self, cfg: ScanConfig) -> str | None:
        configs = self.configs(cfg)
        remote = [c for c in configs if is_remote_config(c)]
        if remote:
            # Said at once: semgrep itself would retry the registry for ~97 s before failing.
            return (
                f"semgrep config {remote[0]!r} needs the semgrep registry, which this offline run cannot reach; "
                "use local rule files (semgrep_rules = [...]) instead"
            )
        for c in configs:
            if not Path(c).exists():
                return f"semgrep rule file {c!r} does not exist"
        if not configs:
            return "no semgrep rules configured"
        return None

    def argv(
        self, exe: str, cfg: ScanConfig, *, work: Path, out_file: Path, root: Path, targets: Sequence[str]
    ) -> list[str]:
        # --experimental: semgrep's OCaml front end (osemgrep) runs the scan itself instead of
        # handing it to the Python one (pysemgrep), which costs ~2.5 CPU-s of start-up on every
        # run; same engine, same JSON (tests/rules/test_rules_osemgrep.py holds the two equal).
        argv = [exe, "scan", "--experimental", "--json", "--metrics=off", "--disable-version-check"]
        argv += [
            "--disable-nosem",
            "--quiet",
            "--no-git-ignore",
            "--timeout",
            str(TIMEOUT_S),
            "--jobs",
            str(self.jobs(cfg)),
        ]
        argv += ["--max-target-bytes", str(MAX_TARGET_BYTES)]
        for c in self.rule_configs(cfg, work):
            argv += ["--config", c]
        # No --exclude (the targets have secscan's applied) and no .semgrepignore: semgrep's
        # built-in one skips every tests/ folder, and one in a merge request is untrusted.
        # --x-ignore-semgrepignore-files is internal, hence semgrep pinned (a test pins the effect).
        argv.append("--x-ignore-semgrepignore-files")
        argv += ["--", *(str(root / t) if t != "." else str(root) for t in targets)]
        return argv

    def env(self, cfg: ScanConfig) -> dict[str, str]:
        return dict(SEMGREP_ENV)

    def expects(self, cfg: ScanConfig, path: str) -> bool:
        """A file of a language the rules are written for (semgrep leaves the others out of
        ``paths.scanned`` without a word)."""
        return path.lower().endswith(rule_suffixes(tuple(self.configs(cfg))))

    def account(self, cfg: ScanConfig, handed: Sequence[str], parsed: Parsed) -> tuple[FileGap, ...]:
        gaps = super().account(cfg, handed, parsed)
        # semgrep lists a file over the limit only with --verbose: say why it is missing.
        out = [_size_reason(g, cfg.target) for g in gaps]
        named = {g.path for g in out}
        out += [g for g in blind_spots(cfg.target, [f for f in handed if f not in named])]
        return tuple(out)

    def parse_output(self, text: str, cfg: ScanConfig, *, work: Path, root: Root, tree: SourceTree) -> Parsed:
        # Rule ids carry their folder relative to semgrep's working folder (the work folder).
        prefixes = rule_prefixes(self.rule_configs(cfg, work), work)
        # Parsed once: semgrep's JSON on a large tree is tens of megabytes.
        return _parsed(_loads_or_none(text), text, tree, prefixes)


# PEP 695 (Python 3.12): `type X = ...`, `def f[T](...)`, `class C[T]`. semgrep 1.182 parses such
# a file without an error and reports it scanned, but matches no rule anywhere in it (every
# finding of the file is lost; seen with the payment rules). Until its parser handles them, such a
# file is not analysed: named, and the scan is incomplete (issue trust-2: a scan that did less is
# not a clean scan). A match inside a string costs a false "not analysed", never a miss.
_PEP695 = re.compile(
    rb"^[ \t]*(?:type[ \t]+[A-Za-z_]\w*[ \t]*[\[=]|(?:async[ \t]+)?def[ \t]+\w+[ \t]*\[|class[ \t]+\w+[ \t]*\[)",
    re.MULTILINE,
)
_PY = (".py", ".pyi", ".pyw")


def blind_spots(root: Path, handed: Sequence[str]) -> list[FileGap]:
    """Python files written with syntax semgrep reads without matching anything in them."""
    out = []
    for rel in handed:
        if not rel.endswith(_PY):
            continue
        try:
            data = files_mod.read_bytes(root, rel)
        except OSError:
            continue
        m = _PEP695.search(data)
        if m is not None:
            line = data.count(b"\n", 0, m.start()) + 1
            out.append(
                FileGap(
                    path=rel, reason=f"line {line}: Python 3.12 type-parameter syntax, which semgrep does not analyse"
                )
            )
    return out


def _size_reason(gap: FileGap, root: Path) -> FileGap:
    try:
        size = (root / gap.path).stat().st_size
    except OSError:
        return gap
    if size <= MAX_TARGET_BYTES:
        return gap
    return FileGap(path=gap.path, reason=f"{size} bytes, over semgrep's --max-target-bytes {MAX_TARGET_BYTES}")


@functools.lru_cache(maxsize=16)
def rule_suffixes(configs: tuple[str, ...]) -> tuple[str, ...]:
    """The file suffixes of the languages the rule files of ``configs`` name (unreadable rules:
    none; semgrep itself reports them)."""
    import yaml

    languages: set[str] = set()
    for c in configs:
        base = Path(c)
        for f in sorted(base.rglob("*.y*ml")) if base.is_dir() else [base]:
            try:
                doc = yaml.safe_load(f.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                continue
            rules = doc.get("rules") if isinstance(doc, dict) else None
            for rule in rules if isinstance(rules, list) else []:
                langs = rule.get("languages") if isinstance(rule, dict) else None
                if isinstance(langs, list):
                    languages.update(str(x).lower() for x in langs)
    return tuple(sfx for lang in sorted(languages) for sfx in LANGUAGE_SUFFIXES.get(lang, ()))


def _parsed(data: Any, text: str, tree: SourceTree, prefixes: tuple[str, ...]) -> Parsed:
    entries = _error_entries(data)
    fatal = _fatal(entries)
    if fatal:
        return Parsed(errors=tuple(fatal), warnings=tuple(_rule_warnings(entries)))
    report = _load(text) if data is None else _checked(data)  # _load: for its error message
    gaps = {g.path: g for g in _file_gaps(report, entries, tree)}  # one per file: its first reason
    return Parsed(
        findings=tuple(_findings(report, tree, prefixes)),
        warnings=tuple(_rule_warnings(entries)),
        incomplete=tuple(gaps.values()),
        scanned=_scanned(report, tree),
    )


@dataclass(frozen=True)
class RuleReach:
    """Which files some rule of a set of rule files reads, by name."""

    suffixes: tuple[str, ...] = ()
    globs: tuple[str, ...] = ()
    """``paths.include`` of generic (text) rules."""
    everything: bool = False
    """A rule of a language without known suffixes, or a generic rule without includes."""


def _rule_docs(configs: Sequence[str]) -> list[tuple[Path, Path, Any]]:
    """(config, rule file, its parsed YAML) for every rule file of ``configs`` (unreadable: None)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when built with it: 10x faster
    out: list[tuple[Path, Path, Any]] = []
    for c in configs:
        base = Path(c)
        for f in sorted(base.rglob("*.y*ml")) if base.is_dir() else [base]:
            try:
                out.append((base, f, yaml.load(f.read_text(encoding="utf-8"), Loader=loader)))  # noqa: S506 - a safe loader
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                out.append((base, f, None))
    return out


def _rules(doc: Any) -> list[dict[str, Any]]:
    rules = doc.get("rules") if isinstance(doc, dict) else None
    return [r for r in rules if isinstance(r, dict)] if isinstance(rules, list) else []


@functools.lru_cache(maxsize=16)
def rule_reach(configs: tuple[str, ...]) -> RuleReach:
    """The files the rules of ``configs`` read; a rule file that does not load reaches
    everything (semgrep itself reports it; nothing is left out on its account)."""
    suffixes: set[str] = set()
    globs: set[str] = set()
    for _base, _f, doc in _rule_docs(configs):
        if doc is None:
            return RuleReach(everything=True)
        for rule in _rules(doc):
            raw = rule.get("languages")
            langs = [str(x).lower() for x in raw] if isinstance(raw, list) else []
            paths = rule.get("paths") if isinstance(rule.get("paths"), dict) else {}
            include = paths.get("include") if isinstance(paths, dict) else None
            for lang in langs:
                if lang in LANGUAGE_SUFFIXES:
                    suffixes.update(LANGUAGE_SUFFIXES[lang])
                elif lang in ("generic", "regex", "none") and isinstance(include, list) and include:
                    globs.update(str(g) for g in include)
                else:
                    return RuleReach(everything=True)
            if not langs:
                return RuleReach(everything=True)
    return RuleReach(suffixes=tuple(sorted(suffixes)), globs=tuple(sorted(globs)))


def _keeps(rule: dict[str, Any], kinds: frozenset[Kind]) -> bool:
    """Whether a rule can block in test code: a live provider key, or a secret where secrets can."""
    rule_id = str(rule.get("id", ""))
    if rule_id.endswith(LIVE_RULES):
        return True
    if Kind.SECRET not in kinds:
        return False
    meta = rule.get("metadata") if isinstance(rule.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    cwes = [f"CWE-{m.group(1)}" for c in _as_list(meta.get("cwe")) if (m := _CWE.search(c))]
    return sast_kind(cwes, str(meta.get("category", ""))) is Kind.SECRET


# Where prepare() writes the bundled rules in the work folder (semgrep prefixes rule ids with it).
BUNDLE_DIR = "semgrep-rules"
_CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".jsonnet")


def bundled_rules(config: str) -> list[dict[str, Any]] | None:
    """The rules of a local config as one list, or None to pass the config as it is.

    Why: semgrep's CLI starts one semgrep-core process per rule file to read it; secscan's 38 rule
    files cost about 5 CPU-s of every semgrep run (a scan of a one-file change, a shard, a test),
    one file 0.3 s. A rule from a sub-folder keeps it in its id (``sub.rule``), as semgrep names
    it, so ids read the same. Only a config semgrep would read the same way is bundled: every
    rule file loads as a rule list, none is hidden or has a double suffix (semgrep's test and
    fix files), no id repeats; anything else is passed whole and semgrep reports it."""
    base = Path(config)
    if not base.is_dir():
        files = [base] if base.suffix in (".yaml", ".yml") else []
    else:
        files = sorted(f for f in base.rglob("*") if f.suffix in _CONFIG_SUFFIXES)
        names = [f.relative_to(base) for f in files]
        if any(n.suffix not in (".yaml", ".yml") or n.name.count(".") != 1 or n.name.startswith(".") for n in names):
            return None
        if any(part.startswith(".") for n in names for part in n.parts):
            return None
    return _joined(config) if files else None


def _joined(config: str) -> list[dict[str, Any]] | None:
    out: list[dict[str, Any]] = []
    for base, f, doc in _rule_docs([config]):
        rules = doc.get("rules") if isinstance(doc, dict) else None
        if not isinstance(rules, list) or not all(isinstance(r, dict) and isinstance(r.get("id"), str) for r in rules):
            return None
        folder = f.parent.relative_to(base).parts if base.is_dir() else ()
        out.extend({**r, "id": ".".join((*folder, r["id"]))} for r in rules)
    ids = [r["id"] for r in out]
    return out if len(ids) == len(set(ids)) else None


def copy_rules(configs: Sequence[str], dest: Path, *, keep: Callable[[dict[str, Any]], bool]) -> list[str]:
    """Copies of ``configs`` under ``dest`` holding only the rules ``keep`` selects, with their
    ids and sub-folders (semgrep names a rule by its folder): the configs to pass, none when no
    rule is kept. A rule file that does not load is copied whole (semgrep reports it)."""

    import yaml

    out: list[str] = []
    for n, c in enumerate(configs):
        base = Path(c)
        top = dest / str(n)
        kept_any = False
        for b, f, doc in _rule_docs([c]):
            target = top / (f.relative_to(b) if b.is_dir() else f.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            if doc is None:
                shutil.copyfile(f, target)
                kept_any = True
                continue
            rules = [r for r in _rules(doc) if keep(r)]
            if rules:
                target.write_text(yaml.safe_dump({"rules": rules}, sort_keys=False), encoding="utf-8")
                kept_any = True
        if kept_any:
            out.append(str(top if base.is_dir() else top / base.name))
    return out
