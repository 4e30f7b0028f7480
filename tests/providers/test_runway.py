"""Runway through the real `runwayml` SDK against a local fake of Runway's task API."""

from __future__ import annotations

from pathlib import Path

import runwayml.lib.polling  # noqa: F401  (the SDK's own module is loaded as in production)

from dailies.jobs import JobStatus
from dailies.providers.catalog import RUNWAY
from dailies.providers.runway import RunwayProvider
from tests.fakes.runway import FakeRunway
from tests.providers._helpers import follow_to_video, request, small_png

VENDOR = "runway"


def test_text_to_video_create_status_download(fake: FakeRunway, provider: RunwayProvider, tmp_path: Path) -> None:
    created = provider.submit(request("veo3.1", "1280x720", 4, seed=3))
    assert created.status is JobStatus.QUEUED
    sent = fake.creates("/v1/text_to_video")[0]
    assert sent.body == {"model": "veo3.1", "ratio": "1280:720", "duration": 4, "promptText": sent.body["promptText"],
                         "seed": 3, "audio": True}
    assert sent.headers["X-Runway-Version"] == "2024-11-06"

    seen, record = follow_to_video(provider, created.remote_id, tmp_path / "video.mp4")
    assert [s.status for s in seen] == [JobStatus.IN_PROGRESS, JobStatus.COMPLETED]
    assert seen[0].progress == 50  # Runway's fraction as a percentage
    assert record.content_type == "video/mp4"


def test_image_to_video_sends_the_image_inline(fake: FakeRunway, provider: RunwayProvider, tmp_path: Path) -> None:
    image = small_png(tmp_path / "ref.png", (200, 40, 40))
    created = provider.submit(request("gen4_turbo", "720x1280", 5, reference_path=str(image)))
    body = fake.creates("/v1/image_to_video")[0].body
    assert body["promptImage"].startswith("data:image/png;base64,") and body["ratio"] == "720:1280"
    follow_to_video(provider, created.remote_id, tmp_path / "out.mp4")


def test_cancel_a_running_task(fake: FakeRunway, provider: RunwayProvider) -> None:
    created = provider.submit(request("gen4.5", "1280x720", 5))
    assert provider.refresh(created.remote_id).status is JobStatus.IN_PROGRESS
    provider.delete(created.remote_id)
    after = provider.refresh(created.remote_id)
    assert after.status is JobStatus.FAILED and after.error and after.error.code == "cancelled"
    assert [r.method for r in fake.requests if "/v1/tasks/" in r.path].count("DELETE") == 1


def test_capabilities_and_prices_are_per_model(provider: RunwayProvider, fake: FakeRunway) -> None:
    caps = provider.capabilities()
    assert caps.seconds_for("veo3.1") == (4, 6, 8)
    assert caps.size_names["veo3.1"]["1920x1080"] == "1920:1080"
    assert caps.takes_image("gen4_turbo") and "gen4_turbo" not in (caps.text_models or ())
    assert "veo3.1" in caps.audio_models
    assert not caps.extend and not caps.remix and not caps.list_videos and caps.delete
    assert {r.model_prefix for r in RUNWAY.default_rates} == set(caps.models)
    assert provider.health().ok
