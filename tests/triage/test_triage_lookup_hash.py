"""MD5 / SHA-1 as a lookup key is recognised; a hash doing a security job is not hidden (issue 30).

One real bandit run over a module whose every weak-hash line says what secscan must make of it
(``# lookup``: lowered to low, tagged, not blocking; ``# kept``: bandit's finding as it is). The
``kept`` lines are the ways a merge request could try to pass a password or token hash off as a
cache key: a cache-key function hashing ``password``, a local alias of ``user.password``, a
token as a dict key, a secret fed through ``update()``, an integrity comparison, a verifying
function. The lines after ``digest_value`` are the ways round a first version of the judgement
(each was lowered): tuple unpacking, ``getattr``, a subscript by name, two aliases, ``:=``, a
module-level alias, a helper returning the password, a key function a caller feeds a password
(in this module, and in another one), a key function whose caller compares its result or that is
handed to ``map`` over passwords, a comparison earlier in a loop, a ``global`` digest, a
decorator comparing the result, ``**kwargs``, a comprehension, and a password hash aliased next
to a lookup on one line (``# mixed``: the lookup's finding is lowered, the other's not).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from secscan.triage import lookup_hash
from tests.conftest import require_tool
from tests.support.cli import Run, secscan

pytestmark = [pytest.mark.integration]

APP = """\
import hashlib
import os
from hashlib import md5 as weak

CACHE = {}
SEEN = {}


def cache_key(url):
    return hashlib.sha1(url.encode()).hexdigest()  # lookup


def load(url):
    key = hashlib.md5(url.encode()).hexdigest()  # lookup
    return CACHE.get(key)


def path_for(folder, url):
    return os.path.join(folder, hashlib.sha1(url.encode()).hexdigest() + ".json")  # lookup


def respond(body):
    headers = {}
    headers["ETag"] = hashlib.md5(body).hexdigest()  # lookup
    return headers


def remember(row):
    SEEN[hashlib.sha1(row).hexdigest()] = row  # lookup


def cache_key_for(password):
    return hashlib.sha1(password.encode()).hexdigest()  # kept


def lookup_user(user):
    pw = user.password
    key = hashlib.md5(pw.encode()).hexdigest()  # kept
    return CACHE.get(key)


def same(a, b):
    return hashlib.md5(a).hexdigest() == b  # kept


def verify_download(data):
    key = hashlib.sha1(data).hexdigest()  # kept
    return CACHE.get(key)


def by_token(token):
    return CACHE[hashlib.sha1(token).hexdigest()]  # kept


def fingerprint_key(data):
    h = hashlib.md5()  # kept
    h.update(data.secret)
    return h.hexdigest()


def digest_value(data):
    CACHE["last"] = hashlib.sha1(data).hexdigest()  # kept


def unpacked(user):
    pw, other = user.password, 1
    key = hashlib.md5(pw.encode()).hexdigest()  # kept
    return CACHE.get(key)


def by_getattr(user):
    key = hashlib.md5(getattr(user, "name").encode()).hexdigest()  # kept
    return CACHE.get(key)


def by_subscript(form):
    key = hashlib.md5(form["password"].encode()).hexdigest()  # kept
    return CACHE.get(key)


def two_aliases(user):
    a = user.password
    b = a
    key = hashlib.md5(b.encode()).hexdigest()  # kept
    return CACHE.get(key)


def walrus(user):
    if b := user.password:
        key = hashlib.md5(b.encode()).hexdigest()  # kept
        return CACHE.get(key)
    return None


def from_module():
    key = hashlib.md5(VALUE.encode()).hexdigest()  # kept
    return CACHE.get(key)


VALUE = os.environ["APP_SECRET"]


def helper(u):
    return u.password


def via_helper(u):
    key = hashlib.md5(helper(u).encode()).hexdigest()  # kept
    return CACHE.get(key)


def row_key(data):
    return hashlib.md5(data).hexdigest()  # kept


def login(user, given):
    return row_key(given) == user.stored


def file_name(data):
    return hashlib.md5(data).hexdigest()  # kept


def shard_for(data):
    return hashlib.md5(data).hexdigest()  # kept


def place(user):
    return CACHE.get(shard_for(user.password))


def bucket_for(data):
    return hashlib.md5(data).hexdigest()  # kept


def buckets(users):
    return list(map(bucket_for, [u.password for u in users]))


def loop_compare(items, expected):
    key = None
    for data in items:
        if key == expected:
            return True
        key = hashlib.md5(data).hexdigest()  # kept
        CACHE.get(key)
    return False


def store_global(data):
    global key_digest
    key_digest = hashlib.md5(data).hexdigest()  # kept
    return CACHE.get(key_digest)


def check(expected):
    return key_digest == expected


def compares(fn):
    return lambda x: fn(x) == "abc"


@compares
def name_for(data):
    return hashlib.md5(data).hexdigest()  # kept


def by_kwargs(**kw):
    return CACHE.get(hashlib.md5(kw["token"]).hexdigest())  # kept


def comprehension(users):
    return [CACHE.get(hashlib.md5(p).hexdigest()) for p in [u.password for u in users]]  # kept


def two_on_a_line(url, user, stored):
    return CACHE.get(hashlib.md5(url).hexdigest()), weak(user.pw).hexdigest() == stored  # mixed


def spread(url):
    key = hashlib.md5(  # lookup
        url
    ).hexdigest()
    return CACHE.get(key)
"""

VIEWS = """\
from app import file_name


def show(request):
    return open(file_name(request.user.password))
"""


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, dict[str, Any]]:
    require_tool("bandit")
    base = tmp_path_factory.mktemp("lookup-hash")
    (base / "app").mkdir()
    (base / "app" / "app.py").write_text(APP, encoding="utf-8")
    (base / "app" / "views.py").write_text(VIEWS, encoding="utf-8")
    run = secscan("scan", base / "app", "--only", "bandit", "-o", base / "out", "--no-progress", clean=True)
    return run, json.loads((base / "out" / "secscan.json").read_text(encoding="utf-8"))


def _expected() -> dict[int, str]:
    marked = enumerate(APP.splitlines(), 1)
    return {n: line.rsplit("# ", 1)[1] for n, line in marked if line.endswith(("# lookup", "# kept", "# mixed"))}


def _severities(want: str) -> list[str]:
    return {"lookup": ["low"], "kept": ["high"], "mixed": ["high", "low"]}[want]


def test_each_weak_hash_is_judged_by_how_its_digest_is_used(scanned: tuple[Run, dict[str, Any]]) -> None:
    _, doc = scanned
    got: dict[int, list[dict[str, Any]]] = {}
    for f in doc["findings"]:
        if f["rule_id"] == "B324" and f["location"]["path"] == "app.py":
            got.setdefault(f["location"]["start_line"], []).append(f)
    assert set(got) == set(_expected())  # bandit reported every one of them
    for line, want in _expected().items():
        assert sorted(f["severity"] for f in got[line]) == _severities(want), (line, got[line])
        for f in got[line]:
            if f["severity"] == "low":
                assert f.get("tags", []) == [lookup_hash.TAG], (line, f)
                assert "usedforsecurity=False" in f["fix"]
                assert f["sources"][0]["severity_original"].lower() == "high"  # bandit's own rating kept
            else:
                assert lookup_hash.TAG not in f.get("tags", []), (line, f)


def test_the_lookups_do_not_block_and_the_security_uses_do(scanned: tuple[Run, dict[str, Any]]) -> None:
    run, doc = scanned
    assert run.code == 1
    blocking = {r["fingerprint"] for r in doc["verdict"]["reasons"] if r.get("fingerprint")}
    lines = {f["location"]["start_line"] for f in doc["findings"] if f["fingerprint"] in blocking}
    assert lines == {n for n, want in _expected().items() if want != "lookup"}
    # Shown, not dropped: the terminal counts them with the findings that do not block.
    lookups = sum(1 for want in _expected().values() if want != "kept")
    assert re.search(rf"{lookups} x low\s+B324", run.stdout), run.stdout[-3000:]
