"""detect-secrets (Yelp): committed credentials in any text file, and in the merge request's history.

How it runs: ``detect-secrets -C <root> scan -n ... -- FILES`` from secscan's private work folder,
with secscan's payment-provider plugins (:mod:`secscan.scanners.detect_secrets_plugins`, shipped
inside secscan), never a baseline or config from the tree (``scan`` reads none unless told),
``-n`` so no found secret is ever sent to a provider's API to "verify" it, and the inline
``pragma: allowlist secret`` filter off (a merge request must not silence the scanner that gates
it). secscan lists the files itself: regular files only (a symlink could point outside the tree),
binary files skipped with a note, the usual folders excluded. A secret is one line's, so results
are cached per file and split into shards by :mod:`secscan.collect` like bandit's; the merge
request's history is scanned on every run (:meth:`DetectSecretsScanner.uncached`).

Format facts: the JSON (``scan`` output and ``.secrets.baseline`` files are the same document)
has ``results: {path: [{type, filename, hashed_secret, is_verified, line_number, is_secret?}]}``;
the secret itself never appears, only its SHA-1 (``hashed_secret``), so :func:`parse` finds the
value again in the line to mask it, and recognizes providers' documentation example keys by hash.
One file lists one secret once (detect-secrets compares filename, hash and type, not the line).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan import pathmatch
from secscan.errors import ParseError
from secscan.gitutil import merge_base
from secscan.models import Confidence, Finding, Identifier, Kind, Location, Severity, Source
from secscan.scanners.base import (
    CommandScanner,
    Parsed,
    Prepared,
    Root,
    RunContext,
    installed_version,
    text_path,
)
from secscan.scanners.secret_text import LONG_LINE, Bulk, cache_key, text_form
from secscan.sourcefiles import SourceTree, to_repo_path
from secscan.testcode import LIVE_CREDENTIAL
from secscan.textsafe import redact_secret

PLUGINS_FILE = Path(__file__).with_name("detect_secrets_plugins.py")
# Not secrets: public IP addresses in code are not credentials, and the plugin is noise.
_DISABLED_PLUGINS = ("IPPublicDetector",)
_ALLOWLIST_FILTER = "detect_secrets.filters.allowlist.is_line_allowlisted"
# detect-secrets' filters that skip a whole file by its name (a ".css", ".svg" or ".bin" suffix, a
# lock file, "swagger" in the name): a name is not a verdict, the merge request chooses it. secscan
# decides text or binary by content (:func:`text_form`) and judges lock files' noise itself.
_NAME_FILTERS = (
    "detect_secrets.filters.heuristic.is_non_text_file",
    "detect_secrets.filters.heuristic.is_lock_file",
    "detect_secrets.filters.heuristic.is_swagger_file",
)

if TYPE_CHECKING:
    from secscan.config import ScanConfig  # an annotation only: the configuration is above the plugins
# Where secscan writes what detect-secrets reads instead of a file (:mod:`secscan.scanners.secret_text`).
_COPIES = "secrets-text-copies"
# The label of the history folder's root: its paths are ``<commit>/<path>``.
_HISTORY = "history"
_UNPUSHED = "secrets-history-unpushed.txt"
"""The commits of the history scan no remote branch holds (one sha a line, in the work folder)."""
NOT_PUSHED = "not-pushed"


def not_pushed(f: Finding) -> Finding:
    """A secret whose commit never left this machine: no rotation needed, the history must lose it."""
    commit = (f.location.commit or next((t[7:] for t in f.tags if t.startswith("commit:")), ""))[:12]
    kind = f.severity_original or "A secret"
    message = (
        f"{kind} committed in commit {commit}, which has not been pushed (no remote branch holds it): "
        "remove it from the history before you push (amend the commit, or drop the line with "
        "git rebase -i), and load it from the environment or a secret store."
    )
    fix = (
        f"Rewrite the unpushed commit {commit} without the secret (git commit --amend / git rebase -i) "
        "before pushing; it has not left this machine, so it need not be rotated."
    )
    return replace(
        f,
        message=message,
        fix=fix,
        tags=tuple(sorted({*f.tags, NOT_PUSHED})),
        sources=tuple(replace(s, message=message) if s.scanner == "detect-secrets" else s for s in f.sources),
    )


# detect-secrets type -> (severity, confidence). Provider-specific formats are near-certain; the
# generic detectors (keywords, entropy) are guesses.
_GENERIC = frozenset(
    {"Secret Keyword", "Base64 High Entropy String", "Hex High Entropy String", "Basic Auth Credentials"}
)
_SEVERITY: dict[str, tuple[Severity, Confidence]] = {
    "Secret Keyword": (Severity.MEDIUM, Confidence.MEDIUM),
    "Basic Auth Credentials": (Severity.HIGH, Confidence.MEDIUM),
    "Base64 High Entropy String": (Severity.MEDIUM, Confidence.LOW),
    "Hex High Entropy String": (Severity.MEDIUM, Confidence.LOW),
    "JSON Web Token": (Severity.MEDIUM, Confidence.MEDIUM),
    "Private Key": (Severity.CRITICAL, Confidence.HIGH),
}
_DEFAULT_SEVERITY = (Severity.HIGH, Confidence.HIGH)
# Provider-independent formats: a key pair or a token fixture in tests is usually test material.
_NOT_LIVE = frozenset({"Private Key", "JSON Web Token"})


def _example(*parts: str) -> str:
    # Built from parts so secret scanners (this one included) never see them as one literal.
    return "".join(parts)


# Keys the providers publish in their documentation: reporting them is noise, and a project that
# copies one has no secret. Kept as SHA-1s, which is what detect-secrets reports.
DOC_EXAMPLE_KEYS: tuple[str, ...] = (
    _example("AKIA", "IOSFODNN7", "EXAMPLE"),  # AWS access key id (AWS docs)
    _example("wJalrXUtnFEMI/K7MDENG/", "bPxRfiCY", "EXAMPLEKEY"),  # AWS secret access key (AWS docs)
    _example("AKIAI44QH8DHB", "EXAMPLE"),  # AWS docs, second example key id
    _example("je7MtGbClwBF/2Zp9Utk/", "h3yCo8nvbEXAMPLEKEY"),  # AWS docs, second example secret
    _example("sk_", "test_", "4eC39HqLyjWDarjtT1zdp7dc"),  # Stripe API docs test key
    _example("pk_", "test_", "TYooMQauvdEDq54NiTphI7jx"),  # Stripe API docs publishable key
    _example("sk_", "test_", "BQokikJOvBiI2HlWgH4olfQ2"),  # Stripe docs (older) test key
)
# detect-secrets' own hash of a secret: a lookup key, not a security control.
_EXAMPLE_HASHES = frozenset(hashlib.sha1(k.encode(), usedforsecurity=False).hexdigest() for k in DOC_EXAMPLE_KEYS)

_TEST_DIRS = frozenset(
    {"test", "tests", "testing", "testdata", "test_data", "fixtures", "__fixtures__", "spec", "specs"}
)
_DOC_DIRS = frozenset({"doc", "docs", "documentation", "examples"})
_DOC_SUFFIXES = (".md", ".rst", ".txt", ".adoc", ".html", ".htm", ".po", ".ipynb")
_LOCK_NAMES = frozenset(
    {"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "pipfile.lock", "composer.lock",
     "cargo.lock", "gemfile.lock", "go.sum", "uv.lock", "pdm.lock", "npm-shrinkwrap.json"}
)  # fmt: skip
_MINIFIED = re.compile(r"\.min\.(js|css|mjs)$|\.(map|svg|woff2?|snap)$")


def noise_reason(path: str, line: str | None) -> str | None:
    """Why a generic (keyword/entropy) finding at ``path`` is noise, or None.

    Test data, lock files, minified assets and documentation are full of hashes, sample
    passwords and random-looking ids; provider-specific formats are reported wherever they are.
    """
    parts = path.lower().split("/")
    name = parts[-1]
    if name in _LOCK_NAMES or name.endswith(".lock"):
        return "lock file"
    if _MINIFIED.search(name) or (line is not None and len(line) > LONG_LINE):
        return "minified asset"
    if any(p in _TEST_DIRS for p in parts[:-1]) or name.startswith("test_") or name == "conftest.py":
        return "test data"
    if re.search(r"_tests?\.py$", name):
        return "test data"
    if any(p in _DOC_DIRS for p in parts[:-1]) or name.endswith(_DOC_SUFFIXES):
        return "documentation"
    return None


_PLACEHOLDER = re.compile(
    r"(?i)^(?:your|my|some|example|sample|dummy|fake|placeholder|change[-_ ]?me|xxx|\*{3}|django-insecure-)"
    r"|your[-_]|[-_]here\b|changeme|placeholder|^<.*>$|^\$\{.*\}$|^\{\{.*\}\}$|^%\(.*\)s$"
)
# A name, a word or a path (``password1``, ``gitlab-secret-detection``, ``Secret``): what keyword
# detectors find when a setting names a field instead of holding a credential.
_WORD = re.compile(r"^[A-Za-z][A-Za-z_\-./]*\d{0,2}$")


# Hex strings assigned to these names are digests of something, not keys.
_DIGEST_NAME = re.compile(r"(?i)\b\w*(?:digest|hash|checksum|sha1|sha256|sha512|md5|etag|integrity)\w*\b[\"']?\s*[:=]")


def value_noise(value: str) -> str | None:
    """Why a value a generic detector (keyword, basic auth) found is not a credential, or None."""
    if len(value) < 8:
        return "too short for a credential"
    if any(c.isspace() for c in value):
        return "a sentence"
    if _PLACEHOLDER.search(value):
        return "a placeholder"
    if _WORD.match(value):
        return "a name or word"
    if "***" in value:
        return "already masked"
    return None


def _hash(value: str) -> str:
    # detect-secrets' own hash of a secret (its baseline key): a lookup key, not a security control.
    return hashlib.sha1(value.encode("utf-8"), usedforsecurity=False).hexdigest()


def _boundaries(line: str) -> list[int]:
    out = [0]
    for i in range(1, len(line)):
        if line[i].isalnum() != line[i - 1].isalnum():
            out.append(i)
    out.append(len(line))
    return out


@functools.lru_cache(maxsize=4096)
def find_value(line: str, hashed: str) -> str | None:
    """The secret in ``line`` whose SHA-1 is ``hashed`` (detect-secrets reports only the hash).

    Secrets start and end where a run of letters/digits starts or ends, so only those spans are
    hashed: a few thousand SHA-1s for a long line instead of every substring."""
    if len(line) > 4000:
        return None
    cuts = _boundaries(line)
    for a_i, a in enumerate(cuts):
        for b in cuts[a_i + 1 :]:
            if _hash(line[a:b]) == hashed:
                return line[a:b]
    # A detector may match a prefix of a longer run (Stripe's 24 characters of a longer key):
    # on a short line, try every span.
    if len(line) <= 300:
        for a in range(len(line)):
            for b in range(a + 4, len(line) + 1):
                if _hash(line[a:b]) == hashed:
                    return line[a:b]
    return None


def _slug(kind: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-") or "secret"


def _finding(entry: dict[str, Any], path: str, where: str, tree: SourceTree, commit: str | None) -> Finding | None:
    try:
        kind = str(entry["type"])
        hashed = str(entry.get("hashed_secret") or "")
        line_no = int(entry["line_number"])
    except (KeyError, TypeError, ValueError) as e:
        raise ParseError(f"detect-secrets report: {where}: missing or invalid field ({e})") from e
    line = tree.lines(path, line_no) if line_no > 0 else None
    value = find_value(line, hashed) if line is not None and hashed else None
    snippet = line
    if snippet is not None and value is not None:
        # Masked here with the exact value (keywords may be unquoted, digit-free words the
        # generic masking would miss); core.mask masks the rest of what it recognizes.
        snippet = redact_secret(snippet.replace(value, value[:4] + "****" if len(value) >= 12 else "****"))
    severity, confidence = _SEVERITY.get(kind, _DEFAULT_SEVERITY)
    rule_id = _slug(kind)
    cwe = "CWE-321" if kind == "Private Key" else "CWE-798"
    loc = Location(
        path=text_path(path), start_line=line_no or None, end_line=line_no or None, snippet=snippet, commit=commit
    )
    where_text = f"in commit {commit[:12]}" if commit else "in the code"
    message = (
        f"{kind} committed {where_text}. A pushed secret is leaked even after it is removed: "
        "revoke and rotate it, then remove it from the code."
    )
    return Finding(
        kind=Kind.SECRET,
        scanner="detect-secrets",
        rule_id=rule_id,
        title=f"Hard-coded secret: {kind}",
        message=message,
        severity=severity,
        severity_original=kind,
        confidence=confidence,
        location=loc,
        identifiers=(
            Identifier(type="detect_secrets", value=kind),
            Identifier(type="cwe", value=cwe, url=f"https://cwe.mitre.org/data/definitions/{cwe[4:]}.html"),
        ),
        fix="Revoke the secret at its provider, issue a new one, and load it from the environment or a secret store.",
        sources=(
            Source(scanner="detect-secrets", rule_id=rule_id, severity_original=kind, message=message, location=loc),
        ),
        tags=(f"commit:{commit}",) if commit else (),
    )


def parse(
    text: str,
    *,
    tree: SourceTree,
    history: bool = False,
    noise_filter: bool = True,
    bulk: Mapping[str, Bulk] | None = None,
) -> tuple[list[Finding], list[str]]:
    """Findings and warnings from a detect-secrets JSON report or baseline (pure).

    ``history``: paths are ``<commit>/<path>`` of :mod:`secscan.secrets_history`'s folder.
    Documentation example keys and entries a baseline audit marked ``is_secret: false`` are left
    out; generic findings in test data, lock files, minified assets and docs too (counted).
    ``bulk``: the lines of a file read only for provider key formats (a generic finding in the
    windows around one is noise, as on the whole line)."""
    findings: list[Finding] = []
    left_out: dict[str, int] = {}
    for raw_path, entries in sorted(_results(text).items()):
        if not isinstance(entries, list):
            raise ParseError(f"detect-secrets report: results[{raw_path!r}]: expected a list")
        place = _place(str(raw_path), tree, history)
        if place is None:
            continue
        for n, entry in enumerate(entries):
            where = f"results[{raw_path!r}][{n}]"
            judged = _entry(entry, where, place, tree, noise_filter=noise_filter, bulk=(bulk or {}).get(place.path))
            if isinstance(judged, Finding):
                findings.append(judged)
            else:
                left_out[judged] = left_out.get(judged, 0) + 1
    return findings, _left_out_warnings(left_out)


def _results(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if text.strip() else {"results": {}}
    except json.JSONDecodeError as e:
        raise ParseError(f"detect-secrets report is not valid JSON: {e.msg} at line {e.lineno}") from e
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict):
        raise ParseError("detect-secrets report: expected an object with a 'results' mapping")
    return results


@dataclass(frozen=True, kw_only=True)
class _Place:
    """Where a report's file is: its path in the scanned folder, and in the repository."""

    path: str
    """In the scanned folder (the tree, the text copies, the history folder)."""
    shown: str
    """In the repository (a history file's path without its commit folder)."""
    commit: str | None = None
    """The commit that added the lines (history only)."""


def _place(raw_path: str, tree: SourceTree, history: bool) -> _Place | None:
    path = to_repo_path(raw_path, tree.root)
    if not history:
        return _Place(path=path, shown=path)
    from secscan.secrets_history import origin

    found = origin(path)
    if found is None:
        return None
    return _Place(path=path, shown=found[1], commit=found[0])


_EXAMPLE = "example"
_AUDITED = "audited"
_NOISE = "noise: "


def _entry(
    entry: Any, where: str, place: _Place, tree: SourceTree, *, noise_filter: bool, bulk: Bulk | None = None
) -> Finding | str:
    """The finding of one report entry, or why it is left out (:data:`_EXAMPLE`, ...)."""
    if not isinstance(entry, dict):
        raise ParseError(f"detect-secrets report: {where}: expected an object")
    if entry.get("hashed_secret") in _EXAMPLE_HASHES:
        return _EXAMPLE
    if entry.get("is_secret") is False:
        return _AUDITED
    f = _finding(entry, place.path, where, tree, place.commit)
    if f is None:
        return ""
    line = tree.lines(place.path, f.location.start_line or 0)
    kind = str(entry.get("type"))
    if kind in _GENERIC and noise_filter:
        in_bulk = bulk is not None and bulk.covers(f.location.start_line or 0)
        reason = bulk.reason if bulk is not None and in_bulk else _generic_noise(entry, tree, place, line)
        if reason is not None:
            return _NOISE + reason
    elif kind in _NOT_LIVE:
        if noise_filter and noise_reason(place.shown, line) == "test data":
            # A test certificate or token fixture: shown, never blocking.
            f = replace(f, severity=Severity.INFO, confidence=Confidence.LOW, tags=(*f.tags, "test-data"))
    else:
        # A provider's live key format blocks wherever it is, test code included: a fake looks
        # like a fake (documentation keys are recognised above), a live key in a test file is as
        # live as anywhere else (issue trust-2).
        f = replace(f, tags=(*f.tags, LIVE_CREDENTIAL))
    return _relocate(f, place.shown) if place.commit is not None else f


def _generic_noise(entry: dict[str, Any], tree: SourceTree, place: _Place, line: str | None) -> str | None:
    """Why a keyword/entropy finding is noise (where it is, what its value is), or None."""
    reason = noise_reason(place.shown, line)
    if reason is None:
        value = _value_of(entry, tree, place.path)
        reason = value_noise(value) if value is not None else None
    if reason is None and _DIGEST_NAME.search(line or ""):
        reason = "a hash digest"
    return reason


def _left_out_warnings(left_out: dict[str, int]) -> list[str]:
    warnings = []
    if left_out.get(_EXAMPLE):
        warnings.append(
            f"detect-secrets: {left_out[_EXAMPLE]} documentation example key(s) (AWS, Stripe docs) not reported"
        )
    if left_out.get(_AUDITED):
        warnings.append(f"detect-secrets: {left_out[_AUDITED]} baseline entr(ies) audited as not a secret not reported")
    noise = {k[len(_NOISE) :]: n for k, n in left_out.items() if k.startswith(_NOISE)}
    if noise:
        detail = ", ".join(f"{n}: {reason}" for reason, n in sorted(noise.items()))
        warnings.append(f"detect-secrets: generic keyword/entropy findings left out as noise: {detail}")
    return warnings


def _value_of(entry: dict[str, Any], tree: SourceTree, path: str) -> str | None:
    line = tree.lines(path, int(entry.get("line_number") or 0))
    hashed = str(entry.get("hashed_secret") or "")
    return find_value(line, hashed) if line is not None and hashed else None


def _relocate(f: Finding, path: str) -> Finding:
    loc = replace(f.location, path=path)
    return replace(f, location=loc, sources=tuple(replace(s, location=loc) for s in f.sources))


# ------------------------------------------------------------------ files


def _excluded(rel: str, patterns: Sequence[str], *, is_dir: bool = False) -> bool:
    """The one meaning of excludes (:mod:`secscan.pathmatch`), default folders included."""
    return pathmatch.excludes(tuple(patterns)).matches(rel, is_dir=is_dir)


@dataclass(frozen=True, kw_only=True)
class TextCopies:
    """The files detect-secrets reads as they are, and those it reads through their text form."""

    clean: tuple[str, ...] = ()
    copied: tuple[str, ...] = ()
    """Written in their text form under the copies folder, at the same relative path."""
    bulk: Mapping[str, Bulk] = field(default_factory=dict)
    """Of the copied files, the lines read for provider key formats only."""
    left_out: int = 0
    """Lines of large files no detector could match, left empty."""


def text_copies(root: Path, files: Sequence[str], folder: Path) -> TextCopies:
    """The files as they are, and the others written to ``folder`` in their text form
    (:func:`secscan.scanners.secret_text.text_form`): scanned there, their findings the files' own."""
    clean: list[str] = []
    copied: list[str] = []
    bulk: dict[str, Bulk] = {}
    left_out = 0
    for rel in files:
        try:
            form = text_form((root / rel).read_bytes())
        except OSError:
            clean.append(rel)  # detect-secrets meets it and says so
            continue
        if form is None:
            clean.append(rel)
            continue
        dest = folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(form.data)
        copied.append(rel)
        left_out += form.left_out
        if form.bulk is not None:
            bulk[rel] = form.bulk
    return TextCopies(clean=tuple(clean), copied=tuple(copied), bulk=bulk, left_out=left_out)


def _copy_notes(copies: TextCopies) -> tuple[str, ...]:
    """What the run says of the files detect-secrets read through their text form."""
    notes: list[str] = []
    bulky = sorted(copies.bulk)
    if bulky:
        notes.append(
            f"detect-secrets: {len(bulky)} file(s) with lines too long for configuration, or binary, read only "
            f"where a provider's key format could be (e.g. {text_path(bulky[0])})"
        )
    if copies.left_out:
        notes.append(
            f"detect-secrets: {copies.left_out} line(s) of files over 512 KiB that no detector could match not read"
        )
    others = [c for c in copies.copied if c not in copies.bulk]
    if others:
        notes.append(
            f"detect-secrets: {len(others)} text file(s) with NUL bytes, invalid UTF-8 or over 512 KiB read through"
            f" their text form (e.g. {text_path(others[0])})"
        )
    return tuple(notes)


class DetectSecretsScanner(CommandScanner):
    name = "detect-secrets"
    kinds = frozenset({Kind.SECRET})
    default_timeout = 600.0
    description = "committed secrets (with the merge request's history)"
    executable = "detect-secrets"
    install_hint = "pip install detect-secrets"
    output_name = None  # the report is its stdout
    ok_codes = (0,)
    # A secret is a line's: what it reports for a file depends on that file alone, so its results
    # are cached per file and the files split into shards like bandit's (issue speed-2).
    per_file = True
    skip_when_empty = False  # the merge request's history is scanned whatever the tree holds
    reads_content = True  # what of a file is read: by content, never by name

    @classmethod
    def parse_report(cls, text: str, *, tree: SourceTree, origin: str, manifest: str | None = None) -> Parsed:
        findings, warnings = parse(text, tree=tree)
        return Parsed(findings=tuple(findings), warnings=tuple(warnings))

    def version(self) -> str | None:
        if not os.environ.get("SECSCAN_DETECT_SECRETS_BIN"):
            return installed_version("detect-secrets")
        return None

    def skipped_warnings(self, skipped: Sequence[str], *, changed_only: bool) -> tuple[str, ...]:
        # Only a file that cannot be read is left out (binary ones are read for key formats).
        return tuple(f"detect-secrets: {text_path(s)} could not be read: not scanned for secrets" for s in skipped)

    def cache_context(self, cfg: ScanConfig, *, exe: str, version: str | None) -> list[str]:
        # Which parts of a file are read, and secscan's own plugins, decide the results too.
        plugins = hashlib.sha256(PLUGINS_FILE.read_bytes()).hexdigest()
        return [*super().cache_context(cfg, exe=exe, version=version), cache_key(), plugins]

    def prepare(self, cfg: ScanConfig, work: Path, targets: tuple[str, ...]) -> Prepared:
        """The files as they are, and the others through their text form in the work folder
        (:mod:`secscan.scanners.secret_text`): a key in a config file with one NUL byte is found, a
        minified bundle or a lockfile backup costs what its few candidate lines cost."""
        root = cfg.target.resolve()
        folder = work / _COPIES
        copies = text_copies(root, targets, folder)
        roots = (
            Root(path=root, files=copies.clean),
            Root(path=folder.resolve(), files=copies.copied, bulk=copies.bulk),
        )
        return Prepared(roots=roots, warnings=_copy_notes(copies))

    def argv(
        self, exe: str, cfg: ScanConfig, *, work: Path, out_file: Path, root: Path, targets: Sequence[str]
    ) -> list[str]:
        cores = os.cpu_count() or 1
        argv = [exe, "-C", str(root), "--cores", str(cores), "scan", "-n", "--plugin", str(PLUGINS_FILE)]
        argv += ["--disable-filter", _ALLOWLIST_FILTER]
        for name_filter in _NAME_FILTERS:
            argv += ["--disable-filter", name_filter]
        for plugin in _DISABLED_PLUGINS:
            argv += ["--disable-plugin", plugin]
        return [*argv, "--", *(str(root / t) for t in targets)]

    def env(self, cfg: ScanConfig) -> dict[str, str]:
        # UTF-8 whatever the runner's locale: detect-secrets skips a file it cannot decode.
        return {"PYTHONUTF8": "1"}

    def parse_output(self, text: str, cfg: ScanConfig, *, work: Path, root: Root, tree: SourceTree) -> Parsed:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ParseError(f"not valid JSON: {e.msg}") from e
        if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
            # ``{}`` is not "no secrets": a report without results says nothing was scanned.
            raise ParseError("no 'results' mapping: the files were not scanned")
        findings, warnings = parse(text, tree=tree, history=root.label == _HISTORY, bulk=root.bulk)
        if root.label == _HISTORY:
            marks = work / _UNPUSHED
            local = frozenset(marks.read_text(encoding="utf-8").split()) if marks.is_file() else frozenset()
            findings = [not_pushed(f) if f.location.commit in local else f for f in findings]
        return Parsed(findings=tuple(findings), warnings=tuple(warnings))

    def uncached(self, cfg: ScanConfig, ctx: RunContext, work: Path) -> Prepared:
        """The added lines of the merge request's commits: not one file's result, scanned on every run."""
        base = history_base(cfg)
        if base is None:
            return Prepared()
        from secscan import secrets_history as sh

        ctx.events(self.name, "scanning the merge request's commits")
        root = cfg.target.resolve()
        mb = merge_base(root, base)
        history = sh.read_history(root, mb)
        folder = (work / "secrets-history").resolve()
        written = sh.materialize(history, folder, excluded=pathmatch.excludes(tuple(cfg.exclude)))
        notes = [
            f"detect-secrets: binary file {b} (commit {c.sha[:12]}) not scanned for secrets"
            for c in history.commits
            for b in c.binary
        ]
        notes.append(f"detect-secrets: scanned the added lines of {len(history.commits)} commit(s) since {mb[:12]}")
        # Which of them never left this machine: for those, the advice is to rewrite the history.
        (work / _UNPUSHED).write_text("\n".join(sorted(sh.unpushed(root, mb))), encoding="utf-8")
        rels = [str(p.relative_to(folder)) for p in written]
        kept = tuple(r for r in rels if not _excluded((sh.origin(r) or ("", r))[1], cfg.exclude))
        return Prepared(roots=(Root(path=folder, files=kept, label=_HISTORY),), warnings=tuple(notes))

    def combine(self, files: Sequence[Finding], extra: Sequence[Finding]) -> list[Finding]:
        return merge_history(files, extra)


def history_base(cfg: ScanConfig) -> str | None:
    """Where the history scan starts: ``--secrets-history REF``, else the diff base (a merge
    request pipeline, ``--diff-base``, the pre-push hook). None: a branch pipeline, no history."""
    return cfg.secrets_history or cfg.diff_base or None


def _secret_key(f: Finding) -> tuple[str, str]:
    """What makes a history finding the same secret as a work-tree one: the type and the value
    (its masked form is not enough; compare the code of the line instead)."""
    return (f.rule_id, (f.location.snippet or "").strip())


def merge_history(tree_findings: Sequence[Finding], history: Sequence[Finding]) -> list[Finding]:
    """Work-tree findings plus the history findings that are not still in the tree.

    A secret still in the tree is reported where it is now, tagged with the commit that added
    it (the earliest); one that a later commit removed (or that only moved) is reported at the
    commit that added it."""
    first_commit: dict[tuple[str, str], str] = {}
    unpushed_keys: set[tuple[str, str]] = set()
    for f in history:
        key = _secret_key(f)
        if key not in first_commit and f.location.commit:
            first_commit[key] = f.location.commit
            if NOT_PUSHED in f.tags:
                unpushed_keys.add(key)
    out: list[Finding] = []
    in_tree = set()
    for f in tree_findings:
        key = _secret_key(f)
        in_tree.add(key)
        commit = first_commit.get(key)
        if commit is not None:
            # Its location stays the work tree's (location.commit is None); the tag names the
            # commit that added it, for the GitLab report and the reader.
            tagged = replace(f, tags=tuple(sorted({*f.tags, f"commit:{commit}"})))
            out.append(not_pushed(tagged) if key in unpushed_keys else tagged)
        else:
            out.append(f)
    seen: set[tuple[str, str, str]] = set()
    for f in history:
        key = _secret_key(f)
        if key in in_tree:
            continue
        # The same line added again by a later commit (a revert, a rebase): the first one counts.
        ident = (*key, f.location.path or "")
        if ident in seen:
            continue
        seen.add(ident)
        out.append(f)
    return out
