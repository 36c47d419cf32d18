"""bandit: Python SAST. How to run it, and a pure ``parse()`` of its JSON report.

Format facts (tests/data/scanners/README.md): ``issue_cwe``, ``col_offset`` and
``end_col_offset`` exist only from bandit 1.7.5 on; paths may use Windows backslashes; bandit
exits 1 when it found issues, so the exit code alone says nothing about failure.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan.errors import ParseError, ScannerError
from secscan.jsonload import json_int
from secscan.models import (
    Confidence,
    Finding,
    Identifier,
    Kind,
    Location,
    Severity,
    Source,
)
from secscan.scanners.base import (
    SECRET_RULES,
    CommandScanner,
    FileGap,
    Parsed,
    Prepared,
    find_executable,
    installed_version,
    name_gaps,
    run_tool,
    sast_kind,
    text_path,
)
from secscan.sourcefiles import SourceTree, to_repo_path

if TYPE_CHECKING:
    from secscan.config import ScanConfig  # an annotation only: the configuration is above the plugins

_SEVERITY = {"HIGH": Severity.HIGH, "MEDIUM": Severity.MEDIUM, "LOW": Severity.LOW, "UNDEFINED": Severity.INFO}
_CONFIDENCE = {"HIGH": Confidence.HIGH, "MEDIUM": Confidence.MEDIUM, "LOW": Confidence.LOW}

# bandit's own file selection: the suffixes it picks up when it walks a folder.
PYTHON_SUFFIXES = (".py", ".pyw")
INI_NAME = "bandit.ini"
"""secscan's own (empty) bandit config, written in the private work folder."""


def _code_lines(code: str, start: int, end: int) -> str | None:
    """The flagged lines out of bandit's ``code``, which numbers each line ("12 text") and adds
    a line of context on either side."""
    out = []
    for line in code.splitlines():
        num, sep, rest = line.partition(" ")
        if sep and num.isdigit() and start <= int(num) <= end:
            out.append(rest)
    return "\n".join(out) if out else None


def _link(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _title(issue_text: str, limit: int = 90) -> str:
    """A short title from bandit's text: its first sentence (test names like "blacklist" or
    "hashlib" say too little to a reader)."""
    first = issue_text.strip().split(". ", 1)[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def _finding(item: dict[str, Any], n: int, tree: SourceTree) -> Finding:
    where = f"results[{n}]"
    try:
        test_id = str(item["test_id"])
        filename = str(item["filename"])
        line = int(item["line_number"])
        text = str(item.get("issue_text", ""))
        sev_raw = str(item.get("issue_severity", "UNDEFINED")).upper()
        conf_raw = str(item.get("issue_confidence", "")).upper()
    except (KeyError, TypeError, ValueError) as e:
        raise ParseError(f"bandit report: {where}: missing or invalid field ({e})") from e
    line_range = item.get("line_range") or [line]
    if not isinstance(line_range, list) or not all(json_int(x) is not None for x in line_range):
        raise ParseError(f"bandit report: {where}.line_range: expected a list of line numbers")
    on_disk = to_repo_path(filename, tree.root)
    path = text_path(on_disk)
    start, end = min(line_range), max(line_range)
    snippet = tree.lines(on_disk, start, end)
    if snippet is None and isinstance(item.get("code"), str):
        snippet = _code_lines(item["code"], start, end)
    col = item.get("col_offset")
    end_col = item.get("end_col_offset")
    loc = Location(
        path=path,
        start_line=start,
        end_line=end,
        # bandit's offsets are 0-based; ours are 1-based.
        start_column=col + 1 if isinstance(col, int) else None,
        end_column=end_col + 1 if isinstance(end_col, int) else None,
        snippet=snippet,
    )
    # Links are informational: one of another type is left out, like a non-integer column.
    more_info = _link(item.get("more_info"))
    identifiers = [Identifier(type="bandit", value=test_id, url=more_info)]
    cwe = item.get("issue_cwe")
    if isinstance(cwe, dict) and (json_int(cwe.get("id")) or 0) > 0:
        identifiers.append(Identifier(type="cwe", value=f"CWE-{cwe['id']}", url=_link(cwe.get("link"))))
    test_name = str(item.get("test_name") or test_id)
    return Finding(
        kind=sast_kind((i.value for i in identifiers if i.type == "cwe"), rule_id=test_id),
        scanner="bandit",
        rule_id=test_id,
        title=_title(text) or test_name.replace("_", " "),
        message=text,
        severity=_SEVERITY.get(sev_raw, Severity.INFO),
        severity_original=sev_raw,
        confidence=_CONFIDENCE.get(conf_raw, Confidence.UNKNOWN),
        location=loc,
        identifiers=tuple(identifiers),
        references=(more_info,) if more_info else (),
        sources=(Source(scanner="bandit", rule_id=test_id, severity_original=sev_raw, message=text, location=loc),),
    )


def parse(text: str, *, tree: SourceTree) -> list[Finding]:
    """Findings from a bandit JSON report (any version from 1.6 on)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(f"bandit report is not valid JSON: {e.msg} at line {e.lineno}") from e
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise ParseError("bandit report: expected an object with a 'results' list")
    findings = []
    for n, item in enumerate(data["results"]):
        if not isinstance(item, dict):
            raise ParseError(f"bandit report: results[{n}]: expected an object")
        findings.append(_finding(item, n, tree))
    return findings


def _loads(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}  # parse() has already said what is wrong with it
    return data if isinstance(data, dict) else {}


def file_gaps(text: str, tree: SourceTree) -> list[FileGap]:
    """The files bandit says it could not scan (``errors``: a syntax error, "exception while
    scanning file"): their findings are lost, so the scan is incomplete."""
    errors = _loads(text).get("errors")
    out = []
    for e in errors if isinstance(errors, list) else []:
        if isinstance(e, dict):
            path = to_repo_path(str(e.get("filename") or "?"), tree.root)
            out.append(FileGap(path=path, reason=str(e.get("reason") or "unknown reason")))
    return out


def scanned_files(text: str, tree: SourceTree) -> frozenset[str]:
    """The files bandit analysed: one ``metrics`` entry per file (``_totals`` aside), those with an
    ``errors`` entry included (they are gaps of their own). A report without metrics scanned nothing
    that it can show."""
    metrics = _loads(text).get("metrics")
    if not isinstance(metrics, dict):
        return frozenset()
    return frozenset(to_repo_path(str(k), tree.root) for k in metrics if k != "_totals")


class BanditScanner(CommandScanner):
    name = "bandit"
    kinds = frozenset({Kind.SAST, Kind.SECRET})
    default_timeout = 600.0
    description = "Python SAST"
    executable = "bandit"
    install_hint = "pip install bandit"
    output_name = "bandit.json"

    @classmethod
    def relevant(cls, path: str) -> bool:
        return path.endswith(PYTHON_SUFFIXES)

    per_file = True

    def __init__(self, tests: tuple[str, ...] = ()) -> None:
        self.tests = tests
        """bandit test ids to run (``-t``); empty: every test."""

    def processes(self, cfg: ScanConfig) -> int:
        """One run per core: bandit analyses on one core, file after file."""

        return max(1, os.cpu_count() or 1)

    def for_test_code(self, cfg: ScanConfig, kinds: frozenset[Kind], work: Path) -> BanditScanner | None:
        """Its hard-coded password tests where secrets can block in test code, nothing where
        neither secrets nor other findings can (the default policy: bandit finds no live key)."""
        if Kind.SAST in kinds:
            return self
        return BanditScanner(tests=tuple(sorted(SECRET_RULES))) if Kind.SECRET in kinds else None

    def rule_ids(self) -> tuple[str, ...] | None:
        return self.tests or None

    @classmethod
    def parse_report(cls, text: str, *, tree: SourceTree, origin: str, manifest: str | None = None) -> Parsed:
        scanned = scanned_files(text, tree)
        return Parsed(
            findings=tuple(parse(text, tree=tree)),
            incomplete=(*file_gaps(text, tree), *name_gaps(sorted(scanned))),
            scanned=scanned,
        )

    def wants_file(self, path: str) -> bool:
        return path.endswith(PYTHON_SUFFIXES)

    def cache_context(self, cfg: ScanConfig, *, exe: str, version: str | None) -> list[str]:

        # bandit parses with the interpreter it runs on: another Python version, another AST.
        return [*super().cache_context(cfg, exe=exe, version=version), platform.python_version()]

    def version(self) -> str | None:
        """The installed package's version; for a user-supplied executable, ask it (briefly)."""

        if not os.environ.get("SECSCAN_BANDIT_BIN"):
            found = installed_version("bandit")
            if found is not None:
                return found
        exe = find_executable("bandit")
        if exe is None:
            return None
        try:
            res = run_tool([exe, "--version"], timeout=10)
        except ScannerError:
            return None
        first = res.stdout.strip().splitlines()[:1]
        return first[0].split()[-1] if first and first[0].split() else None

    def prepare(self, cfg: ScanConfig, work: Path, targets: tuple[str, ...]) -> Prepared:
        # --ini with secscan's own (empty) file: bandit never reads a .bandit planted in the tree.
        (work / INI_NAME).write_text("[bandit]\n", encoding="utf-8")
        return super().prepare(cfg, work, targets)

    def argv(
        self, exe: str, cfg: ScanConfig, *, work: Path, out_file: Path, root: Path, targets: Sequence[str]
    ) -> list[str]:
        argv = [exe, "-f", "json", "-o", str(out_file), "-q", "--ignore-nosec", "--ini", str(work / INI_NAME)]
        # -x naming nothing that exists: the targets have secscan's excludes applied, and
        # bandit's default ones (__pycache__, .tox, .eggs...) would silently drop a file secscan
        # hands it because production imports it (secscan.reach). Absolute paths after "--": a
        # changed file named like an option stays a file name.
        if self.tests:
            argv += ["-t", ",".join(self.tests)]
        argv += ["-x", str(work / "no-excludes"), "-r", "--"]
        argv += [str(root / t) if t != "." else str(root) for t in targets]
        return argv
