"""A process that writes to a job store, for the multi-process tests (`python tests/store_worker.py MODE HOME ...`).

It prints `ack <job id>` once a write has returned (and so is durable), which is what the tests
hold the store to after the process is gone.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from until import wait_until

from dailies.jobs import Job, new_job_id
from dailies.store import Store, open_store


def make_job(prompt: str) -> Job:
    return Job(id=new_job_id(), provider="engine", model="sora-2", prompt=prompt, size="720x1280", seconds=4)


def wait_for_go(home: Path) -> None:
    wait_until(lambda: (home / "go").exists(), 60, "the go signal", interval=0.01)


def ack(job_id: str) -> None:
    print(f"ack {job_id}", flush=True)


def writer(store: Store, name: str, count: int, shared_id: str, field: str) -> None:
    """Insert and review `count` jobs, and set one field of a job every writer shares."""
    for i in range(count):
        job = store.insert(make_job(f"{name} take {i}"))
        store.update(job.id, rating=1 + i % 5, notes=f"{name} note {i}")
        ack(job.id)
    value = {"rating": 5, "notes": f"{name} was here", "tags": [name]}[field]
    store.update(shared_id, **{field: value})
    print("done", flush=True)


def torn(store: Store, count: int) -> None:
    """Write `count` jobs, then die (the test kills it) in the middle of writing the next one."""
    for i in range(count):
        ack(store.insert(make_job(f"before the kill {i}")).id)
    real_write = os.write

    def half_then_hang(fd: int, data: bytes) -> int:
        written = real_write(fd, bytes(data[: len(data) // 2]))
        print("mid-write", flush=True)
        time.sleep(600)  # not a wait: hang here, half a record written, until the test kills this process
        return written

    os.write = half_then_hang  # type: ignore[assignment]
    store.insert(make_job("never acknowledged " * 50))


def endless(store: Store) -> None:
    """Write until killed: large records, so a kill often lands inside one."""
    i = 0
    while True:
        job = store.insert(make_job(f"endless take {i} " + "padding " * 400))
        ack(job.id)
        i += 1


def app(home: Path, engine_url: str, count: int) -> None:
    """Like the app: one studio with its tracker running, a few takes launched, until told to stop."""
    from dailies.config import Environment
    from dailies.jobs import JobRequest
    from dailies.studio import Studio
    from dailies.videos_spec import DEFAULT_SECONDS, DEFAULT_SIZE

    studio = Studio(Environment.load(), engine_base_url=engine_url)
    studio.start()
    model = studio.capabilities().default_model
    takes = [JobRequest(f"app take {i}", model, DEFAULT_SIZE, DEFAULT_SECONDS) for i in range(count)]
    result = studio.launch(takes)
    print(f"submitted {len(result.jobs)}", flush=True)
    wait_until(lambda: (home / "stop").exists(), 240, "the stop signal")
    print(f"downloads {studio.tracker.stats.downloads}", flush=True)
    studio.close()


def main() -> None:
    mode, home = sys.argv[1], Path(sys.argv[2])
    if mode == "app":
        app(home, sys.argv[3], int(sys.argv[4]))
        return
    store = open_store(home, os.environ.get("DAILIES_DATABASE_URL"))
    if mode == "writer":
        wait_for_go(home)
        writer(store, sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
    elif mode == "torn":
        torn(store, int(sys.argv[3]))
    elif mode == "endless":
        endless(store)
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
