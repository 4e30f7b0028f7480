"""The job store: a journal on disk that many processes share, an in-memory snapshot in front of it.

Any number of processes (the app, a CLI sweep, a second app) may open one data folder:
- every write appends only the fields it changed to `jobs.journal` (see `dailies.journal`) under an
  inter-process lock, and is durable when it returns, so no process's jobs, reviews or files are
  lost to another's write;
- each process follows the others from a background thread, woken when the journal is written (or, where
  the system cannot tell it, looking every quarter of a second);
- reads are served from an in-memory snapshot that a writer never holds locked while it writes;
- a progress tick changes only the snapshot; status, files and review data are written at once;
- `batch()` groups many writes into one append (a variant launch, a tracker tick);
- a job is worked on by one process at a time: `claim` records a lease (owner, expiry) in the
  `leases` table under the same lock, and another process may take the job when the lease lapses;
- a key is used once (an `Idempotency-Key`, a webhook id): `claims(name).claim` is a compare-and-set under
  the same lock, on the journal as it is inside it, so of two processes claiming one key one gets it.
A `jobs.json` in the format before the journal is migrated on first open and kept beside as
`jobs.json.before-journal`. A file that cannot be read is moved aside with a warning the app shows,
and a store written by a newer schema opens read-only rather than be rewritten as an older one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import socket
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from dailies import file_watch
from dailies.errors import DailiesError
from dailies.jobs import FileRecord, Job, JobError, JobKind, JobStatus, may_move
from dailies.journal import FREEZE_AT, Changed, Journal, ReadOnlyStoreError, Record, gc_paused
from dailies.store_snapshot import CHANGE_LOG, SnapshotReads

__all__ = ["CHANGE_LOG", "JOBS_TABLE", "LEASES_TABLE", "SCHEMA_VERSION", "Claim", "Claims", "CorruptStoreError",
           "JobStore", "ReadOnlyStoreError", "StoreOpenError"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
JOBS_TABLE = "jobs"
LEASES_TABLE = "leases"
META_TABLE = "_meta"  # in the TinyDB files before the journal

# Ordered, idempotent migrations: MIGRATIONS[n] takes a job document from schema n to n + 1.
MIGRATIONS: list[Callable[[dict[str, Any]], dict[str, Any]]] = [
    lambda doc: doc,  # 0 -> 1: the first schema
]

FOLLOW_INTERVAL_S = 0.25
"""How often a store looks for what other processes wrote (a `stat`, and the new lines when any) where it
cannot be told (`dailies.file_watch`: no inotify). Pages refresh every 2 s at most, so a quarter of a second is
not seen; every wake-up of an idle server is paid all day (ten a second cost 0.2–0.6 s of CPU a minute)."""

FOLLOW_SAFETY_S = 5.0
"""How often a store that is told of writes looks anyway: a journal on a network share is written by other
machines, whose writes no local watch reports."""

CLAIM_SWEEP_S = 60.0
"""How often (at most, per table and process) a claim also deletes the table's expired claims."""

class CorruptStoreError(Exception):
    pass


class StoreOpenError(DailiesError):
    """A store opened in the background failed to open (what it said is in the message and the log)."""


class JobStore(SnapshotReads):
    """Every job the team made. Safe to share between threads, and between processes on one folder.

    `path` names the store (`<home>/jobs.json`); the data lives in `jobs.journal` beside it. Jobs
    handed out are snapshots: change them with `update`, never in place.
    """

    def __init__(self, path: str | os.PathLike[str], *, follow: bool = True, compact_ratio: float = 2.0,
                 background: bool = False, open_within: float = 0.0) -> None:
        """`background`: open from a thread and return at once (the app, whose first page need not wait
        for 100,000 jobs to load); anything that reads or writes waits until the store has opened, so
        nothing ever sees a half-loaded store. `ready` tells without waiting.

        `open_within` (with `background`): start loading when `open_now` is called (the app: once its first
        page has been drawn, since loading 100,000 jobs holds the interpreter for a second or two and would
        halve the speed of the page's own run), when something needs the jobs, or after this many seconds."""
        self.path = Path(path)
        self.journal_path = self.path.with_suffix(".journal")
        self.warnings: list[str] = []
        self._init_reads()
        self._batch_depth = 0
        self._pending: list[Record] = []
        self._pending_ids: set[str] = set()
        self._progress: dict[str, int] = {}
        self._snapshot: dict[str, Job] = {}
        self._closed = threading.Event()
        self._follower: threading.Thread | None = None
        self._written = threading.Event()  # set by the file watch: another process (or this one) wrote
        self._opened = threading.Event()
        self._open_error: BaseException | None = None
        self._needed = threading.Event()
        self._claims_swept: dict[str, float] = {}
        if background:
            self._opener = threading.Thread(target=self._open_when_needed, args=(follow, compact_ratio, open_within),
                                            name="dailies-store-open", daemon=True)
            self._opener.start()
        else:
            self._opener = threading.current_thread()
            self._open(follow, compact_ratio)

    # -- opening -----------------------------------------------------------------------------------

    def _open_when_needed(self, follow: bool, compact_ratio: float, open_within: float) -> None:
        self._needed.wait(open_within)
        self._open(follow, compact_ratio, background=True)

    def open_now(self) -> None:
        """Start loading a store opened in the background with `open_within` now (no effect otherwise)."""
        self._needed.set()

    def _open(self, follow: bool, compact_ratio: float, background: bool = False) -> None:
        try:
            self._opened_journal = Journal(self.journal_path, schema=SCHEMA_VERSION, compact_ratio=compact_ratio)
            if not self._journal.size and self.path.exists():
                self._migrate_legacy()
            if self._journal.read_only:
                self.warnings.append(self._journal.read_only_message())
            self._load_snapshot()
            self._journal.listeners.append(self._on_change)
            if follow:
                watch = file_watch.watch(self.journal_path, self._written.set)
                interval = FOLLOW_INTERVAL_S if watch is None else FOLLOW_SAFETY_S
                self._follower = threading.Thread(
                    target=_follow, args=(weakref.ref(self), self._closed, self._written, interval, watch),
                    name="dailies-store-follow", daemon=True,
                )
                self._follower.start()
            if background:
                self._bump(None)  # a page that read the version while the store opened derives everything again
        except BaseException as exc:
            if not background:
                raise
            log.exception("could not open %s", self.journal_path)
            self._open_error = exc
        finally:
            self._opened.set()

    @property
    def ready(self) -> bool:
        """Whether the store has opened (always, unless it was opened in the background and still loads)."""
        return self._opened.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the store has opened, without asking it to open sooner; False when `timeout` passed first."""
        return self._opened.wait(timeout)

    def _wait_open(self) -> None:
        if not self._opened.is_set() and threading.current_thread() is not self._opener:
            self._needed.set()  # the jobs are needed now: load them whatever the store was waiting for
            self._opened.wait()
        if self._open_error is not None:
            raise StoreOpenError(f"The job store {self.journal_path} could not be opened: {self._open_error}")

    @property
    def _journal(self) -> Journal:
        self._wait_open()
        return self._opened_journal

    @property
    def _lock(self) -> threading.RLock:
        return self._journal.lock

    @property
    def _jobs(self) -> dict[str, Job]:
        """The snapshot: job id -> job (waits while the store opens in the background)."""
        self._wait_open()
        return self._snapshot

    def _migrate_legacy(self) -> None:
        """Turn a TinyDB `jobs.json` of the format before the journal into the journal, losing nothing."""
        with self._journal.writing():
            if self._journal.size:  # another process migrated it while we waited for the lock
                return
            try:
                data = _read_legacy(self.path)
            except CorruptStoreError as exc:
                backup = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
                os.replace(self.path, backup)
                self.warnings.append(
                    f"The job store could not be read ({exc}). It was kept aside as {backup.name} "
                    "and a new, empty store was started."
                )
                log.warning(self.warnings[-1])
                return
            found = (data.get(META_TABLE) or {}).get("1") or {}
            version = int(found.get("schema_version", 0))
            jobs: dict[str, dict[str, Any]] = {}
            for doc_id, doc in (data.get(JOBS_TABLE) or {}).items():
                doc = _migrate(doc, version)
                jobs[str(doc.get("id") or f"legacy-{doc_id}")] = doc
            if version > SCHEMA_VERSION:
                # Written by a newer Dailies: read it, never rewrite it as an older one.
                self._journal.tables, self._journal.file_schema = {JOBS_TABLE: jobs}, version
                return
            self._journal.compact({JOBS_TABLE: jobs}, SCHEMA_VERSION)
            os.replace(self.path, self.path.with_name(self.path.name + ".before-journal"))
            log.info("migrated %d jobs from %s to %s", len(jobs), self.path.name, self.journal_path.name)

    def _load_snapshot(self) -> None:
        jobs: dict[str, Job] = {}
        schema = self._journal.file_schema or SCHEMA_VERSION
        from_dict = job_from_doc
        with gc_paused() as pause:  # the one loop that decides how fast a store of 100,000 jobs opens
            for key, doc in self._journal.table(JOBS_TABLE).items():
                try:
                    jobs[key] = from_dict(_migrate(doc, schema))
                except (TypeError, ValueError, KeyError) as exc:
                    self.warnings.append(f"A job record could not be read and was skipped ({exc}).")
            pause.freeze = len(jobs) >= FREEZE_AT
        self._snapshot = jobs
        schema = self._journal.file_schema
        if schema is not None and schema < SCHEMA_VERSION and not self._journal.read_only:
            migrated = {k: _migrate(doc, schema) for k, doc in self._journal.table(JOBS_TABLE).items()}
            self._journal.compact({**self._journal.tables, JOBS_TABLE: migrated}, SCHEMA_VERSION)

    def _rebuild(self, key: str) -> None:
        """The snapshot's job for one key, from the journal's document (and our own progress tick)."""
        doc = self._journal.table(JOBS_TABLE).get(key)
        if doc is None:
            self._jobs.pop(key, None)
            self._progress.pop(key, None)
            return
        try:
            job = job_from_doc(_migrate(doc, self._journal.file_schema or SCHEMA_VERSION))
        except (TypeError, ValueError, KeyError) as exc:
            self.warnings.append(f"A job record could not be read and was skipped ({exc}).")
            return
        tick = self._progress.get(key)
        if tick is not None:
            if job.is_active and tick > job.progress:
                job = dataclasses.replace(job, progress=tick)
            else:
                del self._progress[key]
        self._jobs[key] = job

    def _on_change(self, changed: Changed) -> None:
        """Another process wrote (seen while catching up): rebuild what it touched."""
        keys = set(self._journal.table(JOBS_TABLE)) | set(self._jobs) if changed is None else changed.get(JOBS_TABLE)
        if changed is None or changed:
            with gc_paused():
                for key in keys or ():
                    if key not in self._pending_ids:
                        self._rebuild(key)
            self._bump(None if changed is None else keys or ())

    @property
    def read_only(self) -> bool:
        return self._journal.read_only

    def refresh(self) -> None:
        """Catch up with other processes now, and return once what was found is shown (the follower does this
        when the journal is written, and every `FOLLOW_SAFETY_S` anyway)."""
        self._journal.refresh()

    # -- writing -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes into one append. Nested batches write once, at the outermost exit.

        Inside, the snapshot shows the batch's changes at once; when the append fails they are
        taken back, so nothing of a failed batch is left for a later write to save.
        """
        with self._lock:
            self._batch_depth += 1
            ok = False
            try:
                yield
                ok = True
            finally:
                self._batch_depth -= 1
                if self._batch_depth == 0:
                    pending, touched = self._pending, self._pending_ids
                    self._pending, self._pending_ids = [], set()
                    try:
                        if ok and pending:
                            with self._journal.writing():
                                self._journal.append(pending)
                            for key in touched:  # with what other processes wrote meanwhile, field by field
                                self._rebuild(key)
                            self._bump(touched)
                        elif not ok:
                            raise _Discard
                    except BaseException as exc:
                        for key in touched:
                            self._progress.pop(key, None)
                            self._rebuild(key)
                        self._bump(touched)
                        if not isinstance(exc, _Discard):
                            raise

    def _write(self, records: list[Record], new: dict[str, Job | None]) -> None:
        """Append records (now, or at the end of the batch), then show `new` in the snapshot."""
        if self._batch_depth:
            if self._journal.read_only:
                raise ReadOnlyStoreError(self._journal.read_only_message())
            self._pending.extend(records)
            self._pending_ids.update(new)
        else:
            self._journal.append(records)
        for key, job in new.items():
            if job is None:
                self._jobs.pop(key, None)
                self._progress.pop(key, None)
            else:
                self._jobs[key] = job
        self._bump(new)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """The inter-process lock for a write now; inside a batch only this process's (it writes at the end)."""
        with self._lock:
            if self._batch_depth:
                yield
            else:
                with self._journal.writing():
                    yield

    def insert(self, job: Job) -> Job:
        self.insert_many([job])
        return job

    def insert_many(self, jobs: Iterable[Job]) -> list[Job]:
        jobs = list(jobs)
        with self._writing(), gc_paused():
            known = self._journal.table(JOBS_TABLE)
            for job in jobs:
                if job.id in self._jobs or job.id in known:
                    raise ValueError(f"a job with id {job.id!r} already exists")
            records = [{"t": JOBS_TABLE, "k": job.id, "set": job.to_dict()} for job in jobs]
            self._write(records, {job.id: job for job in jobs})
        return jobs

    def update(self, job_id: str, **changes: Any) -> Job:
        """Change fields of a job and write them (only them) through at once."""
        with self._writing():
            job = self.require(job_id)
            changes.setdefault("updated_at", time.time())
            new = dataclasses.replace(job, **changes)
            if not may_move(job.status, new.status):
                raise ValueError(f"{job_id} cannot go from {job.status} to {new.status}")
            data = new.to_dict()
            records = [{"t": JOBS_TABLE, "k": job_id, "set": {k: data[k] for k in changes}}]
            if not new.is_active and job_id in self._journal.table(LEASES_TABLE):
                records.append({"t": LEASES_TABLE, "k": job_id, "del": 1})  # a finished job needs no owner
            self._write(records, {job_id: new})
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
            self._jobs[job_id] = new
            self._progress[job_id] = progress
            self._bump((job_id,))
            return new

    def delete(self, job_id: str) -> Job:
        with self._writing():
            job = self.require(job_id)
            records = [{"t": JOBS_TABLE, "k": job_id, "del": 1}]
            if job_id in self._journal.table(LEASES_TABLE):
                records.append({"t": LEASES_TABLE, "k": job_id, "del": 1})
            self._write(records, {job_id: None})
            return job

    # -- leases: one process at a time works on a job ----------------------------------------------

    def lease(self, job_id: str) -> dict[str, Any] | None:
        """The job's lease as last seen (`owner`, `until`), or None."""
        found = self._journal.table(LEASES_TABLE).get(job_id)
        return dict(found) if found else None

    def claim(self, job_id: str, owner: str, ttl: float) -> bool:
        """Take or renew the job's lease for `ttl` seconds; False while another live owner's lease runs.

        Atomic across processes (checked and written under the journal's lock). A lease of ours with
        more than half its time left is kept without a write, so a tracker may claim on every step.
        """
        now = time.time()
        seen = self._journal.table(LEASES_TABLE).get(job_id)
        if seen and seen.get("owner") == owner and float(seen.get("until", 0)) - now > ttl / 2:
            return True
        with self._journal.writing():
            current = self._journal.table(LEASES_TABLE).get(job_id)
            now = time.time()
            if (
                current
                and current.get("owner") != owner
                and float(current.get("until", 0)) > now
                and not _owner_gone(str(current.get("owner")))
            ):
                return False
            self._journal.append([{"t": LEASES_TABLE, "k": job_id, "set": {"owner": owner, "until": now + ttl}}])
            return True

    @staticmethod
    def new_owner() -> str:
        """A lease owner's name: this machine, this process, and a random part (for several per process)."""
        return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def release(self, job_id: str, owner: str) -> None:
        """Give the job's lease up (its work is done), when it is ours."""
        if (self._journal.table(LEASES_TABLE).get(job_id) or {}).get("owner") != owner:
            return
        with self._journal.writing():
            if (self._journal.table(LEASES_TABLE).get(job_id) or {}).get("owner") == owner:
                self._journal.append([{"t": LEASES_TABLE, "k": job_id, "del": 1}])

    def release_all(self, owner: str) -> int:
        """Give up every lease of `owner` (its process is stopping), so others take the jobs over now."""
        if not any(lease.get("owner") == owner for lease in self._journal.table(LEASES_TABLE).values()):
            return 0
        with self._journal.writing():
            mine = [k for k, lease in self._journal.table(LEASES_TABLE).items() if lease.get("owner") == owner]
            self._journal.append([{"t": LEASES_TABLE, "k": key, "del": 1} for key in mine])
            return len(mine)

    # -- other tables ------------------------------------------------------------------------------

    def table(self, name: str) -> Table:
        """Another table of plain records in the same journal (boards, reviews): the same guarantees."""
        if name in (JOBS_TABLE, LEASES_TABLE):
            raise ValueError(f"{name!r} is the store's own table; use the JobStore methods")
        return Table(self, name)

    def claims(self, name: str) -> Claims:
        """A table of keys claimed once (idempotency keys, webhook ids): see `Claims`."""
        if name in (JOBS_TABLE, LEASES_TABLE):
            raise ValueError(f"{name!r} is the store's own table; use the JobStore methods")
        return Claims(self, name)

    # -- moving records between backends -----------------------------------------------------------

    def dump(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Every record but the leases (a lease belongs to a running process), by table and key: what
        `python -m dailies migrate` copies. A claim's record holds its expiry as `_until`."""
        with self._lock:
            tables = {name: docs for name, docs in self._journal.tables.items() if name != LEASES_TABLE and docs}
            return json.loads(json.dumps(tables))

    def load(self, tables: dict[str, dict[str, dict[str, Any]]]) -> dict[str, int]:
        """Write `dump`ed records by key, each replacing the record of its key; a record equal to the one
        stored is not written, so loading the same records twice writes nothing the second time.
        Returns how many records of each table were written."""
        written: dict[str, int] = {}
        changed_jobs: list[str] = []
        with self._writing():
            if self._journal.read_only:
                raise ReadOnlyStoreError(self._journal.read_only_message())
            records: list[Record] = []
            for name, docs in tables.items():
                if name == LEASES_TABLE:
                    continue
                current = self._journal.table(name)
                count = 0
                for key, doc in docs.items():
                    if current.get(key) == doc:
                        continue
                    if key in current:
                        records.append({"t": name, "k": key, "del": 1})
                    records.append({"t": name, "k": key, "set": doc})
                    count += 1
                    if name == JOBS_TABLE:
                        changed_jobs.append(key)
                written[name] = count
            if records:
                self._journal.append(records)
            for key in changed_jobs:
                self._rebuild(key)
        if any(written.values()):
            self._bump(changed_jobs)
        return written

    # -- upkeep ------------------------------------------------------------------------------------

    def compact(self) -> None:
        """Rewrite the journal as one line per record (the follower does this when it has doubled)."""
        with self._lock:
            if self._batch_depth == 0:
                self._journal.compact()

    def flush(self) -> None:
        """Nothing to do: a write is durable when it returns. Kept for callers that flush on stop."""

    def close(self) -> None:
        self._needed.set()
        self._opened.wait()  # a store still opening in the background is closed once it has opened
        self._closed.set()
        self._written.set()
        if self._follower is not None and self._follower is not threading.current_thread():
            self._follower.join(timeout=5)

    @property
    def file_writes(self) -> int:
        """How many appends this store made (for benchmarks and tests of batching)."""
        return self._journal.appends

    @property
    def file_size(self) -> int:
        return self._journal.size

    def size_on_disk(self) -> int:
        """The journal's size in bytes now, without waiting for a store that is opening (0 when there is none)."""
        try:
            return self.journal_path.stat().st_size
        except FileNotFoundError:
            return 0


class Table:
    """A table of plain JSON records under string keys, kept in the store's journal.

    Writes are field-level, durable when they return and seen by other processes as soon as they are
    told of them, like jobs. Choose keys that cannot collide between processes (`new_job_id`-style ids).
    Records handed out are copies.
    """

    def __init__(self, store: JobStore, name: str) -> None:
        self._store = store
        self.name = name

    @property
    def _journal(self) -> Journal:
        return self._store._journal  # (waits while the store opens in the background)

    def get(self, key: str) -> dict[str, Any] | None:
        found = self._journal.table(self.name).get(key)
        return json.loads(json.dumps(found)) if found is not None else None

    def all(self) -> dict[str, dict[str, Any]]:
        return json.loads(json.dumps(self._journal.table(self.name)))

    def __len__(self) -> int:
        return len(self._journal.table(self.name))

    def set(self, key: str, **fields: Any) -> None:
        """Create the record or change the given fields of it (other fields stay as they are)."""
        with self._journal.writing():
            self._journal.append([{"t": self.name, "k": key, "set": fields}])
        self._store._bump(())

    def delete(self, key: str) -> None:
        with self._journal.writing():
            if key in self._journal.table(self.name):
                self._journal.append([{"t": self.name, "k": key, "del": 1}])
        self._store._bump(())


class Claim(NamedTuple):
    """What `Claims.claim` found: whether this caller now holds the key, and the key's record (the value
    just claimed, or the holder's)."""

    claimed: bool
    record: dict[str, Any]


_UNTIL = "_until"
"""The field of a claim's record that holds when it expires (a record without it never does)."""


class Claims:
    """Keys claimed at most once while their claim lives: idempotency keys, webhook delivery ids.

    Part of the store's interface, kept small and independent of how the store keeps it: `claim` is one
    compare-and-set ("claim this key if nobody has, else return the existing claim"), atomic across threads,
    processes and restarts; the holder may `update` the record and `release` the key. Here it is done under
    the journal's inter-process lock on the journal's state as re-read inside it; a PostgreSQL store does
    the same with a unique (table, key) constraint (`INSERT ... ON CONFLICT DO NOTHING`, expired rows
    deleted first). A claim lives `ttl` seconds; expired ones are swept away by later claims.
    Records handed out are copies, without the expiry.
    """

    def __init__(self, store: JobStore, name: str) -> None:
        self._store = store
        self.name = name

    @property
    def _journal(self) -> Journal:
        return self._store._journal  # (waits while the store opens in the background)

    def claim(self, key: str, value: dict[str, Any], ttl: float) -> Claim:
        """Hold `key` for `ttl` seconds with `value` as its record, unless a live claim holds it already.

        Returns `Claim(True, value)` when this call took it (nobody held it, or the last claim expired), and
        `Claim(False, the holder's record)` otherwise. Of any number of callers in any processes, one wins.
        """
        with self._journal.writing():
            now = time.time()
            table = self._journal.table(self.name)
            found = table.get(key)
            if found is not None and _live(found, now):
                return Claim(False, _public(found))
            records: list[Record] = []
            if found is not None:  # an expired claim: its fields must not leak into the new one
                records.append({"t": self.name, "k": key, "del": 1})
            records.append({"t": self.name, "k": key, "set": {**value, _UNTIL: now + ttl}})
            if now - self._store._claims_swept.get(self.name, 0.0) > CLAIM_SWEEP_S:
                self._store._claims_swept[self.name] = now
                records[:0] = [{"t": self.name, "k": k, "del": 1} for k, doc in table.items()
                               if k != key and not _live(doc, now)]
            self._journal.append(records)
            return Claim(True, json.loads(json.dumps(value)))

    def get(self, key: str) -> dict[str, Any] | None:
        """The key's live claim as last seen, or None."""
        found = self._journal.table(self.name).get(key)
        return _public(found) if found is not None and _live(found, time.time()) else None

    def update(self, key: str, **fields: Any) -> None:
        """Change fields of the key's record (its holder's to do; the claim keeps its expiry)."""
        with self._journal.writing():
            if key in self._journal.table(self.name):
                self._journal.append([{"t": self.name, "k": key, "set": fields}])

    def release(self, key: str) -> None:
        """Give the key up (its holder's to do), so the next `claim` of it succeeds."""
        with self._journal.writing():
            if key in self._journal.table(self.name):
                self._journal.append([{"t": self.name, "k": key, "del": 1}])


def _live(doc: dict[str, Any], now: float) -> bool:
    until = doc.get(_UNTIL)
    return until is None or float(until) > now


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in json.loads(json.dumps(doc)).items() if k != _UNTIL}


class _Discard(Exception):
    """A batch left by an exception: its changes are taken back and the exception goes on."""


def _follow(ref: weakref.ReferenceType[JobStore], closed: threading.Event, written: threading.Event,
            interval: float, watch: file_watch.Watch | None) -> None:
    """Keep a store up with other processes' writes, and compact its journal when it has doubled: when the
    file watch says the journal was written, or every `interval` seconds."""
    try:
        _follow_until_closed(ref, closed, written, interval)
    finally:
        if watch is not None:
            watch.close()


def _follow_until_closed(ref: weakref.ReferenceType[JobStore], closed: threading.Event, written: threading.Event,
                         interval: float) -> None:
    while True:
        written.wait(interval)
        written.clear()
        if closed.is_set():
            return
        store = ref()
        if store is None:
            return
        try:
            store.refresh()
            if store._journal.needs_compaction and not store.read_only:
                store.compact()
        except Exception:  # keep following; the next look may succeed
            log.exception("following %s failed", store.journal_path)
        del store


def _owner_gone(owner: str) -> bool:
    """Whether a lease's owner was a process of this machine that no longer runs (killed, crashed):
    its jobs need not wait for the lease to lapse."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


_JOB_FIELDS = frozenset(f.name for f in dataclasses.fields(Job))
_FILE_FIELDS = frozenset(f.name for f in dataclasses.fields(FileRecord))
_KINDS = {str(kind): kind for kind in JobKind}
_STATUSES = {str(status): status for status in JobStatus}
_new = object.__new__


def job_from_doc(doc: dict[str, Any]) -> Job:
    """`Job.from_dict` for a document holding exactly a job's fields (every one the store writes), 3x faster.

    Opening a store of 100,000 jobs builds 100,000 of these: through the dataclass's `__init__` that
    alone took 1-2 s. A document with every field and no other can skip `__init__` (there is nothing
    to default) and take a shallow copy as the instance's `__dict__`; the containers are copied too,
    so nothing is shared with the journal's document. Anything else goes through `Job.from_dict`.
    """
    if doc.keys() != _JOB_FIELDS:
        return Job.from_dict(doc)
    kind, status = _KINDS.get(doc["kind"]), _STATUSES.get(doc["status"])
    if kind is None or status is None:
        return Job.from_dict(doc)  # which raises the clear ValueError for an unknown word
    values = dict(doc)
    values["kind"], values["status"] = kind, status
    error = values["error"]
    values["error"] = JobError.from_dict(error) if error else None
    files = {}
    for name, rec in (values["files"] or {}).items():
        if rec.keys() == _FILE_FIELDS:
            record = _new(FileRecord)
            record.__dict__.update(rec)
        else:
            record = FileRecord(**rec)
        files[name] = record
    values["files"] = files
    values["params"] = dict(values["params"] or {})
    values["axes"] = dict(values["axes"] or {})
    values["tags"] = list(values["tags"] or [])
    values["remote"] = dict(values["remote"] or {})
    job = _new(Job)
    job.__dict__ = values
    return job


def _migrate(doc: dict[str, Any], version: int) -> dict[str, Any]:
    if version >= SCHEMA_VERSION:
        return doc
    doc = dict(doc)
    for step in MIGRATIONS[version:SCHEMA_VERSION]:
        doc = step(doc)
    return doc


def _read_legacy(path: Path) -> dict[str, Any]:
    """The TinyDB JSON file of the format before the journal."""
    text = path.read_text(encoding="utf-8")
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptStoreError(f"{path} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise CorruptStoreError(f"{path} does not hold TinyDB tables")
    return data

