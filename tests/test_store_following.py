"""A store follows other processes' writes when told of them (inotify), and on a timer where it cannot be told.

The writers are real processes; the store's look "anyway" is set to a minute, so a store that sees a
write within seconds was told of it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from until import wait_until

from dailies.jobs import Job, JobStatus, new_job_id
from dailies.store import JobStore, file_watch, journal_follow

ROOT = Path(__file__).resolve().parents[1]

WRITE = """
import sys
from dailies.jobs import Job
from dailies.store import JobStore
store = JobStore(sys.argv[1], follow=False)
store.insert(Job(id=sys.argv[2], provider="engine", model="sora-2", prompt="from another process"))
if sys.argv[3] == "compact":
    store.update(sys.argv[2], notes="then compacted")
    store.compact()
"""


def write_from_another_process(path: Path, job_id: str, then: str = "") -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, "-c", WRITE, str(path), job_id, then], check=True, env=env, cwd=ROOT, timeout=60)


def inotify_watches() -> int:
    """The inotify watches this process holds (one line per watch in its inotify descriptors' fdinfo)."""
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        try:
            if os.readlink(fd) == "anon_inode:inotify":
                count += Path(f"/proc/self/fdinfo/{fd.name}").read_text().count("inotify wd:")
        except OSError:
            continue
    return count


@pytest.fixture
def no_safety_look(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_follow, "FOLLOW_SAFETY_S", 60.0)


def test_a_store_is_told_of_another_processes_writes_and_compaction(tmp_path: Path, no_safety_look: None) -> None:
    reader = JobStore(tmp_path / "jobs.json")
    try:
        job_id = new_job_id()
        write_from_another_process(tmp_path / "jobs.json", job_id)
        wait_until(lambda: reader.get(job_id) is not None, 10, "the other process's job")
        second = new_job_id()
        write_from_another_process(tmp_path / "jobs.json", second, "compact")  # the journal is replaced
        wait_until(lambda: reader.get(second) is not None and reader.require(second).notes == "then compacted", 10,
                   "the job written before the other process compacted")
        assert reader.get(job_id) is not None
    finally:
        reader.close()


def test_a_store_that_cannot_be_told_looks_on_a_timer(tmp_path: Path, no_safety_look: None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(file_watch, "watch", lambda path, callback: None)  # no inotify here
    reader = JobStore(tmp_path / "jobs.json")
    try:
        job_id = new_job_id()
        write_from_another_process(tmp_path / "jobs.json", job_id)
        wait_until(lambda: reader.get(job_id) is not None, 10, "the other process's job, found by looking")
    finally:
        reader.close()


def test_stores_opened_and_closed_leave_no_watch_behind(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A process that opens stores in many folders (tests, a CLI sweep per folder) would otherwise keep a
    watch and a thread for every folder it ever opened, until the user's watch limit made every later store
    fall back to polling; and closing a store is not an error in anyone's log."""
    before_watches, before_threads = inotify_watches(), threading.active_count()
    for n in range(150):
        store = JobStore(tmp_path / f"folder-{n}" / "jobs.json")
        store.insert(Job(id=new_job_id(), provider="engine", model="sora-2", prompt=f"take {n}"))
        if n == 0:
            assert inotify_watches() == before_watches + 1, "an open store watches its folder"
        store.close()
    wait_until(lambda: inotify_watches() <= before_watches, 10, "the watches dropped with their stores")
    wait_until(lambda: threading.active_count() <= before_threads + 2, 10, "the watches' threads ended")
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_two_files_in_one_folder_are_told_apart(tmp_path: Path) -> None:
    told: list[str] = []
    watches = {name: file_watch.watch(tmp_path / f"{name}.journal", lambda name=name: told.append(name))
               for name in ("a", "b")}
    assert all(watches.values()), "this Linux machine has inotify"

    def told_until_now() -> set[str]:
        """What was reported before a mark written now (a new file each time): the system reports one
        folder's events in order, so everything written before the mark has been reported before it."""
        mark = f"mark-{len(watches)}"
        watches[mark] = file_watch.watch(tmp_path / f"{mark}.journal", lambda: told.append(mark))
        (tmp_path / f"{mark}.journal").write_text("a mark\n")
        wait_until(lambda: mark in told, 10, "the mark written after everything before it")
        reported = {name for name in told[: told.index(mark)] if not name.startswith("mark")}
        told.clear()
        return reported

    try:
        (tmp_path / "a.journal").write_text("one line\n")
        assert told_until_now() == {"a"}
        watches["a"].close()
        (tmp_path / "a.journal").write_text("after its watch was closed\n")
        (tmp_path / "b.journal").write_text("one line\n")
        assert told_until_now() == {"b"}
        (tmp_path / "b.journal").read_text()  # reading is not writing: the store reads when told, and
        (tmp_path / "b.journal").read_text()  # must not be told again of its own reading
        assert told_until_now() == set(), "reading b.journal was reported as a change"
    finally:
        for name, watch in watches.items():
            if name != "a" and watch is not None:
                watch.close()


def test_refresh_returns_once_what_it_found_is_shown(tmp_path: Path) -> None:
    """`refresh()` is "catch up now": when it returns, the store shows what was on disk, even while its
    follower is midway through reading the same lines (it had moved past them, but not yet shown them)."""
    writer = JobStore(tmp_path / "jobs.json", follow=False)
    job = writer.insert(Job(id=new_job_id(), provider="engine", model="sora-2", prompt="a take"))
    reader = JobStore(tmp_path / "jobs.json")
    in_follower, go = threading.Event(), threading.Event()

    def follower_is_slow(changed: object) -> None:  # told before the store rebuilds its snapshot
        if threading.current_thread().name == "dailies-store-follow":
            in_follower.set()
            go.wait(10)

    reader._journal.listeners.insert(0, follower_is_slow)
    seen: list[JobStatus] = []

    def catch_up_now() -> None:
        reader.refresh()
        seen.append(reader.require(job.id).status)

    try:
        writer.update(job.id, status=JobStatus.COMPLETED, progress=100)
        assert in_follower.wait(10), "the follower was not woken by the write"
        asking = threading.Thread(target=catch_up_now)
        asking.start()
        asking.join(0.5)  # returning now, with the follower held, would be returning before the change is shown
        go.set()
        asking.join(10)
        assert seen == [JobStatus.COMPLETED]
    finally:
        go.set()
        reader.close()
        writer.close()
