"""MD5 / SHA-1 used as a lookup key, not as a security control (issue 30).

bandit's B324 (and the older B303) reports every ``hashlib.md5`` / ``hashlib.sha1`` call that is
not marked ``usedforsecurity=False``; secscan's own semgrep rule already reports only the security
uses. A digest that only names something (a dict or cache key, a file name, an ETag) is not a
security control: such a finding is lowered to ``low`` (so the default policy does not block it),
tagged :data:`TAG` and given the fix that states it in the code. It stays in every output: a
judgement, shown, never a silent drop.

Judged from the code around the line, conservatively (anything else keeps the finding as it is):

* the hashed data must not name a secret: no argument, ``update()`` argument, or local name they
  were assigned from, that reads like a password, token, secret, key material, PIN, card or
  session (an attacker cannot hide a password hash behind a cache-key name: the hash of
  ``password`` stays a finding, through one local alias too);
* the enclosing function and the name the digest is assigned to must not say a security job
  (``verify``, ``signature``, ``checksum``, ``token``...);
* the digest (``.hexdigest()`` / ``.digest()`` of the call) must flow only into lookups: a
  subscript (``cache[key]``), a dict key, ``in`` / ``.get`` / ``.setdefault`` / ``.pop``, a file
  name (``os.path.join``, ``Path``, ``/`` on a path, an f-string or ``+`` building a name), an
  ETag header, or be returned by a function whose name says it makes a key, name or ETag. A
  comparison (``==``, ``compare_digest``: an integrity check) or any other use keeps it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from secscan.models import Finding, Severity
from secscan.sourcefiles import SourceTree

TAG = "hash-for-lookup"
FIX = (
    "the digest is only a lookup key here (judged from the code): state it with "
    "usedforsecurity=False, or use hashlib.sha256"
)
RULES = frozenset({"B324", "B303"})
_WEAK = frozenset({"md5", "sha1", "sha"})
_SECRET = re.compile(
    r"(?i)(passw|passwd|pwd|passphrase|secret|token|credential|private|api_?key|pin(?:_?code)?$|^pin|otp|"
    r"card|pan$|cvv|session|cookie|auth(?!or)|salt|nonce|csrf|signing|sign(?:ature)?$)"
)
_SECURITY_JOB = re.compile(
    r"(?i)(password|passwd|pwd|secret|token|reset|sig(?:n|_|$)|verif|integrity|checksum|auth(?!or)|hmac|otp|"
    r"card|nonce|csrf|session|credential|tamper)"
)
_KEY_NAME = re.compile(r"(?i)(key|cache|etag|name|file|path|slug|bucket|shard|lookup|ident|(?:^|_)id(?:_|$))")
_LOOKUP_CALLS = frozenset({"get", "setdefault", "pop", "join", "Path", "PurePath", "PurePosixPath", "open"})


def judge(findings: Sequence[Finding], tree: SourceTree) -> list[Finding]:
    """Lower bandit's weak-hash findings whose digest is only a lookup key (see the module)."""
    modules: dict[str, ast.Module | None] = {}

    def lookup(f: Finding) -> bool:
        path, line = f.location.path, f.location.start_line
        if f.scanner != "bandit" or f.rule_id not in RULES or not path or not line:
            return False
        if path not in modules:
            modules[path] = _parse(tree.text(path))
        module = modules[path]
        return module is not None and _lookup_only(module, line)

    return [
        replace(f, severity=Severity.LOW, tags=tuple(sorted({*f.tags, TAG})), fix=f.fix or FIX) if lookup(f) else f
        for f in findings
    ]


def _parse(text: str | None) -> ast.Module | None:
    if text is None:
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None


def _parents(module: ast.Module) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(module) for child in ast.iter_child_nodes(node)}


def _weak_calls(module: ast.Module, line: int) -> list[ast.Call]:
    """The ``hashlib.md5(...)`` / ``hashlib.new("sha1", ...)`` calls that start on ``line``."""
    calls = []
    for node in ast.walk(module):
        if not isinstance(node, ast.Call) or node.lineno != line:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name.lower() in _WEAK or (name == "new" and node.args and _algorithm(node.args[0]) in _WEAK):
            calls.append(node)
    return calls


def _algorithm(arg: ast.AST) -> str:
    return str(arg.value).lower().replace("-", "") if isinstance(arg, ast.Constant) else ""


def _lookup_only(module: ast.Module, line: int) -> bool:
    calls = _weak_calls(module, line)
    if not calls:
        return False
    parents = _parents(module)
    return all(_call_is_lookup(call, parents) for call in calls)


def _scope(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return node
    return node


def _names(node: ast.AST) -> Iterable[str]:
    """Every name and attribute a piece of code reads (``self.password`` gives ``password``)."""
    for n in ast.walk(node):
        if isinstance(n, ast.Name):
            yield n.id
        elif isinstance(n, ast.Attribute):
            yield n.attr
        elif isinstance(n, ast.keyword) and n.arg:
            yield n.arg


def _call_is_lookup(call: ast.Call, parents: dict[ast.AST, ast.AST]) -> bool:
    scope = _scope(call, parents)
    name = getattr(scope, "name", "")
    if name and _SECURITY_JOB.search(name):
        return False
    hashed: list[ast.AST] = [*call.args, *(k.value for k in call.keywords if k.arg != "usedforsecurity")]
    digest, hasher = _digest_of(call, parents)
    if hasher is not None:
        hashed += _updates(scope, hasher)
    if _reads_secret(hashed, scope):
        return False
    if digest is None:
        return False  # the hash object itself goes somewhere: not judged
    return _flows_to_lookups(digest, scope, parents)


def _digest_of(call: ast.Call, parents: dict[ast.AST, ast.AST]) -> tuple[ast.AST | None, str | None]:
    """The expression holding the digest (``md5(x).hexdigest()``), or the hasher's local name
    when it is assigned first (``h = md5(); h.update(x); key = h.hexdigest()``)."""
    up = parents.get(call)
    if isinstance(up, ast.Attribute) and up.attr in ("hexdigest", "digest"):
        outer = parents.get(up)
        if isinstance(outer, ast.Call) and outer.func is up:
            return outer, None
    if isinstance(up, ast.Assign) and len(up.targets) == 1 and isinstance(up.targets[0], ast.Name):
        return None, up.targets[0].id
    return None, None


def _updates(scope: ast.AST, hasher: str) -> list[ast.AST]:
    out: list[ast.AST] = []
    for n in ast.walk(scope):
        if (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and isinstance(n.func.value, ast.Name)
            and n.func.value.id == hasher
            and n.func.attr == "update"
        ):
            out += n.args
    return out


def _assigned_from(scope: ast.AST, name: str) -> list[ast.AST]:
    """What a local name was assigned from in the scope (one hop: ``x = password``)."""
    out: list[ast.AST] = []
    for n in ast.walk(scope):
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets):
            out.append(n.value)
        elif isinstance(n, ast.AnnAssign | ast.AugAssign) and isinstance(n.target, ast.Name) and n.target.id == name:
            if n.value is not None:
                out.append(n.value)
        elif isinstance(n, ast.For) and name in set(_names(n.target)):
            out.append(n.iter)
    return out


def _reads_secret(hashed: list[ast.AST], scope: ast.AST) -> bool:
    for expr in hashed:
        for name in _names(expr):
            if _SECRET.search(name):
                return True
            if any(_SECRET.search(alias) for value in _assigned_from(scope, name) for alias in _names(value)):
                return True
    return False


def _flows_to_lookups(digest: ast.AST, scope: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Whether the digest's value is used only as a key, a name or an ETag."""
    node = digest
    up = parents.get(node)
    # Built into a name first: f"{digest}.json", "etag-" + digest, digest[:16].
    while isinstance(up, ast.FormattedValue | ast.JoinedStr | ast.BinOp) or (
        isinstance(up, ast.Subscript) and up.value is node
    ):
        if isinstance(up, ast.BinOp) and not isinstance(up.op, ast.Add | ast.Div | ast.Mod):
            return False
        node, up = up, parents.get(up)
    if up is None:
        return False
    if isinstance(up, ast.Assign):
        targets = up.targets
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            target = targets[0].id
            if _SECURITY_JOB.search(target) or not _KEY_NAME.search(target):
                return False
            uses = _uses(scope, target, after=up)
            return bool(uses) and all(_lookup_use(u, scope, parents) for u in uses)
        # Stored as an ETag header (headers["ETag"] = digest); stored as any other value: kept.
        return all(_etag_target(t) for t in targets)
    return _lookup_use(node, scope, parents)


def _uses(scope: ast.AST, name: str, *, after: ast.stmt) -> list[ast.AST]:
    return [
        n
        for n in ast.walk(scope)
        if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) and n.lineno >= after.lineno
    ]


def _etag_target(target: ast.AST) -> bool:
    if isinstance(target, ast.Subscript):
        key = target.slice
        return isinstance(key, ast.Constant) and str(key.value).lower() == "etag"
    if isinstance(target, ast.Attribute):
        return target.attr.lower() in ("etag", "set_etag")
    return False


def _lookup_use(node: ast.AST, scope: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """One use of the digest (or of the name holding it) is a lookup."""
    up = parents.get(node)
    while isinstance(up, ast.FormattedValue | ast.JoinedStr) or (
        isinstance(up, ast.BinOp) and isinstance(up.op, ast.Add | ast.Div | ast.Mod)
    ):
        node, up = up, parents.get(up)
    return up is not None and any(check(node, up, scope) for check in _LOOKUPS)


def _as_key(node: ast.AST, up: ast.AST, _scope: ast.AST) -> bool:
    """cache[key], {key: value}, key in cache."""
    if isinstance(up, ast.Subscript):
        return up.slice is node
    if isinstance(up, ast.Dict):
        return any(k is node for k in up.keys)
    if isinstance(up, ast.Compare):
        return up.left is node and all(isinstance(op, ast.In | ast.NotIn) for op in up.ops)
    return False


def _as_argument(node: ast.AST, up: ast.AST, _scope: ast.AST) -> bool:
    """cache.get(key), os.path.join(folder, name), Path(name), set_etag(digest), etag=digest."""
    if isinstance(up, ast.Call) and node in up.args:
        func = up.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return name in _LOOKUP_CALLS or name.lower() in ("set_etag", "etag")
    if isinstance(up, ast.keyword):
        return up.arg is not None and up.arg.lower() in ("etag", "key", "name", "filename")
    return False


def _as_result(_node: ast.AST, up: ast.AST, scope: ast.AST) -> bool:
    """Returned by a function whose name says it makes a key, a name or an ETag."""
    if not isinstance(up, ast.Return):
        return False
    name = getattr(scope, "name", "")
    return bool(name) and bool(_KEY_NAME.search(name)) and not _SECURITY_JOB.search(name)


def _as_etag(_node: ast.AST, up: ast.AST, _scope: ast.AST) -> bool:
    return isinstance(up, ast.Assign) and any(_etag_target(t) for t in up.targets)


_LOOKUPS = (_as_key, _as_argument, _as_result, _as_etag)
