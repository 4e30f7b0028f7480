"""The core against a real engine on loopback: real HTTP, a real TinyDB file, real MP4s on disk."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from PIL import Image
from until import wait_until

from dailies.client import VideosClient
from dailies.config import Environment, Settings, SettingsFile
from dailies.errors import BadRequestError, BudgetExceeded, ModerationBlocked, NotFoundError, ValidationError
from dailies.jobs import JobKind, JobRequest, JobStatus
from dailies.media import probe_video, sha256_file
from dailies.store import JobStore
from dailies.studio import Studio
from dailies.tracker import PollPolicy

ENGINE_MODEL = "dailies-preview"


def make_studio(home: Path, base_url: str, transport: httpx.BaseTransport | None = None, **settings) -> Studio:
    env = Environment(home=home)
    SettingsFile(home / "settings.json").save(Settings(**settings))
    return Studio(env, engine_base_url=base_url, transport=transport)


def req(prompt: str = "a lighthouse at golden hour, slow pan left", **kwargs) -> JobRequest:
    return JobRequest(**{"prompt": prompt, "model": ENGINE_MODEL, "size": "720x1280", "seconds": 4, **kwargs})


def assert_files_verified(studio: Studio, job_id: str) -> None:
    job = studio.store.require(job_id)
    assert job.status is JobStatus.COMPLETED, (job.status, job.error)
    assert set(job.files) == {"video", "thumbnail", "spritesheet"}
    for record in job.files.values():
        path = studio.media.resolve(record.path)
        assert path.stat().st_size == record.size
        assert sha256_file(path) == record.sha256
    info = probe_video(studio.media.resolve(job.files["video"].path))
    assert (info.width, info.height, info.codec) == (720, 1280, "h264")
    assert info.duration == pytest.approx(job.seconds, abs=0.2)


@pytest.mark.slow
def test_client_speaks_every_endpoint_of_the_engine(engine, tmp_path: Path) -> None:
    client = VideosClient(engine.base_url)
    models = [m["id"] for m in client.list_models()]
    assert models and any("preview" in m for m in models)

    created = [client.create(prompt=f"take {i} of a red kite", model=ENGINE_MODEL, seconds=4) for i in range(3)]
    assert all(v["status"] in ("queued", "in_progress") for v in created)
    ids = {v["id"] for v in created}
    assert ids <= {v["id"] for v in client.list_all(limit=1)}, "pagination reaches every video"

    wait_until(lambda: client.retrieve(created[0]["id"])["status"] == "completed", 60, "the first video to complete")
    first = created[0]["id"]
    for variant, magic in (("video", b"ftyp"), ("thumbnail", b"WEBP"), ("spritesheet", b"\xff\xd8")):
        record = client.download(first, variant, tmp_path / variant)
        head = (tmp_path / variant).read_bytes()[:12]
        assert magic in head and record.size == (tmp_path / variant).stat().st_size

    remix = client.remix(first, prompt="the same kite at night, neon")
    assert remix["remixed_from_video_id"] == first
    extension = client.extend(prompt="the kite flies on", seconds=4, video=first)
    upload = ("clip.mp4", (tmp_path / "video").read_bytes(), "video/mp4")
    edit = client.edit(prompt="black and white", video=upload)
    assert extension["id"] != edit["id"]
    character = client.create_character(name="Kite", video=upload)
    assert client.get_character(character["id"])["name"] == "Kite"

    assert client.delete(first)["deleted"] is True
    with pytest.raises(NotFoundError):
        client.retrieve(first)
    with pytest.raises(BadRequestError) as bad:
        client.create(prompt="x", model=ENGINE_MODEL, size="640x480")
    assert bad.value.param == "size" and "720x1280" in bad.value.message


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_submitted_job_ends_with_verified_files_on_disk(engine, isolated_home: Path) -> None:
    studio = make_studio(isolated_home, engine.base_url)
    reference = isolated_home / "ref.png"
    Image.new("RGB", (720, 1280), (200, 120, 40)).save(reference)
    job = studio.submit(req(reference_path=str(reference), seed=7))
    assert job.remote_id and job.cost_estimate == 0
    assert studio.tracker.run_until_idle(timeout=90)
    assert_files_verified(studio, job.id)
    assert studio.store.require(job.id).params["seed"] == 7


@pytest.mark.slow
def test_jobs_resume_after_a_tracker_restart(tmp_path: Path, isolated_home: Path) -> None:
    """Several jobs, the tracker stopped midway and a new process's tracker started on the same files:
    every job ends completed with verified files or failed with the server's reason."""
    from dailies.engine import EngineConfig, Faults, serve_engine

    config = EngineConfig(
        data_dir=tmp_path / "engine", workers=2, min_job_s=2.0, faults=Faults(blocked_terms=("volcano",))
    )
    with serve_engine(config) as running:
        studio = make_studio(isolated_home, running.base_url)
        prompts = ["a harbour at dawn", "neon alley, handheld", "a volcano erupting at night", "snowy forest, zoom in"]
        jobs = [studio.submit(req(p)) for p in prompts]
        studio.start()
        wait_until(
            lambda: any(studio.store.require(j.id).status is JobStatus.IN_PROGRESS for j in jobs),
            60,
            "the tracker to see a job in progress",
        )
        studio.close()  # the first process goes away with jobs still running
        assert any(studio.store.require(j.id).is_active for j in jobs)

        second = Studio(Environment(home=isolated_home), engine_base_url=running.base_url)
        assert {j.id for j in second.store.all()} == {j.id for j in jobs}
        assert second.tracker.run_until_idle(timeout=120)
        for job in jobs:
            final = second.store.require(job.id)
            if "volcano" in job.prompt:
                assert final.status is JobStatus.FAILED
                assert final.error and final.error.code == "moderation_blocked"
            else:
                assert_files_verified(second, job.id)
        second.close()


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_restart_fetches_missing_files_of_completed_jobs(engine, isolated_home: Path) -> None:
    studio = make_studio(isolated_home, engine.base_url)
    job = studio.submit(req())
    assert studio.tracker.run_until_idle(timeout=60)
    thumb = studio.media.resolve(studio.store.require(job.id).files["thumbnail"].path)
    thumb.unlink()
    studio.close()
    again = Studio(Environment(home=isolated_home), engine_base_url=engine.base_url)
    assert again.tracker.resume() == 1
    assert again.tracker.run_until_idle(timeout=60)
    assert_files_verified(again, job.id)


@pytest.mark.slow
def test_a_job_past_its_deadline_times_out_and_can_be_rechecked(tmp_path: Path, isolated_home: Path) -> None:
    from dailies.engine import EngineConfig, serve_engine

    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", min_job_s=1.5)) as running:
        studio = make_studio(isolated_home, running.base_url)
        studio.tracker.policy = PollPolicy(deadline=0.3, first=0.5)
        job = studio.submit(req())
        studio.tracker.run_until_idle(timeout=10)
        timed_out = studio.store.require(job.id)
        assert timed_out.status is JobStatus.TIMED_OUT and "re-check" in timed_out.error.message
        studio.tracker.policy = PollPolicy(deadline=60)
        studio.takes.recheck(job.id)
        assert studio.tracker.run_until_idle(timeout=60)
        assert_files_verified(studio, job.id)


@pytest.mark.slow
def test_remix_extend_and_edit_keep_their_lineage(engine, isolated_home: Path) -> None:
    studio = make_studio(isolated_home, engine.base_url)
    source = studio.submit(req("a paper boat on a pond, orbit"))
    assert studio.tracker.run_until_idle(timeout=60)
    remix = studio.submit(studio.request_from(source.id, JobKind.REMIX, "a paper boat on a pond at sunset"))
    extension = studio.submit(studio.request_from(source.id, JobKind.EXTEND, "the boat drifts on", seconds=4))
    edit = studio.submit(studio.request_from(source.id, JobKind.EDIT, "black and white, mirror"))
    assert studio.tracker.run_until_idle(timeout=90)
    for job in (remix, extension, edit):
        assert studio.store.require(job.id).status is JobStatus.COMPLETED
    assert studio.store.require(extension.id).seconds == 8, "an extension reports the stitched total"
    assert [j.id for j in studio.store.lineage(edit.id)] == [source.id, remix.id, extension.id, edit.id]


def test_refused_requests_send_nothing_and_write_nothing(engine, isolated_home: Path) -> None:
    studio = make_studio(isolated_home, engine.base_url, daily_budget_usd=1.0)
    client = VideosClient(engine.base_url)
    refused = [
        (req("   "), ValidationError),
        (req("x" * 5000), ValidationError),
        (req(size="1792x1024"), ValidationError),
        (req(seconds=5), ValidationError),
        (req("a scene full of gore"), ModerationBlocked),
        (req(kind=JobKind.REMIX, source_job_id="job_doesnotexist"), ValidationError),
    ]
    for request, error in refused:
        with pytest.raises(error):
            studio.submit(request)
    assert len(studio.store) == 0
    assert list(client.list_all()) == []
    assert JobStore(isolated_home / "jobs.json").all() == [], "nothing refused was written to the store"


def test_the_budget_refuses_a_paid_submit_that_would_exceed_it(engine, isolated_home: Path) -> None:
    """A priced provider (the engine behind a `remote` URL, with published rates) and a $1 budget."""
    env = Environment(home=isolated_home, base_url=engine.base_url, api_key=None, provider="remote")
    SettingsFile(isolated_home / "settings.json").save(Settings(daily_budget_usd=1.0, rates={"dailies-preview": 0.1}))
    studio = Studio(env, engine_base_url=engine.base_url)
    first = studio.submit(req(seconds=8))  # $0.80
    assert first.cost_estimate == pytest.approx(0.8)
    with pytest.raises(BudgetExceeded):
        studio.submit(req(seconds=4))  # would make $1.20
    assert len(studio.store) == 1
    assert studio.preflight(req(seconds=4)).over_budget


def test_a_create_whose_answer_is_lost_is_found_again_not_sent_twice(engine, isolated_home: Path) -> None:
    """The server creates the job, the answer never arrives: the job is adopted, not resent."""

    class LoseCreateAnswers(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            if request.method == "POST" and request.url.path.endswith("/videos"):
                response.read()
                raise httpx.ReadTimeout("answer lost", request=request)
            return response

    studio = make_studio(isolated_home, engine.base_url, transport=LoseCreateAnswers())
    job = studio.submit(req("a lost answer, static"))
    assert job.remote_id is None and job.error.code == "unconfirmed"
    assert studio.tracker.run_until_idle(timeout=60)
    final = studio.store.require(job.id)
    assert final.status is JobStatus.COMPLETED and final.remote_id
    assert len(list(VideosClient(engine.base_url).list_all())) == 1, "created exactly once"


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_key_is_never_written_to_the_data_folder(tmp_path: Path, isolated_home: Path) -> None:
    from dailies.engine import EngineConfig, serve_engine

    key = "sk-test-SENTINEL-7f3a9c2e51"
    with serve_engine(EngineConfig(data_dir=tmp_path / "engine", api_key=key)) as running:
        env = Environment(home=isolated_home, base_url=running.base_url, api_key=key, provider="remote")
        studio = Studio(env, engine_base_url=None)
        job = studio.submit(req())
        assert studio.tracker.run_until_idle(timeout=60)
        assert studio.store.require(job.id).status is JobStatus.COMPLETED
        studio.save_settings(studio.settings)
        assert key not in repr(env) and key not in repr(studio.provider())
        studio.close()
    for path in isolated_home.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path
