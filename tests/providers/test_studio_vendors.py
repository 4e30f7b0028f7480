"""The studio end to end with native vendors: submit, follow, download, review and delete, through the
real SDKs and the real tracker, store and media folder, against the local vendor fakes.

Providers pointing an SDK at its fake are defined where keys live, as the server's admin defines them
(`tests.server_side.define`: `[providers.<name>]` with a kind and a base URL); keys come from the studio's
environment, as the app reads them. Settings only labels and prices them.
"""

from __future__ import annotations

import dataclasses
import gc
import threading
import time
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from dailies.config import BucketSettings, Environment, ProviderSettings, ServerProvider
from dailies.errors import RequestRefused
from dailies.jobs import JobKind, JobRequest, JobStatus
from dailies.media import probe_video, sha256_file
from dailies.providers import registry
from dailies.studio import Studio
from dailies.tracker import PollPolicy
from tests.fakes.fal import KEY as FAL_KEY
from tests.fakes.fal import FakeFal
from tests.fakes.google import LOCATION, PROJECT, FakeVertexVeo, service_account_file
from tests.fakes.runway import KEY as RUNWAY_KEY
from tests.fakes.runway import FakeRunway
from tests.server_side import define
from tests.until import wait_until

FAST = PollPolicy(first=0.05, growth=1.0, cap=0.1, floor=0.02, unconfirmed_grace=0.5)


KEYS = {"FAL_KEY": FAL_KEY, "RUNWAYML_API_SECRET": RUNWAY_KEY}


@pytest.fixture(autouse=True)
def fresh_project_quotas(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test its own minute of Veo quota (the counters are per project and per process)."""
    import dailies.providers.google as google

    monkeypatch.setattr(google, "_QUOTAS", {})


@pytest.fixture
def studio(isolated_home: Path) -> Iterator[Studio]:
    made = Studio(Environment(home=isolated_home, values=KEYS))
    made.tracker.policy = FAST
    yield made
    made.close()


def add(studio: Studio, monkeypatch: pytest.MonkeyPatch, name: str, kind: str, base_url: str, key: str) -> None:
    """Define a vendor provider at its fake where keys live; its key is the one in the studio's environment."""
    assert studio.env.key_named(registry.kind(kind).key_variables[0]) == key
    define(studio, name, kind, base_url)
    assert studio.providers.kind_of(name) == kind


def test_a_runway_take_ends_with_verified_files_and_its_price(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeRunway() as fake:
        add(studio, monkeypatch, "runway", "runway", fake.base_url, RUNWAY_KEY)
        job = studio.submit(JobRequest("a red kite over the dunes", "gen4.5", "1280x720", 5), provider="runway")
        assert job.remote_id in fake.jobs and job.cost_estimate == pytest.approx(0.60)
        assert studio.tracker.run_until_idle(timeout=60)

        done = studio.store.require(job.id)
        assert done.status is JobStatus.COMPLETED, done.error
        assert set(done.files) == {"video", "thumbnail"}  # the thumbnail is made locally from the video
        for record in done.files.values():
            assert sha256_file(studio.media.resolve(record.path)) == record.sha256
        assert probe_video(studio.media.resolve(done.files["video"].path)).codec == "h264"

        studio.delete(job.id)
        assert [r.method for r in fake.requests if r.path == f"/v1/tasks/{job.remote_id}"][-1] == "DELETE"
        assert fake.jobs[job.remote_id].state == "deleted"


def test_a_lost_fal_create_is_never_resent_by_the_studio(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeFal() as fake:
        add(studio, monkeypatch, "fal", "fal", fake.base_url, FAL_KEY)
        fake.lose_next_create = "503"
        job = studio.submit(JobRequest("a paper boat in rain", "fal-ai/veo3.1", "720x1280", 8), provider="fal")
        assert job.remote_id is None and job.error and job.error.code == "unconfirmed"
        assert studio.tracker.run_until_idle(timeout=30)

        final = studio.store.require(job.id)  # it may exist at fal and be paid for: a person looks
        assert final.status is JobStatus.NEEDS_LOOK and "not sent again" in final.error.message
        assert len(fake.creates("/fal-ai/veo3.1")) == 1 and len(fake.jobs) == 1


def test_a_finished_fal_take_is_deleted_here_though_fal_keeps_it(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeFal() as fake:
        add(studio, monkeypatch, "fal", "fal", fake.base_url, FAL_KEY)
        job = studio.submit(JobRequest("a paper boat in rain", "fal-ai/kling-video/v2.5-turbo/pro", "720x1280", 5),
                            provider="fal")
        assert studio.tracker.run_until_idle(timeout=60)
        folder = studio.media.job_dir(job.id)
        assert studio.store.require(job.id).status is JobStatus.COMPLETED and folder.exists()

        studio.delete(job.id)  # fal answers the cancel with ALREADY_COMPLETED: nothing to delete there
        assert studio.store.get(job.id) is None and not folder.exists()
        assert [r.method for r in fake.requests if r.path.endswith("/cancel")] == ["PUT"]


def define_veo(studio: Studio, fake: FakeVertexVeo, folder: Path) -> None:
    """Veo as its docs prescribe: a project, a location and a service-account key file, defined where keys live."""
    server = ServerProvider("veo", kind="google", base_url=fake.base_url, project=PROJECT, location=LOCATION,
                            credentials_file=str(service_account_file(fake, folder)))
    studio.admin.use_environment(dataclasses.replace(studio.env, providers={**studio.env.providers, "veo": server}))
    assert studio.providers.kind_of("veo") == "google"


def test_a_veo_take_is_extended_only_from_the_teams_cloud_storage_bucket(studio: Studio, tmp_path: Path) -> None:
    """Vertex extends only a video in Cloud Storage: a take only on this machine is refused before anything is
    sent, saying what to configure; one in the team's bucket on Google Cloud Storage goes as its gs:// URI."""
    with FakeVertexVeo() as fake:
        define_veo(studio, fake, tmp_path)
        first = studio.submit(JobRequest("a tram at night", "veo-3.1-fast-generate-001", "1280x720", 4),
                              provider="veo")
        assert first.cost_estimate == pytest.approx(4 * 0.15)
        assert studio.tracker.run_until_idle(timeout=60)
        done = studio.store.require(first.id)
        assert done.status is JobStatus.COMPLETED, done.error
        assert probe_video(studio.media.resolve(done.files["video"].path)).codec == "h264"

        with pytest.raises(RequestRefused, match=r"Point the team's bucket .* at Google Cloud Storage"):
            studio.submit(studio.request_from(first.id, JobKind.EXTEND, "the tram turns a corner", 7), provider="veo")
        assert len(fake.creates(":predictLongRunning")) == 1 and len(studio.store.all()) == 1

        # The team's bucket is Cloud Storage and the take is safely in it: Veo is given its gs:// object.
        studio.settings.bucket = BucketSettings(bucket="team-takes", endpoint_url="https://storage.googleapis.com")
        video = dataclasses.replace(done.files["video"], bucket_key="dailies/" + done.files["video"].path,
                                    bucket_etag="e1")
        studio.store.update(first.id, files={**done.files, "video": video})
        extension = studio.submit(studio.request_from(first.id, JobKind.EXTEND, "the tram turns a corner", 7),
                                  provider="veo")
        assert extension.remote_id and extension.cost_estimate == pytest.approx(7 * 0.15)
        sent = fake.creates(":predictLongRunning")[-1].body
        assert sent["instances"][0]["video"] == {"gcsUri": f"gs://team-takes/dailies/{done.files['video'].path}",
                                                 "mimeType": "video/mp4"}
        assert sent["parameters"]["durationSeconds"] == 7


def test_a_veo_quota_answer_makes_nothing_and_the_take_waits_its_turn(studio: Studio, tmp_path: Path) -> None:
    """429 RESOURCE_EXHAUSTED made nothing: the take is kept, waiting to be sent (not failed, not unconfirmed),
    and tried again when Vertex's answer says (within the minute of its quota)."""
    with FakeVertexVeo() as fake:
        fake.quota_per_minute = 0
        define_veo(studio, fake, tmp_path)
        before = time.time()
        job = studio.submit(JobRequest("a tram at night", "veo-3.1-fast-generate-001", "1280x720", 4), provider="veo")
        assert job.status is JobStatus.WAITING and job.remote_id is None
        assert job.next_try_at is not None and before < job.next_try_at <= time.time() + 60
        assert [j.id for j in studio.store.all()] == [job.id] and fake.jobs == {}

def test_a_vendor_without_its_key_says_which_variable_to_set_and_sends_nothing(isolated_home: Path) -> None:
    shared = Studio(Environment(home=isolated_home, values={"OPENAI_API_KEY": "sk-team-0000", "FAL_KEY": FAL_KEY}))
    try:
        with FakeRunway() as fake:
            define(shared, "runway", "runway", fake.base_url)
            said = registry.connection_test(shared.provider("runway")).message
            assert "set RUNWAYML_API_SECRET" in said
            with pytest.raises(RequestRefused, match="set RUNWAYML_API_SECRET"):
                shared.submit(JobRequest("a kite", "gen4.5", "1280x720", 5), provider="runway")
            check = shared.preflight(JobRequest("a kite", "gen4.5", "1280x720", 5), "runway")
            assert any("RUNWAYML_API_SECRET" in p for p in check.problems)
            assert fake.requests == [] and shared.store.all() == []
    finally:
        shared.close()


def test_each_vendor_is_sent_only_its_own_key(isolated_home: Path) -> None:
    env = Environment(home=isolated_home, api_key="sk-team-secret-1111",
                      values={**KEYS, "OPENAI_API_KEY": "sk-team-secret-1111", "GATEWAY_API_KEY": "sk-gw-2222"})
    shared = Studio(env)
    shared.tracker.policy = FAST
    try:
        with FakeFal() as fal, FakeRunway() as runway:
            define(shared, "fal", "fal", fal.base_url)
            define(shared, "rw", "runway", runway.base_url)
            shared.submit(JobRequest("a kite", "fal-ai/kling-video/v2.5-turbo/pro", "1280x720", 5), provider="fal")
            shared.submit(JobRequest("a kite", "gen4.5", "1280x720", 5), provider="rw")
            assert shared.tracker.run_until_idle(timeout=60)
            # Every request that carried a key carried its own vendor's (downloads of outputs carry none).
            seen = {name: {r.headers.get("Authorization") for r in fake.requests} - {None}
                    for name, fake in (("fal", fal), ("rw", runway))}
        assert seen == {"fal": {f"Key {FAL_KEY}"}, "rw": {f"Bearer {RUNWAY_KEY}"}}
        assert not (isolated_home / "settings.json").exists(), "defined where keys live, nothing is saved here"
        assert [shared.providers.kind_of(name) for name in ("fal", "rw")] == ["fal", "runway"]
    finally:
        shared.close()


def test_rebuilding_keeps_an_unchanged_vendor_and_replaces_a_changed_one(studio: Studio) -> None:
    with FakeFal() as fake, FakeFal() as moved:
        define(studio, "fal", "fal", fake.base_url)
        first = studio.provider("fal")
        studio.save_settings(dataclasses.replace(studio.settings, daily_budget_usd=40.0))
        assert studio.provider("fal") is first, "an unchanged provider is kept, not rebuilt"
        define(studio, "fal", "fal", fake.base_url)
        assert studio.provider("fal") is first, "the same definition read again keeps it too"
        define(studio, "fal", "fal", moved.base_url)
        assert studio.provider("fal") is not first
        studio.submit(JobRequest("a kite", "fal-ai/veo3.1", "1280x720", 8), provider="fal")
        assert moved.jobs and not fake.jobs


def test_a_vendors_rates_start_from_its_catalogue_and_follow_settings(studio: Studio) -> None:
    with FakeRunway() as fake:
        define(studio, "rw", "runway", fake.base_url)
        request = JobRequest("a kite", "gen4.5", "1280x720", 5)
        assert studio.estimate(request, "rw") == pytest.approx(0.60)
        rates = {**registry.prices("runway").to_table(), "gen4.5": 0.2}
        studio.save_settings(dataclasses.replace(studio.settings, extra_providers=[
            ProviderSettings("rw", "rw", kind="runway", rates=rates)]))
        assert studio.estimate(request, "rw") == pytest.approx(1.00)
        studio.submit(request, provider="rw")
        assert fake.jobs, "rates from Settings price the provider; where it is comes from its definition"


def test_a_shootout_sends_nothing_when_one_of_its_providers_cannot_take_its_request(studio: Studio) -> None:
    with FakeFal() as fal, FakeRunway() as runway:
        define(studio, "fal", "fal", fal.base_url)
        define(studio, "rw", "runway", runway.base_url)
        pairs = [("fal", JobRequest("a kite", "fal-ai/veo3.1", "1280x720", 8)),
                 ("rw", JobRequest("a kite", "gen4.5", "960x960", 5))]  # gen4.5 has no square
        check = studio.preflight_each(pairs)
        assert check.cost == pytest.approx(8 * 0.40 + 5 * 0.12)
        assert len(check.problems) == 1 and check.problems[0].startswith("rw/gen4.5: ")
        with pytest.raises(RequestRefused, match=r"rw/gen4\.5"):
            studio.launch_each(pairs)
        assert fal.requests == [] and runway.requests == [] and studio.store.all() == []


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_vendor_changed_mid_create_finishes_that_create_then_is_retired(studio: Studio) -> None:
    """Settings saved while a create is in flight: the create is not cut (it may be paid for), the job is
    followed by the new provider, and the old one's connections close once nothing holds it."""
    with FakeRunway() as fake:
        define(studio, "rw", "runway", fake.base_url)
        old = studio.provider("rw")
        old_sdk, old_ref = old.sdk, weakref.ref(old)
        del old
        fake.hold_creates = threading.Event()
        outcome: list[object] = []
        sending = threading.Thread(target=lambda: outcome.append(
            studio.submit(JobRequest("a kite", "gen4.5", "1280x720", 5), provider="rw")))
        sending.start()
        wait_until(lambda: fake.jobs, 30, "the create to reach Runway")
        studio.save_settings(dataclasses.replace(studio.settings, extra_providers=[
            ProviderSettings("rw", "Runway (renamed)", kind="runway")]))
        assert studio.provider("rw").label == "Runway (renamed)"
        assert not old_sdk.is_closed(), "the provider a create is using is not closed under it"
        fake.hold_creates.set()
        sending.join(60)
        (job,) = outcome
        assert job.remote_id in fake.jobs, "the create in flight was confirmed"
        assert studio.tracker.run_until_idle(timeout=60)
        assert studio.store.require(job.id).status is JobStatus.COMPLETED
        gc.collect()
        assert old_ref() is None and old_sdk.is_closed(), "the retired provider's connections closed after use"
        assert len(fake.creates("/v1/text_to_video")) == 1


def test_a_veo_take_with_subject_references_and_no_sound_is_priced_kept_and_run_again_the_same(
    studio: Studio, tmp_path: Path
) -> None:
    """More subject references than Veo 3.1 takes are refused before anything is sent, naming the model and its
    limit; a take within it is priced silent (Google's half rate), keeps which images it was made with (their
    paths and names, never their bytes) and, run again, sends the same references and the same sound choice."""
    from PIL import Image

    pictures = []
    for n in range(4):
        pictures.append(tmp_path / f"product-{n}.png")
        Image.new("RGB", (64, 48), (60 * n, 120, 30)).save(pictures[-1])
    with FakeVertexVeo() as fake:
        define_veo(studio, fake, tmp_path)
        four = JobRequest("the bottle on a beach", "veo-3.1-generate-001", "1280x720", 8,
                          reference_images=[str(p) for p in pictures])
        problems = studio.preflight(four, "veo").problems
        assert any("veo-3.1-generate-001 takes up to 3 subject reference images, not 4" in p for p in problems)
        with pytest.raises(RequestRefused, match="takes up to 3 subject reference images"):
            studio.submit(four, provider="veo")
        assert fake.creates(":predictLongRunning") == [] and studio.store.all() == []

        two = dataclasses.replace(four, reference_images=[str(p) for p in pictures[:2]], audio=False)
        job = studio.submit(two, provider="veo")
        assert job.cost_estimate == pytest.approx(8 * 0.20)  # silent: Google's lower rate
        kept = studio.store.require(job.id).params
        assert kept["reference_images"] == [str(p) for p in pictures[:2]] and kept["audio"] is False
        assert kept["reference_image_names"] == ["product-0.png", "product-1.png"]
        assert "bytes" not in repr(kept).lower() and len(repr(kept)) < 1000  # paths, not pictures
        assert studio.tracker.run_until_idle(timeout=60)
        assert studio.store.require(job.id).status is JobStatus.COMPLETED

        again = studio.retry(job.id)
        assert again.cost_estimate == pytest.approx(8 * 0.20)
        first, second = (r.body for r in fake.creates(":predictLongRunning"))
        assert second["instances"][0]["referenceImages"] == first["instances"][0]["referenceImages"]
        assert len(second["instances"][0]["referenceImages"]) == 2
        assert first["parameters"]["generateAudio"] is second["parameters"]["generateAudio"] is False
        takes = studio.takes_of(job.id, 2)
        assert all(t.reference_images == two.reference_images and t.audio is False for t in takes)


def test_the_pipeline_api_orders_a_silent_veo_take_priced_so(studio: Studio, tmp_path: Path) -> None:
    """`audio: false` in an order is sent to Veo as chosen and priced at the silent rate; a word that is not a
    yes or a no is refused before anything is sent."""
    from dailies.errors import ValidationError
    from dailies.pipeline import Pipeline, body_digest

    with FakeVertexVeo() as fake:
        define_veo(studio, fake, tmp_path)
        pipeline = Pipeline(studio)
        base = {"prompt": "a tram at night", "provider": "veo", "model": "veo-3.1-generate-001", "size": "1280x720",
                "seconds": 6}
        with pytest.raises(ValidationError, match="audio is true or false"):
            pipeline.parse({**base, "audio": "maybe"})
        silent = {**base, "audio": False}
        job, cost, made = pipeline.order(pipeline.parse(silent), None, body_digest(silent, None))
        assert made and cost == pytest.approx(6 * 0.20) and job.params["audio"] is False
        assert fake.creates(":predictLongRunning")[0].body["parameters"]["generateAudio"] is False
        assert pipeline.parse({**base, "audio": "on"}).request.audio is True
        assert pipeline.parse(base).request.audio is True  # left out: sound, as priced
