"""The engine's webhook endpoints as the official `openai` package (3.51.0) drives them, and its signed
deliveries checked by the SDK's own `webhooks.verify_signature`: retries, secret rotation, faults."""

from __future__ import annotations

import json
import stat
import time

import openai
import pytest
from hook_receiver import hook_receiver
from until import wait_until

from dailies.backoff import Backoff
from dailies.engine import DeliveryPolicy, EngineConfig, Faults, WebhookFaults, serve_engine

FAST = DeliveryPolicy(attempts=4, waits=Backoff(first=0.1, cap=1.0), timeout_s=5.0)


def sdk(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0)


def events(receiver) -> list[dict]:
    return [json.loads(r.body) for r in receiver.received]


@pytest.fixture
def running(tmp_path):
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", workers=2, webhook_policy=FAST,
                                   faults=Faults(blocked_terms=("forbidden",)))) as engine:
        yield engine


def test_endpoints_are_created_listed_updated_and_deleted_through_the_sdk(running) -> None:
    client = sdk(running.base_url)
    made = [client.webhooks.create(url=f"https://hooks.example/{n}", name=f"hook {n}",
                                   event_types=["video.completed", "video.failed"]) for n in range(3)]
    assert all(m.signing_secret.startswith("whsec_") for m in made)
    assert made[0].signing_secret_hint == f"whsec_...{made[0].signing_secret[-4:]}"
    # Pages of two: the SDK follows `after` to the end; newest first.
    listed = list(client.webhooks.list(limit=2))
    assert [e.id for e in listed] == [m.id for m in reversed(made)]
    assert "signing_secret" not in listed[0].model_dump()
    updated = client.webhooks.update(made[0].id, name="renamed", event_types=["video.completed"])
    assert (updated.name, updated.event_types) == ("renamed", ["video.completed"])
    assert client.webhooks.retrieve(made[0].id).name == "renamed"
    deleted = client.webhooks.delete(made[1].id)
    assert deleted.deleted and deleted.id == made[1].id
    with pytest.raises(openai.NotFoundError):
        client.webhooks.retrieve(made[1].id)
    assert "video.completed" in client.webhooks.event_types.list().data


def test_bad_endpoint_requests_are_refused_with_a_reason(running) -> None:
    client = sdk(running.base_url)
    with pytest.raises(openai.BadRequestError, match="url"):
        client.webhooks.create(url="ftp://nowhere", name="x", event_types=["video.completed"])
    with pytest.raises(openai.BadRequestError, match="event_types"):
        client.webhooks.create(url="https://a.example/h", name="x", event_types=["video.exploded"])  # type: ignore[list-item]
    assert list(client.webhooks.list()) == []


def test_endpoints_and_secrets_survive_a_restart_in_a_private_file(tmp_path) -> None:
    config = EngineConfig(data_dir=tmp_path / "engine")
    with serve_engine(config) as engine:
        made = sdk(engine.base_url).webhooks.create(url="https://a.example/h", name="a", event_types=["video.failed"])
    stored = tmp_path / "engine" / "webhooks.json"
    assert stored.stat().st_mode & 0o077 == 0
    with serve_engine(config) as engine:
        assert [e.id for e in sdk(engine.base_url).webhooks.list()] == [made.id]


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_finished_video_is_delivered_signed_and_the_sdk_verifies_it(running) -> None:
    client = sdk(running.base_url)
    with hook_receiver() as receiver:
        endpoint = client.webhooks.create(url=receiver.url, name="app", event_types=["video.completed", "video.failed"])
        done = client.videos.create(prompt="a lighthouse at dusk", seconds="4")
        failed = client.videos.create(prompt="something forbidden", seconds="4")
        wait_until(lambda: len(receiver.received) >= 2, 60, "two deliveries")
        by_type = {e["type"]: e for e in events(receiver)}
        assert by_type["video.completed"]["data"] == {"id": done.id}
        assert by_type["video.failed"]["data"] == {"id": failed.id}
        for got in receiver.received:
            client.webhooks.verify_signature(got.body, got.headers, secret=endpoint.signing_secret)
            assert got.headers["webhook-id"] == json.loads(got.body)["id"]
        with pytest.raises(openai.InvalidWebhookSignatureError):
            client.webhooks.verify_signature(receiver.received[0].body, receiver.received[0].headers,
                                             secret="whsec_" + "A" * 44)
        assert client.videos.retrieve(done.id).status == "completed"


def test_a_test_event_reports_what_the_endpoint_answered(running) -> None:
    client = sdk(running.base_url)
    with hook_receiver() as receiver:
        receiver.answers = [204]
        endpoint = client.webhooks.create(url=receiver.url, name="app", event_types=["video.completed"])
        result = client.webhooks.test(endpoint.id, event_type="video.completed")
        assert (result.status_code, result.webhook_endpoint_id, result.event_type) == (204, endpoint.id,
                                                                                       "video.completed")
        client.webhooks.verify_signature(receiver.received[0].body, receiver.received[0].headers,
                                         secret=endpoint.signing_secret)
    with pytest.raises(openai.BadRequestError, match="could not be reached"):
        client.webhooks.test(endpoint.id, event_type="video.completed")


def logged(engine, count: int) -> None:
    """Until the engine has recorded `count` attempts: it records one once its answer is in, a moment after the
    receiver has the delivery."""
    wait_until(lambda: len(engine.engine.webhooks.log) >= count, 10, f"{count} attempts recorded")


def test_a_failing_endpoint_is_retried_with_backoff_under_the_same_id(running) -> None:
    client = sdk(running.base_url)
    with hook_receiver() as receiver:
        receiver.answers = [500, 503]
        client.webhooks.create(url=receiver.url, name="app", event_types=["video.completed"])
        running.engine.webhooks.emit("video.completed", {"id": "video_x"})
        wait_until(lambda: len(receiver.received) >= 3, 20, "three attempts")
        assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
        logged(running, 3)
        attempts = [r for r in running.engine.webhooks.log if r.event_id == receiver.received[0].headers["webhook-id"]]
        assert [(a.attempt, a.status_code) for a in attempts] == [(1, 500), (2, 503), (3, 200)]
        assert attempts[2].at - attempts[1].at > attempts[1].at - attempts[0].at  # the wait grows
        assert len(receiver.received) == 3  # success ends the retries


def test_a_delivery_still_queued_when_the_engine_stops_is_sent_once_it_runs_again(tmp_path) -> None:
    config = EngineConfig(data_dir=tmp_path / "engine", webhook_policy=FAST)
    with hook_receiver() as receiver:
        with serve_engine(config) as first:
            sdk(first.base_url).webhooks.create(url=receiver.url, name="app", event_types=["video.completed"])
            first.engine.webhooks.close()  # the sender stops; the event is queued all the same
            event_id = first.engine.webhooks.emit("video.completed", {"id": "video_x"})
        assert not receiver.received
        assert stat.S_IMODE((tmp_path / "engine" / "deliveries.json").stat().st_mode) == 0o600
        with serve_engine(config):
            got = wait_until(lambda: receiver.received, 10, "the kept delivery")
        assert [r.headers["webhook-id"] for r in got] == [event_id]
    assert json.loads((tmp_path / "engine" / "deliveries.json").read_text()) == {}, "sent: no longer kept"


def test_rotation_keeping_the_old_secret_signs_with_both(running) -> None:
    client = sdk(running.base_url)
    with hook_receiver() as receiver:
        endpoint = client.webhooks.create(url=receiver.url, name="app", event_types=["video.completed"])
        rotated = client.webhooks.rotate_secret(endpoint.id, keep_old_secret_active_for_24_hours=True)
        assert rotated.signing_secret != endpoint.signing_secret
        running.engine.webhooks.emit("video.completed", {"id": "video_a"})
        got = wait_until(lambda: receiver.received, 10, "a delivery")[0]
        client.webhooks.verify_signature(got.body, got.headers, secret=endpoint.signing_secret)
        client.webhooks.verify_signature(got.body, got.headers, secret=rotated.signing_secret)
        again = client.webhooks.rotate_secret(endpoint.id)
        running.engine.webhooks.emit("video.completed", {"id": "video_b"})
        got = wait_until(lambda: receiver.received[1:], 10, "a second delivery")[0]
        client.webhooks.verify_signature(got.body, got.headers, secret=again.signing_secret)
        with pytest.raises(openai.InvalidWebhookSignatureError):
            client.webhooks.verify_signature(got.body, got.headers, secret=rotated.signing_secret)


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_faults_drop_duplicate_delay_and_reorder_deliveries(tmp_path) -> None:
    cases = {
        "drop": WebhookFaults(rate_drop=0.5, seed=1),  # seed 1: the first event dropped, the second not
        "duplicate": WebhookFaults(rate_duplicate=1.0),
        "delay": WebhookFaults(delay_s=1.0),
        "reorder": WebhookFaults(rate_reorder=0.5, seed=1),  # seed 1: the first event held, the second not
    }
    for name, faults in cases.items():
        with serve_engine(EngineConfig(data_dir=tmp_path / name, webhook_faults=faults, webhook_policy=FAST)) as eng, \
                hook_receiver() as receiver:
            sdk(eng.base_url).webhooks.create(url=receiver.url, name=name, event_types=["video.completed"])
            sent_at = time.time()
            first = eng.engine.webhooks.emit("video.completed", {"id": "video_1"})
            second = eng.engine.webhooks.emit("video.completed", {"id": "video_2"})
            expected = {"duplicate": 4, "drop": 1}.get(name, 2)
            wait_until(lambda: len(receiver.received) >= expected, 15, f"{name}: {expected} deliveries")  # noqa: B023
            logged(eng, expected)
            ids = [r.headers["webhook-id"] for r in receiver.received]
            if name == "drop":
                assert ids == [second]
                assert [rec.event_id for rec in eng.engine.webhooks.log] == [second]
            elif name == "duplicate":
                assert sorted(ids) == sorted([first, first, second, second])
            elif name == "delay":
                assert sorted(ids) == sorted([first, second])
                assert min(int(r.headers["webhook-timestamp"]) for r in receiver.received) >= int(sent_at + 1.0) - 1
                assert all(rec.at - sent_at >= 1.0 for rec in eng.engine.webhooks.log)
            else:
                assert ids == [second, first]
