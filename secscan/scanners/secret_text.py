"""What detect-secrets reads of a file, decided by its content, never by its name (issue speed-2).

detect-secrets runs every line through every plugin and filter (a fraction of a millisecond a
line, whatever the line holds), so a minified bundle, a model's base64 buffer or a multi-megabyte
lockfile backup cost it seconds each, more than all the source files together. Such content is
not configuration, and secscan already judges keyword and entropy findings on a line longer than
:data:`LONG_LINE` as noise (a minified asset). So detect-secrets reads:

- a line longer than :data:`LONG_LINE`, and every line of a binary file, only where a provider's
  key format could match: windows around the :func:`provider` anchors (the formats of
  detect-secrets' provider plugins and of secscan's own, each at least as wide as its detector),
  joined by spaces on the same line; the rest of the line is not handed over;
- in a file larger than :data:`LARGE_FILE`, only the lines where any detector could match
  (provider formats, a secret-named assignment, a credential in a URL: :func:`generic`) whole; its
  other lines are left empty (a high-entropy string alone there is a hash in a lockfile backup
  or a number table, not a credential);
- a text file with NUL bytes or invalid UTF-8 through its text form (NULs as spaces, invalid
  bytes as U+FFFD), which detect-secrets would otherwise skip.

Line numbers are kept, so a finding points at the file's own line. A key planted in such content
is found as in any other file: the anchors are wider than the detectors, and detect-secrets still
decides on the windows (tests/secrets/test_secret_text.py plants one of each format).
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from dataclasses import dataclass

LONG_LINE = 500
"""Longer lines are not configuration: keyword/entropy findings there are noise (a minified asset)."""
LARGE_FILE = 512 * 1024
"""Larger files keep only the lines a detector could match (no configuration file is this big)."""
_MAX_INVALID_SHARE = 0.01
"""Text by content: at most this share of a file's bytes (NULs aside) may be invalid UTF-8."""
_MARGIN = 120
"""Characters kept on each side of an anchor's token: the context a detector reads around a key
(AWS' secret key regex reads 20 + 20 characters around its keyword; an artifactory token one)."""
_TOKEN_CAP = 1024
"""The longest key a window extends to (GitLab agent tokens: 1,024 characters)."""

# The providers' formats, as wide as detect-secrets' plugins (detect_secrets/plugins/*.py) and
# secscan's (detect_secrets_plugins.py) or wider: an anchor lands inside every key they find (the
# window then extends to the whole token and its context). Searched in an ASCII shadow of the
# text (one byte a character: offsets are the text's), as literals where a detector has one:
# byte-regex literal search is what keeps a 3 MB file at a few tens of milliseconds.
_EXACT = (  # (pattern, searched in the lowercased shadow); one literal prefix each where possible
    *((p, False) for p in (rb"A3T[A-Z0-9]", rb"ABIA", rb"ACCA", rb"AKIA", rb"ASIA")),  # AWS access key id
    (rb"aws.{0,20}?(?:key|pwd|pw|password|pass|token).{0,20}?['\"][0-9a-z/+]{40}['\"]", True),  # AWS secret
    (rb"AccountKey=", False),  # Azure storage
    *((p, True) for p in (rb"cloudant", rb"softlayer", rb"braintree", rb"plaid", rb"paypal")),  # need a name
    (rb"[MNO][a-zA-Z0-9_-]{23,25}\.[a-zA-Z0-9_-]{6}\.", False),  # Discord
    (rb"gh[pousr]_", False),  # GitHub
    (rb"github_pat_", False),
    (rb"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-", False),  # GitLab
    (rb"GR1348941", False),
    # IBM Cloud IAM (44), COS HMAC (48 hex), Cloudant (24 or 64), SoftLayer (64): a key-named
    # assignment of a long token (their provider's prefix comes before the name)
    (rb"(?:key|pwd|pw|pass|token)[\"'\]]{0,2} *[=: ][=>:]? *[\"']?[a-z0-9_\-]{24}", True),
    (rb"eyJ", False),  # JSON web token
    (rb"-us[0-9]", False),  # Mailchimp (<32 alnum>-usN)
    (rb"_authToken", False),  # npm
    (rb"T3BlbkFJ", False),  # OpenAI
    (rb"PRIVATE KEY", False),  # private keys
    (rb"PuTTY-User-Key-File", False),
    (rb"pypi-AgE", False),  # PyPI
    (rb"SG\.", False),  # SendGrid
    (rb"xox[abposr]-", True),  # Slack
    (rb"hooks\.slack\.com", True),
    (rb"sq0csp-", False),  # Square
    *((p, False) for p in (rb"sk_live_", rb"rk_live_", rb"whsec_")),  # Stripe
    (rb":[0-9A-Za-z_-]{35}", False),  # Telegram (<8-10 digits>:<35>)
    (rb"AC[a-z0-9]{32}", False),  # Twilio
    (rb"SK[a-z0-9]{32}", False),
    (rb"AKC[a-zA-Z0-9]{10}", False),  # Artifactory
    (rb"AP[0-9A-F][a-zA-Z0-9]{8}", False),
    (rb"access_token\$production\$", False),  # Braintree
    (rb"access-production-", False),  # Plaid
    (rb"AQE[A-Za-z0-9+/]{40}", False),  # Adyen
)
_GENERIC = (  # detect-secrets' keyword list (api_key ... password, secret)
    *((p, True) for p in (rb"key", rb"pass", rb"pwd", rb"secret", rb"contrase")),
    (rb"://[^{}\s]+:[^{}\s]+@", False),  # a credential in a URL
)
_Patterns = tuple[tuple[re.Pattern[bytes], bool], ...]


@functools.cache
def provider() -> _Patterns:
    """Where a provider's key could be: the windows of a bulk line are read around these
    (compiled on first use: every command imports this module, few read bulky files)."""
    return tuple((re.compile(p), low) for p, low in _EXACT)


@functools.cache
def generic() -> _Patterns:
    """Where a keyword detector could match: with :func:`provider`, the lines of a large file kept whole."""
    return tuple((re.compile(p), low) for p, low in _GENERIC)


@functools.cache
def _long_bytes() -> re.Pattern[bytes]:
    return re.compile(rb"[^\n\r]{%d}" % (LONG_LINE + 1))


@functools.cache
def _token() -> re.Pattern[str]:
    return re.compile(rf"[A-Za-z0-9_\-+/=.$:]{{0,{_TOKEN_CAP}}}")


def cache_key() -> str:
    """What decides which parts of a file are read: part of detect-secrets' cache context."""
    return repr((LONG_LINE, LARGE_FILE, _MARGIN, _TOKEN_CAP, _EXACT, _GENERIC))


def is_text(data: bytes) -> bool:
    """Text by content, not by a NUL byte (detect-secrets' and git's rule, which one NUL in a config
    file defeats): once NUL bytes are set aside it decodes as UTF-8, but for at most 1% of bytes
    (a Latin-1 comment). Empty files are text; a file of NULs is not."""
    rest = data.replace(b"\0", b"")
    if not rest:
        return not data
    decoded = rest.decode("utf-8", errors="replace")
    invalid = decoded.count("\ufffd") - rest.count("\ufffd".encode())
    return invalid <= len(rest) * _MAX_INVALID_SHARE


@dataclass(frozen=True, kw_only=True)
class Bulk:
    """The lines of a file detect-secrets read only for provider key formats, and why."""

    reason: str
    """``minified asset`` (lines too long for configuration) or ``binary file``."""
    lines: frozenset[int] | None = None
    """1-based; None: every line (a binary file)."""

    def covers(self, line: int) -> bool:
        return self.lines is None or line in self.lines


@dataclass(frozen=True, kw_only=True)
class TextForm:
    """What detect-secrets reads instead of a file: same lines, same numbers."""

    data: bytes
    bulk: Bulk | None = None
    """Lines read for key formats only (generic findings there are noise)."""
    left_out: int = 0
    """Lines of a large file no detector could match, left empty."""


def text_form(data: bytes) -> TextForm | None:
    """The form of ``data`` detect-secrets reads, or None when it reads the file as it is (clean
    UTF-8, no line over :data:`LONG_LINE`, not over :data:`LARGE_FILE`)."""
    binary = not is_text(data)
    large = len(data) > LARGE_FILE
    if not binary and not large and not _long_bytes().search(data):
        if b"\0" not in data:
            try:
                data.decode("utf-8")
                return None
            except UnicodeDecodeError:
                pass
        # NULs as spaces, invalid UTF-8 as U+FFFD; lines as Python reads them (universal newlines).
        return TextForm(data=_joined(data.replace(b"\0", b" ").decode("utf-8", errors="replace").splitlines()))
    text = data.replace(b"\0", b" ").decode("utf-8", errors="replace")
    lines = text.splitlines()
    starts = list(itertools.accumulate((len(x) for x in text.splitlines(keepends=True)), initial=0))
    shadow = text.encode("ascii", errors="replace")  # one byte a character
    anchors = _by_line(_spans(shadow, provider()), starts)
    kept = _by_line(_spans(shadow, generic()), starts) if large else {}
    out: list[str] = []
    bulky: set[int] = set()
    left_out = 0
    for n, line in enumerate(lines):
        if binary or len(line) > LONG_LINE:
            bulky.add(n + 1)
            out.append(windows(line, anchors.get(n, [])))
        elif large and n not in anchors and n not in kept:
            left_out += 1 if line.strip() else 0
            out.append("")
        else:
            out.append(line)
    bulk = None
    if binary:
        bulk = Bulk(reason="binary file")
    elif bulky:
        bulk = Bulk(reason="minified asset", lines=frozenset(bulky))
    return TextForm(data=_joined(out), bulk=bulk, left_out=left_out)


def _spans(shadow: bytes, patterns: _Patterns) -> list[tuple[int, int]]:
    """Every anchor's (start, end) in the text, sorted."""
    lowered = shadow.lower()
    return sorted(m.span() for p, low in patterns for m in p.finditer(lowered if low else shadow))


def _by_line(spans: list[tuple[int, int]], starts: list[int]) -> dict[int, list[tuple[int, int]]]:
    """The spans by 0-based line, as offsets in their line."""
    out: dict[int, list[tuple[int, int]]] = {}
    for a, b in spans:
        n = bisect.bisect_right(starts, a) - 1
        out.setdefault(n, []).append((a - starts[n], b - starts[n]))
    return out


def _joined(lines: list[str]) -> bytes:
    # Lines split as str.splitlines does (as secscan's SourceTree reads the file), written with
    # "\n" only, so detect-secrets, the copy and the file itself number every line alike.
    return "".join(f"{line}\n" for line in lines).encode("utf-8", errors="surrogateescape")


def windows(line: str, anchors: list[tuple[int, int]]) -> str:
    """The parts of a long line where a provider's key could be (each anchor's token and
    :data:`_MARGIN` characters around it), joined by single spaces; "" when there is none."""
    spans: list[tuple[int, int]] = []
    for a, b in anchors:
        # The whole token the anchor is in (a key may start before its anchor: Mailchimp's).
        behind = line[max(0, a - _TOKEN_CAP) : a][::-1]
        start = a - len(_match(_token(), behind, 0))
        end = b + len(_match(_token(), line, b))
        start, end = max(0, start - _MARGIN), min(len(line), end + _MARGIN)
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return " ".join(line[a:b] for a, b in spans)


def _match(pattern: re.Pattern[str], text: str, pos: int) -> str:
    found = pattern.match(text, pos)
    return found.group() if found is not None else ""
