"""Starting a studio does not wait for anything that can happen later: the look for finished takes'
files runs in the background, and a take found missing is fetched again from there."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from test_core_integration import assert_files_verified, make_studio, req
from until import wait_until

from dailies.config import Environment
from dailies.jobs import Job, JobStatus, new_job_id
from dailies.studio import Studio


def a_take_that_lost_its_video(home: Path, base_url: str) -> tuple[Job, Path]:
    """A finished take made in a studio since closed, and the path of its video, now deleted."""
    studio = make_studio(home, base_url)
    job = studio.submit(req())
    assert studio.tracker.run_until_idle(timeout=60)
    video = studio.media.resolve(studio.store.require(job.id).files["video"].path)
    video.unlink()
    studio.close()
    return job, video


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_started_studio_fetches_a_missing_file_again_in_the_background(engine, isolated_home: Path) -> None:
    job, video = a_take_that_lost_its_video(isolated_home, engine.base_url)

    again = Studio(Environment(home=isolated_home), engine_base_url=engine.base_url)
    try:
        again.start()  # returns at once; the missing video is noticed by the tracker's own threads
        wait_until(lambda: video.is_file() and again.store.require(job.id).status is JobStatus.COMPLETED, 60,
                   "the missing video to be downloaded again")
        assert_files_verified(again, job.id)
    finally:
        again.close()


@pytest.mark.slow
def test_a_take_whose_files_were_removed_on_purpose_is_left_alone(engine, isolated_home: Path) -> None:
    studio = make_studio(isolated_home, engine.base_url)
    job = studio.submit(req())
    assert studio.tracker.run_until_idle(timeout=60)
    studio.store.update(job.id, files={}, params={"files_removed_at": 1.0})
    other = studio.submit(req("a red kite over a beach"))
    assert studio.tracker.run_until_idle(timeout=60)
    thumb = studio.media.resolve(studio.store.require(other.id).files["thumbnail"].path)
    thumb.unlink()
    studio.close()

    again = Studio(Environment(home=isolated_home), engine_base_url=engine.base_url)
    try:
        again.start()
        wait_until(lambda: thumb.is_file() and again.store.require(other.id).status is JobStatus.COMPLETED, 60,
                   "the missing thumbnail to be downloaded again")
        assert again.wait_started(30), "the look for missing files did not finish"
        removed = again.store.require(job.id)
        assert removed.status is JobStatus.COMPLETED and removed.files == {}
    finally:
        again.close()


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_studio_has_started_once_its_look_for_missing_files_is_over(engine, isolated_home: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Scripts and tests arrange jobs after `wait_started`: by then a take that had lost its file was sent back
    to download, and a take arranged afterwards is not taken for one (the look is over)."""
    from dailies.tracker import Resumer

    lost, video = a_take_that_lost_its_video(isolated_home, engine.base_url)
    look = Resumer.refetch_missing

    def slow_look(self: Resumer) -> None:
        time.sleep(1.0)
        look(self)

    monkeypatch.setattr(Resumer, "refetch_missing", slow_look)
    studio = Studio(Environment(home=isolated_home), engine_base_url=engine.base_url)
    try:
        studio.start()
        assert studio.wait_started(30)
        assert studio.store.require(lost.id).status is JobStatus.DOWNLOADING or video.is_file(), \
            "the take that lost its file was sent back to download before the start ended"
        arranged = studio.store.insert(Job(id=new_job_id(), provider="engine", model="sora-2", prompt="arranged",
                                           status=JobStatus.COMPLETED, progress=100))
        wait_until(lambda: video.is_file() and not studio.store.active(), 60, "the lost file to be fetched again")
        assert studio.store.require(arranged.id).status is JobStatus.COMPLETED
    finally:
        studio.close()


def test_the_media_folder_is_counted_in_the_background(tmp_path: Path) -> None:
    """Settings asks for the folder's size and gets the last count at once while one thread walks it."""
    from dailies.media import MediaLibrary, UsageCounter

    media = MediaLibrary(tmp_path / "media")
    for name, size in (("vid_a", 3000), ("vid_b", 5000)):
        media.job_dir(name).mkdir(parents=True)
        (media.job_dir(name) / "video.mp4").write_bytes(b"x" * size)
    walking, release = threading.Event(), threading.Event()
    walk = media.disk_usage

    def slow_walk() -> int:
        walking.set()
        release.wait(30)
        return walk()

    media.disk_usage = slow_walk  # type: ignore[method-assign]
    counter = UsageCounter(media)
    assert counter.size(1) == (None, False), "nothing counted yet, and the caller does not wait"
    assert walking.wait(10)
    assert counter.size(1) == (None, False), "one walk at a time"
    release.set()
    wait_until(lambda: counter.size(1)[1], 10, "the count")
    assert counter.size(1) == (8000, True)

    (media.job_dir("vid_a") / "thumbnail.webp").write_bytes(b"y" * 1000)
    release.clear()
    walking.clear()
    assert counter.size(2) == (8000, False), "the last count is shown while the new one runs"
    assert walking.wait(10)
    release.set()
    wait_until(lambda: counter.size(2)[1], 10, "the count at the new version")
    assert counter.size(2) == (9000, True)

    media.disk_usage = walk  # type: ignore[method-assign]
    assert UsageCounter(media).size(1, wait=10) == (9000, True), "a small folder is counted while the page waits"


def test_the_providers_answer_is_shared_and_asked_at_most_every_15_seconds(engine, isolated_home: Path) -> None:
    """Every page shows whether the provider answers; the app asks once at start, and pages reuse the answer."""
    now = [1000.0]
    studio = Studio(Environment(home=isolated_home), engine_base_url=engine.base_url, clock=lambda: now[0])
    try:
        provider = studio.provider()
        asked: list[float] = []
        real = provider.health
        provider.health = lambda: asked.append(now[0]) or real()  # type: ignore[method-assign]
        assert studio.health().ok and studio.health().ok
        now[0] += 14
        assert studio.health().ok
        assert asked == [1000.0], "one request for every page run within 15 s"
        now[0] += 2
        assert studio.health().ok and asked == [1000.0, 1016.0]
        assert studio.admin.test_connection(studio.active_provider_name).ok and len(asked) == 3, "the button asks now"
    finally:
        studio.close()
