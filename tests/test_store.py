"""The job store on a real journal file: durable writes, batching, migration, damage, queries, leases."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path

import pytest
from until import wait_until

from dailies.jobs import Job, JobKind, JobStatus, new_job_id
from dailies.journal import encode
from dailies.store import SCHEMA_VERSION, JobStore, ReadOnlyStoreError


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


def test_a_failed_batch_is_taken_back_from_memory(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.json")
    kept = store.insert(make_job("kept"))
    with pytest.raises(RuntimeError), store.batch():
        store.insert(make_job("half a launch"))
        store.update(kept.id, notes="half a review")
        raise RuntimeError("the launch broke")
    assert [j.prompt for j in store.all()] == ["kept"] and store.require(kept.id).notes == ""
    store.update(kept.id, rating=3)
    assert [(j.prompt, j.notes, j.rating) for j in reopen(tmp_path / "jobs.json").all()] == [("kept", "", 3)]


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


def test_a_torn_last_line_is_ignored_and_cut_off_by_the_next_writer(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    store = JobStore(path)
    kept = [store.insert(make_job(f"take {i}")) for i in range(3)]
    store.close()
    journal = tmp_path / "jobs.journal"
    whole = journal.read_bytes()
    journal.write_bytes(whole + encode({"t": "jobs", "k": "job_torn", "set": make_job().to_dict()})[:40])
    opened = JobStore(path)
    assert sorted(j.id for j in opened.all()) == sorted(j.id for j in kept)
    later = opened.insert(make_job("after the tear"))
    again = reopen(path)
    assert sorted(j.id for j in again.all()) == sorted([*(j.id for j in kept), later.id])
    assert again._journal.damaged_lines == 0


def test_a_damaged_line_in_the_middle_costs_that_line_only(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    store = JobStore(path)
    jobs = [store.insert(make_job(f"take {i}")) for i in range(3)]
    store.close()
    journal = tmp_path / "jobs.journal"
    lines = journal.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b"take 1", b"take X")  # the checksum no longer matches
    journal.write_bytes(b"".join(lines))
    again = reopen(path)
    assert sorted(j.prompt for j in again.all()) == ["take 0", "take 2"]
    assert again.get(jobs[0].id) and again.get(jobs[2].id)


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
    assert loaded._journal.damaged_lines == 0  # never corrupt


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


def test_two_stores_on_one_folder_keep_each_others_fields(tmp_path: Path) -> None:
    """The tracker in one process and a rating in another: both survive, whoever writes last."""
    app = JobStore(tmp_path / "jobs.json")
    cli = JobStore(tmp_path / "jobs.json")
    job = app.insert(make_job())
    cli.refresh()
    cli.update(job.id, rating=5, notes="the one")
    app.update(job.id, status=JobStatus.COMPLETED, progress=100)
    app.refresh()
    cli.refresh()
    for seen in (app.require(job.id), cli.require(job.id), reopen(tmp_path / "jobs.json").require(job.id)):
        assert (seen.status, seen.progress, seen.rating, seen.notes) == (JobStatus.COMPLETED, 100, 5, "the one")


def test_a_batch_keeps_what_another_process_wrote_meanwhile(tmp_path: Path) -> None:
    app = JobStore(tmp_path / "jobs.json", follow=False)
    cli = JobStore(tmp_path / "jobs.json", follow=False)
    job = app.insert(make_job())
    cli.refresh()
    with app.batch():
        app.update(job.id, status=JobStatus.IN_PROGRESS)
        cli.update(job.id, rating=4)
    seen = app.require(job.id)
    assert (seen.status, seen.rating) == (JobStatus.IN_PROGRESS, 4)


def test_another_store_sees_a_change_without_being_asked(tmp_path: Path) -> None:
    writer = JobStore(tmp_path / "jobs.json")
    reader = JobStore(tmp_path / "jobs.json")
    version = reader.version
    job = writer.insert(make_job("seen from afar"))
    wait_until(lambda: reader.get(job.id) is not None, 5, "the new job in the other store")
    assert reader.version > version
    writer.delete(job.id)
    wait_until(lambda: reader.get(job.id) is None, 5, "the deletion in the other store")


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


def test_a_lease_is_one_owners_until_it_lapses(tmp_path: Path) -> None:
    app = JobStore(tmp_path / "jobs.json")
    cli = JobStore(tmp_path / "jobs.json")
    job = app.insert(make_job())
    assert app.claim(job.id, "app", ttl=0.5)
    assert not cli.claim(job.id, "cli", ttl=0.5), "a running lease is the owner's"
    assert app.claim(job.id, "app", ttl=0.5), "the owner renews"
    wait_until(lambda: cli.claim(job.id, "cli", ttl=30), 5, "the app's lease to lapse")
    assert not app.claim(job.id, "app", ttl=30), "the lapsed owner lost it"
    cli.release(job.id, "cli")
    assert app.claim(job.id, "app", ttl=30)
    other = app.insert(make_job())
    assert app.claim(other.id, "app", ttl=30)
    assert app.release_all("app") == 2, "a stopping process gives its jobs up"
    wait_until(lambda: cli.claim(job.id, "cli", ttl=30) and cli.claim(other.id, "cli", ttl=30), 5,
               "the released leases in the other store")


def test_a_lease_of_a_process_that_died_is_taken_at_once(tmp_path: Path) -> None:
    """A killed app's jobs are resumed by the next process without waiting for the lease to lapse."""
    store = JobStore(tmp_path / "jobs.json")
    job = store.insert(make_job())
    dead_owner = JobStore.new_owner().split(":")[0] + f":{_ended_pid()}:0"
    live_owner = JobStore.new_owner()
    assert store.claim(job.id, dead_owner, ttl=3600)
    assert store.claim(job.id, live_owner, ttl=3600), "the dead owner's lease does not hold"
    assert not store.claim(job.id, JobStore.new_owner(), ttl=3600), "a live owner's lease does"


def _ended_pid() -> int:
    """The pid of a process that has ended (and been reaped), so no process has it now."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_other_tables_share_the_journal_and_its_guarantees(tmp_path: Path) -> None:
    """Boards or reviews later: records in their own table, merged by field across processes' stores."""
    one = JobStore(tmp_path / "jobs.json").table("boards")
    two = JobStore(tmp_path / "jobs.json").table("boards")
    one.set("board_1", title="Harbour at dawn", shots=["job_a"])
    wait_until(lambda: two.get("board_1") is not None, 5, "the board in the other store")
    two.set("board_1", status="approved")
    one.set("board_1", title="Harbour at dusk")
    fresh = reopen(tmp_path / "jobs.json")
    board = fresh.table("boards").get("board_1")
    assert board == {"title": "Harbour at dusk", "shots": ["job_a"], "status": "approved"}
    assert len(fresh) == 0, "no job appears from another table"
    with pytest.raises(ValueError):
        fresh.table("jobs")



def test_groups_sorted_lists_and_lineage_follow_every_change(tmp_path: Path) -> None:
    """What the store works out once per version (grids, newest first, lineage) is never stale."""
    store = JobStore(tmp_path / "jobs.json")
    first, second = make_job("one", group_id="grp_a", created_at=1.0), make_job("two", group_id="grp_a", created_at=2.0)
    store.insert_many([first, second])
    assert [j.id for j in store.group("grp_a")] == [first.id, second.id]
    assert [j.id for j in store.all()] == [second.id, first.id]
    remix = store.insert(make_job("three", group_id="grp_a", created_at=3.0, source_job_id=first.id))
    assert [j.id for j in store.group("grp_a")] == [first.id, second.id, remix.id]
    assert [j.id for j in store.lineage(first.id)] == [first.id, remix.id]
    store.update(second.id, rating=5)
    assert store.group("grp_a")[1].rating == 5 and store.all()[1].rating == 5
    store.delete(remix.id)
    assert [j.id for j in store.group("grp_a")] == [first.id, second.id]
    assert [j.id for j in store.lineage(first.id)] == [first.id]
    assert [j.id for j in store.all()] == [second.id, first.id]
