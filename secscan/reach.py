"""A file name is not a verdict: which files production code imports.

A merge request can hide code from the gate by where it puts it: in a folder every scanner skips
(``payments/build/refunds.py``: ``build`` is a default exclude at any depth) or under a test path
(``payments/testing/charge.py``), whose findings never block. If production code imports it, it
runs in production, so it is production code. This module follows imports through the tree:

- Python: ``import a.b``, ``from a.b import c`` (``a/b/c.py`` too), relative imports; a module
  name is looked up from the tree's root, ``src/``, the importing file's folder and the folder
  above its package (where Python's ``sys.path`` would find it when that file runs);
- JavaScript/TypeScript: ``require('./x')``, ``import ... from './x'``, ``import('./x')``,
  ``export ... from './x'``: relative specifiers, with Node's and TypeScript's extensions.

Imports are found with regular expressions over the text, not by parsing: a statement inside a
string or a dead branch counts too. Over-approximating is the safe side (more code is judged as
production), it is fast (no AST for thousands of files) and it cannot fail on a file Python cannot
parse. Pure: file texts in, paths out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from pathlib import PurePosixPath

PY_SUFFIXES = (".py", ".pyw")
JS_SUFFIXES = (".js", ".mjs", ".cjs", ".jsx", ".ts", ".tsx", ".mts", ".cts")

_PY_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w. \t,\\]+)", re.MULTILINE)
_PY_FROM = re.compile(
    r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(?:\(([^)]*)\)|((?:[\w \t,]|\\\n)+))", re.MULTILINE
)
_JS_SPEC = re.compile(r"""(?:\brequire\s*\(\s*|\bimport\s*\(\s*|\bfrom\s+|\bimport\s+)(['"`])(\.{1,2}/[^'"`\n]*)\1""")
_JS_TRIES = ("", *JS_SUFFIXES, *(f"/index{s}" for s in JS_SUFFIXES))

ReadText = Callable[[str], "str | None"]
Exists = Callable[[str], bool]


def _is_py(path: str) -> bool:
    return path.endswith(PY_SUFFIXES)


def _is_js(path: str) -> bool:
    return path.endswith(JS_SUFFIXES)


def _py_roots(path: str, exists: Exists) -> list[str]:
    """Folders a module name may be looked up from when ``path`` imports it."""
    parent = PurePosixPath(path).parent
    roots = ["", "src", "" if str(parent) == "." else str(parent)]
    # The folder above the importing file's package: `pkg/sub/mod.py` in a package is run with
    # the folder holding `pkg` on sys.path.
    top = parent
    while str(top) != "." and exists(f"{top}/__init__.py"):
        top = top.parent
    roots.append("" if str(top) == "." else str(top))
    return list(dict.fromkeys(roots))


def _py_module_files(dotted: str, roots: Iterable[str]) -> list[str]:
    rel = dotted.strip(".").replace(".", "/")
    if not rel:
        return []
    out = []
    for root in roots:
        base = f"{root}/{rel}" if root else rel
        out += [f"{base}.py", f"{base}/__init__.py", f"{base}.pyw"]
    return out


def _py_imports(path: str, text: str, exists: Exists) -> set[str]:
    """Candidate tree paths of the modules ``path`` imports."""
    roots = _py_roots(path, exists)
    here = PurePosixPath(path).parent
    out: set[str] = set()
    for m in _PY_IMPORT.finditer(text):
        for part in m.group(1).replace("\\", " ").split(","):
            name = part.strip().split()[0] if part.strip() else ""
            # `import a.b.c` imports a, a.b and a.b.c.
            out.update(_py_prefixes(name.split("."), roots))
    for m in _PY_FROM.finditer(text):
        out.update(_py_from(m, here, roots))
    return out


def _py_prefixes(pieces: list[str], roots: list[str]) -> set[str]:
    """The files of a dotted module and of each package above it."""
    out: set[str] = set()
    for n in range(1, len(pieces) + 1):
        out.update(_py_module_files(".".join(pieces[:n]), roots))
    return out


def _py_from(m: re.Match[str], here: PurePosixPath, roots: list[str]) -> set[str]:
    """Candidate files of one ``from X import a, b`` (relative or absolute)."""
    dots, module, names = m.group(1), m.group(2), m.group(3) or m.group(4) or ""
    if dots:
        base = here
        for _ in range(len(dots) - 1):
            base = base.parent
        local = ["" if str(base) == "." else str(base)]
    else:
        local = roots
    pieces = module.split(".") if module else []
    out = _py_prefixes(pieces, local)
    for name in re.sub(r"#[^\n]*", "", names).replace("\\", " ").split(","):
        word = name.strip().split()[0] if name.strip() else ""
        if word and word != "*":
            out.update(_py_module_files(".".join([*pieces, word]), local))
    if dots and not module:
        out.update(f"{r}/__init__.py" if r else "__init__.py" for r in local)
    return out


def _js_imports(path: str, text: str) -> set[str]:
    here = PurePosixPath(path).parent
    out: set[str] = set()
    for m in _JS_SPEC.finditer(text):
        spec = m.group(2).split("?", 1)[0]
        target = _normalize(f"{here}/{spec}")
        if target is None:
            continue
        out.update(f"{target}{suffix}" for suffix in _JS_TRIES)
        # TypeScript's ESM style: `import './x.js'` names the compiled file of `x.ts`.
        stem, dot, ext = target.rpartition(".")
        if dot and f".{ext}" in JS_SUFFIXES:
            out.update(f"{stem}{s}" for s in JS_SUFFIXES)
    return out


def _normalize(path: str) -> str | None:
    """``a/./b/../c`` -> ``a/c``; None when it climbs out of the tree."""
    parts: list[str] = []
    for p in path.split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(p)
    return "/".join(parts)


def imports_of(path: str, text: str, exists: Exists) -> set[str]:
    """Tree paths the file at ``path`` may import (candidates: not all of them exist);
    ``exists`` tells where packages are (``__init__.py``)."""
    if _is_py(path):
        return _py_imports(path, text, exists)
    if _is_js(path):
        return _js_imports(path, text)
    return set()


def imported(start: Iterable[str], read: ReadText, *, wanted: Callable[[str], bool], exists: Exists) -> frozenset[str]:
    """The files ``wanted`` selects that the ``start`` files import, directly or through other
    wanted files (a test helper imported by production imports another one).

    ``read(path)``: a file's text (None: unreadable); ``exists(path)``: a regular file inside the
    tree. Only code files are followed."""
    on_disk = functools.lru_cache(maxsize=None)(exists)
    # Most candidate names (`os.py` under every root) are neither wanted nor there: the caller's
    # ``wanted`` is the cheap test, asked first.
    hit = functools.lru_cache(maxsize=None)(lambda p: wanted(p) and on_disk(p))
    reached: set[str] = set()
    queue = [p for p in start if _is_py(p) or _is_js(p)]
    seen: set[str] = set()
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        seen.add(path)
        text = read(path)
        if not text:
            continue
        for target in imports_of(path, text, on_disk):
            if target not in reached and hit(target):
                reached.add(target)
                queue.append(target)
    return frozenset(reached)
