"""fal through the real `fal-client` SDK against a local fake of fal's queue API (fal's hosts untouched)."""

from __future__ import annotations

from pathlib import Path

import fal_client.client
import pytest

from dailies.jobs import JobStatus
from dailies.providers.catalog import FAL
from dailies.providers.fal import FalProvider
from tests.fakes.fal import KEY, FakeFal
from tests.providers._helpers import follow_to_video, request, small_png

VENDOR = "fal"


def test_text_to_video_create_status_download(fake: FakeFal, provider: FalProvider, tmp_path: Path) -> None:
    created = provider.submit(request("fal-ai/kling-video/v2.5-turbo/pro", "720x1280", 5, seed=4))
    assert created.status is JobStatus.QUEUED
    assert created.remote_id == "fal-ai/kling-video/" + next(iter(fake.jobs))
    sent = fake.creates("/fal-ai/kling-video/v2.5-turbo/pro/text-to-video")[0]
    assert sent.body == {"prompt": sent.body["prompt"], "aspect_ratio": "9:16", "duration": "5", "seed": 4}

    seen, _ = follow_to_video(provider, created.remote_id, tmp_path / "video.mp4")
    assert [s.status for s in seen] == [JobStatus.IN_PROGRESS, JobStatus.COMPLETED]
    assert any(r.path.endswith("/status") and r.query.get("logs") == ["true"] for r in fake.requests)


def test_image_to_video_and_veo_audio(fake: FakeFal, provider: FalProvider, tmp_path: Path) -> None:
    image = small_png(tmp_path / "ref.png", (40, 40, 200))
    created = provider.submit(request("fal-ai/veo3.1", "1280x720", 8, reference_path=str(image)))
    body = fake.creates("/fal-ai/veo3.1/image-to-video")[0].body
    assert body["image_url"].startswith("data:image/png;base64,")
    assert body["duration"] == "8s" and body["generate_audio"] is True
    follow_to_video(provider, created.remote_id, tmp_path / "out.mp4")


def test_cancel_a_queued_request(fake: FakeFal, provider: FalProvider) -> None:
    created = provider.submit(request("fal-ai/bytedance/seedance/v1.5/pro", "960x960", 10))
    provider.delete(created.remote_id)
    assert [r.method for r in fake.requests if r.path.endswith("/cancel")] == ["PUT"]
    after = provider.refresh(created.remote_id)
    assert after.status is JobStatus.FAILED and after.error and after.error.code == "request_cancelled"


def test_the_sdks_own_submit_would_have_sent_it_twice(fake: FakeFal, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the provider sends creates itself: the same lost answer makes `SyncClient.submit` post again."""
    monkeypatch.setattr(fal_client.client, "QUEUE_URL_FORMAT", fake.base_url + "/")
    monkeypatch.setattr(fal_client.client, "BASE_DELAY", 0.001)
    fake.lose_next_create = "503"
    fal_client.SyncClient(key=KEY).submit("fal-ai/veo3.1", {"prompt": "twice"})
    assert len(fake.creates("/fal-ai/veo3.1")) == 2 and len(fake.jobs) == 2


def test_health_tells_a_bad_key_from_a_good_one(fake: FakeFal) -> None:
    good, bad = FalProvider(api_key=KEY, base_url=fake.base_url), FalProvider(api_key="x", base_url=fake.base_url)
    assert good.health().ok
    said = bad.health()
    assert not said.ok and "Invalid key" in said.message
    good.close()
    bad.close()


def test_capabilities_and_prices_are_per_model(provider: FalProvider) -> None:
    caps = provider.capabilities()
    assert caps.seconds_for("fal-ai/veo3.1") == (4, 6, 8) and caps.size_names["fal-ai/veo3.1"]["720x1280"] == "9:16"
    assert "fal-ai/veo3.1" in caps.audio_models and not caps.delete and not caps.list_videos
    assert "delete" in caps.unsupported
    assert {r.model_prefix for r in FAL.default_rates} == set(caps.models) | set(FAL.retired)
    assert not set(FAL.retired) & set(caps.models)  # retired: priced for old takes, not offered
