"""Publish a run to its GitLab merge request: summary note, inline threads, commit status.

``publish_result(result, settings)`` is idempotent: it finds its own summary note and threads
again by hidden markers (only in notes written by the token's own user, so nobody can plant a
fake marker), edits the note only when its body changed, never opens a second thread for a
finding, and resolves the threads of findings that went away (resolve first, then one reply).

It holds against GitLab as it really fails (issue 15): a write whose answer was lost is looked up
by its marker before it is sent again; every run converges (one summary per report name, one
open thread per finding: duplicates from races or lost answers are merged away, oldest kept);
positions come from the diff version whose head is the scanned commit; GitLab's 400s (position,
too long, comment limit), 403s (scope, role) and 404s are told apart. Publishing never changes
the gate's verdict; failures are collected, redacted, and raised as :class:`PublishFailed`
(exit 4, which callers apply only with ``--require-publish``).

The operator's credentials are masked in the result's texts before anything is rendered (a value
cut to a note's length is no longer recognisable), and again in every field of every request
body, after the Markdown escaping (:class:`_MaskingApi`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from secscan import credentials
from secscan.errors import PublishError
from secscan.gitlab import markers, notes
from secscan.gitlab.api import (
    BodyTooLong,
    CommentLimit,
    Forbidden,
    GitLabApi,
    NotFound,
    PositionRejected,
    role_name,
)
from secscan.gitlab.diffmap import ChangedFile, DiffRefs, changed_files
from secscan.gitlab.existing import find_reply, find_thread, read_existing
from secscan.gitlab.plan import (
    Duplicate,
    ExistingThread,
    NewThread,
    Resolve,
    ThreadPlan,
    duplicate_threads,
    inline_candidates,
    plan_threads,
)
from secscan.gitlab.redact import Redactor
from secscan.gitlab.resilience import CallFailed, CircuitBreaker, CircuitOpen, Retrier
from secscan.gitlab.settings import PublishSettings
from secscan.models import Finding, Kind, RunResult, Status

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
    """New findings GitLab refused to position (or with no diff version for the scanned commit):
    they are in the summary note instead."""
    threads_over_limit: int = 0
    """New findings not discussed inline because the merge request reached GitLab's comment limit."""
    duplicates_resolved: int = 0
    """Extra threads for one finding (races, lost answers) resolved with a pointer to the kept one."""
    summaries_removed: int = 0
    """Extra summary notes deleted (or emptied and marked superseded)."""
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
        if self.threads_over_limit:
            parts.append(f"{self.threads_over_limit} not opened (GitLab's comment limit)")
        if self.duplicates_resolved or self.summaries_removed:
            parts.append(
                f"duplicates merged: {self.summaries_removed} summary note(s), {self.duplicates_resolved} thread(s)"
            )
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
    credentials.register(*settings.secrets)
    result = credentials.current().structure(result)
    redact = Redactor(settings.secrets)
    problems = [redact(p) for p in settings.problems()]
    mr = (
        f"{settings.project_id}!{settings.mr_iid}"
        if settings.project_id and settings.mr_iid
        else "(none named: CI_PROJECT_ID / CI_MERGE_REQUEST_IID not set)"
    )
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


class _MaskingApi(GitLabApi):
    """The last step before anything is sent: every text of every write is masked, whoever
    rendered it, on the very strings that go on the wire."""

    def _masked(self, data: dict[str, Any]) -> dict[str, Any]:
        # The same masker the bodies were rendered with (notes.py), so a body GitLab stores compares
        # equal to the next run's rendering and an unchanged note is not edited again.
        return credentials.current().structure(data)

    def _post(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        return super()._post(path, self._masked(data))

    def _put(self, path: str, data: dict[str, Any]) -> dict[str, Any]:
        return super()._put(path, self._masked(data))


@dataclass
class _Tally:
    note: str = "none"
    created: int = 0
    resolved: int = 0
    status: str = "off"
    duplicates_resolved: int = 0
    summaries_removed: int = 0
    unplaced: list[Finding] = field(default_factory=list)
    over_limit: list[Finding] = field(default_factory=list)
    rejected_keys: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
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
        self.api = _MaskingApi(
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
        self.me = 0
        self.web_url: str | None = None
        self.stopped = False
        """A 403 on a comment write: nothing more is written (one message says why)."""
        self.resolve_refused = False
        """A 403 on resolving: the token's role cannot resolve; no other resolve is tried."""
        self.comment_room = settings.comment_limit
        """Notes this run may still add before the merge request hits GitLab's comment limit."""
        self.opened: set[str] = set()
        """Discussion ids of the threads this run opened."""
        self.uncertain: set[str] = set()
        """Keys of threads whose creation had an unknown outcome: an attempt may land late."""

    # ------------------------------------------------------------------ looking things up again

    def _find_summary(self) -> dict[str, Any] | None:
        found = read_existing(self.api.discussions(), me=self.me, report=self.s.report_name).summaries
        return dict(found[0]) if found else None

    def _find_thread(self, key: str) -> dict[str, Any] | None:
        # Only called after an attempt with an unknown outcome: it may still land after this
        # look-up (a slow GitLab), so the run's converging step checks this key too.
        self.uncertain.add(key)
        return find_thread(self.api.discussions(), me=self.me, report=self.s.report_name, key=key)

    def _find_reply(self, discussion_id: str, key: str, kind: str) -> dict[str, Any] | None:
        d = self.api.discussion(discussion_id)
        return find_reply(d, me=self.me, report=self.s.report_name, key=key, kind=kind)

    def _find_status(self, sha: str, name: str, state: str) -> dict[str, Any] | None:
        latest = _latest(self.api.statuses(sha, name))
        return latest if latest is not None and latest.get("status") == state else None

    # ------------------------------------------------------------------ the run

    def run(self) -> PublishOutcome:
        try:
            self.me = self.api.current_user_id()
            mr = self.api.merge_request()
            refs, files, no_version = self._diff_version(mr)
            existing = read_existing(self.api.discussions(), me=self.me, report=self.s.report_name)
        except CallFailed as e:
            return self._outcome(ThreadPlan(), errors=[self.redact(e)])
        self.web_url = notes.safe_url(str(mr.get("web_url") or "")) or None
        self.comment_room = self.s.comment_limit - existing.note_count
        self._summary_exists = bool(existing.summaries)
        summary = dict(existing.summaries[0]) if existing.summaries else None
        rejected = (
            markers.read_state(str(summary.get("body") or ""), refs.head_sha)
            if summary and refs.head_sha
            else frozenset()
        )
        plan = plan_threads(
            self.result.findings,
            existing.threads,
            files,
            refs,
            report=self.s.report_name,
            min_severity=self.s.min_severity,
            max_threads=self.s.max_threads,
            path_prefix=self.s.path_prefix,
            rejected_keys=rejected,
            commit_sha=self.s.scanned_sha or str(mr.get("sha") or "") or None,
        )
        if no_version:
            # Never onto another version's lines: everything that would get a thread is listed.
            has_thread = {t.key for t in existing.threads}
            self.t.unplaced += [
                f
                for f in inline_candidates(self.result.findings, self.s.min_severity)
                if markers.finding_key(f) not in has_thread
            ]
        self._threads(plan)
        self._duplicates(duplicate_threads(existing.threads))
        body = self._summary(plan, summary, refs, list(rejected), no_version)
        keeper = summary or self._created_summary
        for extra in existing.summaries[1:]:
            self._remove_summary(extra, keeper)
        if not self.s.dry_run and (self._created_summary is not None or self.t.created):
            self._converge(body)
        if self.s.commit_status:
            self._commit_status(str(self.s.commit_sha or mr.get("sha") or ""))
        return self._outcome(plan)

    def _diff_version(self, mr: dict[str, Any]) -> tuple[DiffRefs, dict[str, ChangedFile], str | None]:
        """Refs and changed lines of the diff version whose head is the scanned commit.

        A push during the pipeline adds a newer version; its lines are not the scanned ones, so it
        is never used. Without a scanned commit (a hand-run ``secscan publish``) the newest
        version is used. The third value says why there is no usable version (then no thread)."""
        versions = self.api.versions()
        want = (self.s.scanned_sha or "").lower()
        if want:
            matching = [v for v in versions if str(v.get("head_commit_sha") or "").lower().startswith(want)]
            if not matching:
                refs = DiffRefs(base_sha="", start_sha="", head_sha=want)
                return (
                    refs,
                    {},
                    (
                        f"The merge request has no diff version for the scanned commit {want[:12]} (a newer push "
                        "replaced it during the pipeline?), so these new findings are listed here instead of inline:"
                    ),
                )
            chosen = max(matching, key=lambda v: int(v.get("id") or 0))
        elif versions:
            chosen = max(versions, key=lambda v: int(v.get("id") or 0))
        else:
            dr = mr.get("diff_refs") or {}
            refs = DiffRefs(
                base_sha=dr.get("base_sha", ""), start_sha=dr.get("start_sha", ""), head_sha=dr.get("head_sha", "")
            )
            return refs, {}, None  # GitLab has not computed a diff yet: no inline threads, summary only
        version = self.api.version(int(chosen["id"]))
        refs = DiffRefs(
            base_sha=str(version.get("base_commit_sha") or ""),
            start_sha=str(version.get("start_commit_sha") or ""),
            head_sha=str(version.get("head_commit_sha") or ""),
        )
        return refs, changed_files(version.get("diffs") or []), None

    # ------------------------------------------------------------------ failures

    def _fail(self, e: BaseException) -> None:
        msg = self.redact(e)
        if isinstance(e, CircuitOpen) and any("circuit breaker open" in x for x in self.t.errors):
            return  # one line for all the calls the open breaker skipped
        self.t.errors.append(msg)

    def _role(self) -> str:
        try:
            return role_name(self.api.access_level(self.me))
        except CallFailed:
            return "a role secscan could not read"

    def _stop(self, e: Forbidden, what: str) -> None:
        """A comment write refused: every later write would be too, so none is tried."""
        self.stopped = True
        if e.scope:
            why = "the token has no `api` scope (read_api is not enough to write)"
        else:
            why = f"commenting needs at least the Reporter role on the project, and the token's user has {self._role()}"
        self.t.errors.append(f"GitLab refused {what} (403 Forbidden): {why}; no further writes were tried")

    def _note_room(self, *, reserve: int = 0) -> bool:
        return self.comment_room - reserve > 0

    def _took_note(self) -> None:
        self.comment_room -= 1

    def _comment_limit_hit(self) -> None:
        self.comment_room = 0

    # ------------------------------------------------------------------ threads

    def _threads(self, plan: ThreadPlan) -> None:
        self._create_threads(plan.create)
        self._resolve_threads(plan.resolve)
        if self.resolve_refused:
            left = len(plan.resolve) - self.t.resolved
            self.t.notices.append(
                f"{left} thread{'s' if left != 1 else ''} of fixed findings could not be resolved: resolving needs "
                "the Developer role (or being the merge request's author); see the job log."
            )

    def _create_threads(self, create: Sequence[NewThread]) -> None:
        reserve = 0 if self._summary_exists else 1  # the summary comes first: never spend its note on a thread
        for nt in create:
            target = f"inline thread at {nt.position['new_path']}:{nt.position['new_line']}"
            if self.s.dry_run:
                self.t.planned.append(notes.dry_run_listing("open", target, nt.body))
                self.t.created += 1
                continue
            if self.stopped:
                break
            if not self._note_room(reserve=reserve):
                self.t.over_limit += nt.findings
                continue
            self._open_thread(nt, target)

    def _resolve_threads(self, resolve: Sequence[Resolve]) -> None:
        for r in resolve:
            if self.s.dry_run:
                self.t.planned.append(
                    notes.dry_run_listing("resolve and reply to", f"thread {r.discussion_id}", r.reply)
                )
                self.t.resolved += 1
                continue
            if self.stopped or self.resolve_refused:
                break
            if self._resolve(r.discussion_id):
                self.t.resolved += 1
                if r.reply_needed:
                    self._reply(r.discussion_id, r.reply, r.key, "resolved")

    def _open_thread(self, nt: NewThread, target: str) -> None:
        body = nt.body
        for attempt in range(2):
            try:
                d = self.api.create_thread(body, dict(nt.position), recheck=partial(self._find_thread, nt.key))
                self.opened.add(str(d.get("id")))
                self.t.created += 1
                self._took_note()
                return
            except PositionRejected:
                # Nothing is lost: the finding goes into the summary, and this head is not retried.
                log.debug("GitLab rejected the position %s; listing the finding in the summary", target)
                self.t.unplaced += nt.findings
                self.t.rejected_keys.append(nt.key)
                return
            except BodyTooLong as e:
                if attempt == 0:
                    # GitLab's limit is lower than ours (a configured instance): once more, bare.
                    body = (
                        notes.pin_thread_body(nt.findings, report=self.s.report_name, key=nt.key, limit=2_000)
                        if nt.also
                        else notes.thread_body(
                            nt.finding,
                            report=self.s.report_name,
                            key=nt.key,
                            limit=2_000,
                            line=nt.position.get("new_line"),
                        )
                    )
                    continue
                self._fail(e)
            except CommentLimit:
                self._comment_limit_hit()
                self.t.over_limit += nt.findings
            except Forbidden as e:
                self._stop(e, "opening an inline thread")
            except CallFailed as e:
                self._fail(e)
            return

    def _resolve(self, discussion_id: str) -> bool:
        try:
            self.api.resolve(discussion_id)
            return True
        except Forbidden as e:
            if e.scope:
                self._stop(e, "resolving a thread")
                return False
            self.resolve_refused = True
            self.t.errors.append(
                "GitLab refused to resolve a thread (403 Forbidden): resolving needs the Developer role (or being "
                f"the merge request's author), and the token's user has {self._role()}; threads of fixed "
                "findings stay open until the token has it"
            )
        except CallFailed as e:
            self._fail(e)
        return False

    def _reply(self, discussion_id: str, body: str, key: str, kind: str) -> None:
        if self.stopped or not self._note_room(reserve=0 if self._summary_exists else 1):
            return  # a reply is a courtesy; the resolve already happened
        try:
            self.api.reply(discussion_id, body, recheck=partial(self._find_reply, discussion_id, key, kind))
            self._took_note()
        except CommentLimit:
            self._comment_limit_hit()
        except Forbidden as e:
            self._stop(e, "replying to a thread")
        except CallFailed as e:
            self._fail(e)

    def _duplicates(self, duplicates: tuple[Duplicate, ...]) -> None:
        for dup in duplicates:
            link = notes.note_link(self.web_url, dup.kept.note_id)
            reply = notes.duplicate_reply(report=self.s.report_name, key=dup.thread.key, kept_link=link)
            if self.s.dry_run:
                self.t.planned.append(
                    notes.dry_run_listing("resolve duplicate", f"thread {dup.thread.discussion_id}", reply)
                )
                continue
            if self.stopped or self.resolve_refused:
                return
            if self._resolve(dup.thread.discussion_id):
                self.t.duplicates_resolved += 1
                if "duplicate" not in dup.thread.replies and not self._replied(dup.thread, "duplicate"):
                    self._reply(dup.thread.discussion_id, reply, dup.thread.key, "duplicate")

    def _replied(self, thread: ExistingThread, kind: str) -> bool:
        """Reply once: a concurrent run may have posted this reply since the thread was listed."""
        try:
            return self._find_reply(thread.discussion_id, thread.key, kind) is not None
        except CallFailed:
            return False

    # ------------------------------------------------------------------ the summary

    _created_summary: dict[str, Any] | None = None
    _summary_exists: bool = False

    def _render_summary(
        self, plan: ThreadPlan, refs: DiffRefs, rejected: list[str], no_version: str | None, *, limit: int
    ) -> str:
        keys = rejected + self.t.rejected_keys
        inline = notes.InlineReport(
            min_severity=self.s.min_severity,
            max_threads=self.s.max_threads,
            threads_open=plan.kept + self.t.created,
            over_cap=plan.over_cap,
            unplaced=tuple(plan.previously_rejected) + tuple(self.t.unplaced),
            unplaced_reason=no_version,
            over_limit=tuple(self.t.over_limit),
            notices=tuple(self.t.notices),
            state_line=markers.state_marker(refs.head_sha, keys) if keys and refs.head_sha else None,
        )
        return notes.render_summary(
            self.result,
            report=self.s.report_name,
            inline=inline,
            job_url=self.s.job_url,
            pipeline_url=self.s.pipeline_url,
            html_report_url=self.s.html_report_url,
            commit_sha=self.s.commit_sha,
            limit=limit,
        )

    def _summary(
        self,
        plan: ThreadPlan,
        summary: dict[str, Any] | None,
        refs: DiffRefs,
        rejected: list[str],
        no_version: str | None,
    ) -> str:
        self._summary_exists = summary is not None
        body = self._render_summary(plan, refs, rejected, no_version, limit=notes.SUMMARY_LIMIT)
        if summary is not None and markers.same_body(str(summary.get("body") or ""), body):
            self.t.note = "unchanged"  # no edit at all: nobody gets a notification for nothing
            return body
        if self.s.dry_run:
            kind = "update" if summary is not None else "create"
            self.t.planned.append(notes.dry_run_listing(kind, "the summary note", body))
            self.t.note = f"would {kind}"
            return body
        if self.stopped:
            self.t.note = "failed"
            return body
        for attempt in range(2):
            try:
                self._write_summary(summary, body)
                return body
            except BodyTooLong as e:
                if attempt == 0:
                    body = self._render_summary(plan, refs, rejected, no_version, limit=notes.SUMMARY_FALLBACK_LIMIT)
                    continue
                self.t.note = "failed"
                self._fail(e)
            except CommentLimit as e:
                self.t.note = "failed"
                self.t.errors.append(
                    f"{e}: the merge request has reached GitLab's limit of comments, so secscan cannot add its "
                    "summary note"
                )
            except Forbidden as e:
                self.t.note = "failed"
                self._stop(e, "writing the summary note")
            except CallFailed as e:
                self.t.note = "failed"
                self._fail(e)
            return body
        return body

    def _write_summary(self, summary: dict[str, Any] | None, body: str) -> None:
        if summary is not None:
            try:
                self.api.update_note(int(summary["id"]), body)
                self.t.note = "updated"
                return
            except NotFound:
                # Deleted since it was listed (by a person, or a concurrent run converging):
                # the run must still end with a summary.
                log.debug("the summary note was deleted since it was listed; creating it again")
        created = self.api.create_note(body, recheck=self._find_summary)
        self._created_summary = created
        self._summary_exists = True
        self._took_note()
        self.t.note = "created"

    def _remove_summary(self, extra: Mapping[str, Any], keeper: Mapping[str, Any] | None) -> None:
        """An extra summary goes away: deleted, or (if GitLab refuses) emptied and marked superseded."""
        link = notes.note_link(self.web_url, int(keeper["id"])) if keeper else "the summary above"
        if self.s.dry_run:
            self.t.planned.append(notes.dry_run_listing("delete", f"duplicate summary note {extra.get('id')}", ""))
            return
        if self.stopped:
            return
        try:
            self.api.delete_note(int(extra["id"]))
            self.t.summaries_removed += 1
            return
        except Forbidden as e:
            if e.scope:
                self._stop(e, "deleting a duplicate summary note")
                return
        except CallFailed as e:
            self._fail(e)
            return
        try:
            self.api.update_note(int(extra["id"]), notes.superseded_body(report=self.s.report_name, kept_link=link))
            self.t.summaries_removed += 1
        except NotFound:
            self.t.summaries_removed += 1
        except CallFailed as e:
            self._fail(e)

    def _converge(self, body: str) -> None:
        """After creating: a concurrent run may have created the same things. Keep the oldest of each."""
        if self.stopped:
            return
        try:
            now = read_existing(self.api.discussions(), me=self.me, report=self.s.report_name)
        except CallFailed as e:
            self._fail(e)
            return
        if now.summaries:
            keeper = now.summaries[0]
            for extra in now.summaries[1:]:
                self._remove_summary(extra, keeper)
            if len(now.summaries) > 1 and not markers.same_body(str(keeper.get("body") or ""), body):
                # Ours may be the one removed: the kept note gets this run's body.
                try:
                    self.api.update_note(int(keeper["id"]), body)
                    self.t.note = "updated"
                except CallFailed as e:
                    self._fail(e)
        # Only the extra threads this run opened (or may have opened: an attempt that landed late):
        # each racing run cleans up after itself, so one pointer per duplicate; a run that crashed
        # first leaves its open ones for the next run.
        self._duplicates(
            tuple(
                d
                for d in duplicate_threads(now.threads)
                if d.thread.discussion_id in self.opened or d.thread.key in self.uncertain
            )
        )

    # ------------------------------------------------------------------ commit status

    def _commit_status(self, sha: str) -> None:
        verdict = self.result.verdict
        if verdict is None or not sha:
            self.t.status = "skipped (no verdict)" if verdict is None else "skipped (no commit SHA)"
            return
        if self.stopped:
            self.t.status = "failed"
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
            latest = _latest(self.api.statuses(sha, name))
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
            self.api.create_status(sha, data, recheck=partial(self._find_status, sha, name, state))
            self.t.status = "posted"
        except Forbidden as e:
            self.t.status = "failed"
            why = "the token has no `api` scope" if e.scope else f"the token's user has {self._role()}"
            self.t.errors.append(
                f"GitLab refused the commit status (403 Forbidden): setting one needs the Developer role; {why}"
            )
        except CallFailed as e:
            if e.status == 400 and "cannot transition status" in e.detail.lower():
                self.t.status = "unchanged"  # it is already in this state (e.g. set by a concurrent run)
                return
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
            threads_over_limit=len(self.t.over_limit),
            duplicates_resolved=self.t.duplicates_resolved,
            summaries_removed=self.t.summaries_removed,
            commit_status=self.t.status if self.s.commit_status else "off",
            retries=self.retrier.retries,
            errors=tuple(errs),
            planned=tuple(self.t.planned),
            mr=self.mr,
        )


def _latest(statuses: list[dict[str, Any]]) -> dict[str, Any] | None:
    return max(statuses, key=lambda x: int(x.get("id") or 0)) if statuses else None


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
