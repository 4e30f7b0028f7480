"""Each of the tracker's workers driven by itself, without the scheduler, against real parts: the engine on
loopback, a journal store file, the media folder, moto's S3 server. The test is the loop: it calls the worker's
public step and checks what the store, the files and the schedule say afterwards."""

from __future__ import annotations

import contextlib
import hashlib
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from s3_server import BUCKET, moto_s3, object_bytes, refuse_unknown_keys
from until import wait_until

from dailies.bucket import Bucket
from dailies.config import BucketSettings
from dailies.jobs import FileRecord, Job, JobKind, JobStatus, new_job_id
from dailies.media import MediaLibrary, sha256_file
from dailies.providers.openai_compat import OpenAICompatibleConfig, OpenAICompatibleProvider
from dailies.store import JobStore
from dailies.tracker import (
    Fetcher,
    Poller,
    PollPolicy,
    Reconciler,
    Resumer,
    SafetyNet,
    TrackerContext,
    Uploader,
)

MODEL = "dailies-preview"
FAST = PollPolicy(first=0.1, cap=0.3, unconfirmed_grace=30.0, safety_net=60.0, safety_cap=300.0)


@dataclass
class Parts:
    ctx: TrackerContext
    provider: OpenAICompatibleProvider
    now: list[float]
    """The context's clock: the real time unless a test moves it."""

    def made(self, prompt: str) -> dict:
        """A video made at the engine directly, as a create whose answer we never saw would have made it."""
        return self.provider.client.create(prompt=prompt, model=MODEL, size="720x1280", seconds=4)

    def finished(self, video: dict) -> None:
        wait_until(lambda: self.provider.client.retrieve(video["id"])["status"] == "completed", 60,
                   "the engine to finish the video")

    def job(self, prompt: str, **fields: object) -> Job:
        return self.ctx.store.insert(Job(id=new_job_id(), provider="engine", model=MODEL, prompt=prompt,
                                         size="720x1280", seconds=4, **fields))  # type: ignore[arg-type]


@pytest.fixture
def parts(shared_engine, tmp_path: Path) -> Iterator[Parts]:
    store = JobStore(tmp_path / "jobs.journal")
    provider = OpenAICompatibleProvider(OpenAICompatibleConfig("engine", shared_engine.base_url))
    now: list[float] = []
    ctx = TrackerContext.build(store, {"engine": provider}.__getitem__, MediaLibrary(tmp_path / "media"),
                               policy=FAST, clock=lambda: now[0] if now else time.time())
    yield Parts(ctx, provider, now)
    store.close()


def unique(words: str) -> str:
    return f"{words} {uuid.uuid4().hex[:8]}"  # the shared engine holds other tests' videos too


def assert_verified(ctx: TrackerContext, job: Job) -> None:
    assert job.status is JobStatus.COMPLETED, (job.status, job.error)
    assert set(job.files) == {"video", "thumbnail", "spritesheet"}
    for record in job.files.values():
        assert sha256_file(ctx.media.resolve(record.path)) == record.sha256
    assert job.files["video"].duration == pytest.approx(4, abs=0.2)


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_the_poller_follows_a_sent_job_until_its_files_are_here(parts: Parts) -> None:
    ctx = parts.ctx
    video = parts.made(unique("a kite over dunes"))
    job = parts.job("a kite", remote_id=video["id"])
    poller = Poller(ctx, Fetcher(ctx, Uploader(ctx, lambda: None)), SafetyNet(ctx))
    sched = ctx.schedule(job.id)

    def step() -> bool:
        nonlocal job
        if sched.next_at <= ctx.clock():
            current = ctx.store.require(job.id)
            if current.status is JobStatus.DOWNLOADING:  # a download that failed is the fetcher's again
                job = poller.fetch.download(current, sched)
            else:
                job = poller.poll(current, sched, ctx.clock())
        return not job.is_active

    wait_until(step, 60, "the poller to see the job through")
    assert_verified(ctx, ctx.store.require(job.id))
    assert ctx.stats.downloads == 1 and ctx.stats.errors == 0
    assert ctx.stats.per_job_requests[job.id] == sched.requests >= 1 + 3, "its polls and one request per file"


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_the_fetcher_alone_fetches_a_finished_video_and_fails_one_the_provider_lost(parts: Parts) -> None:
    ctx = parts.ctx
    fetcher = Fetcher(ctx, Uploader(ctx, lambda: None))
    video = parts.made(unique("a lighthouse, slow pan"))
    parts.finished(video)
    job = parts.job("a lighthouse", remote_id=video["id"], status=JobStatus.DOWNLOADING, progress=100)
    assert_verified(ctx, fetcher.download(job, ctx.schedule(job.id)))
    assert ctx.stats.downloads == 1

    lost = parts.job("gone", remote_id="video_" + uuid.uuid4().hex, status=JobStatus.DOWNLOADING)
    failed = fetcher.download(lost, ctx.schedule(lost.id))
    assert failed.status is JobStatus.FAILED and failed.error is not None and "could not be downloaded" in \
        failed.error.message


def a_finished_take(parts: Parts) -> Job:
    """A completed job with one verified file in the media folder (no engine needed to upload it)."""
    media = parts.ctx.media
    job_id = new_job_id()
    path = media.path_for(job_id, "video", "video/mp4")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + uuid.uuid4().bytes * 64)
    record = FileRecord(media.relative(path), path.stat().st_size, sha256_file(path), "video/mp4")
    return parts.ctx.store.insert(Job(id=job_id, provider="engine", model=MODEL, prompt="a take",
                                      status=JobStatus.COMPLETED, progress=100, files={"video": record}))


@contextlib.contextmanager
def a_refusing_bucket(parts: Parts, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Bucket, Job]]:
    """A bucket on a local S3 that refuses our keys, a finished take for it, and the test's clock set."""
    parts.now.append(1_000_000.0)
    with moto_s3(monkeypatch) as url:
        bucket = Bucket(BucketSettings(bucket=BUCKET, endpoint_url=url, prefix="takes/", region="us-east-1"))
        job = a_finished_take(parts)
        refuse_unknown_keys(url)
        yield url, bucket, job


def test_the_uploader_alone_retries_a_refusing_bucket_then_puts_the_take_up(parts: Parts,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = parts.ctx
    with a_refusing_bucket(parts, monkeypatch) as (url, bucket, job):
        uploads = Uploader(ctx, lambda: bucket)
        refused = uploads.upload(job.id)
        assert refused is not None and refused.status is JobStatus.COMPLETED, "complete here either way"
        assert "InvalidAccessKeyId" in refused.params["bucket_error"] and uploads.failing(job.id)
        with ctx.cond:
            assert uploads.due() == [], "the retry waits its backoff"
        parts.now[0] += FAST.first * FAST.growth + 1
        with ctx.cond:
            assert uploads.due() == [job.id]
            assert uploads.waiting_until() == [], "in flight now"

        httpx.post(f"{url}/moto-api/reset-auth", content=b"inf").raise_for_status()  # the keys are good again
        uploads.upload_safely(job.id)
        done = ctx.store.require(job.id)
        assert not uploads.failing(job.id) and "bucket_error" not in done.params
        video = done.files["video"]
        assert video.bucket_key == f"takes/{video.path}" and video.in_bucket
        assert hashlib.sha256(object_bytes(url, video.bucket_key)).hexdigest() == video.sha256
        assert ctx.stats.upload_errors == 1 and ctx.stats.uploads == 1


def test_a_failing_uploads_attempts_and_next_try_survive_a_restart(parts: Parts,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = parts.ctx
    with a_refusing_bucket(parts, monkeypatch) as (_, bucket, job):
        Uploader(ctx, lambda: bucket).upload(job.id)

        again = Uploader(ctx, lambda: bucket)  # a restart: nothing of the first in memory
        Resumer(ctx, again).resume(check_files=False)
        assert again.failing(job.id)
        with ctx.cond:
            assert again.due() == [], "the retry keeps its time across the restart"
        parts.now[0] += FAST.first * FAST.growth
        with ctx.cond:
            assert again.due() == [job.id]
        again.upload_safely(job.id)
        assert again.failing(job.id), "refused again"
        assert again.retries.entry(job.id)["attempts"] == 2, "the attempts before the restart count"  # type: ignore[index]


def test_the_reconciler_alone_adopts_the_video_an_unanswered_create_made(parts: Parts) -> None:
    ctx = parts.ctx
    prompt = unique("a harbour at dawn")
    video = parts.made(prompt)
    lost = parts.job(prompt)  # sent, its answer never came: no remote id
    on_wire = parts.job(unique("a harbour at dusk"))
    ctx.held.add(on_wire.id)  # its create is still on the wire: never looked for
    reconciler = Reconciler(ctx)

    assert reconciler.adopt(parts.provider, "engine") == {lost.id}
    adopted = ctx.store.require(lost.id)
    assert adopted.remote_id == video["id"] and adopted.params["adopted"] and adopted.status is JobStatus.QUEUED
    assert ctx.schedules[lost.id].next_at <= ctx.clock(), "asked about at once"
    assert reconciler.adopt(parts.provider, "engine") == set(), "no video is adopted twice"
    assert ctx.store.require(on_wire.id).remote_id is None

    never = parts.job(unique("a take the engine never made"))
    sched = ctx.schedule(never.id)
    looking = reconciler.unconfirmed(never, sched, never.created_at + 1)
    assert looking.status is JobStatus.QUEUED and sched.listed, "looked for, not there yet: looked for again"
    failed = reconciler.unconfirmed(looking, sched, never.created_at + FAST.unconfirmed_grace + 1)
    assert failed.status is JobStatus.FAILED and failed.error is not None and failed.error.code == "unconfirmed"


def test_the_resumer_alone_schedules_unfinished_jobs_and_sends_lost_files_back(parts: Parts) -> None:
    ctx = parts.ctx
    missing = FileRecord("job_gone/video.mp4", 10, "0" * 64, "video/mp4")
    running = parts.job("running", remote_id="video_running", status=JobStatus.IN_PROGRESS)
    lost = parts.job("lost its file", remote_id="video_lost", status=JobStatus.COMPLETED, files={"video": missing})
    assembly = parts.job("joined here", kind=JobKind.ASSEMBLE, status=JobStatus.COMPLETED, files={"video": missing})
    here = a_finished_take(parts)
    resumer = Resumer(ctx, Uploader(ctx, lambda: None))

    assert resumer.resume(check_files=False) == 1, "files are looked for in the background"
    assert set(ctx.schedules) == {running.id}
    assert resumer.files_missing(ctx.store.require(lost.id)) and not resumer.files_missing(here)

    resumer.refetch_missing()
    assert resumer.files_checked.is_set()
    assert ctx.store.require(lost.id).status is JobStatus.DOWNLOADING
    assert ctx.schedules[lost.id].next_at <= ctx.clock(), "sent back to download at once"
    gone = ctx.store.require(assembly.id)
    assert gone.status is JobStatus.FAILED and gone.error is not None and gone.error.code == "missing_file"
    assert ctx.store.require(here.id).status is JobStatus.COMPLETED
    assert resumer.resume() == 2, "both unfinished jobs, after a restart"


def test_the_safety_net_alone_puts_polls_off_while_deliveries_arrive(parts: Parts) -> None:
    ctx = parts.ctx
    parts.now.append(1_000_000.0)
    told = parts.job("told", remote_id="owner/alias/req_1", status=JobStatus.IN_PROGRESS)
    quiet = parts.job("quiet", remote_id="video_quiet", status=JobStatus.IN_PROGRESS)
    net = SafetyNet(ctx)
    sched = ctx.schedule(quiet.id)
    sched.asked_at = parts.now[0]
    assert not net.deferred(quiet, sched, parts.now[0]), "no deliveries: polled as usual"

    assert net.nudge("engine", "req_1", "completed") == told.id, "named by the last part of its remote id"
    assert ctx.schedules[told.id].pushed == "completed" and ctx.schedules[told.id].next_at == parts.now[0]
    assert net.nudge("engine", "video_elsewhere", "completed") is None
    assert net.pushing("engine") and not net.deferred(told, ctx.schedules[told.id], parts.now[0])

    parts.now[0] += 10
    assert net.deferred(quiet, sched, parts.now[0])
    assert sched.next_at == parts.now[0] - 10 + FAST.safety_net, "until the deliveries have been quiet a while"
    assert net.next_poll(quiet, 1.0) == parts.now[0] + FAST.safety_net

    net.missed_event(quiet, sched)  # a poll found it finished with no event: deliveries are not arriving
    assert not net.pushing("engine") and net.next_poll(quiet, 1.0) == parts.now[0] + 1.0


def test_the_package_says_what_it_offers() -> None:
    """What importers use (`Tracker`, `PollPolicy`) and the workers built from one context, nothing else."""
    import dailies.tracker

    assert set(dailies.tracker.__all__) == {
        "Tracker", "PollPolicy", "TrackerContext", "Schedule", "TrackerStats", "Poller", "Fetcher", "WrongContent",
        "Uploader", "UPLOAD_RETRY_CAP", "Reconciler", "Resumer", "SafetyNet"}
    assert all(hasattr(dailies.tracker, name) for name in dailies.tracker.__all__)
