"""A real, throw-away PostgreSQL server for tests and benchmarks.

Debian's ``postgresql`` package ships ``initdb`` and ``pg_ctl`` in /usr/lib/postgresql/<ver>/bin.
The server runs from a temporary folder on a free loopback port, with password (SCRAM)
authentication so credential errors can be tested for real. PostgreSQL refuses to run as root,
so as root the cluster belongs to the ``postgres`` user (``runuser``).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

USER = "secscan"


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin folder, else wherever ``pg_ctl`` is on PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl and shutil.which("initdb"):
        return Path(pg_ctl).resolve().parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    bindir: Path
    root: Path
    port: int
    password: str
    _run_as: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres", *, password: str | None = None, user: str = USER) -> str:
        pw = self.password if password is None else password
        return f"postgresql://{user}:{pw}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        subprocess.run(
            [*self._run_as, str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def start(bindir: Path, *, durable: bool = False) -> PgServer:
    """initdb + pg_ctl start in a new temporary folder; the caller must ``stop()`` it.

    ``durable=False`` turns fsync off: the data is thrown away anyway and tests run faster.
    """
    root = Path(tempfile.mkdtemp(prefix="secscan-pg-"))
    run_as: list[str] = []
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        shutil.chown(root, user="postgres", group="postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    password = "pw-" + secrets.token_hex(8)
    pwfile = root / "pwfile"
    pwfile.write_text(password + "\n", encoding="utf-8")
    if run_as:
        shutil.chown(pwfile, user="postgres", group="postgres")
    pwfile.chmod(0o600)
    try:
        subprocess.run(
            [
                *run_as,
                str(bindir / "initdb"),
                "-D",
                str(root / "data"),
                "-U",
                USER,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        opts = [
            "-c listen_addresses=127.0.0.1",
            f"-c unix_socket_directories={root}",
            "-c max_connections=60",
            "-c shared_buffers=128MB",
        ]
        if not durable:
            opts += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        last_error = ""
        for _ in range(3):  # the free port may be taken between probing and binding
            port = _free_port()
            proc = subprocess.run(
                [
                    *run_as,
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(root / "data"),
                    "-l",
                    str(root / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    " ".join([f"-p {port}", *opts]),
                    "start",
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=90,
            )
            if proc.returncode == 0:
                return PgServer(bindir=bindir, root=root, port=port, password=password, _run_as=run_as)
            log = root / "server.log"
            last_error = proc.stderr + (log.read_text(errors="replace")[-2000:] if log.exists() else "")
        raise RuntimeError(f"PostgreSQL did not start: {last_error}")
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
