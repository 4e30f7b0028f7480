"""The History table kept up to date row by row: after any change it is the table a whole build gives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from until import wait_until

from dailies.history import LiveFrame, filter_frame, jobs_frame
from dailies.jobs import Job, JobStatus, new_job_id
from dailies.store import JobStore
from dailies.store.snapshot import CHANGE_LOG


def make_job(prompt: str, created_at: float, **kwargs) -> Job:
    return Job(id=new_job_id(), provider="engine", model="sora-2", prompt=prompt, size="720x1280", seconds=4,
               created_at=created_at, **kwargs)


def thumb(job: Job) -> str | None:
    return f"/thumbs/{job.id}" if job.files else None


def assert_same_as_whole_build(live: LiveFrame, store: JobStore) -> None:
    pd.testing.assert_frame_equal(live.current(), jobs_frame(store.all(), thumb))


def test_every_kind_of_change_updates_only_its_rows(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.json")
    jobs = [make_job(f"take {n} of a paper boat", 1_000_000 + n, tags=["hero"] if n % 3 else []) for n in range(50)]
    store.insert_many(jobs)
    live = LiveFrame(store, thumb)
    assert_same_as_whole_build(live, store)

    store.update(jobs[10].id, status=JobStatus.FAILED, rating=4, notes="too dark")
    assert_same_as_whole_build(live, store)
    store.update(jobs[11].id, picked=True, tags=["client"])
    store.set_progress(jobs[12].id, 55)
    assert_same_as_whole_build(live, store)
    store.insert(make_job("the newest take", 2_000_000))
    store.insert(make_job("an old take found late", 10))
    assert_same_as_whole_build(live, store)
    store.delete(jobs[0].id)
    with store.batch():
        store.update(jobs[1].id, rating=5)
        store.delete(jobs[2].id)
    store.table("boards").set("b1", name="not a job")  # a change to another table: no row changes
    assert_same_as_whole_build(live, store)
    assert len(live.current()) == 50
    assert live.rebuilds == 1, "built whole once, then row by row"

    shown = filter_frame(live.current(), ratings=[5])
    assert list(shown.index) == [jobs[1].id]


def table_built(folder: Path, count: int) -> tuple[JobStore, list[Job], LiveFrame]:
    """A store of `count` takes and History's table of it, built whole once."""
    store = JobStore(folder / "jobs.json")
    jobs = [make_job(f"take {n}", 1_000 + n) for n in range(count)]
    store.insert_many(jobs)
    live = LiveFrame(store, thumb)
    live.current()
    return store, jobs, live


def test_another_processes_change_reaches_the_table(tmp_path: Path) -> None:
    store, jobs, live = table_built(tmp_path, 20)
    other = JobStore(tmp_path / "jobs.json", follow=False)
    other.update(jobs[5].id, rating=3)
    other.insert(make_job("made by the CLI", 5_000))
    wait_until(lambda: len(live.current()) == 21, 10, "the other store's take in the table")
    assert live.current().loc[jobs[5].id, "rating"] == 3
    assert_same_as_whole_build(live, store)
    assert live.rebuilds == 1
    other.close()
    store.close()


def test_changes_too_many_or_too_old_to_follow_build_the_table_again(tmp_path: Path) -> None:
    store, jobs, live = table_built(tmp_path, 10)
    for n in range(CHANGE_LOG + 5):  # more versions than the store remembers
        store.set_progress(jobs[0].id, n % 100)
    assert store.changed_since(live.version) is None
    assert_same_as_whole_build(live, store)
    assert live.rebuilds == 2
    with store.batch():
        for job in jobs[:5]:  # half the rows: a whole build is as quick
            store.update(job.id, rating=2)
    assert_same_as_whole_build(live, store)
    assert live.rebuilds == 3
