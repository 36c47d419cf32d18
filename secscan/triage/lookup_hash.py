"""MD5 / SHA-1 used as a lookup key, not as a security control (issue 30).

bandit's B324 (and the older B303) reports every ``hashlib.md5`` / ``hashlib.sha1`` call that is
not marked ``usedforsecurity=False``; secscan's own semgrep rule already reports only the security
uses. A digest that only names something (a dict or cache key, a file name, an ETag) is not a
security control: such a finding is lowered to ``low`` (so the default policy does not block it),
tagged :data:`TAG` and given the fix that states it in the code. It stays in every output: a
judgement, shown, never a silent drop.

The code judged is the merge request's: it is written to pass this judgement, so anything it
cannot see through keeps bandit's rating (the gate fails closed). Judged from the code:

* the finding's own call: the weak-hash call at bandit's column (or, without a column, every
  weak-hash finding of the line matched by a call this module recognises - an aliased
  ``md5`` next to a lookup keeps both);
* the hashed data must not name a secret: no name, attribute, keyword or string constant that
  reads like a password, token, secret, key material, PIN, card or session, followed through
  every binding of each name in the module (aliases of aliases, tuple unpacking, ``:=``, loops,
  comprehensions, ``with``, defaults, ``import ... as``), the return values of the module's own
  functions it calls, and what the callers of the enclosing function pass it (in every Python
  file of the tree that names it); dynamic access (``getattr``, ``vars``, ``eval``...) is
  never judged;
* the enclosing function and the name the digest is assigned to must not say a security job
  (``verify``, ``signature``, ``checksum``, ``token``...);
* the digest (``.hexdigest()`` / ``.digest()`` of the call) must flow only into lookups: a
  subscript (``cache[key]``), a dict key, ``in`` / ``.get`` / ``.setdefault`` / ``.pop``, a file
  name (``os.path.join``, ``Path``, ``/`` on a path, an f-string or ``+`` building a name), an
  ETag header, or be returned by an undecorated (or cache-decorated) function whose name says it
  makes a key, name or ETag and whose every caller uses the result as a lookup too. Every use of
  the local name holding it counts (before its line too: loops); a module-level or ``global``
  name is not judged. A comparison (``==``, ``compare_digest``: an integrity check) or any
  other use keeps it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator, Sequence
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
    r"(?i)(passw|passwd|pwd|(?:^|_)pw(?:_|$)|passphrase|secret|token|credential|private|api_?key|"
    r"pin(?:_?code)?$|^pin|otp|card|pan$|cvv|session|cookie|auth(?!or)|salt|nonce|csrf|signing|"
    r"sign(?:ature)?$)"
)
_SECURITY_JOB = re.compile(
    r"(?i)(password|passwd|pwd|secret|token|reset|sig(?:n|_|$)|verif|integrity|checksum|auth(?!or)|hmac|otp|"
    r"card|nonce|csrf|session|credential|tamper)"
)
_KEY_NAME = re.compile(r"(?i)(key|cache|etag|name|file|path|slug|bucket|shard|lookup|ident|(?:^|_)id(?:_|$))")
_LOOKUP_CALLS = frozenset({"get", "setdefault", "pop", "join", "Path", "PurePath", "PurePosixPath", "open"})
_DYNAMIC = frozenset(
    {"getattr", "attrgetter", "itemgetter", "vars", "globals", "locals", "eval", "exec", "__getattribute__"}
)
"""Data read by a name the code does not spell: never judged."""
_PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod", "cache", "lru_cache", "cached_property", "property"})
"""Decorators that do not change what the caller gets; any other may compare the result."""
_BUDGET = 5000
"""Expressions followed for one judgement: past it, the judgement is unsure (bandit's stands)."""
_DEPTH = 3
"""Callers of callers followed for a digest returned by a key-making function."""

_Func = ast.FunctionDef | ast.AsyncFunctionDef


def judge(findings: Sequence[Finding], tree: SourceTree) -> list[Finding]:
    """Lower bandit's weak-hash findings whose digest is only a lookup key (see the module)."""
    modules = _Modules(tree)
    on_line: dict[tuple[str, int], int] = {}
    for f in findings:
        if _candidate(f):
            key = (f.location.path or "", f.location.start_line or 0)
            on_line[key] = on_line.get(key, 0) + 1

    def lookup(f: Finding) -> bool:
        if not _candidate(f):
            return False
        path, line = f.location.path or "", f.location.start_line or 0
        index = modules.get(path)
        if index is None:
            return False
        calls = _weak_calls(index.module, line)
        col = f.location.start_column
        if col is not None:
            calls = [c for c in calls if c.col_offset == col - 1]
            if len(calls) != 1:
                return False
        elif not calls or len(calls) != on_line[path, line]:
            return False
        return all(_Judgement(modules, index).call_is_lookup(call) for call in calls)

    return [
        replace(f, severity=Severity.LOW, tags=tuple(sorted({*f.tags, TAG})), fix=f.fix or FIX) if lookup(f) else f
        for f in findings
    ]


def _candidate(f: Finding) -> bool:
    return f.scanner == "bandit" and f.rule_id in RULES and bool(f.location.path) and bool(f.location.start_line)


class _Index:
    """One parsed module: parents, every binding of every name, the functions by name."""

    def __init__(self, path: str, module: ast.Module) -> None:
        self.path = path
        self.module = module
        self.parents = {child: node for node in ast.walk(module) for child in ast.iter_child_nodes(node)}
        self.bindings: dict[str, list[ast.AST]] = {}
        self.functions: dict[str, list[_Func]] = {}
        for node in ast.walk(module):
            for name, value in _binds(node):
                self.bindings.setdefault(name, []).append(value)
            if isinstance(node, _Func):
                self.functions.setdefault(node.name, []).append(node)


class _Modules:
    """The tree's Python modules, parsed once, and which of them name a function."""

    def __init__(self, tree: SourceTree) -> None:
        self.tree = tree
        self._parsed: dict[str, _Index | None] = {}

    def get(self, path: str) -> _Index | None:
        if path not in self._parsed:
            module = _parse(self.tree.text(path))
            self._parsed[path] = _Index(path, module) if module is not None else None
        return self._parsed[path]

    def naming(self, name: str, first: _Index) -> Iterator[_Index]:
        """The module judged, then every other Python module of the tree whose text names ``name``."""
        yield first
        root = self.tree.root
        if root is None:
            return
        word = re.compile(rf"\b{re.escape(name)}\b")
        for path in self.tree.selection.listing(root).files:
            if path == first.path or not path.endswith((".py", ".pyi", ".pyw")):
                continue
            text = self.tree.text(path)
            if text is not None and word.search(text):
                index = self.get(path)
                if index is not None:
                    yield index


def _parse(text: str | None) -> ast.Module | None:
    if text is None:
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _store_names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]


def _binds(node: ast.AST) -> Iterable[tuple[str, ast.AST]]:
    """(name, what it is bound from) for every way a statement or expression binds a name."""
    if isinstance(node, ast.Assign):
        return [(name, node.value) for t in node.targets for name in _store_names(t)]
    if isinstance(node, ast.AnnAssign | ast.AugAssign | ast.NamedExpr) and node.value is not None:
        return [(name, node.value) for name in _store_names(node.target)]
    if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
        return [(name, node.iter) for name in _store_names(node.target)]
    if isinstance(node, ast.withitem) and node.optional_vars is not None:
        return [(name, node.context_expr) for name in _store_names(node.optional_vars)]
    if isinstance(node, ast.ImportFrom | ast.Import):
        return [(a.asname, ast.Name(id=a.name)) for a in node.names if a.asname]
    if isinstance(node, ast.arguments):
        positional = [*node.posonlyargs, *node.args]
        pairs = list(zip(positional[len(positional) - len(node.defaults) :], node.defaults, strict=True))
        pairs += [(a, d) for a, d in zip(node.kwonlyargs, node.kw_defaults, strict=True) if d is not None]
        return [(a.arg, d) for a, d in pairs]
    return []


def _weak_calls(module: ast.Module, line: int) -> list[ast.Call]:
    """The ``hashlib.md5(...)`` / ``hashlib.new("sha1", ...)`` calls that start on ``line``."""
    calls = []
    for node in ast.walk(module):
        if not isinstance(node, ast.Call) or node.lineno != line:
            continue
        name = _func_name(node)
        algorithm = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "name"), None)
        if name.lower() in _WEAK or (name == "new" and algorithm is not None and _algorithm(algorithm) in _WEAK):
            calls.append(node)
    return calls


def _func_name(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _algorithm(arg: ast.AST) -> str:
    return str(arg.value).lower().replace("-", "") if isinstance(arg, ast.Constant) else ""


def _scope(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> ast.AST:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return node
    return node


def _params(scope: ast.AST) -> set[str]:
    if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        return set()
    a = scope.args
    every = [*a.posonlyargs, *a.args, *a.kwonlyargs, *(x for x in (a.vararg, a.kwarg) if x is not None)]
    return {x.arg for x in every}


class _Unsure(Exception):
    """The code does something the judgement does not follow: bandit's rating stands."""


class _Judgement:
    """One finding's judgement (its own budget of expressions followed)."""

    def __init__(self, modules: _Modules, index: _Index) -> None:
        self.modules = modules
        self.index = index
        self.budget = _BUDGET

    def call_is_lookup(self, call: ast.Call) -> bool:
        try:
            return self._call_is_lookup(call)
        except _Unsure:
            return False

    def _spend(self) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise _Unsure

    def _call_is_lookup(self, call: ast.Call) -> bool:
        index = self.index
        scope = _scope(call, index.parents)
        name = getattr(scope, "name", "")
        if name and _SECURITY_JOB.search(name):
            return False
        hashed: list[ast.AST] = [*call.args, *(k.value for k in call.keywords if k.arg != "usedforsecurity")]
        digest, hasher = _digest_of(call, index.parents)
        if hasher is not None:
            hashed += _updates(scope, hasher)
        if self._reads_secret(hashed, index, scope):
            return False
        if digest is None:
            return False  # the hash object itself goes somewhere: not judged
        return self._flows_to_lookups(digest, scope, index, _DEPTH)

    # -- the hashed data ----------------------------------------------------------------------

    def _reads_secret(self, hashed: list[ast.AST], index: _Index, scope: ast.AST) -> bool:
        """Whether the data reads a secret, followed through the module's bindings and functions,
        and through the callers of ``scope`` when it reads one of its parameters."""
        queue = list(hashed)
        seen: set[int] = set()
        params = _params(scope)
        read_params: set[str] = set()
        while queue:
            expr = queue.pop()
            if id(expr) in seen:
                continue
            seen.add(id(expr))
            self._spend()
            for n in ast.walk(expr):
                word, follow = self._read(n, index)
                if word is not None and _SECRET.search(word):
                    return True
                queue += follow
                if isinstance(n, ast.Name) and n.id in params:
                    read_params.add(n.id)
        return bool(read_params) and self._callers_pass_secret(scope, index)

    def _read(self, n: ast.AST, index: _Index) -> tuple[str | None, list[ast.AST]]:
        """The word a node reads and the expressions it reads from."""
        if isinstance(n, ast.Name):
            return n.id, list(index.bindings.get(n.id, ()))
        if isinstance(n, ast.Attribute):
            if n.attr in _DYNAMIC or n.attr == "__dict__":
                raise _Unsure
            return n.attr, []
        if isinstance(n, ast.keyword):
            return n.arg, []
        if isinstance(n, ast.Constant) and isinstance(n.value, str | bytes):
            return n.value if isinstance(n.value, str) else n.value.decode("latin-1"), []
        if isinstance(n, ast.Call):
            name = _func_name(n)
            if name in _DYNAMIC:
                raise _Unsure
            # The module's own helper: what it returns is what is hashed.
            return None, [v for f in index.functions.get(name, ()) for v in _returned(f)]
        return None, []

    def _callers_pass_secret(self, scope: ast.AST, index: _Index) -> bool:
        name = getattr(scope, "name", "")
        if not name:
            return True  # a lambda's callers cannot be found
        for caller_index, call in self._calls_of(name, index):
            caller_scope = _scope(call, caller_index.parents)
            args: list[ast.AST] = [*call.args, *(k.value for k in call.keywords)]
            if args and self._reads_secret(args, caller_index, caller_scope):
                return True
        return False

    def _calls_of(self, name: str, index: _Index) -> Iterator[tuple[_Index, ast.Call]]:
        """Every call of the function ``name``; the function handed on as a value (``map(name,
        passwords)``, a callback) has callers that cannot be seen: unsure."""
        for module in self.modules.naming(name, index):
            for n in ast.walk(module.module):
                self._spend()
                if isinstance(n, ast.Call) and _func_name(n) == name:
                    yield module, n
                elif _refers_to(n, name) and not _called(n, module) and name not in module.bindings:
                    raise _Unsure

    # -- where the digest goes ----------------------------------------------------------------

    def _flows_to_lookups(self, digest: ast.AST, scope: ast.AST, index: _Index, depth: int) -> bool:
        """Whether the digest's value is used only as a key, a name or an ETag."""
        parents = index.parents
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
                if isinstance(scope, ast.Module) or _declared_shared(scope, target):
                    return False  # other functions read it: its uses cannot all be seen here
                uses = _uses(scope, target)
                return bool(uses) and all(self._lookup_use(u, scope, index, depth) for u in uses)
            # Stored as an ETag header (headers["ETag"] = digest); stored as any other value: kept.
            return all(_etag_target(t) for t in targets)
        return self._lookup_use(node, scope, index, depth)

    def _lookup_use(self, node: ast.AST, scope: ast.AST, index: _Index, depth: int) -> bool:
        """One use of the digest (or of the name holding it) is a lookup."""
        up = index.parents.get(node)
        while isinstance(up, ast.FormattedValue | ast.JoinedStr) or (
            isinstance(up, ast.BinOp) and isinstance(up.op, ast.Add | ast.Div | ast.Mod)
        ):
            node, up = up, index.parents.get(up)
        if up is None:
            return False
        if isinstance(up, ast.Return):
            return self._as_result(scope, index, depth)
        return any(check(node, up) for check in (_as_key, _as_argument, _as_etag))

    def _as_result(self, scope: ast.AST, index: _Index, depth: int) -> bool:
        """Returned by a function whose name says it makes a key, a name or an ETag, and every
        caller of it uses what it returns as a lookup too."""
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
        name = scope.name
        if not _KEY_NAME.search(name) or _SECURITY_JOB.search(name) or depth <= 0:
            return False
        if any(_decorator_name(d) not in _PLAIN_DECORATORS for d in scope.decorator_list):
            return False  # a decorator may compare what the function returns
        for caller_index, call in self._calls_of(name, index):
            caller_scope = _scope(call, caller_index.parents)
            if not self._flows_to_lookups(call, caller_scope, caller_index, depth - 1):
                return False
        return True


def _refers_to(n: ast.AST, name: str) -> bool:
    if isinstance(n, ast.Name):
        return n.id == name and isinstance(n.ctx, ast.Load)
    return isinstance(n, ast.Attribute) and n.attr == name and isinstance(n.ctx, ast.Load)


def _called(n: ast.AST, module: _Index) -> bool:
    up = module.parents.get(n)
    return isinstance(up, ast.Call) and up.func is n


def _returned(func: _Func) -> list[ast.AST]:
    return [
        n.value for n in ast.walk(func) if isinstance(n, ast.Return | ast.Yield | ast.YieldFrom) and n.value is not None
    ]


def _decorator_name(d: ast.AST) -> str:
    if isinstance(d, ast.Call):
        d = d.func
    return d.attr if isinstance(d, ast.Attribute) else d.id if isinstance(d, ast.Name) else ""


def _declared_shared(scope: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Global | ast.Nonlocal) and name in n.names for n in ast.walk(scope))


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


def _uses(scope: ast.AST, name: str) -> list[ast.AST]:
    """Every read of the name in the scope, before its assignment's line too (a loop reads it later)."""
    return [n for n in ast.walk(scope) if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]


def _etag_target(target: ast.AST) -> bool:
    if isinstance(target, ast.Subscript):
        key = target.slice
        return isinstance(key, ast.Constant) and str(key.value).lower() == "etag"
    if isinstance(target, ast.Attribute):
        return target.attr.lower() in ("etag", "set_etag")
    return False


def _as_key(node: ast.AST, up: ast.AST) -> bool:
    """cache[key], {key: value}, key in cache."""
    if isinstance(up, ast.Subscript):
        return up.slice is node
    if isinstance(up, ast.Dict):
        return any(k is node for k in up.keys)
    if isinstance(up, ast.Compare):
        return up.left is node and all(isinstance(op, ast.In | ast.NotIn) for op in up.ops)
    return False


def _as_argument(node: ast.AST, up: ast.AST) -> bool:
    """cache.get(key), os.path.join(folder, name), Path(name), set_etag(digest), etag=digest."""
    if isinstance(up, ast.Call) and node in up.args:
        name = _func_name(up)
        return name in _LOOKUP_CALLS or name.lower() in ("set_etag", "etag")
    if isinstance(up, ast.keyword):
        return up.arg is not None and up.arg.lower() in ("etag", "key", "name", "filename")
    return False


def _as_etag(_node: ast.AST, up: ast.AST) -> bool:
    return isinstance(up, ast.Assign) and any(_etag_target(t) for t in up.targets)
