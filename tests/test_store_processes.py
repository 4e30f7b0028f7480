"""The store shared by real processes: concurrent writers, a writer killed mid-write, two CLI sweeps."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from shell_free import shell_free
from store_backends import nothing_lost, three_writers
from until import wait_until

from bench.loopback import serving
from dailies.jobs import Job, JobStatus, new_job_id
from dailies.store import JobStore

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().parent / "store_worker.py"


def process_env(home: Path) -> dict[str, str]:
    """This worktree's code first on the path, the test's own data folder, no server from the shell."""
    env = shell_free()
    env.update({"DAILIES_HOME": str(home), "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])})
    return env


def start_worker(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), args[0], str(home), *args[1:]],
        cwd=ROOT, env=process_env(home), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def run_cli(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dailies", *args],
        cwd=ROOT, env=process_env(home), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def acknowledged(lines: list[str]) -> list[str]:
    return [line.split()[1] for line in lines if line.startswith("ack ")]


def test_three_writer_processes_lose_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    shared = JobStore(home / "jobs.json").insert(
        Job(id=new_job_id(), provider="engine", model="sora-2", prompt="reviewed by all three")
    )
    acked = three_writers(home, process_env(home), shared.id, 40)
    store = JobStore(home / "jobs.json")
    assert len(store) == 121
    nothing_lost(store, acked, shared.id)
    assert store._journal.damaged_lines == 0


def test_a_writer_killed_mid_line_loses_only_the_unacknowledged_write(tmp_path: Path) -> None:
    home = tmp_path / "home"
    worker = start_worker(home, "torn", "5")
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = worker.stdout.readline()
        if not line or line.strip() == "mid-write":
            break
        lines.append(line.strip())
    assert line.strip() == "mid-write", worker.stderr.read() if worker.poll() is not None else lines
    journal = home / "jobs.journal"
    assert not journal.read_bytes().endswith(b"\n"), "the kill lands inside a line"
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)

    store = JobStore(home / "jobs.json")
    acked = acknowledged(lines)
    assert sorted(j.id for j in store.all()) == sorted(acked) and len(acked) == 5
    after = store.insert(Job(id=new_job_id(), provider="engine", model="sora-2", prompt="after the kill"))
    again = JobStore(home / "jobs.json")
    assert sorted(j.id for j in again.all()) == sorted([*acked, after.id])
    assert again._journal.damaged_lines == 0 and journal.read_bytes().endswith(b"\n")


def test_a_writer_killed_at_any_moment_loses_nothing_acknowledged(tmp_path: Path) -> None:
    home = tmp_path / "home"
    for round_ in range(3):
        worker = start_worker(home, "endless")
        lines = []
        while len(acknowledged(lines)) < 20 + 7 * round_:
            line = worker.stdout.readline()
            assert line, worker.stderr.read()
            lines.append(line.strip())
        worker.send_signal(signal.SIGKILL)
        out, _ = worker.communicate(timeout=10)
        lines += out.splitlines()
        store = JobStore(home / "jobs.json", follow=False)
        missing = set(acknowledged(lines)) - {j.id for j in store.all()}
        assert not missing
        assert store._journal.damaged_lines == 0


@pytest.mark.slow
def test_two_cli_sweeps_on_one_folder_keep_both_sweeps_jobs(tmp_path: Path, engine) -> None:
    """The issue's case: two `sweep --count 6` on one DAILIES_HOME made 12 videos and kept 6."""
    home = tmp_path / "home"
    sweep_args = ["--engine-url", engine.base_url, "sweep", "--count", "6", "--timeout", "240"]
    sweeps = [run_cli(home, *sweep_args) for _ in range(2)]
    outputs = [s.communicate(timeout=300) for s in sweeps]
    for sweep, (_, err) in zip(sweeps, outputs, strict=True):
        assert sweep.returncode == 0, err
    groups = [json.loads(out.splitlines()[0])["group"] for out, _ in outputs]
    store = JobStore(home / "jobs.json")
    assert len(store) == 12
    for group in groups:
        jobs = store.group(group)
        assert len(jobs) == 6
        assert all(j.status is JobStatus.COMPLETED and j.has_video for j in jobs), [(j.status, j.error) for j in jobs]
    reported = [json.loads(line)["job"] for out, _ in outputs for line in out.splitlines()[1:]]
    assert sorted(reported) == sorted(j.id for j in store.all())


@pytest.mark.slow
def test_an_app_and_a_cli_on_one_folder_download_each_job_once(tmp_path: Path) -> None:
    """Two trackers see every job; the lease in the store lets one of them work on each."""
    home = tmp_path / "home"
    with counting_engine(tmp_path / "engine") as (url, downloads):
        app = start_worker(home, "app", url, "4")
        first = app.stdout.readline().strip()
        assert first == "submitted 4", app.communicate(timeout=30)
        sweep = run_cli(home, "--engine-url", url, "sweep", "--count", "4", "--timeout", "240")
        _, err = sweep.communicate(timeout=300)
        assert sweep.returncode == 0, err
        store = JobStore(home / "jobs.json")
        wait_until(lambda: not store.active(), 120, "every take of the app and the CLI to finish")
        (home / "stop").touch()
        _, app_err = app.communicate(timeout=60)
        assert app.returncode == 0, app_err
        store.refresh()  # both processes have ended: read all they wrote
        jobs = store.all()
        assert len(jobs) == 8 and all(j.status is JobStatus.COMPLETED and j.has_video for j in jobs)
        assert {j.remote_id: downloads.get(j.remote_id, 0) for j in jobs} == {j.remote_id: 1 for j in jobs}
        assert not store._journal.table("leases"), "a finished job keeps no owner"


@contextlib.contextmanager
def counting_engine(folder: Path) -> Iterator[tuple[str, dict[str, int]]]:
    """A real engine on loopback that counts the video downloads of each video."""


    from dailies.engine import Engine, EngineConfig

    engine = Engine(EngineConfig(data_dir=folder, workers=2, min_job_s=2.0))
    downloads: dict[str, int] = {}

    async def counting(scope, receive, send):
        parts = scope.get("path", "").strip("/").split("/")
        query = scope.get("query_string", b"")
        if parts[-1:] == ["content"] and (b"variant=" not in query or b"variant=video" in query):
            downloads[parts[-2]] = downloads.get(parts[-2], 0) + 1
        await engine.app(scope, receive, send)

    engine.start()
    try:
        with serving(counting, "the counting engine") as port:
            yield f"http://127.0.0.1:{port}/v1", downloads
    finally:
        engine.close()
