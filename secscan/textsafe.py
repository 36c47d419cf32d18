"""Make untrusted text (from scanned code: messages, snippets, URLs, paths) safe to show.

Everything a scanner reports about the code under review is attacker-controlled in a merge
request: a message can try to mention ``@all``, inject a link, an image or raw HTML, close our
hidden marker comment, or break out of a code span. These helpers are the one place that
neutralises such text for GitLab-flavoured Markdown.
"""

from __future__ import annotations

import re

# Characters with Markdown meaning. Escaping them all is ugly in source but renders cleanly.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~=&:])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_MENTION = re.compile(r"@")


def strip_controls(text: str) -> str:
    """Remove control and bidi-override characters (terminal escapes, Trojan-source tricks)."""
    return _CONTROL.sub("", text)


def one_line(text: str, limit: int = 300) -> str:
    """Collapse whitespace to one line and cut to ``limit`` characters (with an ellipsis)."""
    flat = " ".join(strip_controls(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def md_text(text: str, limit: int | None = 300) -> str:
    """Escape untrusted text for inline Markdown: no mentions, links, images, HTML or markers.

    ``@`` becomes ``@`` followed by a zero-width joiner-free escape (``&#64;``) so GitLab does
    not resolve a mention; every Markdown/HTML special character is backslash-escaped.
    """
    flat = one_line(text, limit) if limit is not None else " ".join(strip_controls(text).split())
    escaped = _MD_SPECIAL.sub(r"\\\1", flat)
    return _MENTION.sub("&#64;", escaped)


def md_code_span(text: str, limit: int = 200) -> str:
    """An inline code span the content cannot break out of (same backtick-count rule)."""
    flat = one_line(text, limit)
    longest = max((len(m.group(0)) for m in re.finditer(r"`+", flat)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


_QUOTED = re.compile(r"""(['"])([^'"\n]*)(['"])""")
# A quoted string used as a dict key or a subscript ("password": ..., cfg["token"]) names the
# secret rather than holding it: a reviewer needs to see it.
_KEY_AFTER = re.compile(r"\s*[:\]]")
# An unquoted run that looks like a key rather than a name: long, with letters and digits.
_KEYLIKE = re.compile(
    r"(?<![A-Za-z0-9_\-+/.])(?=[A-Za-z0-9_\-+/]*\d)(?=[A-Za-z0-9_\-+/]*[A-Za-z])[A-Za-z0-9_\-+/]{20,}={0,2}"
    # ... that is not used as a name in code (assigned to, called, an attribute's owner).
    r"(?![A-Za-z0-9_\-+/]|\s*[=(.:,)\]]|\s*$)"
)
# A value long enough to be searched for elsewhere as a whole token: shorter ones ("test",
# "secret") are words that also occur in names and in the scanner's own text.
_SEARCHED_MIN = 8


def _mask_value(value: str) -> str:
    """A secret's first four characters (enough to tell keys apart, as GitLab shows) only when
    it is long enough that they give nothing away."""
    return value[:4] + "****" if len(value) >= 12 else "****"


def _is_key(text: str, m: re.Match[str]) -> bool:
    return bool(_KEY_AFTER.match(text, m.end()))


# A quoted plain word ("stripe" in require("stripe"), "Bearer " in an Authorization header, "usd")
# is code, not a credential: masking it would hide what the line does. It is masked only where the
# code says it holds a secret (password = "hunter", "secret": "letmein", secret_key == "config": a
# comparison with a secret-named value shows the secret as well as an assignment does).
_PLAIN_WORD = re.compile(r"^[A-Za-z][A-Za-z._-]{0,15}$")
_WORD_THEN_SPACE = re.compile(r"^[A-Za-z][A-Za-z._-]{0,15}\s+$")
_NAMES_SECRET = re.compile(
    r"(?i)(?:pass(?:wd|word)?|pwd|pw|secret|token|api_?key|private_?key|credential|client_?secret)\w*['\"]?\]?\s*(?:[:=]|[=!]=|\bis(?:\s+not)?\b)\s*$"
)


def _holds_secret(text: str, m: re.Match[str]) -> bool:
    """Whether the quoted value ``m`` can be the secret: not a dict key or subscript, not a
    plain word outside a secret-named assignment, not a word followed by a space (``"Bearer "``)."""
    value = m.group(2)
    if not value or _is_key(text, m) or _WORD_THEN_SPACE.match(value):
        return False
    if _PLAIN_WORD.match(value):
        return bool(_NAMES_SECRET.search(text[max(0, m.start() - 60) : m.start()]))
    return True


def secret_values(snippet: str) -> tuple[str, ...]:
    """The values in a line holding a secret: quoted values that can be the secret (not dict
    keys, subscripts or plain words of the code) and key-like tokens (not names)."""
    found = [m.group(2) for m in _QUOTED.finditer(snippet) if len(m.group(2)) >= 4 and _holds_secret(snippet, m)]
    found += [m.group(0) for m in _KEYLIKE.finditer(_QUOTED.sub("", snippet))]
    return tuple(sorted(set(found), key=len, reverse=True))


def secret_title(title: str) -> str:
    """A secret finding's title without the value the scanner quoted in it: titles become rule
    names (SARIF rule descriptions, the dashboard's top rules, grouped summaries), which are
    shown far from the finding. ``Possible hardcoded password: 'Zq8!...'`` -> ``Possible
    hardcoded password``."""
    cut = re.split(r"""['"`]""", title, maxsplit=1)[0].rstrip(" :=-,")
    return cut or title


def redact_secret(text: str, values: tuple[str, ...] = ()) -> str:
    """Mask the secret in a text, keep the code around it: ``password = "Zq8!****"`` still
    shows a reviewer which variable holds it (and ``cfg["password"]`` which key). ``values``
    are secrets found elsewhere (the snippet) that the text may repeat unquoted, e.g. in a URL;
    they are replaced as whole tokens only, so names that contain them stay readable.

    Applied to secret findings before anything is written: result files and reports travel
    further than the repository (artifacts, MR notes, dashboards). Idempotent."""
    for value in values:
        # A plain word or name ("password", "secret_key") is searched for nowhere: names hold it.
        if "****" not in value and len(value) >= _SEARCHED_MIN and not value.isidentifier():
            token = re.compile(r"(?<![A-Za-z0-9_])" + re.escape(value) + r"(?![A-Za-z0-9_])")
            text = token.sub(_mask_value(value).replace("\\", "\\\\"), text)

    def quoted(m: re.Match[str]) -> str:
        inner = m.group(2)
        if not inner or inner.endswith("****") or not _holds_secret(text, m):
            return m.group(0)
        return m.group(1) + _mask_value(inner) + m.group(3)

    text = _QUOTED.sub(quoted, text)
    return _KEYLIKE.sub(lambda m: _mask_value(m.group(0)), text)


_PAN_CANDIDATE = re.compile(r"(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for n, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if n % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mask_pans(text: str) -> str:
    """Mask Luhn-valid 13-19 digit card numbers to first six / last four (PCI DSS 3.4.1).

    Scanned code can contain real card numbers; secscan's own reports, notes and logs must not
    repeat them in full."""

    def repl(m: re.Match[str]) -> str:
        raw = m.group(0)
        digits = re.sub(r"[ -]", "", raw)
        if not 13 <= len(digits) <= 19 or not _luhn_ok(digits):
            return raw
        return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]

    return _PAN_CANDIDATE.sub(repl, text) if any(c.isdigit() for c in text) else text


# A GitLab quick action is a line of a note that starts with ``/command`` (GitLab's
# Gitlab::QuickActions::Extractor). Which lines count has changed between GitLab versions (a regex
# that skips only ```-fenced blocks, then a Markdown parse that looks at top-level paragraphs), so
# secscan does not rely on any of them: no line it posts may start with a slash at all, inside or
# outside a code block. Leading blanks are included because some Markdown parsers strip them.
_SLASH_LINE = re.compile(r"^([ \t]*)/")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def gitlab_code_block(
    text: str, *, first_line: int | None = None, max_lines: int = 10, max_line_chars: int = 200
) -> str:
    """A code block for a GitLab note that neither its content nor GitLab can turn into anything else.

    Every line gets a gutter (``12 │ code``): no line of the block can start a quick action, close
    the fence (a closing fence must start the line) or open a quote/HTML block, whatever the
    snippet holds. The fence is also longer than any backtick run inside (CommonMark's rule), lines
    are cut to ``max_line_chars`` and the block to ``max_lines`` so one minified line cannot blow
    GitLab's note limit.
    """
    raw = strip_controls(text).splitlines() or [""]
    lines = raw[:max_lines]
    numbers = [str(first_line + i) if first_line is not None else "" for i in range(len(lines))]
    width = max((len(n) for n in numbers), default=0)
    out = []
    for n, line in zip(numbers, lines, strict=True):
        cut = line if len(line) <= max_line_chars else line[: max_line_chars - 1] + "…"
        out.append(f"{n:>{width}} │ {cut}" if width else f"│ {cut}")
    if len(raw) > max_lines:
        out.append(f"{'':>{width}} ┆ … {len(raw) - max_lines} more line{'s' if len(raw) - max_lines != 1 else ''}")
    body = "\n".join(out)
    longest = max((len(m.group(0)) for m in re.finditer(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{body}\n{fence}"


def defuse_quick_actions(body: str) -> str:
    """The last guard before a text is posted to GitLab: no line starts with ``/`` (a quick action).

    Outside code blocks a backslash goes before the slash (Markdown shows ``/``, GitLab sees no
    command); inside a fenced block, where a backslash would be shown, a gutter bar goes in front.
    Lines that do not start with a slash are returned unchanged.
    """
    if "/" not in body:
        return body
    out: list[str] = []
    fence: str | None = None
    for line in body.split("\n"):
        if fence is None:
            m = _FENCE_OPEN.match(line)
            if m:
                fence = m.group(1)
                out.append(line)
                continue
            out.append(_SLASH_LINE.sub(lambda s: s.group(1) + "\\/", line, count=1))
            continue
        stripped = line.strip()
        if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence) and not line.startswith("    "):
            fence = None
            out.append(line)
            continue
        out.append(_SLASH_LINE.sub(lambda s: "│ " + s.group(1) + "/", line, count=1))
    return "\n".join(out)


_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@]+@")


def mask_userinfo(text: str) -> str:
    """``https://user:token@host`` -> ``https://****@host``: a URL recorded in a result, a log or
    an argv (an --osv-url, a ZAP target, a proxy) never carries its credentials further."""
    return _USERINFO.sub(r"\1****@", text) if "@" in text else text
