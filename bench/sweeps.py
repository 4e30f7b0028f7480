"""Sweeps: 100 jobs launched through the Studio and tracked to verified files, at concurrency 1, 4 and 16.

Run: `.venv/bin/python -m bench.sweeps` (`--quick`: 24 jobs). Concurrency is both the engine's worker
count and the Studio's submit concurrency (and tracker pool). Jobs are short clips (4 s, 720x1280,
`dailies-preview`, no minimum job time), so the engine's render time is the whole job.

The engine runs in its own process (`python -m dailies.engine`), so `time.process_time()` of this
process is the client's CPU alone: submits, polls, downloads with their sha256, store writes. Every
job must end completed with each file on disk matching its FileRecord's size and sha256 (checked after
the clock stops). Engine render time per job is read from the engine's data folder: the mtime of the
job's last output file (spritesheet.jpg, written after the MP4 and thumbnail) minus its `started_at`
in index.json; "engine render s (sum)" adds them up, so at high concurrency it counts renders that
shared the cores (wall / render sum near 1/concurrency means the workers were busy throughout).
"Serial render" is the concurrency-1 run's mean render time × jobs: the work to do on one core;
wall / serial render under 1 means concurrency paid off. This machine has 2 cores, and the
engine, its renders and the client share them, so expect the best wall / serial render near 0.5.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.process import stop
from bench.report import cli, columns_table, conclude
from dailies.config import Environment, Settings, SettingsFile
from dailies.engine.server import free_port
from dailies.jobs import Job, JobRequest, JobStatus
from dailies.studio import Studio

JOBS_FULL = 100
JOBS_QUICK = 24
CONCURRENCIES = (1, 4, 16)
SCALING_RATIO = 0.8
"""The goal's bar: from the core count up, wall time at most this share of the concurrency-1 wall."""
MODEL, SIZE, SECONDS = "dailies-preview", "720x1280", 4
SUBJECTS = ["a lighthouse", "a harbour", "a neon alley", "a desert caravan", "a snowy forest", "a paper boat"]
LIGHTS = ["at golden hour", "at dawn", "at night", "in fog"]
MOVES = ["slow pan left", "zoom in", "orbit", "static"]
COLUMNS = [
    ("concurrency", "concurrency"),
    ("jobs", "jobs"),
    ("wall s", "wall_s"),
    ("engine render s (sum)", "render_sum_s"),
    ("serial render s", "serial_render_s"),
    ("wall / render sum", "wall_over_render_sum"),
    ("wall / serial render", "wall_over_serial_render"),
    ("jobs/min", "jobs_per_min"),
    ("client CPU s/job", "client_cpu_s_per_job"),
    ("verified", "verified"),
]


class EngineProcess:
    """`python -m dailies.engine` on a free loopback port, in its own process."""

    def __init__(self, data_dir: Path, workers: int, extra: Sequence[str] = ()) -> None:
        """`extra`: more of the engine's options (its faults, say)."""
        self.port = free_port()
        self.data_dir = data_dir
        self.log = open(data_dir.parent / f"engine-{workers}.log", "wb")  # noqa: SIM115  (closed in stop)
        command = [sys.executable, "-m", "dailies.engine", "--port", str(self.port)]
        command += ["--data-dir", str(data_dir), "--workers", str(workers), *extra]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 30) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"the engine exited with {self.process.returncode}; see {self.log.name}")
            try:
                httpx.get(f"{self.base_url}/models", timeout=1.0)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the engine did not start")

    def stop(self) -> None:
        stop(self.process)
        self.log.close()

    def __enter__(self) -> EngineProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def requests_for(count: int) -> list[JobRequest]:
    return [
        JobRequest(
            prompt=f"{SUBJECTS[i % 6]} {LIGHTS[i // 6 % 4]}, {MOVES[i // 24 % 4]}, take {i}",
            model=MODEL,
            size=SIZE,
            seconds=SECONDS,
            group_id="bench-sweep",
        )
        for i in range(count)
    ]


def engine_render_times(data_dir: Path) -> dict[str, float]:
    """Video id -> render seconds, from the engine's index (start) and its output files (end)."""
    index = json.loads((data_dir / "index.json").read_text())
    times = {}
    for job in index["jobs"]:
        last_file = data_dir / "videos" / job["id"] / "spritesheet.jpg"
        if job.get("started_at") and last_file.is_file():
            times[job["id"]] = last_file.stat().st_mtime - job["started_at"]
    return times


def verified(studio: Studio, job: Job) -> bool:
    final = studio.store.require(job.id)
    return (
        final.status is JobStatus.COMPLETED
        and {"video", "thumbnail", "spritesheet"} <= set(final.files)
        and all(studio.media.verify(record) for record in final.files.values())
    )


def sweep(count: int, concurrency: int, folder: Path, timeout: float = 1800) -> dict[str, Any]:
    folder.mkdir(parents=True)
    home = folder / "home"
    SettingsFile(home / "settings.json").save(Settings(max_concurrency=concurrency))
    with EngineProcess(folder / "engine", concurrency) as engine:
        studio = Studio(Environment(home=home), engine_base_url=engine.base_url)
        try:
            cpu, started = time.process_time(), time.perf_counter()
            studio.start()
            launched = studio.launch(requests_for(count), concurrency=concurrency)
            end = time.monotonic() + timeout
            while studio.store.active() and time.monotonic() < end:
                time.sleep(0.05)
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu
            studio.tracker.stop()
            ok = sum(verified(studio, job) for job in launched.jobs)
        finally:
            studio.close()
    renders = engine_render_times(folder / "engine")
    return {
        "concurrency": concurrency,
        "jobs": count,
        "submit_errors": len(launched.errors),
        "wall_s": wall,
        "render_sum_s": sum(renders.values()),
        "render_mean_s": statistics.mean(renders.values()) if renders else None,
        "jobs_per_min": count / wall * 60,
        "client_cpu_s": cpu,
        "client_cpu_s_per_job": cpu / count,
        "verified": f"{ok}/{count}",
        "all_verified": ok == count,
        "status_requests": studio.tracker.stats.requests,
    }


def run(quick: bool = False) -> dict[str, Any]:
    count = JOBS_QUICK if quick else JOBS_FULL
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for concurrency in CONCURRENCIES:
            rows.append(sweep(count, concurrency, Path(tmp) / f"c{concurrency}"))
    serial = rows[0]["render_mean_s"] * count
    for row in rows:
        row["serial_render_s"] = serial
        row["wall_over_serial_render"] = row["wall_s"] / serial
        row["wall_over_render_sum"] = row["wall_s"] / row["render_sum_s"]
    print(
        columns_table(
            f"Sweeps: {count} jobs (4 s, 720x1280) launched and tracked to verified files; "
            f"engine in its own process, {os.cpu_count()} cores",
            COLUMNS,
            rows,
        )
    )
    cores = os.cpu_count() or 1
    goal = (
        "every file verified at every concurrency; at every concurrency from the core count "
        f"({cores}) up, wall time at most {SCALING_RATIO:g}x the concurrency-1 wall"
    )
    single = rows[0]["wall_s"]
    scaled = [r for r in rows if r["concurrency"] >= cores]
    checks = {
        "all_verified": all(r["all_verified"] for r in rows),
        "scales": bool(scaled) and all(r["wall_s"] <= SCALING_RATIO * single for r in scaled),
    }
    for r in scaled:
        print(f"concurrency {r['concurrency']}: wall {r['wall_s'] / single:.2f}x the concurrency-1 wall")
    print(f"goal: {goal}\nchecks: {checks}; goal met: {all(checks.values())}")
    return conclude("sweeps", {
        "quick": quick,
        "rows": rows,
        "goal": goal,
    }, checks)


if __name__ == "__main__":
    cli(run, __doc__)
