"""What a project declares it depends on, read statically from its manifests (pure).

pip-audit reads requirements files itself. The other places a Python project declares
dependencies cannot be handed to it without running the project: ``pip-audit <dir>`` and
``pip-audit -r`` without ``--no-deps`` install into a virtual environment, which runs build
backends and ``setup.py`` files named by the tree (code from the merge request). So the
declarations are read here as data and given to pip-audit as a generated, pinned requirements
file; what is not pinned to one version cannot be audited as written and is reported as such:

- ``pyproject.toml``: ``[project] dependencies``, ``[project.optional-dependencies]``, PEP 735
  ``[dependency-groups]`` (``{include-group = ...}`` entries are followed);
- ``setup.cfg``: ``[options] install_requires``, ``[options.extras_require]``;
- ``setup.py``: literal ``install_requires`` / ``extras_require`` / ``tests_require`` of the
  ``setup(...)`` call, directly or through module-level names, parsed with :mod:`ast` (never run);
- lock files (``uv.lock``, ``poetry.lock``, ``pdm.lock``, ``pylock*.toml``, ``Pipfile.lock``):
  every locked package is pinned;
- Poetry's ``[tool.poetry.dependencies]``, ``dev-dependencies`` and groups (a bare version is an
  exact pin in Poetry); a ``Pipfile``'s package tables; ``[project] dynamic`` dependencies read
  from the files ``[tool.setuptools.dynamic]`` names (only inside the tree);
- requirements files: every line, ``-r`` includes and ``-c`` constraints followed inside the tree
  only. The file pip-audit gets is always the generated one, never the tree's: pip-audit would
  follow links, includes (``-r /etc/passwd``) and ``${VAR}`` expansions itself, and would drop a
  pin whose environment marker is false on the runner (the marker is not copied: every pin is
  audited whatever the runner's Python or platform).

The parsers stay pure: a file they must follow is asked for through an :data:`Opener`, which
the caller builds on :mod:`secscan.files` (the one rule for links). :func:`find` sorts a tree's
listing into manifests to read and manifests that are links not followed (never audited).
"""

from __future__ import annotations

import ast
import configparser
import json
import posixpath
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from secscan.files import Listing

Opener = Callable[[str], tuple[str, str] | None]
"""``opener(path)``: (tree path, text) of a repo-relative path a manifest names (it may hold
``..`` or be absolute), or None when it leaves the tree, dangles or cannot be read."""

_QUOTE_MAX = 120
"""Manifest text quoted in a message is cut here: a line is evidence, a whole file is not."""


def _cut(text: str) -> str:
    return text if len(text) <= _QUOTE_MAX else text[:_QUOTE_MAX] + "..."


@dataclass(frozen=True, kw_only=True)
class Declared:
    """The dependencies one manifest declares."""

    pinned: tuple[tuple[str, str], ...] = ()
    """(name, version) pinned to exactly one version: auditable as written."""
    unpinned: tuple[str, ...] = ()
    """Requirement texts that allow more than one version (or name no index release)."""
    errors: tuple[str, ...] = ()
    """What could not be read (one line each)."""
    pinned_in: tuple[tuple[tuple[str, str], str], ...] = ()
    """((name, version), tree path) for pins written in another file than the manifest (an
    ``-r`` include, a constraints file, a setuptools dynamic file): a finding is placed there, on
    the line the merge request changed, not on the manifest that merely names the file."""


def _requirement(text: str) -> tuple[tuple[str, str] | None, str | None, str | None]:
    """(pinned, unpinned, error) for one requirement string."""
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        return None, None, f"{_cut(text)!r}: {_cut(str(e))}"
    if req.url:
        return None, text, None
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return (req.name, specs[0].version), None, None
    return None, text, None


def from_requirement_strings(items: Iterable[str]) -> Declared:
    pinned: list[tuple[str, str]] = []
    unpinned: list[str] = []
    errors: list[str] = []
    for raw in items:
        text = raw.strip()
        if not text:
            continue
        p, u, e = _requirement(text)
        if p:
            pinned.append(p)
        if u:
            unpinned.append(u)
        if e:
            errors.append(e)
    return Declared(pinned=tuple(dict.fromkeys(pinned)), unpinned=tuple(dict.fromkeys(unpinned)), errors=tuple(errors))


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _groups(groups: Mapping[str, Any]) -> list[str]:
    """PEP 735 groups, following ``{include-group = "name"}`` (once each)."""
    out: list[str] = []
    seen: set[str] = set()

    def walk(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for item in groups.get(name) or []:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, Mapping) and isinstance(item.get("include-group"), str):
                walk(item["include-group"])

    for name in groups:
        walk(name)
    return out


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def merge(parts: Iterable[Declared]) -> Declared:
    """One declaration out of several (order kept, duplicates once)."""
    pinned: list[tuple[str, str]] = []
    unpinned: list[str] = []
    errors: list[str] = []
    pinned_in: dict[tuple[str, str], str] = {}
    for d in parts:
        pinned += d.pinned
        unpinned += d.unpinned
        errors += d.errors
        for pin, where in d.pinned_in:
            pinned_in.setdefault(pin, where)
    return Declared(
        pinned=tuple(dict.fromkeys(pinned)),
        unpinned=tuple(dict.fromkeys(unpinned)),
        errors=tuple(dict.fromkeys(errors)),
        pinned_in=tuple(pinned_in.items()),
    )


def from_pyproject(text: str, *, path: str = "pyproject.toml", opener: Opener | None = None) -> Declared:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return Declared(errors=(f"not valid TOML: {e}",))
    except RecursionError:  # nested deeper than the parser's stack: the file is the merge request's
        return Declared(errors=("not valid TOML: nested too deeply",))
    project = _table(data.get("project"))
    items = _strings(project.get("dependencies"))
    for extra in _table(project.get("optional-dependencies")).values():
        items += _strings(extra)
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        items += _groups(groups)
    tool = _table(data.get("tool"))
    return merge(
        [from_requirement_strings(items), _poetry(_table(tool.get("poetry"))), _dynamic(project, tool, path, opener)]
    )


# ------------------------------------------------------------------ Poetry and Pipfile tables

_VERSION = re.compile(r"(?P<op>===|==|=)?\s*(?P<v>[0-9A-Za-z][0-9A-Za-z.!+_-]*)")


def _exact(spec: str, *, bare: bool) -> str | None:
    """The one version ``spec`` allows, or None. Poetry reads a bare ``2.10`` (and ``=2.10``) as
    an exact pin; a Pipfile needs ``==``."""
    m = _VERSION.fullmatch(spec.strip())
    if m is None or (m.group("op") in (None, "=") and not bare):
        return None
    if m.group("op") == "===":
        return m.group("v")  # arbitrary equality: handed on as written; pip-audit's report is checked
    try:
        Version(m.group("v"))
    except InvalidVersion:
        return None
    return m.group("v")


def _entry(name: str, spec: Any, style: str) -> Declared:
    """One ``name = spec`` of a Poetry or Pipfile table (a string, a table or a list of tables)."""
    if isinstance(spec, list):
        return merge(_entry(name, s, style) for s in spec)
    if isinstance(spec, dict):
        if isinstance(spec.get("version"), str):
            return _entry(name, spec["version"], style)
        source = next((k for k in ("git", "path", "url", "file") if k in spec), "no version")
        return Declared(unpinned=(f"{name} ({style}: {source})",))
    if not isinstance(spec, str):
        return Declared(errors=(f"{style}: {_cut(name)!r}: not a version or a table",))
    version = _exact(spec, bare=style == "poetry")
    if version is not None:
        return Declared(pinned=((name, version),))
    return Declared(unpinned=(f"{name} ({style}: {_cut(spec.strip())})",))


def _poetry(poetry: Mapping[str, Any]) -> Declared:
    """``[tool.poetry.dependencies]``, ``dev-dependencies`` and every group's dependencies (the
    ``python`` entry is the interpreter, not a package)."""
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    tables += [_table(group).get("dependencies") for group in _table(poetry.get("group")).values()]
    return merge(
        _entry(name, spec, "poetry")
        for table in tables
        for name, spec in _table(table).items()
        if name.lower() != "python"
    )


_PIPFILE_NOT_PACKAGES = frozenset({"source", "requires", "pipenv", "scripts"})
"""Pipfile tables that are not package categories (any other table is one, as in pipenv)."""


def from_pipfile(text: str) -> Declared:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return Declared(errors=(f"not valid TOML: {e}",))
    except RecursionError:  # nested deeper than the parser's stack: the file is the merge request's
        return Declared(errors=("not valid TOML: nested too deeply",))
    return merge(
        _entry(name, spec, "Pipfile")
        for key, table in data.items()
        if key not in _PIPFILE_NOT_PACKAGES
        for name, spec in _table(table).items()
    )


# ------------------------------------------------------------------ dynamic dependencies


def _dynamic_files(value: Any, key: str) -> list[str] | None:
    """The files ``[tool.setuptools.dynamic]`` reads ``key`` from (None: it names none)."""
    specs = [value] if key == "dependencies" else list(_table(value).values())
    out: list[str] = []
    found = False
    for spec in specs:
        names = _table(spec).get("file")
        if names is None:
            continue
        found = True
        out += [names] if isinstance(names, str) else _strings(names)
    return out if found else None


def _dynamic(project: Mapping[str, Any], tool: Mapping[str, Any], path: str, opener: Opener | None) -> Declared:
    """``[project] dynamic`` dependencies: read from the files setuptools names (inside the tree
    only); from setup.py / setup.cfg beside it (audited on their own); else not audited."""
    dynamic = _strings(project.get("dynamic"))
    setuptools = _table(_table(tool.get("setuptools")).get("dynamic"))
    parts: list[Declared] = []
    for key in ("dependencies", "optional-dependencies"):
        if key not in dynamic:
            continue
        names = _dynamic_files(setuptools.get(key), key)
        if names is None:
            parts.append(_dynamic_elsewhere(key, path, opener))
            continue
        seen = {path}
        parts += [_follow(path, ref, opener, f"dynamic {key} file", seen, constraint=False) for ref in names]
    return merge(parts)


def _dynamic_elsewhere(key: str, path: str, opener: Opener | None) -> Declared:
    folder = posixpath.dirname(path)
    if opener is not None and any(opener(posixpath.join(folder, n)) for n in ("setup.py", "setup.cfg")):
        return Declared()  # setuptools reads them from setup.py / setup.cfg, audited as manifests
    return Declared(errors=(f"[project] dynamic {key!r} are computed at build time (not read): NOT audited",))


def _cfg_list(value: str) -> list[str]:
    # setup.cfg lists: one per line, or separated by ';' on one line (setuptools' "list-semi").
    lines = [ln.split("#", 1)[0].strip() for ln in value.splitlines()]
    return [ln for ln in lines if ln]


def from_setup_cfg(text: str) -> Declared:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as e:
        return Declared(errors=(f"not a valid setup.cfg: {e.message}",))
    items: list[str] = []
    if parser.has_option("options", "install_requires"):
        items += _cfg_list(parser.get("options", "install_requires"))
    if parser.has_section("options.extras_require"):
        for _key, value in parser.items("options.extras_require"):
            items += _cfg_list(value)
    return from_requirement_strings(items)


_SETUP_KEYWORDS = ("install_requires", "extras_require", "tests_require")


class _Literals:
    """Module-level ``NAME = [literal strings]`` (and ``NAME = [*OTHER, ...]``) of a setup.py."""

    def __init__(self, tree: ast.Module) -> None:
        self.names: dict[str, ast.expr] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                self.names[node.targets[0].id] = node.value

    def strings(self, node: ast.expr | None, depth: int = 0) -> tuple[list[str], bool]:
        """(strings, complete): ``complete`` is False when a part is not a literal."""
        if node is None or depth > 10:
            return [], False
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value], True
        if isinstance(node, ast.Name):
            return self.strings(self.names.get(node.id), depth + 1)
        if isinstance(node, ast.Starred):
            return self.strings(node.value, depth + 1)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            out: list[str] = []
            ok = True
            for elt in node.elts:
                s, k = self.strings(elt, depth + 1)
                out += s
                ok = ok and k
            return out, ok
        if isinstance(node, ast.Dict):
            out, ok = [], True
            for value in node.values:
                s, k = self.strings(value, depth + 1)
                out += s
                ok = ok and k
            return out, ok
        return [], False


def from_setup_py(text: str) -> Declared:
    """The literal dependency lists of ``setup(...)``, read with ast: the file is never run."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as e:
        return Declared(errors=(f"setup.py could not be parsed: {e}",))
    lits = _Literals(tree)
    items: list[str] = []
    errors: list[str] = []
    found = False
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name != "setup":
            continue
        found = True
        for kw in node.keywords:
            if kw.arg in _SETUP_KEYWORDS:
                strings, complete = lits.strings(kw.value)
                items += strings
                if not complete:
                    errors.append(f"setup.py: {kw.arg} is computed at run time (not a literal): not read")
    if not found:
        errors.append("setup.py: no setup(...) call found")
    declared = from_requirement_strings(items)
    return Declared(pinned=declared.pinned, unpinned=declared.unpinned, errors=(*declared.errors, *errors))


def from_lock(text: str, name: str) -> Declared:
    """Every locked package (name, version) of a uv/poetry/pdm/pylock TOML lock or a Pipfile.lock."""
    pinned: list[tuple[str, str]] = []
    try:
        if name == "Pipfile.lock":
            data = json.loads(text)
            for section in ("default", "develop"):
                for pkg, info in (data.get(section) or {}).items():
                    version = str((info or {}).get("version", ""))
                    if version.startswith("=="):
                        pinned.append((pkg, version[2:]))
            return Declared(pinned=tuple(pinned))
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, AttributeError, RecursionError) as e:
        return Declared(errors=(f"lock file could not be read: {type(e).__name__}: {e}",))
    for pkg in data.get("package") or data.get("packages") or []:
        if isinstance(pkg, dict) and isinstance(pkg.get("name"), str) and isinstance(pkg.get("version"), str):
            source = pkg.get("source")
            # The project itself (uv: source = {editable = "."} / {virtual = "."}) is not a dependency.
            if isinstance(source, dict) and ("editable" in source or "virtual" in source):
                continue
            pinned.append((pkg["name"], pkg["version"]))
    return Declared(pinned=tuple(dict.fromkeys(pinned)))


# ------------------------------------------------------------------ requirements files

_INCLUDE = re.compile(r"^(?P<opt>--requirement|--constraint|-r|-c)(?:\s*=\s*|\s+|(?<=^-r)|(?<=^-c))(?P<ref>\S.*?)\s*$")


def _follow(base: str, ref: str, opener: Opener | None, what: str, seen: set[str], *, constraint: bool) -> Declared:
    """The requirements of the file ``ref`` (relative to ``base``'s folder), through ``opener``
    only: a file outside the tree (``-r ../../../../etc/passwd``) is never read, and is listed.
    Each file is read once per manifest (``seen``), so include cycles and diamonds end."""
    if opener is None:
        return Declared(errors=(f"{what} {_cut(ref)!r} not followed: NOT audited",))
    got = opener(posixpath.join(posixpath.dirname(base), ref))
    if got is None:
        return Declared(errors=(f"{what} {_cut(ref)!r} is not a file inside the checkout: not read, NOT audited",))
    tree_path, text = got
    if tree_path in seen:
        return Declared()
    seen.add(tree_path)
    d = from_requirements(text, path=tree_path, opener=opener, seen=seen, constraints_only=constraint)
    where = {pin: tree_path for pin in d.pinned} | dict(d.pinned_in)  # a nested include knows better
    return replace(d, pinned_in=tuple(where.items()))


class _Requirements:
    """The lines of one requirements file, its includes followed (inside the tree)."""

    def __init__(self, path: str, opener: Opener | None, seen: set[str]) -> None:
        self.path, self.opener, self.seen = path, opener, seen
        self.items: list[str] = []
        self.errors: list[str] = []
        self.included: list[Declared] = []
        self.constraints: dict[str, tuple[str, str]] = {}
        """name -> (version, the constraints file that pins it)."""

    def line(self, stripped: str) -> None:
        if not stripped.startswith("-"):
            # "name==1 --hash=...": the requirement before the hashes (and markers there)
            head = stripped.split(" --hash", 1)[0].split(";", 1)[0].strip()
            self.items.append(head if " --hash" in stripped else stripped)
            return
        m = _INCLUDE.match(stripped)
        if m is not None:
            self.include(m.group("opt"), m.group("ref"))
        elif stripped.startswith(("-e", "--editable")):
            self.errors.append(f"{stripped.split(maxsplit=1)[0]} line not audited: {_cut(stripped)}")
        # Other options (indexes, find-links, hashes) name no dependency; pip-audit gets none of them.

    def include(self, opt: str, ref: str) -> None:
        constraint = opt in ("-c", "--constraint")
        d = _follow(self.path, ref, self.opener, opt, self.seen, constraint=constraint)
        if constraint:
            # A constraint declares nothing: its pins only fix the version of what is declared.
            where = dict(d.pinned_in)
            self.constraints.update((canonicalize_name(n), (v, where.get((n, v), ""))) for n, v in d.pinned)
            self.errors.extend(d.errors)
        else:
            self.included.append(d)

    def declared(self) -> Declared:
        d = merge([from_requirement_strings(self.items), *self.included])
        errors = (*d.errors, *self.errors)
        if not self.constraints:
            return replace(d, errors=errors)
        pinned, unpinned, where = list(d.pinned), [], dict(d.pinned_in)
        for text in d.unpinned:
            name = requirement_name(text)
            if name in self.constraints and "@" not in text:
                version, origin = self.constraints[name]
                pinned.append((name, version))
                where.setdefault((name, version), origin)
            else:
                unpinned.append(text)
        return Declared(
            pinned=tuple(dict.fromkeys(pinned)),
            unpinned=tuple(unpinned),
            errors=errors,
            pinned_in=tuple(where.items()),
        )


def from_requirements(
    text: str,
    *,
    path: str = "requirements.txt",
    opener: Opener | None = None,
    seen: set[str] | None = None,
    constraints_only: bool = False,
) -> Declared:
    """The requirement lines of a requirements file; ``-r`` / ``-c`` files are read through
    ``opener`` (without one they are listed as not followed); editables are not audited."""
    reader = _Requirements(path, opener, seen if seen is not None else {path})
    joined = text.replace("\\\r\n", " ").replace("\\\n", " ")
    for line in joined.splitlines():
        stripped = line.split(" #", 1)[0].strip()
        if stripped and not stripped.startswith("#"):
            reader.line(stripped)
    if constraints_only:
        own = from_requirement_strings(reader.items).pinned
        return Declared(pinned=own, errors=tuple(reader.errors), pinned_in=tuple((pin, path) for pin in own))
    return reader.declared()


def read(path: str, text: str, *, opener: Opener | None = None, name: str | None = None) -> Declared:
    """Dispatch on the manifest's file name (``name``: a link's own path, when ``path`` is the
    tree path it resolves to); files it names are read through ``opener``."""
    name = (name or path).rsplit("/", 1)[-1]
    if name == "pyproject.toml":
        return from_pyproject(text, path=path, opener=opener)
    if name == "Pipfile":
        return from_pipfile(text)
    if name == "setup.cfg":
        return from_setup_cfg(text)
    if name == "setup.py":
        return from_setup_py(text)
    if name.endswith(".lock") or (name.startswith("pylock") and name.endswith(".toml")):
        return from_lock(text, name)
    return from_requirements(text, path=path, opener=opener)


_SAFE_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")
_SAFE_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.!+_-]*")


def is_safe_pin(name: str, version: str) -> bool:
    """A (name, version) that is one ``name==version`` line and nothing else. Lock files and
    Poetry/Pipfile tables take names and versions from TOML/JSON strings the author wrote
    (``name = "x==1\\n-r /etc/passwd"``): such a pin would inject lines into pip-audit's input."""
    return bool(_SAFE_NAME.fullmatch(name) and _SAFE_VERSION.fullmatch(version))


def requirements_text(pinned: Iterable[tuple[str, str]]) -> str:
    """A requirements file pip-audit audits as written (``--no-deps --disable-pip``): one line per
    pin, no markers (a marker false on the runner would make pip-audit drop the pin), no options.
    ValueError for a pin that is not :func:`is_safe_pin` (callers list those as not audited)."""
    pins = list(pinned)
    bad = [f"{n}=={v}" for n, v in pins if not is_safe_pin(n, v)]
    if bad:
        raise ValueError(f"not a package pin: {_cut(bad[0])!r}")
    return "".join(f"{name}=={version}\n" for name, version in pins)


def names(pinned: Iterable[tuple[str, str]]) -> frozenset[str]:
    return frozenset(canonicalize_name(n) for n, _v in pinned)


_LEADING_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def requirement_name(text: str) -> str | None:
    """The package a requirement names; for a Poetry or Pipfile entry (``jinja2 (poetry: ^2.10)``)
    the leading name, so a lock that pins it covers it."""
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        m = _LEADING_NAME.match(text)
        return canonicalize_name(m.group(0)) if m else None


# ------------------------------------------------------------------ finding them in the tree


@dataclass(frozen=True, kw_only=True)
class Found:
    """One manifest to read."""

    path: str
    """The tree path read (a link inside the tree: the file it resolves to, read once)."""
    name: str
    """The path whose file name says the format (a link's own path; else ``path``)."""


@dataclass(frozen=True, kw_only=True)
class Discovery:
    found: tuple[Found, ...] = ()
    refused: tuple[str, ...] = ()
    """``path: why`` for manifests that are links secscan does not follow: never read, NOT audited."""


def find(listing: Listing, wanted: Callable[[str], bool], excluded: Callable[[str], bool] | None = None) -> Discovery:
    """The manifests (``wanted`` by path) of one walk of :mod:`secscan.files`: regular files,
    links inside the tree at their resolved path (once; a file found as itself wins), and links
    that leave the tree or dangle, refused. A link into a folder the scan excludes is refused too
    (``requirements.txt -> .git/config`` would read the runner's remote URL, token included).
    The reason says what the link is, never what its target holds."""
    found: dict[str, Found] = {f: Found(path=f, name=f) for f in listing.files if wanted(f)}
    refused: list[str] = []
    for link, inner in listing.links:
        if not wanted(link):
            continue
        if excluded is not None and excluded(inner):
            refused.append(f"{link}: a symbolic link into a folder the scan excludes: not read, NOT audited")
            continue
        found.setdefault(inner, Found(path=inner, name=link))
    refused += [
        f"{e.path}: a symbolic link that is not followed ({e.reason}): not read, NOT audited"
        for e in listing.escaping
        if wanted(e.path)
    ]
    return Discovery(found=tuple(found[k] for k in sorted(found)), refused=tuple(sorted(refused)))
