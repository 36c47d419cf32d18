"""`secscan advisories`: import OSV advisories into the local database, serve them, describe them."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any

import click

from secscan.commands.wrapper import Group, handle_command_errors
from secscan.errors import ConfigError
from secscan.settings.options import effective, options
from secscan.textsafe import one_line

DB_FILENAME = "advisories.sqlite"


def default_db() -> Path:
    """The user's data dir, e.g. ~/.local/share/secscan/advisories.sqlite."""
    import platformdirs

    return platformdirs.user_data_path("secscan") / DB_FILENAME


@click.group("advisories", cls=Group)
def advisories() -> None:
    """Offline OSV advisory database for pip-audit and npm-audit: import, serve, info.

    \b
    secscan advisories update                          # fetch OSV's PyPI and npm exports, swap the store
    secscan advisories import examples/advisories      # folder of OSV YAML/JSON, or a zip of OSV JSON
    secscan advisories serve                           # prints the --osv-url for pip-audit
    secscan scan . --advisory-db PATH                  # does both for one run
    """


_DB_TYPE = {"db": click.Path(path_type=Path, dir_okay=True)}


@advisories.command("import")
@click.argument("source", type=click.Path(path_type=Path, exists=True))
@options("advisories import", types=_DB_TYPE)
@click.pass_context
@handle_command_errors
def import_cmd(ctx: click.Context, *, source: Path, **_settings: Any) -> None:
    """Load OSV advisories for PyPI and npm from SOURCE (a folder or a zip) into the database."""
    from secscan.advisories import sources, store

    given = effective(ctx, "advisories import", os.environ)
    db: Path | None = given.get("db")
    strict = bool(given.get("strict"))
    target = db or default_db()
    if target.is_dir():
        target = target / DB_FILENAME
    loaded = sources.load(source)
    for problem in loaded.problems:
        click.echo(f"secscan: skipped {one_line(str(problem))}", err=True)
    if loaded.problems and strict:
        raise ConfigError(f"{len(loaded.problems)} malformed file(s) in {source} (--strict): database not written")
    info = store.build(target, loaded, source=str(source))
    click.echo(
        f"imported {info.advisories} advisories ({info.withdrawn} withdrawn) for {info.packages} packages into {target}"
    )
    if info.ignored:
        click.echo(f"ignored {info.ignored} record(s) without a PyPI or npm package")
    if info.skipped:
        click.echo(f"skipped {info.skipped} malformed file(s) (listed above)")
    click.echo(f"snapshot: {info.snapshot}")


@advisories.command("update")
@options("advisories update")
@click.pass_context
@handle_command_errors
def update_cmd(ctx: click.Context, **_settings: Any) -> None:
    """Fetch OSV's exports for PyPI and npm, check them, and swap the store atomically.

    Downloads <source-url>/PyPI/all.zip and <source-url>/npm/all.zip, refuses an archive that
    is truncated, too large, not a zip of OSV records, a zip bomb, has a path that leaves its
    folder or the wrong --sha256; then builds the new store beside the old one and renames it
    into place. Refused (exit 2): the store is left exactly as it was.
    """
    from secscan.advisories import update

    given = effective(ctx, "advisories update", os.environ)
    target: Path = given.get("store") or default_db()
    if target.is_dir():
        target = target / DB_FILENAME
    done = update.update(
        target,
        base_url=given.get("source_url"),
        timeout=given.get("timeout"),
        checksums=given.get("sha256") or (),
    )
    info = done.info
    for a in done.archives:
        click.echo(f"{a.ecosystem}: {len(a.load.advisories)} records, {a.size} bytes, sha256 {a.sha256}")
        for problem in a.load.problems:
            click.echo(f"secscan: warning: {a.ecosystem} record skipped: {one_line(str(problem))}", err=True)
    click.echo(
        f"updated {target}: {info.advisories} advisories ({info.withdrawn} withdrawn) for {info.packages} packages"
    )
    click.echo(f"snapshot: {info.snapshot} (fetched {info.fetched_at} from {one_line(info.source)})")


@advisories.command("serve")
@options("advisories serve", types={**_DB_TYPE, "port": click.IntRange(0, 65535)})
@click.pass_context
@handle_command_errors
def serve(ctx: click.Context, **_settings: Any) -> None:
    """Answer the OSV API (POST /v1/query, /v1/querybatch, GET /v1/vulns/ID) until stopped.

    DB may also be a source folder or zip: it is then imported into a temporary database.
    """
    import ipaddress

    from secscan.advisories import service

    given = effective(ctx, "advisories serve", os.environ)
    db: Path | None = given.get("db")
    host: str = given.get("host")
    port: int = given.get("port")
    log_requests = bool(given.get("log_requests"))
    store, tmpdir = service.open_store(db or default_db())
    log = (lambda line: click.echo(one_line(line), err=True)) if log_requests else None
    svc = service.AdvisoryService(store, host=host, port=port, tmpdir=tmpdir, log=log)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        click.echo(f"secscan: warning: serving on {host}, not loopback; the API has no authentication", err=True)
    stop = threading.Event()

    def on_term(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_term) if threading.current_thread() is threading.main_thread() else None
    try:
        click.echo(f"serving snapshot {svc.snapshot} ({store.info.advisories} advisories)")
        click.echo(f"pip-audit --osv-url {svc.url}")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        svc.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


@advisories.command("info")
@options("advisories info", types=_DB_TYPE)
@click.pass_context
@handle_command_errors
def info(ctx: click.Context, **_settings: Any) -> None:
    """Describe the database: snapshot id, counts, source, files skipped at import."""
    from secscan.advisories.store import AdvisoryStore

    given = effective(ctx, "advisories info", os.environ)
    db: Path | None = given.get("db")
    as_json = bool(given.get("as_json"))
    path = db or default_db()
    if path.is_dir() and (path / DB_FILENAME).is_file():
        path = path / DB_FILENAME
    if path.is_dir():
        raise ConfigError(f"{path} is a folder: `advisories info` reads a database made by `advisories import`")
    store = AdvisoryStore(path)
    try:
        meta = store.info
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps({"database": str(path), **asdict(meta)}, indent=2))
        return
    click.echo(f"database:        {path}")
    click.echo(f"snapshot:        {meta.snapshot}")
    click.echo(f"newest modified: {meta.newest_modified}")
    click.echo(f"advisories:      {meta.advisories} ({meta.withdrawn} withdrawn), {meta.packages} packages")
    click.echo(f"aliases:         {meta.aliases}")
    click.echo(f"source:          {one_line(meta.source)} ({meta.files} files)")
    click.echo(f"taken:           {meta.taken_at or 'unknown'} ({'fetched' if meta.fetched_at else 'imported'})")
    if meta.records:
        click.echo(f"records:         {', '.join(f'{eco} {n}' for eco, n in meta.records)}")
    click.echo(f"skipped:         {meta.skipped} malformed, {meta.ignored} not PyPI")
    for problem in meta.problems:
        click.echo(f"  {one_line(problem)}")
    click.echo(f"created by:      {meta.created_by}")
