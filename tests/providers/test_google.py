"""Veo through the real `google-genai` SDK (Vertex express mode) against a local fake of Vertex's Veo API."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from dailies.errors import APIConnectionError, APIError, NotSupported, ServerError
from dailies.jobs import JobKind, JobStatus
from dailies.providers._vendor import MissingKey
from dailies.providers.google import DEFAULT_RATES, GoogleVeoProvider
from dailies.studio import _may_have_arrived
from tests.fakes.google import KEY, FakeVertexVeo
from tests.providers._helpers import assert_real_mp4, follow, request

VEO = "veo-3.1-fast-generate-001"


@pytest.fixture
def fake() -> Iterator[FakeVertexVeo]:
    with FakeVertexVeo() as server:
        yield server


@pytest.fixture
def provider(fake: FakeVertexVeo) -> Iterator[GoogleVeoProvider]:
    made = GoogleVeoProvider(api_key=KEY, base_url=fake.base_url)
    yield made
    made.close()


def test_text_to_video_create_status_download(fake: FakeVertexVeo, provider: GoogleVeoProvider, tmp_path: Path) -> None:
    created = provider.submit(request(VEO, "720x1280", 6, seed=5))
    sent = fake.creates(f"/models/{VEO}:predictLongRunning")[0]
    assert sent.headers["x-goog-api-key"] == KEY
    assert sent.body["parameters"] == {"sampleCount": 1, "aspectRatio": "9:16", "resolution": "720p",
                                       "durationSeconds": 6, "generateAudio": True, "seed": 5}
    assert created.remote_id.endswith("/operations/" + next(iter(fake.jobs)))

    seen = follow(provider, created.remote_id)
    assert [s.status for s in seen] == [JobStatus.IN_PROGRESS, JobStatus.COMPLETED]
    record = provider.download(created.remote_id, "video", tmp_path / "video.mp4")
    assert_real_mp4(tmp_path / "video.mp4", record.sha256)


def test_image_to_video_and_1080p(fake: FakeVertexVeo, provider: GoogleVeoProvider, tmp_path: Path) -> None:
    image = tmp_path / "ref.png"
    Image.new("RGB", (32, 18), (200, 200, 40)).save(image)
    created = provider.submit(request("veo-3.1-generate-001", "1920x1080", 8, reference_path=str(image)))
    body = fake.creates(":predictLongRunning")[0].body
    assert base64.b64decode(body["instances"][0]["image"]["bytesBase64Encoded"]) == image.read_bytes()
    assert body["parameters"]["resolution"] == "1080p" and body["parameters"]["aspectRatio"] == "16:9"
    follow(provider, created.remote_id)
    record = provider.download(created.remote_id, "video", tmp_path / "out.mp4")
    assert_real_mp4(tmp_path / "out.mp4", record.sha256)


def test_extend_sends_the_finished_video_back(fake: FakeVertexVeo, provider: GoogleVeoProvider, tmp_path: Path) -> None:
    first = provider.submit(request(VEO, "1280x720", 8))
    follow(provider, first.remote_id)
    provider.download(first.remote_id, "video", tmp_path / "first.mp4")
    extended = provider.submit(request(VEO, "1280x720", 7, kind=JobKind.EXTEND), source_remote_id=first.remote_id)
    sent = fake.creates(":predictLongRunning")[1].body
    source = base64.b64decode(sent["instances"][0]["video"]["bytesBase64Encoded"])
    assert source == (tmp_path / "first.mp4").read_bytes()
    assert sent["parameters"]["durationSeconds"] == 7
    follow(provider, extended.remote_id)
    record = provider.download(extended.remote_id, "video", tmp_path / "extended.mp4")
    assert_real_mp4(tmp_path / "extended.mp4", record.sha256)


def test_failures_say_why(fake: FakeVertexVeo, provider: GoogleVeoProvider) -> None:
    fake.fail_next = "The prompt could not be submitted: it violates the usage guidelines."
    failed = follow(provider, provider.submit(request(VEO, "1280x720", 4)).remote_id)[-1]
    assert failed.status is JobStatus.FAILED and failed.error and "usage guidelines" in failed.error.message

    fake.filter_next = True
    filtered = follow(provider, provider.submit(request(VEO, "1280x720", 4)).remote_id)[-1]
    assert filtered.status is JobStatus.FAILED and filtered.error and "celebrity likeness" in filtered.error.message

    fake.storage_to_gcs = True
    in_bucket = follow(provider, provider.submit(request(VEO, "1280x720", 4)).remote_id)[-1]
    assert in_bucket.status is JobStatus.FAILED and in_bucket.error
    assert "gs://fake-bucket/" in in_bucket.error.message and "Cloud Storage reader" in in_bucket.error.message


@pytest.mark.parametrize(("how", "error_class"), [("drop", APIConnectionError), ("503", ServerError)])
def test_a_lost_create_answer_is_never_sent_twice(
    fake: FakeVertexVeo, provider: GoogleVeoProvider, how: str, error_class: type[APIError]
) -> None:
    fake.lose_next_create = how
    with pytest.raises(error_class) as raised:
        provider.submit(request(VEO, "1280x720", 8))
    assert _may_have_arrived(raised.value)
    assert len(fake.creates(":predictLongRunning")) == 1
    assert len(fake.jobs) == 1


def test_refusals_send_nothing(fake: FakeVertexVeo, provider: GoogleVeoProvider) -> None:
    with pytest.raises(NotSupported, match="1280x720 \\(as 16:9\\), 720x1280 \\(as 9:16\\)"):
        provider.submit(request("veo-2.0-generate-001", "1920x1080", 8))
    with pytest.raises(NotSupported, match="cannot extend"):
        provider.submit(request("veo-3.0-generate-001", "1280x720", 7, kind=JobKind.EXTEND), source_remote_id="x")
    with pytest.raises(NotSupported, match="no cancel or delete"):
        provider.delete("anything")
    with pytest.raises(NotSupported, match="remix"):
        provider.submit(request(VEO, "1280x720", 8, kind=JobKind.REMIX))
    assert fake.requests == []


def test_a_missing_key_names_both_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(MissingKey, match="set GOOGLE_API_KEY or GEMINI_API_KEY"):
        GoogleVeoProvider()


def test_health_and_capabilities(fake: FakeVertexVeo, provider: GoogleVeoProvider) -> None:
    assert provider.health().ok
    bad = GoogleVeoProvider(api_key="wrong", base_url=fake.base_url)
    assert "API key not valid" in bad.health().message
    bad.close()
    caps = provider.capabilities()
    assert caps.extend and caps.extend_seconds == (7,) and not caps.delete
    assert caps.seconds_for("veo-2.0-generate-001") == (5, 6, 7, 8)
    assert caps.size_names[VEO]["1080x1920"] == "9:16"
    assert {r.model_prefix for r in DEFAULT_RATES} == set(caps.models)
