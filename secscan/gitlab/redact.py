"""Keep the GitLab token out of every output: messages, logs, exception texts.

Redaction happens at the boundaries (errors and log records leaving this package), because
foreign texts (python-gitlab's error messages echo the server's response body, requests echoes
URLs) are not under our control. Each secret is masked in every escaped form
(:mod:`secscan.credentials`), with every other operator credential of the environment: a text may
already have been Markdown-escaped (``glpat\\-...``) when it gets here.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from secscan import credentials

MASK = credentials.MASK

# Token shapes GitLab issues (personal/project/group access, CI job, OAuth-ish): masked even when
# they are not *our* token, because a secret in a scanner message must not be echoed either.
# A backslash may precede any character (Markdown escaping ran first: ``glpat\-...``).
_TOKEN_SHAPES = re.compile(r"\b(?:glpat|glcbt|gldt|glrt|glsoat|glptt|gloas)\\?-(?:\\?[A-Za-z0-9_.\-]){8,}")
_HEADER_SHAPES = re.compile(r"(?i)((?:private-token|job-token|authorization)\s*[:=]\s*['\"]?)(?:bearer\s+)?[^\s'\",}]+")


class Redactor:
    """Replaces each known secret (and anything shaped like a GitLab token) with ``[MASKED]``."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole. Very short values are
        # skipped: masking "a" would mangle every message and protects nothing.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self._masker = credentials.Masker(self._secrets)

    def __call__(self, text: object) -> str:
        out = self._masker(str(text))
        # The environment's credentials too (read now: a test or a wrapper may have changed it).
        out = credentials.mask(out)
        out = _TOKEN_SHAPES.sub(MASK, out)
        return _HEADER_SHAPES.sub(lambda m: m.group(1) + MASK, out)


class RedactingFilter(logging.Filter):
    """A logging filter that renders each record's message and redacts it in place."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg = self.redactor(message)
        record.args = None
        if record.exc_info:
            # Format the traceback now, redacted, and drop the live exception object.
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self.redactor(text)
            record.exc_info = None
        return True
