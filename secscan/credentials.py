"""The operator's credentials, and the one masker every output goes through.

secscan runs with secrets in its environment (the GitLab token, the CI job token, the audit key,
whatever the operator marks secret). Whatever text reaches an output (a report file, the terminal,
the audit log, a GitLab note), none of them may appear in it, in any form an escaper can give
them: the text may have been Markdown-escaped (``glpat\\-...``), HTML-escaped (``&#45;``,
``&amp;``), JSON-escaped (``\\u002d``, ``\\/``), percent-encoded, or had zero-width characters
or soft hyphens put in. So the masking runs on the *final* text of each sink, after every escaping
step, and one regex per value accepts every such form of each of its characters.

This module sits at the bottom of the layers (standard library only): file writes, the terminal,
the audit trail and the GitLab publisher all import it.

Which variables are secret:

- ``SECSCAN_GITLAB_TOKEN``, ``GITLAB_TOKEN``, ``CI_JOB_TOKEN``, ``SECSCAN_AUDIT_KEY``,
  ``CI_REGISTRY_PASSWORD``, ``CI_DEPLOY_PASSWORD``, ``CI_JOB_JWT*``;
- every variable named in ``SECSCAN_MASK_VARIABLES`` (names or shell patterns, separated by
  commas or blanks, e.g. ``DB_URL,STRIPE_*``): the operator's list of what else is secret;
- every variable whose name hints a credential (TOKEN, SECRET, PASSWORD, PASSWD, CREDENTIAL,
  PRIVATE, _KEY, AUTH) with a value of at least 8 characters (shorter values are words that occur
  everywhere; masking them protects nothing and mangles every text).

A value with several lines (a private key) is also masked line by line: outputs cut texts at
line ends. And secscan's own environment is not shown either: where a text holds two or more
``NAME=value`` pairs of it (a dump of ``/proc/self/environ``), every such value is masked.
"""

from __future__ import annotations

import dataclasses
import enum
import fnmatch
import functools
import html.entities
import io
import os
import re
import sys
from collections.abc import Iterable, Mapping
from typing import IO, Any, TypeVar

from secscan.textsafe import mask_userinfo

MASK = "[MASKED]"
MASK_LIST_ENV = "SECSCAN_MASK_VARIABLES"
NAMED = frozenset(
    {
        "SECSCAN_GITLAB_TOKEN",
        "GITLAB_TOKEN",
        "CI_JOB_TOKEN",
        "SECSCAN_AUDIT_KEY",
        "CI_REGISTRY_PASSWORD",
        "CI_DEPLOY_PASSWORD",
    }
)
NAMED_PREFIXES = ("CI_JOB_JWT",)
CREDENTIAL_HINT = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE", "_KEY", "AUTH")
MIN_NAMED = 4
"""Named and listed variables: shorter values would mask single letters of every text."""
MIN_HINTED = 8
"""Variables only *named* like a credential: below this, values are words (``true``, ``basic``)."""
MIN_FRAGMENT = 8

T = TypeVar("T")

# Characters an escaper or a renderer may put *between* the characters of a value: zero-width
# characters and the soft hyphen (raw, as entities, JSON/Python escapes, percent-encoded), HTML
# word-break tags, and backslashes (Markdown escapes, JSON's ``\\/``, doubled escapes). The loop
# over them and each run of backslashes are possessive, and every alternative consumes at least
# one character, so a match attempt never re-reads a run: scanning stays linear in the text,
# whatever an attacker writes (``&amp;amp;...`` and ``%2525...`` prefixes of double escaping
# backtrack only inside one entity).
_ZW_CHARS = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_ZW_HEX = r"(?:00[aA][dD]|200[b-dB-D]|2060|[fF][eE][fF][fF])"
_ZW_ENTITY = r"shy|zwj|zwnj|ZeroWidthSpace|NoBreak|#0*173|#0*820[3-5]|#0*8288|#0*65279|#[xX]0*" + _ZW_HEX
_ZW_PERCENT = r"[cC]2%(?:25)*[aA][dD]|[eE]2%(?:25)*8[01]%(?:25)*[89aA][0-9a-dA-D]"
# Kept short: it is repeated before every character of every value, and compiling is per process.
_SEP = (
    r"(?:\\++"
    rf"|[{_ZW_CHARS}]"
    rf"|(?<=\\)u{_ZW_HEX}"
    rf"|&(?:amp;)*(?:{_ZW_ENTITY});"
    rf"|%(?:25)*(?:{_ZW_PERCENT})"
    r"|<wbr\s?/?>|&(?:amp;)*lt;wbr\s?/?&(?:amp;)*gt;"
    r")*+"
)


def _hex(n: int, width: int) -> str:
    """``n`` in hex, either case (escapers differ: ``%2d``/``%2D``, ``\\u002d``/``\\u002D``)."""
    out = []
    for ch in f"{n:0{width}x}":
        out.append(f"[{ch}{ch.upper()}]" if ch.isalpha() else ch)
    return "".join(out)


@functools.cache
def _entity_names() -> dict[str, tuple[str, ...]]:
    """Character -> its HTML5 named entities (``-`` -> ``hyphen;``, ``dash;``...)."""
    names: dict[str, list[str]] = {}
    for name, value in html.entities.html5.items():
        if len(value) == 1 and name.endswith(";"):
            names.setdefault(value, []).append(name)
    return {k: tuple(sorted(v, key=len, reverse=True)) for k, v in names.items()}


def _forms(ch: str, *, first: bool) -> str:
    """Every form one character can take in an escaped text, as a regex alternation.

    Each alternative of the first character starts with a literal, so ``re`` can skip quickly to
    the positions where a match may start. The JSON/Python escapes of later characters begin after
    the backslashes the separator consumed (a lookbehind checks one is there)."""
    code = ord(ch)
    alts = [r"\s+" if ch.isspace() else re.escape(ch)]
    escape = "\\\\" if first else "(?<=\\\\)"
    if code <= 0xFFFF:
        alts.append(f"{escape}u{_hex(code, 4)}")
    else:  # JSON writes characters beyond the BMP as a surrogate pair
        hi, lo = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        alts.append(f"{escape}u{_hex(hi, 4)}\\\\u{_hex(lo, 4)}")
        alts.append(f"{escape}U{_hex(code, 8)}")
    if code <= 0xFF:
        alts.append(f"{escape}x{_hex(code, 2)}")
    named = "|".join(re.escape(n) for n in _entity_names().get(ch, ()))
    entities = [f"#0*{code};", f"#[xX]0*{_hex(code, 1)};"] + ([named] if named else [])
    alts.append("&(?:amp;)*(?:" + "|".join(entities) + ")")
    utf8 = ch.encode("utf-8")
    alts.append("%(?:25)*" + "%(?:25)*".join(_hex(b, 2) for b in utf8))
    if ch == " ":
        alts.append(r"\+")  # application/x-www-form-urlencoded
    return "(?:" + "|".join(alts) + ")"


def fragment_length(value: str) -> int:
    """The shortest piece of ``value`` that is masked on its own, when a length limit cut it
    (``one_line``, a tool's last lines): half of the value, at least 8 and at most 16 characters.
    A piece that long gives too much of a key away; a shorter one could be any word."""
    return min(len(value), max(MIN_FRAGMENT, min(16, (len(value) + 1) // 2)))


def _units(value: str) -> list[str]:
    """One regex per character of ``value``: its forms, after the separators an escaper may add."""
    units = []
    for i, ch in enumerate(value):
        if i == 0:
            units.append(_forms(ch, first=True))
        elif ch == "\\":
            # The separator would swallow the backslash itself; the run of backslashes is the char.
            zw = _SEP.replace(r"\\++|", "", 1)
            units.append(f"{zw}(?:\\\\++|&(?:amp;)*(?:#0*92;|#[xX]0*5[cC];|bsol;)|%(?:25)*5[cC])")
        else:
            units.append(_SEP + _forms(ch, first=False))
    return units


def _fragments_apply(value: str) -> bool:
    """Pieces of a path are not masked: a credential *file* (``/home/runner/.ssh/key``) shares its
    first characters with every path of the checkout."""
    return not value.startswith(("/", "~", "./", "../")) and not any(c.isspace() for c in value)


def value_regex(value: str, *, fragments: bool = True) -> str:
    """One regex matching ``value`` in every escaped form (see the module's docstring), and, with
    ``fragments``, what a length limit leaves of it: a prefix of at least :func:`fragment_length`
    characters anywhere (a text cut at the end), or such a suffix right after ``…`` or ``...``
    (a text cut at the start). Each optional character is a possessive group nested in the
    previous one, so the regex stays linear in the length of the value."""
    units = _units(value)
    n, k = len(units), fragment_length(value)
    if not fragments or k >= n or not _fragments_apply(value):
        return "".join(units)
    rest = ""
    for unit in reversed(units[k:]):
        rest = f"(?:{unit}{rest})?+"
    prefix = "".join(units[:k]) + rest
    head = ""
    for unit in units[1 : n - k]:
        head = f"(?:{head}{unit})?+"
    # After the marker, what is left of an escape the cut went through (``…;`` of ``&lt;wbr&gt;``).
    suffix = "(?:…|\\.\\.\\.)(?:[^\\s;…]{0,12};)?+" + head + "".join(units[n - k :])
    return f"{prefix}|{suffix}"


def value_pattern(value: str, *, fragments: bool = True) -> re.Pattern[str]:
    """:func:`value_regex`, compiled."""
    return re.compile(value_regex(value, fragments=fragments))


@functools.lru_cache(maxsize=16)
def _secrets_regex(values: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of the per-value regexes (longest value first): one pass over a text, not
    one per value (a report holds a hundred thousand short strings), compiled once per process."""
    return re.compile("|".join(f"(?:{value_regex(v)})" for v in values)) if values else None


# ``NAME=value`` of secscan's own environment: a dump of it (``/proc/self/environ`` read as a
# manifest, ``env`` in a tool's error) is recognised by two or more of its pairs in one text.
MIN_ENV_VALUE = 4
_WORD_BEFORE = re.compile(r"[A-Za-z0-9_]{1,64}\Z")


@functools.lru_cache(maxsize=512)
def _env_value_regex(value: str) -> re.Pattern[str]:
    # Markdown escaping may have put a backslash before any of its characters.
    return re.compile("".join(r"\\*+" + re.escape(c) for c in value))


def _env_value(word: str, environment: Mapping[str, str]) -> str | None:
    """The value of the variable whose name ends ``word`` (the longest such name)."""
    for i in range(len(word)):
        value = environment.get(word[i:])
        if value is not None:
            return value
    return None


def _mask_environment(text: str, environment: Mapping[str, str]) -> str:
    """The values of secscan's environment masked where the text holds two or more of its pairs."""
    spans: list[tuple[int, int]] = []
    at = text.find("=")
    while at >= 0:
        # Looked for from each "=" backwards (a regex over the words would re-read a long word at
        # each of its characters). The pairs of /proc/self/environ run together once its NULs are
        # stripped (``...=/rootPATH=``): the name is a suffix of the (last 64 characters of the)
        # word before "=", after the backslashes Markdown escaping put there.
        end = at
        while end > 0 and text[end - 1] == "\\":
            end -= 1
        word = _WORD_BEFORE.search(text, max(0, end - 64), end)
        value = _env_value(word.group(0), environment) if word is not None else None
        found = _env_value_regex(value).match(text, at + 1) if value is not None else None
        if found is not None:
            spans.append((at + 1, found.end()))
        at = text.find("=", at + 1)
    if len({text[a:b] for a, b in spans}) < 2:
        return text  # one ``HOME=/root`` in a snippet is code, not a dump of the environment
    out, last = [], 0
    for a, b in spans:
        out += [text[last:a], MASK]
        last = b
    return "".join([*out, text[last:]])


class Masker:
    """Replaces every form of every given value with ``[MASKED]``; built once per set of values."""

    def __init__(self, values: Iterable[str], *, environment: Mapping[str, str] | None = None) -> None:
        # Longest first, so a value that contains another is masked whole.
        self.values = tuple(sorted(set(values), key=lambda v: (-len(v), v)))
        self._pattern = _secrets_regex(self.values)
        self._environment = {k: v for k, v in (environment or {}).items() if len(v) >= MIN_ENV_VALUE}

    def __bool__(self) -> bool:
        return bool(self.values) or bool(self._environment)

    def __call__(self, text: str) -> str:
        if self._pattern is not None and text:
            text = self._pattern.sub(MASK, text)
        return _mask_environment(text, self._environment) if self._environment and "=" in text else text

    def data(self, data: str | bytes) -> str | bytes:
        """Text, or bytes as UTF-8 (bytes that are not UTF-8 pass through as they are)."""
        if isinstance(data, str):
            return self(data)
        if not self:
            return data
        text = data.decode("utf-8", errors="surrogateescape")
        masked = self(text)
        return data if masked == text else masked.encode("utf-8", errors="surrogateescape")

    def structure(self, obj: T) -> T:
        """Every string inside ``obj`` (dataclasses, tuples, lists, dicts) masked; the rest as is.

        Used before texts are cut or wrapped (a table cell, a 300-character message): a value cut
        in half is no longer recognisable in the final bytes."""
        if not self:
            return obj
        return self._deep(obj, {})

    def _deep(self, obj: Any, seen: dict[str, str]) -> Any:
        if isinstance(obj, enum.Enum) or obj is None or isinstance(obj, bool | int | float):
            return obj
        if isinstance(obj, str):
            # Titles, rule ids and paths repeat across findings: each text is masked once.
            done = seen.get(obj)
            if done is None:
                done = seen[obj] = self(obj)
            return obj if done == obj else done
        if isinstance(obj, tuple | list):
            items = [self._deep(x, seen) for x in obj]
            return obj if all(a is b for a, b in zip(items, obj, strict=True)) else type(obj)(items)
        if isinstance(obj, dict):
            return {self._deep(k, seen): self._deep(v, seen) for k, v in obj.items()}
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            changes = {}
            for f in dataclasses.fields(obj):
                if not f.init:
                    continue
                old = getattr(obj, f.name)
                new = self._deep(old, seen)
                if new is not old:
                    changes[f.name] = new
            return dataclasses.replace(obj, **changes) if changes else obj
        return obj


def _listed(environ: Mapping[str, str]) -> list[str]:
    raw = environ.get(MASK_LIST_ENV, "")
    return [n for n in re.split(r"[\s,;]+", raw) if n]


def _minimum(name: str, listed: Iterable[str]) -> int | None:
    """The shortest value masked for variable ``name``; None: not a secret."""
    upper = name.upper()
    if upper in NAMED or upper.startswith(NAMED_PREFIXES) or any(fnmatch.fnmatchcase(name, p) for p in listed):
        return MIN_NAMED
    return MIN_HINTED if any(h in upper for h in CREDENTIAL_HINT) else None


def is_secret_name(name: str, *, listed: Iterable[str] = ()) -> bool:
    """Named by secscan, listed by the operator, or named like a credential."""
    return _minimum(name, listed) is not None


def secret_values(environ: Mapping[str, str]) -> tuple[str, ...]:
    """The values of the operator's secret variables in ``environ`` (see the module docstring)."""
    listed = _listed(environ)
    out: set[str] = set()
    for name, value in environ.items():
        minimum = _minimum(name, listed) if value and name != MASK_LIST_ENV else None
        if minimum is None:
            continue
        candidates = {value, *(line.strip() for line in (value, *value.splitlines()))}
        # A URL's credentials are masked in findings before the final bytes are (core.mask):
        # the rest of the URL (host, path) is still this value's, in the form that step leaves.
        candidates |= {mask_userinfo(c) for c in candidates}
        out.update(c for c in candidates if len(c.strip()) >= minimum)
    return tuple(sorted(out))


_registered: set[str] = set()


def register(*values: str | None) -> None:
    """Secrets secscan holds from elsewhere than its environment (a ``--token`` flag): masked too."""
    _registered.update(v for v in values if v and len(v) >= MIN_NAMED)


@functools.lru_cache(maxsize=16)
def _masker_for(values: frozenset[str], environment: frozenset[tuple[str, str]]) -> Masker:
    return Masker(values, environment=dict(environment))


def current(env: Mapping[str, str] | None = None) -> Masker:
    """The masker for this process's secrets (plus those of ``env``, when a caller passes one).

    The environment is read on each call (cheap) and the regexes are built once per set of values,
    so a changed environment (a test, an embedding program) is never masked with stale values."""
    values = set(secret_values(os.environ)) | _registered
    environment = dict(os.environ)
    if env is not None and env is not os.environ:
        values |= set(secret_values(env))
        environment.update(env)
    return _masker_for(frozenset(values), frozenset(environment.items()))


def mask(text: str, env: Mapping[str, str] | None = None) -> str:
    """``text`` with every form of every operator secret replaced by ``[MASKED]``."""
    return current(env)(text)


class MaskingStream(io.TextIOBase):
    """A text stream that masks what is written to it, a line at a time, before passing it on.

    Installed over ``sys.stdout`` and ``sys.stderr``: click, rich, ``print``, logging and
    tracebacks all write through it. Whole lines are masked (a value cut across two ``write``
    calls is still seen whole); ``flush`` passes on the rest (a prompt, a progress frame)."""

    def __init__(self, inner: IO[str]) -> None:
        super().__init__()
        self.inner = inner
        self._pending = ""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.inner, "encoding", None) or "utf-8")

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self.inner, "errors", None)

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return bool(getattr(self.inner, "isatty", lambda: False)())

    def fileno(self) -> int:
        return self.inner.fileno()

    def write(self, s: str) -> int:
        text = self._pending + s
        cut = text.rfind("\n") + 1
        self._pending = text[cut:]
        if cut:
            self.inner.write(current()(text[:cut]))
        return len(s)

    def flush(self) -> None:
        if self._pending:
            rest, self._pending = self._pending, ""
            self.inner.write(current()(rest))
        self.inner.flush()

    def close(self) -> None:
        self.flush()


def install_on_std_streams() -> None:
    """Wrap ``sys.stdout`` and ``sys.stderr`` (once) so nothing secscan prints carries a secret."""

    if not isinstance(sys.stdout, MaskingStream):
        sys.stdout = MaskingStream(sys.stdout)
    if not isinstance(sys.stderr, MaskingStream):
        sys.stderr = MaskingStream(sys.stderr)
