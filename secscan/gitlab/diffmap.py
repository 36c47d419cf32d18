"""Which lines a merge request changed, from GitLab's diff JSON (pure).

GitLab positions a DiffNote by (``old_path``, ``new_path``, ``old_line``, ``new_line``): an added
line has only ``new_line``, a removed one only ``old_line``, an unchanged one both. Inline threads
go on added lines only (the lines the merge request is responsible for).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True, kw_only=True)
class ChangedFile:
    old_path: str
    new_path: str
    added: frozenset[int]
    """New-side line numbers of added lines."""
    context: Mapping[int, int]
    """New-side line -> old-side line for unchanged lines shown in the diff."""
    added_text: Mapping[int, str] = field(default_factory=dict)
    """New-side line -> its text, for added lines (the head's line, as GitLab shows it)."""


@dataclass(frozen=True, kw_only=True)
class DiffRefs:
    base_sha: str
    start_sha: str
    head_sha: str


def parse_hunks(diff: str) -> tuple[frozenset[int], dict[int, int]]:
    """Added new-side lines and context (new -> old) lines of one file's unified diff."""
    added, context, _text = parse_hunks_text(diff)
    return added, context


def parse_hunks_text(diff: str) -> tuple[frozenset[int], dict[int, int], dict[int, str]]:
    """:func:`parse_hunks`, and the text of each added line."""
    text: dict[int, str] = {}
    added: set[int] = set()
    context: dict[int, int] = {}
    old = new = 0
    in_hunk = False
    for line in diff.split("\n"):
        m = _HUNK.match(line)
        if m:
            old, new, in_hunk = int(m.group(1)), int(m.group(3)), True
            continue
        if not in_hunk or not line:
            continue
        tag = line[0]
        if tag == "+":
            added.add(new)
            text[new] = line[1:]
            new += 1
        elif tag == "-":
            old += 1
        elif tag == " ":
            context[new] = old
            old += 1
            new += 1
        # "\ No newline at end of file" and anything else: not a line
    return frozenset(added), context, text


def changed_files(diffs: Iterable[Mapping[str, Any]]) -> dict[str, ChangedFile]:
    """new_path -> ChangedFile, from a version's ``diffs`` (or ``changes``) list. Deleted files are left out."""
    out: dict[str, ChangedFile] = {}
    for d in diffs:
        if d.get("deleted_file"):
            continue
        new_path = str(d.get("new_path") or "")
        if not new_path:
            continue
        added, context, text = parse_hunks_text(str(d.get("diff") or ""))
        out[new_path] = ChangedFile(
            old_path=str(d.get("old_path") or new_path),
            new_path=new_path,
            added=added,
            context=context,
            added_text=text,
        )
    return out


def position_for(
    files: Mapping[str, ChangedFile], refs: DiffRefs, path: str, start_line: int, end_line: int | None
) -> dict[str, Any] | None:
    """A GitLab text position on the first added line within [start_line, end_line], or None."""
    cf = files.get(path)
    if cf is None:
        return None
    last = max(start_line, end_line or start_line)
    line = next((n for n in range(start_line, min(last, start_line + 200) + 1) if n in cf.added), None)
    if line is None:
        return None
    return {
        "position_type": "text",
        "base_sha": refs.base_sha,
        "start_sha": refs.start_sha,
        "head_sha": refs.head_sha,
        "old_path": cf.old_path,
        "new_path": cf.new_path,
        "new_line": line,
    }
