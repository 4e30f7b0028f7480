"""Webhooks end to end in one process: the engine on loopback delivers signed events over real HTTP to
the receiver (the same `WebhookReceiver` the app mounts at /hooks/<provider>), which tells the real
tracker; and the receiver's refusals (bad signature, stale timestamp, replay) one by one."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from standardwebhooks import Webhook
from until import wait_until

from bench.loopback import receiver_server
from dailies.backoff import Backoff
from dailies.config import Environment
from dailies.engine import DeliveryPolicy, EngineConfig, WebhookFaults, serve_engine
from dailies.errors import ValidationError
from dailies.jobs import JobRequest, JobStatus
from dailies.media import sha256_file
from dailies.studio import Studio
from dailies.webhooks import (
    HOOKS_PREFIX,
    Registration,
    WebhookBook,
    WebhookReceiver,
    receiver_url,
    register,
    unregister,
)

FAST = DeliveryPolicy(attempts=5, waits=Backoff(first=0.2, cap=2.0))


@contextlib.contextmanager
def hooked_studio(tmp_path: Path, faults: WebhookFaults | None = None, safety_net: float = 60.0,
                  safety_cap: float = 300.0):
    """Engine (3 s jobs) + studio with its tracker running + receiver, registered and proven by a test event."""
    config = EngineConfig(data_dir=tmp_path / "engine", workers=2, min_job_s=3.0, webhook_policy=FAST,
                          webhook_faults=faults or WebhookFaults())
    with serve_engine(config) as engine:
        studio = Studio(Environment(home=tmp_path / "home"), engine_base_url=engine.base_url)
        studio.tracker.policy = dataclasses.replace(studio.tracker.policy, safety_net=safety_net,
                                                    safety_cap=safety_cap)
        studio.start()
        book = WebhookBook(studio.home)
        try:
            with receiver_server(WebhookReceiver(book, studio.tracker)) as base:
                provider = studio.provider("engine")  # registered as Settings does, through the provider
                registration = register(book, "engine", provider, base)
                assert provider.test_webhook_endpoint(registration.endpoint_id)["status_code"] == 200
                yield studio, engine, book
        finally:
            studio.close()


def take(n: int) -> JobRequest:
    return JobRequest(prompt=f"take {n}: a paper boat on a pond", model="dailies-preview", size="720x1280", seconds=4)


def complete_with_files(studio: Studio, job_id: str) -> bool:
    job = studio.store.require(job_id)
    return job.status is JobStatus.COMPLETED and "video" in job.files


@pytest.mark.slow
def test_finished_takes_arrive_by_webhook_with_one_status_request_each(tmp_path: Path) -> None:
    with hooked_studio(tmp_path) as (studio, engine, book):
        assert studio.tracker.pushing("engine"), "the test event counts as a delivery"
        jobs = [studio.submit(take(n)) for n in range(3)]
        for job in jobs:
            wait_until(lambda: complete_with_files(studio, job.id), 90, f"{job.id} to complete")  # noqa: B023
        for job in jobs:
            done = studio.store.require(job.id)
            video = studio.media.resolve(done.files["video"].path)
            assert sha256_file(video) == done.files["video"].sha256
        asked = {job.remote_id: engine.engine.api.status_requests[job.remote_id] for job in jobs}
        # Events only hasten: each take's event made one status request (the provider's answer completes it),
        # and no other poll was made (the safety net waits while deliveries arrive).
        assert asked == {job.remote_id: 1 for job in jobs}, "asked once each, when told"
        last = book.last_delivery("engine")
        assert last is not None and last.event_type == "video.completed" and last.job_id in {j.id for j in jobs}
        stored = (studio.home / "webhooks.json")
        assert stored.stat().st_mode & 0o077 == 0, "the signing secret is readable by its user only"
        secret = book.registration("engine").secret
        assert secret not in (studio.home / "jobs.journal").read_text()


@pytest.mark.slow
def test_a_lost_and_a_duplicated_event_change_only_the_timing(tmp_path: Path) -> None:
    # Seed 1: the first event is dropped; every other one is delivered twice.
    faults = WebhookFaults(rate_drop=0.5, rate_duplicate=1.0, seed=1)
    # The other takes' events keep arriving, so the safety net waits for its cap (4 s here) to ask about it.
    with hooked_studio(tmp_path, faults, safety_net=2.0, safety_cap=4.0) as (studio, engine, _book):
        jobs = [studio.submit(take(n)) for n in range(3)]
        for job in jobs:
            wait_until(lambda: complete_with_files(studio, job.id), 120, f"{job.id} to complete")  # noqa: B023
        done = [studio.store.require(j.id) for j in jobs]
        assert all(j.status is JobStatus.COMPLETED and j.error is None for j in done)
        assert all(sha256_file(studio.media.resolve(j.files["video"].path)) == j.files["video"].sha256 for j in done)
        polled = [j for j in done if engine.engine.api.status_requests[j.remote_id] > 0]
        assert polled, "the job whose event was lost was found by the safety-net poll"
        sent = [r for r in engine.engine.webhooks.log if r.event_type.startswith("video.") and r.status_code == 200]
        assert len(sent) > len({r.event_id for r in sent}), "duplicates were delivered (and answered 2xx)"


def test_registering_again_replaces_the_endpoint_and_removing_deletes_it(tmp_path: Path) -> None:
    with hooked_studio(tmp_path) as (studio, _engine, book):
        client = studio.provider("engine").client
        first = book.registration("engine")
        second = register(book, "engine", client, first.url.rsplit("/hooks/", 1)[0])
        assert [e["id"] for e in client.list_webhook_endpoints()] == [second.endpoint_id]
        unregister(book, "engine", client)
        assert book.registration("engine") is None
        assert client.list_webhook_endpoints() == []
        with pytest.raises(ValidationError, match="https"):
            register(book, "engine", client, "http://dailies.example.com")


# -- the receiver's refusals --------------------------------------------------------------------------------


class Told:
    """What the receiver told the tracker (this test is about the receiver's checks, not the tracker)."""

    def __init__(self) -> None:
        self.deliveries: list[str] = []
        self.nudges: list[tuple[str, str, str]] = []

    def delivery_arrived(self, provider: str) -> None:
        self.deliveries.append(provider)

    def nudge(self, provider: str, remote_id: str, status: str) -> str | None:
        self.nudges.append((provider, remote_id, status))
        return "job_1"


SECRET = "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="


def signed(body: str, msg_id: str = "evt_1", at: float | None = None, secret: str = SECRET) -> dict[str, str]:
    stamp = datetime.fromtimestamp(int(at if at is not None else time.time()), tz=UTC)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(stamp.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, stamp, body)}


@pytest.fixture
def checked(tmp_path: Path) -> tuple[WebhookReceiver, Told]:
    book = WebhookBook(tmp_path)
    book.put(Registration("engine", "whep_1", "http://127.0.0.1:1/hooks/engine", SECRET, time.time()))
    told = Told()
    return WebhookReceiver(book, told), told


EVENT = json.dumps({"id": "evt_1", "object": "event", "created_at": 1, "type": "video.completed",
                    "data": {"id": "video_9"}})


def test_a_good_delivery_nudges_the_tracker_once_and_a_replay_is_ignored(checked) -> None:
    receiver, told = checked
    first = receiver.receive("engine", EVENT.encode(), signed(EVENT))
    assert (first.status, told.nudges) == (200, [("engine", "video_9", "completed")])
    again = receiver.receive("engine", EVENT.encode(), signed(EVENT))  # same webhook-id, freshly signed
    assert again.status == 200 and "Already received" in again.message
    assert told.nudges == [("engine", "video_9", "completed")]
    assert receiver.book.last_delivery("engine").job_id == "job_1"


# Headers are signed when the test runs, not when pytest collects it: a suite minutes long would
# otherwise send every case "too old".
@pytest.mark.parametrize(
    ("case", "headers", "why"),
    [
        ("bad signature", lambda: signed(EVENT, secret="whsec_" + "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0xMjM0NTY="),
         "No matching signature"),
        ("stale timestamp", lambda: signed(EVENT, at=time.time() - 3600), "too old"),
        ("from the future", lambda: signed(EVENT, at=time.time() + 3600), "too new"),
        ("no headers", dict, "Missing required headers"),
        ("garbled signature", lambda: {**signed(EVENT), "webhook-signature": "garbage"}, "malformed"),
    ],
)
def test_bad_deliveries_are_refused_and_nothing_is_told(
    checked, case: str, headers: Callable[[], dict[str, str]], why: str
) -> None:
    receiver, told = checked
    outcome = receiver.receive("engine", EVENT.encode(), headers())
    assert outcome.status == 401 and why in outcome.message, case
    assert told.nudges == [] and told.deliveries == []
    assert receiver.book.last_delivery("engine") is None


def test_a_tampered_body_or_an_unknown_provider_is_refused(checked) -> None:
    receiver, told = checked
    headers = signed(EVENT)
    tampered = EVENT.replace("video_9", "video_666")
    assert receiver.receive("engine", tampered.encode(), headers).status == 401
    assert receiver.receive("fal", EVENT.encode(), headers).status == 404
    assert receiver.receive("../etc", EVENT.encode(), headers).status == 404
    assert told.nudges == []


def test_polling_slows_while_deliveries_arrive_and_resumes_when_they_stop(tmp_path: Path) -> None:
    from dailies.jobs import Job
    from dailies.media import MediaLibrary
    from dailies.store import JobStore
    from dailies.tracker import PollPolicy, Tracker, TrackerContext

    now = [1_000_000.0]
    store = JobStore(tmp_path / "jobs.journal")
    tracker = Tracker(TrackerContext.build(store, lambda name: None, MediaLibrary(tmp_path / "media"),
                                           clock=lambda: now[0], policy=PollPolicy(safety_net=60.0, quiet_after=600.0)))
    job = store.insert(Job(id="job_1", provider="engine", model="m", prompt="p", remote_id="video_1"))
    assert tracker.safety_net.next_poll(job, 1.0) == now[0] + 1.0, "no deliveries: the normal schedule"
    tracker.delivery_arrived("engine")
    assert tracker.pushing("engine") and not tracker.pushing("fal")
    assert tracker.safety_net.next_poll(job, 1.0) == now[0] + 60.0, "deliveries arrive: the safety net"
    now[0] += 601.0
    assert not tracker.pushing("engine")
    assert tracker.safety_net.next_poll(job, 1.0) == now[0] + 1.0, "deliveries stopped: the normal schedule again"
    store.close()


def test_the_app_mounts_its_receiver_where_registrations_point() -> None:
    """`app.py` mounts `dailies.web.paths.HOOKS_ROUTE` without importing the webhook code; the URL a provider is
    given must be that route."""
    from starlette.routing import Route

    from dailies.web.paths import HOOKS_ROUTE

    route = Route(HOOKS_ROUTE, lambda request: None)
    _, scope = route.matches({"type": "http", "path": receiver_url("https://x.example", "fal").split(
        "x.example", 1)[1], "method": "POST"})
    assert HOOKS_ROUTE.startswith(HOOKS_PREFIX + "/") and scope["path_params"] == {"provider": "fal"}
