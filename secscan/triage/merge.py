"""Merge several results (one per CI job) into one: order-independent, re-deduplicated.

Findings are deduplicated again across the inputs (a bandit job and a semgrep job may report the
same problem); a "fixed" entry from one job is dropped when another job still sees the finding.
The verdict is not merged: ``secscan gate`` decides on the merged result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from secscan.core import Evidence, produce
from secscan.errors import InputError
from secscan.models import (
    JUDGED_WITH_VERSION,
    JudgedWith,
    NarrowedTestCode,
    RunResult,
    ScannerRules,
    ScannerStatus,
    Scope,
)
from secscan.sourcefiles import SourceTree
from secscan.triage.suppressions import STALE


def _one(values: Sequence[str | None]) -> str | None:
    """The common value, or all distinct values joined (sorted) when the inputs disagree."""
    distinct = sorted({v for v in values if v})
    return ", ".join(distinct) if distinct else None


def _status_key(s: ScannerStatus) -> tuple[object, ...]:
    return (s.name, s.state.value, s.version or "", s.error or "", s.findings, s.not_audited, s.command, s.duration_s)


def _same(results: Sequence[RunResult], what: str, values: Sequence[str | None]) -> None:
    """Results of one pipeline scan one commit of one target; anything else is refused (a
    result file planted in the tree, or left over from another pipeline, must not be merged)."""
    distinct = sorted({v for v in values if v})
    if len(distinct) > 1:
        raise InputError(f"refusing to merge results of different {what}s: {', '.join(distinct)}")


def _describe(j: JudgedWith | None) -> str:
    if j is None:
        return "nothing recorded (a result of an older secscan)"
    parts = [f"policy {j.policy.name} sha256:{j.policy.sha256[:12]}"]
    for what, f in (("suppressions", j.suppressions), ("baseline", j.baseline)):
        parts.append(f"{what} {f.origin} sha256:{f.sha256[:12]}" if f else f"no {what}")
    parts.append(f"test paths {', '.join(j.test_paths) or '-'}")
    parts.append(f"production-only rules {', '.join(j.production_only_rules) or '-'}")
    parts.append(f"excludes {', '.join(j.excludes) or '-'}")
    parts.append(f"diff base {j.diff_base or '-'}")
    return "; ".join(parts)


def _same_settings(results: Sequence[RunResult], names: Sequence[str]) -> JudgedWith | None:
    """The one record of what the results were judged with. Results resolved from different
    settings (another policy, suppressions or baseline, other paths) are refused: their statuses
    disagree about what is accepted, and no single verdict could be right for all of them."""
    for name, r in zip(names, results, strict=True):
        j = r.judged_with
        if j is not None and j.version != JUDGED_WITH_VERSION:
            raise InputError(
                f"{name}: judged_with version {j.version} is not understood by this secscan "
                f"(version {JUDGED_WITH_VERSION}); merge with the secscan that wrote it"
            )

    def key(r: RunResult) -> tuple[object, ...] | None:
        return r.judged_with.settings_key() if r.judged_with is not None else None

    for name, r in zip(names, results, strict=True):
        if key(r) != key(results[0]):
            raise InputError(
                "refusing to merge results resolved from different settings: "
                f"{names[0]}: {_describe(results[0].judged_with)} | {name}: {_describe(r.judged_with)}"
            )
    return results[0].judged_with


def merged_scope(scopes: Sequence[Scope | None]) -> Scope | None:
    """What results merged together covered: the files (:func:`_merged_files`), and how test
    code was read (:func:`merged_test_code`)."""
    files = _merged_files(scopes)
    test_code = merged_test_code([s.test_code for s in scopes if s is not None])
    if test_code is None:
        return files
    return replace(files or Scope(), test_code=test_code)


def merged_test_code(parts: Sequence[NarrowedTestCode | None]) -> NarrowedTestCode | None:
    """How merged results read test code, failing closed: narrowed when any input was; a scanner
    ran on test code only the rules every input that narrowed it ran; a test-path file is
    production code only when every narrowed input found production importing it."""
    narrowed = [p for p in parts if p is not None]
    if not narrowed:
        return None
    production = set(narrowed[0].production).intersection(*(p.production for p in narrowed[1:]))
    rules: dict[str, set[str]] = {}
    for p in narrowed:
        for r in p.rules:
            rules[r.scanner] = rules[r.scanner] & set(r.rules) if r.scanner in rules else set(r.rules)
    return NarrowedTestCode(
        test_paths=tuple(dict.fromkeys(g for p in narrowed for g in p.test_paths)),
        production=tuple(sorted(production)),
        rules=tuple(ScannerRules(scanner=name, rules=tuple(sorted(ids))) for name, ids in sorted(rules.items())),
    )


def _merged_files(scopes: Sequence[Scope | None]) -> Scope | None:
    """The files results merged together covered. The whole tree when every input did (None when one
    did not record a scope: read as the whole tree, as the history reads it), or when they are
    every shard K/N of one N (none changed-only). Otherwise the files the partial inputs covered:
    a scope is not per scanner, so a whole-tree input of one scanner merged with another
    scanner's shard must not make that shard whole (fail closed: less is called fixed)."""
    if not scopes:
        return None
    full = [s is None or (s.paths is None and s.shard is None) for s in scopes]
    if all(full):
        return None if any(s is None for s in scopes) else Scope()
    partial = [s for s, whole in zip(scopes, full, strict=True) if not whole and s is not None]
    changed_only = any(s.changed_only for s in partial)
    shards = {s.shard for s in partial}
    counts = {sh.partition("/")[2] for sh in shards if sh}
    if all(not f for f in full) and not changed_only and None not in shards and len(counts) == 1:
        n = int(counts.pop())
        if {int(sh.partition("/")[0]) for sh in shards if sh} == set(range(1, n + 1)):
            return Scope()
    paths = sorted({p for s in partial for p in (s.paths or ())})
    return Scope(paths=tuple(paths), changed_only=changed_only, shard=shards.pop() if len(shards) == 1 else None)


def merge_evidence(results: Sequence[RunResult], *, names: Sequence[str] | None = None) -> Evidence:
    """The inputs' findings and metadata as one :class:`Evidence` for :func:`secscan.core.produce`
    (which re-deduplicates, keeps statuses and masks)."""
    if not results:
        raise ValueError("nothing to merge")
    _same(results, "commit", [r.meta_dict().get("ci_commit_sha") for r in results])
    _same(results, "target", [r.target for r in results])
    judged_with = _same_settings(results, names or [f"result {i + 1}" for i in range(len(results))])
    scanners = sorted({_status_key(s): s for r in results for s in r.scanners}.values(), key=_status_key)
    meta: dict[str, str] = {}
    for key, value in sorted({kv for r in results for kv in r.meta}):
        meta.setdefault(key, value)  # sorted: the smallest value wins when jobs disagree
    return Evidence(
        findings=tuple(f for r in results for f in r.findings),
        statuses=tuple(scanners),
        tool_version=_one([r.tool_version for r in results]) or "",
        target=_one([r.target for r in results]) or "",
        started_at=min((r.started_at for r in results if r.started_at), default=""),
        finished_at=max((r.finished_at for r in results if r.finished_at), default=""),
        advisory_db=_one([r.advisory_db for r in results]),
        baseline=_one([r.baseline for r in results]),
        diff_base=_one([r.diff_base for r in results]),
        warnings=_merged_warnings(results),
        meta=tuple(sorted(meta.items())),
        triaged=True,
        judged_with=judged_with,
        scope=merged_scope([r.scope for r in results]),
        # The oldest store any job used: the gate judges the merged result by its weakest part.
        advisories=max(
            (r.advisories for r in results if r.advisories is not None),
            key=lambda a: a.age_days if a.age_days is not None else float("inf"),
            default=None,
        ),
    )


def _merged_warnings(results: Sequence[RunResult]) -> tuple[str, ...]:
    """Every input's warnings, except that a suppression is stale only when it matched nothing
    in any input (one job's bandit findings do not match a semgrep entry)."""
    stale = [{w for w in r.warnings if w.startswith(STALE)} for r in results]
    everywhere = set.intersection(*stale) if stale else set()
    return tuple(sorted({w for r in results for w in r.warnings if not w.startswith(STALE) or w in everywhere}))


def merge_results(results: Sequence[RunResult], *, names: Sequence[str] | None = None) -> RunResult:
    """Merge result files through the core (no policy: ``secscan gate`` decides, with the
    policy the results record). ``names`` name the inputs in errors (their file names)."""
    return produce(merge_evidence(results, names=names), tree=SourceTree(None), inputs=None)
