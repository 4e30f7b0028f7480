"""Veo through the real `google-genai` SDK, on Vertex AI in a Google Cloud project, against a local fake of
Vertex's Veo API (tests/fakes/google.py cites each behaviour it copies)."""

from __future__ import annotations

import base64
import inspect
from pathlib import Path

import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from google.oauth2.credentials import Credentials
from PIL import Image
from shell_free import shell_free

from dailies.config import Environment
from dailies.errors import AuthenticationError, NotSupported, RateLimitError
from dailies.errors import may_have_arrived as _may_have_arrived
from dailies.jobs import JobKind, JobStatus
from dailies.pricing import PriceList
from dailies.providers import registry
from dailies.providers.catalog import GOOGLE, GOOGLE_RETIRED
from dailies.providers.google import EXPRESS_MODE_REFUSED, GoogleVeoProvider, RequestsPerMinute
from tests.fakes.google import LOCATION, PROJECT, TOKEN, FakeVertexVeo, service_account_file
from tests.providers._helpers import follow, follow_to_video, request, small_png, veo

VEO = "veo-3.1-fast-generate-001"
MODEL_PATH = f"/v1beta1/projects/{PROJECT}/locations/{LOCATION}/publishers/google/models"
VENDOR = "google"
pytestmark = pytest.mark.usefixtures("fresh_veo_quotas")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_text_to_video_in_a_project_create_status_download(
    fake: FakeVertexVeo, provider: GoogleVeoProvider, tmp_path: Path
) -> None:
    created = provider.submit(request(VEO, "720x1280", 6, seed=5))
    sent = fake.creates(":predictLongRunning")[0]
    assert sent.path == f"{MODEL_PATH}/{VEO}:predictLongRunning"
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}" and "x-goog-api-key" not in sent.headers
    assert created.remote_id == f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/{VEO}/operations/" \
        + next(iter(fake.jobs))

    seen, _ = follow_to_video(provider, created.remote_id, tmp_path / "video.mp4")
    assert [s.status for s in seen] == [JobStatus.IN_PROGRESS, JobStatus.COMPLETED]
    polls = [r for r in fake.requests if r.path.endswith(":fetchPredictOperation")]
    assert {r.path for r in polls} == {f"{MODEL_PATH}/{VEO}:fetchPredictOperation"}
    assert polls[0].body == {"operationName": created.remote_id}


@pytest.mark.parametrize("model", list(GOOGLE.models))
@pytest.mark.parametrize(("size", "ratio", "resolution"), [
    ("1280x720", "16:9", "720p"), ("720x1280", "9:16", "720p"),
    ("1920x1080", "16:9", "1080p"), ("1080x1920", "9:16", "1080p"),
])
@pytest.mark.parametrize("seconds", [4, 6, 8])
@pytest.mark.parametrize("audio", [True, False], ids=["sound", "silent"])
def test_each_model_is_asked_for_what_it_is_priced_for(
    fake: FakeVertexVeo, provider: GoogleVeoProvider, model: str, size: str, ratio: str, resolution: str, seconds: int,
    audio: bool,
) -> None:
    """Every offered shape goes out as Veo names it, with sound on or off as chosen (never left to Veo's
    default), and is priced at the rate of that choice: the silent rate is Google's lower one."""
    provider.submit(request(model, size, seconds, audio=audio))
    body = fake.creates(":predictLongRunning")[0].body
    assert body["parameters"] == {"sampleCount": 1, "aspectRatio": ratio, "resolution": resolution,
                                  "durationSeconds": seconds, "generateAudio": audio}
    assert body["instances"] == [{"prompt": "a lighthouse at dusk, waves"}]
    spec = GOOGLE.models[model]
    prices = PriceList(GOOGLE.default_rates)
    expected = spec.usd_per_second if audio else spec.silent_usd_per_second
    assert prices.estimate(model, size, seconds, audio=audio) == pytest.approx(expected * seconds)
    assert spec.silent_usd_per_second < spec.usd_per_second


def test_prices_are_the_published_audio_rates_with_their_date_and_source() -> None:
    assert PriceList(GOOGLE.default_rates).to_table() == {
        "veo-3.1-generate-001@silent": 0.20, "veo-3.1-generate-001": 0.40,
        "veo-3.1-fast-generate-001@silent": 0.10, "veo-3.1-fast-generate-001": 0.15,
        "veo-3.0-generate-001": 0.40, "veo-2.0-generate-001": 0.50}  # retired ones still price their old takes
    assert PriceList.from_table(PriceList(GOOGLE.default_rates).to_table()).estimate(
        "veo-3.1-generate-001", "1280x720", 8, audio=False) == pytest.approx(1.60)  # Settings keeps the silent rate
    assert "cloud.google.com/vertex-ai/generative-ai/pricing" in GOOGLE.note and "2025-11" in GOOGLE.note


def test_image_to_video_at_1080p(fake: FakeVertexVeo, provider: GoogleVeoProvider, tmp_path: Path) -> None:
    image = small_png(tmp_path / "ref.png", (200, 200, 40))
    created = provider.submit(request("veo-3.1-generate-001", "1920x1080", 8, reference_path=str(image)))
    body = fake.creates(":predictLongRunning")[0].body
    assert base64.b64decode(body["instances"][0]["image"]["bytesBase64Encoded"]) == image.read_bytes()
    assert body["instances"][0]["image"]["mimeType"] == "image/png"
    assert body["parameters"]["resolution"] == "1080p" and body["parameters"]["aspectRatio"] == "16:9"
    follow_to_video(provider, created.remote_id, tmp_path / "out.mp4")


def test_a_service_account_file_signs_in_at_its_token_uri_from_the_server_definition(
    fake: FakeVertexVeo, tmp_path: Path
) -> None:
    """The documented path: a definition where keys live names the project, location and key file; google-auth
    signs a JWT with the file's key and exchanges it at the file's token_uri; Veo is called with that token."""
    key_file = service_account_file(fake, tmp_path)
    env = Environment.load({"DAILIES_HOME": str(tmp_path), "DAILIES_PROVIDER_VEO_KIND": "google",
                            "DAILIES_PROVIDER_VEO_PROJECT": PROJECT, "DAILIES_PROVIDER_VEO_LOCATION": LOCATION,
                            "DAILIES_PROVIDER_VEO_CREDENTIALS_FILE": str(key_file),
                            "DAILIES_PROVIDER_VEO_BASE_URL": fake.base_url}, secrets_path=tmp_path / "none.toml")
    defined = env.providers["veo"]
    assert (defined.project, defined.location, defined.credentials_file) == (PROJECT, LOCATION, str(key_file))
    provider = registry.build("veo", defined, env.values.get)
    assert isinstance(provider, GoogleVeoProvider)
    try:
        created = provider.submit(request(VEO, "1280x720", 4))
        follow(provider, created.remote_id)
    finally:
        provider.close()
    [claims] = fake.exchanges
    assert claims["iss"] == "dailies@fake-project.iam.gserviceaccount.com"
    assert claims["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    tokens = {r.headers["Authorization"] for r in fake.requests if r.path.startswith("/v1beta1/")}
    assert len(tokens) == 1 and tokens != {f"Bearer {TOKEN}"}, "one exchanged token, reused while it lasts"
    assert registry.setup_of(defined) == {"project": PROJECT, "location": LOCATION, "credentials_file": str(key_file)}


def test_a_key_file_the_token_endpoint_refuses_is_a_refusal_not_a_maybe(fake: FakeVertexVeo, tmp_path: Path) -> None:
    key_file = service_account_file(fake, tmp_path)
    fake.service_accounts.clear()  # the key was deleted in the Cloud console
    provider = GoogleVeoProvider(project=PROJECT, credentials_file=str(key_file), base_url=fake.base_url)
    with pytest.raises(AuthenticationError, match="access token") as raised:
        provider.submit(request(VEO, "1280x720", 4))
    assert not _may_have_arrived(raised.value) and fake.creates(":predictLongRunning") == []
    provider.close()


def test_an_api_key_alone_is_refused_with_what_to_configure(fake: FakeVertexVeo, tmp_path: Path) -> None:
    """Express mode and an AI Studio key make no Veo video through this SDK: refused before anything is sent."""
    with pytest.raises(NotSupported) as raised:
        GoogleVeoProvider(api_key="AIza-some-key", base_url=fake.base_url)
    assert str(raised.value) == EXPRESS_MODE_REFUSED and "project" in EXPRESS_MODE_REFUSED

    built = registry.build_or_explain("veo", {"kind": "google", "base_url": fake.base_url},
                                      {"GOOGLE_API_KEY": "AIza-some-key"}.get)
    said = registry.problem(built)
    assert isinstance(built, registry.Unavailable) and said is not None
    assert "[providers.veo]" in said and "DAILIES_PROVIDER_VEO_PROJECT" in said and "credentials_file" in said
    assert "GOOGLE_API_KEY is not used" in said and "AIza" not in said
    assert not registry.connection_test(built).ok
    assert fake.requests == []


def test_the_sdk_itself_refuses_veo_with_an_ai_studio_key() -> None:
    """Why the Gemini API mode is not offered: google-genai 3.3.0 raises before sending. If an upgrade serves
    Veo there, this fails and the mode can be added (as a second fake mode at generativelanguage)."""
    client = genai.Client(api_key="AIza-not-sent", http_options=types.HttpOptions(base_url="http://127.0.0.1:9"))
    with pytest.raises(ValueError, match="only supported in Gemini Enterprise Agent Platform"):
        client.models.generate_videos(model=VEO, source=types.GenerateVideosSource(prompt="x"))
    client.close()


@pytest.mark.parametrize(("hint", "expected_wait"), [("none", 60.0), ("header", 31.0), ("retry_info", 30.0)])
def test_vertex_quota_answer_is_not_made_retry_later(
    fake: FakeVertexVeo, hint: str, expected_wait: float
) -> None:
    """Vertex's 429 RESOURCE_EXHAUSTED: a RateLimitError with a wait (whatever form Vertex gives it, or the rest
    of the minute), which created nothing and was sent once."""
    clock = Clock()
    fake.clock = clock
    fake.quota_hint = hint
    provider = veo(fake, quota=RequestsPerMinute(limit=100))  # let the eleventh reach Vertex
    for _ in range(10):
        provider.submit(request(VEO, "1280x720", 4))
    clock.now += 30
    with pytest.raises(RateLimitError) as raised:
        provider.submit(request(VEO, "1280x720", 4))
    error = raised.value
    assert error.status_code == 429 and error.code == "RESOURCE_EXHAUSTED" and "Quota exceeded" in error.message
    assert error.retry_after == pytest.approx(expected_wait)
    assert not _may_have_arrived(error)
    assert len(fake.creates(":predictLongRunning")) == 11 and len(fake.jobs) == 10
    provider.close()


def test_creates_are_paced_at_ten_a_minute_per_project_before_sending(fake: FakeVertexVeo) -> None:
    clock = Clock()
    fake.clock = clock  # the service's minute and ours are the same minute
    provider = veo(fake, quota=RequestsPerMinute(clock=clock))
    for _ in range(10):
        provider.submit(request(VEO, "1280x720", 4))
        clock.now += 2
    with pytest.raises(RateLimitError, match="10 requests a minute") as raised:
        provider.submit(request(VEO, "1280x720", 4))
    assert raised.value.retry_after == pytest.approx(40.0) and not _may_have_arrived(raised.value)
    assert len(fake.creates(":predictLongRunning")) == 10
    clock.now += 40
    provider.submit(request(VEO, "1280x720", 4))
    assert len(fake.jobs) == 11
    provider.close()


def test_providers_on_one_project_share_its_quota(fake: FakeVertexVeo) -> None:
    """The limit is the project's: a second provider on the same project (or one rebuilt) counts with the first."""
    from dailies.providers.google import project_quota

    first, second = (GoogleVeoProvider(project="shared-quota", credentials=Credentials(token=TOKEN),
                                       base_url=fake.base_url) for _ in range(2))
    assert first.quota is second.quota is project_quota("shared-quota")
    assert first.quota is not project_quota("another-project")
    first.close()
    second.close()


def test_extension_goes_out_only_from_cloud_storage(fake: FakeVertexVeo, provider: GoogleVeoProvider,
                                                    tmp_path: Path) -> None:
    first = provider.submit(request(VEO, "1280x720", 8))
    follow(provider, first.remote_id)
    local = tmp_path / "first.mp4"
    provider.download(first.remote_id, "video", local)
    with pytest.raises(NotSupported, match="only a video in Cloud Storage") as raised:
        provider.submit(request(VEO, "1280x720", 7, kind=JobKind.EXTEND), source_remote_id=first.remote_id)
    assert "Nothing was sent" in str(raised.value)
    with pytest.raises(NotSupported, match="only a video in Cloud Storage"):
        provider.submit(request(VEO, "1280x720", 7, kind=JobKind.EXTEND, reference_path=str(local)))
    assert len(fake.creates(":predictLongRunning")) == 1
    caps = provider.capabilities()
    assert caps.extend and caps.extend_source == "cloud_storage" and caps.extend_seconds == (7,)

    extended = provider.submit(request(VEO, "1280x720", 7, kind=JobKind.EXTEND,
                                       reference_path="gs://team-bucket/dailies/take/video.mp4"))
    sent = fake.creates(":predictLongRunning")[1].body
    assert sent["instances"][0]["video"] == {"gcsUri": "gs://team-bucket/dailies/take/video.mp4",
                                             "mimeType": "video/mp4"}
    assert sent["parameters"]["durationSeconds"] == 7 and sent["parameters"]["resolution"] == "720p"
    assert follow(provider, extended.remote_id)[-1].status is JobStatus.COMPLETED

    fake.storage_to_gcs = True  # a take Google stored in a bucket is extended from there
    stored = provider.submit(request(VEO, "1280x720", 8))
    follow(provider, stored.remote_id)
    provider.submit(request(VEO, "1280x720", 7, kind=JobKind.EXTEND), source_remote_id=stored.remote_id)
    assert fake.creates(":predictLongRunning")[-1].body["instances"][0]["video"]["gcsUri"].startswith("gs://fake-bucket/")
    with pytest.raises(NotSupported, match="720p only"):
        provider.submit(request(VEO, "1920x1080", 7, kind=JobKind.EXTEND, reference_path="gs://b/v.mp4"))


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


def test_retired_models_are_not_offered_and_are_refused_by_name(fake: FakeVertexVeo,
                                                                provider: GoogleVeoProvider) -> None:
    offered = set(provider.capabilities().models)
    assert offered == {"veo-3.1-generate-001", "veo-3.1-fast-generate-001"}
    assert not offered & set(GOOGLE_RETIRED) and set(GOOGLE_RETIRED) <= {r.model_prefix for r in GOOGLE.default_rates}
    assert {"veo-3.0-generate-001", "veo-2.0-generate-001"} <= set(GOOGLE_RETIRED)
    for model in ("veo-3.0-generate-001", "veo-2.0-generate-001"):
        with pytest.raises(NotSupported, match="retired by Google on 2026-06-30"):
            provider.submit(request(model, "1280x720", 8))
    with pytest.raises(NotSupported, match="no cancel or delete"):
        provider.delete("anything")
    with pytest.raises(NotSupported, match="remix"):
        provider.submit(request(VEO, "1280x720", 8, kind=JobKind.REMIX))
    with pytest.raises(NotSupported, match="4, 6, 8 seconds"):
        provider.submit(request(VEO, "1280x720", 5))
    assert fake.requests == []


def test_health_asks_for_a_full_operation_name(fake: FakeVertexVeo, provider: GoogleVeoProvider) -> None:
    assert provider.health().ok
    [probe] = fake.requests
    assert probe.body["operationName"].startswith(f"projects/{PROJECT}/locations/{LOCATION}/publishers/google/models/")
    assert probe.path.startswith(MODEL_PATH)
    bad = GoogleVeoProvider(project=PROJECT, credentials=Credentials(token="ya29.wrong"), base_url=fake.base_url)
    answer = bad.health()
    assert not answer.ok and "invalid authentication credentials" in answer.message
    bad.close()
    other = GoogleVeoProvider(project="not-mine", credentials=Credentials(token=TOKEN), base_url=fake.base_url)
    assert not other.health().ok, "a project the credentials cannot use is not healthy"
    other.close()


def test_the_sdk_surface_this_adapter_relies_on() -> None:
    """Fails loudly when a google-genai upgrade changes what the adapter calls or reads."""
    client_args = inspect.signature(genai.Client).parameters
    assert {"enterprise", "project", "location", "credentials", "http_options"} <= set(client_args)
    assert "Legacy" in (genai.Client.__init__.__doc__ or ""), "vertexai= is the legacy name; we pass enterprise="
    assert {"number_of_videos", "aspect_ratio", "resolution", "duration_seconds", "generate_audio", "seed"} <= set(
        types.GenerateVideosConfig.model_fields)
    assert {"prompt", "image", "video"} <= set(types.GenerateVideosSource.model_fields)
    assert {"uri", "video_bytes", "mime_type"} <= set(types.Video.model_fields)
    assert {"image_bytes", "mime_type"} <= set(types.Image.model_fields)
    assert {"name", "done", "error", "response", "result"} <= set(types.GenerateVideosOperation.model_fields)
    assert {"generated_videos", "rai_media_filtered_reasons"} <= set(types.GenerateVideosResponse.model_fields)
    assert "base_url" in types.HttpOptions.model_fields
    error = genai_errors.APIError(429, {"error": {"code": 429, "message": "m", "status": "RESOURCE_EXHAUSTED"}})
    assert (error.code, error.status, error.message, error.response) == (429, "RESOURCE_EXHAUSTED", "m", None)
    assert isinstance(error.details, dict)
    for public in ("models", "operations", "close"):
        assert hasattr(genai.Client, public)
    assert callable(getattr(genai.models.Models, "generate_videos", None))
    assert callable(getattr(genai.operations.Operations, "get", None))


def test_capabilities() -> None:
    caps = registry.build_or_explain("veo", {"kind": "google"}, {}.get).capabilities()
    assert set(caps.models) == {"veo-3.1-generate-001", "veo-3.1-fast-generate-001"}
    assert caps.seconds_for(VEO) == (4, 6, 8)
    assert caps.size_names[VEO]["1080x1920"] == "9:16"
    assert {r.model_prefix for r in GOOGLE.default_rates} == set(caps.models) | set(GOOGLE_RETIRED)


def test_a_missing_key_file_or_no_default_credentials_is_said_and_nothing_is_sent(
    fake: FakeVertexVeo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "gone.json"
    built = registry.build_or_explain("veo", {"kind": "google", "project": PROJECT, "base_url": fake.base_url,
                                              "credentials_file": str(missing)}, {}.get)
    said = registry.problem(built)
    assert isinstance(built, registry.Unavailable) and said is not None and str(missing) in said

    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(missing))  # ADC that finds nothing (and no network)
    adc = registry.build("veo", {"kind": "google", "project": PROJECT, "base_url": fake.base_url}, {}.get)
    answer = registry.connection_test(adc)
    assert not answer.ok and "access token" in answer.message
    with pytest.raises(AuthenticationError) as raised:
        adc.submit(request(VEO, "1280x720", 4))
    assert not _may_have_arrived(raised.value)
    assert fake.requests == []
    adc.close()


def test_only_a_take_safely_in_a_cloud_storage_bucket_has_a_gs_uri() -> None:
    from dailies.bucket import cloud_storage_uri
    from dailies.config import BucketSettings
    from dailies.jobs import FileRecord

    stored = FileRecord("j1/video.mp4", 10, "ab", "video/mp4", bucket_key="dailies/j1/video.mp4", bucket_etag="e")
    gcs = BucketSettings(bucket="team", endpoint_url="https://storage.googleapis.com")
    assert cloud_storage_uri(gcs, stored) == "gs://team/dailies/j1/video.mp4"
    assert cloud_storage_uri(BucketSettings(bucket="team", endpoint_url="https://acc.r2.cloudflarestorage.com"),
                             stored) is None
    assert cloud_storage_uri(BucketSettings(bucket="team"), stored) is None, "AWS S3 is not Cloud Storage"
    assert cloud_storage_uri(gcs, FileRecord("j1/video.mp4", 10, "ab", "video/mp4")) is None, "not uploaded yet"


# -- subject references ------------------------------------------------------------------------------


def _pictures(folder: Path, count: int, size: tuple[int, int] = (64, 48)) -> list[str]:
    paths = []
    for n in range(count):
        path = folder / f"subject-{n}.png"
        Image.new("RGB", size, (40 * n, 90, 200)).save(path)
        paths.append(str(path))
    return paths


def test_veo_3_1_is_sent_up_to_three_subject_references_as_asset_images(
    fake: FakeVertexVeo, provider: GoogleVeoProvider, tmp_path: Path
) -> None:
    pictures = _pictures(tmp_path, 3)
    created = provider.submit(request("veo-3.1-generate-001", "1280x720", 8, reference_images=pictures))
    instance = fake.creates(":predictLongRunning")[0].body["instances"][0]
    sent = instance["referenceImages"]
    assert [ref["referenceType"].lower() for ref in sent] == ["asset"] * 3
    assert [base64.b64decode(ref["image"]["bytesBase64Encoded"]) for ref in sent] == \
        [Path(p).read_bytes() for p in pictures]
    assert "image" not in instance
    assert follow(provider, created.remote_id)[-1].status is JobStatus.COMPLETED
    assert provider.capabilities().subject_references("veo-3.1-generate-001") == 3
    assert provider.capabilities().subject_references(VEO) == 0


def test_subject_references_veo_would_refuse_are_refused_before_sending(
    fake: FakeVertexVeo, provider: GoogleVeoProvider, tmp_path: Path
) -> None:
    pictures = _pictures(tmp_path, 4)
    with pytest.raises(NotSupported, match=r"veo-3\.1-generate-001 takes up to 3 subject reference images, not 4"):
        provider.submit(request("veo-3.1-generate-001", "1280x720", 8, reference_images=pictures))
    with pytest.raises(NotSupported, match=r"veo-3\.1-fast-generate-001 takes no subject reference images"):
        provider.submit(request(VEO, "1280x720", 8, reference_images=pictures[:1]))
    with pytest.raises(NotSupported, match="not both"):
        provider.submit(request("veo-3.1-generate-001", "1280x720", 8, reference_images=pictures[:1],
                                reference_path=pictures[3]))
    assert fake.requests == []


def test_the_fake_refuses_what_veo_refuses_of_references(fake: FakeVertexVeo, tmp_path: Path) -> None:
    """The fake holds the SDK's documented rules on its own (sent here through the bare SDK, past the adapter)."""
    client = genai.Client(enterprise=True, project=PROJECT, location=LOCATION, credentials=Credentials(token=TOKEN),
                          http_options=types.HttpOptions(base_url=fake.base_url))
    image = types.Image(image_bytes=Path(_pictures(tmp_path, 1)[0]).read_bytes(), mime_type="image/png")
    asset = types.VideoGenerationReferenceImage(image=image, reference_type="asset")
    for model, references in (("veo-3.1-generate-001", [asset] * 4), (VEO, [asset])):
        with pytest.raises(genai_errors.ClientError) as raised:
            client.models.generate_videos(model=model, source=types.GenerateVideosSource(prompt="x"),
                                          config=types.GenerateVideosConfig(reference_images=references))
        assert raised.value.code == 400
    client.close()
    assert fake.jobs == {}


# -- the quota, shared by processes on a data folder -------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_two_processes_on_one_data_folder_together_stay_under_veos_ten_a_minute(
    fake: FakeVertexVeo, tmp_path: Path
) -> None:
    """Two real processes (as the app and a CLI batch would) each try 8 creates at once on one project: 10 go,
    6 wait at home unsent, and Vertex never answers a 429."""
    import os
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    env = shell_free()
    env.update(DAILIES_HOME=str(home), PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]))
    worker = Path(__file__).with_name("veo_quota_worker.py")
    workers = [subprocess.Popen([sys.executable, str(worker), fake.base_url, str(home), "8"], cwd=ROOT, env=env,
                                text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    for process in workers:
        assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    (home / "go").touch()
    said = []
    for process in workers:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        said.append(out.split())
    assert sum(words.count("sent") for words in said) == 10
    assert sum(words.count("waits") for words in said) == 6
    assert all("sent" in words for words in said)  # both processes had their turn
    assert len(fake.creates(":predictLongRunning")) == 10 and len(fake.jobs) == 10  # no 429 was ever earned
    assert (home / "quotas" / f"veo-{PROJECT}.json").is_file()
