"""[trust-2] class 6 (and class 1's link finding): what no scanner reads, checked by secscan itself.

Each merge request below is a real git repository (trusted base, attacker's head) scanned as the
pipeline job scans it, credentials in the environment; next to it a control that differs only by
the hostile change. Unit tests give every check a safe twin (what must not be reported).

Bidirectional and confusable characters are written as escapes here, so this file is not itself
a Trojan Source file.
"""

from __future__ import annotations

import json
import py_compile
import time
from pathlib import Path
from typing import Any

import pytest

from secscan import files as files_mod
from secscan.models import Severity
from secscan.scanners import registry, tree
from tests.support.mergerequest import Content, Link, make_mr, scan_mr

RLO, LRI, PDI, RLM = "\u202e", "\u2066", "\u2069", "\u200f"
FULLWIDTH_EXECUTE = "".join(chr(0xFEE0 + ord(c)) for c in "execute")  # ｅｘｅｃｕｔｅ
CYRILLIC_A = "\u0430"


def rules(hits: list[tree.Hit]) -> list[tuple[str, str, int, Severity]]:
    return [(h.rule.id, h.path, h.line, h.severity) for h in hits]


# ----------------------------------------------------------------------------- registry


def test_tree_is_a_builtin_scanner_on_by_default() -> None:
    cls = registry.get_class("tree")
    assert cls is tree.TreeScanner
    assert not cls.importable and not cls.needs_deployment and cls.scans_files
    assert "tree" in registry.names()


# ----------------------------------------------------------------------------- rule 1: links


def test_links_leaving_the_checkout_are_named_with_their_target_never_read(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("outside-content-1234\n")
    (root / "ok.py").write_text("x = 1\n")
    (root / "inside.py").symlink_to("ok.py")  # inside the tree: resolved, not reported
    (root / "out.py").symlink_to("../secret.txt")
    (root / "env.txt").symlink_to("/proc/self/environ")
    (root / "gone.py").symlink_to("missing.py")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[remote]\nurl = https://gitlab-ci-token:x@host/r.git\n")
    (root / "requirements.txt").symlink_to(".git/config")  # inside, but git's metadata
    listing = files_mod.walk(root, files_mod.pathmatch.excludes())
    hits = tree.check(root, tree.full_scope(root, listing))
    assert {(h.path, h.line, h.severity) for h in hits} == {
        ("out.py", 1, Severity.HIGH),
        ("env.txt", 1, Severity.HIGH),
        ("gone.py", 1, Severity.HIGH),
        ("requirements.txt", 1, Severity.HIGH),
    }
    assert {h.rule.id for h in hits} == {"secscan.link-outside-checkout"}
    by_path = {h.path: h.message for h in hits}
    assert "'/proc/self/environ'" in by_path["env.txt"] and "leaves the checkout" in by_path["env.txt"]
    assert "dangling" in by_path["gone.py"]
    assert "git's metadata" in by_path["requirements.txt"]
    assert not any("outside-content" in m or "gitlab-ci-token" in m for m in by_path.values())
    finding = tree.to_finding(hits[0])
    assert finding.location.snippet is None and finding.cwe_ids() == ("CWE-59",)


# ----------------------------------------------------------------------------- rule 2: bytecode


def _pyc(src: Path, dest: Path, *, mode: py_compile.PycInvalidationMode) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    py_compile.compile(str(src), cfile=str(dest), invalidation_mode=mode, doraise=True)


def test_bytecode_without_source_and_unchecked_pycs_are_reported(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "pkg").mkdir(parents=True)
    src = tmp_path / "helpers.py"
    src.write_text("import os\nos.system('id')\n")
    ts = py_compile.PycInvalidationMode.TIMESTAMP
    _pyc(src, root / "helpers.pyc", mode=ts)  # imported sourceless: high
    (root / "app.py").write_text("import helpers\n")
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    # next to its source: a timestamp pyc runs only while it matches, so it is the source (twin)
    _pyc(src, root / "pkg" / "__pycache__" / "mod.cpython-311.pyc", mode=ts)
    # unchecked hash-based: runs instead of the source whatever it says
    unchecked = py_compile.PycInvalidationMode.UNCHECKED_HASH
    _pyc(src, root / "__pycache__" / "app.cpython-311.pyc", mode=unchecked)
    # orphan in __pycache__: Python ignores it, still unreviewed code
    _pyc(src, root / "pkg" / "__pycache__" / "gone.cpython-311.pyc", mode=ts)
    # a pyc beside its source: the source loader wins (twin)
    (root / "pkg" / "twin.py").write_text("y = 2\n")
    _pyc(root / "pkg" / "twin.py", root / "pkg" / "twin.pyc", mode=ts)
    listing = files_mod.walk(root, files_mod.pathmatch.excludes())
    assert not any("__pycache__" in f for f in listing.files)  # the walk never enters it
    hits = tree.check(root, tree.full_scope(root, listing))
    assert sorted(rules(hits)) == [
        ("secscan.bytecode-shadows-source", "__pycache__/app.cpython-311.pyc", 1, Severity.HIGH),
        ("secscan.bytecode-without-source", "helpers.pyc", 1, Severity.HIGH),
        ("secscan.bytecode-without-source", "pkg/__pycache__/gone.cpython-311.pyc", 1, Severity.MEDIUM),
    ]


# ----------------------------------------------------------------------------- rule 3: identifiers


@pytest.mark.parametrize(
    ("name", "lang", "expected"),
    [
        (FULLWIDTH_EXECUTE, "python", ("secscan.nfkc-identifier", Severity.HIGH)),
        (FULLWIDTH_EXECUTE, "js", ("secscan.nfkc-identifier", Severity.MEDIUM)),
        ("\U0001d41e\U0001d42f\U0001d41a\U0001d425", "python", ("secscan.nfkc-identifier", Severity.HIGH)),  # 𝐞𝐯𝐚𝐥
        ("ﬁle", "python", ("secscan.nfkc-identifier", Severity.HIGH)),  # the fi ligature
        (f"is_{CYRILLIC_A}dmin", "python", ("secscan.confusable-identifier", Severity.MEDIUM)),
        (f"is_{CYRILLIC_A}dmin", "js", ("secscan.confusable-identifier", Severity.MEDIUM)),
        ("\u0441\u043e\u0440\u0443", "python", ("secscan.confusable-identifier", Severity.MEDIUM)),  # сору
        # safe twins: legitimate non-ASCII identifiers NFKC keeps, in one script or an allowed mix
        ("café", "python", None),
        ("naïve_total", "js", None),
        ("\u0441\u0443\u043c\u043c\u0430", "python", None),  # сумма: Russian, not all look-alikes
        ("user_\u540d\u524d", "python", None),  # Latin + Han
        ("\u30e6\u30fc\u30b6\u30fc\u540d", "python", None),  # Katakana + Han
        ("\u03c0_value", "python", ("secscan.confusable-identifier", Severity.MEDIUM)),  # Greek + Latin
        ("\u03b4\u03ad\u03bb\u03c4\u03b1", "python", None),  # δέλτα: Greek, not all look-alikes
        ("plain_ascii", "python", None),
    ],
)
def test_identifier_problems(name: str, lang: str, expected: tuple[str, Severity] | None) -> None:
    problem = tree.identifier_problem(name, lang)
    assert (None if problem is None else (problem[0].id, problem[1])) == expected


def test_python_identifiers_are_tokens_not_strings_or_comments() -> None:
    code = (
        "# ｅｘｅｃｕｔｅ in a comment is text\n"
        f"label = 'ｅｘｅｃｕｔｅ and {CYRILLIC_A}dmin in a string are text'\n"
        "prix_café = 3\n"
        "msg = '\u0645\u0631\u062d\u0628\u0627'\n"  # an Arabic string literal, no controls
        f"cur.{FULLWIDTH_EXECUTE}('SELECT ' + x)\n"
        f"if is_{CYRILLIC_A}dmin:\n    pass\n"
    )
    hits = tree.text_hits("app/db.py", code.encode())
    assert rules(hits) == [
        ("secscan.nfkc-identifier", "app/db.py", 5, Severity.HIGH),
        ("secscan.confusable-identifier", "app/db.py", 6, Severity.MEDIUM),
    ]
    assert hits[0].column == 5
    assert "'execute'" in hits[0].message


def test_python_that_does_not_tokenize_is_read_word_by_word() -> None:
    code = f"def f(:\n    cur.{FULLWIDTH_EXECUTE}(x)\n"
    assert rules(tree.text_hits("broken.py", code.encode())) == [
        ("secscan.nfkc-identifier", "broken.py", 2, Severity.HIGH)
    ]


def test_javascript_identifiers_outside_strings_and_comments() -> None:
    code = (
        "// ｅｘｅｃｕｔｅ in a comment\n"
        "const s = \"ｅｘｅｃｕｔｅ\", t = 'ｅｘｅｃｕｔｅ', u = `ｅｘｅｃｕｔｅ`;\n"
        "/* multi\n   ｅｘｅｃｕｔｅ */\n"
        "const naïve = 1;\n"
        f"db.{FULLWIDTH_EXECUTE}(q);\n"
        f"if (is{CYRILLIC_A}dmin) {{}}\n"
    )
    hits = tree.text_hits("web/app.ts", code.encode())
    assert rules(hits) == [
        ("secscan.nfkc-identifier", "web/app.ts", 6, Severity.MEDIUM),
        ("secscan.confusable-identifier", "web/app.ts", 7, Severity.MEDIUM),
    ]


def test_javascript_regex_literals_are_not_code_and_divisions_are() -> None:
    # minified vendor code (select2's diacritics) keeps look-alikes in strings and regexes
    code = 'var m={"\uff21":"A"},r=/[\uff21\u0391"]/g,q=a/b/c;\n'
    assert tree.text_hits("vendor/select2.min.js", code.encode()) == []
    hostile = f"var q = a / b; {FULLWIDTH_EXECUTE}(q) / 2;\n"
    assert rules(tree.text_hits("x.js", hostile.encode())) == [("secscan.nfkc-identifier", "x.js", 1, Severity.MEDIUM)]


# ----------------------------------------------------------------------------- rule 4: bidi


TROJAN_C = f"/*{RLO} }} {LRI}if (isAdmin){PDI} {LRI} begin admins only */\n"


def test_bidi_controls_anywhere_in_code_comments_and_strings() -> None:
    js = f"const access = 'user';\n{TROJAN_C}console.log('ok');\nconst s = 'x{RLO}y';\n"
    hits = tree.text_hits("auth.js", js.encode())
    assert rules(hits) == [
        ("secscan.bidi-control", "auth.js", 2, Severity.HIGH),
        ("secscan.bidi-control", "auth.js", 4, Severity.HIGH),
    ]
    assert "U+202E RIGHT-TO-LEFT OVERRIDE" in hits[0].message and "U+2066" in hits[0].message
    assert hits[0].column == 3
    # by content: an extension-less script is code (#!), documentation is not
    assert tree.text_hits("bin/deploy", f"#!/bin/sh\n# {RLO}x\n".encode())
    assert tree.text_hits("docs/intro.md", TROJAN_C.encode()) == []


def test_safe_twins_of_bidi() -> None:
    # Arabic and Hebrew text in strings without controls; implicit marks alone are medium.
    assert (
        tree.text_hits("i18n.py", "greeting = '\u0645\u0631\u062d\u0628\u0627 \u05e9\u05dc\u05d5\u05dd'\n".encode())
        == []
    )
    marks = tree.text_hits("i18n.py", f"label = '{RLM}\u05e9\u05dc\u05d5\u05dd'\n".encode())
    assert rules(marks) == [("secscan.bidi-control", "i18n.py", 1, Severity.MEDIUM)]
    # binary files (not UTF-8) and pure ASCII are never decoded
    assert tree.text_hits("blob.js", b"\xff\xfe\x00\x2e\x20") == []
    assert tree.text_hits("a.py", b"print('hi')\n") == []


def test_a_coding_declaration_that_rewrites_ascii_is_reported() -> None:
    evil = b"# coding: unicode_escape\nx = 1\n\\u0065val(input())\n"
    hits = tree.text_hits("run.py", evil)
    assert rules(hits) == [("secscan.source-encoding", "run.py", 1, Severity.HIGH)]
    # a UTF-7 declaration hiding a bidi control: both
    utf7 = b"# coding: utf-7\n" + f"s = '{RLO}'\n".encode("utf-7")
    assert {h.rule.id for h in tree.text_hits("u7.py", utf7)} == {"secscan.source-encoding", "secscan.bidi-control"}
    # twins: the usual declarations
    assert tree.text_hits("ok.py", b"# -*- coding: utf-8 -*-\nx = 1\n") == []
    assert tree.text_hits("ok.py", b"# coding: latin-1\nx = '\xe9'\n") == []


def test_findings_are_capped_per_file() -> None:
    text = "".join(f"s{n} = '{RLO}'\n" for n in range(200))
    assert len(tree.text_hits("many.py", text.encode())) == tree._MAX_PER_FILE


# ----------------------------------------------------------------------------- real merge requests


def _fresh(folder: Path) -> Path:
    folder.mkdir()
    return folder


def _tree_findings(scan_result: dict[str, Any], rule: str) -> list[dict[str, Any]]:
    return [f for f in scan_result["findings"] if f["rule_id"] == rule]


def test_mr_adding_links_out_of_the_checkout_fails_and_leaks_nothing(tmp_path: Path) -> None:
    base: dict[str, Content] = {"app.py": "print('hi')\n"}
    up = "../" * 12
    hostile: dict[str, Content] = {"x.py": Link("/proc/self/environ"), "requirements.txt": Link(f"{up}etc/passwd")}
    repo, sha = make_mr(_fresh(tmp_path / "hostile"), base, hostile)
    scan = scan_mr(repo, sha, "tree", extra=("--format", "all"))
    assert scan.code == 1, scan.stderr
    links = _tree_findings(scan.result, "secscan.link-outside-checkout")
    assert {(f["location"]["path"], f["location"]["start_line"], f["status"]) for f in links} == {
        ("x.py", 1, "new"),
        ("requirements.txt", 1, "new"),
    }
    texts = [scan.stdout, scan.stderr] + [p.read_text(errors="replace") for p in scan.out_dir.rglob("*") if p.is_file()]
    assert not any("root:x:0:0" in t or "PATH=" in t for t in texts)
    # Every GitLab report places the link (a path and line 1; no content read through it).
    sast = json.loads((scan.out_dir / "gl-sast-report.json").read_text())
    assert {v["location"]["file"] for v in sast["vulnerabilities"]} == {"x.py", "requirements.txt"}
    quality = json.loads((scan.out_dir / "gl-code-quality-report.json").read_text())
    assert {(q["location"]["path"], q["location"]["lines"]["begin"]) for q in quality} == {
        ("x.py", 1),
        ("requirements.txt", 1),
    }
    # control: the same files committed as files pass
    repo, sha = make_mr(
        _fresh(tmp_path / "control"), base, {"x.py": "y = 2\n", "requirements.txt": "requests==2.32.3\n"}
    )
    control = scan_mr(repo, sha, "tree")
    assert control.code == 0 and control.result["findings"] == []


def test_mr_importing_bytecode_without_source_fails(tmp_path: Path) -> None:
    src = tmp_path / "helpers.py"
    src.write_text("import os\n\n\ndef run(cmd):\n    os.system(cmd)\n")
    pyc = tmp_path / "helpers.pyc"
    py_compile.compile(str(src), cfile=str(pyc), doraise=True)
    base: dict[str, Content] = {"app.py": "print('hi')\n"}
    app = "import helpers\n\nhelpers.run('id')\n"
    repo, sha = make_mr(_fresh(tmp_path / "hostile"), base, {"app.py": app, "helpers.pyc": pyc.read_bytes()})
    scan = scan_mr(repo, sha, "tree")
    assert scan.code == 1, scan.stderr
    found = _tree_findings(scan.result, "secscan.bytecode-without-source")
    assert [(f["location"]["path"], f["status"], f["severity"]) for f in found] == [("helpers.pyc", "new", "high")]
    # control: the source committed instead of its bytecode
    repo, sha = make_mr(_fresh(tmp_path / "control"), base, {"app.py": app, "helpers.py": src.read_text()})
    assert scan_mr(repo, sha, "tree").code == 0


def test_mr_with_a_fullwidth_execute_fails(tmp_path: Path) -> None:
    base: dict[str, Content] = {"app/db.py": "def find(cur, x):\n    return None\n"}
    hostile = f"def find(cur, x):\n    return cur.{FULLWIDTH_EXECUTE}('SELECT * FROM t WHERE n = ' + x)\n"  # noqa: S608
    repo, sha = make_mr(_fresh(tmp_path / "hostile"), base, {"app/db.py": hostile})
    scan = scan_mr(repo, sha, "tree")
    assert scan.code == 1, scan.stderr
    found = _tree_findings(scan.result, "secscan.nfkc-identifier")
    assert [(f["location"]["path"], f["location"]["start_line"], f["status"]) for f in found] == [
        ("app/db.py", 2, "new")
    ]
    control = "def find(cur, x):\n    return cur.execute('SELECT * FROM t WHERE n = %s', (x,))\n"
    repo, sha = make_mr(_fresh(tmp_path / "control"), base, {"app/db.py": control})
    assert scan_mr(repo, sha, "tree").code == 0


def test_mr_with_a_trojan_source_comment_fails(tmp_path: Path) -> None:
    base: dict[str, Content] = {"auth.js": "function check(isAdmin) {\n  return false;\n}\n"}

    def head(comment: str) -> str:
        return f"function check(isAdmin) {{\n  {comment}\n  return false;\n}}\n"

    hostile = head(f"/*{RLO} }} {LRI}if (isAdmin){PDI} {LRI} begin admins only */")
    repo, sha = make_mr(_fresh(tmp_path / "hostile"), base, {"auth.js": hostile})
    scan = scan_mr(repo, sha, "tree", extra=("--format", "all"))
    assert scan.code == 1, scan.stderr
    found = _tree_findings(scan.result, "secscan.bidi-control")
    assert [(f["location"]["start_line"], f["status"], f["severity"]) for f in found] == [(2, "new", "high")]
    # The control characters themselves never reach a report a reviewer reads as text.
    for name in ("secscan-report.md", "secscan-report.html"):
        path = scan.out_dir / name
        if path.is_file():
            assert RLO not in path.read_text() and LRI not in path.read_text()
    # control: the same comment without the controls
    repo, sha = make_mr(_fresh(tmp_path / "control"), base, {"auth.js": head("/* } if (isAdmin) begin admins only */")})
    assert scan_mr(repo, sha, "tree").code == 0


# ----------------------------------------------------------------------------- cost


def test_cost_on_a_large_tree(tmp_path: Path) -> None:
    # The venv's site-packages (thousands of Python files, many with non-ASCII text) as a tree.
    import sysconfig

    site = Path(sysconfig.get_paths()["purelib"])
    listing = files_mod.walk(site, files_mod.pathmatch.excludes())
    started = time.perf_counter()
    hits = tree.check(site, tree.full_scope(site, listing))
    elapsed = time.perf_counter() - started
    print(f"tree: {len(listing.files)} files, {len(hits)} hits, {elapsed:.2f}s")
    assert elapsed < 60


def test_changed_only_checks_the_changed_links_bytecode_and_text(tmp_path: Path) -> None:
    # --changed-only (the pre-push hook, fast MR pipelines): the changed paths, links and
    # __pycache__ bytecode included although the excludes would drop them.
    src = tmp_path / "svc.py"
    src.write_text("import os\nos.system('id')\n")
    unchecked = tmp_path / "svc.pyc"
    py_compile.compile(
        str(src), cfile=str(unchecked), doraise=True, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
    )
    base: dict[str, Content] = {"svc.py": "x = 1\n", "old.py": f"s = '{RLO}'\n"}
    head: dict[str, Content] = {
        "__pycache__/svc.cpython-311.pyc": unchecked.read_bytes(),
        "conf.py": Link("/etc/hostname"),
        "auth.js": f"const ok = 1; /*{RLO} */\n",
    }
    repo, sha = make_mr(_fresh(tmp_path / "hostile"), base, head)
    scan = scan_mr(repo, sha, "tree", extra=("--changed-only",))
    assert scan.code == 1, scan.stderr
    found = {(f["rule_id"], f["location"]["path"], f["status"]) for f in scan.result["findings"]}
    assert found == {
        ("secscan.bytecode-shadows-source", "__pycache__/svc.cpython-311.pyc", "new"),
        ("secscan.link-outside-checkout", "conf.py", "new"),
        ("secscan.bidi-control", "auth.js", "new"),
    }  # old.py did not change: not read
