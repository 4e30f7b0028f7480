"""The job store on a real journal file: what only the journal has (its lines, migration from TinyDB, damage,
compaction). What every store does (jobs, batches, queries, leases, tables) is in tests/store_conformance/,
run against the journal and PostgreSQL alike."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest
from until import wait_until

from dailies.jobs import Job, JobKind, JobStatus, new_job_id
from dailies.store import JobStore, ReadOnlyStoreError
from dailies.store.journal import encode
from dailies.store.journal_store import SCHEMA_VERSION


def make_job(prompt: str = "a red fox in snow", **kwargs) -> Job:
    return Job(id=new_job_id(), provider="engine", model="sora-2", prompt=prompt, size="720x1280", seconds=4, **kwargs)


def reopen(path: Path) -> JobStore:
    return JobStore(path)



def test_a_reopened_job_equals_the_one_written_and_shares_nothing_with_the_journal(tmp_path: Path) -> None:
    from dailies.jobs import FileRecord, JobError

    store = JobStore(tmp_path / "jobs.json")
    full = make_job(
        status=JobStatus.COMPLETED, kind=JobKind.EXTEND, params={"seed": 7}, axes={"lighting": "neon"},
        error=JobError("slow", code="late"), tags=["hero"], remote={"id": "video_1"}, source_job_id="job_x",
        files={"video": FileRecord("a/video.mp4", 10, "ab" * 32, "video/mp4", 7.92)},
    )
    older = make_job("from before durations were kept", files={"video": FileRecord("b/video.mp4", 5, "cd" * 32)})
    store.insert_many([full, older])
    store.close()
    # An older record: a file without `duration`, a job without `picked` (written before those fields).
    with (tmp_path / "jobs.journal").open("ab") as out:
        doc = older.to_dict()
        del doc["files"]["video"]["duration"], doc["picked"]
        out.write(encode({"t": "jobs", "k": older.id, "set": doc}))
    again = reopen(tmp_path / "jobs.json")
    assert again.require(full.id) == full
    assert again.require(older.id).files["video"].duration is None and again.require(older.id).picked is False
    job = again.require(full.id)
    job.params["seed"] = 8  # jobs are snapshots: changing one in place must not reach the store's record
    assert again._journal.table("jobs")[full.id]["params"] == {"seed": 7}


def journal_lines(path: Path) -> list[dict]:
    return [json.loads(line[9:]) for line in path.read_bytes().splitlines()]


def test_the_journal_records_its_schema_version_first(tmp_path: Path) -> None:
    JobStore(tmp_path / "jobs.json").insert(make_job())
    assert journal_lines(tmp_path / "jobs.journal")[0] == {"schema": SCHEMA_VERSION}


def test_a_write_that_fails_leaves_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    """Neither on disk nor in memory: a later write must not save the failed one's changes."""
    path = tmp_path / "jobs.json"
    store = JobStore(path)
    first = store.insert(make_job("first"))
    before = (tmp_path / "jobs.journal").read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk died mid-write")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        store.insert(make_job("second"))
    with pytest.raises(OSError):
        store.update(first.id, notes="lost with the disk")
    monkeypatch.undo()
    assert (tmp_path / "jobs.journal").read_bytes() == before
    assert [j.prompt for j in store.all()] == ["first"] and store.require(first.id).notes == ""
    store.update(first.id, rating=5)
    again = reopen(path)
    assert [j.prompt for j in again.all()] == ["first"]
    assert again.require(first.id).rating == 5 and again.require(first.id).notes == ""


def test_reads_do_not_wait_for_a_write_in_progress(tmp_path: Path, monkeypatch) -> None:
    """A page reads the snapshot while a writer holds the lock through its fsync."""
    store = JobStore(tmp_path / "jobs.json")
    job = store.insert(make_job("a red fox in snow"))
    in_fsync, finish = threading.Event(), threading.Event()
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        in_fsync.set()
        finish.wait(10)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    writer = threading.Thread(target=lambda: store.update(job.id, rating=5))
    writer.start()
    assert in_fsync.wait(5)
    seen: list[tuple] = []
    reader = threading.Thread(target=lambda: seen.append((store.get(job.id), store.all(), store.query(text="fox"))))
    reader.start()
    reader.join(5)
    assert seen, "a read waited for the writer"
    assert seen[0][0].rating is None, "the snapshot shows a write once it is durable, not before"
    finish.set()
    writer.join(5)
    assert store.require(job.id).rating == 5



def test_a_jobs_json_of_the_old_format_is_migrated_and_kept_beside(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    jobs = [make_job(f"old take {i}", rating=i % 5 or None, tags=["hero"]) for i in range(5)]
    old = {"jobs": {str(i + 1): job.to_dict() for i, job in enumerate(jobs)}, "_meta": {"1": {"schema_version": 1}}}
    path.write_text(json.dumps(old))
    store = JobStore(path)
    assert not store.warnings
    assert {j.id: j for j in store.all()} == {j.id: j for j in jobs}
    assert not path.exists() and json.loads((tmp_path / "jobs.json.before-journal").read_text()) == old
    store.update(jobs[0].id, notes="after the move")
    again = reopen(path)
    assert len(again) == 5 and again.require(jobs[0].id).notes == "after the move"


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


def test_a_store_of_a_newer_schema_opens_read_only_and_is_never_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    store = JobStore(path)
    job = store.insert(make_job("made by a newer Dailies"))
    store.close()
    journal = tmp_path / "jobs.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(encode({"schema": SCHEMA_VERSION + 1}) + b"".join(lines[1:]))
    before = journal.read_bytes()
    newer = JobStore(path)
    assert newer.read_only and "newer Dailies" in newer.warnings[0] and "read-only" in newer.warnings[0]
    assert newer.require(job.id).prompt == "made by a newer Dailies"
    with pytest.raises(ReadOnlyStoreError):
        newer.update(job.id, rating=1)
    with pytest.raises(ReadOnlyStoreError):
        newer.insert(make_job())
    assert journal.read_bytes() == before and newer.require(job.id).rating is None


def test_an_old_format_file_of_a_newer_schema_is_read_but_not_migrated(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    job = make_job("from the future")
    path.write_text(json.dumps({"jobs": {"1": job.to_dict()}, "_meta": {"1": {"schema_version": 99}}}))
    before = path.read_bytes()
    store = JobStore(path)
    assert store.read_only and store.require(job.id).prompt == "from the future"
    with pytest.raises(ReadOnlyStoreError):
        store.update(job.id, rating=2)
    assert path.read_bytes() == before and not (tmp_path / "jobs.journal").exists()


def three_takes_closed(folder: Path) -> tuple[Path, list[Job], Path]:
    """A store of three takes ("take 0" to "take 2"), closed: its path, the takes, and its journal's file."""
    path = folder / "jobs.json"
    store = JobStore(path)
    jobs = [store.insert(make_job(f"take {i}")) for i in range(3)]
    store.close()
    return path, jobs, folder / "jobs.journal"


def test_a_torn_last_line_is_ignored_and_cut_off_by_the_next_writer(tmp_path: Path) -> None:
    path, kept, journal = three_takes_closed(tmp_path)
    whole = journal.read_bytes()
    journal.write_bytes(whole + encode({"t": "jobs", "k": "job_torn", "set": make_job().to_dict()})[:40])
    opened = JobStore(path)
    assert sorted(j.id for j in opened.all()) == sorted(j.id for j in kept)
    later = opened.insert(make_job("after the tear"))
    again = reopen(path)
    assert sorted(j.id for j in again.all()) == sorted([*(j.id for j in kept), later.id])
    assert again._journal.damaged_lines == 0


def test_a_damaged_line_in_the_middle_costs_that_line_only(tmp_path: Path) -> None:
    path, jobs, journal = three_takes_closed(tmp_path)
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"take 1", b"take X")  # the checksum no longer matches
    journal.write_bytes(b"".join(lines))
    again = reopen(path)
    assert sorted(j.prompt for j in again.all()) == ["take 0", "take 2"]
    assert again.get(jobs[0].id) and again.get(jobs[2].id)










def test_compaction_keeps_every_record_and_others_follow_it(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    store = JobStore(path, follow=False)
    follower = JobStore(path)
    jobs = store.insert_many([make_job(f"take {i}") for i in range(20)])
    for n in range(10):
        for job in jobs:
            store.update(job.id, notes=f"pass {n}")
    grown = (tmp_path / "jobs.journal").stat().st_size
    store.compact()
    assert (tmp_path / "jobs.journal").stat().st_size < grown / 3
    store.update(jobs[0].id, rating=4)
    wait_until(lambda: follower.get(jobs[0].id) is not None and follower.require(jobs[0].id).rating == 4, 5,
               "the rating written after compaction in the follower")
    for seen in (follower, reopen(path)):
        assert sorted((j.prompt, j.notes) for j in seen.all()) == sorted((j.prompt, "pass 9") for j in jobs)




def _ended_pid() -> int:
    """The pid of a process that has ended (and been reaped), so no process has it now."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid
