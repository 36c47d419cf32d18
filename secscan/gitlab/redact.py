"""Keep the GitLab token out of every output: messages, logs, exception texts.

Redaction happens at the boundaries (errors and log records leaving this package), because
foreign texts (python-gitlab's error messages echo the server's response body, requests echoes
URLs) are not under our control.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "[MASKED]"

# Token shapes GitLab issues (personal/project/group access, CI job, OAuth-ish): masked even when
# they are not *our* token, because a secret in a scanner message must not be echoed either.
_TOKEN_SHAPES = re.compile(r"\b(?:glpat|glcbt|gldt|glrt|glsoat|glptt|gloas)-[A-Za-z0-9_.\-]{8,}")
_HEADER_SHAPES = re.compile(r"(?i)((?:private-token|job-token|authorization)\s*[:=]\s*['\"]?)(?:bearer\s+)?[^\s'\",}]+")


class Redactor:
    """Replaces each known secret (and anything shaped like a GitLab token) with ``[MASKED]``."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole. Very short values are
        # skipped: masking "a" would mangle every message and protects nothing.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: object) -> str:
        out = str(text)
        for s in self._secrets:
            out = out.replace(s, MASK)
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
