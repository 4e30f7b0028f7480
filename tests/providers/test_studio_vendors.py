"""The studio end to end with native vendors: submit, follow, download, review and delete, through the
real SDKs and the real tracker, store and media folder, against the local vendor fakes.

`ProviderRegistry` has no public way to add a provider built outside it yet (the registry by kind is
wired into `studio.py` at merge), so the providers are put in with `monkeypatch.setitem` on its table.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from dailies.config import Environment
from dailies.jobs import JobKind, JobRequest, JobStatus
from dailies.media import probe_video, sha256_file
from dailies.providers import registry
from dailies.studio import Studio
from dailies.tracker import PollPolicy
from tests.fakes.fal import KEY as FAL_KEY
from tests.fakes.fal import FakeFal
from tests.fakes.google import KEY as VEO_KEY
from tests.fakes.google import FakeVertexVeo
from tests.fakes.runway import KEY as RUNWAY_KEY
from tests.fakes.runway import FakeRunway

FAST = PollPolicy(first=0.05, growth=1.0, cap=0.1, floor=0.02, unconfirmed_grace=0.5)


@pytest.fixture
def studio(isolated_home: Path) -> Iterator[Studio]:
    made = Studio(Environment(home=isolated_home))
    made.tracker.policy = FAST
    yield made
    made.close()


def add(studio: Studio, monkeypatch: pytest.MonkeyPatch, name: str, kind: str, base_url: str, key: str) -> None:
    variable = registry.kind(kind).key_variables[0]
    provider = registry.build(name, {"kind": kind, "base_url": base_url}, {variable: key}.get)
    monkeypatch.setitem(studio.providers._providers, name, provider)
    monkeypatch.setitem(studio.providers._prices, name, registry.prices(kind))


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
        job = studio.submit(JobRequest("a paper boat in rain", "fal-ai/veo3", "720x1280", 8), provider="fal")
        assert job.remote_id is None and job.error and job.error.code == "unconfirmed"
        assert studio.tracker.run_until_idle(timeout=30)

        final = studio.store.require(job.id)  # fal cannot list its requests: the job may exist, so a person looks
        assert final.status is JobStatus.NEEDS_LOOK and "not sent again" in final.error.message
        assert len(fake.creates("/fal-ai/veo3")) == 1 and len(fake.jobs) == 1


def test_a_finished_fal_take_is_deleted_here_though_fal_keeps_it(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeFal() as fake:
        add(studio, monkeypatch, "fal", "fal", fake.base_url, FAL_KEY)
        job = studio.submit(JobRequest("a paper boat in rain", "fal-ai/kling-video/v2.1/master", "720x1280", 5),
                            provider="fal")
        assert studio.tracker.run_until_idle(timeout=60)
        folder = studio.media.job_dir(job.id)
        assert studio.store.require(job.id).status is JobStatus.COMPLETED and folder.exists()

        studio.delete(job.id)  # fal answers the cancel with ALREADY_COMPLETED: nothing to delete there
        assert studio.store.get(job.id) is None and not folder.exists()
        assert [r.method for r in fake.requests if r.path.endswith("/cancel")] == ["PUT"]


def test_a_veo_take_is_extended_from_the_studio(studio: Studio, monkeypatch: pytest.MonkeyPatch) -> None:
    """Extension is where Veo differs: the finished video goes back to Veo, and a new take comes home."""
    with FakeVertexVeo() as fake:
        add(studio, monkeypatch, "veo", "google", fake.base_url, VEO_KEY)
        first = studio.submit(JobRequest("a tram at night", "veo-3.1-fast-generate-001", "1280x720", 4),
                              provider="veo")
        assert studio.tracker.run_until_idle(timeout=60)
        assert studio.store.require(first.id).status is JobStatus.COMPLETED

        extension = studio.submit(studio.request_from(first.id, JobKind.EXTEND, "the tram turns a corner", 7),
                                  provider="veo")
        assert studio.tracker.run_until_idle(timeout=60)
        done = studio.store.require(extension.id)
        assert done.status is JobStatus.COMPLETED, done.error
        assert done.source_job_id == first.id and done.cost_estimate == pytest.approx(7 * 0.15)
        sent = fake.creates(":predictLongRunning")[1].body["instances"][0]
        first_video = studio.media.resolve(studio.store.require(first.id).files["video"].path)
        assert base64.b64decode(sent["video"]["bytesBase64Encoded"]) == first_video.read_bytes()
        assert probe_video(studio.media.resolve(done.files["video"].path)).codec == "h264"
