"""Triage: dedupe, new/existing statuses (baseline, diff), suppressions, fixed entries.

``apply`` is the one entry point the pipeline (and ``secscan import``) calls, after
:func:`secscan.fingerprint.assign`. The order matters and is fixed:

1. dedupe (so a suppression or status applies to the merged problem, not to one scanner's copy);
2. the underlying status: ``new`` unless the baseline has it or, in diff-aware mode, it is not on
   an added/changed line (or its flagged code only moved) - both must say "new" when both apply;
3. suppressions: the suppressions file first (owner, reason, expiry), then inline comments, then
   a suppression the input already carried (e.g. SARIF ``inSource``). Suppressed findings keep
   their underlying status as a tag (``underlying:new``) so the policy can refuse an inline
   suppression of a new high finding;
4. baseline entries no longer found are appended as ``fixed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from secscan.fingerprint import ScopeIndex, evolve, gc_paused, normalize_code, normalize_package
from secscan.models import Finding, Kind, Status
from secscan.pathmatch import PathMatcher
from secscan.sourcefiles import SourceTree
from secscan.triage import baseline as baseline_mod
from secscan.triage import suppressions as sup
from secscan.triage.dedupe import dedupe, sort_key
from secscan.triage.diff import DiffInfo, FileChange, base_text

UNDERLYING_NEW = "underlying:new"
UNDERLYING_EXISTING = "underlying:existing"


@dataclass(frozen=True, kw_only=True)
class TriageContext:
    tree: SourceTree
    """The scanned tree (for inline suppressions and diff lookups)."""
    today: date
    """Injected so expiry checks are testable."""
    suppressions: tuple[sup.Rule, ...] = ()
    """The suppressions file's entries, loaded by :mod:`secscan.inputs`."""
    baseline: baseline_mod.Baseline | None = None
    diff: DiffInfo | None = None
    """The diff against the diff base (diff-aware mode), computed once by :mod:`secscan.inputs`."""
    scanners_run: tuple[str, ...] | None = None
    """Scanners that ran: only they can tell that a baseline entry is fixed (None: all)."""
    scanned_paths: tuple[str, ...] | None = None
    """With --changed-only: the files scanned; baseline entries elsewhere are not "fixed"."""
    excluded: PathMatcher | None = None
    """What the scanners were told to skip (defaults + --exclude); baseline entries there are not "fixed"."""


@dataclass(frozen=True, kw_only=True)
class TriageOutcome:
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...] = field(default=())


class _Introduced:
    """Decides whether a finding on changed lines was introduced or merely moved."""

    def __init__(self, diff: DiffInfo, tree: SourceTree) -> None:
        self.diff = diff
        self.tree = tree
        self.scopes = ScopeIndex()
        self._base: dict[str, list[str]] = {}
        self._head: dict[str, list[str]] = {}

    @staticmethod
    def _norm_lines(cache: dict[str, list[str]], key: str, text: str, path: str) -> list[str]:
        if key not in cache:
            cache[key] = [normalize_code(x, path) for x in text.splitlines()]
        return cache[key]

    def _count(self, lines: list[str], text: str, window: tuple[str, int, str], *, path: str, key: str) -> int:
        """How many ``size``-line windows of ``lines`` hold ``code`` in ``scope``."""
        code, size, scope = window
        count = 0
        for i in range(0, len(lines) - size + 1):
            if "".join(lines[i : i + size]) != code:
                continue
            if not path.endswith(".py") or self.scopes.scope_at(text, i + 1, key=key) == scope:
                count += 1
        return count

    def sast(self, f: Finding, change: FileChange) -> bool:
        loc = f.location
        if change.whole_file or not loc.start_line:
            return True
        if not change.touches(loc.start_line, loc.end_line):
            return False
        path = change.path
        old = change.old_path or path
        head_text = self.tree.text(path)
        base = base_text(self.tree.root, self.diff.base_sha, old) if self.tree.root is not None else None
        if head_text is None or not base:
            return True
        head_lines = self._norm_lines(self._head, path, head_text, path)
        base_lines = self._norm_lines(self._base, old, base, path)
        size = max((loc.end_line or loc.start_line) - loc.start_line + 1, 1)
        window = "".join(head_lines[loc.start_line - 1 : loc.start_line - 1 + size])
        if not window:
            return True
        scope = self.scopes.scope_at(head_text, loc.start_line, key="head:" + path) if path.endswith(".py") else ""
        # The same code in the same scope at the base: it moved. More copies now than then:
        # one of them (this one, on an added line) is new.
        in_base = self._count(base_lines, base, (window, size, scope), path=path, key="base:" + old)
        in_head = self._count(head_lines, head_text, (window, size, scope), path=path, key="head:" + path)
        return in_head > in_base

    def dependency(self, f: Finding, change: FileChange) -> bool:
        if change.whole_file:
            return True
        text = self.tree.text(change.path)
        package = normalize_package(f.location.package or "")
        if text is None or not package:
            return bool(change.added)
        lines = text.splitlines()
        for n in change.added:
            if 0 < n <= len(lines):
                name = lines[n - 1].split(";", 1)[0]
                for sep in ("==", ">=", "<=", "~=", "!=", "===", ">", "<", "[", "@", " ", "="):
                    name = name.split(sep, 1)[0]
                if normalize_package(name.strip().strip("\"'")) == package:
                    return True
        return False

    def __call__(self, f: Finding) -> bool:
        if f.kind is Kind.DAST or not f.location.path:
            # A URL, or an installed package with no manifest, cannot be placed in a diff:
            # judge it as new (fail closed) rather than let it pass unseen.
            return True
        change = self.diff.files.get(f.location.path)
        if change is None:
            return False
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
    live = [f for f in dedupe(findings) if f.status is not Status.FIXED]

    base = ctx.baseline
    known = base.fingerprints() if base is not None else frozenset()
    introduced = _Introduced(ctx.diff, ctx.tree) if ctx.diff is not None else None
    rules = ctx.suppressions

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

    if base is not None:
        final.extend(
            baseline_mod.fixed_entries(
                base, final, scanners_run=ctx.scanners_run, scanned_paths=ctx.scanned_paths, excluded=ctx.excluded
            )
        )
    return TriageOutcome(findings=tuple(sorted(final, key=sort_key)), warnings=tuple(warnings))
