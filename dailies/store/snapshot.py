"""What every job store does alike: an in-memory snapshot of the jobs, read without a lock, and versions.

Both backends (`dailies.store.JobStore`, the journal; `dailies.store.postgres.PostgresStore`, PostgreSQL) keep
the jobs in memory as `Job` snapshots and answer every read from there: a History page of 100,000 jobs
is built from memory on either, and what a page derived is kept per `version`. A backend keeps
the snapshot current (its own writes, and with `_show` what it learns other processes wrote) and calls
`_bump` with the ids it changed; the reads, progress ticks and the change feed (`changed_since`) are
this class's, and so is what a write of either backend decides before it writes (`insert` as one of
`insert_many`, `_changed`: an update's new job and changed fields) and how writes are batched (`batch`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from dailies.jobs import ACTIVE_STATUSES, Job, JobKind, JobStatus, check_move
from dailies.store.records import job_from_doc

__all__ = ["CHANGE_LOG", "SnapshotReads"]

log = logging.getLogger(__name__)

CHANGE_LOG = 2048
"""Versions whose changed job ids a store remembers (`changed_since`), so a page can update what it
derived from the jobs instead of deriving it again from all of them."""


class SnapshotReads:
    """Reads of a job snapshot and its versions, shared by the store backends (see the module)."""

    version: int
    warnings: list[str]
    _lock: threading.RLock
    """Held by every write of this process (a backend's)."""

    def _init_reads(self) -> None:
        self._snapshot: dict[str, Job] = {}
        self._progress: dict[str, int] = {}
        """Progress ticks of this process not written (`set_progress`): kept over an older record read back."""
        self.version = 0
        """Bumped on every change (ours or another process's), so a page can cache what it derived."""
        self._changes: deque[tuple[int, frozenset[str] | None]] = deque(maxlen=CHANGE_LOG)
        self._newest_first: tuple[int, list[Job]] = (-1, [])
        self._children: tuple[int, dict[str, list[Job]]] = (-1, {})
        self._groups: tuple[int, dict[str, list[Job]]] = (-1, {})
        self._version_lock = threading.Lock()
        self._watchers: list[Callable[[int], None]] = []
        self._batch_depth = 0

    def _wait_open(self) -> None:
        """Wait while the backend opens (raising when it could not)."""
        raise NotImplementedError

    @property
    def _jobs(self) -> dict[str, Job]:
        """The snapshot: job id -> job (waiting while the backend opens)."""
        self._wait_open()
        return self._snapshot

    def _job_from(self, doc: dict[str, Any]) -> Job:
        """A job from its stored document (a backend with older schemas migrates it first)."""
        return job_from_doc(doc)

    def _show(self, key: str, doc: dict[str, Any] | None) -> None:
        """Show one job's stored document in the snapshot (None: it is gone), with this process's progress tick
        when that is newer. A document that cannot be read is skipped with a warning."""
        if doc is None:
            self._snapshot.pop(key, None)
            self._progress.pop(key, None)
            return
        try:
            job = self._job_from(doc)
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

    def _show_written(self, new: dict[str, Job | None]) -> None:
        """Show the jobs this process has just written (None: deleted) in the snapshot, as one change."""
        for key, job in new.items():
            if job is None:
                self._snapshot.pop(key, None)
                self._progress.pop(key, None)
            else:
                self._snapshot[key] = job
        self._bump(new)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Group writes into one write of the backend (an append, a transaction). Nested batches write once,
        at the outermost exit (`_end_batch`). Inside, the snapshot shows the batch's changes at once; when the
        write fails they are taken back."""
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
                    self._end_batch(ok)

    def _end_batch(self, ok: bool) -> None:
        """Write what a batch gathered (`ok`), else take back what it showed (a backend's)."""
        raise NotImplementedError

    def insert(self, job: Job) -> Job:
        self.insert_many([job])
        return job

    def insert_many(self, jobs: Iterable[Job]) -> list[Job]:
        """Add new jobs (a backend's), refusing ids it already has."""
        raise NotImplementedError

    def _changed(self, job_id: str, changes: dict[str, Any]) -> tuple[Job, dict[str, Any]]:
        """What an `update` writes, on either backend: the job as `changes` leave it (stamped `updated_at`, its
        status move checked against the lifecycle) and the changed fields as stored."""
        job = self.require(job_id)
        changes.setdefault("updated_at", time.time())
        new = dataclasses.replace(job, **changes)
        check_move(job_id, job.status, new.status)
        data = new.to_dict()
        return new, {k: data[k] for k in changes}

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

    # -- versions ----------------------------------------------------------------------------------

    def _bump(self, keys: Iterable[str] | None) -> None:
        """A new version, and which jobs it changed (None: any may have, as after a reload)."""
        with self._version_lock:
            self.version += 1
            self._changes.append((self.version, None if keys is None else frozenset(keys)))
            version, watchers = self.version, list(self._watchers)
        for watcher in watchers:
            try:
                watcher(version)
            except Exception:  # a watcher's failure is not the writer's
                log.exception("a store watcher failed")

    def on_change(self, watcher: Callable[[int], None]) -> None:
        """Call `watcher(version)` on every new version, ours or another process's, as it is made: the app
        server pushes a change to its open tabs from here instead of every tab looking on a timer. Called on
        the writer's or the follower's thread, so a watcher must return at once (hand the work to its own)."""
        with self._version_lock:
            self._watchers.append(watcher)

    def changed_since(self, version: int) -> set[str] | None:
        """The ids of the jobs changed (added, changed or deleted) after `version`, or None when that is
        not known: too many versions ago, or every job may have changed (another process compacted
        the store into something else). Read `version` before the jobs it describes."""
        with self._version_lock:
            if version == self.version:
                return set()
            entries = list(self._changes)
            current = self.version
        if version > current or not entries or entries[0][0] > version + 1:
            return None
        changed: set[str] = set()
        for seen, keys in entries:
            if seen > version:
                if keys is None:
                    return None
                changed.update(keys)
        return changed

    # -- reading (from the snapshot, without a lock) -----------------------------------------------

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def require(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise KeyError(f"No job with id {job_id!r}")
        return job

    def all(self) -> list[Job]:
        """All jobs, newest first (sorted once per version: every page asks, 0.1 s at 100,000 jobs)."""
        version = self.version  # before the jobs: what is sorted is at least as new as the version it is kept for
        seen, jobs = self._newest_first
        if seen != version:
            jobs = list(self._jobs.values())  # one C-level copy: atomic under the GIL, so no lock is needed
            jobs.sort(key=lambda j: j.created_at, reverse=True)
            self._newest_first = (version, jobs)
        return list(jobs)

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
        """A variant group's takes in the order they were launched (grouped once per version: a grid's
        page asks several times a run, and looking through 100,000 jobs each time took a tenth of a second)."""
        version = self.version
        built, groups = self._groups
        if built != version:
            groups = {}
            for job in list(self._jobs.values()):
                if job.group_id:
                    groups.setdefault(job.group_id, []).append(job)
            self._groups = (version, groups)
        return sorted(groups.get(group_id, ()), key=lambda j: (j.created_at, j.id))

    def lineage(self, job_id: str) -> list[Job]:
        """The job's root source and every remix, extension and edit made from it, root first."""
        version = self.version
        jobs = dict(self._jobs)
        root = self.require(job_id)
        seen = {root.id}
        while root.source_job_id and root.source_job_id in jobs and root.source_job_id not in seen:
            root = jobs[root.source_job_id]
            seen.add(root.id)
        built, children = self._children
        if built != version:  # who was made from whom, worked out once per version rather than per call
            children = {}
            for job in jobs.values():
                if job.source_job_id:
                    children.setdefault(job.source_job_id, []).append(job)
            self._children = (version, children)
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


def _as_set(value: object) -> set[object] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {value}
    return set(value)  # type: ignore[call-overload]


def _searchable(job: Job) -> str:
    return " ".join([job.prompt, job.notes, " ".join(job.tags), job.id, job.remote_id or ""]).lower()
