"""``start(path)``: serve an advisory database (or a source folder/zip) on loopback for one run.

Used by ``secscan scan --advisory-db PATH``::

    with service.start(cfg.advisory_db) as svc:
        pip-audit ... --osv-url svc.url        # e.g. http://127.0.0.1:40123/v1/query
        RunResult(advisory_db=svc.snapshot, ...)

``svc.url`` is the full query endpoint because pip-audit 2.10 POSTs each query to ``--osv-url``
itself (its default is ``https://api.osv.dev/v1/query``; see pip_audit/_service/osv.py).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from secscan.advisories import sources
from secscan.advisories.server import AdvisoryServer
from secscan.advisories.store import AdvisoryStore, StoreInfo, build, is_database
from secscan.errors import ConfigError

LOOPBACK = "127.0.0.1"


class AdvisoryService:
    """A running advisory server; a context manager that stops it (and removes temp files)."""

    def __init__(
        self,
        store: AdvisoryStore,
        *,
        host: str = LOOPBACK,
        port: int = 0,
        tmpdir: tempfile.TemporaryDirectory[str] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self._tmpdir = tmpdir
        try:
            self._server = AdvisoryServer((host, port), store, log=log)
        except OSError as e:
            store.close()
            if tmpdir is not None:
                tmpdir.cleanup()
            raise ConfigError(f"cannot start the advisory server on {host}:{port}: {e.strerror or e}") from e
        self.host = host
        self.port = self._server.port
        self.base_url = f"http://{host}:{self.port}"
        self.url = f"{self.base_url}/v1/query"
        """What to pass to pip-audit's ``--osv-url``."""
        self.snapshot = store.snapshot
        """The snapshot id to record in RunResult.advisory_db."""
        self.info: StoreInfo = store.info
        self.warnings: tuple[str, ...] = (
            (f"advisories: {store.info.skipped} malformed file(s) skipped at import",) if store.info.skipped else ()
        )
        # A short poll interval: shutdown() waits up to one interval (0.5 s by default).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="secscan-advisories", daemon=True
        )
        self._thread.start()
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.store.close()
        if self._tmpdir is not None:
            self._tmpdir.cleanup()

    def __enter__(self) -> AdvisoryService:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_store(path: Path) -> tuple[AdvisoryStore, tempfile.TemporaryDirectory[str] | None]:
    """A database file as is; a source folder or zip imported into a temporary database."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"advisory database or source {path} does not exist")
    if path.is_file() and is_database(path):
        return AdvisoryStore(path), None
    loaded = sources.load(path)  # ConfigError when it is neither a folder nor a zip
    tmpdir = tempfile.TemporaryDirectory(prefix="secscan-advisories-")
    try:
        db = Path(tmpdir.name) / "advisories.sqlite"
        build(db, loaded, source=str(path))
        return AdvisoryStore(db), tmpdir
    except BaseException:
        tmpdir.cleanup()
        raise


def start(path: Path, *, host: str = LOOPBACK, port: int = 0) -> AdvisoryService:
    """Serve ``path`` (database made by ``advisories import``, or a folder/zip of OSV files)
    on an ephemeral loopback port in a background thread. Raises ConfigError (exit 2)."""
    store, tmpdir = open_store(path)
    return AdvisoryService(store, host=host, port=port, tmpdir=tmpdir)
