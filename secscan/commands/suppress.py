"""`secscan suppress FINGERPRINT`: write an accepted-risk entry for one finding.

The entry goes to the suppressions file in the trusted format (secscan/triage/suppressions.py),
keyed by the finding's fingerprint, with the reason, the owner (git's user), the expiry (at most
the policy's ``suppressions.max_days`` ahead) and an optional ticket. Like every verdict-deciding
file it applies once merged: on a merge request it is a pending change until the target branch
holds it, which is where the team's security owners approve it (README "Suppressing a finding").
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import click

from secscan.commands.wrapper import Command, handle_command_errors
from secscan.settings.options import effective, options

MERGE_NOTE = (
    "It applies once merged: commit it, and the target branch's owners of .secscan/ approve it in the "
    "merge request (until then the finding still counts, shown as a pending suppression)."
)


@click.command("suppress", cls=Command)
@click.argument("fingerprint")
@options("suppress")
@click.pass_context
@handle_command_errors
def suppress(ctx: click.Context, *, fingerprint: str, **_settings: Any) -> int:
    """Add an accepted-risk entry for the finding FINGERPRINT to the suppressions file.

    FINGERPRINT is the finding's fingerprint (in the terminal output, secscan.json and the merge
    request note); it must be in the last result (--result) unless --force. The owner is git's
    user.email (else user.name) unless --owner. The entry applies once merged into the target
    branch (README "Suppressing a finding").
    """
    from secscan import inputs, resultio
    from secscan.errors import ConfigError, InputError
    from secscan.fsutil import atomic_write, read_input_text
    from secscan.triage import suppressions as sup

    given = effective(ctx, "suppress", os.environ)
    fingerprint = fingerprint.strip()
    if not fingerprint or any(c.isspace() for c in fingerprint):
        raise ConfigError(f"FINGERPRINT {fingerprint!r}: expected one fingerprint, as in secscan.json")
    expires = _date(given.get("expires"))
    reason = str(given.get("reason")).strip()
    if not reason:
        raise ConfigError("--reason must say why the finding is an accepted risk")
    # The operator's policy first (a bad one is exit 2 before anything is read).
    operator = inputs.operator_policy(given.get("policy"))
    result_path: Path = given.get("result")
    force = bool(given.get("force"))
    loaded = None
    if result_path.exists() or not force:
        loaded = resultio.load(result_path)
    about = ""
    if loaded is not None:
        found = next((f for f in loaded.findings if f.fingerprint == fingerprint), None)
        if found is None and not force:
            raise InputError(
                f"fingerprint {fingerprint} is not in {result_path} ({len(loaded.findings)} findings): "
                "scan again, or pass --force to write the entry anyway"
            )
        if found is not None:
            about = _about(found)
    if loaded is not None:
        policy = inputs.gate_policy(loaded, operator=operator, fail_closed=None).policy
    else:
        from secscan.policy import load_policy

        policy = operator or load_policy(None)
    sup.check_expiry(expires, today=dt.date.today(), max_days=policy.suppression_max_days)
    owner = given.get("owner") or _git_user()
    target: Path = given.get("suppressions") or _repo_root() / inputs.DEFAULT_SUPPRESSIONS
    existing = read_input_text(target, what="suppressions file ") if target.exists() else None
    text = sup.add_entry(
        existing,
        sup.NewEntry(
            fingerprint=fingerprint,
            reason=reason,
            owner=owner,
            expires=expires,
            ticket=given.get("ticket") or None,
            about=about,
        ),
        origin=str(target),
    )
    atomic_write(target, text)
    click.echo(f"secscan suppress: {fingerprint}{f' ({about})' if about else ''} -> {target}")
    click.echo(f"  owner {owner}, expires {expires.isoformat()}. {MERGE_NOTE}")
    return 0


def _date(value: Any) -> dt.date:
    from secscan.errors import ConfigError

    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"--expires {value!r}: expected a date like 2026-03-31") from None


def _about(f: Any) -> str:
    loc = f.location
    where = (loc.package and f"{loc.package} {loc.version or ''}".strip()) or loc.path or loc.url or ""
    if loc.path and loc.start_line:
        where = f"{where} in {loc.path}" if loc.package else f"{loc.path}:{loc.start_line}"
    return f"{f.rule_id} at {where}" if where else str(f.rule_id)


def _repo_root() -> Path:
    from secscan.gitutil import run_git

    top = run_git(Path.cwd(), "rev-parse", "--show-toplevel", check=False).strip()
    return Path(top) if top else Path.cwd()


def _git_user() -> str:
    from secscan.errors import ConfigError
    from secscan.gitutil import run_git

    for key in ("user.email", "user.name"):
        value = run_git(Path.cwd(), "config", "--get", key, check=False, purpose="git config").strip()
        if value:
            return value
    raise ConfigError("no owner: set git config user.email (or user.name), or pass --owner")
