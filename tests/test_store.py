"""The job store on a real TinyDB file: atomic writes, batching, concurrency, corruption, queries."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from dailies.jobs import Job, JobKind, JobStatus, new_job_id
from dailies.store import SCHEMA_VERSION, JobStore


def make_job(prompt: str = "a red fox in snow", **kwargs) -> Job:
    return Job(id=new_job_id(), provider="engine", model="sora-2", prompt=prompt, size="720x1280", seconds=4, **kwargs)


def reopen(path: Path) -> JobStore:
    return JobStore(path)


def test_jobs_survive_a_restart_with_every_field(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.json")
    job = make_job(axes={"lighting": "neon"}, group_id="grp_1", tags=["hero"], cost_estimate=0.4)
    store.insert(job)
    store.update(job.id, status=JobStatus.FAILED, rating=4, notes="nice <b>", picked=True)
    again = reopen(tmp_path / "jobs.json").require(job.id)
    assert again.status is JobStatus.FAILED and again.rating == 4 and again.picked
    assert again.axes == {"lighting": "neon"} and again.tags == ["hero"] and again.notes == "nice <b>"


def test_the_file_records_a_schema_version(tmp_path: Path) -> None:
    JobStore(tmp_path / "jobs.json").insert(make_job())
    data = json.loads((tmp_path / "jobs.json").read_text())
    assert data["_meta"]["1"]["schema_version"] == SCHEMA_VERSION


def test_a_crash_during_a_write_leaves_the_previous_file_intact(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "jobs.json"
    store = JobStore(path)
    first = store.insert(make_job("first"))
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk died mid-write")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        store.insert(make_job("second"))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [j.id for j in reopen(path).all()] == [first.id]
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")], "no temp file left behind"


def test_a_corrupt_file_is_kept_aside_with_a_warning_and_the_store_starts(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    path.write_text('{"jobs": {"1": {"id": "job_1", "prom')
    store = JobStore(path)
    assert len(store) == 0
    assert store.warnings and "kept aside" in store.warnings[0]
    backups = list(tmp_path.glob("jobs.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text().startswith('{"jobs"')
    store.insert(make_job())
    assert len(reopen(path)) == 1


def test_a_progress_tick_does_not_rewrite_the_file_but_a_status_change_does(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.json")
    job = store.insert(make_job())
    writes = store.file_writes
    for p in range(1, 50):
        store.set_progress(job.id, p)
    assert store.file_writes == writes
    assert store.require(job.id).progress == 49
    store.update(job.id, status=JobStatus.IN_PROGRESS)
    assert store.file_writes == writes + 1


def test_a_batch_is_one_rewrite(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.json")
    writes = store.file_writes
    with store.batch():
        jobs = [store.insert(make_job(f"take {i}")) for i in range(20)]
        for job in jobs:
            store.update(job.id, status=JobStatus.IN_PROGRESS)
    assert store.file_writes == writes + 1
    assert len(reopen(tmp_path / "jobs.json")) == 20


def test_many_writers_lose_no_update(tmp_path: Path) -> None:
    """Sessions (threads) rate and tag while a tracker moves statuses: every change lands on disk."""
    store = JobStore(tmp_path / "jobs.json")
    jobs = [store.insert(make_job(f"take {i}")) for i in range(8)]
    errors: list[BaseException] = []

    def reviewer(job: Job) -> None:
        try:
            for n in range(15):
                store.update(job.id, notes=f"note {n}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def tracker() -> None:
        for n in range(15):
            for job in jobs:
                store.update(job.id, progress=n)

    threads = [threading.Thread(target=reviewer, args=(j,)) for j in jobs] + [threading.Thread(target=tracker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    loaded = reopen(tmp_path / "jobs.json")
    for job in jobs:
        again = loaded.require(job.id)
        assert again.notes == "note 14" and again.progress == 14
    json.loads((tmp_path / "jobs.json").read_text())  # never corrupt


def test_queries_by_status_group_text_and_lineage(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.json")
    root = store.insert(make_job("a lighthouse at dusk"))
    remix = store.insert(make_job("a lighthouse in neon", kind=JobKind.REMIX, source_job_id=root.id))
    edit = store.insert(make_job("make it black and white", kind=JobKind.EDIT, source_job_id=remix.id))
    other = store.insert(make_job("desert caravan", group_id="grp_a", status=JobStatus.COMPLETED))
    store.insert(make_job("desert caravan at night", group_id="grp_a"))

    assert {j.id for j in store.query(text="LIGHTHOUSE")} == {root.id, remix.id}
    assert [j.id for j in store.query(status=JobStatus.COMPLETED)] == [other.id]
    assert [j.prompt for j in store.group("grp_a")] == ["desert caravan", "desert caravan at night"]
    assert [j.id for j in store.lineage(edit.id)] == [root.id, remix.id, edit.id]
    assert [j.id for j in store.lineage(root.id)] == [root.id, remix.id, edit.id]
    store.delete(other.id)
    assert store.get(other.id) is None and len(reopen(tmp_path / "jobs.json")) == 4


def test_duplicate_ids_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.json")
    job = store.insert(make_job())
    writes = store.file_writes
    with pytest.raises(ValueError):
        store.insert(job)
    assert store.file_writes == writes and len(store) == 1
