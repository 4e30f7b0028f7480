"""A take's real length: probed once from its verified file, kept on the file record, shown on its card.

An 8 s extension of a 4 s clip came back from the engine as 7.92 s (its first part's frames all sat at
time 0) while the card said "8s"; a provider's file can differ from what was asked. The card shows the
length probed from the file. These run the engine on loopback, the tracker and the real store file.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import av
import pytest
from streamlit.testing.v1 import AppTest

from dailies.jobs import FileRecord, Job, JobKind, JobRequest, JobStatus
from dailies.media import probe_video
from dailies.store import JobStore
from dailies.studio import Studio


def card(job_id: str) -> None:
    from components.job_card import job_card
    from components.runtime import studio

    job_card(studio().store.require(job_id), key="t", actions=False)


@pytest.mark.slow
def test_an_extension_card_shows_the_length_of_its_file(engine, isolated_home: Path, monkeypatch) -> None:
    monkeypatch.setenv("DAILIES_ENGINE_URL", engine.base_url)
    import streamlit as st

    from components.runtime import close_studio, studio

    st.cache_resource.clear()
    try:
        shared: Studio = studio()
        source = shared.submit(JobRequest(prompt="a paper boat on a pond", model="dailies-preview",
                                          size="720x1280", seconds=4))
        assert shared.tracker.run_until_idle(timeout=60)
        extension = shared.submit(shared.request_from(source.id, JobKind.EXTEND, "the boat drifts on", seconds=4))
        assert shared.tracker.run_until_idle(timeout=90)
        done = shared.store.require(extension.id)
        assert done.status is JobStatus.COMPLETED and done.seconds == 8
        video = shared.media.resolve(done.files["video"].path)
        probed = probe_video(video).duration
        assert probed == pytest.approx(8.0, abs=1 / 24), "the extension plays its whole length"
        with av.open(str(video)) as container:
            times = sorted(float(frame.time) for frame in container.decode(video=0))
        assert all(b > a for a, b in itertools.pairwise(times)), "no frames stacked at one time"
        assert done.files["video"].duration == pytest.approx(probed, abs=0.001)
        assert done.duration == pytest.approx(probed, abs=0.001)
        assert done.files["thumbnail"].duration is None

        shared.store.flush()  # kept in the TinyDB file, as a restart reads it
        assert JobStore(shared.store.path).require(extension.id).files["video"].duration == done.duration

        at = AppTest.from_function(card, args=(extension.id,), default_timeout=30).run()
        assert not at.exception, [e.value for e in at.exception]
        (line,) = [c.value for c in at.caption if "extend" in c.value]
        assert f" · {round(probed, 2):g}s · " in line, line

        # A file shorter than asked (as a provider may return): the card says the file's length.
        record = done.files["video"]
        shared.store.update(extension.id, files={**done.files, "video": FileRecord(
            record.path, record.size, record.sha256, record.content_type, duration=7.92)})
        at = AppTest.from_function(card, args=(extension.id,), default_timeout=30).run()
        (line,) = [c.value for c in at.caption if "extend" in c.value]
        assert " · 7.92s · " in line and " · 8s · " not in line, line
    finally:
        close_studio()
        st.cache_resource.clear()


def test_a_record_kept_before_durations_falls_back_to_the_seconds_asked() -> None:
    old = {"id": "job_old", "provider": "engine", "model": "m", "prompt": "p", "kind": "extend", "seconds": 8,
           "status": "completed", "files": {"video": {"path": "job_old/video.mp4", "size": 10, "sha256": "ab"}}}
    job = Job.from_dict(old)
    assert job.files["video"].duration is None
    assert job.duration == 8.0
    assert Job.from_dict(job.to_dict()).duration == 8.0
    kept = Job.from_dict({**old, "files": {"video": {**old["files"]["video"], "duration": 7.92}}})
    assert kept.duration == 7.92
    assert FileRecord("a", 1, "b").to_dict()["duration"] is None
