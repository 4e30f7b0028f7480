"""Three CLI processes with three data folders of their own, as if on three machines, sharing one PostgreSQL and
one provider (the embedded engine on loopback); one is SIGKILLed mid-run. Every take the provider made is
recorded exactly once and completed, the killed process's by a survivor."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from s3_server import BUCKET, moto_s3, object_bytes
from store_backends import Backend

from dailies.config import BucketSettings, Settings, SettingsFile
from dailies.engine import EngineConfig, serve_engine
from dailies.engine.server import RunningEngine
from dailies.jobs import Job, JobStatus
from dailies.store.postgres import PostgresStore
from dailies.team_settings import StoreSettings

ROOT = Path(__file__).resolve().parents[2]
TAKES = 10


def cli(home: Path, url: str, engine_url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "dailies", "--engine-url", engine_url, *args], cwd=ROOT,
                            env=Backend("postgresql", home, url).env(), text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def one_killed_the_others_finish(sweeps: list[subprocess.Popen[str]], takes: int, pg_url: str, watcher: Path,
                                 engine: RunningEngine, survivor_timeout: float) -> list[str]:
    """SIGKILL the first sweep once it has submitted its `takes`; the others run to their end, then a `watch` in
    the `watcher` folder finishes what is left. The killed sweep's takes unfinished at the kill (there are some)."""
    victim = sweeps[0]
    said = json.loads(victim.stdout.readline())
    assert said["submitted"] == takes, victim.stderr.read() if victim.poll() is not None else said
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    store = PostgresStore(pg_url)
    try:
        store.refresh()
        unfinished_at_kill = [j.id for j in store.group(said["group"]) if j.is_active]
    finally:
        store.close()
    assert unfinished_at_kill, "the kill landed mid-run"
    for survivor in sweeps[1:]:
        _out, err = survivor.communicate(timeout=survivor_timeout)
        assert survivor.returncode == 0, err
    watch = cli(watcher, pg_url, engine.base_url, "watch", "--timeout", "120")
    _out, err = watch.communicate(timeout=180)
    assert watch.returncode == 0, err
    return unfinished_at_kill


def each_take_made_once(store: PostgresStore, engine: RunningEngine, count: int) -> list[Job]:
    """Every take recorded once and completed, and each one the provider made is one job, and no more."""
    store.refresh()
    jobs = store.all()
    assert len(jobs) == count, "every take recorded once"
    assert Counter(j.status for j in jobs) == Counter({JobStatus.COMPLETED: count})
    made = Counter(video.prompt for video in engine.engine.book.listed())
    assert made == Counter(j.prompt for j in jobs), "each take the provider made is one job, and no more"
    return jobs


@pytest.mark.slow
def test_three_servers_share_one_database_and_a_killed_ones_takes_are_finished(pg_url: str, tmp_path: Path) -> None:
    homes = [tmp_path / f"server-{n}" for n in range(3)]
    # Renders of 3 s at least: the kill lands while the victim's takes are still being made.
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=4, min_job_s=3.0)) as engine:
        sweeps = [cli(home, pg_url, engine.base_url, "sweep", "--count", str(TAKES), "--prompt", f"server {n}")
                  for n, home in enumerate(homes)]
        unfinished_at_kill = one_killed_the_others_finish(sweeps, TAKES, pg_url, homes[1], engine, 240)
        store = PostgresStore(pg_url)
        try:
            jobs = each_take_made_once(store, engine, 3 * TAKES)
            assert len({j.remote_id for j in jobs}) == 3 * TAKES
            for job_id in unfinished_at_kill:  # finished by a survivor, whose own folder holds its files
                job = store.require(job_id)
                assert any((home / "media" / job.files["video"].path).exists() for home in homes[1:])
        finally:
            store.close()


ISSUE_TAKES = 20
"""Per process: 60 takes in all, the issue's scale."""


@pytest.mark.slow
def test_sixty_takes_on_three_servers_with_one_bucket_one_killed_each_made_once_and_playable_anywhere(
        pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three CLI processes, three folders, one PostgreSQL, one bucket (moto; set once in the team's settings,
    which every process reads from the database); one SIGKILLed mid-run. Every take is made exactly once,
    completes, and its video is in the bucket, checked byte for byte: any server can play it."""
    homes = [tmp_path / f"server-{n}" for n in range(3)]
    with moto_s3(monkeypatch) as s3, \
            serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=4, min_job_s=1.0)) as engine:
        team = PostgresStore(pg_url)
        try:
            StoreSettings(team, SettingsFile(tmp_path / "seed" / "settings.json")).save(Settings(
                bucket=BucketSettings(bucket=BUCKET, endpoint_url=s3, prefix="takes/", region="us-east-1")))
        finally:
            team.close()
        sweeps = [cli(home, pg_url, engine.base_url, "sweep", "--count", str(ISSUE_TAKES), "--prompt",
                      f"harbour {n}", "--size", "720x1280", "--seconds", "4") for n, home in enumerate(homes)]
        one_killed_the_others_finish(sweeps, ISSUE_TAKES, pg_url, homes[1], engine, 300)
        store = PostgresStore(pg_url)
        try:
            jobs = each_take_made_once(store, engine, 3 * ISSUE_TAKES)
            for job in jobs:  # in the bucket, the verified file: either survivor's media route serves it from there
                video = job.files["video"]
                assert video.in_bucket, job.id
                assert hashlib.sha256(object_bytes(s3, str(video.bucket_key))).hexdigest() == video.sha256
        finally:
            store.close()
