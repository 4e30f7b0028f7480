"""Takes to review: real engine renders (24 fps) and a 30 fps MP4 made from one, in a real store and media folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import av
import numpy as np
from until import wait_until

from dailies.config import Environment
from dailies.jobs import FileRecord, Job, JobKind, JobRequest, JobStatus, new_job_id
from dailies.media import MediaLibrary, sha256_file
from dailies.store import JobStore
from dailies.studio import Studio


def finished(studio: Studio, job: Job, timeout: float = 90) -> Job:
    wait_until(lambda: (j := studio.store.get(job.id)) is not None and j.status is JobStatus.COMPLETED and j.has_video,
               timeout, f"take {job.id} to finish")
    return studio.store.require(job.id)


def studio_with_takes(home: Path, base_url: str) -> tuple[Studio, Job, Job]:
    """A started studio with a finished 4 s take and a finished remix of it (a version stack of two)."""
    studio = Studio(Environment(home=home), engine_base_url=base_url)
    studio.start()
    first = finished(studio, studio.submit(JobRequest(prompt="a red kite over dunes", model="sora-2", seconds=4,
                                                      size="720x1280")))
    remix = finished(studio, studio.submit(JobRequest(prompt="a red kite over dunes, larger", model="sora-2", seconds=4,
                                                      size="720x1280",
                                                      kind=JobKind.REMIX, source_job_id=first.id)))
    return studio, first, remix


def write_h264(out: Path, pictures: Iterable[np.ndarray], fps: int) -> None:
    """Encode RGB pictures (all of one size) as an H.264 MP4 in yuv420p, as browsers play it: a frame each."""
    with av.open(str(out), "w", format="mp4") as output:
        stream = None
        for i, picture in enumerate(pictures):
            if stream is None:
                stream = output.add_stream("libx264", rate=fps)
                stream.height, stream.width = picture.shape[:2]
                stream.pix_fmt = "yuv420p"
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            output.mux(stream.encode(frame))
        if stream is not None:
            output.mux(stream.encode())


def reencode(source: Path, out: Path, fps: int, frames: int) -> int:
    """Write `frames` frames of `source` (looped) to `out` at `fps`; the count written."""
    pictures = []
    with av.open(str(source)) as container:
        for frame in container.decode(container.streams.video[0]):
            pictures.append(frame.to_ndarray(format="rgb24"))
    write_h264(out, (pictures[i % len(pictures)] for i in range(frames)), fps)
    return frames


def take_at(studio: Studio, video: Path, prompt: str = "a 30 fps take") -> Job:
    """A finished take in the studio's store whose video is `video` (copied into the media folder)."""
    return store_take(studio.store, studio.media, video, prompt)


def tiny_video(out: Path, fps: int = 24, frames: int = 48, size: tuple[int, int] = (64, 48)) -> Path:
    """A small MP4 whose frames differ (a bar moving across), for tests about records rather than pictures."""
    width, height = size

    def picture(i: int) -> np.ndarray:
        drawn = np.zeros((height, width, 3), dtype=np.uint8)
        drawn[:, (i * 4) % width: (i * 4) % width + 4] = 255
        return drawn

    write_h264(out, (picture(i) for i in range(frames)), fps)
    return out


def store_take(store: JobStore, media: MediaLibrary, video: Path, prompt: str = "a take") -> Job:
    """A finished take in `store` whose video is a copy of `video` in `media`."""
    job = Job(id=new_job_id(), provider="engine", model="sora-2", prompt=prompt, size="720x1280", seconds=4,
              status=JobStatus.COMPLETED)
    dest = media.path_for(job.id, "video", "video/mp4")
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(video, dest)
    job.files["video"] = FileRecord(path=media.relative(dest), size=dest.stat().st_size, sha256=sha256_file(dest),
                                    content_type="video/mp4")
    return store.insert(job)
