"""`secscan advisories update` against a real HTTP server on loopback serving OSV's export layout
built from real records (tests/advisories/export_support.py): every record lands in the store,
every bad archive is refused with the old store kept, concurrent updates do not corrupt it."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import socket
import sqlite3
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from secscan.advisories import update
from secscan.advisories.osv import normalize_name
from secscan.advisories.store import AdvisoryStore
from tests.advisories.export_support import (
    ExportServer,
    Reply,
    export_server,
    make_zip,
    npm_members,
    pypi_members,
)
from tests.support.cli import secscan

_update = functools.partial(secscan, "advisories", "update", clean=True)


@pytest.fixture
def server() -> Iterator[ExportServer]:
    yield from export_server()


def _sums(server: ExportServer) -> dict[str, str]:
    return {eco: hashlib.sha256(server.replies[f"/osv/{eco}/all.zip"].body).hexdigest() for eco in ("PyPI", "npm")}


def _ids(members: dict[str, bytes]) -> set[str]:
    return {json.loads(data)["id"] for data in members.values()}


def _flask_answers(store: Path) -> set[str]:
    """The advisory ids the store has for flask (what a scan would query)."""
    s = AdvisoryStore(store)
    try:
        return {c.advisory_id for c in s.candidates(normalize_name("Flask", "PyPI"), "PyPI")}
    finally:
        s.close()


def test_update_stores_every_record_of_both_archives(server: ExportServer, tmp_path: Path) -> None:
    store = tmp_path / "cache" / "advisories.sqlite"
    run = _update("--store", store, "--source-url", server.url)
    assert run.returncode == 0, run.stderr
    assert sorted(server.requests) == ["/osv/PyPI/all.zip", "/osv/npm/all.zip"]
    pypi, npm = pypi_members(), npm_members()
    s = AdvisoryStore(store)
    try:
        stored = {str(r[0]) for r in s._query("SELECT id FROM advisories")}
        assert stored == _ids(pypi) | _ids(npm)
        assert s.info.records == (("PyPI", len(pypi)), ("npm", len(npm)))
        assert s.info.source == server.url and s.info.fetched_at
        # The digest names exactly the bytes served.
        served = _sums(server)
        assert s.info.digest == f"PyPI:{served['PyPI']} npm:{served['npm']}"
        # Severity from aliases: the PYSEC record and GitHub's record of the same CVE are one vulnerability.
        assert s.related(["PYSEC-2023-62"]) == ("GHSA-m2qf-hxjv-5gpq", "PYSEC-2023-62")
        assert s.related(["CVE-2023-32681"]) == ("GHSA-j8r2-6x86-q33q", "PYSEC-2023-74")
    finally:
        s.close()
    assert f"PyPI: {len(pypi)} records" in run.stdout and f"npm: {len(npm)} records" in run.stdout
    info = json.loads(secscan("advisories", "info", "--db", store, "--json").stdout)
    assert info["fetched_at"] and info["records"] == [["PyPI", len(pypi)], ["npm", len(npm)]]
    # Nothing but the store and its lock is left beside it.
    assert sorted(p.name for p in store.parent.iterdir()) == ["advisories.sqlite", "advisories.sqlite.lock"]


def test_a_folder_store_and_the_environment(server: ExportServer, tmp_path: Path) -> None:
    run = _update(env={"SECSCAN_ADVISORY_DB": str(tmp_path), "SECSCAN_ADVISORY_SOURCE_URL": server.url})
    assert run.returncode == 0, run.stderr
    assert "PYSEC-2023-62" in _flask_answers(tmp_path / "advisories.sqlite")


def _bomb() -> bytes:
    """A member that claims nothing unusual and inflates past the per-record cap (9 MiB of spaces)."""
    return make_zip({**pypi_members(), "PYSEC-2099-1.json": b"{" + b" " * (9 * 1024 * 1024) + b"}"})


def _raw_zip(names: list[str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            info = zipfile.ZipInfo("x")
            info.filename = name  # as written in the archive, not as ZipInfo would clean it
            zf.writestr(info, (pypi_members()["PYSEC-2023-62.json"]))
    return buf.getvalue()


def _refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed on exit: nothing listens there


GOOD = make_zip(pypi_members())
NOT_OSV = {**pypi_members(), "PYSEC-2099-2.json": b'{"hello": "world"}'}
NOT_JSON = {**pypi_members(), "PYSEC-2099-3.json": b"<html>not json</html>"}
MISNAMED = {**pypi_members(), "GHSA-aaaa-bbbb-cccc.json": pypi_members()["PYSEC-2023-62.json"]}

BAD = {
    "truncated archive": (Reply(body=GOOD[: len(GOOD) // 2]), (), "not a zip archive"),
    "truncated download": (Reply(body=GOOD, cut_at=len(GOOD) // 2), (), "truncated download"),
    "wrong checksum": (Reply(body=GOOD), ("--sha256", "PyPI=" + "0" * 64), "is not the expected"),
    "zip bomb": (Reply(body=_bomb()), (), "larger than"),
    "parent path": (Reply(body=_raw_zip(["../PYSEC-2023-62.json"])), (), "leaves the archive's folder"),
    "absolute path": (Reply(body=_raw_zip(["/tmp/PYSEC-2023-62.json"])), (), "leaves the archive's folder"),
    "nested path": (Reply(body=_raw_zip(["vulns/PYSEC-2023-62.json"])), (), "not an OSV record file"),
    "not an OSV record": (Reply(body=make_zip(NOT_OSV)), (), "PYSEC-2099-2.json"),
    "not JSON": (Reply(body=make_zip(NOT_JSON)), (), "not valid JSON"),
    "id is not the file name": (Reply(body=make_zip(MISNAMED)), (), "names each file after its id"),
    "empty archive": (Reply(body=make_zip({})), (), "empty"),
    "HTML instead of a zip": (Reply(body=b"<html>maintenance</html>"), (), "not a zip archive"),
    "HTTP 500": (Reply(status=500, body=b"oops"), (), "HTTP 500"),
    "timeout": (Reply(body=GOOD, delay=5), ("--timeout", "0.3"), "no answer within 0.3 s"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_archive_is_refused_and_the_old_store_kept(server: ExportServer, tmp_path: Path, case: str) -> None:
    store = tmp_path / "advisories.sqlite"
    assert _update("--store", store, "--source-url", server.url).returncode == 0
    before = store.read_bytes()
    reply, extra, reason = BAD[case]
    server.serve("PyPI", reply)
    run = _update("--store", store, "--source-url", server.url, *extra)
    assert run.returncode == 2, (run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr, run.stderr
    assert "PyPI archive" in lines[0] and reason in lines[0], lines[0]
    assert store.read_bytes() == before
    assert {"PYSEC-2023-62", "GHSA-m2qf-hxjv-5gpq"} <= _flask_answers(store)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["advisories.sqlite", "advisories.sqlite.lock"]


def test_connection_refused_keeps_the_store(server: ExportServer, tmp_path: Path) -> None:
    store = tmp_path / "advisories.sqlite"
    assert _update("--store", store, "--source-url", server.url).returncode == 0
    before = store.read_bytes()
    run = _update("--store", store, "--source-url", f"http://127.0.0.1:{_refused_port()}/osv")
    assert run.returncode == 2 and "cannot connect" in run.stderr, run.stderr
    assert store.read_bytes() == before and "PYSEC-2023-62" in _flask_answers(store)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--source-url", "file:///etc"), "expected an http(s) URL"),
        (("--sha256", "maven=" + "0" * 64), "unknown ecosystem"),
        (("--sha256", "PyPI=abc"), "64 hexadecimal digits"),
        (("--timeout", "0"), "timeout"),
    ],
)
def test_bad_options_are_usage_errors_before_any_download(
    server: ExportServer, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    run = _update("--store", tmp_path / "a.sqlite", *args)
    assert run.returncode == 2 and message in run.stderr, run.stderr
    assert server.requests == [] and not (tmp_path / "a.sqlite").exists()


def test_a_file_that_is_not_a_store_is_not_replaced(server: ExportServer, tmp_path: Path) -> None:
    victim = tmp_path / "notes.txt"
    victim.write_text("keep me")
    run = _update("--store", victim, "--source-url", server.url)
    assert run.returncode == 2 and "not an advisory database" in run.stderr
    assert victim.read_text() == "keep me"


def test_the_right_checksum_is_accepted(server: ExportServer, tmp_path: Path) -> None:
    sums = _sums(server)
    pins = ("--sha256", f"PyPI={sums['PyPI']}", "--sha256", f"npm={sums['npm']}")
    run = _update("--store", tmp_path, "--source-url", server.url, *pins)
    assert run.returncode == 0, run.stderr


def test_concurrent_updates_and_readers_never_see_a_broken_store(server: ExportServer, tmp_path: Path) -> None:
    """Four updates at once (two archives' contents alternating) while readers query: every
    update succeeds one after the other (the lock), every read answers, the store at the end
    is whole."""
    store = tmp_path / "advisories.sqlite"
    update.update(store, base_url=server.url, timeout=10)
    errors: list[BaseException] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set():
            try:
                if "PYSEC-2023-62" not in _flask_answers(store):
                    errors.append(AssertionError("flask advisories missing"))
            except (sqlite3.Error, Exception) as e:  # noqa: BLE001 - any failure is the finding
                errors.append(e)

    def writer() -> None:
        try:
            update.update(store, base_url=server.url, timeout=10)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    writers = [threading.Thread(target=writer) for _ in range(4)]
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join(timeout=60)
    done.set()
    for t in readers:
        t.join(timeout=10)
    assert errors == []
    assert server.requests.count("/osv/PyPI/all.zip") == 5
    s = AdvisoryStore(store)
    try:
        assert s.info.advisories == len(pypi_members()) + len(npm_members())
        assert s._query("PRAGMA integrity_check") == [("ok",)]
    finally:
        s.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["advisories.sqlite", "advisories.sqlite.lock"]


def _unusable(n: int) -> dict[str, bytes]:
    """``n`` OSV records secscan cannot use: Flask's PYSEC-2023-62 under new ids, its fixed
    version replaced with one PEP 440 cannot order."""
    out = {}
    for i in range(n):
        record = json.loads(pypi_members()["PYSEC-2023-62.json"])
        record["id"] = f"PYSEC-2099-{100 + i}"
        record["affected"][0]["ranges"][1]["events"][1] = {"fixed": "2.2.5 final"}
        out[f"{record['id']}.json"] = json.dumps(record).encode()
    return out


def test_an_osv_record_secscan_cannot_use_is_skipped_and_listed(server: ExportServer, tmp_path: Path) -> None:
    server.serve("PyPI", Reply(body=make_zip({**pypi_members(), **_unusable(1)})))
    run = _update("--store", tmp_path, "--source-url", server.url)
    assert run.returncode == 0, run.stderr
    assert "PYSEC-2099-100.json" in run.stderr and "not a PEP 440 version" in run.stderr
    info = json.loads(secscan("advisories", "info", "--db", tmp_path / "advisories.sqlite", "--json").stdout)
    assert info["skipped"] == 1 and info["records"][0] == ["PyPI", len(pypi_members())]
    # An archive where many records cannot be used is refused as a whole, the store kept.
    before = (tmp_path / "advisories.sqlite").read_bytes()
    server.serve("PyPI", Reply(body=make_zip({**pypi_members(), **_unusable(11)})))
    run = _update("--store", tmp_path, "--source-url", server.url)
    assert run.returncode == 2 and f"11 of {len(pypi_members()) + 11} records cannot be used" in run.stderr, run.stderr
    assert (tmp_path / "advisories.sqlite").read_bytes() == before
