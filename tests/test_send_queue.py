"""Rate limits never lose a take: refused creates wait, visibly, and are sent once each when allowed.

The engine refuses half the creates with 429 + Retry-After (`Faults.rate_429_create`); the takes that
were refused wait in the store, survive their studio being closed, and are sent by the next one. The
engine's own list of videos is the count: every take made exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from until import wait_until

from dailies.client import VideosClient
from dailies.config import Environment
from dailies.errors import APIConnectionError, BadRequestError, RateLimitError, ServerError
from dailies.jobs import Job, JobRequest, JobStatus
from dailies.pricing import spend_since
from dailies.providers.base import RemoteVideo
from dailies.send_queue import SendPolicy, SendQueue, wait_for
from dailies.store import JobStore
from dailies.studio import Studio
from dailies.tracker import PollPolicy

ROOT = Path(__file__).resolve().parents[1]


# -- the queue's rules, with a real store and a sender of our own -----------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _job(n: int, provider: str = "p") -> Job:
    return Job(id=f"job_{n:04d}", provider=provider, model="m", prompt=f"take {n}", created_at=1_000_000.0 + n,
               status=JobStatus.WAITING, wait_reason="the provider's rate limit")


def _limited(message: str = "slow down", retry_after: str | None = "12") -> RateLimitError:
    headers = {"retry-after": retry_after} if retry_after else {}
    return RateLimitError(message, code="rate_limit_exceeded", headers=headers)


def test_only_refusals_that_prove_nothing_was_made_wait() -> None:
    assert wait_for(_limited()).retry_after == 12.0
    assert wait_for(_limited("You have too many concurrent tasks")).concurrency
    assert wait_for(APIConnectionError("refused", code="connect_failed")) is not None
    assert wait_for(RateLimitError("quota", code="insufficient_quota")) is None, "no waiting cures a spent quota"
    assert wait_for(APIConnectionError("dropped")) is None, "a dropped connection may have made it"
    assert wait_for(ServerError("boom", status_code=502)) is None
    assert wait_for(BadRequestError("bad size")) is None


def test_a_refused_take_waits_for_retry_after_then_goes_in_order(tmp_path: Path) -> None:
    clock = Clock()
    store = JobStore(tmp_path / "jobs.json")
    sent: list[str] = []
    answers: list[Exception | None] = [_limited(retry_after="12"), None, None]

    def send(job: Job) -> RemoteVideo:
        sent.append(job.id)
        answer = answers.pop(0)
        if answer is not None:
            raise answer
        return RemoteVideo(f"video_{job.id}", JobStatus.QUEUED)

    queue = SendQueue(store, send, clock=clock)
    first, second = store.insert(_job(1)), store.insert(_job(2))
    first, again = queue.step(first)
    assert first.status is JobStatus.WAITING and again == clock.now + 12
    assert "rate limit" in first.wait_reason and "slow down" in first.wait_reason
    assert queue.step(second) == (store.require(second.id), clock.now + 12), "the provider's Retry-After holds all"
    assert sent == [first.id]
    assert not queue.admit(_job(3)).ok, "a new take waits behind the ones in line"
    clock.now += 12
    first, _ = queue.step(first)
    second, _ = queue.step(second)
    assert sent == [first.id, first.id, second.id]
    assert (first.remote_id, second.remote_id) == (f"video_{first.id}", f"video_{second.id}")
    assert first.status is second.status is JobStatus.QUEUED and not first.wait_reason


def test_a_concurrency_limit_from_settings_and_one_learned_from_a_refusal(tmp_path: Path) -> None:
    clock = Clock()
    store = JobStore(tmp_path / "jobs.json")
    at_provider = [store.insert(Job(id=f"job_busy{i}", provider="p", model="m", prompt="x", remote_id=f"v{i}",
                                    status=JobStatus.IN_PROGRESS)) for i in range(2)]
    queue = SendQueue(store, lambda job: RemoteVideo("v", JobStatus.QUEUED), clock=clock,
                      limits=lambda name: {"p": 2}.get(name))
    gate = queue.admit(_job(1))
    assert not gate.ok and "limit of 2" in gate.reason
    store.update(at_provider[0].id, status=JobStatus.DOWNLOADING)  # finished at the provider: fetched, then done
    store.update(at_provider[0].id, status=JobStatus.COMPLETED)
    assert queue.admit(_job(1)).ok

    learning = SendQueue(store, lambda job: RemoteVideo("v", JobStatus.QUEUED), clock=clock,
                         policy=SendPolicy(first=1.0))
    job = learning.refused(store.insert(_job(5, "p")), wait_for(_limited("too many concurrent tasks", None)))
    assert job.next_try_at == clock.now + 1.0, "no Retry-After: backoff"
    assert learning.limit("p") == 1, "one take was at the provider when it said no more"


def test_a_waiting_take_leaves_only_to_be_sent_or_to_fail(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.json")
    job = store.insert(_job(1))
    with pytest.raises(ValueError, match="cannot go from waiting to in_progress"):
        store.update(job.id, status=JobStatus.IN_PROGRESS, remote_id="video_x")
    assert store.require(job.id).status is JobStatus.WAITING and store.require(job.id).remote_id is None
    done = store.insert(Job(id="job_done", provider="p", model="m", prompt="x", status=JobStatus.COMPLETED))
    with pytest.raises(ValueError):
        store.update(done.id, status=JobStatus.WAITING)
    assert store.update(job.id, status=JobStatus.QUEUED).status is JobStatus.QUEUED


def test_a_waiting_take_counts_in_the_days_spend(tmp_path: Path) -> None:
    job = _job(1)
    job.cost_estimate = 2.5
    assert spend_since([job], 0) == 2.5


# -- end to end: the engine refuses half the creates, and a studio is closed midway ------------------------


def _requests(count: int) -> list[JobRequest]:
    return [JobRequest(prompt=f"rate limited take {i}, static", model="dailies-preview", size="720x1280", seconds=4)
            for i in range(count)]


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_half_the_creates_refused_and_a_restart_midway_every_take_made_once(tmp_path: Path,
                                                                            isolated_home: Path) -> None:
    from dailies.engine import EngineConfig, Faults, serve_engine

    faults = Faults(rate_429_create=0.5, retry_after_s=1.0, seed=25)
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, faults=faults)) as running:
        first = Studio(Environment(home=isolated_home), engine_base_url=running.base_url)
        first.tracker.policy = PollPolicy(first=0.2, cap=0.5)
        result = first.launch(_requests(12), concurrency=4)
        assert result.errors == [], "no take is refused for a rate limit"
        ids = [j.id for j in result.jobs]
        waiting = [j for j in result.jobs if j.status is JobStatus.WAITING]
        assert waiting, "the engine refused some creates"
        assert all("rate limit" in j.wait_reason and j.next_try_at for j in waiting), waiting
        first.close()  # closed before anything that waited was sent: the next studio sends it

        second = Studio(Environment(home=isolated_home), engine_base_url=running.base_url)
        second.tracker.policy = PollPolicy(first=0.2, cap=0.5)
        assert {j.id for j in second.store.query(status=[JobStatus.WAITING])} == {j.id for j in waiting}
        second.start()
        wait_until(lambda: not second.store.active(), 120, "every take to finish")
        jobs = [second.store.require(i) for i in ids]
        assert all(j.status is JobStatus.COMPLETED and j.has_video for j in jobs), [(j.id, j.status) for j in jobs]
        made = [v["id"] for v in VideosClient(running.base_url).list_all()]
        assert sorted(made) == sorted(j.remote_id for j in jobs), "every take made exactly once at the engine"
        assert any(int(j.params.get("refusals", 0)) >= 1 for j in jobs)
        second.close()


def test_a_waiting_take_can_be_cancelled_and_is_never_sent(tmp_path: Path, isolated_home: Path) -> None:
    from dailies.engine import EngineConfig, Faults, serve_engine

    faults = Faults(rate_429_create=1.0, retry_after_s=30.0)
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=1, faults=faults)) as running:
        studio = Studio(Environment(home=isolated_home), engine_base_url=running.base_url)
        job = studio.submit(_requests(1)[0])
        assert job.status is JobStatus.WAITING and job.next_try_at >= studio.clock() + 25
        cancelled = studio.sending.cancel(job.id)
        assert cancelled.status is JobStatus.FAILED and cancelled.error.code == "cancelled"
        assert list(VideosClient(running.base_url).list_all()) == []
        studio.close()


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_the_sweep_waits_through_429s_and_says_why_a_take_was_not_made(tmp_path: Path,
                                                                      isolated_home: Path) -> None:
    from dailies.engine import EngineConfig, Faults, serve_engine

    faults = Faults(rate_429_create=0.5, retry_after_s=0.5, blocked_terms=("take 3",), seed=7)
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, faults=faults)) as running:
        env = {**os.environ, "DAILIES_HOME": str(isolated_home)}
        sweep = subprocess.run(
            [sys.executable, "-m", "dailies", "--engine-url", running.base_url, "sweep", "--count", "6",
             "--seconds", "4", "--size", "720x1280", "--timeout", "120"],
            cwd=ROOT, env=env, text=True, capture_output=True, timeout=180,
        )
        lines = [json.loads(line) for line in sweep.stdout.splitlines() if line.startswith("{")]
        assert lines[0]["submitted"] == 6 and lines[0]["refused"] == 0, sweep.stdout
        finished = [line for line in lines if "job" in line]
        assert [line["status"] for line in finished].count("completed") == 5, sweep.stdout
        failed = next(line for line in finished if line["status"] == "failed")
        assert "take 3" in failed["error"]["message"] or failed["error"]["code"] == "moderation_blocked"
        assert sweep.returncode == 1 and "1 of 6 take(s) were not made" in sweep.stderr, sweep.stderr
        assert len(list(VideosClient(running.base_url).list_all())) == 6, "each take sent once"



@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_limit_of_one_take_at_once_sends_the_rest_in_line(tmp_path: Path, isolated_home: Path) -> None:
    from dailies.engine import EngineConfig, serve_engine

    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2)) as running:
        studio = Studio(Environment(home=isolated_home), engine_base_url=running.base_url)
        studio.settings.provider_limits = {"engine": 1}
        studio.tracker.policy = PollPolicy(first=0.2, cap=0.5)
        result = studio.launch(_requests(3), concurrency=3)
        assert [j.status for j in result.jobs].count(JobStatus.WAITING) == 2, result.jobs
        reasons = [j.wait_reason for j in result.jobs if j.status is JobStatus.WAITING]
        assert any("limit of 1" in why for why in reasons), reasons
        assert all("limit of 1" in why or "in line behind 1" in why for why in reasons), reasons
        studio.start()
        wait_until(lambda: not studio.store.active(), 120, "every take to finish")
        assert all(studio.store.require(j.id).status is JobStatus.COMPLETED for j in result.jobs)
        videos = sorted(VideosClient(running.base_url).list_all(), key=lambda v: v["created_at"])
        assert len(videos) == 3
        for earlier, later in pairwise(videos):
            assert later["created_at"] >= earlier["completed_at"], "never two at the engine at once"
        studio.close()


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_takes_waiting_in_a_stopped_process_are_sent_by_the_next_one(tmp_path: Path, isolated_home: Path) -> None:
    """A real second process: a sweep whose creates are all refused is stopped while its takes wait; once the
    provider allows again, `python -m dailies watch` sends each of them, once."""
    from dailies.engine import EngineConfig, Faults, serve_engine

    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2,
                                   faults=Faults(rate_429_create=1.0, retry_after_s=1.0))) as running:
        env = {**os.environ, "DAILIES_HOME": str(isolated_home)}
        common = [sys.executable, "-m", "dailies", "--engine-url", running.base_url]
        sweep = subprocess.Popen([*common, "sweep", "--count", "4", "--seconds", "4", "--size", "720x1280"],
                                 cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = json.loads(sweep.stdout.readline())
        assert first["submitted"] == 4 and first["waiting"] >= 3 and first["refused"] == 0, first
        said = json.loads(sweep.stdout.readline())
        assert said["waiting"] >= 3 and any("rate limit" in why for why in said["why"]), said
        sweep.send_signal(signal.SIGINT)  # stopped while they wait: its leases are given up
        sweep.communicate(timeout=60)
        store = JobStore(isolated_home / "jobs.json")
        assert [j.status for j in store.all()] == [JobStatus.WAITING] * 4, "kept, not lost, not sent"
        assert list(VideosClient(running.base_url).list_all()) == []

        running.engine.api.plan.faults = Faults()  # the provider allows again
        watch = subprocess.run([*common, "watch", "--timeout", "120"], cwd=ROOT, env=env, text=True,
                               capture_output=True, timeout=180)
        assert watch.returncode == 0, watch.stderr
        jobs = JobStore(isolated_home / "jobs.json").all()
        assert all(j.status is JobStatus.COMPLETED for j in jobs), [(j.id, j.status) for j in jobs]
        made = [v["id"] for v in VideosClient(running.base_url).list_all()]
        assert sorted(made) == sorted(j.remote_id for j in jobs) and len(made) == 4, "each take made once"
