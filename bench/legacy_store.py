"""The job store as it was before the journal, kept for the store benchmark's side-by-side figures only.

This is the `AtomicJSONStorage` job store as it was (TinyDB's JSON file, rewritten whole and
atomically on every write, by one process). Nothing in `dailies/` uses it; `dailies.store` reads its
files and migrates them.

Frozen on purpose: bench/store.py measures today's store against this one, so it must stay the code that
was measured, not today's code. Do not fold it onto `dailies`' helpers or tidy it to match them; the lines it
shares with dailies/store*.py and dailies/journal.py (what `duplicates` lists) are the old store's own, kept so
the comparison stays honest. Delete it when the benchmark no longer compares against the old store.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import Storage
from tinydb.table import Document

from dailies.jobs import ACTIVE_STATUSES, Job, JobKind, JobStatus

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
JOBS_TABLE = "jobs"
META_TABLE = "_meta"

# Ordered, idempotent migrations: MIGRATIONS[n] takes a job document from schema n to n + 1.
MIGRATIONS: list[Callable[[dict[str, Any]], dict[str, Any]]] = [
    lambda doc: doc,  # 0 -> 1: the first schema
]


class CorruptStoreError(Exception):
    pass


class AtomicJSONStorage(Storage):
    """TinyDB storage that keeps the data in memory and replaces the file atomically on write.

    `read()` returns the in-memory tables, so TinyDB's per-operation read costs nothing; `write()`
    serialises once. While `deferred` is set, writes only mark the data dirty, and `flush()` writes.
    """

    def __init__(self, path: str | os.PathLike[str], **_: Any) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._data: dict[str, Any] | None = None
        self.deferred = False
        self.dirty = False
        self.writes = 0

    def read(self) -> dict[str, Any] | None:
        if self._data is None:
            self._data = self._load()
        return self._data

    def _load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        if not text.strip():
            return {}
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CorruptStoreError(f"{self.path} is not valid JSON ({exc})") from exc
        if not isinstance(data, dict):
            raise CorruptStoreError(f"{self.path} does not hold TinyDB tables")
        return data

    def write(self, data: dict[str, Any]) -> None:
        self._data = data
        self.dirty = True
        if not self.deferred:
            self.flush()

    def flush(self) -> None:
        if not self.dirty or self._data is None:
            return
        payload = json.dumps(self._data, ensure_ascii=False, separators=(",", ":"))
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(payload)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        self.dirty = False
        self.writes += 1

    def close(self) -> None:
        self.flush()


class LegacyJobStore:
    """Every job the team made. Safe to share between threads (Streamlit sessions and the tracker).

    Jobs handed out are snapshots: change them with `update`, never in place.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.warnings: list[str] = []
        self._lock = threading.RLock()
        self._batch_depth = 0
        self.version = 0
        """Bumped on every change, so a page can cache what it derived from the store."""
        self._db = self._open()
        self._storage: AtomicJSONStorage = self._db.storage  # type: ignore[assignment]
        self._table = self._db.table(JOBS_TABLE, cache_size=0)
        self._jobs: dict[str, Job] = {}
        self._doc_ids: dict[str, int] = {}
        self._load_snapshot()

    def _open(self) -> TinyDB:
        db = TinyDB(self.path, storage=AtomicJSONStorage)
        try:
            db.storage.read()
        except CorruptStoreError as exc:
            backup = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
            os.replace(self.path, backup)
            self.warnings.append(
                f"The job store could not be read ({exc}). It was kept aside as {backup.name} "
                "and a new, empty store was started."
            )
            log.warning(self.warnings[-1])
            db = TinyDB(self.path, storage=AtomicJSONStorage)
        return db

    def _load_snapshot(self) -> None:
        meta = self._db.table(META_TABLE, cache_size=0)
        found = meta.get(doc_id=1)
        version = int(found.get("schema_version", 0)) if found else 0
        if version > SCHEMA_VERSION:
            self.warnings.append(
                f"{self.path.name} was written by a newer Dailies (schema {version}); "
                "unknown fields are kept but may not show."
            )
        migrated: dict[int, dict[str, Any]] = {}
        for doc in self._table.all():
            doc_key = doc.doc_id
            data = dict(doc)
            for step in MIGRATIONS[version:SCHEMA_VERSION]:
                data = step(data)
            try:
                job = Job.from_dict(data)
            except (TypeError, ValueError) as exc:
                self.warnings.append(f"A job record could not be read and was skipped ({exc}).")
                continue
            self._jobs[job.id] = job
            self._doc_ids[job.id] = int(doc_key)
            if version < SCHEMA_VERSION:
                migrated[int(doc_key)] = job.to_dict()
        if version != SCHEMA_VERSION or found is None:
            with self.batch():
                for doc_id, data in migrated.items():
                    self._table.upsert(Document(data, doc_id=doc_id))
                meta.upsert(Document({"schema_version": SCHEMA_VERSION}, doc_id=1))
        self._next_doc_id = max(self._doc_ids.values(), default=0) + 1

    # -- reading (from the snapshot) ---------------------------------------------------------------

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def require(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise KeyError(f"No job with id {job_id!r}")
        return job

    def all(self) -> list[Job]:
        """All jobs, newest first."""
        with self._lock:
            jobs = list(self._jobs.values())
        jobs.sort(key=lambda j: j.created_at, reverse=True)
        return jobs

    def __len__(self) -> int:
        return len(self._jobs)

    def query(
        self,
        *,
        status: JobStatus | Iterable[JobStatus] | None = None,
        kind: JobKind | Iterable[JobKind] | None = None,
        group_id: str | None = None,
        model: str | None = None,
        provider: str | None = None,
        text: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[Job]:
        """Jobs matching every given filter, newest first. `text` searches prompts, notes and tags."""
        statuses = _as_set(status)
        kinds = _as_set(kind)
        needle = text.strip().lower() if text else ""

        def keep(job: Job) -> bool:
            return (
                (statuses is None or job.status in statuses)
                and (kinds is None or job.kind in kinds)
                and (group_id is None or job.group_id == group_id)
                and (model is None or job.model == model)
                and (provider is None or job.provider == provider)
                and (since is None or job.created_at >= since)
                and (until is None or job.created_at < until)
                and (not needle or needle in _searchable(job))
            )

        return [job for job in self.all() if keep(job)]

    def active(self) -> list[Job]:
        return self.query(status=ACTIVE_STATUSES)

    def group(self, group_id: str) -> list[Job]:
        """A variant group's takes in the order they were launched."""
        return sorted(self.query(group_id=group_id), key=lambda j: (j.created_at, j.id))

    def lineage(self, job_id: str) -> list[Job]:
        """The job's root source and every remix, extension and edit made from it, root first."""
        with self._lock:
            root = self.require(job_id)
            seen = {root.id}
            while root.source_job_id and root.source_job_id in self._jobs and root.source_job_id not in seen:
                root = self._jobs[root.source_job_id]
                seen.add(root.id)
            children: dict[str, list[Job]] = {}
            for job in self._jobs.values():
                if job.source_job_id:
                    children.setdefault(job.source_job_id, []).append(job)
        ordered: list[Job] = []
        stack = [root]
        visited: set[str] = set()
        while stack:
            job = stack.pop(0)
            if job.id in visited:
                continue
            visited.add(job.id)
            ordered.append(job)
            stack[0:0] = sorted(children.get(job.id, []), key=lambda j: j.created_at)
        return ordered

    # -- writing -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes into one file rewrite. Nested batches flush once, at the outermost exit."""
        with self._lock:
            self._batch_depth += 1
            self._storage.deferred = True
            try:
                yield
            finally:
                self._batch_depth -= 1
                if self._batch_depth == 0:
                    self._storage.deferred = False
                    self._storage.flush()

    def insert(self, job: Job) -> Job:
        self.insert_many([job])
        return job

    def insert_many(self, jobs: Iterable[Job]) -> list[Job]:
        jobs = list(jobs)
        with self._lock:
            for job in jobs:
                if job.id in self._jobs:
                    raise ValueError(f"a job with id {job.id!r} already exists")
            docs = []
            for job in jobs:
                doc_id = self._next_doc_id
                self._next_doc_id += 1
                docs.append(Document(job.to_dict(), doc_id=doc_id))
                self._doc_ids[job.id] = doc_id
            self._table.insert_multiple(docs)
            for job in jobs:
                self._jobs[job.id] = job
            self.version += 1
        return jobs

    def update(self, job_id: str, **changes: Any) -> Job:
        """Change fields of a job and write it through at once."""
        with self._lock:
            job = self._replace(job_id, changes)
            self._table.update(job.to_dict(), doc_ids=[self._doc_ids[job_id]])
            return job

    def set_progress(self, job_id: str, progress: int) -> Job | None:
        """A progress tick: the snapshot only, no file rewrite. Status changes use `update`."""
        with self._lock:
            if job_id not in self._jobs:
                return None
            return self._replace(job_id, {"progress": progress})

    def _replace(self, job_id: str, changes: dict[str, Any]) -> Job:
        job = self.require(job_id)
        changes.setdefault("updated_at", time.time())
        new = dataclasses.replace(job, **changes)
        self._jobs[job_id] = new
        self.version += 1
        return new

    def delete(self, job_id: str) -> Job:
        with self._lock:
            job = self.require(job_id)
            self._table.remove(doc_ids=[self._doc_ids.pop(job_id)])
            del self._jobs[job_id]
            self.version += 1
            return job

    def flush(self) -> None:
        with self._lock:
            self._storage.flush()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def file_writes(self) -> int:
        """How many times the file has been rewritten (for benchmarks and tests of batching)."""
        return self._storage.writes


def _as_set(value: Any) -> set[Any] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {value}
    return set(value)


def _searchable(job: Job) -> str:
    return " ".join([job.prompt, job.notes, " ".join(job.tags), job.id, job.remote_id or ""]).lower()
