"""Every store behaviour the app relies on, run against both backends (the journal and PostgreSQL).

Each test opens its stores with `backend.open()`: two stores opened there are two processes' stores on
one team's data (one data folder, or one database). What only the journal has (its lines, compaction,
torn writes) is tested in tests/test_store*.py; what only PostgreSQL has in test_pg_store.py.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
from store_backends import Backend, nothing_lost, three_writers
from until import wait_until

from dailies.jobs import MOVES, FileRecord, IllegalTransition, Job, JobError, JobKind, JobStatus, new_job_id
from dailies.store import JobStore, StoreOpenError, leases

TESTS = Path(__file__).resolve().parents[1]


def make_job(prompt: str = "a red fox in snow", **kwargs) -> Job:
    return Job(id=new_job_id(), provider="engine", model="sora-2", prompt=prompt, size="720x1280", seconds=4, **kwargs)


# -- jobs ------------------------------------------------------------------------------------------------


def test_jobs_survive_a_restart_with_every_field(backend: Backend) -> None:
    store = backend.open()
    job = make_job(axes={"lighting": "neon"}, group_id="grp_1", tags=["hero"], cost_estimate=0.4)
    store.insert(job)
    store.update(job.id, status=JobStatus.FAILED, rating=4, notes="nice <b>", picked=True)
    again = backend.open().require(job.id)
    assert again.status is JobStatus.FAILED and again.rating == 4 and again.picked
    assert again.axes == {"lighting": "neon"} and again.tags == ["hero"] and again.notes == "nice <b>"


def test_a_reopened_job_equals_the_one_written_and_is_a_snapshot(backend: Backend) -> None:
    store = backend.open()
    full = make_job(
        status=JobStatus.COMPLETED, kind=JobKind.EXTEND, params={"seed": 7}, axes={"lighting": "neon"},
        error=JobError("slow", code="late"), tags=["hero"], remote={"id": "video_1"}, source_job_id="job_x",
        files={"video": FileRecord("a/video.mp4", 10, "ab" * 32, "video/mp4", 7.92)},
    )
    store.insert(full)
    store.close()
    again = backend.open()
    assert again.require(full.id) == full
    again.require(full.id).params["seed"] = 8  # changing a job in place must not reach the store's record
    assert backend.open().require(full.id).params == {"seed": 7}


def test_a_failed_batch_is_taken_back_from_memory(backend: Backend) -> None:
    store = backend.open()
    kept = store.insert(make_job("kept"))
    with pytest.raises(RuntimeError), store.batch():
        store.insert(make_job("half a launch"))
        store.update(kept.id, notes="half a review")
        raise RuntimeError("the launch broke")
    assert [j.prompt for j in store.all()] == ["kept"] and store.require(kept.id).notes == ""
    store.update(kept.id, rating=3)
    assert [(j.prompt, j.notes, j.rating) for j in backend.open().all()] == [("kept", "", 3)]


def test_a_progress_tick_is_not_written_but_a_status_change_is(backend: Backend) -> None:
    store = backend.open()
    job = store.insert(make_job())
    writes = store.file_writes
    for p in range(1, 50):
        store.set_progress(job.id, p)
    assert store.file_writes == writes
    assert store.require(job.id).progress == 49
    store.update(job.id, status=JobStatus.IN_PROGRESS)
    assert store.file_writes == writes + 1


def test_an_undeclared_status_move_raises_and_writes_nothing(backend: Backend) -> None:
    """Every move `jobs.MOVES` leaves out is refused by `update`, which then writes nothing: not the status,
    not the other fields given with it, not in memory, not on disk, not inside a batch."""
    store = backend.open()
    illegal = [(old, new) for old in JobStatus for new in JobStatus if old != new and new not in MOVES[old]]
    assert len(illegal) > 20, "most moves are not declared"
    jobs = {old: store.insert(make_job(str(old), status=old)) for old in JobStatus}
    writes, version = store.file_writes, store.version
    for old, new in illegal:
        with pytest.raises(IllegalTransition, match=f"cannot go from {old} to {new}") as refused:
            store.update(jobs[old].id, status=new, notes="must not be kept")
        assert isinstance(refused.value, ValueError) and (refused.value.old, refused.value.new) == (old, new)
    with pytest.raises(IllegalTransition), store.batch():
        store.update(jobs[JobStatus.QUEUED].id, notes="taken back with the batch")
        store.update(jobs[JobStatus.COMPLETED].id, status=JobStatus.TIMED_OUT)
    assert store.file_writes == writes and store.version >= version
    for reader in (store, backend.open()):
        assert {old: (reader.require(job.id).status, reader.require(job.id).notes) for old, job in jobs.items()} == {
            old: (old, "") for old in JobStatus}


def test_every_declared_status_move_is_kept(backend: Backend) -> None:
    store = backend.open()
    moves = [(old, new) for old in JobStatus for new in sorted(MOVES[old] | {old})]
    jobs = [(store.insert(make_job(f"{old} to {new}", status=old)), new) for old, new in moves]
    with store.batch():
        for job, new in jobs:
            store.update(job.id, status=new)
    again = backend.open()
    assert {job.id: again.require(job.id).status for job, _ in jobs} == {job.id: new for job, new in jobs}


def test_a_batch_is_one_write(backend: Backend) -> None:
    store = backend.open()
    writes = store.file_writes
    with store.batch():
        jobs = [store.insert(make_job(f"take {i}")) for i in range(20)]
        for job in jobs:
            store.update(job.id, status=JobStatus.IN_PROGRESS)
    assert store.file_writes == writes + 1
    assert len(backend.open()) == 20


def test_many_writers_lose_no_update(backend: Backend) -> None:
    """Sessions (threads) rate and tag while a tracker moves statuses: every change is kept."""
    store = backend.open()
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
    loaded = backend.open()
    for job in jobs:
        again = loaded.require(job.id)
        assert again.notes == "note 14" and again.progress == 14
    if isinstance(loaded, JobStore):
        assert loaded._journal.damaged_lines == 0  # never corrupt


def test_queries_by_status_group_text_and_lineage(backend: Backend) -> None:
    store = backend.open()
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
    assert store.get(other.id) is None and len(backend.open()) == 4


def test_duplicate_ids_are_refused_and_nothing_is_written(backend: Backend) -> None:
    store = backend.open()
    job = store.insert(make_job())
    writes = store.file_writes
    with pytest.raises(ValueError):
        store.insert(job)
    assert store.file_writes == writes and len(store) == 1 and len(backend.open()) == 1


def test_groups_sorted_lists_and_lineage_follow_every_change(backend: Backend) -> None:
    """What the store works out once per version (grids, newest first, lineage) is never stale."""
    store = backend.open()
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


# -- two processes' stores -------------------------------------------------------------------------------


def test_two_stores_keep_each_others_fields(backend: Backend) -> None:
    """The tracker in one process and a rating in another: both survive, whoever writes last."""
    app, cli = backend.open(), backend.open()
    job = app.insert(make_job())
    cli.refresh()
    cli.update(job.id, rating=5, notes="the one")
    app.update(job.id, status=JobStatus.COMPLETED, progress=100)
    app.refresh()
    cli.refresh()
    for seen in (app.require(job.id), cli.require(job.id), backend.open().require(job.id)):
        assert (seen.status, seen.progress, seen.rating, seen.notes) == (JobStatus.COMPLETED, 100, 5, "the one")


def test_a_batch_keeps_what_another_process_wrote_meanwhile(backend: Backend) -> None:
    app, cli = backend.open(follow=False), backend.open(follow=False)
    job = app.insert(make_job())
    cli.refresh()
    with app.batch():
        app.update(job.id, status=JobStatus.IN_PROGRESS)
        cli.update(job.id, rating=4)
    seen = app.require(job.id)
    assert (seen.status, seen.rating) == (JobStatus.IN_PROGRESS, 4)


def test_another_store_sees_a_change_without_being_asked(backend: Backend) -> None:
    writer, reader = backend.open(), backend.open()
    version = reader.version
    job = writer.insert(make_job("seen from afar"))
    wait_until(lambda: reader.get(job.id) is not None, 5, "the new job in the other store")
    assert reader.version > version
    assert job.id in (reader.changed_since(version) or {job.id})
    seen = reader.version
    writer.update(job.id, rating=2)
    wait_until(lambda: reader.require(job.id).rating == 2, 5, "the rating in the other store")
    assert reader.changed_since(seen) == {job.id}, "a page updates only the job that changed"
    writer.delete(job.id)
    wait_until(lambda: reader.get(job.id) is None, 5, "the deletion in the other store")


def test_a_store_says_when_another_store_changed_it(backend: Backend) -> None:
    """`on_change` is how an app server learns, without looking on a timer, that another process (another
    server, through the journal's file watch or PostgreSQL's NOTIFY) wrote: its open tabs are told from it."""
    writer, reader = backend.open(), backend.open()
    reader.wait_ready(10)
    told: list[int] = []
    reader.on_change(told.append)
    job = writer.insert(make_job("told, not looked for"))
    wait_until(lambda: reader.get(job.id) is not None and told, 5, "the other store telling of the new job")
    assert told[-1] == reader.version
    before = len(told)
    writer.update(job.id, rating=4)
    wait_until(lambda: len(told) > before, 5, "the other store telling of the rating")


def test_three_writer_processes_lose_nothing(backend: Backend) -> None:
    home = backend.home
    shared = backend.open().insert(make_job("reviewed by all three"))
    acked = three_writers(home, backend.env(), shared.id, 20)
    store = backend.open()
    assert len(store) == 61
    nothing_lost(store, acked, shared.id)


# -- leases ----------------------------------------------------------------------------------------------


def test_a_lease_is_one_owners_until_it_lapses(backend: Backend) -> None:
    app, cli = backend.open(), backend.open()
    job = app.insert(make_job())
    assert app.claim(job.id, "app", ttl=0.5)
    assert not cli.claim(job.id, "cli", ttl=0.5), "a running lease is the owner's"
    assert app.claim(job.id, "app", ttl=0.5), "the owner renews"
    assert (cli.lease(job.id) or {}).get("owner") == "app" or isinstance(cli, JobStore)
    wait_until(lambda: cli.claim(job.id, "cli", ttl=30), 5, "the app's lease to lapse")
    assert not app.claim(job.id, "app", ttl=30), "the lapsed owner lost it"
    cli.release(job.id, "cli")
    assert app.claim(job.id, "app", ttl=30)
    other = app.insert(make_job())
    assert app.claim(other.id, "app", ttl=30)
    assert app.release_all("app") == 2, "a stopping process gives its jobs up"
    wait_until(lambda: cli.claim(job.id, "cli", ttl=30) and cli.claim(other.id, "cli", ttl=30), 5,
               "the released leases in the other store")


def test_a_finished_job_needs_no_lease(backend: Backend) -> None:
    app, cli = backend.open(), backend.open()
    job = app.insert(make_job(status=JobStatus.DOWNLOADING))
    assert app.claim(job.id, "app", ttl=3600)
    app.update(job.id, status=JobStatus.COMPLETED)
    wait_until(lambda: cli.lease(job.id) is None, 5, "the lease of the finished job to be gone")


def test_a_lease_of_a_process_that_died_is_taken_at_once(backend: Backend) -> None:
    """A killed app's jobs are resumed by the next process without waiting for the lease to lapse."""
    store = backend.open()
    job = store.insert(make_job())
    child = subprocess.Popen(["true"])
    child.wait()
    dead_owner = JobStore.new_owner().split(":")[0] + f":{child.pid}:0"
    live_owner = store.new_owner()
    assert store.claim(job.id, dead_owner, ttl=3600)
    assert store.claim(job.id, live_owner, ttl=3600), "the dead owner's lease does not hold"
    assert not backend.open().claim(job.id, JobStore.new_owner(), ttl=3600), "a live owner's lease does"


def test_of_many_threads_in_two_stores_one_gets_each_lease(backend: Backend) -> None:
    stores = [backend.open(), backend.open()]
    jobs = stores[0].insert_many([make_job(f"take {i}") for i in range(20)])
    won: list[tuple[str, str]] = []
    lock = threading.Lock()

    def take(store_index: int, thread: int) -> None:
        owner = f"s{store_index}t{thread}"
        for job in jobs:
            if stores[store_index].claim(job.id, owner, ttl=3600):
                with lock:
                    won.append((job.id, owner))

    threads = [threading.Thread(target=take, args=(s, t)) for s in (0, 1) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Counter(job_id for job_id, _ in won) == Counter(job.id for job in jobs), "each job followed once"


# -- other tables and claims -----------------------------------------------------------------------------


def test_other_tables_keep_each_processes_fields(backend: Backend) -> None:
    """Boards and reviews: records in their own table, merged by field across processes' stores."""
    one, two = backend.open().table("boards"), backend.open().table("boards")
    one.set("board_1", title="Harbour at dawn", shots=["job_a"])
    wait_until(lambda: two.get("board_1") is not None, 5, "the board in the other store")
    two.set("board_1", status="approved")
    one.set("board_1", title="Harbour at dusk")
    fresh = backend.open()
    board = fresh.table("boards").get("board_1")
    assert board == {"title": "Harbour at dusk", "shots": ["job_a"], "status": "approved"}
    assert len(fresh) == 0, "no job appears from another table"
    assert len(fresh.table("boards")) == 1 and fresh.table("boards").all() == {"board_1": board}
    fresh.table("boards").delete("board_1")
    assert two.get("board_1") is None or backend.name == "journal"
    wait_until(lambda: two.get("board_1") is None, 5, "the deletion in the other store")
    with pytest.raises(ValueError):
        fresh.table("jobs")


def test_a_claim_is_refused_while_it_lives_and_free_once_released_or_expired(backend: Backend) -> None:
    first, second = backend.open(), backend.open()  # two processes' stores
    claims, others = first.claims("keys"), second.claims("keys")
    assert claims.claim("k", {"state": "sending"}, ttl=3600) == (True, {"state": "sending"})
    assert others.claim("k", {"state": "mine"}, ttl=3600) == (False, {"state": "sending"})
    claims.update("k", state="made", job_id="job_1")
    assert others.claim("k", {"state": "mine"}, ttl=3600) == (False, {"state": "made", "job_id": "job_1"})
    claims.release("k")
    assert others.claim("k", {"state": "mine"}, ttl=3600).claimed, "released: the next claim gets it"
    assert claims.claim("short", {"n": 1}, ttl=0.2).claimed
    wait_until(lambda: others.claim("short", {"n": 2}, ttl=3600).claimed, 5, "the short claim to expire")
    assert claims.claim("short", {"n": 3}, ttl=3600) == (False, {"n": 2}), "the expired claim's fields are gone"
    assert backend.open().claims("keys").get("k") == {"state": "mine"}, "claims outlive the process"


def test_expired_claims_are_swept_away(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leases, "CLAIM_SWEEP_S", 0.0)
    store = backend.open()
    claims = store.claims("ids")
    for n in range(5):
        claims.claim(f"old-{n}", {}, ttl=0.05)
    wait_until(lambda: claims.get("old-4") is None, 5, "the claims to expire")
    claims.claim("new", {}, ttl=3600)
    assert set(store.dump()["ids"]) == {"new"}


def test_of_many_processes_claiming_one_key_exactly_one_gets_it(backend: Backend) -> None:
    keys = [f"key-{n}" for n in range(30)]
    workers = [subprocess.Popen([sys.executable, str(TESTS / "claims_worker.py"), "claim", str(backend.home),
                                 f"p{n}", *keys], cwd=TESTS.parent, env=backend.env(), text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in range(4)]
    (backend.home / "go").touch()
    outputs = [w.communicate(timeout=120) for w in workers]
    for worker, (_out, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    won = {f"p{n}": [line.split()[1] for line in out.splitlines() if line.startswith("won ")]
           for n, (out, _) in enumerate(outputs)}
    assert Counter(key for keys_won in won.values() for key in keys_won) == Counter(keys), \
        "every key claimed, each by one process only"
    claims = backend.open().claims("test_claims")
    assert {key: claims.get(key)["by"] for key in keys} == {key: name for name, ks in won.items() for key in ks}


# -- opening, and moving records between backends --------------------------------------------------------


def test_a_store_opened_in_the_background_waits_for_its_jobs(backend: Backend) -> None:
    jobs = backend.open().insert_many([make_job(f"take {i}") for i in range(30)])
    store = backend.open(background=True, open_within=60)
    assert not store.ready, "it waits to be asked"
    assert len(store.all()) == 30 and store.ready, "a read asks, and sees every job"
    assert store.require(jobs[0].id) == jobs[0]


def test_dump_and_load_copy_every_record_once(backend: Backend, tmp_path: Path) -> None:
    source = backend.open()
    job = source.insert(make_job("copied", status=JobStatus.IN_PROGRESS))
    source.claim(job.id, "somebody", ttl=3600)
    source.table("boards").set("b1", title="Harbour")
    source.claims("keys").claim("k1", {"job": job.id}, ttl=3600)
    records = source.dump()
    assert set(records) == {"jobs", "boards", "keys"}, "leases belong to running processes and are not copied"
    target = JobStore(tmp_path / "copy" / "jobs.json")
    assert target.load(records) == {"jobs": 1, "boards": 1, "keys": 1}
    assert target.load(records) == {"jobs": 0, "boards": 0, "keys": 0}, "loading twice writes nothing"
    assert target.require(job.id) == source.require(job.id)
    assert target.table("boards").get("b1") == {"title": "Harbour"}
    assert not target.claims("keys").claim("k1", {}, ttl=60).claimed, "the copied claim still holds"
    source.update(job.id, rating=4)
    again = backend.open()
    assert again.load(target.dump())["jobs"] == 1, "a changed record is written back by its key"
    assert again.require(job.id).rating is None and again.table("boards").get("b1") == {"title": "Harbour"}


def test_a_store_that_cannot_be_opened_says_why(backend: Backend, tmp_path: Path) -> None:
    if backend.name == "journal":
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the data folder should be")
        broken = Backend("journal", blocker / "home")
    else:
        broken = Backend("postgresql", backend.home, backend.url.rsplit("/", 1)[0] + "/no_such_database")
    store = broken.open(background=True)
    assert store.wait_ready(30)
    with pytest.raises(StoreOpenError) as raised:
        store.all()
    assert "could not be opened" in str(raised.value)
    if broken.url:
        assert "s3cret-pw" not in str(raised.value) and "no_such_database" in str(raised.value)
