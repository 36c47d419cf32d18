"""npm-audit on the real lockfiles against the real npm advisories (tests/data/npm, origins there).

Expected pairs come from outside the code under test: npm's own ``semver`` package run by node
(tests/js/semver_oracle.js, which also reads package-lock.json itself), and a table checked by
hand against the advisories' text (the origin notes in tests/data/npm/README.md).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from secscan.advisories import sources, store
from secscan.models import Kind, Severity
from secscan.scanners import npm_audit
from secscan.scanners.npm_lockfiles import Lockfile, parse_lockfile, parse_manifest
from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
NPM_DATA = ROOT / "tests" / "data" / "npm"
LOCKS = NPM_DATA / "lockfiles"
ADVISORIES = NPM_DATA / "advisories"
ORACLE = Path(__file__).with_name("semver_oracle.js")

LOCKFILES = {
    d.name: next(p for p in sorted(d.iterdir()) if p.is_file() and p.name != "package.json")
    for d in sorted(LOCKS.iterdir())
}


def load(name: str) -> Lockfile:
    lock = LOCKFILES[name]
    manifest = parse_manifest((lock.parent / "package.json").read_text(encoding="utf-8"))
    return parse_lockfile(lock.name, lock.read_text(encoding="utf-8"), manifest)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[store.AdvisoryStore]:
    path = tmp_path_factory.mktemp("npm-db") / "advisories.sqlite"
    store.build(path, sources.load(ADVISORIES), source="npm")
    opened = store.AdvisoryStore(path)
    yield opened
    opened.close()


def pairs(name: str, db: store.AdvisoryStore) -> set[tuple[str, str, str]]:
    return {(m.package.name, m.package.version, str(m.record["id"])) for m in npm_audit.matches(load(name), db)}


def _npm_semver() -> Path | None:
    """npm's own copy of node-semver: next to npm's CLI (npm's bundled dependencies), under the
    global root, or where Debian's nodejs packages put shared modules."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None
    cli = Path(npm).resolve()  # .../npm/bin/npm-cli.js
    candidates = [cli.parent.parent / "node_modules" / "semver"]
    root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, timeout=60, check=False).stdout.strip()
    if root:
        candidates.append(Path(root) / "npm" / "node_modules" / "semver")
    candidates.append(Path("/usr/share/nodejs/semver"))
    return next((c for c in candidates if (c / "package.json").is_file()), None)


def oracle(payload: dict[str, Any]) -> dict[str, Any]:
    semver = _npm_semver()
    require(semver is not None, "node with npm's bundled semver package")
    assert semver is not None
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(ADVISORIES.glob("*.json"))]
    proc = subprocess.run(
        ["node", str(ORACLE), str(semver)],
        input=json.dumps({"advisories": records, **payload}),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    out: dict[str, Any] = json.loads(proc.stdout)
    return out


@pytest.mark.parametrize("name", [n for n in LOCKFILES if LOCKFILES[n].name == "package-lock.json"])
def test_package_lock_pairs_agree_with_npm_semver_reading_the_lockfile_itself(
    name: str, db: store.AdvisoryStore
) -> None:
    lock = json.loads(LOCKFILES[name].read_text(encoding="utf-8"))
    expected = oracle({"lockfile": lock})
    # The same installed versions, read by JavaScript and by secscan ...
    assert {tuple(p) for p in expected["packages"]} == {(p.name, p.version) for p in load(name).packages}
    # ... and the same vulnerable pairs.
    assert {tuple(p) for p in expected["pairs"]} == pairs(name, db)


@pytest.mark.parametrize("name", [n for n in LOCKFILES if LOCKFILES[n].name != "package-lock.json"])
def test_yarn_and_pnpm_pairs_agree_with_npm_semver(name: str, db: store.AdvisoryStore) -> None:
    packages = [[p.name, p.version] for p in load(name).packages]
    expected = oracle({"packages": packages})
    assert {tuple(p) for p in expected["pairs"]} == pairs(name, db)


# Checked by hand against the advisories (tests/data/npm/README.md, "Lockfiles and advisories
# together"): (lockfile, package, version, advisory, affected?).
HAND_TABLE = [
    ("npm-v1-goof", "express", "4.12.4", "GHSA-rv95-896h-c2vc", True),
    ("npm-v1-goof", "express", "4.12.4", "GHSA-qw6h-vgh9-j6wx", True),
    ("npm-v1-goof", "body-parser", "1.9.0", "GHSA-qwcr-r2fm-qrc7", True),
    ("npm-v1-goof", "qs", "1.2.2", "GHSA-hrpp-h998-j3pp", True),
    ("npm-v1-goof", "qs", "6.3.2", "GHSA-hrpp-h998-j3pp", True),
    ("npm-v1-goof", "moment", "2.15.1", "GHSA-8hfj-j24r-96c4", True),
    ("npm-v1-goof", "moment", "2.15.1", "GHSA-87vv-r9j6-g5qv", False),
    ("npm-v1-goof", "moment", "2.15.1", "GHSA-wc69-rhjr-hc9g", False),
    ("npm-v1-goof", "ms", "0.6.2", "GHSA-3fx5-fwvr-xrjg", True),
    ("npm-v1-goof", "ms", "0.7.1", "GHSA-3fx5-fwvr-xrjg", False),
    ("npm-v3-workspaces", "express", "4.12.4", "GHSA-rv95-896h-c2vc", True),
    ("yarn-v1-goof", "minimist", "1.2.5", "GHSA-xvch-5gv4-984h", True),
    ("yarn-v1-goof", "minimist", "1.2.5", "GHSA-vh95-rmgr-6w4m", False),
    ("yarn-v1-goof", "qs", "6.3.2", "GHSA-hrpp-h998-j3pp", True),
    ("yarn-berry-v6-goof", "ip", "2.0.0", "GHSA-2p57-rm9w-gvfp", True),
    ("yarn-berry-v6-goof", "ip", "2.0.0", "GHSA-78xj-cgh5-2h22", False),
    ("pnpm-v9-goof", "express", "4.12.4", "GHSA-qw6h-vgh9-j6wx", True),
    ("pnpm-v5.4-goof", "express", "4.12.4", "GHSA-rv95-896h-c2vc", True),
    ("yarn-berry-v8-goof", "express", "4.12.4", "GHSA-rv95-896h-c2vc", True),
    # The literal reading of GHSA-r683-j2x4-v87g ("introduced 1.0" to 3.1.1) covers 2.7.0.
    ("npm-v3-aliases", "node-fetch", "2.7.0", "GHSA-r683-j2x4-v87g", True),
]


@pytest.mark.parametrize("row", HAND_TABLE, ids=[f"{r[0]}-{r[1]}-{r[2]}-{r[3]}" for r in HAND_TABLE])
def test_hand_checked_pairs(row: tuple[str, str, str, str, bool], db: store.AdvisoryStore) -> None:
    lock, package, version, advisory, hit = row
    assert any(p.name == package and p.version == version for p in load(lock).packages), "the lockfile pins it"
    assert ((package, version, advisory) in pairs(lock, db)) is hit


def test_request_has_no_fix_and_lodash_has_one(db: store.AdvisoryStore) -> None:
    found = {(f.location.package, f.rule_id): f for f in npm_audit.audit("package-lock.json", load("npm-v1-goof"), db)}
    request = found[("request", "GHSA-p8p7-x288-28g6")]
    assert request.fixed_versions == ()
    assert "No fixed version" in (request.fix or "")
    express = found[("express", "GHSA-rv95-896h-c2vc")]
    # Only the fix of the range 4.12.4 is in (not the 5.0.0-beta.3 of the 5.x range).
    assert express.fixed_versions == ("4.19.2",)


def test_findings_carry_cvss_severity_dev_flag_and_lockfile(db: store.AdvisoryStore) -> None:
    findings = npm_audit.audit("app/package-lock.json", load("npm-v1-goof"), db)
    assert findings
    by_key = {(f.location.package, f.location.version, f.rule_id): f for f in findings}
    ejs = next(f for (p, _, r), f in by_key.items() if p == "ejs" and r == "GHSA-phwq-j96m-2c2q")
    assert ejs.kind is Kind.DEPENDENCY and ejs.scanner == "npm-audit"
    assert ejs.severity is Severity.CRITICAL and ejs.severity_original.startswith("CVSS:3.1 9.8")
    assert ejs.location.path == "app/package-lock.json"
    assert {i.value for i in ejs.identifiers} >= {"GHSA-phwq-j96m-2c2q", "CVE-2022-29078"}
    for f in findings:
        assert f.fixed_versions or "No fixed version" in (f.fix or "")
    # No vulnerable package of the goof app comes only with browserify (its one devDependency).
    assert all("dev-dependency" not in f.tags for f in findings)
    lock = {(p.name, p.version): p.dev for p in load("npm-v1-goof").packages}
    assert lock[("browserify", "13.3.0")] is True and lock[("express", "4.12.4")] is False
    doc = {"lockfileVersion": 3, "packages": {"": {}, "node_modules/ms": {"version": "0.6.2", "dev": True}}}
    (dev,) = npm_audit.audit("package-lock.json", parse_lockfile("package-lock.json", json.dumps(doc)), db)
    assert dev.tags == ("dev-dependency",) and "dev dependency" in (dev.fix or "")


def test_dev_flags_computed_from_the_graph_agree_with_the_recorded_ones() -> None:
    # pnpm 6 records `dev:` per package; pnpm 9 does not (secscan walks importers/snapshots).
    # The two goof lockfiles pin the same versions but two (resolved at different times), so
    # the flags of the 420 shared ones must agree exactly.
    v6 = {(p.name, p.version): p.dev for p in load("pnpm-v6-goof").packages}
    v9 = {(p.name, p.version): p.dev for p in load("pnpm-v9-goof").packages}
    common = v6.keys() & v9.keys()
    assert len(common) >= 420
    assert {k: v6[k] for k in common} == {k: v9[k] for k in common}
    assert sum(1 for d in v9.values() if d) > 100
    # yarn has no dev flags at all: from package.json through the lockfile's graph.
    yarn = {(p.name, p.version): p.dev for p in load("yarn-v1-goof").packages}
    assert yarn[("browserify", "13.3.0")] is True and yarn[("express", "4.12.4")] is False
    berry = {(p.name, p.version): p.dev for p in load("yarn-berry-v8-goof").packages}
    assert berry[("browserify", "13.3.0")] is True and berry[("express", "4.12.4")] is False
    # Without package.json the flag is unknown, not guessed.
    lock = LOCKFILES["yarn-v1-goof"]
    assert {p.dev for p in parse_lockfile("yarn.lock", lock.read_text(encoding="utf-8")).packages} == {None}


def _one(name: str, version: str) -> Lockfile:
    doc = {"lockfileVersion": 3, "packages": {"": {}, f"node_modules/{name}": {"version": version}}}
    return parse_lockfile("package-lock.json", json.dumps(doc))


def test_severity_label_when_the_record_has_no_vector(db: store.AdvisoryStore) -> None:
    # GHSA-2p57-rm9w-gvfp has an empty `severity` array: GitHub's label decides.
    (f,) = [
        x for x in npm_audit.audit("package-lock.json", _one("ip", "2.0.0"), db) if x.rule_id == "GHSA-2p57-rm9w-gvfp"
    ]
    assert f.severity is Severity.HIGH and f.severity_original == "HIGH"
    # GHSA-952p-6rrq-rcjv: empty `severity`, label MODERATE -> medium.
    (g,) = npm_audit.audit("package-lock.json", _one("micromatch", "4.0.5"), db)
    assert g.severity is Severity.MEDIUM and g.severity_original == "MODERATE"


def test_mixed_case_scoped_and_prerelease_versions(db: store.AdvisoryStore) -> None:
    def ids(name: str, version: str) -> set[str]:
        return {str(m.record["id"]) for m in npm_audit.matches(_one(name, version), db)}

    # GHSA-8hc4-vh64-cxmj spells the package "Axios"; npm names are lower case.
    assert "GHSA-8hc4-vh64-cxmj" in ids("axios", "1.7.2")
    assert "GHSA-8hc4-vh64-cxmj" not in ids("axios", "1.7.4")
    # Scoped, with prerelease bounds (0-7.23.2 and 8.0.0-alpha.0-8.0.0-alpha.4).
    assert "GHSA-67hx-6x53-jw92" in ids("@babel/traverse", "7.23.0")
    assert "GHSA-67hx-6x53-jw92" in ids("@babel/traverse", "8.0.0-alpha.3")
    assert "GHSA-67hx-6x53-jw92" not in ids("@babel/traverse", "8.0.0-alpha.4")
    assert "GHSA-67hx-6x53-jw92" not in ids("@babel/traverse", "7.23.2")
    # Build metadata does not let a version escape its release's advisory.
    assert "GHSA-3fx5-fwvr-xrjg" in ids("ms", "0.7.0+build.7")
    # The osv.dev export form (SEMVER ranges, purl) matches like the GitHub form.
    assert "GHSA-whgm-jr23-g3j9" in ids("ansi-html", "0.0.7")
    assert ids("ansi-html", "0.0.8") == set()


def test_lockfile_shapes_read_as_the_package_manager_wrote_them() -> None:
    # pnpm 5.4 (/name/1.0.0_peer), 6 (/name@1.0.0(peer)) and 9 (name@1.0.0 + snapshots) of the
    # same app, resolved at different times: the same 424 packages but for two versions.
    sets = {
        n: {(p.name, p.version) for p in load(n).packages} for n in ("pnpm-v5.4-goof", "pnpm-v6-goof", "pnpm-v9-goof")
    }
    assert all(len(s) == 424 for s in sets.values())
    assert sets["pnpm-v5.4-goof"] == sets["pnpm-v6-goof"]
    assert len(sets["pnpm-v6-goof"] ^ sets["pnpm-v9-goof"]) == 4
    # Peer suffixes are not part of the version; names with "_" stay whole.
    assert ("dustjs-helpers", "1.5.0") in sets["pnpm-v5.4-goof"]
    assert ("string_decoder", "1.1.1") in sets["pnpm-v5.4-goof"]
    # yarn berry: the workspace itself is not a dependency; a patched package is audited as itself.
    berry = {(p.name, p.version) for p in load("yarn-berry-v8-goof").packages}
    assert not any(name == "goof" for name, _ in berry)
    assert ("resolve", "1.22.11") in berry
    # npm aliases resolve to the real package (v1 `npm:` version, v3 `name` field).
    assert ("@yao-pkg/pkg", "6.5.0") in {(p.name, p.version) for p in load("npm-v1-aliases").packages}
    assert not any(p.name == "pkg" for p in load("npm-v3-aliases").packages)
    # Workspaces (`packages/a`, links) are local code, not registry packages.
    names = {p.name for p in load("npm-v3-workspaces").packages}
    assert "express" in names and not names & {"a", "b", "npm-workspaces"}
