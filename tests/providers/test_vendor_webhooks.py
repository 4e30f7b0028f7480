"""fal and Replicate callbacks through the same receiver as the OpenAI-style webhooks, end to end.

The studio's provider talks to the local fake through the vendor's official SDK; the fake, asked for a
callback at create, finishes the take on its own clock (nobody polls it: the tracker's first poll is far
off) and posts its signed callback over real HTTP to the app's `WebhookReceiver`, which tells the real
tracker, which downloads the video. Then the receiver's refusals: a forged signature and a stale
timestamp (401, nothing changes) and a replay (ignored).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hook_receiver import hook_receiver
from standardwebhooks import Webhook

from bench.loopback import receiver_server
from dailies.config import Environment
from dailies.jobs import JobRequest, JobStatus
from dailies.providers.fal import FalProvider
from dailies.studio import Studio
from dailies.tracker import PollPolicy
from dailies.webhooks import Registration, WebhookBook, WebhookReceiver, register_vendor, unregister
from dailies.webhooks.schemes import FalKeys, fal_message
from tests.fakes._server import Delivered
from tests.fakes.fal import KEY as FAL_KEY
from tests.fakes.fal import FakeFal
from tests.fakes.replicate import KEY as REPLICATE_KEY
from tests.fakes.replicate import FakeReplicate
from tests.providers._helpers import assert_real_mp4, request, wait_until
from tests.server_side import define

SLOW_POLLS = PollPolicy(first=30.0, growth=1.0, cap=30.0)
"""No status request before the callback could possibly arrive: the callback alone finishes the take."""


@dataclasses.dataclass
class Hooked:
    studio: Studio
    book: WebhookBook
    base: str
    """Where the receiver is reached (`<base>/hooks/<provider>`)."""


@pytest.fixture
def replicate_fake() -> Iterator[FakeReplicate]:
    with FakeReplicate() as fake:
        yield fake


@pytest.fixture
def fal_fake() -> Iterator[FakeFal]:
    with FakeFal() as fake:
        yield fake


def hooked(home: Path, name: str, kind: str, fake_url: str, values: dict[str, str]) -> Iterator[Hooked]:
    studio = Studio(Environment(home=home, values=values))
    studio.tracker.policy = SLOW_POLLS
    define(studio, name, kind, fake_url)  # where keys live: the SDK at its fake
    studio.start()
    book = WebhookBook(studio.home)
    try:
        with receiver_server(WebhookReceiver(book, studio.tracker)) as base:
            yield Hooked(studio, book, base)
    finally:
        studio.close()


@pytest.fixture
def on_replicate(isolated_home: Path, replicate_fake: FakeReplicate) -> Iterator[Hooked]:
    yield from hooked(isolated_home, "rep", "replicate", replicate_fake.base_url,
                      {"REPLICATE_API_TOKEN": REPLICATE_KEY})


@pytest.fixture
def on_fal(isolated_home: Path, fal_fake: FakeFal) -> Iterator[Hooked]:
    yield from hooked(isolated_home, "fal", "fal", fal_fake.base_url,
                      {"FAL_KEY": FAL_KEY, "FAL_JWKS_URL": fal_fake.jwks_url})


def finished_by_callback(hooked: Hooked, job_id: str, fake_job: object) -> None:
    """The take completed with its video, and the fake was never polled forward: the callback told us."""
    studio = hooked.studio
    wait_until(lambda: studio.store.require(job_id).status is JobStatus.COMPLETED, "the take to complete", 20)
    done = studio.store.require(job_id)
    assert_real_mp4(studio.media.resolve(done.files["video"].path), done.files["video"].sha256)
    assert fake_job.polls == 0, "no status request moved the take on"  # type: ignore[attr-defined]
    assert studio.tracker.pushing(done.provider)


def replay_ignored_and_forgeries_refused(hooked: Hooked, provider: str, delivered: Delivered, forged: dict[str, str],
                                        stale: dict[str, str], job_id: str) -> None:
    """A replay of that very delivery is answered 2xx (so the vendor stops) and ignored; a forged signature and a
    stale timestamp are refused (401) and change nothing: the last delivery and the completed take stay."""
    last = hooked.book.last_delivery(provider)
    again = post(hooked.base, provider, delivered.body, delivered.headers)
    assert again.status_code == 200 and "Already received" in again.json()["message"]
    for headers, why in ((forged, "No matching signature"), (stale, "too old")):
        refused = post(hooked.base, provider, delivered.body, headers)
        assert refused.status_code == 401 and why in refused.json()["message"]
    assert hooked.book.last_delivery(provider) == last
    assert hooked.studio.store.require(job_id).status is JobStatus.COMPLETED


def post(base: str, provider: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{base}/hooks/{provider}", content=body, headers=headers, timeout=10)


# -- Replicate --------------------------------------------------------------------------------------


def test_a_replicate_take_is_finished_by_its_signed_callback(on_replicate: Hooked,
                                                             replicate_fake: FakeReplicate) -> None:
    studio, book = on_replicate.studio, on_replicate.book
    registration = register_vendor(book, "rep", studio.provider("rep"), on_replicate.base)
    assert registration.kind == "replicate" and registration.secret == replicate_fake.secret
    assert registration.url == f"{on_replicate.base}/hooks/rep"
    assert (studio.home / "webhooks.json").stat().st_mode & 0o077 == 0

    job = studio.submit(JobRequest("a kite over dunes", "bytedance/seedance-1.5-pro", "1280x720", 5), provider="rep")
    sent = replicate_fake.creates("/predictions")[0].body
    assert sent["webhook"] == registration.url and sent["webhook_events_filter"] == ["completed"]
    finished_by_callback(on_replicate, job.id, replicate_fake.jobs[job.remote_id])

    last = book.last_delivery("rep")
    assert last is not None and last.event_type == "prediction.succeeded" and last.job_id == job.id
    (delivered,) = replicate_fake.deliveries
    assert delivered.status == 200

    # Signed with a secret that is not ours; signed with ours an hour ago.
    body = delivered.body.decode()
    forged = {**replicate_fake.sign(body, "msg_forged"),
              "webhook-signature": Webhook("whsec_" + "Zm9yZ2VkLWZvcmdlZC1mb3JnZWQtZm9yZ2Vk").sign(
                  "msg_forged", datetime.now(UTC), body)}
    stale = replicate_fake.sign(body, "msg_stale", at=time.time() - 3600)
    replay_ignored_and_forgeries_refused(on_replicate, "rep", delivered, forged, stale, job.id)

    # Removed: the next create asks for no callback, and the tracker polls it (at the safety net's pace
    # until a poll finds it finished unannounced, which puts polling back on its normal schedule).
    unregister(book, "rep", None)
    studio.tracker.policy = PollPolicy(first=0.05, growth=1.0, cap=0.1, floor=0.02, safety_net=0.2, safety_cap=0.5)
    second = studio.submit(JobRequest("a kite at dusk", "bytedance/seedance-1.5-pro", "1280x720", 5), provider="rep")
    assert "webhook" not in replicate_fake.creates("/predictions")[1].body
    wait_until(lambda: studio.store.require(second.id).status is JobStatus.COMPLETED, "the polled take", 30)
    assert len(replicate_fake.deliveries) == 1


# -- fal --------------------------------------------------------------------------------------------


def test_a_fal_take_is_finished_by_its_signed_callback(on_fal: Hooked, fal_fake: FakeFal) -> None:
    studio, book = on_fal.studio, on_fal.book
    registration = register_vendor(book, "fal", studio.provider("fal"), on_fal.base)
    assert registration.kind == "fal" and registration.secret == "" and registration.keys_url == fal_fake.jwks_url

    job = studio.submit(JobRequest("a paper boat", "fal-ai/kling-video/v2.5-turbo/pro", "720x1280", 5), provider="fal")
    create = fal_fake.creates("/fal-ai/kling-video/v2.5-turbo/pro/text-to-video")[0]
    assert create.query["fal_webhook"] == [registration.url]
    request_id = job.remote_id.rsplit("/", 1)[1]
    finished_by_callback(on_fal, job.id, fal_fake.jobs[request_id])

    last = book.last_delivery("fal")
    assert last is not None and last.event_type == "request.ok" and last.job_id == job.id
    (delivered,) = fal_fake.deliveries
    assert delivered.status == 200 and json.loads(delivered.body)["payload"]["video"]["url"]

    # Signed by a key fal does not publish; signed by fal's key an hour ago.
    other = Ed25519PrivateKey.generate()
    forged = fal_fake.sign("fal-forged", delivered.body)
    stamp = forged["x-fal-webhook-timestamp"]
    forged["x-fal-webhook-signature"] = other.sign(fal_message("fal-forged", forged["x-fal-webhook-user-id"],
                                                               stamp, delivered.body)).hex()
    stale = fal_fake.sign("fal-stale", delivered.body, at=time.time() - 3600)
    replay_ignored_and_forgeries_refused(on_fal, "fal", delivered, forged, stale, job.id)

    unregister(book, "fal", None)
    studio.submit(JobRequest("another boat", "fal-ai/veo3.1", "1280x720", 8), provider="fal")
    assert "fal_webhook" not in fal_fake.creates("/fal-ai/veo3.1")[0].query


@pytest.mark.parametrize(("hooked_on", "fake_of", "provider", "job", "reason", "event"), [
    ("on_replicate", "replicate_fake", "rep", JobRequest("a kite", "google/veo-3.1", "1280x720", 8),
     "The model ran out of memory", "prediction.failed"),
    ("on_fal", "fal_fake", "fal", JobRequest("a paper boat", "fal-ai/veo3.1", "1280x720", 8),
     "The prompt breaks the content policy", "request.error"),
], ids=["replicate", "fal"])
def test_a_failed_take_is_failed_at_once_with_its_reason(
    hooked_on: str, fake_of: str, provider: str, job: JobRequest, reason: str, event: str,
    request: pytest.FixtureRequest
) -> None:
    on: Hooked = request.getfixturevalue(hooked_on)
    studio = on.studio
    register_vendor(on.book, provider, studio.provider(provider), on.base)
    request.getfixturevalue(fake_of).fail_next = reason
    submitted = studio.submit(job, provider=provider)
    wait_until(lambda: studio.store.require(submitted.id).status is JobStatus.FAILED, "the take to fail", 20)
    assert studio.store.require(submitted.id).error.message == reason
    assert on.book.last_delivery(provider).event_type == event


def test_fals_keys_are_kept_and_fetched_again_once_when_fal_rotates_them(fal_fake: FakeFal) -> None:
    now = [1_000.0]
    keys = FalKeys(ttl_s=3600, refetch_after_s=30, clock=lambda: now[0])
    message = fal_message("req_1", "user", "1000", b"{}")
    assert keys.verify(fal_fake.jwks_url, fal_fake.signing_key.sign(message), message)
    assert keys.verify(fal_fake.jwks_url, fal_fake.signing_key.sign(message), message) and keys.fetches == 1
    fal_fake.signing_key = Ed25519PrivateKey.generate()  # fal rotates its key
    rotated = fal_fake.signing_key.sign(message)
    assert not keys.verify(fal_fake.jwks_url, rotated, message), "not refetched at once (forgeries cannot force it)"
    now[0] += 31
    assert keys.verify(fal_fake.jwks_url, rotated, message) and keys.fetches == 2
    keys.close()


# -- what is kept where -----------------------------------------------------------------------------


def test_the_signing_secret_and_the_keys_never_reach_the_job_store(on_replicate: Hooked,
                                                                   replicate_fake: FakeReplicate) -> None:
    studio = on_replicate.studio
    register_vendor(on_replicate.book, "rep", studio.provider("rep"), on_replicate.base)
    job = studio.submit(JobRequest("a kite", "minimax/hailuo-02", "1280x720", 6), provider="rep")
    wait_until(lambda: studio.store.require(job.id).status is JobStatus.COMPLETED, "the take to complete", 20)
    stored = json.dumps([dataclasses.asdict(j) for j in studio.store.all()], default=str)
    on_disk = "".join(p.read_text(errors="replace") for p in studio.home.glob("jobs*") if p.is_file())
    settings_file = studio.home / "settings.json"
    settings = settings_file.read_text() if settings_file.exists() else ""  # the provider is defined on the server
    for secret in (replicate_fake.secret, replicate_fake.secret.split("_", 1)[1], REPLICATE_KEY):
        assert secret not in stored and secret not in on_disk
        assert secret not in settings
    assert replicate_fake.secret in (studio.home / "webhooks.json").read_text(), "kept only there"


# -- the fal check's refusals, one by one ------------------------------------------------------------


class Told:
    """What the receiver told the tracker (these cases are about the receiver's checks)."""

    def __init__(self) -> None:
        self.nudges: list[tuple[str, str, str]] = []

    def delivery_arrived(self, provider: str) -> None:
        self.nudges.append((provider, "", "arrived"))

    def nudge(self, provider: str, remote_id: str, status: str) -> str | None:
        self.nudges.append((provider, remote_id, status))
        return "job_1"


RESULT = json.dumps({"request_id": "req_9", "status": "OK", "payload": {"video": {"url": "x"}}}).encode()


@pytest.mark.parametrize(
    ("case", "headers", "why"),
    [
        ("no headers", lambda fake: {}, "Missing required headers"),
        ("garbled signature", lambda fake: {**fake.sign("req_9", RESULT), "x-fal-webhook-signature": "zz"},
         "malformed"),
        ("from the future", lambda fake: fake.sign("req_9", RESULT, at=time.time() + 3600), "too new"),
        ("another user's signature on this body", lambda fake: {**fake.sign("req_9", RESULT, user_id="them"),
                                                                "x-fal-webhook-user-id": "me"}, "No matching"),
        ("a body about another request", lambda fake: fake.sign("req_8", RESULT), "not about the signed request"),
    ],
)
def test_bad_fal_deliveries_are_refused_and_nothing_is_told(tmp_path: Path, fal_fake: FakeFal, case: str,
                                                            headers, why: str) -> None:
    book = WebhookBook(tmp_path)
    book.put(_fal_registration(fal_fake.jwks_url))
    told = Told()
    outcome = WebhookReceiver(book, told).receive("fal", RESULT, headers(fal_fake))
    assert outcome.status == 401 and why in outcome.message, case
    assert told.nudges == [] and book.last_delivery("fal") is None


def test_a_good_fal_delivery_is_told_once_and_unreachable_keys_ask_fal_to_retry(tmp_path: Path,
                                                                                fal_fake: FakeFal) -> None:
    book = WebhookBook(tmp_path)
    book.put(_fal_registration(fal_fake.jwks_url))
    told = Told()
    receiver = WebhookReceiver(book, told)
    headers = fal_fake.sign("req_9", RESULT)
    assert receiver.receive("fal", RESULT, headers).status == 200
    assert receiver.receive("fal", RESULT, headers).message == "Already received; ignored."
    assert told.nudges == [("fal", "", "arrived"), ("fal", "req_9", "completed")]

    book.put(_fal_registration("http://127.0.0.1:9/.well-known/jwks.json"))  # nothing listens there
    later = WebhookReceiver(book, told).receive("fal", RESULT, fal_fake.sign("req_10", RESULT))
    assert later.status == 503 and "try again later" in later.message


def _fal_registration(keys_url: str) -> Registration:
    return Registration("fal", "", "http://127.0.0.1:1/hooks/fal", "", time.time(), kind="fal",
                        keys_url=keys_url)


def test_the_fakes_retry_a_callback_the_receiver_did_not_take(fal_fake: FakeFal) -> None:
    """What the vendors do (fal retries for two hours), in small: a 500 is followed by a second attempt."""
    with hook_receiver("/hooks/fal") as receiver:
        receiver.answers = [500]
        provider = FalProvider(api_key=FAL_KEY, base_url=fal_fake.base_url, webhook_url=lambda: receiver.url)
        try:
            provider.submit(request("fal-ai/veo3.1", "1280x720", 8))
        finally:
            provider.close()
        wait_until(lambda: len(receiver.received) == 2, "the second attempt", 20)
    assert [d.status for d in fal_fake.deliveries] == [500, 200]
    first, second = receiver.received
    assert first.headers["x-fal-webhook-request-id"] == second.headers["x-fal-webhook-request-id"]
