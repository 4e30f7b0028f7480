"""Following the other processes on one database: a change log every write appends to, NOTIFY when it commits,
and a listener of our own that applies what the log says changed.

Every write appends to `dailies_changes` under one advisory lock (so its sequence is the commit order) and
NOTIFYs `CHANNEL`; each process LISTENs on a connection of its own and applies what the log says changed,
and looks at the log every `POLL_S` anyway, so a page on any server sees a change well within half a second.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import TYPE_CHECKING

import psycopg

from dailies.store.api import StoreUnavailableError
from dailies.store.postgres_db import Database
from dailies.store.records import JOBS_TABLE

if TYPE_CHECKING:
    from dailies.store.postgres import PostgresStore

__all__ = ["CHANGES_KEPT_S", "CHANGE_LOCK", "CHANNEL", "POLL_S", "ChangeFollowing", "listen"]

log = logging.getLogger(__name__)

CHANNEL = "dailies_changes"
POLL_S = 5.0
"""How often a store looks at the change log without being told (a lost NOTIFY, a listener reconnecting)."""

CHANGE_LOCK = 0x6461_696C_6965_7302
"""The advisory lock every write holds until it commits: the change log's sequence is then the commit order,
so a follower reading `seq > last` never passes over a change committed late."""

CHANGES_KEPT_S = 24 * 3600.0
"""How long the change log keeps an entry (a follower that fell further behind loads everything again)."""

REREAD_TRIES = 5
"""How often a catch-up reads again a record this process wrote while it was reading (then the next change
brings it)."""


class ChangeFollowing:
    """`refresh` and `compact` of the `Store` interface for `PostgresStore`: apply what the change log says
    changed, and prune it."""

    _catch_lock: threading.Lock
    _lock: threading.RLock
    _seq: int
    _write_mark: int
    _written: dict[str, int]
    _pending_ids: set[str]

    def refresh(self) -> None:
        """Apply what the change log says changed since we last looked (the listener does this when told)."""
        self._wait_open()
        with self._catch_lock:
            with self._connection() as conn:  # given back before `_lock` is waited for (a writer holds it)
                rows = conn.execute("SELECT seq, tbl, key FROM dailies_changes WHERE seq > %s ORDER BY seq",
                                    (self._seq,)).fetchall()
            if not rows:
                return
            jobs = {key for _, tbl, key in rows if tbl == JOBS_TABLE}
            left = set(jobs)
            for _ in range(REREAD_TRIES):
                if not left:
                    break
                left = self._apply_records(left)
            with self._lock:
                self._seq = max(self._seq, int(rows[-1][0]))
            self._bump(jobs)

    def _apply_records(self, keys: set[str]) -> set[str]:
        """Show the database's records of `keys`; returns those this process wrote meanwhile (what was read may
        be older than what it wrote), to read again."""
        mark = self._write_mark
        with self._connection() as conn:
            docs = dict(conn.execute("SELECT id, doc FROM dailies_jobs WHERE id = ANY(%s)", (list(keys),)))
        again: set[str] = set()
        with self._lock:
            for key in keys:
                if key in self._pending_ids:
                    continue  # the batch reads it back when it ends
                if self._written.get(key, 0) > mark:
                    again.add(key)
                else:
                    self._show(key, docs.get(key))
        return again

    def compact(self) -> None:
        """Nothing to do: the database keeps its own files (autovacuum); the old change log is pruned here."""
        with self._connection() as conn:
            conn.execute("DELETE FROM dailies_changes WHERE at < now() - make_interval(secs => %s)",
                         (CHANGES_KEPT_S,))

    def _reload(self) -> None:
        """Load every job again (a listener that reconnected may have missed more than the log keeps)."""
        with self._catch_lock:
            self._load()
        self._bump(None)


def listen(ref: weakref.ReferenceType[PostgresStore], db: Database, closed: threading.Event) -> None:
    """Follow the other processes' writes: LISTEN on a connection of our own, apply the change log when told
    and every `POLL_S` anyway; after losing the database, reconnect and load everything again."""
    lost = False
    pruned = 0.0
    while not closed.is_set():
        try:
            with db.connect() as conn:
                conn.execute(f"LISTEN {CHANNEL}")
                store = ref()
                if store is None:
                    return
                if lost:
                    store._reload()
                    lost = False
                else:
                    store.refresh()  # what was written between loading and listening
                del store
                while not closed.is_set():
                    for _ in conn.notifies(timeout=POLL_S, stop_after=1):
                        pass
                    if closed.is_set():
                        return
                    store = ref()
                    if store is None:
                        return
                    store.refresh()
                    if time.monotonic() - pruned > 3600:
                        pruned = time.monotonic()
                        store.compact()
                    del store
        except (psycopg.Error, StoreUnavailableError) as exc:
            if closed.is_set():
                return
            lost = True
            log.warning("the job store's listener lost the database (%s); trying again", type(exc).__name__)
            closed.wait(1.0)
        except Exception:
            log.exception("following the job store failed")
            closed.wait(1.0)
