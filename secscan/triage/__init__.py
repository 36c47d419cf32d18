"""Triage: dedupe, new/existing statuses (baseline, diff), suppressions, fixed entries.

``apply`` is the one entry point the pipeline (and ``secscan import``) calls, after
:func:`secscan.fingerprint.assign`. The order matters and is fixed:

1. weak hashes used only as lookup keys are judged (:mod:`secscan.triage.lookup_hash`), then
   dedupe (so a suppression or status applies to the merged problem, not to one scanner's copy);
2. the underlying status: ``new`` unless the baseline has it or, in diff-aware mode, it is not on
   an added/changed line (or its flagged code only moved) - both must say "new" when both apply;
3. suppressions: the suppressions file first (owner, reason, expiry), then inline comments, then
   a suppression the input already carried (e.g. SARIF ``inSource``). Suppressed findings keep
   their underlying status as a tag (``underlying:new``) so the policy can refuse an inline
   suppression of a new high finding;
4. entries the merge request adds to the suppressions file (``pending``) are said on the open
   findings they would suppress, never applied;
5. baseline entries no longer found are appended as ``fixed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from secscan.fingerprint import ScopeIndex, evolve, gc_paused, normalize_code, normalize_package
from secscan.models import Finding, Kind, NarrowedTestCode, Status
from secscan.pathmatch import PathMatcher
from secscan.scanners.npm_lockfiles import is_lockfile, line_pins
from secscan.sourcefiles import SourceTree
from secscan.triage import baseline as baseline_mod
from secscan.triage import lookup_hash
from secscan.triage import suppressions as sup
from secscan.triage.dedupe import dedupe, sort_key
from secscan.triage.diff import (
    DiffInfo,
    FileChange,
    Lines,
    LineScheme,
    blob_text,
    schemes_for,
    worktree_bytes,
    worktree_hash,
)

UNDERLYING_NEW = "underlying:new"
UNDERLYING_EXISTING = "underlying:existing"


@dataclass(frozen=True, kw_only=True)
class TriageContext:
    tree: SourceTree
    """The scanned tree (for inline suppressions and diff lookups)."""
    today: date
    """Injected so expiry checks are testable."""
    suppressions: tuple[sup.Rule, ...] = ()
    """The suppressions file's entries, loaded by :mod:`secscan.inputs`; those marked ``pending``
    are the merge request's additions (never applied: said on the findings they would suppress)."""
    baseline: baseline_mod.Baseline | None = None
    diff: DiffInfo | None = None
    """The diff against the diff base (diff-aware mode), computed once by :mod:`secscan.inputs`."""
    scanners_run: tuple[str, ...] | None = None
    """Scanners that ran: only they can tell that a baseline entry is fixed (None: all)."""
    scanned_paths: tuple[str, ...] | None = None
    """With --changed-only: the files scanned; baseline entries elsewhere are not "fixed"."""
    excluded: PathMatcher | None = None
    """What the scanners were told to skip (defaults + --exclude); baseline entries there are not "fixed"."""
    test_code: NarrowedTestCode | None = None
    """How test code was read when not with every rule: a baseline entry there whose rule did
    not run is not "fixed"."""


@dataclass(frozen=True, kw_only=True)
class TriageOutcome:
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...] = field(default=())


class _Introduced:
    """Decides whether a finding was introduced by the diff (or its flagged code merely moved).

    When in doubt, it was: a finding is "not introduced" only when it sits on lines git's diff
    describes as unchanged under every way of counting lines (:class:`LineScheme`), or in a file
    that is byte for byte the base's, or its code is found as often, in the same scope, at the
    base."""

    def __init__(self, diff: DiffInfo, tree: SourceTree) -> None:
        self.diff = diff
        self.tree = tree
        self.scopes = ScopeIndex()
        self._norm: dict[tuple[str, LineScheme], list[str]] = {}
        self._lines: dict[tuple[str, LineScheme], Lines] = {}
        self._texts: dict[str, str | None] = {}
        self._exact: dict[str, bool] = {}
        self._bytes: dict[str, bytes | None] = {}

    def _split(self, key: str, text: str, scheme: LineScheme) -> Lines:
        if (key, scheme) not in self._lines:
            self._lines[key, scheme] = Lines.of(text, scheme)
        return self._lines[key, scheme]

    def _norm_lines(self, key: str, text: str, scheme: LineScheme, path: str) -> list[str]:
        if (key, scheme) not in self._norm:
            lines = self._split(key, text, scheme)
            self._norm[key, scheme] = [normalize_code(lines.content(n), path) for n in range(1, len(lines) + 1)]
        return self._norm[key, scheme]

    def _base(self, change: FileChange) -> str | None:
        blob = change.old_blob
        if blob is None or self.tree.root is None:
            return None
        if blob not in self._texts:
            self._texts[blob] = blob_text(self.tree.root, blob)
        return self._texts[blob]

    def _worktree(self, path: str) -> bytes | None:
        if path not in self._bytes:
            root = self.tree.root
            self._bytes[path] = worktree_bytes(root, path) if root is not None else None
        return self._bytes[path]

    def _head(self, path: str) -> str | None:
        """The head's text with its line breaks as they are (git counts only ``\\n``; the source
        tree's reader turns a bare CR into a line break)."""
        data = self._worktree(path)
        return data.decode("utf-8", errors="replace") if data is not None else None

    def _scope(self, key: str, text: str, scheme: LineScheme, line: int) -> str:
        """The Python scope of a line of ``scheme`` (Python's own lines decide scopes)."""
        offset = self._split(key, text, scheme).starts[line - 1]
        return self.scopes.scope_at(text, self._split(key, text, LineScheme.PYTHON).line_at(offset), key=key)

    def _count(self, key: str, text: str, scheme: LineScheme, window: tuple[str, int, str], path: str) -> int:
        """How many ``size``-line windows of the text hold ``code`` in ``scope``."""
        code, size, scope = window
        lines = self._norm_lines(key, text, scheme, path)
        count = 0
        for i in range(0, len(lines) - size + 1):
            if "".join(lines[i : i + size]) != code:
                continue
            if not path.endswith(".py") or self._scope(key, text, scheme, i + 1) == scope:
                count += 1
        return count

    def _new_under(self, scheme: LineScheme, f: Finding, change: FileChange, texts: tuple[str, str]) -> bool:
        """Whether the finding is on an added line, and not moved code, when its scanner counts
        lines the ``scheme`` way."""
        head, base = texts
        path, start = change.path, f.location.start_line or 0
        end = max(f.location.end_line or start, start)
        hkey, bkey = "head:" + path, "base:" + (change.old_blob or "")
        span = self._split(hkey, head, scheme).span_in(self._split(hkey, head, LineScheme.GIT), start, end)
        if span is None:
            return True  # past the end of the file this way: cannot be placed
        if not change.touches(*span):
            return False
        size = end - start + 1
        window = "".join(self._norm_lines(hkey, head, scheme, path)[start - 1 : start - 1 + size])
        if not window:
            return True
        scope = self._scope(hkey, head, scheme, start) if path.endswith(".py") else ""
        # The same code in the same scope at the base: it moved. More copies now than then:
        # one of them (this one, on an added line) is new.
        in_base = self._count(bkey, base, scheme, (window, size, scope), path)
        in_head = self._count(hkey, head, scheme, (window, size, scope), path)
        return in_head > in_base

    def sast(self, f: Finding, change: FileChange) -> bool:
        if not f.location.start_line:
            return True
        head = self._head(change.path)
        base = self._base(change)
        if head is None or not base:
            return True
        return any(self._new_under(s, f, change, (head, base)) for s in schemes_for(head, base))

    def dependency(self, f: Finding, change: FileChange) -> bool:
        text = self._head(change.path)
        package = normalize_package(f.location.package or "")
        if text is None or not package:
            return bool(change.added)
        # The added lines are git's; a git line may hold several lines for a requirements
        # parser (joined with a bare CR, a form feed...): each of them is looked at.
        git_lines = Lines.of(text, LineScheme.GIT)
        added = [
            piece
            for n in sorted(change.added)
            if 0 < n <= len(git_lines)
            for piece in git_lines.content(n).splitlines() or [""]
        ]
        if is_lockfile(change.path):
            # issue 19 (js): an npm/yarn/pnpm lockfile names a package and its version on one
            # changed line (see npm_lockfiles.line_pins), not on a requirement line.
            name, version = f.location.package or "", f.location.version or ""
            return any(line_pins(line, name, version) for line in added)
        for line in added:
            name = line.split(";", 1)[0]
            for sep in ("==", ">=", "<=", "~=", "!=", "===", ">", "<", "[", "@", " ", "="):
                name = name.split(sep, 1)[0]
            if normalize_package(name.strip().strip("\"'")) == package:
                return True
        return False

    def _describes(self, change: FileChange) -> bool:
        """Whether git's diff of the file is a diff of the bytes the scanners read: not so when a
        filter or conversion (``.gitattributes``) made them differ from the blob git compared."""
        root = self.tree.root
        if change.whole_file or root is None:
            return False
        if change.path not in self._exact:
            data = self._worktree(change.path)
            compared = change.head_blob or worktree_hash(root, change.path)
            self._exact[change.path] = data is not None and self.diff.is_blob(data, compared)
        return self._exact[change.path]

    def _unchanged(self, path: str) -> bool:
        if path not in self._exact:
            self._exact[path] = self.diff.unchanged(path, self._worktree(path))
        return self._exact[path]

    def __call__(self, f: Finding) -> bool:
        if f.location.commit:
            # Found in a commit of the merge request (the history scan): introduced by it.
            return True
        if f.kind is Kind.DAST or not f.location.path:
            # A URL, or an installed package with no manifest, cannot be placed in a diff:
            # judge it as new (fail closed) rather than let it pass unseen.
            return True
        change = self.diff.files.get(f.location.path)
        if change is None:
            # Not in the diff: existing only where the file is the base's, byte for byte (not a
            # submodule's file, an ignored file, or one under a path the diff deleted).
            return not self._unchanged(f.location.path)
        if not self._describes(change):
            return True
        if f.kind is Kind.DEPENDENCY:
            return self.dependency(f, change)
        return self.sast(f, change)


def _suppress_inline(f: Finding, tree: SourceTree, *, new: bool) -> Finding:
    """Inline comments (after the file: the file's owner and reason say more), then tag the
    underlying status of every suppressed finding for the policy."""
    if f.status is not Status.SUPPRESSED:
        marker = sup.inline_marker(f, tree)
        if marker is not None:
            f = replace(f, status=Status.SUPPRESSED, suppression=sup.inline_suppression(marker))
        elif f.suppression is not None and f.suppression.origin == "inline":
            # Already suppressed in the input (e.g. SARIF inSource): keep it, marked.
            f = replace(f, status=Status.SUPPRESSED)
        elif f.suppression is not None:
            f = evolve(f, suppression=None)
    if f.status is Status.SUPPRESSED:
        tags = {t for t in f.tags if not t.startswith("underlying:")} | {UNDERLYING_NEW if new else UNDERLYING_EXISTING}
        f = replace(f, tags=tuple(sorted(tags)))
    return f


def apply(findings: Sequence[Finding], ctx: TriageContext) -> TriageOutcome:
    """Dedupe, then mark statuses and suppressions; baseline entries not found become fixed."""
    with gc_paused():
        return _apply(findings, ctx)


def _apply(findings: Sequence[Finding], ctx: TriageContext) -> TriageOutcome:
    warnings: list[str] = []
    # A weak hash whose digest only names something (a cache key, a file name) is lowered, shown
    # and tagged before dedupe, so the merged finding takes the judged severity (scan and import).
    live = [f for f in dedupe(lookup_hash.judge(findings, ctx.tree)) if f.status is not Status.FIXED]

    base = ctx.baseline
    known = base.fingerprints() if base is not None else frozenset()
    introduced = _Introduced(ctx.diff, ctx.tree) if ctx.diff is not None else None
    rules = tuple(r for r in ctx.suppressions if not r.pending)

    out: list[Finding] = []
    for f in live:
        is_new = True
        if base is not None and f.fingerprint in known:
            is_new = False
        if is_new and introduced is not None and not introduced(f):
            is_new = False
        status = Status.NEW if is_new else Status.EXISTING
        out.append(f if f.status is status else evolve(f, status=status))

    file_result = sup.apply_rules(out, rules, today=ctx.today)
    warnings.extend(file_result.warnings)
    final: list[Finding] = []
    for f, before in zip(file_result.findings, out, strict=True):
        final.append(_suppress_inline(f, ctx.tree, new=before.status is Status.NEW))

    final = list(sup.mark_pending(final, ctx.suppressions, today=ctx.today))
    if base is not None:
        final.extend(
            baseline_mod.fixed_entries(
                base,
                final,
                scanners_run=ctx.scanners_run,
                scanned_paths=ctx.scanned_paths,
                excluded=ctx.excluded,
                test_code=ctx.test_code,
            )
        )
    return TriageOutcome(findings=tuple(sorted(final, key=sort_key)), warnings=tuple(warnings))
