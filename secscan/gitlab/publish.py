"""Publish a run to its GitLab merge request: summary note, inline threads, commit status.

``publish_result(result, settings)`` is idempotent: it finds its own summary note and threads
again by hidden markers (only in notes written by the token's own user, so nobody can plant a
fake marker), edits the note only when its body changed, never opens a second thread for a
finding, and resolves the threads of findings that went away. Publishing never changes the gate's
verdict; failures are collected, redacted, and raised as :class:`PublishFailed` (exit 4, which
callers apply only with ``--require-publish``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from secscan.errors import PublishError
from secscan.gitlab import markers, notes
from secscan.gitlab.api import GitLabApi, PositionRejected
from secscan.gitlab.diffmap import ChangedFile, DiffRefs, changed_files
from secscan.gitlab.plan import ExistingThread, ThreadPlan, plan_threads
from secscan.gitlab.redact import Redactor
from secscan.gitlab.resilience import CallFailed, CircuitBreaker, CircuitOpen, Retrier
from secscan.gitlab.settings import PublishSettings
from secscan.models import Kind, RunResult, Status

log = logging.getLogger("secscan.gitlab")


@dataclass(frozen=True, kw_only=True)
class PublishOutcome:
    """What publishing did (or, with ``dry_run``, would do)."""

    ok: bool
    dry_run: bool = False
    note: str = "none"
    """``created``, ``updated``, ``unchanged``, ``would create``, ``would update``, ``failed``, ``none``."""
    threads_created: int = 0
    threads_kept: int = 0
    threads_resolved: int = 0
    threads_over_cap: int = 0
    threads_unplaced: int = 0
    """New findings GitLab refused to position: they are in the summary note instead."""
    commit_status: str = "off"
    """``posted``, ``unchanged``, ``failed``, ``off``, or ``would post``."""
    retries: int = 0
    errors: tuple[str, ...] = ()
    """Redacted, one line each."""
    planned: tuple[str, ...] = ()
    """``--dry-run``: every write that would be made, with its body."""
    mr: str = ""
    """``project!iid`` for messages."""

    def describe(self) -> str:
        verb = "would publish to" if self.dry_run else "published to"
        if not self.ok:
            verb = "publishing to"
        parts = [f"summary note {self.note}"]
        parts.append(
            f"threads: {self.threads_created} {'to open' if self.dry_run else 'opened'}, "
            f"{self.threads_kept} kept, {self.threads_resolved} {'to resolve' if self.dry_run else 'resolved'}"
        )
        if self.threads_over_cap:
            parts.append(f"{self.threads_over_cap} over the thread cap")
        if self.threads_unplaced:
            parts.append(f"{self.threads_unplaced} not placeable inline (in the summary)")
        if self.commit_status != "off":
            parts.append(f"commit status {self.commit_status}")
        if self.retries:
            parts.append(f"{self.retries} retries")
        line = f"secscan: {verb} merge request {self.mr or '?'}: " + "; ".join(parts)
        return line if self.ok else line + f" FAILED ({len(self.errors)} error{'s' if len(self.errors) != 1 else ''})"


class PublishFailed(PublishError):
    """Publishing failed (fully or partly); ``outcome`` says what did happen."""

    def __init__(self, message: str, outcome: PublishOutcome) -> None:
        super().__init__(message)
        self.outcome = outcome


def publish_result(result: RunResult, settings: PublishSettings) -> PublishOutcome:
    """Post ``result`` to the merge request. Returns the outcome; raises :class:`PublishFailed` on failure."""
    redact = Redactor(settings.secrets)
    problems = [redact(p) for p in settings.problems()]
    mr = f"{settings.project_id or '?'}!{settings.mr_iid or '?'}"
    if problems:
        if settings.dry_run:
            return _offline_dry_run(result, settings, problems, mr)
        outcome = PublishOutcome(ok=False, errors=tuple(problems), mr=mr)
        raise PublishFailed(problems[0], outcome)
    try:
        outcome = _Publisher(result, settings, redact).run()
    except Exception as e:
        log.debug("unexpected publish error", exc_info=True)
        outcome = PublishOutcome(ok=False, errors=(f"internal error while publishing: {redact(repr(e))[:300]}",), mr=mr)
    if not outcome.ok:
        raise PublishFailed(outcome.errors[0] if outcome.errors else "publishing failed", outcome)
    return outcome


@dataclass
class _Tally:
    note: str = "none"
    created: int = 0
    resolved: int = 0
    status: str = "off"
    unplaced: list[Any] = field(default_factory=list)
    rejected_keys: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)


class _Publisher:
    def __init__(self, result: RunResult, settings: PublishSettings, redact: Redactor) -> None:
        assert settings.base_url and settings.token and settings.project_id and settings.mr_iid
        self.result = result
        self.s = settings
        self.redact = redact
        self.retrier = Retrier(
            budget_s=settings.budget_s,
            base_s=settings.retry_base_s,
            max_sleep_s=settings.retry_max_s,
            max_attempts=settings.max_attempts,
            breaker=CircuitBreaker(settings.breaker_threshold),
        )
        self.api = GitLabApi(
            base_url=settings.base_url,
            token=settings.token,
            project=settings.project_id,
            mr_iid=settings.mr_iid,
            timeout_s=settings.timeout_s,
            retrier=self.retrier,
            redact=redact,
        )
        self.mr = f"{settings.project_id}!{settings.mr_iid}"
        self.t = _Tally()

    # ------------------------------------------------------------------ reading the MR

    def _ours(self, note: dict[str, Any], me: int) -> bool:
        author = note.get("author") or {}
        return isinstance(author, dict) and author.get("id") == me and not note.get("system")

    def _existing(
        self, discussions: list[dict[str, Any]], me: int
    ) -> tuple[dict[str, Any] | None, list[ExistingThread]]:
        summary: dict[str, Any] | None = None
        threads: list[ExistingThread] = []
        for d in discussions:
            ds = d.get("notes") or []
            if not ds or not isinstance(ds[0], dict):
                continue
            first = ds[0]
            body = str(first.get("body") or "")
            if not self._ours(first, me):
                continue
            if d.get("individual_note"):
                if summary is None and markers.is_summary(body, self.s.report_name):
                    summary = first
                continue
            key = markers.thread_key(body, self.s.report_name)
            if key is not None:
                threads.append(
                    ExistingThread(discussion_id=str(d["id"]), key=key, resolved=bool(first.get("resolved")))
                )
        return summary, threads

    def _find_summary(self, me: int) -> dict[str, Any] | None:
        return self._existing(self.api.discussions(), me)[0]

    def _find_thread(self, me: int, key: str) -> dict[str, Any] | None:
        for d in self.api.discussions():
            ds = d.get("notes") or []
            if (
                ds
                and self._ours(ds[0], me)
                and markers.thread_key(str(ds[0].get("body") or ""), self.s.report_name) == key
            ):
                return d
        return None

    # ------------------------------------------------------------------ the run

    def run(self) -> PublishOutcome:
        try:
            me = self.api.current_user_id()
            mr = self.api.merge_request()
            version = self.api.latest_version()
            discussions = self.api.discussions()
        except CallFailed as e:
            return self._outcome(ThreadPlan(), errors=[self.redact(e)])
        if version is not None:
            refs = DiffRefs(
                base_sha=str(version.get("base_commit_sha") or ""),
                start_sha=str(version.get("start_commit_sha") or ""),
                head_sha=str(version.get("head_commit_sha") or ""),
            )
            files: dict[str, ChangedFile] = changed_files(version.get("diffs") or [])
        else:
            dr = mr.get("diff_refs") or {}
            refs = DiffRefs(
                base_sha=dr.get("base_sha", ""), start_sha=dr.get("start_sha", ""), head_sha=dr.get("head_sha", "")
            )
            files = {}  # GitLab has not computed a diff yet: no inline threads, summary only
        summary, threads = self._existing(discussions, me)
        rejected = (
            markers.read_state(str(summary.get("body") or ""), refs.head_sha)
            if summary and refs.head_sha
            else frozenset()
        )
        plan = plan_threads(
            self.result.findings,
            threads,
            files,
            refs,
            report=self.s.report_name,
            min_severity=self.s.min_severity,
            max_threads=self.s.max_threads,
            path_prefix=self.s.path_prefix,
            rejected_keys=rejected,
            commit_sha=self.s.commit_sha or str(mr.get("sha") or "") or None,
        )
        self._threads(plan, me)
        self._summary(plan, summary, me, refs, list(rejected))
        if self.s.commit_status:
            self._commit_status(str(self.s.commit_sha or mr.get("sha") or ""))
        return self._outcome(plan)

    def _fail(self, e: BaseException) -> None:
        msg = self.redact(e)
        if isinstance(e, CircuitOpen) and any("circuit breaker open" in x for x in self.t.errors):
            return  # one line for all the calls the open breaker skipped
        self.t.errors.append(msg)

    def _threads(self, plan: ThreadPlan, me: int) -> None:
        for nt in plan.create:
            target = f"inline thread at {nt.position['new_path']}:{nt.position['new_line']}"
            if self.s.dry_run:
                self.t.planned.append(notes.dry_run_listing("open", target, nt.body))
                self.t.created += 1
                continue
            try:
                self.api.create_thread(nt.body, dict(nt.position), recheck=partial(self._find_thread, me, nt.key))
                self.t.created += 1
            except PositionRejected:
                # Nothing is lost: the finding goes into the summary, and this head is not retried.
                log.debug("GitLab rejected the position %s; listing the finding in the summary", target)
                self.t.unplaced.append(nt.finding)
                self.t.rejected_keys.append(nt.key)
            except CallFailed as e:
                self._fail(e)
        for r in plan.resolve:
            if self.s.dry_run:
                self.t.planned.append(
                    notes.dry_run_listing("reply to and resolve", f"thread {r.discussion_id}", r.reply)
                )
                self.t.resolved += 1
                continue
            try:
                self.api.reply(r.discussion_id, r.reply)
                self.api.resolve(r.discussion_id)
                self.t.resolved += 1
            except CallFailed as e:
                self._fail(e)

    def _summary(
        self, plan: ThreadPlan, summary: dict[str, Any] | None, me: int, refs: DiffRefs, rejected: list[str]
    ) -> None:
        keys = rejected + self.t.rejected_keys
        inline = notes.InlineReport(
            min_severity=self.s.min_severity,
            max_threads=self.s.max_threads,
            threads_open=plan.kept + self.t.created,
            over_cap=plan.over_cap,
            unplaced=tuple(plan.previously_rejected) + tuple(self.t.unplaced),
            state_line=markers.state_marker(refs.head_sha, keys) if keys and refs.head_sha else None,
        )
        body = notes.render_summary(
            self.result,
            report=self.s.report_name,
            inline=inline,
            job_url=self.s.job_url,
            pipeline_url=self.s.pipeline_url,
            html_report_url=self.s.html_report_url,
            commit_sha=self.s.commit_sha,
        )
        if summary is not None and markers.same_body(str(summary.get("body") or ""), body):
            self.t.note = "unchanged"  # no edit at all: nobody gets a notification for nothing
            return
        if self.s.dry_run:
            kind = "update" if summary is not None else "create"
            self.t.planned.append(notes.dry_run_listing(kind, "the summary note", body))
            self.t.note = f"would {kind}"
            return
        try:
            if summary is not None:
                self.api.update_note(int(summary["id"]), body)
                self.t.note = "updated"
            else:
                self.api.create_note(body, recheck=lambda: self._find_summary(me))
                self.t.note = "created"
        except CallFailed as e:
            self.t.note = "failed"
            self._fail(e)

    def _commit_status(self, sha: str) -> None:
        verdict = self.result.verdict
        if verdict is None or not sha:
            self.t.status = "skipped (no verdict)" if verdict is None else "skipped (no commit SHA)"
            return
        name = "secscan" if self.s.report_name == "secscan" else f"secscan:{self.s.report_name}"
        state = "success" if verdict.passed else "failed"
        new = sum(1 for f in self.result.findings if f.status is Status.NEW)
        description = (
            f"security gate {'passed' if verdict.passed else 'failed'}: {new} new finding{'s' if new != 1 else ''}"
        )
        data: dict[str, Any] = {"state": state, "name": name, "description": description[:140]}
        if notes.safe_url(self.s.job_url):
            data["target_url"] = self.s.job_url
        try:
            existing = self.api.statuses(sha, name)
            latest = max(existing, key=lambda x: int(x.get("id") or 0)) if existing else None
            if (
                latest is not None
                and latest.get("status") == state
                and latest.get("target_url") == data.get("target_url")
            ):
                self.t.status = "unchanged"
                return
            if self.s.dry_run:
                self.t.planned.append(notes.dry_run_listing("set", f"commit status {name} on {sha[:12]}", state))
                self.t.status = "would post"
                return
            self.api.create_status(sha, data)
            self.t.status = "posted"
        except CallFailed as e:
            self.t.status = "failed"
            self._fail(e)

    def _outcome(self, plan: ThreadPlan, errors: list[str] | None = None) -> PublishOutcome:
        errs = [*(errors or []), *self.t.errors]
        return PublishOutcome(
            ok=not errs,
            dry_run=self.s.dry_run,
            note=self.t.note if not errors else "failed",
            threads_created=self.t.created,
            threads_kept=plan.kept,
            threads_resolved=self.t.resolved,
            threads_over_cap=len(plan.over_cap),
            threads_unplaced=len(plan.previously_rejected) + len(self.t.unplaced),
            commit_status=self.t.status if self.s.commit_status else "off",
            retries=self.retrier.retries,
            errors=tuple(errs),
            planned=tuple(self.t.planned),
            mr=self.mr,
        )


def _offline_dry_run(result: RunResult, settings: PublishSettings, problems: list[str], mr: str) -> PublishOutcome:
    """``--dry-run`` without GitLab access: the summary and every candidate thread, unfiltered by the diff."""
    inline = notes.InlineReport(min_severity=settings.min_severity, max_threads=settings.max_threads)
    body = notes.render_summary(
        result,
        report=settings.report_name,
        inline=inline,
        job_url=settings.job_url,
        pipeline_url=settings.pipeline_url,
        html_report_url=settings.html_report_url,
        commit_sha=settings.commit_sha,
    )
    planned = [f"(offline: {p})\n" for p in problems]
    planned.append(notes.dry_run_listing("create or update", "the summary note", body))
    candidates = [
        f
        for f in result.findings
        if f.status is Status.NEW
        and f.severity.rank >= settings.min_severity.rank
        and f.kind in (Kind.SAST, Kind.SECRET)
        and f.location.path
        and f.location.start_line
    ]
    for f in candidates[: settings.max_threads]:
        key = markers.finding_key(f)
        target = f"inline thread at {f.location.path}:{f.location.start_line} (if that line is changed)"
        planned.append(
            notes.dry_run_listing("open", target, notes.thread_body(f, report=settings.report_name, key=key))
        )
    return PublishOutcome(
        ok=True,
        dry_run=True,
        note="would create or update",
        threads_created=min(len(candidates), settings.max_threads),
        threads_over_cap=max(0, len(candidates) - settings.max_threads),
        planned=tuple(planned),
        mr=mr,
    )
