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
- requirements files, when pip-audit refuses one (an unpinned line fails the whole file): its
  lines, so the pinned ones are still audited.
"""

from __future__ import annotations

import ast
import configparser
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name


@dataclass(frozen=True, kw_only=True)
class Declared:
    """The dependencies one manifest declares."""

    pinned: tuple[tuple[str, str], ...] = ()
    """(name, version) pinned to exactly one version: auditable as written."""
    unpinned: tuple[str, ...] = ()
    """Requirement texts that allow more than one version (or name no index release)."""
    errors: tuple[str, ...] = ()
    """What could not be read (one line each)."""


def _requirement(text: str) -> tuple[tuple[str, str] | None, str | None, str | None]:
    """(pinned, unpinned, error) for one requirement string."""
    try:
        req = Requirement(text)
    except InvalidRequirement as e:
        return None, None, f"{text!r}: {e}"
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


def from_pyproject(text: str) -> Declared:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        return Declared(errors=(f"not valid TOML: {e}",))
    raw = data.get("project")
    project: dict[str, Any] = raw if isinstance(raw, dict) else {}
    items = _strings(project.get("dependencies"))
    optional = project.get("optional-dependencies")
    if isinstance(optional, dict):
        for extra in optional.values():
            items += _strings(extra)
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        items += _groups(groups)
    return from_requirement_strings(items)


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
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, AttributeError) as e:
        return Declared(errors=(f"lock file could not be read: {e}",))
    for pkg in data.get("package") or data.get("packages") or []:
        if isinstance(pkg, dict) and isinstance(pkg.get("name"), str) and isinstance(pkg.get("version"), str):
            source = pkg.get("source")
            # The project itself (uv: source = {editable = "."} / {virtual = "."}) is not a dependency.
            if isinstance(source, dict) and ("editable" in source or "virtual" in source):
                continue
            pinned.append((pkg["name"], pkg["version"]))
    return Declared(pinned=tuple(dict.fromkeys(pinned)))


def from_requirements(text: str) -> Declared:
    """The requirement lines of a requirements file (options, includes and editables skipped)."""
    items: list[str] = []
    errors: list[str] = []
    joined = text.replace("\\\n", " ")
    for line in joined.splitlines():
        stripped = line.split(" #", 1)[0].strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("-"):
            if stripped.startswith(("-r", "-c", "--requirement", "--constraint", "-e", "--editable")):
                errors.append(f"{stripped.split()[0]} line not followed: {stripped[:80]}")
            continue
        items.append(stripped.split(" --hash", 1)[0].split(";", 1)[0].strip() if " --hash" in stripped else stripped)
    declared = from_requirement_strings(items)
    return Declared(pinned=declared.pinned, unpinned=declared.unpinned, errors=(*declared.errors, *errors))


def read(path: str, text: str) -> Declared:
    """Dispatch on the manifest's file name."""
    name = path.rsplit("/", 1)[-1]
    if name == "pyproject.toml":
        return from_pyproject(text)
    if name == "setup.cfg":
        return from_setup_cfg(text)
    if name == "setup.py":
        return from_setup_py(text)
    if name.endswith(".lock") or (name.startswith("pylock") and name.endswith(".toml")):
        return from_lock(text, name)
    return from_requirements(text)


def requirements_text(pinned: Iterable[tuple[str, str]]) -> str:
    """A requirements file pip-audit audits as written (``--no-deps --disable-pip``)."""
    return "".join(f"{name}=={version}\n" for name, version in pinned)


def names(pinned: Iterable[tuple[str, str]]) -> frozenset[str]:
    return frozenset(canonicalize_name(n) for n, _v in pinned)


def requirement_name(text: str) -> str | None:
    try:
        return canonicalize_name(Requirement(text).name)
    except InvalidRequirement:
        return None
