"""The server's answers against each advisory's own `affected` data, over many versions per package.

The oracle below is written independently of secscan.advisories.matching: it turns each
ECOSYSTEM range into explicit intervals (sorted events, introduced opens, fixed/last_affected
closes) instead of walking events statefully, and reads the `versions` list straight from the
file. Versions probed per package: every event version and listed version, and around each
boundary its pre-releases, dev, post and local variants and neighbours.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from secscan.advisories.service import AdvisoryService
from tests.advisories.advisories_support import EXAMPLES, post, serve_combined

Interval = tuple[Version | None, Version | None, bool]  # (low incl. or None=-inf, high or None=+inf, high inclusive)


@pytest.fixture(scope="module")
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdvisoryService]:
    yield from serve_combined(tmp_path_factory.mktemp("adv"))


def _v(s: str) -> Version | None:
    try:
        return Version(s)
    except InvalidVersion:
        return None


def intervals(events: list[dict[str, str]]) -> list[Interval]:
    keyed = []
    for ev in events:
        ((kind, value),) = ev.items()
        if kind == "limit":
            continue
        low = None if kind == "introduced" and value == "0" else Version(value)
        keyed.append((low, kind))
    order = {"introduced": 0, "fixed": 1, "last_affected": 2}
    keyed.sort(key=lambda e: (e[0] is not None, e[0] or Version("0"), order[e[1]]))
    out: list[Interval] = []
    start: Version | None = None
    open_ = False
    for ver, kind in keyed:
        if kind == "introduced" and not open_:
            start, open_ = ver, True
        elif kind != "introduced" and open_:
            out.append((start, ver, kind == "last_affected"))
            open_ = False
    if open_:
        out.append((start, None, False))
    return out


def oracle(record: dict[str, Any], package: str) -> Callable[[Version], bool]:
    """``is_affected(v)`` for one advisory and package, precomputed from the record."""
    listed: set[Version] = set()
    spans: list[Interval] = []
    for aff in record.get("affected", []):
        pkg = aff["package"]
        if pkg["ecosystem"] != "PyPI" or canonicalize_name(pkg["name"]) != package:
            continue
        listed.update(x for x in (_v(s) for s in aff.get("versions", [])) if x is not None)
        for rng in aff.get("ranges", []):
            if rng["type"] == "ECOSYSTEM":
                spans.extend(intervals(rng["events"]))

    def is_affected(v: Version) -> bool:
        pub = Version(v.public)  # a local build is its public release
        if v in listed or pub in listed:
            return True
        for low, high, incl in spans:
            if (low is None or pub >= low) and (high is None or pub < high or (incl and pub <= high)):
                return True
        return False

    return is_affected


def probe_versions(records: list[dict[str, Any]], package: str) -> list[str]:
    seeds: set[str] = set()
    for rec in records:
        for aff in rec.get("affected", []):
            if canonicalize_name(aff["package"]["name"]) != package:
                continue
            seeds.update(s for s in aff.get("versions", []) if _v(s) is not None)
            for rng in aff.get("ranges", []):
                if rng["type"] == "ECOSYSTEM":
                    seeds.update(v for ev in rng["events"] for v in ev.values() if v != "0")
    probes: set[str] = {"0.0.1", "0.1", "99.0"}
    for s in sorted(seeds):
        base = Version(s).base_version
        rel = list(Version(base).release)
        bumped = ".".join(str(x) for x in [*rel[:-1], rel[-1] + 1])
        probes.update({s, base, f"{base}a1", f"{base}b2", f"{base}rc1", f"{base}.dev0", f"{base}.post1"})
        probes.update({f"{base}+local.7", f"{base}.post1+ubuntu1", bumped, f"{bumped}rc1"})
        if rel[-1] > 0:
            probes.add(".".join(str(x) for x in [*rel[:-1], rel[-1] - 1]))
    return sorted(p for p in probes if _v(p) is not None)


def _records(examples_dir: Path) -> dict[str, list[dict[str, Any]]]:
    by_pkg: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted((examples_dir / "pypa").rglob("*.yaml")):
        rec = yaml.safe_load(path.read_text(encoding="utf-8"))
        by_pkg[canonicalize_name(rec["affected"][0]["package"]["name"])].append(rec)
    return by_pkg


PACKAGES = ["cryptography", "django", "flask", "jinja2", "pillow", "pyyaml", "requests", "urllib3", "werkzeug"]


@pytest.mark.parametrize("package", PACKAGES)
def test_server_agrees_with_each_advisorys_affected_data(
    package: str, examples_dir: Path, served: AdvisoryService
) -> None:
    records = _records(examples_dir)[package]
    versions = probe_versions(records, package)
    assert len(versions) >= 40  # many versions per package, not a token sample
    queries = [{"package": {"name": package, "ecosystem": "PyPI"}, "version": v} for v in versions]
    actual: list[set[str]] = []
    for start in range(0, len(queries), 1000):
        status, body, _ = post(served.base_url + "/v1/querybatch", {"queries": queries[start : start + 1000]})
        assert status == 200
        actual.extend({vuln["id"] for vuln in r.get("vulns", [])} for r in body["results"])
    checks = [(rec["id"], oracle(rec, package)) for rec in records]
    mismatches = []
    affected_count = 0
    for version, got in zip(versions, actual, strict=True):
        v = Version(version)
        want = {vid for vid, is_affected in checks if is_affected(v)}
        affected_count += bool(want)
        if got != want:
            mismatches.append((version, sorted(got ^ want)))
    assert mismatches == []
    assert 0 < affected_count < len(versions)  # the probe set straddles the boundaries


# Hand-checked boundaries from the fixtures' README (ids without the PYSEC- prefix).
CASES = [
    ("urllib3", "2.0.5", {"2023-192", "2023-212"}),
    ("urllib3", "2.0.6", {"2023-212"}),  # fixed 2.0.6 is not affected by 2023-192
    ("urllib3", "2.0.7", set()),
    ("urllib3", "1.26.17", {"2023-212"}),  # out-of-order events: i:2.0.0 f:2.0.6 i:0 f:1.26.17
    ("urllib3", "2.0.0rc1", set()),  # pre-release of 2.0.0 sorts above 1.26.18, below introduced 2.0.0
    ("pyyaml", "5.1rc1", {"2018-49", "2021-142"}),  # before introduced 5.1, before fixed 5.1
    ("pyyaml", "5.1", {"2020-96", "2020-176", "2021-142"}),
    ("pyyaml", "5.2a1", {"2020-96", "2020-176", "2021-142"}),
    ("pyyaml", "5.2b1", {"2020-96", "2021-142"}),  # fixed at a pre-release
    ("flask", "0.12.2+local.1", {"2018-66", "2019-179", "2023-62"}),  # local build of 0.12.2
    ("flask", "0.12.3.dev0", {"2018-66", "2019-179", "2023-62"}),
    ("flask", "0.12.3", {"2019-179", "2023-62"}),
    ("flask", "0.12.3.post1", {"2019-179", "2023-62"}),
    ("flask", "2.3.1", {"2023-62"}),
    ("flask", "2.3.2", set()),
    ("werkzeug", "3.0.0", {"2023-221"}),
    ("werkzeug", "2.3.8", set()),
    ("requests", "2.3.0", {"2015-17", "2018-28", "2023-74"}),
    ("django", "3.0.14", {"2021-98", "2021-99"}),
    (
        "pillow",
        "3.1.0.rc1",
        {
            "2016-19",
            "2017-92",
            "2020-83",
            "2021-317",
            "2021-331",
            "2022-8",
            "2022-9",
            "2022-10",
            "2022-168",
            "2022-42979",
            "2023-175",
            "2023-227",
        },
    ),
    ("pillow", "10.0.1", set()),
]


@pytest.mark.parametrize(("package", "version", "ids"), CASES)
def test_boundaries_by_hand(package: str, version: str, ids: set[str], served: AdvisoryService) -> None:
    status, body, _ = post(served.url, {"package": {"name": package, "ecosystem": "PyPI"}, "version": version})
    assert status == 200
    assert {v["id"].removeprefix("PYSEC-") for v in body.get("vulns", [])} == ids


# The hand-written edge records (tests/data/advisories/edge): last_affected, limit, versions
# lists, withdrawn, out-of-order events with a pre-release introduced.
EDGE = [
    ("secscan-demo-a", "0.9", {"TEST-LIMIT-1"}),  # introduced "0"
    ("secscan-demo-a", "1.0rc1", {"TEST-LIMIT-1"}),
    ("secscan-demo-a", "1.0", {"TEST-LAST-1", "TEST-LIMIT-1"}),
    ("secscan-demo-a", "1.4.2", {"TEST-LAST-1", "TEST-LIMIT-1"}),
    ("secscan-demo-a", "1.4.2+build.5", {"TEST-LAST-1", "TEST-LIMIT-1"}),  # local build of last_affected
    ("secscan-demo-a", "1.4.2.post1", {"TEST-LIMIT-1"}),
    ("secscan-demo-a", "1.4.3rc1", {"TEST-LIMIT-1"}),
    ("secscan-demo-a", "2.0rc1", {"TEST-LIMIT-1"}),  # below the limit
    ("secscan-demo-a", "2.0", set()),  # at the limit: outside, though the fix is 3.0
    ("secscan-demo-a", "2.5", set()),
    ("Secscan_Demo.A", "1.2", {"TEST-LAST-1", "TEST-LIMIT-1"}),  # names are compared canonically
    ("secscan-demo-b", "1.0.0", {"TEST-LIST-1"}),  # PEP 440 equal to the listed "1.0"
    ("secscan-demo-b", "1.1.0.rc1", {"TEST-LIST-1"}),
    ("secscan-demo-b", "1.1.0", set()),
    ("secscan-demo-b", "2.0", set()),
    ("secscan-demo-b", "2.0-1", {"TEST-LIST-1"}),  # alternative spelling of 2.0.post1
    ("secscan-demo-b", "2.1.0rc2", {"TEST-LIST-1"}),
    ("secscan-demo-b", "0.1", set()),  # TEST-WITHDRAWN-1 covers everything but is withdrawn
    ("secscan-demo-c", "0.5", {"TEST-PRE-1", "TEST-MULTI-1"}),
    ("secscan-demo-c", "1.0", {"TEST-PRE-1"}),
    ("secscan-demo-c", "1.5", set()),
    ("secscan-demo-c", "2.0.0b1", set()),
    ("secscan-demo-c", "2.0.0rc1", {"TEST-PRE-1"}),
    ("secscan-demo-c", "2.0.0", {"TEST-PRE-1"}),
    ("secscan-demo-c", "2.0.1.dev1", {"TEST-PRE-1"}),
    ("secscan-demo-c", "2.0.1", set()),
    ("secscan-demo-c", "not-a-version", set()),
]


@pytest.mark.parametrize(("package", "version", "ids"), EDGE)
def test_edge_records(package: str, version: str, ids: set[str], served: AdvisoryService) -> None:
    status, body, _ = post(served.url, {"package": {"name": package, "ecosystem": "PyPI"}, "version": version})
    assert status == 200
    assert {v["id"] for v in body.get("vulns", [])} == ids
