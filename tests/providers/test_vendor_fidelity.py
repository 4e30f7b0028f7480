"""What we ask fal, Replicate and Runway for is what we get, and their refusals and queues read right.

Each test drives the real SDK against that vendor's fake (tests/fakes/, each behaviour cited at its top);
every create is checked by the fake against the model's published input schema (tests/fakes/schemas.py).
"""

from __future__ import annotations

import base64
import dataclasses
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from dailies.errors import BadRequestError, NotFoundError, NotSupported, RateLimitError, UnprocessableEntityError
from dailies.errors import may_have_arrived as _may_have_arrived
from dailies.jobs import JobRequest, JobStatus
from dailies.providers import fal as fal_module
from dailies.providers import runway as runway_module
from dailies.providers._vendor import ImageLimit, ModelSpec
from dailies.providers.base import RemoteVideo, VideoProvider
from dailies.providers.catalog import FAL, REPLICATE, RUNWAY, VendorCatalog
from dailies.providers.vendor_base import SCHEMA_RETRY_S
from tests.fakes import schemas
from tests.providers._helpers import follow, request
from tests.providers._helpers import request as job_request

# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ref") / "ref.png"
    Image.new("RGB", (32, 18), (40, 40, 200)).save(path)
    return path


@pytest.fixture(scope="module")
def phone_photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4032x3024 picture of noise saved as PNG: about 36 MB, over every vendor's inline cap."""
    path = tmp_path_factory.mktemp("phone") / "IMG_0001.png"
    Image.frombytes("RGB", (4032, 3024), os.urandom(4032 * 3024 * 3)).save(path, compress_level=1)
    return path


def _decoded(uri: str) -> bytes:
    return base64.b64decode(uri.partition(",")[2])


# -- every model sends what its schema takes ---------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Take:
    """One model at one of its sizes and durations, with or without a reference image."""

    spec: ModelSpec
    size: str
    seconds: int
    reference: str | None

    def request(self, audio: bool) -> JobRequest:
        return request(self.spec.id, self.size, self.seconds, reference_path=self.reference, audio=audio)


def _each_take(catalog: VendorCatalog, image: Path | None) -> Iterator[Take]:
    """Every model in the catalogue that takes this input (text, or the image), at each size and duration."""
    for spec in catalog.models.values():
        if spec.image if image else spec.text:
            for size in spec.sizes:
                for seconds in spec.seconds:
                    yield Take(spec, size, seconds, str(image) if image else None)


def _sound_as_chosen(provider: VideoProvider, fake, take: Take, sent: Callable[[RemoteVideo, bool], dict]) -> None:
    """Send the take with sound on and off, `sent(created, audio)` checking and returning what went out: a model
    that takes the choice gets it as chosen in its own input (never left to the vendor's default), one that
    renders sound always refuses silence before sending, and one without sound gets no sound input at all."""
    spec = take.spec
    for audio in (True, False):
        if spec.audio and not spec.audio_input and not audio:
            before = len(fake.requests)
            with pytest.raises(NotSupported, match="always renders sound"):
                provider.submit(take.request(audio))
            assert len(fake.requests) == before
            continue
        body = sent(provider.submit(take.request(audio)), audio)
        if spec.audio_input:
            assert body[spec.audio_input] is audio, (spec.id, audio)
        else:
            assert not {"audio", "generate_audio"} & set(body), spec.id


@pytest.mark.slow  # a real process, server or render: out of the fast tier
@pytest.mark.parametrize("with_image", [False, True])
def test_every_fal_model_sends_what_its_endpoint_takes(fal, small_image: Path, with_image: bool) -> None:
    """Each model, each size, each duration, sound on and off: the body fits the endpoint's published schema."""
    fake, provider = fal
    for take in _each_take(FAL, small_image if with_image else None):

        def sent(created: RemoteVideo, audio: bool, take: Take = take) -> dict:
            last = fake.requests[-1]
            endpoint = last.path.strip("/")
            schema = schemas.FAL[endpoint]
            assert schema.problems(last.body) == [], (endpoint, take.size, take.seconds, audio)
            if "resolution" in schema.defaults:  # never left to the model's default: the size chosen
                assert last.body["resolution"] == take.spec.resolutions[take.size] == (
                    "1080p" if "1080" in take.size else "720p")
                assert fake.rendered[created.remote_id.rpartition("/")[2]] == take.spec.resolutions[take.size]
            return last.body

        _sound_as_chosen(provider, fake, take, sent)


@pytest.mark.slow  # a real process, server or render: out of the fast tier
@pytest.mark.parametrize("with_image", [False, True])
def test_every_replicate_model_sends_what_its_schema_takes(rep, small_image: Path, with_image: bool) -> None:
    fake, provider = rep
    for take in _each_take(REPLICATE, small_image if with_image else None):

        def sent(created: RemoteVideo, audio: bool, take: Take = take) -> dict:
            model_input = fake.requests[-1].body["input"]
            schema = schemas.REPLICATE[take.spec.id]
            assert schema.problems(model_input) == [], (take.spec.id, take.size, take.seconds, audio)
            if "resolution" in schema.defaults:  # never left to the model's default
                assert fake.rendered[created.remote_id] == model_input["resolution"] == take.spec.resolutions[take.size]
            return model_input

        _sound_as_chosen(provider, fake, take, sent)


@pytest.mark.slow  # a real process, server or render: out of the fast tier
@pytest.mark.parametrize("with_image", [False, True])
def test_every_runway_model_sends_what_the_sdk_types_take(runway, small_image: Path, with_image: bool) -> None:
    fake, provider = runway
    table = schemas.RUNWAY_IMAGE if with_image else schemas.RUNWAY_TEXT
    for take in _each_take(RUNWAY, small_image if with_image else None):

        def sent(created: RemoteVideo, audio: bool, take: Take = take) -> dict:
            body = fake.requests[-1].body
            assert table[take.spec.id].problems(body) == [], (take.spec.id, take.size, take.seconds, audio)
            return body

        _sound_as_chosen(provider, fake, take, sent)


def test_seedance_renders_the_720p_asked_for_not_its_1080p_default(fal, rep) -> None:
    fal_fake, fal_provider = fal
    rep_fake, rep_provider = rep
    on_fal = fal_provider.submit(request("fal-ai/bytedance/seedance/v1.5/pro", "1280x720", 5))
    on_rep = rep_provider.submit(request("bytedance/seedance-1.5-pro", "720x1280", 5))
    assert fal_fake.rendered[on_fal.remote_id.rpartition("/")[2]] == "720p"
    assert rep_fake.rendered[on_rep.remote_id] == "720p"


# -- reference images fit the vendor ----------------------------------------------------------------


def test_a_phone_photo_over_runways_data_uri_cap_goes_through_its_upload_shrunk_under_the_upload_cap(
    runway, phone_photo: Path
) -> None:
    """A 36 MB picture: over Runway's 5 MB data-URI cap and its upload cap, so it is re-encoded under the upload
    cap, uploaded with the SDK's `uploads.create_ephemeral` and sent as its `runway://` URI."""
    assert phone_photo.stat().st_size > 16_000_000
    fake, provider = runway
    created = provider.submit(request("gen4_turbo", "1280x720", 5, reference_path=str(phone_photo)))
    sent = fake.creates("/v1/image_to_video")[0].body["promptImage"]
    assert sent.startswith("runway://") and fake.file_inputs == [sent]
    _name, kind, data = fake.uploads[sent.removeprefix("runway://")]
    assert len(data) <= runway_module.UPLOAD_LIMIT.max_bytes and data[:2] == b"\xff\xd8" and kind == "image/jpeg"
    with Image.open(io.BytesIO(data)) as shrunk:
        assert shrunk.size[0] > shrunk.size[1]  # still landscape
    assert follow(provider, created.remote_id)[-1].status is JobStatus.COMPLETED


@pytest.fixture(scope="module")
def large_jpeg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4000x3000 noisy JPEG, as a camera makes: several MB, over Replicate's and fal's 1 MB inline bound."""
    path = tmp_path_factory.mktemp("camera") / "DSC_0042.jpg"
    Image.frombytes("RGB", (4000, 3000), os.urandom(4000 * 3000 * 3)).save(path, quality=85)
    return path


def test_a_large_image_goes_through_replicates_files_api_not_a_data_uri(rep, large_jpeg: Path) -> None:
    fake, provider = rep
    assert large_jpeg.stat().st_size > 1_000_000
    created = provider.submit(request("kwaivgi/kling-v2.5-turbo-pro", "1280x720", 5, reference_path=str(large_jpeg)))
    sent = fake.creates("/predictions")[0].body["input"]["start_image"]
    assert sent.startswith(f"{fake.base_url}/v1/files/") and fake.file_inputs == [sent]
    (_name, kind, data), = fake.files.values()
    assert data == large_jpeg.read_bytes() and kind == "image/jpeg"  # as taken: it fits the files API
    assert follow(provider, created.remote_id)[-1].status is JobStatus.COMPLETED


def test_a_large_image_goes_through_fals_storage_upload_not_a_data_uri(fal, large_jpeg: Path) -> None:
    fake, provider = fal
    created = provider.submit(request("fal-ai/kling-video/v2.5-turbo/pro", "1280x720", 5,
                                      reference_path=str(large_jpeg)))
    sent = fake.creates("/image-to-video")[0].body["image_url"]
    assert sent.startswith(fake.cdn_url + "/files/") and fake.file_inputs == [sent]
    assert fake.uploaded(sent) == large_jpeg.read_bytes()
    assert [r.path for r in fake.requests[:2]] == ["/rest/storage/auth/token", "/cdn/files/upload"]
    assert follow(provider, created.remote_id)[-1].status is JobStatus.COMPLETED


def test_a_small_image_still_goes_inline(fal, rep, small_image: Path) -> None:
    for (fake, provider), model, field in ((fal, "fal-ai/kling-video/v2.5-turbo/pro", "image_url"),
                                           (rep, "kwaivgi/kling-v2.5-turbo-pro", "start_image")):
        provider.submit(request(model, "1280x720", 5, reference_path=str(small_image)))
        body = fake.requests[-1].body
        sent = (body.get("input") or body)[field]
        assert _decoded(sent) == small_image.read_bytes() and not fake.file_inputs


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_an_image_too_large_to_upload_is_refused_naming_the_limit_before_anything_is_sent(
    fal, rep, large_jpeg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fal[1], "upload_limit", ImageLimit(500, "fal's test cap"))
    monkeypatch.setattr(rep[1], "upload_limit", ImageLimit(500, "Replicate's test cap"))
    for (fake, provider), model, cap in ((fal, "fal-ai/kling-video/v2.5-turbo/pro", "fal's test cap"),
                                         (rep, "kwaivgi/kling-v2.5-turbo-pro", "Replicate's test cap")):
        with pytest.raises(NotSupported, match=rf"up to 0\.0005 MB \({cap}\).*DSC_0042\.jpg"):
            provider.submit(request(model, "1280x720", 5, reference_path=str(large_jpeg)))
        assert fake.requests == []


def test_an_image_that_cannot_fit_is_refused_before_anything_is_sent(
    runway, phone_photo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, provider = runway
    monkeypatch.setattr(provider, "upload_limit", ImageLimit(500, "a test's cap"))
    with pytest.raises(NotSupported, match=r"up to 0\.0005 MB \(a test's cap\).*IMG_0001\.png"):
        provider.submit(request("gen4_turbo", "1280x720", 5, reference_path=str(phone_photo)))
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not a picture")
    with pytest.raises(NotSupported, match="PNG or JPEG"):
        provider.submit(request("gen4_turbo", "1280x720", 5, reference_path=str(not_an_image)))
    assert fake.requests == []


# -- failures and unknown words ---------------------------------------------------------------------


def test_a_fal_model_error_reads_in_words_not_as_a_python_list(fal) -> None:
    fake, provider = fal
    fake.status_carries_error = False  # the reason only in the result's 422 `detail` list
    fake.fail_next = "The prompt breaks the content policy"
    created = provider.submit(request("fal-ai/veo3.1", "1280x720", 8))
    final = follow(provider, created.remote_id)[-1]
    assert final.status is JobStatus.FAILED and final.error
    assert final.error.message == "prompt: The prompt breaks the content policy"
    assert final.error.code == "content_policy_violation"


def test_a_fal_refusal_at_create_names_the_input(fal, monkeypatch: pytest.MonkeyPatch) -> None:
    fake, provider = fal
    monkeypatch.setitem(provider.models["fal-ai/veo3.1"].sizes, "960x960", "1:1")  # a catalogue gone stale
    with pytest.raises(UnprocessableEntityError) as raised:
        provider.submit(request("fal-ai/veo3.1", "960x960", 8))
    assert raised.value.message.startswith("aspect_ratio: unexpected value") and "[{" not in raised.value.message
    assert raised.value.code == "enum" and len(fake.creates("/fal-ai/veo3.1")) == 1


def test_an_unknown_fal_status_word_fails_after_a_bounded_time_in_words(fal) -> None:
    fake, provider = fal
    now = [1000.0]
    provider.clock = lambda: now[0]
    created = provider.submit(request("fal-ai/veo3.1", "1280x720", 8))
    fake.status_word_next = "PAUSED_FOR_REVIEW"
    assert provider.refresh(created.remote_id).status is JobStatus.IN_PROGRESS
    now[0] += fal_module.UNKNOWN_STATUS_GRACE_S + 1
    fake.status_word_next = "PAUSED_FOR_REVIEW"
    final = provider.refresh(created.remote_id)
    assert final.status is JobStatus.FAILED and final.error and final.error.code == "unknown_status"
    assert "PAUSED_FOR_REVIEW" in final.error.message and "needs a look" in final.error.message


def test_an_aborted_replicate_prediction_breaks_neither_health_nor_delete(rep) -> None:
    fake, provider = rep
    fake.abort_next = True
    created = provider.submit(request("google/veo-3.1", "1280x720", 8))
    assert provider.health().ok
    provider.delete(created.remote_id)  # answered `aborted`, which the SDK cannot parse
    assert fake.creates("/cancel")
    assert provider.refresh(created.remote_id).status is JobStatus.FAILED


# -- rate limits and queues -------------------------------------------------------------------------


def test_429s_are_rate_limits_with_the_wait_and_sent_once(fal, rep, runway) -> None:
    fal_fake, fal_provider = fal
    fal_fake.rate_limit_next = "7"
    with pytest.raises(RateLimitError) as on_fal:
        fal_provider.submit(request("fal-ai/veo3.1", "1280x720", 8))
    assert on_fal.value.retry_after == 7 and len(fal_fake.creates("/fal-ai/veo3.1")) == 1

    rep_fake, rep_provider = rep
    rep_fake.throttle_next = 3
    with pytest.raises(RateLimitError) as on_rep:
        rep_provider.submit(request("google/veo-3.1", "1280x720", 8))
    assert on_rep.value.retry_after == 3 and len(rep_fake.creates("/predictions")) == 1

    rw_fake, rw_provider = runway
    rw_fake.rate_limit_next = ("You have reached your daily task limit.", None)
    with pytest.raises(RateLimitError) as on_runway:
        rw_provider.submit(request("gen4.5", "1280x720", 5))
    assert on_runway.value.retry_after is None and "daily task limit" in str(on_runway.value)
    rw_fake.rate_limit_next = ("Too many concurrent tasks.", "12")
    with pytest.raises(RateLimitError) as again:
        rw_provider.submit(request("gen4.5", "1280x720", 5))
    assert again.value.retry_after == 12
    assert len(rw_fake.creates("/v1/text_to_video")) == 2 and rw_fake.jobs == {}
    assert not any(_may_have_arrived(e.value) for e in (on_fal, on_rep, on_runway, again))


def test_a_throttled_runway_task_is_tracked_as_queued_and_never_resent(runway) -> None:
    fake, provider = runway
    fake.throttle_polls = 2
    created = provider.submit(request("gen4.5", "1280x720", 5))
    seen = follow(provider, created.remote_id)
    assert [s.raw.get("status") for s in seen[:2]] == ["THROTTLED", "THROTTLED"]
    assert all(s.status is JobStatus.QUEUED for s in seen[:2])
    assert seen[-1].status is JobStatus.COMPLETED
    assert len(fake.creates("/v1/text_to_video")) == 1


# -- published schemas read at the connection test ------------------------------------------------


def test_fals_published_schemas_are_read_at_the_connection_test_and_refuse_before_sending(
    fal, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, provider = fal
    provider.openapi_url = fake.openapi_url
    fake.unpublished.add("fal-ai/kling-video/v2.5-turbo/pro/image-to-video")  # one fal does not publish
    said = provider.health()
    assert said.ok and "no published input schema for fal-ai/kling-video/v2.5-turbo/pro/image-to-video" in said.message
    assert "fal-ai/veo3.1" in provider.published
    now = [provider.clock()]
    provider.clock = lambda: now[0]

    def reads() -> int:
        return len([r for r in fake.requests if r.path.endswith("openapi.json")])

    first = reads()
    provider.health()  # read once per provider; the missing one not asked again at every page's health
    assert reads() == first
    now[0] += SCHEMA_RETRY_S + 1
    provider.health()
    assert reads() == first + 1

    monkeypatch.setitem(provider.models["fal-ai/veo3.1"].sizes, "960x960", "1:1")  # our table gone stale
    with pytest.raises(NotSupported, match=r"fal-ai/veo3.1 would refuse this \(aspect_ratio: '1:1' is not one of"):
        provider.submit(request("fal-ai/veo3.1", "960x960", 8))
    assert fake.creates("/fal-ai/veo3.1") == []


def test_replicates_published_schemas_are_read_at_the_connection_test_and_refuse_before_sending(
    rep, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, provider = rep
    fake.unpublished.add("minimax/hailuo-02")
    said = provider.health()
    assert said.ok and "no published input schema for minimax/hailuo-02" in said.message
    assert set(provider.published) == set(provider.models) - {"minimax/hailuo-02"}

    stale = dataclasses.replace(provider.models["bytedance/seedance-1.5-pro"],
                                resolutions={"1280x720": "4k", "720x1280": "4k", "960x960": "4k"})
    monkeypatch.setitem(provider.models, "bytedance/seedance-1.5-pro", stale)
    with pytest.raises(NotSupported, match=r"resolution: '4k' is not one of '480p', '720p', '1080p'"):
        provider.submit(request("bytedance/seedance-1.5-pro", "1280x720", 5))
    assert fake.creates("/predictions") == []
    provider.submit(request("minimax/hailuo-02", "1280x720", 6))  # no schema read: sent as the catalogue says


def test_fals_queue_absorbs_requests_beyond_the_accounts_concurrency(fal) -> None:
    """Above the limit fal answers IN_QUEUE with a position, not a refusal: the take waits as queued."""
    fake, provider = fal
    fake.concurrency = 1
    first = provider.submit(request("fal-ai/veo3.1", "1280x720", 8))
    second = provider.submit(request("fal-ai/veo3.1", "720x1280", 8))
    assert provider.refresh(first.remote_id).status is JobStatus.IN_PROGRESS
    waiting = provider.refresh(second.remote_id)
    assert waiting.status is JobStatus.QUEUED and waiting.raw["queue_position"] == 0
    assert follow(provider, first.remote_id)[-1].status is JobStatus.COMPLETED
    assert follow(provider, second.remote_id)[-1].status is JobStatus.COMPLETED
    assert len(fake.creates("/fal-ai/veo3.1")) == 2


def test_a_runway_refusal_names_the_input(runway, monkeypatch: pytest.MonkeyPatch) -> None:
    fake, provider = runway
    monkeypatch.setitem(provider.models["gen4.5"].sizes, "960x960", "960:960")  # text-to-video has no square
    with pytest.raises(BadRequestError, match=r"Validation of body failed: ratio: unexpected value"):
        provider.submit(request("gen4.5", "960x960", 5))
    assert len(fake.creates("/v1/text_to_video")) == 1 and fake.jobs == {}


@pytest.mark.parametrize("vendor", ["fal", "rep", "runway"])
def test_an_expired_output_url_is_a_not_found_and_writes_nothing(
    vendor: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    fake, provider = request.getfixturevalue(vendor)
    model, size, seconds = {"fal": ("fal-ai/veo3.1", "1280x720", 8), "rep": ("google/veo-3.1", "1280x720", 8),
                            "runway": ("gen4.5", "1280x720", 5)}[vendor]
    created = provider.submit(job_request(model, size, seconds))
    follow(provider, created.remote_id)
    fake.expire_outputs = True
    with pytest.raises(NotFoundError):
        provider.download(created.remote_id, "video", tmp_path / "video.mp4")
    assert list(tmp_path.iterdir()) == []
