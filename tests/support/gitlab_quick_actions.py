"""A port of GitLab's quick-action extraction (Gitlab::QuickActions::Extractor), for the stand-in.

Written from GitLab's documented behaviour and its source (MIT): a quick action is a line that
starts with ``/command`` (optionally `` argument``), case-insensitive. Two generations exist:

- the regex extractor (GitLab up to 16.x): one multi-line regex whose earlier alternatives skip
  ```-fenced code blocks, backtick spans over several lines, HTML blocks and ``>>>`` quote blocks;
- the Markdown-aware extractor (GitLab 17+): only *top-level paragraphs* whose text has a line
  starting with ``/`` are searched (Banzai's QuickActionFilter, via the source positions of a
  CommonMark parse), and inside them inline code spans and HTML blocks are skipped.

GitLab only runs the commands it knows; both ports accept *any* word as a command name, because
instances add commands (plugins, EE) and secscan must never post anything that one could run.
GitLab parses GLFM, not plain CommonMark: its ``>>>`` multi-line blockquote is read here as
ordinary paragraphs, which finds more commands, never fewer. The stand-in also applies
:func:`slash_lines`, secscan's own stricter rule: no line may start
with a slash at all, inside or outside code blocks, so that no GitLab version's idea of a code
block matters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt

_NAME = r"[a-z][a-z0-9_]*"

# Ruby's /m is Python's DOTALL; Ruby's ^ and $ are always line anchors (Python's MULTILINE).
_LEGACY = re.compile(
    rf"""
      (?P<code>^```.+?\n```$)
    | (?P<inline_code>^.*`\n*.+?\n*`$)
    | (?P<html>^<[^>]+?>\n.+?\n</[^>]+?>$)
    | (?P<quote>^>>>.+?\n>>>$)
    | (?:^/(?P<cmd>{_NAME})(?:[ ](?P<arg>[^\n]*))?(?:\s*\n|$))
    """,
    re.M | re.S | re.I | re.X,
)
_MODERN = re.compile(
    rf"""
      (?P<inline_code>`.+?`)
    | (?P<html>^<[^>]+?>\n.+?\n</[^>]+?>$)
    | (?:^/(?P<cmd>{_NAME})(?:[ ](?P<arg>[^\n]*))?(?:\s*\n|$))
    """,
    re.M | re.S | re.I | re.X,
)
_MD = MarkdownIt("commonmark")
_SLASH = re.compile(r"^[ \t]*/\S", re.M)


@dataclass(frozen=True)
class Command:
    name: str
    arg: str | None
    extractor: str
    """``regex`` (GitLab <= 16), ``markdown`` (GitLab 17+) or ``strict`` (secscan's own rule)."""


def _commands(pattern: re.Pattern[str], text: str, extractor: str) -> list[Command]:
    return [
        Command(m.group("cmd").lower(), (m.group("arg") or "").strip() or None, extractor)
        for m in pattern.finditer(text)
        if m.group("cmd")
    ]


def legacy_commands(body: str) -> list[Command]:
    """What the regex extractor would run."""
    return _commands(_LEGACY, body.replace("\r", ""), "regex")


def modern_commands(body: str) -> list[Command]:
    """What the Markdown-aware extractor would run."""
    content = body.replace("\r", "")
    lines = content.splitlines(keepends=True)
    found: list[Command] = []
    tokens = _MD.parse(content)
    for i, tok in enumerate(tokens):
        if tok.type != "paragraph_open" or tok.level != 0 or tok.map is None:
            continue
        inline = tokens[i + 1] if i + 1 < len(tokens) else None
        children = (inline.children or []) if inline is not None else []
        text = "".join("\n" if c.type in ("softbreak", "hardbreak") else c.content for c in children)
        # GitLab only searches a paragraph whose rendered text has a line starting with "/".
        if not re.search(r"^/", text, re.M):
            continue
        start, end = tok.map
        if end < len(lines) and lines[end] == "\n":
            end += 1
        found += _commands(_MODERN, "".join(lines[start:end]), "markdown")
    return found


def slash_lines(body: str) -> list[Command]:
    """secscan's own rule: every line that starts with a slash (after blanks), code blocks included."""
    return [
        Command(m.group(0).strip().lstrip("/").split()[0].lower() if m.group(0).strip() != "/" else "", None, "strict")
        for m in re.finditer(r"^[ \t]*/\S*", body.replace("\r", ""), re.M)
        if _SLASH.match(m.group(0))
    ]


def quick_actions(body: str) -> list[Command]:
    """Every command any extractor (or the strict rule) finds in ``body``."""
    strict = slash_lines(body)
    if not strict:
        # Both extractors need "/" at the start of a source line, so neither can find anything:
        # skip them (the regex one is slow on long notes: its multi-line alternatives backtrack).
        return []
    return [*legacy_commands(body), *modern_commands(body), *strict]
