"""The job store: a journal on disk that many processes share, an in-memory snapshot in front of it.

Any number of processes (the app, a CLI sweep, a second app) may open one data folder:
- every write appends only the fields it changed to `jobs.journal` (see `dailies.store.journal`) under an
  inter-process lock, and is durable when it returns, so no process's jobs, reviews or files are
  lost to another's write;
- each process follows the others from a background thread, woken when the journal is written (or, where
  the system cannot tell it, looking every quarter of a second);
- reads are served from an in-memory snapshot that a writer never holds locked while it writes;
- a progress tick changes only the snapshot; status, files and review data are written at once;
- a status changes only as `dailies.jobs.MOVES` declares (else `IllegalTransition`, and nothing is written);
- `batch()` groups many writes into one append (a variant launch, a tracker tick);
- a job is worked on by one process at a time: `claim` records a lease (owner, expiry) in the
  `leases` table under the same lock, and another process may take the job when the lease lapses;
- a key is used once (an `Idempotency-Key`, a webhook id): `claims(name).claim` is a compare-and-set under
  the same lock, on the journal as it is inside it, so of two processes claiming one key one gets it.
A `jobs.json` in the format before the journal is migrated on first open (`journal_schema`), and a store
written by a newer schema opens read-only rather than be rewritten as an older one. Its parts: following
(`journal_follow`), leases (`journal_leases`), named tables and claims (`journal_tables`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from dailies.jobs import Job
from dailies.store.api import StoreOpenError
from dailies.store.journal import FREEZE_AT, Changed, Journal, ReadOnlyStoreError, Record, gc_paused
from dailies.store.journal_follow import Follower
from dailies.store.journal_leases import JournalLeases
from dailies.store.journal_schema import SCHEMA_VERSION, migrate, migrate_legacy
from dailies.store.journal_tables import Claims, Table
from dailies.store.open_state import OpensInBackground
from dailies.store.records import JOBS_TABLE, LEASES_TABLE, NamedTables, job_from_doc
from dailies.store.snapshot import SnapshotReads

__all__ = ["JobStore"]

log = logging.getLogger(__name__)


class JobStore(JournalLeases, OpensInBackground, NamedTables, SnapshotReads):
    """Every job the team made. Safe to share between threads, and between processes on one folder.

    `path` names the store (`<home>/jobs.json`); the data lives in `jobs.journal` beside it. Jobs
    handed out are snapshots: change them with `update`, never in place.
    """

    table_type = Table
    claims_type = Claims

    def __init__(self, path: str | os.PathLike[str], *, follow: bool = True, compact_ratio: float = 2.0,
                 background: bool = False, deferred: bool = False) -> None:
        """`background`: open from a thread and return at once (the app, whose first page need not wait for
        100,000 jobs to load); anything that reads or writes waits until the store has opened, so nothing ever
        sees a half-loaded store. `ready` tells without waiting.

        `deferred` (with `background`): start loading only when `open_now` is called or something needs the
        jobs (when to call it is the caller's: see `dailies.store.open_state`)."""
        self.path = Path(path)
        self.journal_path = self.path.with_suffix(".journal")
        self.warnings: list[str] = []
        self._init_reads()
        self._pending: list[Record] = []
        self._pending_ids: set[str] = set()
        self._follower: Follower | None = None
        self._claims_swept: dict[str, float] = {}
        self._options = (follow, compact_ratio)
        self._start_opening(background=background, deferred=deferred)

    # -- opening -----------------------------------------------------------------------------------

    def _open(self, background: bool) -> None:
        follow, compact_ratio = self._options
        self._opened_journal = Journal(self.journal_path, schema=SCHEMA_VERSION, compact_ratio=compact_ratio)
        if not self._journal.size and self.path.exists():
            warning = migrate_legacy(self._journal, self.path)
            if warning:
                self.warnings.append(warning)
        if self._journal.read_only:
            self.warnings.append(self._journal.read_only_message())
        self._load_snapshot()
        self._journal.listeners.append(self._on_change)
        if follow:
            self._follower = Follower(self, self.journal_path)

    def _open_failed(self, exc: BaseException) -> None:
        log.exception("could not open %s", self.journal_path)

    def _wait_open(self) -> None:
        error = self._opening.wait()
        if error is not None:
            raise StoreOpenError(f"The job store {self.journal_path} could not be opened: {error}")

    @property
    def _journal(self) -> Journal:
        self._wait_open()
        return self._opened_journal

    @property
    def _lock(self) -> threading.RLock:  # type: ignore[override]
        return self._journal.lock

    def _job_from(self, doc: dict[str, Any]) -> Job:
        return job_from_doc(migrate(doc, self._journal.file_schema or SCHEMA_VERSION))

    def _load_snapshot(self) -> None:
        jobs: dict[str, Job] = {}
        schema = self._journal.file_schema or SCHEMA_VERSION
        from_dict = job_from_doc
        with gc_paused() as pause:  # the one loop that decides how fast a store of 100,000 jobs opens
            for key, doc in self._journal.table(JOBS_TABLE).items():
                try:
                    jobs[key] = from_dict(migrate(doc, schema))
                except (TypeError, ValueError, KeyError) as exc:
                    self.warnings.append(f"A job record could not be read and was skipped ({exc}).")
            pause.freeze = len(jobs) >= FREEZE_AT
        self._snapshot = jobs
        schema = self._journal.file_schema
        if schema is not None and schema < SCHEMA_VERSION and not self._journal.read_only:
            migrated = {k: migrate(doc, schema) for k, doc in self._journal.table(JOBS_TABLE).items()}
            self._journal.compact({**self._journal.tables, JOBS_TABLE: migrated}, SCHEMA_VERSION)

    def _rebuild(self, key: str) -> None:
        """The snapshot's job for one key, from the journal's document (and our own progress tick)."""
        self._show(key, self._journal.table(JOBS_TABLE).get(key))

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

    def _end_batch(self, ok: bool) -> None:
        """Append a finished batch's records at once; when the append fails, or the batch did, take back what
        it showed, so nothing of a failed batch is left for a later write to save."""
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
        self._show_written(new)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """The inter-process lock for a write now; inside a batch only this process's (it writes at the end)."""
        with self._lock:
            if self._batch_depth:
                yield
            else:
                with self._journal.writing():
                    yield

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
            new, fields = self._changed(job_id, changes)
            records = [{"t": JOBS_TABLE, "k": job_id, "set": fields}]
            if not new.is_active and job_id in self._journal.table(LEASES_TABLE):
                records.append({"t": LEASES_TABLE, "k": job_id, "del": 1})  # a finished job needs no owner
            self._write(records, {job_id: new})
            if "progress" in changes:
                self._progress.pop(job_id, None)
            return new

    def delete(self, job_id: str) -> Job:
        with self._writing():
            job = self.require(job_id)
            records = [{"t": JOBS_TABLE, "k": job_id, "del": 1}]
            if job_id in self._journal.table(LEASES_TABLE):
                records.append({"t": LEASES_TABLE, "k": job_id, "del": 1})
            self._write(records, {job_id: None})
            return job

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

    @property
    def needs_compaction(self) -> bool:
        """Whether the journal has grown enough to be rewritten (and may be)."""
        return self._journal.needs_compaction and not self._journal.read_only

    def close(self) -> None:
        self._opening.finish()  # a store still opening in the background is closed once it has opened
        if self._follower is not None:
            self._follower.stop()

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


class _Discard(Exception):
    """A batch left by an exception: its changes are taken back and the exception goes on."""


