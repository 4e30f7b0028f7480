"""A job as both backends keep it: a document of every field, read back without `Job.__init__`.

The journal and PostgreSQL both store `Job.to_dict()` and build the snapshot with `job_from_doc`; the
store's own tables (jobs, leases) are not for `table()`/`claims()` (`NamedTable`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

from dailies.jobs import FileRecord, Job, JobError, JobKind, JobStatus
from dailies.store.api import StoreClaims, StoreTable

__all__ = ["JOBS_TABLE", "LEASES_TABLE", "NamedTable", "NamedTables", "job_from_doc"]

JOBS_TABLE = "jobs"
LEASES_TABLE = "leases"

_JOB_FIELDS = frozenset(f.name for f in dataclasses.fields(Job))
_FILE_FIELDS = frozenset(f.name for f in dataclasses.fields(FileRecord))
_KINDS = {str(kind): kind for kind in JobKind}
_STATUSES = {str(status): status for status in JobStatus}
_new = object.__new__


class NamedTable:
    """One named table of a store, on either backend: plain records (boards, reviews) or claimed keys; never
    one of the store's own (jobs, leases), which only the store's methods write. A subclass names its store's
    type (`_store`)."""

    _store: Any

    def __init__(self, store: Any, name: str) -> None:
        if name in (JOBS_TABLE, LEASES_TABLE):
            raise ValueError(f"{name!r} is the store's own table; use the JobStore methods")
        self._store = store
        self.name = name


class NamedTables:
    """`table()` and `claims()` of the `Store` interface, alike on both backends: a backend names the classes
    that keep them (`table_type`, `claims_type`, each a `NamedTable`)."""

    table_type: ClassVar[Callable[[Any, str], StoreTable]]
    claims_type: ClassVar[Callable[[Any, str], StoreClaims]]

    def table(self, name: str) -> StoreTable:
        """Another table of plain records in the same store (boards, reviews): the same guarantees as jobs."""
        return self.table_type(self, name)

    def claims(self, name: str) -> StoreClaims:
        """A table of keys claimed once (idempotency keys, webhook ids): see `dailies.store.journal_tables.Claims`."""
        return self.claims_type(self, name)


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
