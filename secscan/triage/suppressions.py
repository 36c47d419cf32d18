"""Accepted risks: the suppressions file and inline ``# nosec`` / ``# nosemgrep`` comments.

File format (``.secscan/suppressions.toml``, versioned)::

    version = 1

    [[suppression]]
    rule_id = "B324"                 # selectors: fingerprint, rule_id, path (gitignore-style), package,
    path = "legacy/**"               # advisory; every one given must match (AND)
    reason = "MD5 used as a cache key, not for security"
    owner = "alice@example.com"
    expires = 2026-03-31             # optional; TOML date or "YYYY-MM-DD"
    ticket = "SEC-123"               # optional

An expired suppression stops suppressing and is reported; one expiring within
:data:`EXPIRY_WARNING_DAYS` is warned about. Suppressed findings are kept, marked.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from secscan import pathmatch
from secscan.errors import ConfigError
from secscan.fingerprint import advisory_ids, normalize_package
from secscan.models import Finding, Kind, Status, Suppression
from secscan.settings.tomlfile import load_toml
from secscan.sourcefiles import SourceTree
from secscan.textsafe import mask_pans, redact_secret
from secscan.triage.dedupe import source_of

FILE_VERSION = 1
EXPIRY_WARNING_DAYS = 14
SELECTORS = ("fingerprint", "rule_id", "path", "package", "advisory")
_ALLOWED = frozenset((*SELECTORS, "reason", "owner", "expires", "ticket"))
STALE = "stale suppression: "
"""Prefix of the warning for an entry that matched nothing. A split pipeline's jobs each see a
part of the findings: the merge keeps the warning only when every job gave it."""


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One entry of the suppressions file."""

    index: int
    """Position in the file (1-based), for messages."""
    fingerprint: str | None = None
    rule_id: str | None = None
    path: str | None = None
    """gitignore-style pattern on the repo-relative path (:mod:`secscan.pathmatch`)."""
    package: str | None = None
    advisory: str | None = None
    reason: str
    owner: str
    expires: dt.date | None = None
    ticket: str | None = None
    pending: bool = False
    """An entry the merge request adds (read from its own file, never applied): said on the
    findings it would suppress once merged (:func:`mark_pending`)."""

    def describe(self) -> str:
        sel = ", ".join(f"{k}={getattr(self, k)}" for k in SELECTORS if getattr(self, k) is not None)
        return f"suppression #{self.index} ({sel}; owner {self.owner})"

    def to_model(self, matched_by: str) -> Suppression:
        return Suppression(
            origin="file",
            reason=self.reason,
            owner=self.owner,
            expires=self.expires.isoformat() if self.expires else None,
            ticket=self.ticket,
            matched_by=matched_by,
        )


def _parse_date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ConfigError(f"{where}: expires must be a date like 2026-03-31, got {value!r}")


def parse_rules(data: dict[str, Any], *, origin: str) -> tuple[Rule, ...]:
    """Validate a parsed suppressions document; :class:`ConfigError` naming entry and field."""
    version = data.get("version")
    if version != FILE_VERSION:
        raise ConfigError(f"{origin}: expected 'version = {FILE_VERSION}' at the top, got {version!r}")
    unknown_top = set(data) - {"version", "suppression"}
    if unknown_top:
        raise ConfigError(
            f"{origin}: unknown key(s) {', '.join(sorted(unknown_top))} (expected [[suppression]] tables)"
        )
    entries = data.get("suppression", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{origin}: 'suppression' must be an array of tables ([[suppression]])")
    return tuple(_parse_entry(entry, n, f"{origin}: suppression #{n}") for n, entry in enumerate(entries, start=1))


def _parse_entry(entry: object, n: int, where: str) -> Rule:
    """One ``[[suppression]]`` table, validated."""
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table")
    unknown = set(entry) - _ALLOWED
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for key in (*SELECTORS, "reason", "owner", "ticket"):
        v = entry.get(key)
        if v is None:
            continue
        if not isinstance(v, str) or not v.strip():
            raise ConfigError(f"{where}: {key} must be a non-empty string")
        values[key] = v.strip()
    if not any(k in values for k in SELECTORS):
        raise ConfigError(f"{where}: needs at least one of {', '.join(SELECTORS)}")
    for key in ("reason", "owner"):
        if key not in values:
            raise ConfigError(f"{where}: '{key}' is required (an accepted risk needs a {key})")
    expires = _parse_date(entry["expires"], where) if "expires" in entry else None
    if "path" in values:
        _check_path(values["path"], where)
    return Rule(index=n, expires=expires, **values)


def _check_path(pattern: str, where: str) -> None:
    """A path that can never match is a typo: said when the file is read, not by silence later."""
    if pattern.startswith("!"):
        raise ConfigError(f"{where}: path {pattern!r}: a '!' pattern selects nothing on its own")
    try:
        pathmatch.check((pattern,))
    except ValueError as e:
        raise ConfigError(f"{where}: path: {e}") from None


def load_rules(path: Path) -> tuple[Rule, ...]:
    return parse_rules(load_toml(path, what="suppressions file"), origin=str(path))


def matches(rule: Rule, f: Finding) -> str | None:
    """The selectors that matched (comma-separated) if every selector of ``rule`` matches ``f``."""
    if rule.fingerprint is not None and rule.fingerprint != f.fingerprint:
        return None
    if rule.rule_id is not None and rule.rule_id not in {s.rule_id for s in source_of(f)} | {f.rule_id}:
        return None
    if rule.path is not None:
        matcher = pathmatch.compiled((rule.path,))
        if not any(matcher.matches(loc.path) for loc in (f.location, *f.other_locations) if loc.path):
            return None
    if rule.package is not None and normalize_package(rule.package) != normalize_package(f.location.package or ""):
        return None
    if rule.advisory is not None and rule.advisory.upper() not in advisory_ids(f):
        return None
    return ",".join(k for k in SELECTORS if getattr(rule, k) is not None)


@dataclass(frozen=True, kw_only=True)
class FileSuppressionResult:
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...]


def apply_rules(findings: Sequence[Finding], rules: Sequence[Rule], *, today: dt.date) -> FileSuppressionResult:
    """Mark findings matched by a live rule as suppressed; report expired and expiring rules."""
    expired_hits: dict[int, int] = {}
    live_hits: dict[int, int] = {}
    out = []
    for finding in findings:
        chosen, lapsed = _first_live(finding, rules, today, expired_hits)
        if chosen is not None:
            live_hits[chosen[0].index] = live_hits.get(chosen[0].index, 0) + 1
            out.append(replace(finding, status=Status.SUPPRESSED, suppression=chosen[0].to_model(chosen[1])))
        elif lapsed:
            # Visible in every output: the accepted risk lapsed and nobody renewed it.
            out.append(replace(finding, tags=tuple(sorted({*finding.tags, "suppression-expired"}))))
        else:
            out.append(finding)
    warnings = [w for rule in rules for w in _rule_warnings(rule, today, expired_hits, live_hits)]
    return FileSuppressionResult(findings=tuple(out), warnings=tuple(warnings))


def _first_live(
    finding: Finding, rules: Sequence[Rule], today: dt.date, expired_hits: dict[int, int]
) -> tuple[tuple[Rule, str] | None, bool]:
    """The first rule that matches and has not expired (with how it matched), and whether an
    expired one matched before it (counted in ``expired_hits``)."""
    lapsed = False
    for rule in rules:
        how = matches(rule, finding)
        if how is None:
            continue
        if rule.expires is not None and rule.expires < today:
            expired_hits[rule.index] = expired_hits.get(rule.index, 0) + 1
            lapsed = True
            continue
        return (rule, how), lapsed
    return None, lapsed


def _rule_warnings(
    rule: Rule, today: dt.date, expired_hits: Mapping[int, int], live_hits: Mapping[int, int]
) -> list[str]:
    """What to say about one entry: expired, expiring soon, or matching nothing (stale)."""
    warnings = []
    if rule.index in expired_hits and rule.expires is not None:
        warnings.append(
            f"{rule.describe()} expired on {rule.expires.isoformat()}: "
            f"{expired_hits[rule.index]} finding(s) no longer suppressed"
        )
    elif rule.expires is not None and (rule.expires - today).days <= EXPIRY_WARNING_DAYS:
        days = (rule.expires - today).days
        when = "today" if days == 0 else f"in {days} day(s)"
        if rule.expires < today:
            warnings.append(f"{rule.describe()} expired on {rule.expires.isoformat()} (matches nothing now)")
        else:
            warnings.append(f"{rule.describe()} expires {when} ({rule.expires.isoformat()}): renew or fix")
    if rule.index not in live_hits and rule.index not in expired_hits:
        warnings.append(f"{STALE}{rule.describe()} matches no finding: remove it if the problem is gone")
    return warnings


def _entry(rule: Rule) -> tuple[object, ...]:
    """An entry's content, whatever its place in the file."""
    return tuple(getattr(rule, k) for k in (*SELECTORS, "reason", "owner", "expires", "ticket"))


def added_rules(head: Sequence[Rule], base: Sequence[Rule]) -> tuple[Rule, ...]:
    """The head's entries that the base's file does not have (added or changed by the merge
    request), marked pending: they apply once merged."""
    known = {_entry(r) for r in base}
    return tuple(replace(r, pending=True) for r in head if _entry(r) not in known)


def mark_pending(findings: Sequence[Finding], pending: Sequence[Rule], *, today: dt.date) -> tuple[Finding, ...]:
    """Say on each open finding that an entry the merge request adds would suppress it. Only
    said: the status, the verdict and every count stay as the target branch's file decides."""
    live = [r for r in pending if r.pending and (r.expires is None or r.expires >= today)]
    if not live:
        return tuple(findings)
    return tuple(_pending_on(f, live) if f.status in (Status.NEW, Status.EXISTING) else f for f in findings)


def _pending_on(f: Finding, pending: Sequence[Rule]) -> Finding:
    for rule in pending:
        how = matches(rule, f)
        if how is not None:
            said = rule.to_model(how)
            # The merge request wrote these texts after the findings were masked: masked like them.
            return replace(
                f,
                pending_suppression=replace(
                    said,
                    reason=_masked(said.reason),
                    owner=_masked(said.owner) if said.owner else said.owner,
                    ticket=_masked(said.ticket) if said.ticket else said.ticket,
                ),
            )
    return f


def _masked(text: str) -> str:
    return mask_pans(redact_secret(text))


# ------------------------------------------------------------------ inline comments

# bandit: "# nosec" or "# nosec B602, B607"; words that are not test ids (a free-text
# justification) leave it a blanket nosec, as in bandit. semgrep: "# nosemgrep" or
# "# nosemgrep: rule-id, other-id" (ids only after a colon). Also "//" comments.
_NOSEC = re.compile(r"(?:#|//|/\*|--)\s*nosec\b(.*)", re.I)
_BANDIT_ID = re.compile(r"\bB\d{3}\b", re.I)
_NOSEMGREP = re.compile(r"(?:#|//|/\*|--)\s*nosem(?:grep)?\b(?:\s*:\s*([\w.\-/]+(?:\s*,\s*[\w.\-/]+)*))?", re.I)


def _ids(raw: str | None) -> tuple[str, ...]:
    return tuple(x for x in re.split(r"[\s,]+", (raw or "").strip()) if x)


def _covers(ids: tuple[str, ...], rule_id: str, *, dotted: bool) -> bool:
    if not ids:
        return True
    for wanted in ids:
        w = wanted.lower()
        r = rule_id.lower()
        # semgrep prefixes rule ids with the rules folder (rules.python.foo): accept the suffix.
        if w == r or (dotted and r.endswith("." + w)):
            return True
    return False


# detect-secrets' own inline allowlist comments (it runs with them off, so secscan sees and
# reports them as inline suppressions, judged by the policy like # nosec).
_ALLOWLIST = re.compile(r"pragma:\s*allowlist[ -]secret", re.I)
_ALLOWLIST_NEXT = re.compile(r"pragma:\s*allowlist[ -]nextline[ -]secret", re.I)


def inline_marker(f: Finding, tree: SourceTree) -> str | None:
    """The inline comment that suppresses ``f``, described, or None.

    ``# nosec`` covers bandit sources, ``# nosemgrep`` semgrep sources; both on the flagged
    lines (semgrep also honours a ``# nosemgrep`` comment alone on the line above). A merged
    finding is suppressed when the comment covers any of its sources: they are one problem.
    """
    loc = f.location
    if f.kind not in (Kind.SAST, Kind.SECRET) or not loc.path or not loc.start_line or loc.commit:
        # (A secret found in an earlier commit: its line is that commit's, not the tree's.)
        return None
    text = tree.text(loc.path)
    if text is None:
        return None
    lines = text.splitlines()
    start = loc.start_line
    end = max(loc.end_line or start, start)
    window = [(n, lines[n - 1]) for n in range(start, min(end, len(lines)) + 1) if 0 < n <= len(lines)]
    above = lines[start - 2] if start >= 2 and start - 2 < len(lines) else ""
    for src in source_of(f):
        scanner = src.scanner.lower()
        for n, line in window:
            if _marks_line(scanner, src.rule_id, line):
                return f"{_MARKER_NAMES[scanner]} on line {n}"
        if _marks_next(scanner, src.rule_id, above):
            return f"{_NEXT_MARKER_NAMES[scanner]} on line {start - 1}"
    return None


_MARKER_NAMES = {"bandit": "# nosec", "semgrep": "# nosemgrep", "detect-secrets": "pragma: allowlist secret"}
_NEXT_MARKER_NAMES = {"semgrep": "# nosemgrep", "detect-secrets": "pragma: allowlist nextline secret"}


def _marks_line(scanner: str, rule_id: str, line: str) -> bool:
    """Whether ``line`` carries the scanner's own marker covering ``rule_id``."""
    if scanner == "bandit":
        m = _NOSEC.search(line)
        return m is not None and _covers(tuple(_BANDIT_ID.findall(m.group(1))), rule_id, dotted=False)
    if scanner == "semgrep":
        m = _NOSEMGREP.search(line)
        return m is not None and _covers(_ids(m.group(1)), rule_id, dotted=True)
    return scanner == "detect-secrets" and bool(_ALLOWLIST.search(line))


def _marks_next(scanner: str, rule_id: str, above: str) -> bool:
    """Whether the line above carries a marker for the next line: detect-secrets' nextline
    pragma, or semgrep's ``nosemgrep`` on a comment line of its own."""
    if scanner == "detect-secrets":
        return bool(_ALLOWLIST_NEXT.search(above))
    if scanner == "semgrep" and above.strip().startswith(("#", "//")):
        m = _NOSEMGREP.search(above)
        return m is not None and _covers(_ids(m.group(1)), rule_id, dotted=True)
    return False


def inline_suppression(marker: str) -> Suppression:
    return Suppression(origin="inline", reason=f"inline comment: {marker}", matched_by="inline")


# ------------------------------------------------------------------ writing an entry (secscan suppress)

_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


@dataclass(frozen=True, kw_only=True)
class NewEntry:
    """A fingerprint suppression to add to the file (``secscan suppress``)."""

    fingerprint: str
    reason: str
    owner: str
    expires: dt.date
    ticket: str | None = None
    about: str = ""
    """What the finding is (rule and location), written as a comment above the entry."""


def check_expiry(expires: dt.date, *, today: dt.date, max_days: int) -> None:
    """An expiry in the future and at most ``max_days`` ahead (the policy's maximum)."""
    if expires <= today:
        raise ConfigError(f"--expires {expires.isoformat()}: must be after today ({today.isoformat()})")
    latest = today + dt.timedelta(days=max_days)
    if expires > latest:
        raise ConfigError(
            f"--expires {expires.isoformat()}: the policy allows at most {max_days} days "
            f"(until {latest.isoformat()}); renew the entry when it expires"
        )


def add_entry(text: str | None, entry: NewEntry, *, origin: str) -> str:
    """``text`` (the file's content, None when it does not exist) with ``entry`` appended.

    The file's own comments and layout are kept (tomlkit). The result is read back with
    :func:`parse_rules`, so what is written is what a scan will accept. An entry for the same
    fingerprint is refused: two entries for one finding would disagree on who owns it.
    """

    import tomlkit

    if text is None or not text.strip():
        doc = tomlkit.document()
        doc.add(tomlkit.comment("Accepted risks (README: Suppressions). Changes apply once merged."))
        doc.add("version", FILE_VERSION)
    else:
        try:
            existing = parse_rules(tomllib.loads(text), origin=origin)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{origin}: not valid TOML: {e}") from None
        for rule in existing:
            if rule.fingerprint == entry.fingerprint:
                raise ConfigError(f"{origin}: {rule.describe()} already suppresses {entry.fingerprint}")
        doc = tomlkit.parse(text.rstrip("\n") + "\n\n")
    values = {"fingerprint": entry.fingerprint, "reason": entry.reason, "owner": entry.owner, "expires": entry.expires}
    if entry.ticket:
        values["ticket"] = entry.ticket
    entries = doc.get("suppression")
    if isinstance(entries, tomlkit.items.Array):
        # The one-line form (`suppression = [ { ... }, ]`, what the terminal offers to paste):
        # one more inline table on a line of its own, the about text as its comment.
        inline = tomlkit.inline_table()
        inline.update(values)
        entries.add_line(inline, indent="  ", comment=_UNPRINTABLE.sub("?", entry.about)[:200] or None)
    else:
        table = tomlkit.table()
        if entry.about:
            # The comment is one line of printable ASCII: a path or rule id from the scanned tree
            # can never start a new line (a new TOML entry) here.
            table.add(tomlkit.comment(_UNPRINTABLE.sub("?", entry.about)[:200]))
        for key, value in values.items():
            table.add(key, value)
        if entries is None:
            aot = tomlkit.aot()
            aot.append(table)
            doc.append("suppression", aot)
        else:
            entries.append(table)
    out = tomlkit.dumps(doc)
    rules = parse_rules(tomllib.loads(out), origin=origin)
    assert any(r.fingerprint == entry.fingerprint for r in rules)
    return out
