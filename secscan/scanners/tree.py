"""tree: secscan's own checks of the checkout, for what no scanner reads.

bandit, semgrep and detect-secrets read source text the way a reviewer does. A merge request can
put code where none of them looks, or make the text say one thing to a reviewer and another to
the interpreter. This in-process scanner (no external tool, one pass over the files secscan
already walked, :mod:`secscan.files`) reports those places, each as a finding of its own:

- ``secscan.link-outside-checkout``: a symbolic link that leaves the checkout, dangles or points
  at something that is not a regular file (``requirements.txt -> /proc/self/environ``), or that
  points into git's metadata (``x.py -> .git/config``, the runner's clone credentials). secscan
  never follows it (:mod:`secscan.files`); the finding names the link and its target as written,
  never what is there. A link is a blob in git, so the diff places it (line 1) and a merge request
  that adds one gets a new, blocking finding.
- ``secscan.bytecode-without-source``: a ``.pyc`` whose ``.py`` is not in the tree. Python
  imports ``x.pyc`` when no ``x.py`` is beside it (the sourceless loader): code that runs and
  that no scanner reads. ``secscan.bytecode-shadows-source``: an *unchecked* hash-based ``.pyc``
  in ``__pycache__`` (PEP 552): Python runs it instead of its source, whatever the source says.
- ``secscan.source-encoding``: a Python coding declaration (``# coding: unicode_escape``,
  ``utf-7``) under which the file's ASCII text means something else: ``\\u0065val(x)`` is
  ``eval(x)`` to Python and an escape sequence to every text-based rule.
- ``secscan.nfkc-identifier``: an identifier that Unicode compatibility normalization (NFKC)
  changes. Python normalizes identifiers (``cur.ｅｘｅｃｕｔｅ(sql)`` calls ``execute``) and no rule
  matches the full-width spelling (high); in JavaScript/TypeScript it is a different name that
  looks like another (medium).
- ``secscan.confusable-identifier``: an identifier that mixes scripts outside Unicode's "highly
  restrictive" profile (UTS #39: Latin with Cyrillic ``а``), or is all Cyrillic/Greek letters
  that look Latin, as rustc's ``mixed_script_confusables`` lint warns (medium).
- ``secscan.bidi-control``: bidirectional control characters in a source file (Trojan Source,
  CVE-2021-42574): the code a reviewer sees is not the order the compiler reads (high); the
  implicit marks U+200E/U+200F/U+061C, which legitimate right-to-left strings use, are medium.

Cost: every file is read once; a file of pure ASCII (almost all) costs one ``bytes.isascii``
(and, for Python, a look for a coding declaration in its first two lines). Only files with
non-ASCII bytes are decoded and tokenized.
"""

from __future__ import annotations

import io
import os
import re
import stat
import tokenize
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from secscan import __version__, pathmatch
from secscan import files as files_mod
from secscan.models import Confidence, Finding, Identifier, Kind, Location, Severity, Source
from secscan.scanners.base import FileGap, InProcessScanner, Parsed, Prepared, RunContext

if TYPE_CHECKING:
    from secscan.config import ScanConfig  # an annotation only: the configuration is above the plugins

NAME = "tree"
_MAX_PER_FILE = 50
"""Findings of one rule in one file, at most: a generated file full of one character is one
problem, and the report must stay readable (the first ones say where to look)."""


@dataclass(frozen=True, kw_only=True)
class Rule:
    """What one check reports: the parts of a finding that do not depend on where."""

    id: str
    title: str
    cwe: str
    fix: str


LINK = Rule(
    id="secscan.link-outside-checkout",
    title="Symbolic link that leaves the checkout",
    cwe="CWE-59",
    fix="Commit the file itself, or a link to a file inside the repository; secscan never follows this link.",
)
BYTECODE = Rule(
    id="secscan.bytecode-without-source",
    title="Compiled Python without its source",
    cwe="CWE-506",
    fix="Delete the .pyc and commit the .py source (add *.pyc and __pycache__/ to .gitignore).",
)
SHADOW = Rule(
    id="secscan.bytecode-shadows-source",
    title="Compiled Python that runs instead of its source",
    cwe="CWE-506",
    fix="Delete the committed __pycache__ folder (add __pycache__/ to .gitignore).",
)
ENCODING = Rule(
    id="secscan.source-encoding",
    title="Python source encoding that changes what the code says",
    cwe="CWE-176",
    fix="Save the file as UTF-8 and remove the coding declaration.",
)
NFKC = Rule(
    id="secscan.nfkc-identifier",
    title="Identifier in compatibility characters",
    cwe="CWE-1007",
    fix="Spell the identifier in the characters it normalizes to.",
)
CONFUSABLE = Rule(
    id="secscan.confusable-identifier",
    title="Identifier with confusable characters of another script",
    cwe="CWE-1007",
    fix="Spell the identifier in one script.",
)
BIDI = Rule(
    id="secscan.bidi-control",
    title="Bidirectional control character in source code (Trojan Source)",
    cwe="CWE-451",
    fix="Remove the character; in a string literal write it as an escape (\\u202e).",
)
RULES: tuple[Rule, ...] = (LINK, BYTECODE, SHADOW, ENCODING, NFKC, CONFUSABLE, BIDI)


@dataclass(frozen=True, kw_only=True)
class Hit:
    """One problem found: a rule at a place, with its own text."""

    rule: Rule
    path: str
    message: str
    severity: Severity
    line: int = 1
    column: int | None = None
    """1-based column of the first offending character, when there is one."""


def to_finding(hit: Hit) -> Finding:
    """The normalized finding. No snippet: the tree's line is read where it is safe to (a link's
    "line" is its target text, which the diff shows), never through a link."""
    loc = Location(path=hit.path, start_line=hit.line, end_line=hit.line, start_column=hit.column)
    sev = hit.severity.value
    return Finding(
        kind=Kind.SAST,
        scanner=NAME,
        rule_id=hit.rule.id,
        title=hit.rule.title,
        message=hit.message,
        severity=hit.severity,
        severity_original=sev,
        confidence=Confidence.HIGH,
        location=loc,
        identifiers=(Identifier(type="cwe", value=hit.rule.cwe),),
        fix=hit.rule.fix,
        sources=(Source(scanner=NAME, rule_id=hit.rule.id, severity_original=sev, message=hit.message, location=loc),),
    )


# ------------------------------------------------------------------ rule 1: links


def link_hits(escaping: Iterable[files_mod.EscapingLink]) -> list[Hit]:
    """Links that secscan does not follow. The target is what ``readlink`` says, never its content."""
    return [
        Hit(
            rule=LINK,
            path=e.path,
            severity=Severity.HIGH,
            message=f"{e.path} is a symbolic link to {e.target!r} ({e.reason}): secscan does not follow "
            "it, no scanner read what it points at, and whatever opens it at run time reads outside the "
            "repository.",
        )
        for e in escaping
    ]


def git_links(links: Iterable[tuple[str, str]], root: Path) -> list[Hit]:
    """Links into git's metadata: inside the checkout, so :mod:`secscan.files` resolves them, but
    ``.git/config`` holds the runner's clone URL with its job token. Nothing reads them (``.git``
    is excluded) and nothing should: a link to them is a request to publish a credential."""
    out = []
    for rel, inner in links:
        if ".git" in inner.split("/"):
            try:
                target = os.readlink(root / rel)
            except OSError:
                target = inner
            out.append(
                Hit(
                    rule=LINK,
                    path=rel,
                    severity=Severity.HIGH,
                    message=f"{rel} is a symbolic link to {target!r} (points into git's metadata, where the "
                    "runner keeps its credentials): secscan does not read it.",
                )
            )
    return out


# ------------------------------------------------------------------ rule 2: bytecode

_PYCACHE = "__pycache__"
_HASH_BASED, _CHECK_SOURCE = 0b01, 0b10


def _regular(root: Path, rel: str) -> bool:
    """A regular file inside the tree (a link counts when it resolves to one)."""
    inner = files_mod.resolve(root, rel)
    return inner is not None and (Path(os.path.realpath(root)) / inner).is_file()


def pycache_files(root: Path, sources: Iterable[str]) -> list[str]:
    """The ``.pyc`` files of the ``__pycache__`` folders next to ``sources``.

    ``__pycache__`` is a default exclude (:mod:`secscan.pathmatch`): no scanner should read
    bytecode, so the walk never enters it. This check must. Python consults
    ``dir/__pycache__/x.<tag>.pyc`` only to import ``dir/x.py`` (PEP 3147: without the source it
    is ignored), so the folders next to Python sources are the ones that can run; looking only
    there costs one ``scandir`` per such folder instead of a second walk of the whole tree. A
    sourceless ``x.pyc`` outside ``__pycache__`` is in the walk's own listing.
    """
    out: list[str] = []
    for folder in sorted({s.rpartition("/")[0] for s in sources if s.endswith(".py")}):
        cache = f"{folder}/{_PYCACHE}" if folder else _PYCACHE
        full = root / cache
        # Not through a link: a __pycache__ that is a link is the walk's business, never followed.
        try:
            if not stat.S_ISDIR(os.lstat(full).st_mode):
                continue
            with os.scandir(full) as it:
                names = sorted(e.name for e in it if e.name.endswith(".pyc") and e.is_file(follow_symlinks=False))
        except OSError:
            continue
        out.extend(f"{cache}/{n}" for n in names)
    return out


def _pyc_flags(root: Path, rel: str) -> int | None:
    """The flags word of a pyc header (PEP 552), or None when it is too short or unreadable.

    Opened directly, not through :func:`secscan.files.read_bytes` (which resolves every link on
    the way, three ``realpath`` calls): :func:`pycache_files` listed it as a regular file, not a
    link, in a ``__pycache__`` that is a real folder of a folder the walk entered (the walk never
    enters a linked folder), and ``O_NOFOLLOW`` refuses it if it became a link since."""
    try:
        fd = os.open(root / rel, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return None
    return int.from_bytes(head[4:8], "little") if len(head) >= 8 else None


def bytecode_hits(root: Path, candidates: Iterable[str], known: frozenset[str] = frozenset()) -> list[Hit]:
    """``.pyc`` files Python may run that no scanner reads. Whether the source exists is asked of
    the disk (``known``: files the walk already found regular and inside), not of the scanned
    files: Python imports what is there, excluded from scanning or not."""
    hits = []
    for rel in sorted(set(candidates)):
        if not rel.endswith(".pyc"):
            continue
        folder, _, name = rel.rpartition("/")
        if folder.rpartition("/")[2] == _PYCACHE:
            hits.extend(_cached_pyc(root, rel, folder, name, known))
        elif rel[:-1] not in known and not _regular(root, rel[:-1]):
            hits.append(
                Hit(
                    rule=BYTECODE,
                    path=rel,
                    severity=Severity.HIGH,
                    message=f"{rel} is compiled Python without its source {rel[:-1]} in the repository: "
                    f"`import {name[:-4]}` runs it, and no scanner reads bytecode.",
                )
            )
    return hits


def _cached_pyc(root: Path, rel: str, folder: str, name: str, known: frozenset[str]) -> list[Hit]:
    parent = folder.rpartition("/")[0]
    module = name.split(".", 1)[0]
    source = f"{parent}/{module}.py" if parent else f"{module}.py"
    if source not in known and not _regular(root, source):
        # Python ignores it (no source to import), but it is committed code nobody reviewed.
        return [
            Hit(
                rule=BYTECODE,
                path=rel,
                severity=Severity.MEDIUM,
                message=f"{rel} is compiled Python whose source {source} is not in the repository; no scanner "
                "reads bytecode.",
            )
        ]
    flags = _pyc_flags(root, rel)
    if flags is not None and flags & _HASH_BASED and not flags & _CHECK_SOURCE:
        return [
            Hit(
                rule=SHADOW,
                path=rel,
                severity=Severity.HIGH,
                message=f"{rel} is an unchecked hash-based .pyc (PEP 552): `import {module}` runs this bytecode "
                f"instead of {source}, whatever the source says, and no scanner reads bytecode.",
            )
        ]
    # A timestamp or checked pyc runs only while it matches its source (size and mtime, or hash):
    # then it is the source, which is scanned. Committed by accident, not worth a finding.
    return []


# ------------------------------------------------------------------ which files are code

_PY_SUFFIXES = (".py", ".pyw", ".pyi")
_JS_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".mts", ".cts", ".tsx")
_CODE_SUFFIXES = (
    *_PY_SUFFIXES, *_JS_SUFFIXES, ".go", ".rs", ".java", ".kt", ".kts", ".scala", ".groovy", ".gradle",
    ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".cs", ".swift", ".m", ".mm", ".rb", ".php",
    ".pl", ".pm", ".lua", ".sh", ".bash", ".zsh", ".ps1", ".sql", ".vue", ".svelte", ".dart", ".ex",
    ".exs", ".erl", ".hs", ".clj", ".r", ".jl", ".tf", ".yml", ".yaml", ".toml", ".cfg", ".ini",
    ".json", ".dockerfile", ".mk",
)  # fmt: skip
_CODE_NAMES = frozenset({"dockerfile", "makefile", "jenkinsfile", "vagrantfile", "rakefile", "gemfile"})
# A coding declaration (PEP 263), looked for in the first two lines only, as Python does.
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)", re.MULTILINE)


def language_by_name(path: str) -> str | None:
    """``python``, ``js`` or ``code`` when the name says what runs the file, else None."""
    low = path.lower()
    if low.endswith(_PY_SUFFIXES):
        return "python"
    if low.endswith(_JS_SUFFIXES):
        return "js"
    if low.endswith(_CODE_SUFFIXES) or low.rpartition("/")[2] in _CODE_NAMES:
        return "code"
    return None


def may_be_code(path: str) -> bool:
    """Whether the file is worth reading: code by its name, or a name without a suffix (a script,
    whose first line says). Documentation, data and binaries are never read."""
    return language_by_name(path) is not None or "." not in path.rpartition("/")[2].lstrip(".")


def language(path: str, data: bytes) -> str | None:
    """``python``, ``js``, ``code`` or None (not source: documentation, data, binary). By name
    where the name decides what runs it, by the first line (``#!``) where there is no suffix."""
    by_name = language_by_name(path)
    if by_name is not None:
        return by_name
    if data.startswith(b"#!"):
        first = data.split(b"\n", 1)[0]
        if b"python" in first:
            return "python"
        return "js" if any(n in first for n in (b"node", b"deno", b"bun")) else "code"
    return None


# ------------------------------------------------------------------ text positions


class _Lines:
    """Offsets in a text to 1-based (line, column), lines counted at ``\\n`` as git counts them
    (the diff is what places a finding)."""

    def __init__(self, text: str) -> None:
        self._starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def at(self, pos: int) -> tuple[int, int]:
        n = bisect_right(self._starts, pos)
        return n, pos - self._starts[n - 1] + 1


# ------------------------------------------------------------------ rule 4: bidi controls

_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_MARKS = frozenset("\u200e\u200f\u061c")


def bidi_hits(path: str, text: str) -> list[Hit]:
    """One finding per line with bidirectional control characters, naming each one."""
    found: dict[int, list[tuple[int, str]]] = {}
    lines = _Lines(text)
    for m in _BIDI.finditer(text):
        line, col = lines.at(m.start())
        found.setdefault(line, []).append((col, m.group()))
    hits = []
    for line, chars in list(found.items())[:_MAX_PER_FILE]:
        names = ", ".join(dict.fromkeys(f"U+{ord(c):04X} {unicodedata.name(c, '')}" for _, c in chars))
        # Overrides, embeddings and isolates reorder what is shown; the implicit marks only move
        # neutral characters and are common in right-to-left string literals.
        marks_only = all(c in _MARKS for _, c in chars)
        hits.append(
            Hit(
                rule=BIDI,
                path=path,
                line=line,
                column=chars[0][0],
                severity=Severity.MEDIUM if marks_only else Severity.HIGH,
                message=f"{path}:{line} contains bidirectional control characters ({names}): what an editor "
                "or a review shows is not the order the compiler or interpreter reads (Trojan Source, "
                "CVE-2021-42574).",
            )
        )
    return hits


# ------------------------------------------------------------------ rule 3: identifiers

# Scripts whose letters include look-alikes of Latin letters (the confusable ones), and the
# look-alikes themselves: an identifier of only these is a "whole-script confusable" (UTS #39).
_LATIN_LOOKALIKES = frozenset(
    "аеорсухіјѕԁһӏԛԝүАВЕКМНОРСТХІЈЅ"  # Cyrillic
    "αορυνιχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ"  # Greek
)
# UTS #39 "highly restrictive": Latin may be combined with these sets (Japanese, Chinese, Korean).
_ALLOWED_MIXES = (
    frozenset({"LATIN", "HAN", "HIRAGANA", "KATAKANA"}),
    frozenset({"LATIN", "HAN", "BOPOMOFO"}),
    frozenset({"LATIN", "HAN", "HANGUL"}),
)
_SCRIPT_ALIASES = {"CJK": "HAN", "HALFWIDTH": "KATAKANA", "KATAKANA-HIRAGANA": "KATAKANA"}


def _script(ch: str) -> str | None:
    """A letter's script from its Unicode name's first word (``CYRILLIC SMALL LETTER A``): the
    standard library has no script property, and for letters the name says it. None: digits,
    ``_``, marks and other characters every script shares."""
    if not unicodedata.category(ch).startswith("L"):
        return None
    word = unicodedata.name(ch, "").split(" ", 1)[0]
    if not word or word in ("MODIFIER", "MATHEMATICAL", "FULLWIDTH"):
        return None
    return _SCRIPT_ALIASES.get(word, word)


def identifier_problem(name: str, lang: str) -> tuple[Rule, Severity, str] | None:
    """What is wrong with one identifier of ``lang`` (``python`` or ``js``), or None."""
    if name.isascii() or not name.isidentifier():
        return None  # not a name the language accepts (a symbol in a string, a syntax error)
    norm = unicodedata.normalize("NFKC", name)
    if norm != name:
        if lang == "python":
            return NFKC, Severity.HIGH, f"Python reads the identifier {name!r} as {norm!r} (NFKC)"
        return NFKC, Severity.MEDIUM, f"the identifier {name!r} looks like {norm!r} but is a different name"
    scripts = {s for s in map(_script, norm) if s is not None}
    if len(scripts) > 1 and not any(scripts <= mix for mix in _ALLOWED_MIXES):
        listed = ", ".join(s.title() for s in sorted(scripts))
        return CONFUSABLE, Severity.MEDIUM, f"the identifier {name!r} mixes scripts ({listed})"
    letters = [c for c in norm if c.isalpha()]
    if scripts & {"CYRILLIC", "GREEK"} and letters and all(c in _LATIN_LOOKALIKES for c in letters):
        script = next(iter(scripts)).title()
        return CONFUSABLE, Severity.MEDIUM, f"the identifier {name!r} is {script} letters that look Latin"
    return None


def python_names(text: str) -> Iterator[tuple[str, int, int]]:
    """(name, line, 1-based column) of every NAME token; code that does not tokenize falls back
    to every word of the text (comments and strings included: when in doubt, report)."""
    try:
        toks = [
            (t.string, t.start[0], t.start[1] + 1)
            for t in tokenize.generate_tokens(io.StringIO(text).readline)
            if t.type == tokenize.NAME and not t.string.isascii()
        ]
    except (tokenize.TokenError, SyntaxError):
        toks = list(_words(text, _PY_WORD))
    yield from toks


_PY_WORD = re.compile(r"[^\W\d]\w*")
# JavaScript/TypeScript: comments, string and regex literals are skipped, the rest's identifiers
# kept. Template literals are skipped whole (their ${...} code too): good enough for names, which
# is all this looks at.
_JS_TOKEN = re.compile(
    r"//[^\n]*|/\*.*?(?:\*/|\Z)|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`"
    r"|(?P<re>/(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n])+/)"
    r"|(?P<id>(?:[^\W\d]|\$)[\w$\u200c\u200d]*)",
    re.DOTALL,
)
# After one of these (spaces aside) a slash divides; anywhere else it starts a regex literal.
_DIVIDES_AFTER = re.compile(r"[\w$)\]]\s*\Z")


def _words(text: str, pattern: re.Pattern[str]) -> Iterator[tuple[str, int, int]]:
    lines = _Lines(text)
    pos = 0
    while (m := pattern.search(text, pos)) is not None:
        pos = m.end()
        if m.lastgroup == "re" and _DIVIDES_AFTER.search(text, max(0, m.start() - 80), m.start()):
            pos = m.start() + 1  # a division: read on after the slash
            continue
        word = m.group("id") if "id" in pattern.groupindex else m.group()
        if word and not word.isascii():
            line, col = lines.at(m.start())
            yield word, line, col


# A run of what may be one identifier: ASCII letters, digits, ``_``, ``$`` and any non-ASCII
# character. In code that compiles, an identifier is such a run (what can stand next to it is
# ASCII punctuation, space, or a syntax error), so a text without a suspicious run has no
# suspicious identifier, and is not tokenized.
_RUN_BREAK = re.compile(r"[\x00-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]+")


def suspicious(text: str, lang: str) -> bool:
    """Whether any identifier-like run of ``text`` (strings and comments included) has a problem."""
    runs = {run for run in set(_RUN_BREAK.split(text)) if not run.isascii()}
    return any(identifier_problem(run, lang) is not None for run in runs)


def identifier_hits(path: str, text: str, lang: str) -> list[Hit]:
    if not suspicious(text, lang):
        return []  # the common case: accented words and other scripts that are fine, no tokenizing
    names = python_names(text) if lang == "python" else _words(text, _JS_TOKEN)
    hits: list[Hit] = []
    seen: set[tuple[str, int]] = set()
    counts: dict[str, int] = {}
    for name, line, col in names:
        problem = identifier_problem(name, lang)
        if problem is None or (name, line) in seen:
            continue
        rule, severity, what = problem
        counts[rule.id] = counts.get(rule.id, 0) + 1
        if counts[rule.id] > _MAX_PER_FILE:
            continue
        seen.add((name, line))
        hits.append(
            Hit(
                rule=rule,
                path=path,
                line=line,
                column=col,
                severity=severity,
                message=f"{path}:{line}: {what}; rules and reviewers that look for the plain spelling miss it.",
            )
        )
    return hits


# ------------------------------------------------------------------ one file's text


def _python_text(path: str, data: bytes) -> tuple[str | None, list[Hit]]:
    """The text Python reads (its coding declaration honoured), or None when there is nothing
    non-ASCII to check; plus a finding when the declared encoding rewrites ASCII text."""
    cookie = _CODING.search(b"\n".join(data.split(b"\n", 2)[:2]))
    if cookie is None:
        if data.isascii():
            return None, []
        try:
            return data.decode("utf-8-sig"), []
        except UnicodeDecodeError:
            return None, []  # Python refuses it too: it cannot run
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        text = data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError, ValueError):
        return None, []  # Python refuses to compile it
    hits = []
    plain = data.decode("latin-1")
    if text != plain and data.isascii():
        hits.append(
            Hit(
                rule=ENCODING,
                path=path,
                line=_Lines(plain).at(cookie.start())[0],
                severity=Severity.HIGH,
                message=f"{path} declares the source encoding {encoding!r}, under which its ASCII text reads as "
                "other code: Python runs the decoded text, every text-based rule reads the bytes.",
            )
        )
    return (text if not text.isascii() or hits else None), hits


def text_hits(path: str, data: bytes) -> list[Hit]:
    """Rules 3 and 4 (and the coding declaration) for one file's bytes."""
    lang = language(path, data)
    if lang is None:
        return []
    hits: list[Hit] = []
    if lang == "python":
        text, hits = _python_text(path, data)
    elif data.isascii():
        return []
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return []  # binary, or an encoding no code checked here is written in
    if text is None:
        return hits
    hits.extend(bidi_hits(path, text))
    if lang in ("python", "js"):
        hits.extend(identifier_hits(path, text, lang))
    return hits


# ------------------------------------------------------------------ the scanner


@dataclass(frozen=True, kw_only=True)
class Scope:
    """What one run checks."""

    files: tuple[str, ...]
    """Regular files to read (rules 3 and 4)."""
    escaping: tuple[files_mod.EscapingLink, ...]
    links: tuple[tuple[str, str], ...]
    bytecode: tuple[str, ...]
    """Candidate ``.pyc`` files (rule 2), wherever the excludes put them."""
    known: frozenset[str] = frozenset()
    """Files the walk found to be regular files inside the tree (no need to ask the disk)."""


def _is_bytecode(rel: str) -> bool:
    return rel.endswith(".pyc")


def full_scope(root: Path, listing: files_mod.Listing) -> Scope:
    py = [f for f in (*listing.files, *listing.excluded_files) if f.endswith(".py")]
    pyc = [f for f in (*listing.files, *listing.excluded_files) if _is_bytecode(f)]
    return Scope(
        files=listing.files,
        escaping=listing.escaping,
        links=listing.links,
        bytecode=(*pyc, *pycache_files(root, py)),
        known=frozenset((*listing.files, *listing.excluded_files)),
    )


def changed_scope(root: Path, changed: Sequence[str], exclude: Sequence[str]) -> Scope:
    """--changed-only: the changed paths, links among them sorted as the walk sorts them."""
    matcher = pathmatch.excludes(exclude)
    # Bytecode counts whatever the excludes say (__pycache__ is one of them).
    wanted = [p for p in changed if _is_bytecode(p) or not matcher.matches(p)]
    kept, refused = files_mod.regular_files(root, wanted)
    escaping = []
    for rel in refused:
        try:
            target = os.readlink(root / rel)
        except OSError:
            target = "?"
        reason = files_mod.escape_reason(root, rel) or "a folder on its path leaves the checkout"
        escaping.append(files_mod.EscapingLink(path=rel, target=target, reason=reason))
    links = tuple((p, files_mod.resolve(root, p) or p) for p in wanted if (root / p).is_symlink() and p not in refused)
    return Scope(
        files=tuple(f for f in kept if not _is_bytecode(f)),
        escaping=tuple(escaping),
        links=links,
        bytecode=(*[f for f in kept if _is_bytecode(f)], *pycache_files(root, kept)),
    )


def file_hits(rel: str, data: bytes) -> list[Hit]:
    """Rules 3 and 4 for one file of the walk: read only when it is code (a file without a
    suffix only when it is a script, ``#!``: executables and data files are not)."""
    if not may_be_code(rel) or (language_by_name(rel) is None and not data.startswith(b"#!")):
        return []
    return text_hits(rel, data)


def tree_hits(root: Path, scope: Scope) -> list[Hit]:
    """Rules 1 and 2: the tree's links and bytecode, not any one file's text."""
    return link_hits(scope.escaping) + git_links(scope.links, root) + bytecode_hits(root, scope.bytecode, scope.known)


def check(root: Path, scope: Scope) -> list[Hit]:
    """Every rule over ``scope``: plain function over the tree, no tool, no network."""
    hits = tree_hits(root, scope)
    for rel in scope.files:
        if not may_be_code(rel):
            continue
        try:
            # A file without a suffix is read whole only when it is a script (#!): executables
            # and data files of any size are not.
            if language_by_name(rel) is None and files_mod.read_bytes(root, rel, limit=2) != b"#!":
                continue
            data = files_mod.read_bytes(root, rel)
        except OSError:
            continue  # gone or unreadable since the walk: nothing can run it either
        hits.extend(file_hits(rel, data))
    return hits


class TreeScanner(InProcessScanner):
    """The checks run through :mod:`secscan.collect`: rules 3 and 4 per file (cached, sharded
    like any file scanner's results), rules 1 and 2 over the tree on every run."""

    name = NAME
    kinds = frozenset({Kind.SAST})
    default_timeout = 300.0
    description = "secscan's own checks of the checkout (links, bytecode, confusable identifiers, bidi controls)"
    importable = False
    skip_when_empty = False  # links and bytecode are checked whatever files are left

    def version(self) -> str | None:
        return __version__

    def wants_file(self, path: str) -> bool:
        return may_be_code(path)

    def account(self, cfg: ScanConfig, handed: Sequence[str], parsed: Parsed) -> tuple[FileGap, ...]:
        # Its own code reads every file it is handed: nothing to account for (a name that is not
        # UTF-8 is the tool scanners' gap to report).
        return ()

    def check_file(self, cfg: ScanConfig, path: str, data: bytes) -> tuple[Finding, ...]:
        return tuple(to_finding(h) for h in file_hits(path, data))

    def uncached(self, cfg: ScanConfig, ctx: RunContext, work: Path) -> Prepared:
        root = cfg.target
        if ctx.changed_files is not None:
            scope = changed_scope(root, ctx.changed_files, cfg.exclude)
        else:
            scope = full_scope(root, ctx.selection.listing(root, cfg.exclude))
        return Prepared(findings=tuple(to_finding(h) for h in tree_hits(root, scope)))
