"""A real PostgreSQL server on loopback for the tests: `initdb` into a temporary folder, `pg_ctl start`.

Debian's `postgresql` package puts its programs in `/usr/lib/postgresql/<version>/bin` (`scripts/test`
installs it when missing). `initdb` refuses to run as root, so as root the server's folder is given to
`nobody` and the programs run as that user (`runuser`). Each test gets a database of its own, made with
`CREATE DATABASE` (fast, from template0). fsync is off: the tests lose nothing when the server lives.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dailies.engine import server as engine_server

__all__ = ["PgServer", "pg_server", "pg_url", "postgres_bin"]

MISSING = ("PostgreSQL's programs were not found (looked in /usr/lib/postgresql/*/bin and on PATH). "
           "Install them with `apt-get install -y --no-install-recommends postgresql` (scripts/test does).")


def postgres_bin(name: str) -> str:
    """The path of one of PostgreSQL's programs (the newest installed version's); a clear error when missing."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise RuntimeError(MISSING)


class PgServer:
    """One PostgreSQL server in `folder`, listening on 127.0.0.1:`port` (and a socket in the folder).

    `folder` must be reachable by `nobody` when the tests run as root (a `tempfile.mkdtemp` in /tmp is)."""

    def __init__(self, folder: Path, port: int, *, durable: bool = False) -> None:
        """`durable`: fsync as a real server does (benchmarks); without, the tests' server skips it."""
        self.folder = folder
        self.durable = durable
        self.port = port
        self.data = folder / "data"
        self.user = "dailies"
        self.password = "s3cret-pw"
        self._as: list[str] = []
        self._count = 0
        self._lock = threading.Lock()

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*self._as, *args], capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr or done.stdout}")
        return done

    def start(self) -> PgServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:  # initdb refuses root: the server runs as nobody, in a folder of its own
            shutil.chown(self.folder, "nobody")
            self._as = ["runuser", "-u", "nobody", "--"]
        pwfile = self.folder / "pw"
        pwfile.write_text(self.password)
        if self._as:
            shutil.chown(pwfile, "nobody")
        self._run(postgres_bin("initdb"), "-D", str(self.data), "-U", self.user, "--auth=md5",
                  f"--pwfile={pwfile}", "-E", "UTF8", "--no-sync", "--locale=C")
        self.restart()
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`immediate`: as if it died)."""
        subprocess.run([*self._as, postgres_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
                       capture_output=True, text=True, timeout=60)

    def restart(self) -> None:
        """Start the server (again, after `stop`)."""
        options = f"-k {self.folder} -p {self.port} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(postgres_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"),
                  "-w", "-t", "60", "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        with self._lock:
            self._count += 1
            name = f"t{os.getpid()}_{self._count}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url(name)

    def size_of(self, url: str) -> int:
        """Bytes the database of `url` takes on disk."""
        with psycopg.connect(url) as conn:
            return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Fixtures: import them into a conftest or test module (`from pg_server import pg_server, pg_url`).


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    folder = Path(tempfile.mkdtemp(prefix="dailies-pg-"))
    server = PgServer(folder, engine_server.free_port())
    try:
        server.start()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """A fresh, empty database of its own for one test."""
    url = pg_server.new_database()
    yield url
    pg_server.drop_database(url)
