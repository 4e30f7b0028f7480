"""A job is never lost: creates whose answer is lost, gateways that cannot list, settings saved mid-send.

The engine runs on loopback with faults that make the job and then drop the create's answer, and
that refuse `GET /videos` as LiteLLM's proxy does. What is asserted is what the team would see: each
job ends with its own video, or plainly needs a look; no video is adopted twice or made twice.
"""

from __future__ import annotations

import dataclasses
import gc
import math
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from until import wait_until

from dailies.config import Environment
from dailies.engine import EngineConfig, Faults, serve_engine
from dailies.errors import ValidationError
from dailies.jobs import Job, JobRequest, JobStatus
from dailies.studio import Studio
from dailies.tracker import PollPolicy

FAST = PollPolicy(first=0.2, cap=0.5, unconfirmed_grace=20.0)


def req(prompt: str = "a harbour at dawn, static", *, size: str = "720x1280", seconds: int = 4) -> JobRequest:
    return JobRequest(prompt=prompt, model="dailies-preview", size=size, seconds=seconds)


@pytest.fixture
def losing_engine(tmp_path: Path) -> Iterator[object]:
    """An engine that makes every job it is asked for and loses every create's answer."""
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, faults=Faults(rate_lost_create=1.0))) as e:
        yield e


def studio_on(home: Path, base_url: str, policy: PollPolicy = FAST) -> Studio:
    studio = Studio(Environment(home=home), engine_base_url=base_url)
    studio.tracker.policy = policy
    return studio


GATEWAY = "http://gateway.test/v1"


def behind(home: Path, gateway: Callable[[httpx.Request], httpx.Response],
           clock: Callable[[], float] = time.time) -> Studio:
    """A studio whose provider is reached at GATEWAY, every request answered by `gateway` (no network)."""
    return Studio(Environment(home=home), engine_base_url=GATEWAY, clock=clock, transport=httpx.MockTransport(gateway))


def list_down() -> httpx.Response:
    return httpx.Response(503, json={"error": {"message": "list is down"}})


def answering(create: Callable[[httpx.Request], httpx.Response],
              listing: Callable[[], httpx.Response]) -> Callable[[httpx.Request], httpx.Response]:
    """A gateway's answers: `create(request)` to a create, `listing()` to the list of videos, and its one model
    (the preview) to anything else."""

    def gateway(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return create(request)
        if request.url.path.endswith("/videos"):
            return listing()
        return httpx.Response(200, json={"object": "list", "data": [{"id": "dailies-preview"}]})

    return gateway


def queued_until_its_deadline(studio: Studio, job: Job, now: list[float], before: float, after: float,
                              why_queued: str) -> Job:
    """`before` s on, the tracker still has the job queued; `after` s more (past its deadline), it needs a look.
    The job then."""
    now[0] += before
    assert studio.tracker.advance(job.id).status is JobStatus.QUEUED, why_queued
    now[0] += after
    looked = studio.tracker.advance(job.id)
    assert looked.status is JobStatus.NEEDS_LOOK
    return looked


@pytest.mark.slow
def test_takes_of_one_prompt_with_lost_answers_each_adopt_their_own_video(losing_engine, isolated_home) -> None:
    """Six takes of one prompt (two differing in seconds or size): every answer is lost, and the
    tracker's four workers adopt one video each, each agreeing with what its job sent."""
    studio = studio_on(isolated_home, losing_engine.base_url)
    requests = [req() for _ in range(4)] + [req(seconds=8), req(size="1280x720")]
    jobs = [studio.submit(r) for r in requests]
    assert all(j.remote_id is None and j.error and j.error.code == "unconfirmed" for j in jobs)

    studio.start()
    wait_until(lambda: not studio.store.active(), 120, "every take to be adopted and finished")
    studio.close()

    made = {v.id: v for v in losing_engine.engine.book.listed()}
    assert len(made) == len(jobs), "each create was sent once"
    finals = [studio.store.require(j.id) for j in jobs]
    adopted = [j.remote_id for j in finals]
    assert sorted(adopted) == sorted(made), "each job adopted a video, none twice, none left over"
    for job in finals:
        video = made[job.remote_id]
        assert job.status is JobStatus.COMPLETED, job
        assert (video.size, video.seconds) == (job.size, job.seconds), "adopted a video made as it asked"


@pytest.mark.slow
def test_each_take_adopts_the_video_made_closest_to_its_send(losing_engine, isolated_home) -> None:
    """Takes of one prompt sent a second apart: each adopts the video made in its own second, not the
    newest one listed (which is what matching on the prompt alone picked)."""
    studio = studio_on(isolated_home, losing_engine.base_url)
    jobs: list[Job] = []
    for _ in range(3):
        last = math.floor(jobs[-1].created_at) if jobs else 0
        wait_until(lambda: time.time() >= last + 1 and 0.05 < time.time() % 1 < 0.5, 5,  # noqa: B023
                   "the early part of the next second", interval=0.02)
        jobs.append(studio.submit(req("one prompt, three takes")))
    for job in jobs:  # the oldest asks first: the newest listed video is not its own
        studio.tracker.advance(job.id)
    assert studio.tracker.run_until_idle(timeout=120)
    made = {v.id: v for v in losing_engine.engine.book.listed()}
    for job in jobs:
        final = studio.store.require(job.id)
        assert final.status is JobStatus.COMPLETED
        assert made[final.remote_id].created_at == math.floor(job.created_at), "its own video, by send time"
    studio.close()


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_gateway_that_cannot_list_puts_a_lost_create_in_needs_a_look(tmp_path: Path, isolated_home) -> None:
    faults = Faults(rate_lost_create=1.0, refuse_list=True)
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, faults=faults)) as running:
        studio = studio_on(isolated_home, running.base_url)
        job = studio.submit(req())
        assert studio.store.require(job.id).status is JobStatus.QUEUED
        assert studio.tracker.run_until_idle(timeout=60), "the job left the queue (it was queued 0% forever)"
        looked = studio.store.require(job.id)
        assert looked.status is JobStatus.NEEDS_LOOK and looked.status.label == "needs a look"
        assert looked.error.code == "needs_look" and "cannot list" in looked.error.message
        assert studio.spent_today() == looked.cost_estimate, "it may have been made, so it still counts"

        # Re-check: looked for once more, and back to needing a look (the gateway still cannot list).
        assert studio.takes.recheck(job.id).status is JobStatus.QUEUED
        assert studio.tracker.run_until_idle(timeout=60)
        assert studio.store.require(job.id).status is JobStatus.NEEDS_LOOK

        # Sending it again is refused unless asked for knowingly; nothing is sent.
        with pytest.raises(ValidationError, match="pay for it twice"):
            studio.retry(job.id)
        assert len(running.engine.book.listed()) == 1

        # Attach: a wrong id is refused with nothing changed; the id from the provider's console works.
        with pytest.raises(ValidationError, match="no video"):
            studio.takes.attach(job.id, "video_doesnotexist")
        assert studio.store.require(job.id).status is JobStatus.NEEDS_LOOK
        (video,) = running.engine.book.listed()
        studio.takes.attach(job.id, video.id)
        assert studio.tracker.run_until_idle(timeout=60)
        done = studio.store.require(job.id)
        assert done.status is JobStatus.COMPLETED and done.remote_id == video.id and done.has_video
        studio.close()


@pytest.mark.slow
def test_needs_a_look_can_be_marked_failed_or_retried_knowingly(tmp_path: Path, isolated_home) -> None:
    faults = Faults(rate_lost_create=1.0, refuse_list=True)
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, faults=faults)) as running:
        studio = studio_on(isolated_home, running.base_url)
        first, second = studio.submit(req("first")), studio.submit(req("second"))
        assert studio.tracker.run_until_idle(timeout=60)

        failed = studio.takes.mark_failed(first.id)
        assert failed.status is JobStatus.FAILED and failed.error.code == "marked_failed"
        assert studio.spent_today() == second.cost_estimate

        again = studio.retry(second.id, knowingly=True)
        assert again.id != second.id and again.prompt == "second"
        old = studio.store.require(second.id)
        assert old.status is JobStatus.FAILED and again.id in old.error.message
        assert len(running.engine.book.listed()) == 3, "sent again once, as asked"
        studio.close()


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_list_that_keeps_failing_ends_in_needs_a_look_at_the_deadline(isolated_home: Path) -> None:
    """Error path (MockTransport): the create's answer times out, every list answers 503. The job is
    looked for until its deadline (shorter than the grace here), then it needs a look."""

    def create(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    now = [1_000_000.0]
    studio = behind(isolated_home, answering(create, list_down), lambda: now[0])
    studio.tracker.policy = PollPolicy(deadline=60.0, unconfirmed_grace=600.0)
    job = studio.submit(req())
    assert job.error.code == "unconfirmed"
    looked = queued_until_its_deadline(studio, job, now, 30, 31, "still looked for before the deadline")
    assert "kept failing" in looked.error.message
    studio.close()


def test_a_job_a_full_list_showed_missing_fails_even_if_a_later_list_fails(isolated_home: Path) -> None:
    """Error path (MockTransport): the list answered once without the job (it was never made), then
    failed when the grace ran out. The one answer is enough: the job fails as not made, rather than
    asking a person to look for a video that the provider said it does not have."""
    list_up = [True]

    def listing() -> httpx.Response:
        if not list_up[0]:
            return list_down()
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": False})

    gateway = answering(lambda _: httpx.Response(503, json={"error": {"message": "overloaded"}}), listing)

    now = [1_000_000.0]
    studio = behind(isolated_home, gateway, lambda: now[0])
    studio.tracker.policy = PollPolicy(unconfirmed_grace=60.0)
    job = studio.submit(req())
    assert job.error.code == "unconfirmed", "a 5xx to a create may have made it: kept"
    now[0] += 5
    assert studio.tracker.advance(job.id).status is JobStatus.QUEUED
    list_up[0] = False
    now[0] += 60
    failed = studio.tracker.advance(job.id)
    assert failed.status is JobStatus.FAILED and failed.error.code == "unconfirmed"
    studio.close()


def test_an_unconfirmed_job_whose_provider_was_removed_needs_a_look_at_its_deadline(isolated_home: Path) -> None:
    """Its provider was removed in Settings: it cannot be looked for, and it does not stay queued."""
    now = [1_000_000.0]
    studio = Studio(Environment(home=isolated_home), engine_base_url=GATEWAY, clock=lambda: now[0])
    job = studio.store.insert(Job(id="job_gone", provider="gateway", model="dailies-preview", prompt="a kite",
                                  size="720x1280", seconds=4, created_at=now[0], deadline_at=now[0] + 60))
    looked = queued_until_its_deadline(studio, job, now, 0, 61, "it may be added back")
    assert "gateway" in looked.error.message
    studio.close()


def test_an_answer_that_cannot_be_read_keeps_the_job_unconfirmed(isolated_home: Path) -> None:
    """Error path (MockTransport): the server took the create and answered something unreadable. It may
    have made the job, so the job is kept, unconfirmed, never deleted."""

    def gateway(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, text="<html>upstream hiccup</html>")
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": "dailies-preview"}]})
        return httpx.Response(200, json={"object": "list", "data": [], "has_more": False})

    studio = behind(isolated_home, gateway)
    job = studio.submit(req())
    kept = studio.store.require(job.id)
    assert kept.remote_id is None and kept.error.code == "unconfirmed" and kept.is_active
    studio.close()


@pytest.fixture
def slow_engine(tmp_path: Path) -> Iterator[object]:
    """An engine that takes 1.5 s over every request: a create stays on the wire long enough to save Settings."""
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, faults=Faults(latency_ms=1500))) as e:
        yield e


def submit_in_background(studio: Studio, request: JobRequest, provider: str | None = None) -> tuple[
        threading.Thread, list[object]]:
    outcome: list[object] = []

    def send() -> None:
        try:
            outcome.append(studio.submit(request, provider))
        except BaseException as exc:  # the test reports it
            outcome.append(exc)

    thread = threading.Thread(target=send)
    thread.start()
    wait_until(lambda: len(studio.store) == 1, 30, "the job recorded, so its create is being sent")
    return thread, outcome


@pytest.mark.slow
def test_saving_settings_while_a_create_is_on_the_wire_keeps_the_job(slow_engine, isolated_home) -> None:
    studio = studio_on(isolated_home, slow_engine.base_url)
    provider = studio.provider()
    thread, outcome = submit_in_background(studio, req())
    studio.save_settings(dataclasses.replace(studio.settings, daily_budget_usd=50.0))
    thread.join(60)
    (job,) = outcome
    assert isinstance(job, Job) and job.remote_id, f"the create finished and was confirmed: {job}"
    assert studio.provider() is provider, "an unchanged provider is kept, not closed"
    assert studio.tracker.run_until_idle(timeout=60)
    assert studio.store.require(job.id).status is JobStatus.COMPLETED
    assert len(slow_engine.engine.book.listed()) == 1
    studio.close()


@pytest.mark.slow
def test_a_changed_provider_is_retired_only_once_its_create_returns(slow_engine, isolated_home) -> None:
    studio = studio_on(isolated_home, slow_engine.base_url)
    studio.add_provider("gateway", slow_engine.base_url)
    old = studio.provider("gateway")
    old_client, old_ref = old.client, weakref.ref(old)
    del old
    thread, outcome = submit_in_background(studio, req(), "gateway")
    gateway = studio.settings.extra_providers[0]
    changed = dataclasses.replace(gateway, label="Gateway (renamed)")
    studio.save_settings(dataclasses.replace(studio.settings, extra_providers=[changed]))
    assert studio.provider("gateway").label == "Gateway (renamed)"
    thread.join(60)
    (job,) = outcome
    assert isinstance(job, Job) and job.remote_id, f"the create on the replaced provider was confirmed: {job}"
    gc.collect()
    assert old_ref() is None and old_client._http.is_closed, "the retired provider's connections closed after use"
    assert studio.tracker.run_until_idle(timeout=60)
    assert studio.store.require(job.id).status is JobStatus.COMPLETED
    studio.close()
