"""The job store on PostgreSQL: one database that several app servers, CLIs and API processes share.

The same interface as the journal (`dailies.store.api.Store`), kept with PostgreSQL's own mechanisms:
- psycopg 3 with a connection pool; the schema versioned and migrated at open (`dailies.store.pg_schema`);
- jobs as rows (the record as JSONB; status, group and creation time as indexed columns), the named
  tables as (table, key) rows, claims (idempotency keys, webhook ids) under the (table, key) primary
  key, so of any number of processes on any machines one claims a key;
- a write is one transaction (a `batch()` too), durable when it returns; a status change and the
  lease it ends change together;
- a status changes only as `dailies.jobs.MOVES` declares (else `IllegalTransition`, nothing written);
- a lease is a row claimed by one `INSERT … ON CONFLICT DO UPDATE … WHERE` (ours, or lapsed), so each
  unfinished job is followed by one tracker in the whole deployment and taken over when its holder's
  lease lapses (at once when the holder was a process of this machine that died);
- every write also appends to a change log under one advisory lock (so its sequence is the commit
  order) and NOTIFYs a channel; each process LISTENs on a connection of its own and applies what the
  log says changed, and looks at the log every `POLL_S` anyway, so a page on any server sees a change
  well within half a second.
Reads are served from an in-memory snapshot, as on the journal (`dailies.store.snapshot`): a History
page of 100,000 jobs is built from memory, not from a query per run. Its parts: the database and pool
(`postgres_db`), the change log and listener (`postgres_changes`), leases (`postgres_leases`) and the
named tables and claims (`postgres_tables`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import psycopg

from dailies.jobs import Job
from dailies.store import pg_schema
from dailies.store.journal import FREEZE_AT, ReadOnlyStoreError, gc_paused
from dailies.store.leases import UNTIL
from dailies.store.open_state import OpensInBackground
from dailies.store.postgres_changes import CHANGE_LOCK, CHANNEL, ChangeFollowing, listen
from dailies.store.postgres_db import CONNECT_TIMEOUT_S, Database, jsonb
from dailies.store.postgres_leases import PostgresLeases
from dailies.store.postgres_tables import PostgresClaims, PostgresTable
from dailies.store.records import JOBS_TABLE, LEASES_TABLE, NamedTables, job_from_doc
from dailies.store.snapshot import SnapshotReads

__all__ = ["REOPEN_AFTER_S", "PostgresStore"]

log = logging.getLogger(__name__)

REOPEN_AFTER_S = 5.0
"""A store that could not open (the database down when the app started) tries again when next used, at most
this often, so the pages and the tracker carry on by themselves once the database is back."""

Op = Callable[[psycopg.Connection[Any]], None]


class PostgresStore(ChangeFollowing, PostgresLeases, OpensInBackground, NamedTables, SnapshotReads):
    """Every job the team made, in a PostgreSQL database. Safe to share between threads, processes and machines.

    `url`: `postgresql://user:password@host:port/database`; it is never shown with its password (`path`).
    """

    table_type = PostgresTable
    claims_type = PostgresClaims

    def __init__(self, url: str, *, follow: bool = True, background: bool = False, deferred: bool = False,
                 pool_size: int = 4) -> None:
        self._db = Database(url)
        self.url = url
        self.path = self._db.path
        self.warnings: list[str] = []
        self._init_reads()
        self._lock = threading.RLock()
        self._catch_lock = threading.Lock()
        self._pending: list[Op] = []
        self._pending_changes: list[tuple[str, str]] = []
        self._pending_ids: set[str] = set()
        self._seq = 0
        self._write_mark = 0
        self._written: dict[str, int] = {}
        """job id -> `_write_mark` of this process's last write of it: a catch-up that read the database before
        that write must not show its older record over the newer one; it reads that record again."""
        self._leases: dict[str, tuple[str, float]] = {}
        self._claims_swept: dict[str, float] = {}
        self._read_only = False
        self.writes = 0
        self._closed = threading.Event()
        self._listener: threading.Thread | None = None
        self._options = (follow, pool_size)
        self._open_tried = time.monotonic()
        self._reopen_lock = threading.Lock()
        self._start_opening(background=background, deferred=deferred)

    # -- opening -----------------------------------------------------------------------------------

    def _open(self, background: bool) -> None:
        follow, pool_size = self._options
        try:
            found = self._db.open(pool_size)
            if found > pg_schema.SCHEMA_VERSION:
                self._read_only = True
                self.warnings.append(
                    f"The database was written by a newer Dailies (schema {found}; this one knows "
                    f"{pg_schema.SCHEMA_VERSION}). It is open read-only so that nothing newer is lost.")
            self._load()
            if follow:
                self._listener = threading.Thread(target=listen, args=(weakref.ref(self), self._db, self._closed),
                                                  name="dailies-store-listen", daemon=True)
                self._listener.start()
        except BaseException as exc:
            self._db.close()
            if not background and isinstance(exc, psycopg.Error):
                raise self._db.open_failed(exc) from None
            raise

    def _open_failed(self, exc: BaseException) -> None:
        log.error("could not open the job store at %s: %s", self.path, self._db.scrub(str(exc)))

    def _load(self) -> None:
        """Every job, and the change log's position they are as of (read in one snapshot of the database).
        Part of opening: the pool is used as it is (`_connection` would wait for the store to open)."""
        assert self._db.pool is not None
        with self._db.pool.connection(timeout=CONNECT_TIMEOUT_S) as conn, conn.transaction():
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            row = conn.execute("SELECT coalesce(max(seq), 0) FROM dailies_changes").fetchone()
            seq = int(row[0]) if row else 0
            cursor = conn.cursor()
            cursor.execute("SELECT doc FROM dailies_jobs")
            jobs: dict[str, Job] = {}
            with gc_paused() as pause:  # as the journal opens: a large snapshot is frozen out of the collector's way
                for (doc,) in cursor:
                    try:
                        job = job_from_doc(doc)
                    except (TypeError, ValueError, KeyError) as exc:
                        self.warnings.append(f"A job record could not be read and was skipped ({exc}).")
                        continue
                    jobs[job.id] = job
                pause.freeze = len(jobs) >= FREEZE_AT
        with self._lock:
            self._snapshot, self._seq = jobs, seq
            self._progress.clear()

    def _wait_open(self) -> None:
        error = self._opening.wait()
        if error is not None and not self._reopened():
            raise self._db.open_failed(error)

    def _reopened(self) -> bool:
        """Try opening again a store that could not open (at most every `REOPEN_AFTER_S`); True when it now has."""
        with self._reopen_lock:
            if self._opening.error is None:
                return True
            if time.monotonic() - self._open_tried < REOPEN_AFTER_S or self._closed.is_set():
                return False
            self._open_tried = time.monotonic()
            self._opening.again()  # keeps the error when it fails again
            if self._opening.error is None:
                log.info("the job store at %s has opened", self.path)
            return self._opening.error is None

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        self._wait_open()
        with self._db.connection() as conn:
            yield conn

    @property
    def read_only(self) -> bool:
        self._wait_open()
        return self._read_only

    # -- writing -----------------------------------------------------------------------------------

    def _run(self, ops: list[Op], changes: list[tuple[str, str]]) -> None:
        """One transaction: the writes, their entries in the change log, and a NOTIFY sent when it commits."""
        if self._read_only:
            raise ReadOnlyStoreError("The database was written by a newer Dailies; it is open read-only.")
        with self._connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (CHANGE_LOCK,))
            for op in ops:
                op(conn)
            if changes:
                with conn.cursor() as cursor:
                    cursor.executemany("INSERT INTO dailies_changes (tbl, key) VALUES (%s, %s)", changes)
                conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
        self.writes += 1

    def _write(self, ops: list[Op], new: dict[str, Job | None]) -> None:
        """Write now (or at the end of the batch), then show `new` in the snapshot."""
        changes = [(JOBS_TABLE, key) for key in new]
        if self._batch_depth:
            if self._read_only:
                raise ReadOnlyStoreError("The database was written by a newer Dailies; it is open read-only.")
            self._pending.extend(ops)
            self._pending_changes.extend(changes)
            self._pending_ids.update(new)
        else:
            self._run(ops, changes)
        self._write_mark += 1
        self._written.update(dict.fromkeys(new, self._write_mark))
        self._show_written(new)

    def _end_batch(self, ok: bool) -> None:
        """Run a finished batch's writes in one transaction; when it fails, or the batch did, take its changes
        back from memory too."""
        ops, changes, touched = self._pending, self._pending_changes, self._pending_ids
        self._pending, self._pending_changes, self._pending_ids = [], [], set()
        try:
            if ok and ops:
                self._run(ops, changes)
                self._reread(touched)  # with what other processes wrote meanwhile, field by field
            elif not ok:
                self._reread(touched, taken_back=True)
        except BaseException:
            self._reread(touched, taken_back=True)
            raise

    def _reread(self, touched: set[str], *, taken_back: bool = False) -> None:
        """Show the database's records for jobs a batch changed in memory (`taken_back`: a failed batch's)."""
        if not touched:
            return
        if taken_back:
            for key in touched:
                self._progress.pop(key, None)
        try:
            with self._connection() as conn:
                docs = dict(conn.execute("SELECT id, doc FROM dailies_jobs WHERE id = ANY(%s)", (list(touched),)))
        except psycopg.Error:
            log.exception("could not read back the jobs of a batch")
            docs = {}
        for key in touched:
            self._show(key, docs.get(key))
        self._bump(touched)

    def insert_many(self, jobs: Iterable[Job]) -> list[Job]:
        jobs = list(jobs)
        rows = [(job.id, jsonb(job.to_dict())) for job in jobs]

        def insert(conn: psycopg.Connection[Any]) -> None:
            with conn.cursor() as cursor:
                cursor.executemany("INSERT INTO dailies_jobs (id, doc, status, created_at) "
                                   "VALUES (%s, %s, '', 0) ON CONFLICT (id) DO NOTHING RETURNING id",
                                   rows, returning=True)
                done = 0
                while True:
                    done += len(cursor.fetchall())
                    if not cursor.nextset():
                        break
            if done != len(rows):
                raise ValueError("a job with one of these ids already exists")

        with self._lock:
            for job in jobs:
                if job.id in self._jobs:
                    raise ValueError(f"a job with id {job.id!r} already exists")
            self._write([insert], {job.id: job for job in jobs})
        return jobs

    def update(self, job_id: str, **changes: Any) -> Job:
        """Change fields of a job and write them (only them: another process's other fields stay)."""
        with self._lock:
            new, changed = self._changed(job_id, changes)
            fields = jsonb(changed)
            finished = not new.is_active

            def update(conn: psycopg.Connection[Any]) -> None:
                conn.execute("UPDATE dailies_jobs SET doc = doc || %s WHERE id = %s", (fields, job_id))
                if finished:  # a finished job needs no owner
                    conn.execute("DELETE FROM dailies_leases WHERE job_id = %s", (job_id,))

            self._write([update], {job_id: new})
            if finished:
                self._leases.pop(job_id, None)
            if "progress" in changes:
                self._progress.pop(job_id, None)
            return new

    def delete(self, job_id: str) -> Job:
        with self._lock:
            job = self.require(job_id)

            def delete(conn: psycopg.Connection[Any]) -> None:
                conn.execute("DELETE FROM dailies_jobs WHERE id = %s", (job_id,))
                conn.execute("DELETE FROM dailies_leases WHERE job_id = %s", (job_id,))

            self._write([delete], {job_id: None})
            return job

    # -- moving records between backends -----------------------------------------------------------

    def dump(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every record but the leases, by table and key (a claim's expiry as `_until`, as on the journal)."""
        tables: dict[str, dict[str, dict[str, Any]]] = {}
        with self._connection() as conn:
            jobs = {key: doc for key, doc in conn.execute("SELECT id, doc FROM dailies_jobs")}
            if jobs:
                tables[JOBS_TABLE] = jobs
            for tbl, key, doc, until in conn.execute("SELECT tbl, key, doc, until FROM dailies_records"):
                tables.setdefault(tbl, {})[key] = doc if until is None else {**doc, UNTIL: until}
        return tables

    def load(self, tables: dict[str, dict[str, dict[str, Any]]]) -> dict[str, int]:
        """Write `dump`ed records by key, each replacing its key's record; one equal to the stored record is
        not written, so loading the same records twice writes nothing the second time. One transaction."""
        written: dict[str, int] = {}
        changed: list[str] = []

        def load(conn: psycopg.Connection[Any]) -> None:
            for name, docs in tables.items():
                if name == LEASES_TABLE:
                    continue
                count = 0
                for key, doc in docs.items():
                    if name == JOBS_TABLE:
                        cur = conn.execute(
                            "INSERT INTO dailies_jobs AS j (id, doc, status, created_at) VALUES (%s, %s, '', 0) "
                            "ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc WHERE j.doc <> EXCLUDED.doc",
                            (key, jsonb(doc)))
                        if cur.rowcount:
                            changed.append(key)
                    else:
                        fields = {k: v for k, v in doc.items() if k != UNTIL}
                        until = doc.get(UNTIL)
                        cur = conn.execute(
                            "INSERT INTO dailies_records AS r (tbl, key, doc, until) VALUES (%s, %s, %s, %s) "
                            "ON CONFLICT (tbl, key) DO UPDATE SET doc = EXCLUDED.doc, until = EXCLUDED.until "
                            "WHERE r.doc <> EXCLUDED.doc OR r.until IS DISTINCT FROM EXCLUDED.until",
                            (name, key, jsonb(fields), until))
                    count += cur.rowcount
                written[name] = count

        self._run([load], [])
        if changed:  # logged afterwards, by key: the log entries make every process (this one too) load them
            self._run([], [(JOBS_TABLE, key) for key in changed])
            self.refresh()
        return written

    # -- upkeep ------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Nothing to do: a write is durable when it returns."""

    def size_on_disk(self) -> int:
        """0: nothing of this store is on this machine's disk (a page that waits for a small store asks)."""
        return 0

    @property
    def file_writes(self) -> int:
        """How many transactions this store committed (for tests of batching)."""
        return self.writes

    def close(self) -> None:
        self._opening.finish()
        if self._closed.is_set():
            return
        self._closed.set()
        if self._listener is not None and self._db.pool is not None:
            # Wakes our listener (and, harmlessly, the others).
            with contextlib.suppress(psycopg.Error), self._db.pool.connection(timeout=2) as conn:
                conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
            if self._listener is not threading.current_thread():
                self._listener.join(timeout=5)
        self._db.close()
