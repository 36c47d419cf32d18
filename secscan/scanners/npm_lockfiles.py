"""npm, yarn and pnpm lockfiles -> the packages they pin (pure: text in, packages out).

Nothing from the scanned project runs: the lockfile (and the ``package.json`` next to it, for
which packages are dev-only) is read as data. npm is never invoked.

Format facts this module is written against (tests/data/npm/README.md has the real files):

- ``package-lock.json`` / ``npm-shrinkwrap.json`` v1: a nested ``dependencies`` tree with
  ``version`` and ``dev``; an alias is ``"version": "npm:@yao-pkg/pkg@6.5.0"``. v2 has both
  ``packages`` and the v1 tree (``packages`` is authoritative); v3 has ``packages`` only. A
  ``packages`` key is the install path (``node_modules/a/node_modules/b``); ``name`` is set for
  aliases; ``link: true`` entries and keys outside ``node_modules`` are workspace code, not
  registry packages.
- ``yarn.lock`` classic (``# yarn lockfile v1``): yarn's own format, read with ``yarnlock``;
  each header lists descriptors (``name@range``). It says nothing about dev dependencies.
- ``yarn.lock`` berry (YAML with ``__metadata``): headers ``"name@npm:^1.0.0, ..."``,
  ``resolution: "name@npm:1.2.3"``; ``@workspace:`` / ``@link:`` / ``@portal:`` / ``@file:``
  resolutions are local code; ``@patch:`` is a patched registry package (audited as such).
- ``pnpm-lock.yaml``: 5.x keys ``/name/1.2.3_peerhash``, 6.x ``/name@1.2.3(peer@1)``, both with
  ``dev: true|false`` (absent: used by both); 9.x keys ``name@1.2.3`` in ``packages`` with the
  graph in ``snapshots`` and the roots in ``importers`` (dev-only is what only
  ``devDependencies`` reach).

Where the lockfile has no dev flags (yarn, pnpm 9) they are computed from ``package.json``:
what its ``dependencies`` / ``optionalDependencies`` reach is production, the rest is dev. Without
a readable ``package.json`` the flag is unknown (``None``), never guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from secscan.errors import ParseError

LOCKFILE_NAMES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class LockfileError(ParseError):
    """A lockfile that cannot be read: the audit fails (never a silent pass)."""


@dataclass(frozen=True, kw_only=True)
class LockedPackage:
    """One package version a lockfile installs."""

    name: str
    """The registry name (the real one for an alias), e.g. ``@babel/traverse``."""
    version: str
    """The pinned version as written in the lockfile."""
    dev: bool | None
    """True: only dev dependencies need it; False: production needs it; None: unknown."""


@dataclass(frozen=True, kw_only=True)
class Lockfile:
    """What one lockfile pins."""

    kind: str
    """``npm-v1``, ``npm-v2``, ``npm-v3``, ``yarn-classic``, ``yarn-berry``, ``pnpm-5.4``, ..."""
    packages: tuple[LockedPackage, ...]
    """Registry packages, one per (name, version), sorted."""
    not_audited: tuple[str, ...] = ()
    """Dependencies that are not registry packages (git, tarball URLs): no advisory applies."""


def _merge(found: Iterable[LockedPackage]) -> tuple[LockedPackage, ...]:
    """One entry per (name, version); dev only if every occurrence is dev-only."""
    out: dict[tuple[str, str], bool | None] = {}
    for p in found:
        key = (p.name, p.version)
        if key not in out:
            out[key] = p.dev
        else:
            prev = out[key]
            out[key] = None if prev is None or p.dev is None else prev and p.dev
    return tuple(LockedPackage(name=n, version=v, dev=d) for (n, v), d in sorted(out.items()))


def _split_spec(spec: str) -> tuple[str, str]:
    """``@scope/name@range`` or ``name@range`` -> (name, range); the first ``@`` may be a scope."""
    at = spec.find("@", 1)
    if at < 0:
        return spec, ""
    return spec[:at], spec[at + 1 :]


# ------------------------------------------------------------------ npm


def _npm_alias(version: str) -> tuple[str, str] | None:
    """``npm:@yao-pkg/pkg@6.5.0`` -> (``@yao-pkg/pkg``, ``6.5.0``)."""
    if not version.startswith("npm:"):
        return None
    name, ver = _split_spec(version[4:])
    return (name, ver) if name and ver else None


_NON_REGISTRY = re.compile(r"^(git\+|git:|github:|gitlab:|bitbucket:|https?:|file:|link:|[\w.-]+/[\w.-]+(#|$))")


def _npm_v1(deps: Mapping[str, Any], where: str, found: list[LockedPackage], skipped: list[str]) -> None:
    for name, entry in deps.items():
        here = f"{where}.{name}"
        if not isinstance(entry, dict):
            raise LockfileError(f"{here}: expected an object")
        version = entry.get("version")
        if not isinstance(version, str) or not version:
            raise LockfileError(f"{here}: no version")
        alias = _npm_alias(version)
        if alias is not None:
            found.append(LockedPackage(name=alias[0], version=alias[1], dev=entry.get("dev") is True))
        elif _NON_REGISTRY.match(version):
            skipped.append(f"{name} ({version})")
        else:
            found.append(LockedPackage(name=name, version=version, dev=entry.get("dev") is True))
        nested = entry.get("dependencies")
        if nested is not None:
            if not isinstance(nested, dict):
                raise LockfileError(f"{here}.dependencies: expected an object")
            _npm_v1(nested, f"{here}.dependencies", found, skipped)


def parse_package_lock(text: str) -> Lockfile:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise LockfileError(f"not valid JSON: {e.msg} at line {e.lineno}") from None
    if not isinstance(doc, dict):
        raise LockfileError("expected a JSON object")
    lock_version = doc.get("lockfileVersion")
    found: list[LockedPackage] = []
    skipped: list[str] = []
    packages = doc.get("packages")
    if lock_version in (2, 3) and isinstance(packages, dict):
        for key, entry in packages.items():
            if not isinstance(entry, dict):
                raise LockfileError(f"packages[{key!r}]: expected an object")
            if "node_modules/" not in key or entry.get("link") is True:
                continue  # the root project, a workspace, or a link to one: local code
            name = entry.get("name") or key.rsplit("node_modules/", 1)[1]
            version = entry.get("version")
            if not isinstance(name, str) or not isinstance(version, str) or not version:
                raise LockfileError(f"packages[{key!r}]: no version")
            resolved = entry.get("resolved")
            if isinstance(resolved, str) and _NON_REGISTRY.match(resolved) and "registry" not in resolved:
                skipped.append(f"{name} ({resolved})")
                continue
            found.append(LockedPackage(name=name, version=version, dev=entry.get("dev") is True))
        return Lockfile(kind=f"npm-v{lock_version}", packages=_merge(found), not_audited=tuple(skipped))
    if lock_version in (1, None) and isinstance(doc.get("dependencies", {}), dict):
        _npm_v1(doc.get("dependencies", {}), "dependencies", found, skipped)
        return Lockfile(kind="npm-v1", packages=_merge(found), not_audited=tuple(skipped))
    raise LockfileError(f"unsupported lockfileVersion {lock_version!r} (known: 1, 2, 3)")


# ------------------------------------------------------------------ yarn


def _manifest_roots(manifest: Mapping[str, Any] | None) -> list[tuple[str, str]] | None:
    """(name, range) of what production needs, from package.json; None without one."""
    if manifest is None:
        return None
    roots: list[tuple[str, str]] = []
    for section in ("dependencies", "optionalDependencies", "peerDependencies"):
        deps = manifest.get(section) or {}
        if isinstance(deps, dict):
            roots.extend((str(k), str(v)) for k, v in deps.items())
    return roots


def _reach(start: Iterable[str], edges: Mapping[str, Iterable[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(edges.get(node, ()))
    return seen


def _yarn_classic(text: str, manifest: Mapping[str, Any] | None) -> Lockfile:
    from yarnlock import yarnlock_parse

    try:
        doc = yarnlock_parse(text)
    except Exception as e:  # noqa: BLE001 - the parser's own error types are not documented
        raise LockfileError(f"not a valid yarn.lock: {' '.join(str(e).split())[:200]}") from None
    # One entry per header; a header lists every descriptor it resolves ("a@^1, a@~1.2").
    entries: dict[str, tuple[str, str, Mapping[str, str]]] = {}
    by_descriptor: dict[str, str] = {}
    for header, entry in doc.items():
        descriptors = [d.strip() for d in header.split(",") if d.strip()]
        name, spec = _split_spec(descriptors[0]) if descriptors else ("", "")
        if not spec or not isinstance(entry, dict):
            continue  # yarnlock also keys every entry by its bare name
        version = entry.get("version")
        if not isinstance(version, str) or not version:
            raise LockfileError(f"{header[:80]}: no version")
        alias = _npm_alias(spec)
        real = alias[0] if alias else name
        deps = {**(entry.get("dependencies") or {}), **(entry.get("optionalDependencies") or {})}
        entries[header] = (real, version, deps)
        for d in descriptors:
            by_descriptor[d] = header
    roots = _manifest_roots(manifest)
    prod: set[str] | None = None
    if roots is not None:
        edges = {
            h: [by_descriptor[f"{n}@{r}"] for n, r in deps.items() if f"{n}@{r}" in by_descriptor]
            for h, (_, _, deps) in entries.items()
        }
        prod = _reach((by_descriptor[f"{n}@{r}"] for n, r in roots if f"{n}@{r}" in by_descriptor), edges)
    found = [
        LockedPackage(name=real, version=version, dev=None if prod is None else header not in prod)
        for header, (real, version, _) in entries.items()
    ]
    if not found and text.strip() and "yarn lockfile v1" not in text:
        raise LockfileError("not a yarn.lock (no entries, no '# yarn lockfile v1' header)")
    return Lockfile(kind="yarn-classic", packages=_merge(found))


_LOCAL_PROTOCOLS = ("workspace:", "link:", "portal:", "file:")


def _yarn_berry(doc: Mapping[str, Any], manifest: Mapping[str, Any] | None) -> Lockfile:
    by_descriptor: dict[str, str] = {}
    resolved: dict[str, tuple[str, str, list[str], bool]] = {}
    names: dict[str, list[str]] = {}
    skipped: list[str] = []
    for header, entry in doc.items():
        if header == "__metadata":
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("resolution"), str):
            raise LockfileError(f"{str(header)[:80]}: no resolution")
        resolution: str = entry["resolution"]
        name, ref = _split_spec(resolution)
        version = str(entry.get("version", ""))
        local = ref.startswith(_LOCAL_PROTOCOLS)
        if not local and not ref.startswith(("npm:", "patch:")):
            skipped.append(f"{name} ({ref[:80]})")
        deps = [f"{n}@{r}" for n, r in (entry.get("dependencies") or {}).items()]
        resolved[resolution] = (name, version, deps, local or not ref.startswith(("npm:", "patch:")))
        names.setdefault(name, []).append(resolution)
        for descriptor in str(header).split(","):
            by_descriptor[descriptor.strip()] = resolution
    roots = _manifest_roots(manifest)
    prod: set[str] | None = None
    if roots is not None:

        def targets(descriptor: str) -> list[str]:
            name, rng = _split_spec(descriptor)
            for candidate in (descriptor, f"{name}@npm:{rng}"):
                if candidate in by_descriptor:
                    return [by_descriptor[candidate]]
            # A `resolutions` override: the descriptor is not in the lockfile under its own
            # range. Count every pinned version of the name as reached (errs towards "prod").
            return names.get(name, [])

        edges = {res: [t for d in deps for t in targets(d)] for res, (_, _, deps, _) in resolved.items()}
        prod = _reach((t for n, r in roots for t in targets(f"{n}@{r}")), edges)
    found = [
        LockedPackage(name=name, version=version, dev=None if prod is None else res not in prod)
        for res, (name, version, _, skip) in resolved.items()
        if not skip
    ]
    return Lockfile(kind=f"yarn-berry-v{doc['__metadata'].get('version', '?')}", packages=_merge(found),
                    not_audited=tuple(skipped))  # fmt: skip


def parse_yarn_lock(text: str, manifest: Mapping[str, Any] | None = None) -> Lockfile:
    head = "\n".join(text.splitlines()[:8])
    if "__metadata:" in text[:2000] and "yarn lockfile v1" not in head:
        try:
            doc = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a safe loader
        except yaml.YAMLError as e:
            raise LockfileError(f"not valid YAML: {' '.join(str(e).split())[:200]}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("__metadata"), dict):
            raise LockfileError("a yarn berry lockfile needs a __metadata mapping")
        return _yarn_berry(doc, manifest)
    return _yarn_classic(text, manifest)


# ------------------------------------------------------------------ pnpm

_PNPM5_KEY = re.compile(r"^/?(?P<name>(?:@[^/]+/)?[^/]+)/(?P<version>[^/_]+)(?:_.*)?$")
_PNPM6_KEY = re.compile(r"^/?(?P<name>(?:@[^/@]+/)?[^/@(]+)@(?P<version>[^(@]+)(?:\(.*)?$")


def _pnpm_key(key: str, major: int) -> tuple[str, str] | None:
    m = (_PNPM5_KEY if major < 6 else _PNPM6_KEY).match(key)
    return (m.group("name"), m.group("version")) if m else None


def _strip_peers(version: str) -> str:
    return version.split("(", 1)[0]


def _importer_roots(importers: Mapping[str, Any], sections: tuple[str, ...]) -> Iterator[str]:
    for importer in importers.values():
        if not isinstance(importer, dict):
            continue
        for section in sections:
            for name, spec in (importer.get(section) or {}).items():
                version = spec.get("version") if isinstance(spec, dict) else spec
                if isinstance(version, str) and not version.startswith("link:"):
                    yield _pnpm_ref(str(name), version)


def _pnpm_ref(name: str, version: str) -> str:
    """A snapshot key for a dependency entry: ``name@version``, or the alias target itself."""
    if "@" in version.lstrip("@") and not version[:1].isdigit():
        return version  # `string-width-cjs: string-width@4.2.3`
    return f"{name}@{version}"


def _pnpm_major(doc: object) -> tuple[int, str]:
    """The lockfile's major version and its spelling, or :class:`LockfileError`."""
    if not isinstance(doc, dict) or "lockfileVersion" not in doc:
        raise LockfileError("not a pnpm lockfile (no lockfileVersion)")
    raw = str(doc["lockfileVersion"])
    try:
        major = int(float(raw))
    except ValueError:
        raise LockfileError(f"unsupported lockfileVersion {raw!r}") from None
    if major < 5 or major > 9:
        raise LockfileError(f"unsupported lockfileVersion {raw!r} (known: 5.x, 6.x, 9.x)")
    return major, raw


def _pnpm_production(doc: dict[str, Any]) -> set[str]:
    """pnpm 9: ``name@version`` of every package an importer reaches by production edges."""
    snapshots = doc.get("snapshots") or {}
    importers = doc.get("importers") or {}
    if not isinstance(snapshots, dict) or not isinstance(importers, dict):
        raise LockfileError("snapshots/importers: expected mappings")
    edges = {
        str(k): [
            _pnpm_ref(str(n), str(v))
            for section in ("dependencies", "optionalDependencies")
            for n, v in ((s or {}).get(section) or {}).items()
        ]
        for k, s in snapshots.items()
        if s is None or isinstance(s, dict)
    }
    reached = _reach(_importer_roots(importers, ("dependencies", "optionalDependencies")), edges)
    return {_strip_peers(k) for k in reached}


def _pnpm_entry(key: str, entry: dict[str, Any], major: int) -> tuple[str, str] | str:
    """(name, version) of one ``packages`` entry, or what to list as not audited (a tarball or
    git package without an integrity hash)."""
    parsed = _pnpm_key(key, major)
    if isinstance(entry.get("name"), str) and isinstance(entry.get("version"), str):
        parsed = (entry["name"], entry["version"])  # tarball / git packages say who they are
        resolution = entry.get("resolution") or {}
        if isinstance(resolution, dict) and "integrity" not in resolution:
            return f"{parsed[0]} ({key[:80]})"
    if parsed is None:
        raise LockfileError(f"packages[{key[:80]!r}]: not a name and version")
    return parsed


def parse_pnpm_lock(text: str) -> Lockfile:
    try:
        doc = yaml.load(text, Loader=_YamlLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError as e:
        raise LockfileError(f"not valid YAML: {' '.join(str(e).split())[:200]}") from None
    major, raw = _pnpm_major(doc)
    packages = doc.get("packages") or {}
    if not isinstance(packages, dict):
        raise LockfileError("packages: expected a mapping")
    prod = _pnpm_production(doc) if major >= 9 else None
    found: list[LockedPackage] = []
    skipped: list[str] = []
    for key, raw_entry in packages.items():
        entry = raw_entry or {}
        if not isinstance(entry, dict):
            raise LockfileError(f"packages[{key!r}]: expected a mapping")
        parsed = _pnpm_entry(str(key), entry, major)
        if isinstance(parsed, str):
            skipped.append(parsed)
            continue
        name, version = parsed
        dev = (f"{name}@{version}" not in prod) if prod is not None else entry.get("dev") is True
        found.append(LockedPackage(name=name, version=version, dev=dev))
    return Lockfile(kind=f"pnpm-{raw}", packages=_merge(found), not_audited=tuple(skipped))


# ------------------------------------------------------------------ diff-aware triage


def is_lockfile(path: str) -> bool:
    return path.rsplit("/", 1)[-1] in LOCKFILE_NAMES


def line_pins(line: str, name: str, version: str) -> bool:
    """Does this lockfile line pin ``name`` at ``version``? Every format writes the two together
    on one line whenever the version changes: npm's ``resolved`` URL (``.../express/-/
    express-4.18.0.tgz``), yarn's ``resolved``/``resolution`` (``express@npm:4.18.0``), pnpm's
    package key (``/express/4.18.0``, ``express@4.18.0``). The name's own line (``"node_modules/
    express": {``) does not change on an upgrade, so it cannot be what makes a finding new."""
    if not name or not version or name not in line:
        return False
    # The name stands alone: `express/`, `express@`, `"express"`, `express-4.18.0.tgz`, never
    # the `express` in `express-session`.
    if re.search(rf"(?<![\w.-]){re.escape(name)}(?=[@/:\"'\s]|-\d)", line) is None:
        return False
    # Bounded so that 4.18.0 is not found in 14.18.0 or 4.18.0-beta.1, but is in
    # `express-4.18.0.tgz` (npm's tarball name puts a hyphen before and `.tgz` after it).
    return re.search(rf"(?<![\w.+]){re.escape(version)}(?![\w+-])(?!\.(?!tgz)\w)", line) is not None


# ------------------------------------------------------------------ dispatch


def parse_manifest(text: str) -> Mapping[str, Any]:
    """package.json -> its object (only used for which dependencies are dev-only)."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise LockfileError(f"package.json is not valid JSON: {e.msg} at line {e.lineno}") from None
    if not isinstance(doc, dict):
        raise LockfileError("package.json: expected a JSON object")
    return doc


# ------------------------------------------------------------------ package.json without a lockfile

_EXACT = re.compile(r"^(?:=|v)?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
_MANIFEST_SECTIONS = (
    ("dependencies", False),
    ("optionalDependencies", False),
    ("devDependencies", True),
)


def parse_manifest_pins(filename: str, text: str) -> Lockfile:
    """A package.json with no lockfile beside it (issue 28): exact pins (``4.17.1``, ``=4.17.1``,
    ``npm:other@4.17.1``) are audited like locked versions; a range (``^4.17.1``, ``*``,
    ``latest``), a git, URL or file dependency cannot be matched to one version, so it is listed
    as not audited (fail closed), never skipped. Raises LockfileError for a file that is not a
    JSON object."""
    doc = parse_manifest(text)
    found: list[LockedPackage] = []
    skipped: list[str] = []
    for section, dev in _MANIFEST_SECTIONS:
        deps = doc.get(section)
        if deps is None:
            continue
        if not isinstance(deps, dict):
            skipped.append(f"{section}: not an object: NOT audited")
            continue
        for key, spec in deps.items():
            name, raw = str(key), str(spec).strip()
            alias = _npm_alias(raw)
            real, version = alias if alias else (name, raw)
            m = _EXACT.match(version)
            if m:
                found.append(LockedPackage(name=real, version=m.group(1), dev=dev))
            else:
                skipped.append(
                    f"{name}@{raw[:80]} ({section}): a range, not one version, and no lockfile pins it: NOT audited"
                )
    return Lockfile(kind="package.json", packages=_merge(found), not_audited=tuple(skipped))


def parse_lockfile(filename: str, text: str, manifest: Mapping[str, Any] | None = None) -> Lockfile:
    """Dispatch on the file's name (``package-lock.json``, ``yarn.lock``, ...)."""
    base = filename.rsplit("/", 1)[-1]
    if base in ("package-lock.json", "npm-shrinkwrap.json"):
        return parse_package_lock(text)
    if base == "yarn.lock":
        return parse_yarn_lock(text, manifest)
    if base == "pnpm-lock.yaml":
        return parse_pnpm_lock(text)
    raise LockfileError(f"{base}: not a known lockfile name ({', '.join(LOCKFILE_NAMES)})")
