"""Fault runs: a misbehaving server, a killed process, many writers. Run alone with `scripts/test -m faults`.

Each asserts what the team would notice: no job lost, none created twice, every job finished with
verified files or failed with the server's reason, and a store that always loads.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from until import wait_until

from dailies.config import Environment
from dailies.jobs import JobRequest, JobStatus
from dailies.media import sha256_file
from dailies.store import JobStore
from dailies.studio import Studio
from dailies.tracker import PollPolicy

pytestmark = [pytest.mark.faults, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]


def verified(studio: Studio, job_id: str) -> bool:
    job = studio.store.require(job_id)
    return (
        job.status is JobStatus.COMPLETED
        and set(job.files) >= {"video"}
        and all(sha256_file(studio.media.resolve(r.path)) == r.sha256 for r in job.files.values())
    )


def test_fifty_jobs_through_429s_5xx_failures_and_dropped_downloads(tmp_path: Path, isolated_home: Path) -> None:
    from dailies.client import VideosClient
    from dailies.engine import EngineConfig, Faults, serve_engine

    faults = Faults(
        rate_429=0.2, retry_after_s=0.05, rate_5xx=0.1, rate_failed_jobs=0.1, rate_drop_download=0.1, seed=1234
    )
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, faults=faults)) as running:
        studio = Studio(Environment(home=isolated_home), engine_base_url=running.base_url)
        studio.tracker.policy = PollPolicy(first=0.3, cap=1.0, unconfirmed_grace=3.0, download_attempts=8)
        requests = [
            JobRequest(prompt=f"fault run take {i}, static", model="dailies-preview", size="720x1280", seconds=4)
            for i in range(50)
        ]
        result = studio.launch(requests, concurrency=4)
        for _, error in result.errors:  # refused outright: the server said no before creating anything
            assert getattr(error, "status_code", None) in (429, 500, 502, 503), error
        assert studio.tracker.run_until_idle(timeout=600)

        jobs = studio.store.all()
        assert len(jobs) == len(result.jobs), "every accepted job is in the store"
        remote_ids = [j.remote_id for j in jobs if j.remote_id]
        assert len(remote_ids) == len(set(remote_ids)), "no video is claimed twice"
        at_server = [v["id"] for v in VideosClient(running.base_url).list_all()]
        assert sorted(at_server) == sorted(remote_ids), "nothing was created twice or orphaned"
        outcomes = {"completed": 0, "failed": 0}
        for job in jobs:
            if job.status is JobStatus.COMPLETED:
                assert verified(studio, job.id)
                outcomes["completed"] += 1
            else:
                assert job.status is JobStatus.FAILED and job.error and job.error.message, job
                outcomes["failed"] += 1
        assert outcomes["completed"] >= 25, outcomes
        studio.close()


def _run_cli(args: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dailies", *args],
        cwd=ROOT,
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        **kwargs,
    )


def test_a_process_killed_mid_sweep_resumes_every_job(tmp_path: Path, isolated_home: Path) -> None:
    from dailies.engine import EngineConfig, serve_engine

    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, min_job_s=2.0)) as running:
        env = {**os.environ, "DAILIES_HOME": str(isolated_home)}
        sweep = _run_cli(["--engine-url", running.base_url, "sweep", "--count", "12", "--concurrency", "4"], env)
        first_line = sweep.stdout.readline()
        assert json.loads(first_line)["submitted"] == 12
        wait_until(
            lambda: any(j.status == "completed" for j in running.engine.book.listed()),
            60,
            "the engine to finish a first job of the sweep",
        )
        os.killpg(sweep.pid, signal.SIGKILL)
        sweep.wait(10)

        store = JobStore(isolated_home / "jobs.json")
        assert not store.warnings and len(store) == 12
        assert any(j.is_active for j in store.all()), "the kill landed mid-sweep"
        store.close()

        watch = _run_cli(["--engine-url", running.base_url, "watch", "--timeout", "240"], env)
        _, err = watch.communicate(timeout=300)
        assert watch.returncode == 0, err
        studio = Studio(Environment(home=isolated_home), engine_base_url=running.base_url)
        assert len(studio.store) == 12
        assert all(verified(studio, j.id) for j in studio.store.all())
        studio.close()


def test_sessions_and_the_tracker_write_at_once_and_nothing_is_lost(engine, isolated_home: Path) -> None:
    studio = Studio(Environment(home=isolated_home), engine_base_url=engine.base_url)
    jobs = [
        studio.submit(JobRequest(prompt=f"writers take {i}", model="dailies-preview", size="720x1280", seconds=4))
        for i in range(6)
    ]
    studio.start()
    errors: list[BaseException] = []

    def session(n: int) -> None:
        try:
            for round_ in range(10):
                for job in jobs:
                    studio.review(job.id, notes=f"session {n} round {round_}", tags=[f"s{n}"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_until(lambda: not studio.store.active(), 90, "the tracker to finish every job")
    studio.close()
    assert not errors
    loaded = JobStore(isolated_home / "jobs.json")
    for job in jobs:
        again = loaded.require(job.id)
        assert again.status is JobStatus.COMPLETED, "the tracker's status writes were not lost"
        assert again.notes.endswith("round 9") and len(again.tags) == 1, "the sessions' writes were not lost"


def test_takes_of_one_prompt_through_lost_answers_and_5xx_each_keep_their_own_video(
    tmp_path: Path, isolated_home: Path
) -> None:
    """Twelve takes of one prompt, sent four at a time; half the creates lose their answer after making
    the job, some are refused with 5xx first. Every take ends with its own video or fails as never made;
    no video is adopted twice, none is left unclaimed, none is made twice."""
    from dailies.engine import EngineConfig, Faults, serve_engine

    faults = Faults(rate_lost_create=0.5, rate_5xx=0.1, seed=99)
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, faults=faults)) as running:
        studio = Studio(Environment(home=isolated_home), engine_base_url=running.base_url)
        studio.tracker.policy = PollPolicy(first=0.2, cap=0.5, unconfirmed_grace=10.0)
        studio.start()
        takes = [
            JobRequest(prompt="one prompt, many takes", model="dailies-preview", size="720x1280", seconds=4,
                       axes={"take": str(n)})
            for n in range(12)
        ]
        result = studio.launch(takes, concurrency=4)
        assert not result.errors, "a 5xx or a lost answer keeps the take, unconfirmed"
        assert any(j.remote_id is None for j in result.jobs), "some answers were lost"
        wait_until(lambda: not studio.store.active(), 180, "every take to finish or be adopted", interval=0.2)
        studio.close()

        jobs = studio.store.all()
        assert len(jobs) == 12
        made = sorted(v.id for v in running.engine.book.listed())
        adopted = sorted(j.remote_id for j in jobs if j.remote_id)
        assert adopted == made, "each video made is one job's, and no job shares one"
        for job in jobs:
            if job.remote_id:
                assert verified(studio, job.id), job
            else:
                assert job.status is JobStatus.FAILED and job.error.code == "unconfirmed", job
