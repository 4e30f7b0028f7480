"""Subject references (a character, a product, a style to keep across shots) and the sound choice, as each kind
of provider takes them, checked before anything is sent; through the real SDKs against the vendor fakes.

Veo 3.1's references are in test_google.py and the studio's (kept, priced, run again) in
test_studio_vendors.py; this file holds Kling's reference-to-video on fal, Kling 1.6's reference_images on
Replicate, Seedance 2's references on Runway (each as a catalogue entry would name it: no catalogue model of
those vendors takes references yet) and the refusals every kind shares.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import fal_client.client
import pytest
from PIL import Image

from dailies.errors import BadRequestError, NotSupported, UnprocessableEntityError, ValidationError
from dailies.jobs import JobKind, JobRequest, JobStatus
from dailies.providers._vendor import ModelSpec
from dailies.providers.base import Capabilities
from dailies.providers.catalog import FAL, REPLICATE
from dailies.providers.fal import FalProvider
from dailies.providers.replicate import ReplicateProvider
from dailies.providers.runway import RunwayProvider
from dailies.validation import validate_request
from tests.fakes import fal as fake_fal
from tests.fakes import replicate as fake_replicate
from tests.fakes import runway as fake_runway
from tests.fakes import schemas
from tests.providers._helpers import follow, request

KLING_O1 = ModelSpec(
    "fal-ai/kling-video/o1", {"1280x720": "16:9", "720x1280": "9:16", "960x960": "1:1"}, (5, 10), 0.112,
    text=False, subject_references=schemas.FAL_REFERENCE_CAP,
    options={"references": "reference-to-video", "references_input": "image_urls", "seconds": "{}"},
    source="a test's entry: Kling O1 reference-to-video as fal's API reference was last read (unverified)")
"""Kling's reference-to-video on fal as a catalogue entry would name it (no catalogue model takes references yet)."""


@pytest.fixture
def fal(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[fake_fal.FakeFal, FalProvider]]:
    with fake_fal.FakeFal() as fake:
        monkeypatch.setattr(fal_client.client, "REST_URL", fake.rest_url)
        monkeypatch.setattr(fal_client.client, "CDN_URL", fake.cdn_url)
        provider = FalProvider(api_key=fake_fal.KEY, base_url=fake.base_url,
                               models={**FAL.models, KLING_O1.id: KLING_O1})
        yield fake, provider
        provider.close()


def pictures(folder: Path, count: int) -> list[str]:
    made = []
    for n in range(count):
        made.append(str(folder / f"character-{n}.png"))
        Image.new("RGB", (64, 48), (30 * n, 100, 160)).save(made[-1])
    return made


def test_kling_on_fal_is_sent_its_references_inline_or_uploaded_as_they_fit(fal, tmp_path: Path) -> None:
    fake, provider = fal
    camera = tmp_path / "DSC_0001.jpg"
    Image.frombytes("RGB", (2000, 1500), os.urandom(2000 * 1500 * 3)).save(camera, quality=90)  # over 1 MB
    references = [*pictures(tmp_path, 2), str(camera)]
    assert provider.capabilities().subject_references(KLING_O1.id) == schemas.FAL_REFERENCE_CAP
    assert provider.health().ok  # the connection test reads each endpoint's published inputs, this one's too
    assert "fal-ai/kling-video/o1/reference-to-video" in provider.published
    fake.requests.clear()
    created = provider.submit(request(KLING_O1.id, "720x1280", 10, reference_images=references))
    sent = fake.creates("/reference-to-video")[0]
    assert sent.path == "/fal-ai/kling-video/o1/reference-to-video"
    assert schemas.FAL["fal-ai/kling-video/o1/reference-to-video"].problems(sent.body) == []
    first, second, third = sent.body["image_urls"]
    assert first.startswith("data:image/png;base64,") and second.startswith("data:image/png;base64,")
    assert fake.uploaded(third) == camera.read_bytes() and fake.file_inputs == [third]
    assert sent.body["aspect_ratio"] == "9:16" and sent.body["duration"] == "10"
    assert follow(provider, created.remote_id)[-1].status is JobStatus.COMPLETED


def test_references_fal_would_refuse_are_refused_before_sending(fal, tmp_path: Path) -> None:
    fake, provider = fal
    eight = pictures(tmp_path, 8)
    with pytest.raises(NotSupported, match=r"kling-video/o1 takes up to 7 subject reference images, not 8"):
        provider.submit(request(KLING_O1.id, "1280x720", 5, reference_images=eight))
    with pytest.raises(NotSupported, match="not both"):
        provider.submit(request(KLING_O1.id, "1280x720", 5, reference_images=eight[:1], reference_path=eight[1]))
    with pytest.raises(NotSupported, match=r"v2\.5-turbo/pro takes no subject reference images"):
        provider.submit(request("fal-ai/kling-video/v2.5-turbo/pro", "1280x720", 5, reference_images=eight[:1]))
    assert fake.requests == []


def test_the_fal_fake_refuses_more_references_than_the_endpoint_takes(fal, tmp_path: Path) -> None:
    """A catalogue entry that promised more than fal takes meets fal's own 422, in words."""
    fake, provider = fal
    provider.models[KLING_O1.id] = dataclasses.replace(KLING_O1, subject_references=8)
    with pytest.raises(UnprocessableEntityError, match="image_urls: at most 7 reference images"):
        provider.submit(request(KLING_O1.id, "1280x720", 5, reference_images=pictures(tmp_path, 8)))
    assert fake.jobs == {}


def test_replicate_and_runway_models_take_no_references_and_say_so_before_sending(tmp_path: Path) -> None:
    one = pictures(tmp_path, 1)
    with fake_replicate.FakeReplicate() as fake:
        provider = ReplicateProvider(api_key=fake_replicate.KEY, base_url=fake.base_url)
        for model in REPLICATE.models:
            with pytest.raises(NotSupported, match="takes no subject reference images"):
                provider.submit(request(model, next(iter(REPLICATE.models[model].sizes)),
                                        REPLICATE.models[model].seconds[0], reference_images=one))
        provider.close()
        assert fake.requests == []
    with fake_runway.FakeRunway() as fake:
        provider = RunwayProvider(api_key=fake_runway.KEY, base_url=fake.base_url)
        with pytest.raises(NotSupported, match=r"veo3\.1 takes no subject reference images"):
            provider.submit(request("veo3.1", "1280x720", 8, reference_images=one))
        provider.close()
        assert fake.requests == []


# -- the studio's check, before anything is sent ----------------------------------------------------


def test_an_openai_compatible_server_takes_no_subject_references(tmp_path: Path) -> None:
    """/v1/videos has one `input_reference` (an opening frame) and no subject references: refused, naming the model."""
    caps = Capabilities(models=("sora-2",), sizes={"sora-2": ("1280x720",)}, seconds=(4, 8, 12))
    assert caps.subject_references("sora-2") == 0
    with pytest.raises(ValidationError, match="sora-2 takes no subject reference images; take the 1 off"):
        validate_request(JobRequest("a harbour", "sora-2", "1280x720", 4, reference_images=pictures(tmp_path, 1)),
                         caps)


def test_the_check_names_the_model_and_its_limit_and_reads_each_picture(tmp_path: Path) -> None:
    caps = Capabilities(models=("veo",), sizes={"veo": ("1280x720",)}, seconds=(8,),
                        reference_images_by_model={"veo": 3})
    five = pictures(tmp_path, 5)
    with pytest.raises(ValidationError, match="veo takes up to 3 subject reference images, not 5: take 2 off"):
        validate_request(JobRequest("a harbour", "veo", "1280x720", 8, reference_images=five), caps)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    with pytest.raises(ValidationError, match=r"'broken\.png' is not an image"):
        validate_request(JobRequest("a harbour", "veo", "1280x720", 8, reference_images=[five[0], str(broken)]), caps)
    validate_request(JobRequest("a harbour", "veo", "1280x720", 8, reference_images=five[:3]), caps)
    with pytest.raises(ValidationError, match=r"go with a new take only \(extend takes none\)"):
        validate_request(JobRequest("a harbour", "veo", "1280x720", 8, kind=JobKind.EXTEND, source_job_id="video_1",
                                    reference_images=five[:1]), caps)


def test_silence_is_refused_before_sending_where_the_model_always_renders_sound() -> None:
    """Replicate's Veo 3 takes no sound switch (its price is the sound one): a silent take is refused by the check,
    while a model that can be told (or renders no sound) takes the choice."""
    older = {model: REPLICATE.retired[model].spec for model in ("google/veo-3", "kwaivgi/kling-v2.1")}
    provider_caps = ReplicateProvider(api_key="r8_x", models={**REPLICATE.models, **older}).capabilities()
    assert not provider_caps.can_be_silent("google/veo-3") and provider_caps.can_be_silent("kwaivgi/kling-v2.1")
    with pytest.raises(ValidationError, match="google/veo-3 always renders sound"):
        validate_request(JobRequest("a harbour", "google/veo-3", "1280x720", 8, audio=False), provider_caps)
    validate_request(JobRequest("a harbour", "kwaivgi/kling-v2.1", "1280x720", 5, audio=False), provider_caps)


KLING_16 = ModelSpec(
    "kwaivgi/kling-v1.6-standard", {"1280x720": "16:9", "720x1280": "9:16", "960x960": "1:1"}, (5, 10), 0.056,
    image=True, subject_references=schemas.REPLICATE_REFERENCE_CAP,
    options={"image": "start_image", "ratio": "aspect_ratio", "seconds": "duration", "references": "reference_images"},
    source="a test's entry: Kling 1.6 on Replicate as its page was last read (unverified)")
"""Kling 1.6's `reference_images` on Replicate as a catalogue entry would name them."""


def test_kling_on_replicate_is_sent_its_references_inline_or_through_the_files_api(tmp_path: Path) -> None:
    camera = tmp_path / "DSC_0002.jpg"
    Image.frombytes("RGB", (2000, 1500), os.urandom(2000 * 1500 * 3)).save(camera, quality=90)  # over 1 MB
    with fake_replicate.FakeReplicate() as fake:
        provider = ReplicateProvider(api_key=fake_replicate.KEY, base_url=fake.base_url, models={KLING_16.id: KLING_16})
        created = provider.submit(request(KLING_16.id, "1280x720", 5,
                                          reference_images=[*pictures(tmp_path, 2), str(camera)]))
        model_input = fake.creates("/predictions")[0].body["input"]
        assert schemas.REPLICATE[KLING_16.id].problems(model_input) == []
        first, second, third = model_input["reference_images"]
        assert first.startswith("data:image/png;base64,") and second.startswith("data:image/png;base64,")
        assert third.startswith(f"{fake.base_url}/v1/files/") and fake.file_inputs == [third]
        assert follow(provider, created.remote_id)[-1].status is JobStatus.COMPLETED

        five = pictures(tmp_path, 5)
        with pytest.raises(NotSupported, match=r"kling-v1\.6-standard takes up to 4 subject reference images, not 5"):
            provider.submit(request(KLING_16.id, "1280x720", 5, reference_images=five))
        sent = len(fake.requests)
        provider.models[KLING_16.id] = dataclasses.replace(KLING_16, subject_references=5)  # a catalogue that lies
        with pytest.raises(UnprocessableEntityError, match="reference_images: at most 4 images"):
            provider.submit(request(KLING_16.id, "1280x720", 5, reference_images=five))
        assert len(fake.requests) == sent + 1 and len(fake.jobs) == 1
        provider.close()


SEEDANCE_2 = ModelSpec(
    "seedance2", {"1280x720": "1280:720", "720x1280": "720:1280"}, (5, 10), 0.10, audio=True, audio_input="audio",
    subject_references=schemas.RUNWAY_REFERENCE_CAP["seedance2"],
    source="a test's entry: Seedance 2 on Runway as runwayml 5.24.0's create types name it; price made up")
"""Runway's Seedance 2 as a catalogue entry would name it (`references: [{uri}]`, up to 9, in the SDK's types)."""


def test_seedance_on_runway_is_sent_its_references_inline_or_uploaded(tmp_path: Path) -> None:
    camera = tmp_path / "DSC_0003.jpg"
    Image.frombytes("RGB", (3000, 2250), os.urandom(3000 * 2250 * 3)).save(camera, quality=95)  # over 5 MB
    assert camera.stat().st_size > 5_000_000
    with fake_runway.FakeRunway() as fake:
        provider = RunwayProvider(api_key=fake_runway.KEY, base_url=fake.base_url, models={SEEDANCE_2.id: SEEDANCE_2})
        created = provider.submit(request(SEEDANCE_2.id, "720x1280", 5, audio=False,
                                          reference_images=[*pictures(tmp_path, 2), str(camera)]))
        body = fake.creates("/v1/text_to_video")[0].body
        assert schemas.RUNWAY_TEXT["seedance2"].problems(body) == [] and body["audio"] is False
        first, second, third = (ref["uri"] for ref in body["references"])
        assert first.startswith("data:image/png;base64,") and second.startswith("data:image/png;base64,")
        assert third.startswith("runway://") and fake.file_inputs == [third]
        assert fake.uploads[third.removeprefix("runway://")][2] == camera.read_bytes()
        assert follow(provider, created.remote_id)[-1].status is JobStatus.COMPLETED

        ten = pictures(tmp_path, 10)
        with pytest.raises(NotSupported, match="seedance2 takes up to 9 subject reference images, not 10"):
            provider.submit(request(SEEDANCE_2.id, "1280x720", 5, reference_images=ten))
        provider.models[SEEDANCE_2.id] = dataclasses.replace(SEEDANCE_2, subject_references=10)  # a lying catalogue
        with pytest.raises(BadRequestError, match="references: At most 9 references"):
            provider.submit(request(SEEDANCE_2.id, "1280x720", 5, reference_images=ten))
        assert len(fake.jobs) == 1
        provider.close()
