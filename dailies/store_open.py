"""Which store a process opens: PostgreSQL when `DAILIES_DATABASE_URL` names one, else the journal in the data folder.

The one place the app, the CLI, the pipeline API and the webhook receiver get their store from, so
that every process of a deployment opens the same one. The URL's password is never shown: `store_name`
and every message use `dailies.pg_store.redacted`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dailies.config import Environment
from dailies.store import JobStore, StoreOpenError
from dailies.store_api import Store

__all__ = ["DATABASE_URL_VAR", "open_configured_store", "open_store", "store_name"]

DATABASE_URL_VAR = "DAILIES_DATABASE_URL"
SCHEMES = ("postgresql://", "postgres://")


def open_store(home: Path, database_url: str | None = None, **options: Any) -> Store:
    """The store of `database_url` (PostgreSQL), or the journal in `home` when there is none.

    `options` (`follow`, `background`, `open_within`) mean the same on both backends."""
    if database_url:
        if not database_url.startswith(SCHEMES):
            raise StoreOpenError(f"{DATABASE_URL_VAR} must be a postgresql:// URL (it starts with "
                                 f"{database_url.split(':', 1)[0]!r}); unset it to keep the jobs in {home}.")
        from dailies.pg_store import PostgresStore

        return PostgresStore(database_url, **options)
    return JobStore(home / "jobs.json", **options)


def open_configured_store(env: Environment, **options: Any) -> Store:
    """The store this environment names (`DAILIES_DATABASE_URL`, else `DAILIES_HOME`'s journal)."""
    return open_store(env.home, env.database_url, **options)


def store_name(env: Environment) -> str:
    """Where the jobs are, as it may be shown (a database URL without its password)."""
    if env.database_url:
        from dailies.pg_store import redacted

        return redacted(env.database_url)
    return str(env.home / "jobs.journal")
