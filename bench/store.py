"""Store: insert, update, query and History-table build at 1,000, 10,000 and 100,000 jobs.

Run: `.venv/bin/python -m bench.store` (`--quick` stops at 10,000). Each figure is the median of a
few repeats on a real TinyDB file in a temporary folder. "tick" is a tracker progress update (memory
only); "update" is a status change (written through at once: one atomic whole-file rewrite).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.report import cli, table, write
from dailies.jobs import FileRecord, Job, JobKind, JobStatus, new_job_id
from dailies.store import JobStore

SIZES_FULL = (1_000, 10_000, 100_000)
SIZES_QUICK = (1_000, 10_000)
WORDS = [
    "lighthouse",
    "harbour",
    "neon",
    "alley",
    "desert",
    "caravan",
    "snowy",
    "forest",
    "paper",
    "boat",
    "kite",
    "volcano",
    "dawn",
    "dusk",
]


def synthetic_jobs(count: int, seed: int = 1) -> list[Job]:
    rng = random.Random(seed)
    now = time.time()
    jobs = []
    for i in range(count):
        status = rng.choice([JobStatus.COMPLETED] * 8 + [JobStatus.FAILED, JobStatus.IN_PROGRESS])
        job_id = new_job_id()
        files = {}
        if status is JobStatus.COMPLETED:
            files = {
                v: FileRecord(f"{job_id}/{v}.{e}", rng.randint(10**5, 10**7), f"{rng.getrandbits(256):064x}")
                for v, e in (("video", "mp4"), ("thumbnail", "webp"), ("spritesheet", "jpg"))
            }
        jobs.append(
            Job(
                id=job_id,
                provider="engine",
                model=rng.choice(["sora-2", "sora-2-pro"]),
                prompt=" ".join(rng.choices(WORDS, k=12)),
                kind=rng.choice(list(JobKind)),
                size=rng.choice(["720x1280", "1280x720"]),
                seconds=rng.choice([4, 8, 12]),
                remote_id=f"video_{i:08x}",
                status=status,
                progress=100 if status is JobStatus.COMPLETED else 40,
                created_at=now - rng.uniform(0, 90 * 86400),
                group_id=f"grp_{i // 8}",
                axes={"lighting": rng.choice(["golden hour", "neon"])},
                files=files,
                cost_estimate=rng.choice([0.4, 0.8, 1.2]),
                rating=rng.choice([None, 3, 4, 5]),
                tags=rng.sample(["hero", "b-roll", "client"], k=rng.randint(0, 2)),
            )
        )
    return jobs


def median_time(fn: Callable[[], Any], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def history_frame_builder() -> Callable[[list[Job]], Any] | None:
    """The History page's own table builder, when the workbench is installed beside the core."""
    try:
        from dailies.history import jobs_frame
    except ImportError:
        return None
    return jobs_frame


def measure(count: int, folder: Path) -> dict[str, Any]:
    path = folder / f"jobs-{count}.json"
    jobs = synthetic_jobs(count)
    store = JobStore(path)
    started = time.perf_counter()
    with store.batch():
        store.insert_many(jobs)
    bulk = time.perf_counter() - started
    repeats = 3 if count >= 100_000 else 7
    reopen = median_time(lambda: JobStore(path), 3)
    insert = median_time(lambda: store.insert(synthetic_jobs(1, seed=random.randrange(10**6))[0]), repeats)
    target = jobs[count // 2].id
    update = median_time(lambda: store.update(target, status=JobStatus.FAILED), repeats)
    tick = median_time(lambda: store.set_progress(target, random.randint(0, 99)), 200)
    by_status = median_time(lambda: store.query(status=JobStatus.IN_PROGRESS), repeats)
    by_text = median_time(lambda: store.query(text="neon alley"), repeats)
    lineage = median_time(lambda: store.lineage(target), repeats)
    build = history_frame_builder()
    frame = median_time(lambda: build(store.all()), repeats) if build else None
    return {
        "jobs": count,
        "file_mb": round(path.stat().st_size / 2**20, 2),
        "bulk_load_s": bulk,
        "open_s": reopen,
        "insert_s": insert,
        "status_update_s": update,
        "progress_tick_s": tick,
        "query_status_s": by_status,
        "query_text_s": by_text,
        "lineage_s": lineage,
        "history_table_s": frame,
    }


def run(quick: bool = False) -> dict[str, Any]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in SIZES_QUICK if quick else SIZES_FULL:
            rows.append(measure(count, Path(tmp)))
    headers = list(rows[0])
    print(
        table(
            "Store (seconds, median; TinyDB file rewritten atomically per write)",
            headers,
            [[r[h] if r[h] is not None else "n/a" for h in headers] for r in rows],
        )
    )
    result = {"rows": rows, "goal": "History table under 0.25 s at 10,000 jobs"}
    at_10k = next((r for r in rows if r["jobs"] == 10_000), None)
    if at_10k and at_10k["history_table_s"] is not None:
        result["goal_met"] = at_10k["history_table_s"] < 0.25
    print(f"wrote {write('store', result)}")
    return result


if __name__ == "__main__":
    cli(run, __doc__)
