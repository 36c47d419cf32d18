"""Fingerprint v1: what it must and must not depend on (each rule of the README, one test)."""

from __future__ import annotations

import json
import os
import random
import string
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secscan import fingerprint
from secscan.models import Kind
from secscan.scanners import bandit, semgrep
from secscan.sourcefiles import SourceTree
from tests.triage.triage_helpers import DATA, PROJECT, dast, dep, sast, write_tree

CODE = """import hashlib


def digest(data):
    value = hashlib.md5(data).hexdigest()
    return value
"""


def fp_of(root: Path, code: str, line: int, **kw: object) -> str:
    write_tree(root, {"app/h.py": code})
    [f] = fingerprint.assign([sast(path="app/h.py", line=line, **kw)], tree=SourceTree(root))  # type: ignore[arg-type]
    return f.fingerprint


def test_versioned_prefix(tmp_path: Path) -> None:
    fp = fp_of(tmp_path, CODE, 5)
    assert fp.startswith("v1:") and len(fp) == 3 + 32


def test_independent_of_line_number(tmp_path: Path) -> None:
    shifted = CODE.replace("import hashlib\n", "import hashlib\n" + "\n# filler\n" * 10 + "X = 1\n" * 10)
    assert fp_of(tmp_path / "a", CODE, 5) == fp_of(tmp_path / "b", shifted, 5 + 30)


def test_independent_of_whitespace_and_comments(tmp_path: Path) -> None:
    edited = CODE.replace(
        "    value = hashlib.md5(data).hexdigest()",
        "    value   =   hashlib.md5( data ).hexdigest()   # legacy cache key",
    )
    assert fp_of(tmp_path / "a", CODE, 5) == fp_of(tmp_path / "b", edited, 5)


def test_changes_when_flagged_code_changes(tmp_path: Path) -> None:
    changed = CODE.replace("md5(data)", "md5(data + salt)")
    assert fp_of(tmp_path / "a", CODE, 5) != fp_of(tmp_path / "b", changed, 5)


def test_string_contents_are_code_not_whitespace(tmp_path: Path) -> None:
    # Whitespace inside a string literal is part of the code: "a b" and "ab" differ.
    assert fingerprint.normalize_code('x = "a b"  # c') == 'x="a b"'
    assert fingerprint.normalize_code("x = 'a#b'") == "x='a#b'"
    assert fingerprint.normalize_code("a = b // c // comment", "x.js") == "a=b"


def test_depends_on_enclosing_scope(tmp_path: Path) -> None:
    other_scope = CODE.replace("def digest(data):", "def checksum(data):")
    assert fp_of(tmp_path / "a", CODE, 5) != fp_of(tmp_path / "b", other_scope, 5)
    scopes = fingerprint.ScopeIndex()
    text = "class A:\n    @property\n    def m(self):\n        return 1\n\nX = 2\n"
    assert scopes.scope_at(text, 4) == "A.m"
    assert scopes.scope_at(text, 2) == "A.m"  # the decorator belongs to the method
    assert scopes.scope_at(text, 6) == "<module>"
    assert scopes.scope_at("def broken(:\n", 1) == ""


def test_depends_on_rule_family_and_path(tmp_path: Path) -> None:
    base = fp_of(tmp_path / "a", CODE, 5)
    assert fp_of(tmp_path / "b", CODE, 5, cwe="CWE-78", rule_id="B602") != base
    # A different CWE of the same family is the same problem.
    assert fp_of(tmp_path / "c", CODE, 5, cwe="CWE-328", rule_id="some.semgrep.md5", scanner="semgrep") == base
    write_tree(tmp_path / "d", {"lib/h.py": CODE})
    [moved] = fingerprint.assign([sast(path="lib/h.py", line=5)], tree=SourceTree(tmp_path / "d"))
    assert moved.fingerprint != base


def test_independent_of_working_directory_and_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fps = []
    for name in ("checkout-one", "deep/other/checkout"):
        root = write_tree(tmp_path / name, {"app/h.py": CODE})
        monkeypatch.chdir(root.parent)
        absolute = sast(path=str(root.resolve() / "app" / "h.py"), line=5)
        relative = sast(path="app/h.py", line=5)
        out = fingerprint.assign([absolute, relative], tree=SourceTree(root))
        assert out[0].fingerprint == out[1].fingerprint
        fps.append(out[0].fingerprint)
    assert fps[0] == fps[1]
    assert os.getcwd() != str(tmp_path)


def test_independent_of_run_order_and_occurrence_index(tmp_path: Path) -> None:
    code = "import hashlib\n\n\ndef f(a, b):\n    x = hashlib.md5(a)\n    y = hashlib.md5(a)\n    return x, y\n"
    code = code.replace("y = hashlib.md5(a)", "x = hashlib.md5(a)")  # two identical lines in one scope
    root = write_tree(tmp_path, {"app/h.py": code})
    findings = [sast(path="app/h.py", line=5), sast(path="app/h.py", line=6)]
    forward = fingerprint.assign(findings, tree=SourceTree(root))
    backward = fingerprint.assign(list(reversed(findings)), tree=SourceTree(root))
    assert forward[0].fingerprint != forward[1].fingerprint  # repeats get an occurrence index
    assert {f.location.start_line: f.fingerprint for f in forward} == {
        f.location.start_line: f.fingerprint for f in backward
    }


def test_snippet_is_used_when_the_file_is_absent(tmp_path: Path) -> None:
    tree = SourceTree(tmp_path)
    a = sast(line=5, snippet="hashlib.md5(data)")
    b = sast(line=99, snippet="hashlib.md5( data )  # why")
    c = sast(line=5, snippet="hashlib.sha1(data)")
    out = fingerprint.assign([a], tree=tree) + fingerprint.assign([b], tree=tree) + fingerprint.assign([c], tree=tree)
    assert out[0].fingerprint == out[1].fingerprint != out[2].fingerprint


def test_bandit_and_semgrep_agree_on_the_same_problem() -> None:
    tree = SourceTree(PROJECT)
    b = bandit.parse((DATA / "bandit-1.9.4_generated.json").read_text(), tree=tree)
    s = semgrep.parse((DATA / "semgrep-1.182.0_generated.json").read_text(), tree=tree)
    out = fingerprint.assign([*b, *s], tree=tree)
    by_line: dict[int, set[str]] = {}
    for f in out:
        by_line.setdefault(f.location.start_line or 0, set()).add(f.fingerprint)
    # md5 (16), shell=True (8), pickle.loads (12): one fingerprint each for both scanners.
    assert len(by_line[16]) == len(by_line[8]) == len(by_line[12]) == 1
    assert len({f.fingerprint for f in out}) == len(b)


def test_older_bandit_without_cwe_keeps_the_fingerprint() -> None:
    tree = SourceTree(PROJECT)
    new = json.loads((DATA / "bandit-1.9.4_generated.json").read_text())
    old = json.loads(json.dumps(new))
    for r in old["results"]:  # bandit < 1.7.5: no issue_cwe, no column offsets
        for key in ("issue_cwe", "col_offset", "end_col_offset"):
            r.pop(key, None)
    a = fingerprint.assign(bandit.parse(json.dumps(new), tree=tree), tree=tree)
    b = fingerprint.assign(bandit.parse(json.dumps(old), tree=tree), tree=tree)
    assert [f.fingerprint for f in a] == [f.fingerprint for f in b]


def test_dependency_aliases_are_folded_and_manifest_counts(tmp_path: Path) -> None:
    tree = SourceTree(tmp_path)
    via_pysec = dep(advisory="PYSEC-2023-74", aliases=("CVE-2023-32681", "GHSA-j8r2-6x86-q33q"))
    via_ghsa = dep(advisory="GHSA-j8r2-6x86-q33q", aliases=("CVE-2023-32681",), package="Requests")
    via_cve_only = dep(advisory="CVE-2023-32681", aliases=(), version="2.20.0")
    other_manifest = dep(manifest="requirements/prod.txt")
    other_advisory = dep(advisory="PYSEC-2018-28", aliases=("CVE-2018-18074",))
    fps = [
        f.fingerprint
        for f in fingerprint.assign([via_pysec, via_ghsa, via_cve_only, other_manifest, other_advisory], tree=tree)
    ]
    assert fps[0] == fps[1] == fps[2]
    assert len({fps[0], fps[3], fps[4]}) == 3
    assert fingerprint.canonical_advisory(via_ghsa) == "CVE-2023-32681"


def test_dast_generalizes_ids_and_ignores_host(tmp_path: Path) -> None:
    tree = SourceTree(tmp_path)
    base = dast(url="https://review-12.example.com/api/users/42?tab=1")
    cases = {
        "same": dast(url="http://localhost:8080/api/users/7"),
        "uuid": dast(url="https://x/api/users/3f2b8c1e-9d4a-4c61-8b1e-2f3a4b5c6d7e"),
        "path": dast(url="https://review-12.example.com/api/orders/42"),
        "param": dast(param="content-security-policy"),
        "method": dast(method="POST"),
        "plugin": dast(plugin="10038"),
    }
    fps = {k: f.fingerprint for k, f in zip(cases, fingerprint.assign(list(cases.values()), tree=tree), strict=True)}
    [b] = fingerprint.assign([base], tree=tree)
    assert fps["same"] == b.fingerprint
    assert (
        fingerprint.generalize_url_path("https://x/api/users/3f2b8c1e-9d4a-4c61-8b1e-2f3a4b5c6d7e") == "/api/users/{id}"
    )
    assert all(fps[k] != b.fingerprint for k in ("path", "param", "method", "plugin"))


# ------------------------------------------------------------------ properties

_TOKENS = ["value", "=", "hashlib", ".", "md5", "(", "data", ")", ".", "hexdigest", "(", ")"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shift=st.integers(min_value=0, max_value=60),
    filler=st.sampled_from(["", "# comment", "X = 1", "import os"]),
    edit=st.tuples(
        st.lists(st.sampled_from(["", " ", "  ", "\t"]), min_size=len(_TOKENS), max_size=len(_TOKENS)),
        st.sampled_from(["    ", "        ", "\t"]),
        st.sampled_from(["", "  # nothing to see", "#x"]),
    ),
)
def test_property_invariant_under_line_shifts_and_whitespace(
    tmp_path: Path, shift: int, filler: str, edit: tuple[list[str], str, str]
) -> None:
    gaps, indent, comment = edit
    line = "".join(g + t for g, t in zip(gaps, _TOKENS, strict=True))
    code = "import hashlib\n" + (filler + "\n") * shift + "\n\ndef digest(data):\n" + indent + line + comment + "\n"
    flagged = code.count("\n")  # the last line
    root = tmp_path / "".join(random.choices(string.ascii_lowercase, k=12))
    assert fp_of(root, code, flagged) == fp_of(tmp_path / "reference", CODE, 5)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.permutations(list(range(6))))
def test_property_independent_of_input_order(tmp_path: Path, order: list[int]) -> None:
    code = "def f(a):\n" + "    eval(a)\n" * 3 + "    exec(a)\n" * 3
    root = write_tree(tmp_path, {"m.py": code})
    findings = [sast(path="m.py", line=n + 2, rule_id="B307", cwe="CWE-78") for n in range(6)]
    ref = {f.location.start_line: f.fingerprint for f in fingerprint.assign(findings, tree=SourceTree(root))}
    shuffled = fingerprint.assign([findings[i] for i in order], tree=SourceTree(root))
    assert {f.location.start_line: f.fingerprint for f in shuffled} == ref
    assert len(set(ref.values())) == 6


def test_kind_secret_uses_the_sast_recipe(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"s.py": 'TOKEN = "abc"\n'})
    f = replace(sast(path="s.py", line=1, cwe="CWE-798"), kind=Kind.SECRET)
    moved = replace(f, location=replace(f.location, start_line=3, end_line=3))
    [a] = fingerprint.assign([f], tree=SourceTree(root))
    write_tree(tmp_path, {"s.py": '\n\nTOKEN = "abc"\n'})
    [b] = fingerprint.assign([moved], tree=SourceTree(root))
    assert a.fingerprint == b.fingerprint
