"""Runway through the real `runwayml` SDK against a local fake of Runway's task API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import runwayml.lib.polling  # noqa: F401  (the SDK's own module is loaded as in production)

from dailies.errors import APIConnectionError, APIError, NotSupported, ServerError
from dailies.errors import may_have_arrived as _may_have_arrived
from dailies.jobs import JobKind, JobStatus
from dailies.providers._vendor import MissingKey
from dailies.providers.catalog import RUNWAY
from dailies.providers.runway import RunwayProvider
from tests.fakes.runway import KEY, FakeRunway
from tests.providers._helpers import assert_real_mp4, follow, request


@pytest.fixture
def fake() -> Iterator[FakeRunway]:
    with FakeRunway() as server:
        yield server


@pytest.fixture
def provider(fake: FakeRunway) -> Iterator[RunwayProvider]:
    made = RunwayProvider(api_key=KEY, base_url=fake.base_url)
    yield made
    made.close()


def test_text_to_video_create_status_download(fake: FakeRunway, provider: RunwayProvider, tmp_path: Path) -> None:
    created = provider.submit(request("veo3.1", "1280x720", 4, seed=3))
    assert created.status is JobStatus.QUEUED
    sent = fake.creates("/v1/text_to_video")[0]
    assert sent.body == {"model": "veo3.1", "ratio": "1280:720", "duration": 4, "promptText": sent.body["promptText"],
                         "seed": 3, "audio": True}
    assert sent.headers["X-Runway-Version"] == "2024-11-06"

    seen = follow(provider, created.remote_id)
    assert [s.status for s in seen] == [JobStatus.IN_PROGRESS, JobStatus.COMPLETED]
    assert seen[0].progress == 50  # Runway's fraction as a percentage

    record = provider.download(created.remote_id, "video", tmp_path / "video.mp4")
    assert_real_mp4(tmp_path / "video.mp4", record.sha256)
    assert record.content_type == "video/mp4"


def test_image_to_video_sends_the_image_inline(fake: FakeRunway, provider: RunwayProvider, tmp_path: Path) -> None:
    image = tmp_path / "ref.png"
    from PIL import Image

    Image.new("RGB", (32, 18), (200, 40, 40)).save(image)
    created = provider.submit(request("gen4_turbo", "720x1280", 5, reference_path=str(image)))
    body = fake.creates("/v1/image_to_video")[0].body
    assert body["promptImage"].startswith("data:image/png;base64,") and body["ratio"] == "720:1280"
    follow(provider, created.remote_id)
    record = provider.download(created.remote_id, "video", tmp_path / "out.mp4")
    assert_real_mp4(tmp_path / "out.mp4", record.sha256)


def test_cancel_a_running_task(fake: FakeRunway, provider: RunwayProvider) -> None:
    created = provider.submit(request("gen4.5", "1280x720", 5))
    assert provider.refresh(created.remote_id).status is JobStatus.IN_PROGRESS
    provider.delete(created.remote_id)
    after = provider.refresh(created.remote_id)
    assert after.status is JobStatus.FAILED and after.error and after.error.code == "cancelled"
    assert [r.method for r in fake.requests if "/v1/tasks/" in r.path].count("DELETE") == 1


def test_a_failed_task_keeps_runways_reason(fake: FakeRunway, provider: RunwayProvider) -> None:
    fake.fail_next = "The prompt was flagged by moderation"
    created = provider.submit(request("gen4.5", "720x1280", 2))
    final = follow(provider, created.remote_id)[-1]
    assert final.status is JobStatus.FAILED
    assert final.error and final.error.message == "The prompt was flagged by moderation"


@pytest.mark.parametrize(("how", "error_class"), [("drop", APIConnectionError), ("503", ServerError)])
def test_a_lost_create_answer_is_never_sent_twice(
    fake: FakeRunway, provider: RunwayProvider, how: str, error_class: type[APIError]
) -> None:
    """The SDK would retry the POST (no idempotency key): the provider turns that off for creates."""
    fake.lose_next_create = how
    with pytest.raises(error_class) as raised:
        provider.submit(request("gen4.5", "1280x720", 5))
    assert _may_have_arrived(raised.value)  # the studio looks for the job before anything is resent
    assert len(fake.creates("/v1/text_to_video")) == 1
    assert len(fake.jobs) == 1


def test_refusals_send_nothing(fake: FakeRunway, provider: RunwayProvider) -> None:
    with pytest.raises(NotSupported, match="1280x720 \\(as 1280:720\\)"):
        provider.submit(request("gen4.5", "1792x1024", 5))
    with pytest.raises(NotSupported, match="4, 6, 8 seconds"):
        provider.submit(request("veo3.1", "1280x720", 5))
    with pytest.raises(NotSupported, match="needs a reference image"):
        provider.submit(request("gen4_turbo", "1280x720", 5))
    with pytest.raises(NotSupported, match="extension"):
        provider.submit(request("gen4.5", "1280x720", 5, kind=JobKind.EXTEND))
    assert fake.requests == []


def test_a_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNWAYML_API_SECRET", raising=False)
    with pytest.raises(MissingKey, match="set RUNWAYML_API_SECRET"):
        RunwayProvider()


def test_capabilities_and_prices_are_per_model(provider: RunwayProvider, fake: FakeRunway) -> None:
    caps = provider.capabilities()
    assert caps.seconds_for("veo3.1") == (4, 6, 8)
    assert caps.size_names["veo3.1"]["1920x1080"] == "1920:1080"
    assert caps.takes_image("gen4_turbo") and "gen4_turbo" not in (caps.text_models or ())
    assert "veo3.1" in caps.audio_models
    assert not caps.extend and not caps.remix and not caps.list_videos and caps.delete
    assert {r.model_prefix for r in RUNWAY.default_rates} == set(caps.models)
    assert provider.health().ok
