"""Triage decisions with approval (issue 31): false positive, accepted risk, fix planned.

A decision is proposed by one person and takes effect once a different person approves it; both
steps are rows of the history (``triage_decisions``) and entries of the hash-chained audit trail.
A decision never runs and never decides a verdict by itself: approved false positives and
accepted risks are *exported* into the trusted suppressions file format
(:mod:`secscan.triage.suppressions`), a file that goes through review like any change and that
the gate reads from the merged state only. An accepted risk always has an expiry: past it the
export leaves it out, and the suppressions file stops suppressing it, so the finding reopens.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from secscan.aggregate.history import History, iso
from secscan.audit import trail
from secscan.dbtarget import DbTarget
from secscan.errors import ConfigError, InputError
from secscan.triage import suppressions

FALSE_POSITIVE = "false-positive"
ACCEPTED_RISK = "accepted-risk"
FIX_PLANNED = "fix-planned"
KINDS = (FALSE_POSITIVE, ACCEPTED_RISK, FIX_PLANNED)
SUPPRESSING = frozenset({FALSE_POSITIVE, ACCEPTED_RISK})

# The export's block in the suppressions file: everything between the markers is rewritten,
# entries written by hand around it are kept byte for byte.
BEGIN = "# >>> secscan triage decisions (written by `secscan triage export`; edit with `secscan triage`)"
END = "# <<< secscan triage decisions"
_COLS = (
    "d.id, p.name, d.fingerprint, d.decision, d.reason, d.author, d.created_at, d.expires, d.owner, d.due,"
    " d.approver, d.approved_at"
)


@dataclass(frozen=True, kw_only=True)
class Decision:
    """One triage decision about one finding (by fingerprint) of one project."""

    id: int
    project: str
    fingerprint: str
    decision: str
    reason: str
    author: str
    created_at: str
    expires: str | None = None
    """Accepted risk (required) or false positive (optional): the last day it holds."""
    owner: str | None = None
    """Fix planned: who fixes it."""
    due: str | None = None
    """Fix planned: by when."""
    approver: str | None = None
    approved_at: str | None = None

    def state(self, today: date) -> str:
        """``pending`` (not approved), ``expired`` (past its expiry: the finding reopens),
        ``overdue`` (a planned fix past its due date) or ``active``."""
        if self.approver is None:
            return "pending"
        if self.expires is not None and date.fromisoformat(self.expires) < today:
            return "expired"
        if self.due is not None and date.fromisoformat(self.due) < today:
            return "overdue"
        return "active"

    def suppresses(self, today: date) -> bool:
        return self.decision in SUPPRESSING and self.state(today) == "active"


def _day(value: str | None, what: str) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise InputError(f"{what}: {value!r} is not a date (YYYY-MM-DD)") from None


def _name(value: str, what: str) -> str:
    text = " ".join(value.split())
    if not text:
        raise ConfigError(f"{what} is required")
    if len(text) > 200:
        raise ConfigError(f"{what} is longer than 200 characters")
    return text


def _row(r: Sequence[Any]) -> Decision:
    return Decision(
        id=int(r[0]),
        project=str(r[1]),
        fingerprint=str(r[2]),
        decision=str(r[3]),
        reason=str(r[4]),
        author=str(r[5]),
        created_at=str(r[6]),
        expires=r[7],
        owner=r[8],
        due=r[9],
        approver=r[10],
        approved_at=r[11],
    )


def _trail_target(h: History, env: Mapping[str, str]) -> Path | DbTarget:
    """``$SECSCAN_AUDIT_LOG`` when set, else the history database's own audit table: the team's one record."""
    configured = env.get(trail.LOG_ENV, "").strip()
    return trail.parse_location(configured) if configured else h.target


def _audit(h: History, action: str, d: Decision, *, env: Mapping[str, str], when: datetime) -> None:
    payload = {
        "decision_id": d.id,
        "project": d.project,
        "fingerprint": d.fingerprint,
        "decision": d.decision,
        "reason": d.reason,
        "author": d.author,
        "approver": d.approver,
        "expires": d.expires,
        "owner": d.owner,
        "due": d.due,
    }
    trail.append_to(_trail_target(h, env), action, payload, env=env, timestamp=iso(when))


def get(h: History, decision_id: int) -> Decision:
    row = h.db.execute(
        f"SELECT {_COLS} FROM triage_decisions d JOIN projects p ON p.id = d.project_id WHERE d.id = ?",  # noqa: S608
        (decision_id,),
    ).fetchone()
    if row is None:
        raise InputError(f"no triage decision #{decision_id}")
    return _row(row)


def listing(h: History, *, project: str | None = None, fingerprint: str | None = None) -> list[Decision]:
    """Decisions, oldest first (of one project, of one finding)."""
    where, params = [], []
    if project is not None:
        where.append("p.name = ?")
        params.append(project)
    if fingerprint is not None:
        where.append("d.fingerprint = ?")
        params.append(fingerprint)
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = h.db.execute(
        f"SELECT {_COLS} FROM triage_decisions d JOIN projects p ON p.id = d.project_id{clause} ORDER BY d.id",  # noqa: S608
        params,
    ).fetchall()
    return [_row(r) for r in rows]


@dataclass(frozen=True, kw_only=True)
class Proposal:
    project: str
    fingerprint: str
    decision: str
    reason: str
    author: str
    expires: str | None = None
    owner: str | None = None
    due: str | None = None


def _checked(p: Proposal, today: date) -> Proposal:
    """The proposal with its fields validated for its kind (before anything is written)."""
    if p.decision not in KINDS:
        raise ConfigError(f"--decision {p.decision!r}: choose one of {', '.join(KINDS)}")
    expires = _day(p.expires, "--expires")
    due = _day(p.due, "--due")
    owner = _name(p.owner, "--owner") if p.owner else None
    if p.decision == ACCEPTED_RISK and expires is None:
        raise ConfigError("an accepted risk needs --expires: it is looked at again when it expires")
    if p.decision == FIX_PLANNED and (owner is None or due is None):
        raise ConfigError("a planned fix needs --owner and --due")
    if p.decision != FIX_PLANNED and (owner is not None or due is not None):
        raise ConfigError("--owner and --due belong to a planned fix (--decision fix-planned)")
    if p.decision == FIX_PLANNED and expires is not None:
        raise ConfigError("--expires belongs to a false positive or an accepted risk")
    for value, what in ((expires, "--expires"), (due, "--due")):
        if value is not None and date.fromisoformat(value) <= today:
            raise ConfigError(f"{what} {value}: must be after today ({today.isoformat()})")
    return Proposal(
        project=_name(p.project, "--project"),
        fingerprint=p.fingerprint.strip(),
        decision=p.decision,
        reason=_name(p.reason, "--reason"),
        author=_name(p.author, "--by"),
        expires=expires,
        owner=owner,
        due=due,
    )


def propose(h: History, proposal: Proposal, *, now: datetime, env: Mapping[str, str]) -> Decision:
    """Record a decision awaiting approval (and its proposal on the audit trail)."""
    p = _checked(proposal, now.date())
    prow = h.db.execute("SELECT id FROM projects WHERE name = ?", (p.project,)).fetchone()
    known = (
        None
        if prow is None
        else h.db.execute(
            "SELECT 1 FROM findings WHERE project_id = ? AND fingerprint = ?", (int(prow[0]), p.fingerprint)
        ).fetchone()
    )
    if known is None:
        raise InputError(f"no finding {p.fingerprint!r} in the history of project {p.project!r}")
    with h.db.transaction():
        row = h.db.execute(
            "INSERT INTO triage_decisions (project_id, fingerprint, decision, reason, author, created_at, expires,"
            " owner, due) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (int(prow[0]), p.fingerprint, p.decision, p.reason, p.author, iso(now), p.expires, p.owner, p.due),
        ).fetchone()
    made = get(h, int(row[0]))
    _recorded(h, made, "triage.proposed", now=now, env=env, undo="DELETE FROM triage_decisions WHERE id = ?")
    return made


def approve(h: History, decision_id: int, *, approver: str, now: datetime, env: Mapping[str, str]) -> Decision:
    """Approve a pending decision. The approver must be someone other than its author."""
    d = get(h, decision_id)
    who = _name(approver, "--by")
    if who == d.author:
        raise ConfigError(f"triage decision #{d.id} was proposed by {who}: it needs an approver other than its author")
    if d.approver is not None:
        raise ConfigError(f"triage decision #{d.id} was already approved by {d.approver}")
    with h.db.transaction():
        h.db.execute(
            "UPDATE triage_decisions SET approver = ?, approved_at = ? WHERE id = ? AND approver IS NULL",
            (who, iso(now), d.id),
        )
    made = get(h, d.id)
    _recorded(
        h,
        made,
        "triage.approved",
        now=now,
        env=env,
        undo="UPDATE triage_decisions SET approver = NULL, approved_at = NULL WHERE id = ?",
    )
    return made


def _recorded(h: History, d: Decision, action: str, *, now: datetime, env: Mapping[str, str], undo: str) -> None:
    """On the audit trail, or not at all: a step the trail cannot record is undone."""
    try:
        _audit(h, action, d, env=env, when=now)
    except BaseException:
        with h.db.transaction():
            h.db.execute(undo, (d.id,))
        raise


# ---------------------------------------------------------------- export to the suppressions file


def _toml_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=True)  # a JSON string is a valid TOML basic string


def _comment(text: str) -> str:
    return re.sub(r"[^\x20-\x7e]", "?", text)


def suppressions_block(decisions: Sequence[Decision], *, today: date) -> str:
    """The approved false positives and accepted risks still in force, as suppressions entries
    (by fingerprint: exactly the finding that was decided on, nothing else)."""
    lines = [BEGIN]
    for d in decisions:
        if not d.suppresses(today):
            continue
        lines.append("")
        lines.append(
            f"# triage #{d.id} ({d.decision}) of {_comment(d.project)}: approved by {_comment(d.approver or '')}"
        )
        lines.append("[[suppression]]")
        lines.append(f"fingerprint = {_toml_string(d.fingerprint)}")
        lines.append(f"reason = {_toml_string(f'{d.decision}: {d.reason} (approved by {d.approver})')}")
        lines.append(f"owner = {_toml_string(d.author)}")
        if d.expires:
            lines.append(f"expires = {d.expires}")
        lines.append(f'ticket = "triage-{d.id}"')
    lines.append(END)
    return "\n".join(lines) + "\n"


def export_text(existing: str | None, block: str, *, origin: str) -> str:
    """``existing`` (the suppressions file, None when absent) with its triage block replaced
    by ``block`` (appended when it has none), read back by the suppressions parser."""
    if existing is None or not existing.strip():
        text = f"version = {suppressions.FILE_VERSION}\n\n{block}"
    elif BEGIN in existing:
        start = existing.index(BEGIN)
        end = existing.find(END, start)
        if end < 0:
            raise InputError(f"{origin}: the triage block has no end marker ({END!r}); fix the file by hand")
        end = existing.find("\n", end)
        text = existing[:start] + block + ("" if end < 0 else existing[end + 1 :])
    else:
        text = existing.rstrip("\n") + "\n\n" + block
    try:
        suppressions.parse_rules(tomllib.loads(text), origin=origin)
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{origin}: not valid TOML: {e}") from None
    return text
