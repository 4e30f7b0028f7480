"""Which store a process opens: PostgreSQL when `DAILIES_DATABASE_URL` names one, else the journal in the data folder.

The one place the app, the CLI, the pipeline API and the webhook receiver get their store from, so
that every process of a deployment opens the same one, and when: at once, or (`open_within`) once its user
asks or at the latest after a while. The URL's password is never shown: `store_name` and every message use
`dailies.store.postgres_db.redacted`.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from dailies.config import Environment
from dailies.store.api import Store, StoreOpenError
from dailies.store.journal_store import JobStore

__all__ = ["DATABASE_URL_VAR", "open_configured_store", "open_store", "store_name"]

DATABASE_URL_VAR = "DAILIES_DATABASE_URL"
SCHEMES = ("postgresql://", "postgres://")


def open_store(home: Path, database_url: str | None = None, *, open_within: float | None = None,
               **options: Any) -> Store:
    """The store of `database_url` (PostgreSQL), or the journal in `home` when there is none.

    `options` (`follow`, `background`, `deferred`) mean the same on both backends. `open_within`: open in the
    background once asked (`open_now`, or anything that needs the jobs) and at the latest after this many
    seconds (the app asks once its first page has been drawn: loading 100,000 jobs holds the interpreter for
    a second or two and would halve the speed of the page's own run)."""
    if open_within is not None:
        options.update(background=True, deferred=True)
    if database_url:
        if not database_url.startswith(SCHEMES):
            raise StoreOpenError(f"{DATABASE_URL_VAR} must be a postgresql:// URL (it starts with "
                                 f"{database_url.split(':', 1)[0]!r}); unset it to keep the jobs in {home}.")
        from dailies.store.postgres import PostgresStore

        store: Store = PostgresStore(database_url, **options)
    else:
        store = JobStore(home / "jobs.json", **options)
    if open_within is not None:
        deadline = threading.Timer(open_within, store.open_now)
        deadline.name, deadline.daemon = "dailies-store-open-within", True
        deadline.start()
    return store


def open_configured_store(env: Environment, **options: Any) -> Store:
    """The store this environment names (`DAILIES_DATABASE_URL`, else `DAILIES_HOME`'s journal)."""
    return open_store(env.home, env.database_url, **options)


def store_name(env: Environment) -> str:
    """Where the jobs are, as it may be shown (a database URL without its password)."""
    if env.database_url:
        from dailies.store.postgres_db import redacted

        return redacted(env.database_url)
    return str(env.home / "jobs.journal")
