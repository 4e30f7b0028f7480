"""Replicate through the real `replicate` SDK against a local fake of Replicate's predictions API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from dailies.errors import APIConnectionError, APIError, NotSupported, ServerError
from dailies.errors import may_have_arrived as _may_have_arrived
from dailies.jobs import JobKind, JobStatus
from dailies.providers._vendor import MissingKey
from dailies.providers.catalog import REPLICATE
from dailies.providers.replicate import ReplicateProvider
from tests.fakes.replicate import KEY, FakeReplicate
from tests.providers._helpers import assert_real_mp4, follow, request


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    with FakeReplicate() as server:
        yield server


@pytest.fixture
def provider(fake: FakeReplicate) -> Iterator[ReplicateProvider]:
    made = ReplicateProvider(api_key=KEY, base_url=fake.base_url)
    yield made
    made.close()


def test_text_to_video_create_status_download(fake: FakeReplicate, provider: ReplicateProvider, tmp_path: Path) -> None:
    created = provider.submit(request("bytedance/seedance-1.5-pro", "720x1280", 5, seed=9))
    assert created.status is JobStatus.QUEUED
    sent = fake.creates("/v1/models/bytedance/seedance-1.5-pro/predictions")[0]
    assert sent.body["input"] == {"prompt": sent.body["input"]["prompt"], "aspect_ratio": "9:16", "duration": 5,
                                  "resolution": "720p", "seed": 9}

    seen = follow(provider, created.remote_id)
    assert [s.status for s in seen] == [JobStatus.IN_PROGRESS, JobStatus.COMPLETED]
    assert seen[0].progress == 50  # read by the SDK from the tqdm line in the logs

    record = provider.download(created.remote_id, "video", tmp_path / "video.mp4")
    assert_real_mp4(tmp_path / "video.mp4", record.sha256)


def test_image_to_video_uses_the_models_own_input_name(
    fake: FakeReplicate, provider: ReplicateProvider, tmp_path: Path
) -> None:
    image = tmp_path / "ref.png"
    Image.new("RGB", (32, 18), (40, 200, 40)).save(image)
    created = provider.submit(request("minimax/hailuo-02", "1280x720", 10, reference_path=str(image)))
    model_input = fake.creates("/predictions")[0].body["input"]
    assert model_input["first_frame_image"].startswith("data:image/png;base64,")
    assert "aspect_ratio" not in model_input and model_input["duration"] == 10
    assert model_input["resolution"] == "768p"  # never left to its 1080p default
    follow(provider, created.remote_id)
    record = provider.download(created.remote_id, "video", tmp_path / "out.mp4")
    assert_real_mp4(tmp_path / "out.mp4", record.sha256)


def test_cancel_a_running_prediction(fake: FakeReplicate, provider: ReplicateProvider) -> None:
    created = provider.submit(request("google/veo-3.1", "1280x720", 8))
    assert provider.refresh(created.remote_id).status is JobStatus.IN_PROGRESS
    provider.delete(created.remote_id)
    assert fake.creates("/cancel")[0].path == f"/v1/predictions/{created.remote_id}/cancel"
    after = provider.refresh(created.remote_id)
    assert after.status is JobStatus.FAILED and after.error and after.error.code == "canceled"


def test_a_failed_prediction_keeps_replicates_reason(fake: FakeReplicate, provider: ReplicateProvider) -> None:
    fake.fail_next = "CUDA out of memory"
    created = provider.submit(request("minimax/hailuo-02", "1280x720", 6))
    final = follow(provider, created.remote_id)[-1]
    assert final.status is JobStatus.FAILED and final.error and final.error.message == "CUDA out of memory"


def test_an_aborted_prediction_fails_though_the_sdk_cannot_parse_it(
    fake: FakeReplicate, provider: ReplicateProvider
) -> None:
    fake.abort_next = True
    created = provider.submit(request("google/veo-3.1", "1280x720", 8))
    final = provider.refresh(created.remote_id)
    assert final.status is JobStatus.FAILED and final.error and final.error.code == "aborted"
    assert final.raw["status"] == "aborted"


@pytest.mark.parametrize(("how", "error_class"), [("drop", APIConnectionError), ("503", ServerError)])
def test_a_lost_create_answer_is_never_sent_twice(
    fake: FakeReplicate, provider: ReplicateProvider, how: str, error_class: type[APIError]
) -> None:
    fake.lose_next_create = how
    with pytest.raises(error_class) as raised:
        provider.submit(request("google/veo-3.1", "1280x720", 8))
    assert _may_have_arrived(raised.value)
    assert len(fake.creates("/predictions")) == 1
    assert len(fake.jobs) == 1


def test_refusals_send_nothing(fake: FakeReplicate, provider: ReplicateProvider) -> None:
    with pytest.raises(NotSupported, match="1280x720 \\(as 16:9\\)"):
        provider.submit(request("minimax/hailuo-02", "720x1280", 6))
    with pytest.raises(NotSupported, match="4, 6, 8 seconds"):
        provider.submit(request("google/veo-3.1", "1280x720", 5))
    with pytest.raises(NotSupported, match="does not take a reference image"):
        provider.submit(request("wan-video/wan-2.5-t2v", "1280x720", 5, reference_path="ref.png"))
    with pytest.raises(NotSupported, match="no model 'google/veo-3'"):  # retired: not offered for new takes
        provider.submit(request("google/veo-3", "1280x720", 8))
    with pytest.raises(NotSupported, match="no model"):
        provider.submit(request("sora-2", "1280x720", 4))
    with pytest.raises(NotSupported, match="remix"):
        provider.submit(request("google/veo-3.1", "1280x720", 8, kind=JobKind.REMIX))
    assert fake.requests == []


def test_a_missing_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REPLICATE_API_TOKEN", raising=False)
    with pytest.raises(MissingKey, match="set REPLICATE_API_TOKEN"):
        ReplicateProvider()


def test_a_wrong_token_is_the_servers_refusal(fake: FakeReplicate) -> None:
    provider = ReplicateProvider(api_key="wrong", base_url=fake.base_url)
    health = provider.health()
    assert not health.ok and "Invalid token" in health.message
    provider.close()


def test_capabilities_and_prices_are_per_model(provider: ReplicateProvider) -> None:
    caps = provider.capabilities()
    assert caps.seconds_for("google/veo-3.1") == (4, 6, 8)
    assert caps.size_names["bytedance/seedance-1.5-pro"] == {"1280x720": "16:9", "720x1280": "9:16", "960x960": "1:1"}
    assert "google/veo-3.1" in caps.audio_models and caps.takes_image("minimax/hailuo-02")
    assert {r.model_prefix for r in REPLICATE.default_rates} == set(caps.models) | set(REPLICATE.retired)
    assert not set(REPLICATE.retired) & set(caps.models)  # retired: priced for old takes, not offered
    assert provider.health().ok
