"""fal through the real `fal-client` SDK against a local fake of fal's queue API (fal's hosts untouched)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fal_client.client
import pytest
from PIL import Image

from dailies.errors import APIConnectionError, APIError, NotSupported, ServerError
from dailies.errors import may_have_arrived as _may_have_arrived
from dailies.jobs import JobKind, JobStatus
from dailies.providers._vendor import MissingKey
from dailies.providers.catalog import FAL
from dailies.providers.fal import FalProvider
from tests.fakes.fal import KEY, FakeFal
from tests.providers._helpers import assert_real_mp4, follow, request


@pytest.fixture
def fake() -> Iterator[FakeFal]:
    with FakeFal() as server:
        yield server


@pytest.fixture
def provider(fake: FakeFal, monkeypatch: pytest.MonkeyPatch) -> Iterator[FalProvider]:
    # Anything that still reached for fal's real hosts would fail loudly instead of leaving the machine.
    for name, value in (("REST_URL", "http://127.0.0.1:9/rest"), ("CDN_URL", "http://127.0.0.1:9/cdn"),
                        ("QUEUE_URL_FORMAT", "http://127.0.0.1:9/")):
        monkeypatch.setattr(fal_client.client, name, value)
    made = FalProvider(api_key=KEY, base_url=fake.base_url)
    yield made
    made.close()


def test_text_to_video_create_status_download(fake: FakeFal, provider: FalProvider, tmp_path: Path) -> None:
    created = provider.submit(request("fal-ai/kling-video/v2.5-turbo/pro", "720x1280", 5, seed=4))
    assert created.status is JobStatus.QUEUED
    assert created.remote_id == "fal-ai/kling-video/" + next(iter(fake.jobs))
    sent = fake.creates("/fal-ai/kling-video/v2.5-turbo/pro/text-to-video")[0]
    assert sent.body == {"prompt": sent.body["prompt"], "aspect_ratio": "9:16", "duration": "5", "seed": 4}

    seen = follow(provider, created.remote_id)
    assert [s.status for s in seen] == [JobStatus.IN_PROGRESS, JobStatus.COMPLETED]
    assert any(r.path.endswith("/status") and r.query.get("logs") == ["true"] for r in fake.requests)

    record = provider.download(created.remote_id, "video", tmp_path / "video.mp4")
    assert_real_mp4(tmp_path / "video.mp4", record.sha256)


def test_image_to_video_and_veo_audio(fake: FakeFal, provider: FalProvider, tmp_path: Path) -> None:
    image = tmp_path / "ref.png"
    Image.new("RGB", (32, 18), (40, 40, 200)).save(image)
    created = provider.submit(request("fal-ai/veo3.1", "1280x720", 8, reference_path=str(image)))
    body = fake.creates("/fal-ai/veo3.1/image-to-video")[0].body
    assert body["image_url"].startswith("data:image/png;base64,")
    assert body["duration"] == "8s" and body["generate_audio"] is True
    follow(provider, created.remote_id)
    record = provider.download(created.remote_id, "video", tmp_path / "out.mp4")
    assert_real_mp4(tmp_path / "out.mp4", record.sha256)


def test_cancel_a_queued_request(fake: FakeFal, provider: FalProvider) -> None:
    created = provider.submit(request("fal-ai/bytedance/seedance/v1.5/pro", "960x960", 10))
    provider.delete(created.remote_id)
    assert [r.method for r in fake.requests if r.path.endswith("/cancel")] == ["PUT"]
    after = provider.refresh(created.remote_id)
    assert after.status is JobStatus.FAILED and after.error and after.error.code == "request_cancelled"


def test_a_failed_request_keeps_fals_reason(fake: FakeFal, provider: FalProvider) -> None:
    fake.fail_next = "The prompt breaks the content policy"
    created = provider.submit(request("fal-ai/veo3.1", "720x1280", 8))
    final = follow(provider, created.remote_id)[-1]
    assert final.status is JobStatus.FAILED
    assert final.error and final.error.message == "The prompt breaks the content policy"


@pytest.mark.parametrize(("how", "error_class"), [("drop", APIConnectionError), ("503", ServerError)])
def test_a_lost_create_answer_is_never_sent_twice(
    fake: FakeFal, provider: FalProvider, how: str, error_class: type[APIError]
) -> None:
    """fal-client's submit retries this POST (503 + nginx body, dropped connections): ours does not."""
    fake.lose_next_create = how
    with pytest.raises(error_class) as raised:
        provider.submit(request("fal-ai/veo3.1", "1280x720", 8))
    assert _may_have_arrived(raised.value)
    assert len(fake.creates("/fal-ai/veo3.1")) == 1
    assert len(fake.jobs) == 1


def test_the_sdks_own_submit_would_have_sent_it_twice(fake: FakeFal, monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the provider sends creates itself: the same lost answer makes `SyncClient.submit` post again."""
    monkeypatch.setattr(fal_client.client, "QUEUE_URL_FORMAT", fake.base_url + "/")
    monkeypatch.setattr(fal_client.client, "BASE_DELAY", 0.001)
    fake.lose_next_create = "503"
    fal_client.SyncClient(key=KEY).submit("fal-ai/veo3.1", {"prompt": "twice"})
    assert len(fake.creates("/fal-ai/veo3.1")) == 2 and len(fake.jobs) == 2


def test_refusals_send_nothing(fake: FakeFal, provider: FalProvider) -> None:
    with pytest.raises(NotSupported, match="1280x720 \\(as 16:9\\), 720x1280 \\(as 9:16\\)"):
        provider.submit(request("fal-ai/veo3.1", "960x960", 8))
    with pytest.raises(NotSupported, match="5, 10 seconds"):
        provider.submit(request("fal-ai/kling-video/v2.5-turbo/pro", "1280x720", 4))
    with pytest.raises(NotSupported, match="extension"):
        provider.submit(request("fal-ai/veo3.1", "1280x720", 8, kind=JobKind.EXTEND))
    assert fake.requests == []


def test_a_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAL_KEY", raising=False)
    with pytest.raises(MissingKey, match="set FAL_KEY"):
        FalProvider()


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
