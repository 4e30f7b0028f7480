"""The PostgreSQL store's database: a connection pool, the schema migrated when it opens, JSONB values, and
messages that never show the URL's password."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import psycopg
from psycopg.types.json import Jsonb, set_json_loads
from psycopg_pool import ConnectionPool

from dailies.store import pg_schema
from dailies.store.api import StoreOpenError, StoreUnavailableError

__all__ = ["CONNECT_TIMEOUT_S", "Database", "jsonb", "redacted"]

CONNECT_TIMEOUT_S = 5


def redacted(url: str) -> str:
    """The URL as it may be shown or logged: its password replaced by `***`."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "postgresql://***"
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, parts.fragment))


_NUL = re.compile(r"(?<!\\)((?:\\\\)*)\\u0000")
"""A NUL character as JSON writes it (`\\u0000`, not preceded by an escaped backslash)."""


def _dumps(value: Any) -> str:
    """JSON for a JSONB column. PostgreSQL's text cannot hold U+0000 (a NUL pasted into a prompt would make the
    write fail), so a NUL is kept as U+FFFD, the replacement character; everything else is kept exactly."""
    try:
        text = orjson.dumps(value).decode()
    except TypeError:  # an int past 64 bits in a provider's raw object
        text = json.dumps(value, ensure_ascii=False)
    return _NUL.sub(r"\1\\ufffd", text) if "\\u0000" in text else text


def jsonb(value: Any) -> Jsonb:
    """`value` as a JSONB parameter (see `_dumps`)."""
    return Jsonb(value, dumps=_dumps)


class Database:
    """One database as the store uses it. `url`: `postgresql://user:password@host:port/database`; `path` is the
    URL as it may be shown."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = redacted(url)
        self.pool: ConnectionPool[Any] | None = None

    def open(self, pool_size: int) -> int:
        """Migrate the schema and open the pool; the schema version the database was found at (a newer one than
        `pg_schema.SCHEMA_VERSION` is left as it is)."""
        # One connection first, for the database's own message when it cannot be reached (a pool only times out).
        with self.connect() as conn:
            found = pg_schema.migrate(conn)

        def configure(conn: psycopg.Connection[Any]) -> None:
            set_json_loads(orjson.loads, conn)

        # `check`: a connection is tried before it is handed out (a round trip on loopback, a fraction of a
        # millisecond), so the first write after the database came back does not fail on a connection it broke.
        self.pool = ConnectionPool(self.url, min_size=1, max_size=pool_size, open=False, configure=configure,
                                   kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
                                   check=ConnectionPool.check_connection, name="dailies-store")
        self.pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
        return found

    def connect(self) -> psycopg.Connection[Any]:
        """A connection of its own, outside the pool (a listener's, the schema's)."""
        return psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection of the pool; the database down or unreachable raises `StoreUnavailableError`."""
        assert self.pool is not None
        try:
            with self.pool.connection(timeout=CONNECT_TIMEOUT_S) as conn:
                yield conn
        except psycopg.OperationalError as exc:  # the database is down or unreachable (PoolTimeout is one too)
            said = self.scrub(str(exc).strip()) or type(exc).__name__
            raise StoreUnavailableError(f"The job store at {self.path} cannot be reached ({said}). Nothing was "
                                        "written; try again once the database is back.") from None

    def scrub(self, text: str) -> str:
        """`text` without the URL's password."""
        password = urlsplit(self.url).password
        return text.replace(password, "***") if password else text

    def open_failed(self, exc: BaseException) -> StoreOpenError:
        """What to tell of `exc`, raised while opening: the server's message, on one line, without the password."""
        said = self.scrub(str(exc).strip()) or type(exc).__name__
        said = " ".join(said.split())  # one line: the server's message spans several
        return StoreOpenError(f"The job store at {self.path} could not be opened ({said}). Check that the "
                              "database is running and DAILIES_DATABASE_URL is right.")
