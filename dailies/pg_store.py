"""The job store on PostgreSQL: one database that several app servers, CLIs and API processes share.

The same interface as the journal (`dailies.store_api.Store`), kept with PostgreSQL's own mechanisms:
- psycopg 3 with a connection pool; the schema versioned and migrated at open (`dailies.pg_schema`);
- jobs as rows (the record as JSONB; status, group and creation time as indexed columns), the named
  tables as (table, key) rows, claims (idempotency keys, webhook ids) under the (table, key) primary
  key, so of any number of processes on any machines one claims a key;
- a write is one transaction (a `batch()` too), durable when it returns; a status change and the
  lease it ends change together;
- a lease is a row claimed by one `INSERT … ON CONFLICT DO UPDATE … WHERE` (ours, or lapsed), so each
  unfinished job is followed by one tracker in the whole deployment and taken over when its holder's
  lease lapses (at once when the holder was a process of this machine that died);
- every write also appends to a change log under one advisory lock (so its sequence is the commit
  order) and NOTIFYs a channel; each process LISTENs on a connection of its own and applies what the
  log says changed, and looks at the log every `POLL_S` anyway, so a page on any server sees a change
  well within half a second.
Reads are served from an in-memory snapshot, as on the journal (`dailies.store_snapshot`): a History
page of 100,000 jobs is built from memory, not from a query per run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
import psycopg
from psycopg.types.json import Jsonb, set_json_loads
from psycopg_pool import ConnectionPool

from dailies import pg_schema
from dailies.jobs import Job, may_move
from dailies.journal import FREEZE_AT, ReadOnlyStoreError, gc_paused
from dailies.store import (
    CLAIM_SWEEP_S,
    JOBS_TABLE,
    LEASES_TABLE,
    Claim,
    StoreOpenError,
    _owner_gone,
    job_from_doc,
)
from dailies.store_api import StoreUnavailableError
from dailies.store_snapshot import SnapshotReads

__all__ = ["CHANNEL", "POLL_S", "PostgresStore", "redacted"]

log = logging.getLogger(__name__)

CHANNEL = "dailies_changes"
POLL_S = 5.0
"""How often a store looks at the change log without being told (a lost NOTIFY, a listener reconnecting)."""

CHANGE_LOCK = 0x6461_696C_6965_7302
"""The advisory lock every write holds until it commits: the change log's sequence is then the commit order,
so a follower reading `seq > last` never passes over a change committed late."""

CHANGES_KEPT_S = 24 * 3600.0
"""How long the change log keeps an entry (a follower that fell further behind loads everything again)."""

CONNECT_TIMEOUT_S = 5

REREAD_TRIES = 5
"""How often a catch-up reads again a record this process wrote while it was reading (then the next change
brings it)."""

REOPEN_AFTER_S = 5.0
"""A store that could not open (the database down when the app started) tries again when next used, at most
this often, so the pages and the tracker carry on by themselves once the database is back."""

_UNTIL = "_until"  # a claim's expiry, as `dump` hands it out (the journal's field)


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


def _json(value: Any) -> Jsonb:
    return Jsonb(value, dumps=_dumps)


Op = Callable[[psycopg.Connection[Any]], None]


class PostgresStore(SnapshotReads):
    """Every job the team made, in a PostgreSQL database. Safe to share between threads, processes and machines.

    `url`: `postgresql://user:password@host:port/database`; it is never shown with its password (`path`).
    """

    def __init__(self, url: str, *, follow: bool = True, background: bool = False, open_within: float = 0.0,
                 pool_size: int = 4) -> None:
        self.url = url
        self.path = redacted(url)
        self.warnings: list[str] = []
        self._init_reads()
        self._snapshot: dict[str, Job] = {}
        self._progress: dict[str, int] = {}
        self._lock = threading.RLock()
        self._catch_lock = threading.Lock()
        self._batch_depth = 0
        self._pending: list[Op] = []
        self._pending_changes: list[tuple[str, str]] = []
        self._pending_ids: set[str] = set()
        self._seq = 0
        self._write_mark = 0
        self._written: dict[str, int] = {}
        """job id -> `_write_mark` of this process's last write of it: a catch-up that read the database before
        that write must not show its older record over the newer one; it reads that record again."""
        self._leases: dict[str, tuple[str, float]] = {}  # our own leases as written: job id -> (owner, until)
        self._claims_swept: dict[str, float] = {}
        self._read_only = False
        self.writes = 0
        self._pool: ConnectionPool[Any] | None = None
        self._closed = threading.Event()
        self._listener: threading.Thread | None = None
        self._opened = threading.Event()
        self._open_error: BaseException | None = None
        self._open_options = (follow, pool_size)
        self._open_tried = time.monotonic()
        self._reopen_lock = threading.Lock()
        self._needed = threading.Event()
        if background:
            self._opener = threading.Thread(target=self._open_when_needed, args=(follow, pool_size, open_within),
                                            name="dailies-store-open", daemon=True)
            self._opener.start()
        else:
            self._opener = threading.current_thread()
            self._open(follow, pool_size)

    # -- opening -----------------------------------------------------------------------------------

    def _open_when_needed(self, follow: bool, pool_size: int, open_within: float) -> None:
        self._needed.wait(open_within)
        self._open(follow, pool_size, background=True)

    def open_now(self) -> None:
        self._needed.set()

    def _open(self, follow: bool, pool_size: int, background: bool = False) -> None:
        try:
            self._connect(pool_size)
            self._load()
            if follow:
                self._listener = threading.Thread(target=_listen, args=(weakref.ref(self), self.url, self._closed),
                                                  name="dailies-store-listen", daemon=True)
                self._listener.start()
            self._open_error = None
            if background:
                self._bump(None)
        except BaseException as exc:
            if self._pool is not None:
                self._pool.close()
            if not background:
                if isinstance(exc, psycopg.Error):
                    raise self._open_failed(exc) from None
                raise
            log.error("could not open the job store at %s: %s", self.path, self._scrub(str(exc)))
            self._open_error = exc
        finally:
            self._opened.set()

    def _scrub(self, text: str) -> str:
        password = urlsplit(self.url).password
        return text.replace(password, "***") if password else text

    def _open_failed(self, exc: BaseException) -> StoreOpenError:
        said = self._scrub(str(exc).strip()) or type(exc).__name__
        said = " ".join(said.split())  # one line: the server's message spans several
        return StoreOpenError(f"The job store at {self.path} could not be opened ({said}). Check that the "
                              "database is running and DAILIES_DATABASE_URL is right.")

    def _connect(self, pool_size: int) -> None:
        # One connection first, for the database's own message when it cannot be reached (a pool only times out).
        with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            found = pg_schema.migrate(conn)
            if found > pg_schema.SCHEMA_VERSION:
                self._read_only = True
                self.warnings.append(
                    f"The database was written by a newer Dailies (schema {found}; this one knows "
                    f"{pg_schema.SCHEMA_VERSION}). It is open read-only so that nothing newer is lost.")

        def configure(conn: psycopg.Connection[Any]) -> None:
            set_json_loads(orjson.loads, conn)

        # `check`: a connection is tried before it is handed out (a round trip on loopback, a fraction of a
        # millisecond), so the first write after the database came back does not fail on a connection it broke.
        self._pool = ConnectionPool(self.url, min_size=1, max_size=pool_size, open=False, configure=configure,
                                    kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
                                    check=ConnectionPool.check_connection, name="dailies-store")
        self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)

    def _load(self) -> None:
        """Every job, and the change log's position they are as of (read in one snapshot of the database).
        Part of opening: the pool is used as it is (`_connection` would wait for the store to open)."""
        assert self._pool is not None
        with self._pool.connection(timeout=CONNECT_TIMEOUT_S) as conn, conn.transaction():
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

    @property
    def ready(self) -> bool:
        return self._opened.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self._opened.wait(timeout)

    def _wait_open(self) -> None:
        if not self._opened.is_set() and threading.current_thread() is not self._opener:
            self._needed.set()
            self._opened.wait()
        if self._open_error is not None and not self._reopened():
            raise self._open_failed(self._open_error)

    def _reopened(self) -> bool:
        """Try opening again a store that could not open (at most every `REOPEN_AFTER_S`); True when it now has."""
        with self._reopen_lock:
            if self._open_error is None:
                return True
            if time.monotonic() - self._open_tried < REOPEN_AFTER_S or self._closed.is_set():
                return False
            self._open_tried = time.monotonic()
            self._pool = None
            self._open(*self._open_options, background=True)  # keeps the error when it fails again
            if self._open_error is None:
                log.info("the job store at %s has opened", self.path)
            return self._open_error is None

    @property
    def _jobs(self) -> dict[str, Job]:
        self._wait_open()
        return self._snapshot

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        self._wait_open()
        assert self._pool is not None
        try:
            with self._pool.connection(timeout=CONNECT_TIMEOUT_S) as conn:
                yield conn
        except psycopg.OperationalError as exc:  # the database is down or unreachable (PoolTimeout is one too)
            said = self._scrub(str(exc).strip()) or type(exc).__name__
            raise StoreUnavailableError(f"The job store at {self.path} cannot be reached ({said}). Nothing was "
                                        "written; try again once the database is back.") from None

    @property
    def read_only(self) -> bool:
        self._wait_open()
        return self._read_only

    # -- following other processes -----------------------------------------------------------------

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
                    self._rebuild(key, docs.get(key))
        return again

    def _reload(self) -> None:
        """Load every job again (a listener that reconnected may have missed more than the log keeps)."""
        with self._catch_lock:
            self._load()
        self._bump(None)

    def _rebuild(self, key: str, doc: dict[str, Any] | None) -> None:
        if doc is None:
            self._snapshot.pop(key, None)
            self._progress.pop(key, None)
            return
        try:
            job = job_from_doc(doc)
        except (TypeError, ValueError, KeyError) as exc:
            self.warnings.append(f"A job record could not be read and was skipped ({exc}).")
            return
        tick = self._progress.get(key)
        if tick is not None:
            if job.is_active and tick > job.progress:
                job = dataclasses.replace(job, progress=tick)
            else:
                del self._progress[key]
        self._snapshot[key] = job

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
        for key, job in new.items():
            self._written[key] = self._write_mark
            if job is None:
                self._snapshot.pop(key, None)
                self._progress.pop(key, None)
            else:
                self._snapshot[key] = job
        self._bump(new)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes into one transaction. Nested batches write once, at the outermost exit; when the
        transaction fails its changes are taken back from memory too."""
        self._wait_open()
        with self._lock:
            self._batch_depth += 1
            ok = False
            try:
                yield
                ok = True
            finally:
                self._batch_depth -= 1
                if self._batch_depth == 0:
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
            self._rebuild(key, docs.get(key))
        self._bump(touched)

    def insert(self, job: Job) -> Job:
        self.insert_many([job])
        return job

    def insert_many(self, jobs: Iterable[Job]) -> list[Job]:
        jobs = list(jobs)
        rows = [(job.id, _json(job.to_dict())) for job in jobs]

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
            job = self.require(job_id)
            changes.setdefault("updated_at", time.time())
            new = dataclasses.replace(job, **changes)
            if not may_move(job.status, new.status):
                raise ValueError(f"{job_id} cannot go from {job.status} to {new.status}")
            data = new.to_dict()
            fields = _json({k: data[k] for k in changes})
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

    def set_progress(self, job_id: str, progress: int) -> Job | None:
        """A progress tick: the snapshot only, no write. Status changes use `update`."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return None
            new = dataclasses.replace(job, progress=progress, updated_at=time.time())
            self._snapshot[job_id] = new
            self._progress[job_id] = progress
            self._bump((job_id,))
            return new

    def delete(self, job_id: str) -> Job:
        with self._lock:
            job = self.require(job_id)

            def delete(conn: psycopg.Connection[Any]) -> None:
                conn.execute("DELETE FROM dailies_jobs WHERE id = %s", (job_id,))
                conn.execute("DELETE FROM dailies_leases WHERE job_id = %s", (job_id,))

            self._write([delete], {job_id: None})
            return job

    # -- leases ------------------------------------------------------------------------------------

    def lease(self, job_id: str) -> dict[str, Any] | None:
        with self._connection() as conn:
            row = conn.execute("SELECT owner, until FROM dailies_leases WHERE job_id = %s", (job_id,)).fetchone()
        return {"owner": row[0], "until": row[1]} if row else None

    def claim(self, job_id: str, owner: str, ttl: float) -> bool:
        """Take or renew the job's lease for `ttl` seconds; False while another live owner's lease runs.

        One statement: insert the lease, or take the row when it is ours or has lapsed (the row is locked
        while it is checked, so of two processes one wins). A lease of ours with more than half its time
        left is kept without a write, so a tracker may claim on every step."""
        now = time.time()
        mine = self._leases.get(job_id)
        if mine and mine[0] == owner and mine[1] - now > ttl / 2:
            return True
        until = now + ttl
        with self._connection() as conn:
            row = conn.execute(
                "INSERT INTO dailies_leases AS l (job_id, owner, until) VALUES (%s, %s, %s) "
                "ON CONFLICT (job_id) DO UPDATE SET owner = EXCLUDED.owner, until = EXCLUDED.until "
                "WHERE l.owner = EXCLUDED.owner OR l.until <= %s RETURNING owner",
                (job_id, owner, until, now)).fetchone()
            if row is None:
                held = conn.execute("SELECT owner FROM dailies_leases WHERE job_id = %s", (job_id,)).fetchone()
                if held is None or not _owner_gone(str(held[0])):
                    return False
                row = conn.execute(  # its holder was a process of this machine that died: take it at once
                    "UPDATE dailies_leases SET owner = %s, until = %s WHERE job_id = %s AND owner = %s "
                    "RETURNING owner", (owner, until, job_id, held[0])).fetchone()
                if row is None:
                    return False
        self._leases[job_id] = (owner, until)
        return True

    @staticmethod
    def new_owner() -> str:
        from dailies.store import JobStore

        return JobStore.new_owner()

    def release(self, job_id: str, owner: str) -> None:
        self._leases.pop(job_id, None)
        with self._connection() as conn:
            conn.execute("DELETE FROM dailies_leases WHERE job_id = %s AND owner = %s", (job_id, owner))

    def release_all(self, owner: str) -> int:
        for key in [k for k, (who, _) in self._leases.items() if who == owner]:
            self._leases.pop(key, None)
        with self._connection() as conn:
            return conn.execute("DELETE FROM dailies_leases WHERE owner = %s", (owner,)).rowcount

    # -- other tables ------------------------------------------------------------------------------

    def table(self, name: str) -> PostgresTable:
        if name in (JOBS_TABLE, LEASES_TABLE):
            raise ValueError(f"{name!r} is the store's own table; use the JobStore methods")
        return PostgresTable(self, name)

    def claims(self, name: str) -> PostgresClaims:
        if name in (JOBS_TABLE, LEASES_TABLE):
            raise ValueError(f"{name!r} is the store's own table; use the JobStore methods")
        return PostgresClaims(self, name)

    # -- moving records between backends -----------------------------------------------------------

    def dump(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every record but the leases, by table and key (a claim's expiry as `_until`, as on the journal)."""
        tables: dict[str, dict[str, dict[str, Any]]] = {}
        with self._connection() as conn:
            jobs = {key: doc for key, doc in conn.execute("SELECT id, doc FROM dailies_jobs")}
            if jobs:
                tables[JOBS_TABLE] = jobs
            for tbl, key, doc, until in conn.execute("SELECT tbl, key, doc, until FROM dailies_records"):
                tables.setdefault(tbl, {})[key] = doc if until is None else {**doc, _UNTIL: until}
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
                            (key, _json(doc)))
                        if cur.rowcount:
                            changed.append(key)
                    else:
                        fields = {k: v for k, v in doc.items() if k != _UNTIL}
                        until = doc.get(_UNTIL)
                        cur = conn.execute(
                            "INSERT INTO dailies_records AS r (tbl, key, doc, until) VALUES (%s, %s, %s, %s) "
                            "ON CONFLICT (tbl, key) DO UPDATE SET doc = EXCLUDED.doc, until = EXCLUDED.until "
                            "WHERE r.doc <> EXCLUDED.doc OR r.until IS DISTINCT FROM EXCLUDED.until",
                            (name, key, _json(fields), until))
                    count += cur.rowcount
                written[name] = count

        self._run([load], [])
        if changed:  # logged afterwards, by key: the log entries make every process (this one too) load them
            self._run([], [(JOBS_TABLE, key) for key in changed])
            self.refresh()
        return written

    # -- upkeep ------------------------------------------------------------------------------------

    def compact(self) -> None:
        """Nothing to do: the database keeps its own files (autovacuum); the old change log is pruned here."""
        with self._connection() as conn:
            conn.execute("DELETE FROM dailies_changes WHERE at < now() - make_interval(secs => %s)",
                         (CHANGES_KEPT_S,))

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
        self._needed.set()
        self._opened.wait()
        if self._closed.is_set():
            return
        self._closed.set()
        if self._listener is not None and self._pool is not None:
            # Wakes our listener (and, harmlessly, the others).
            with contextlib.suppress(psycopg.Error), self._pool.connection(timeout=2) as conn:
                conn.execute("SELECT pg_notify(%s, '')", (CHANNEL,))
            if self._listener is not threading.current_thread():
                self._listener.join(timeout=5)
        if self._pool is not None:
            self._pool.close()


class PostgresTable:
    """A named table of plain JSON records (boards, reviews, rounds) as (table, key) rows; field-level writes."""

    def __init__(self, store: PostgresStore, name: str) -> None:
        self._store = store
        self.name = name

    def get(self, key: str) -> dict[str, Any] | None:
        with self._store._connection() as conn:
            row = conn.execute("SELECT doc FROM dailies_records WHERE tbl = %s AND key = %s",
                               (self.name, key)).fetchone()
        return row[0] if row else None

    def all(self) -> dict[str, dict[str, Any]]:
        with self._store._connection() as conn:
            return dict(conn.execute("SELECT key, doc FROM dailies_records WHERE tbl = %s", (self.name,)))

    def __len__(self) -> int:
        with self._store._connection() as conn:
            row = conn.execute("SELECT count(*) FROM dailies_records WHERE tbl = %s", (self.name,)).fetchone()
        return int(row[0]) if row else 0

    def set(self, key: str, **fields: Any) -> None:
        """Create the record or change the given fields of it (other fields stay, whoever wrote them)."""
        doc = _json(fields)

        def upsert(conn: psycopg.Connection[Any]) -> None:
            conn.execute("INSERT INTO dailies_records AS r (tbl, key, doc) VALUES (%s, %s, %s) "
                         "ON CONFLICT (tbl, key) DO UPDATE SET doc = r.doc || EXCLUDED.doc", (self.name, key, doc))

        self._store._run([upsert], [(self.name, key)])
        self._store._bump(())

    def delete(self, key: str) -> None:
        def delete(conn: psycopg.Connection[Any]) -> None:
            conn.execute("DELETE FROM dailies_records WHERE tbl = %s AND key = %s", (self.name, key))

        self._store._run([delete], [(self.name, key)])
        self._store._bump(())


class PostgresClaims:
    """Keys claimed at most once while their claim lives, under the (table, key) primary key: expired claims
    are deleted and the key inserted with `ON CONFLICT DO NOTHING` in one transaction, so of any number of
    callers on any machines one gets it (see `dailies.store.Claims` for the contract)."""

    def __init__(self, store: PostgresStore, name: str) -> None:
        self._store = store
        self.name = name

    def claim(self, key: str, value: dict[str, Any], ttl: float) -> Claim:
        now = time.time()
        sweep = now - self._store._claims_swept.get(self.name, 0.0) > CLAIM_SWEEP_S
        if sweep:
            self._store._claims_swept[self.name] = now
        with self._store._connection() as conn, conn.transaction():
            if sweep:
                conn.execute("DELETE FROM dailies_records WHERE tbl = %s AND until <= %s", (self.name, now))
            else:
                conn.execute("DELETE FROM dailies_records WHERE tbl = %s AND key = %s AND until <= %s",
                             (self.name, key, now))
            row = conn.execute("INSERT INTO dailies_records (tbl, key, doc, until) VALUES (%s, %s, %s, %s) "
                               "ON CONFLICT (tbl, key) DO NOTHING RETURNING doc",
                               (self.name, key, _json(value), now + ttl)).fetchone()
            if row is not None:
                return Claim(True, json.loads(json.dumps(value)))
            held = conn.execute("SELECT doc FROM dailies_records WHERE tbl = %s AND key = %s",
                                (self.name, key)).fetchone()
        return Claim(False, held[0] if held else {})

    def get(self, key: str) -> dict[str, Any] | None:
        with self._store._connection() as conn:
            row = conn.execute("SELECT doc FROM dailies_records WHERE tbl = %s AND key = %s "
                               "AND (until IS NULL OR until > %s)", (self.name, key, time.time())).fetchone()
        return row[0] if row else None

    def update(self, key: str, **fields: Any) -> None:
        with self._store._connection() as conn:
            conn.execute("UPDATE dailies_records SET doc = doc || %s WHERE tbl = %s AND key = %s",
                         (_json(fields), self.name, key))

    def release(self, key: str) -> None:
        with self._store._connection() as conn:
            conn.execute("DELETE FROM dailies_records WHERE tbl = %s AND key = %s", (self.name, key))


def _listen(ref: weakref.ReferenceType[PostgresStore], url: str, closed: threading.Event) -> None:
    """Follow the other processes' writes: LISTEN on a connection of our own, apply the change log when told
    and every `POLL_S` anyway; after losing the database, reconnect and load everything again."""
    lost = False
    pruned = 0.0
    while not closed.is_set():
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
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
