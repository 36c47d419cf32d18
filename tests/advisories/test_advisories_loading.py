"""Loading OSV sources: PyPA YAML folders, JSON zips, malformed files, the snapshot id."""

from __future__ import annotations

import json
import shutil
import sqlite3
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml

from secscan.advisories import sources, store
from secscan.advisories.osv import AdvisoryFormatError, parse_record
from secscan.errors import ConfigError
from tests.advisories.advisories_support import EDGE, EXAMPLES, MALFORMED, make_combined_db


@pytest.fixture(scope="module")
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture(scope="module")
def edge_dir() -> Path:
    return EDGE


@pytest.fixture(scope="module")
def malformed_dir() -> Path:
    return MALFORMED


@pytest.fixture(scope="module")
def combined_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_combined_db(tmp_path_factory.mktemp("adv"))


def _to_json_zip(src: Path, dest: Path) -> Path:
    """The osv.dev export shape: one <ID>.json per record at the zip's root.

    Timestamps become ``+00:00`` ISO strings (not ``Z``) on purpose: the snapshot must not care.
    """

    def default(o: object) -> str:
        assert isinstance(o, datetime | date)
        return o.isoformat()

    with zipfile.ZipFile(dest, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(src.rglob("*.yaml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            zf.writestr(f"{data['id']}.json", json.dumps(data, default=default, indent=1))
    return dest


def test_pypa_fixtures_all_load_with_nothing_skipped(examples_dir: Path) -> None:
    # (examples/advisories/npm/ holds the demo's npm records: tests/js covers those.)
    loaded = sources.load(examples_dir / "pypa")
    assert loaded.files == 82
    assert loaded.problems == ()
    assert len(loaded.advisories) == 82
    assert {a.affected[0].name for a in loaded.advisories} == {
        "requests", "jinja2", "urllib3", "pyyaml", "flask", "django", "cryptography", "pillow", "werkzeug",
    }  # fmt: skip


def test_unquoted_yaml_timestamps_are_normalized_for_pip_audit(examples_dir: Path) -> None:
    """yaml.safe_load gives datetime objects for these; pip-audit's strptime needs '...Z'."""
    loaded = {a.id: a for a in sources.load(examples_dir / "pypa" / "urllib3").advisories}
    rec = loaded["PYSEC-2023-192"].record
    assert rec["modified"] == "2023-10-10T14:28:19.389317Z"
    assert rec["published"] == "2023-10-04T17:15:00Z"
    for adv in loaded.values():
        for key in ("modified", "published"):
            value = adv.record.get(key)
            assert value is None or (isinstance(value, str) and value.endswith("Z")), (adv.id, key, value)


def test_record_without_aliases_or_published_loads(examples_dir: Path) -> None:
    path = examples_dir / "pypa" / "pillow" / "PYSEC-2023-175.yaml"
    adv = parse_record(yaml.safe_load(path.read_text()))
    assert adv.aliases == ()
    assert "published" not in adv.record
    assert adv.record["related"] == ["CVE-2023-4863", "CVE-2023-5129"]


def test_snapshot_is_the_same_from_yaml_folder_and_json_zip(examples_dir: Path, tmp_path: Path) -> None:
    from_yaml = sources.load(examples_dir / "pypa")
    zipped = _to_json_zip(examples_dir / "pypa", tmp_path / "all.zip")
    from_zip = sources.load(zipped)
    assert from_zip.problems == ()
    assert len(from_zip.advisories) == 82
    snap_yaml, newest = store.snapshot_id(from_yaml)
    assert store.snapshot_id(from_zip)[0] == snap_yaml
    assert newest == "2024-02-17T07:18:27Z"
    assert snap_yaml.startswith("sha256:") and snap_yaml.endswith("@" + newest)


def test_snapshot_changes_when_any_record_changes(examples_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(examples_dir / "pypa" / "flask", src)
    before = store.snapshot_id(sources.load(src))[0]
    path = src / "PYSEC-2018-66.yaml"
    path.write_text(path.read_text().replace("0.12.3", "0.12.4"))
    after = store.snapshot_id(sources.load(src))[0]
    assert after != before
    # Same newest `modified`: only the content hash tells the two apart.
    assert after.split("@")[1] == before.split("@")[1]


def test_malformed_files_are_reported_and_skipped_with_a_count(
    malformed_dir: Path, edge_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "mixed"
    shutil.copytree(edge_dir, src / "edge")
    shutil.copytree(malformed_dir, src / "malformed")
    loaded = sources.load(src)
    assert loaded.files == 8 + 8
    assert len(loaded.problems) == 8
    by_file = {p.file: p.message for p in loaded.problems}
    assert set(by_file) == {f"malformed/{p.name}" for p in malformed_dir.iterdir()}
    assert "not valid YAML" in by_file["malformed/syntax_error.yaml"]
    assert "not a string" in by_file["malformed/unquoted_number.yaml"]
    assert "id" in by_file["malformed/no_id.json"]
    assert "exactly one key" in by_file["malformed/two_keys_event.json"]
    assert "mapping" in by_file["malformed/not_a_record.yaml"]
    assert "PEP 440" in by_file["malformed/bad_version.yaml"]
    assert "timestamp" in by_file["malformed/bad_timestamp.json"]
    assert "not valid JSON" in by_file["malformed/truncated.json"]
    # The valid ones all made it (npm ones too); the Maven-only record is counted, not dropped.
    assert {a.id for a in loaded.advisories} == {
        "TEST-LAST-1", "TEST-LIMIT-1", "TEST-LIST-1", "TEST-WITHDRAWN-1", "TEST-PRE-1", "TEST-MULTI-1",
        "TEST-NPM-1",
    }  # fmt: skip
    assert loaded.ignored == 1


def test_duplicate_ids_keep_the_newer_record_and_report_the_other(edge_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "dups"
    src.mkdir()
    shutil.copy(edge_dir / "TEST-LIST-1.yaml", src / "a.yaml")
    newer = (edge_dir / "TEST-LIST-1.yaml").read_text().replace("2024-03-03T10:00:00Z", "2024-05-01T00:00:00Z")
    (src / "b.yaml").write_text(newer.replace('- "1.0"', '- "1.0"\n  - "9.9"'))
    loaded = sources.load(src)
    assert [a.id for a in loaded.advisories] == ["TEST-LIST-1"]
    assert "9.9" in loaded.advisories[0].affected[0].versions
    assert [(p.file, "duplicate id TEST-LIST-1" in p.message) for p in loaded.problems] == [("a.yaml", True)]


def test_withdrawn_and_aliases_are_stored(combined_db: Path) -> None:
    db = store.AdvisoryStore(combined_db)
    try:
        assert db.info.withdrawn == 1
        assert db.resolve("CVE-2099-0001") == "TEST-LAST-1"
        assert db.resolve("GHSA-x84v-xcm2-53pg") == "PYSEC-2018-28"
        assert db.resolve("TEST-WITHDRAWN-1") == "TEST-WITHDRAWN-1"
        assert db.candidates("secscan-demo-b")[0].advisory_id == "TEST-LIST-1"  # withdrawn one is not a candidate
        assert len(db.candidates("secscan-demo-b")) == 1
        # Non-canonical names are indexed under their PEP 503 form.
        assert [c.advisory_id for c in db.candidates("secscan-demo-a")] == ["TEST-LAST-1", "TEST-LIMIT-1"]
        assert "CVE-2098-0000" not in db.aliases_of("TEST-LAST-1")
        assert db.aliases_of("TEST-LAST-1") == ("CVE-2099-0001",)
    finally:
        db.close()


def test_build_is_atomic_and_refuses_an_empty_source(tmp_path: Path, malformed_dir: Path) -> None:
    db = tmp_path / "adv.sqlite"
    with pytest.raises(ConfigError, match="no PyPI or npm advisories"):
        store.build(db, sources.load(malformed_dir), source="malformed")
    assert list(tmp_path.iterdir()) == []  # no half-written database, no temp file left


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bogus = tmp_path / "x.sqlite"
    bogus.write_text("hello")
    with pytest.raises(ConfigError, match="not a SQLite"):
        store.AdvisoryStore(bogus)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ConfigError, match="not a secscan advisory database"):
        store.AdvisoryStore(other)
    with pytest.raises(ConfigError, match="no advisory database"):
        store.AdvisoryStore(tmp_path / "missing.sqlite")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "X-1", "modified": "2024-01-01T00:00:00Z", "schema_version": "2.0.0"}, "schema_version"),
        ({"id": "../etc", "modified": "2024-01-01T00:00:00Z"}, "valid OSV id"),
        ({"id": "X-1"}, "modified"),
        ({"id": "X-1", "modified": "2024-01-01T00:00:00Z", "aliases": "CVE-1"}, "aliases"),
        ({"id": "X-1", "modified": "2024-01-01T00:00:00Z", "affected": [{"package": {"name": "a"}}]}, "ecosystem"),
        (
            {
                "id": "X-1",
                "modified": "2024-01-01T00:00:00Z",
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "a"},
                        "ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "1"}]}],
                    }
                ],
            },
            "introduced",
        ),
    ],
)
def test_parse_record_rejects(record: dict[str, object], message: str) -> None:
    with pytest.raises(AdvisoryFormatError, match=message):
        parse_record(record)
