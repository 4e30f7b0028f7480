"""Reading video: the one place that opens a video file to read it (PyAV).

What a video is (its size, length, rate and codec), its frames one at a time, a frame by number, the
first and last frames, its sound, and a thumbnail. Whoever else reads a video (the tracker verifying a
download, boards joining takes, the review desk drawing notes, the engine taking a source) asks here;
only writers of video (the engine's renderer, `assemble.join`) open PyAV themselves.

PyAV is imported on first use, not with this module: the engine and the app start a little sooner,
and nothing notices.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from dailies.files import replaced_path
from dailies.jobs import FileRecord
from dailies.media.library import sha256_file

if TYPE_CHECKING:
    import av
    import numpy as np
    from PIL import Image


class NoVideoStream(ValueError):
    """The file opens but holds no picture (sound only, or an image container)."""


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    duration: float
    fps: float
    codec: str
    pix_fmt: str
    frames: int
    stated_frames: int = 0
    """The frame count the container states (0 when it states none); `frames` estimates one from the length
    then. Stated frames are the truth where timestamps run short of them."""


@dataclass(frozen=True)
class CodecParams:
    """What must match between clips for their packets to be joined as they are (`assemble.copy_refusal`)."""

    codec: str
    width: int
    height: int
    pix_fmt: str
    time_base: Fraction
    rate: Fraction | None
    extradata: bytes
    sound: tuple[str, int, str, str, bytes] | None
    """The audio stream's codec, sample rate, layout, sample format and extradata; None without sound."""


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Read a video's shape; raises ValueError (`NoVideoStream` for a file without picture) when it is not a
    playable video."""
    import av

    try:
        with _open(path) as container:
            if not container.streams.video:
                raise NoVideoStream(f"{Path(path).name} has no video stream")
            stream = container.streams.video[0]
            duration = (
                float(stream.duration * stream.time_base)
                if stream.duration
                else (container.duration / 1_000_000 if container.duration else 0.0)
            )
            fps = float(stream.average_rate or stream.guessed_rate or 0)
            return VideoInfo(
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                duration=duration,
                fps=fps,
                codec=stream.codec_context.name,
                pix_fmt=str(stream.codec_context.pix_fmt),
                frames=int(stream.frames or round(duration * fps)),
                stated_frames=int(stream.frames or 0),
            )
    except av.FFmpegError as exc:
        raise ValueError(f"{Path(path).name} is not a readable video: {exc}") from exc


def codec_params(path: str | os.PathLike[str]) -> CodecParams:
    with _open(path) as container:
        stream = container.streams.video[0]
        cc = stream.codec_context
        sound = None
        if container.streams.audio:
            ac = container.streams.audio[0].codec_context
            sound = (ac.name, ac.sample_rate, ac.layout.name, ac.format.name, bytes(ac.extradata or b""))
        return CodecParams(cc.name, cc.width, cc.height, str(cc.pix_fmt), Fraction(stream.time_base),
                           Fraction(stream.average_rate) if stream.average_rate else None,
                           bytes(cc.extradata or b""), sound)


def video_frames(path: str | os.PathLike[str]) -> Iterator[av.VideoFrame]:
    """The video's frames in the order a player shows them, decoded one at a time."""
    with _open(path) as container:
        yield from container.decode(video=0)


def sound_frames(path: str | os.PathLike[str]) -> Iterator[av.AudioFrame]:
    """The video's sound, decoded one frame at a time; nothing for a video without sound."""
    with _open(path) as container:
        if container.streams.audio:
            yield from container.decode(audio=0)


def first_frame(path: str | os.PathLike[str], start: float = 0.0) -> np.ndarray:
    """The first frame (from `start` seconds, less half a frame at 24 fps) as RGB."""
    with contextlib.closing(video_frames(path)) as frames:
        for frame in frames:
            if frame.time is None or frame.time >= start - 1 / 48:
                return frame.to_ndarray(format="rgb24")
    raise ValueError(f"{Path(path).name} has no frame")


def last_frame(path: str | os.PathLike[str], width: int | None = None, height: int | None = None) -> np.ndarray:
    """The last frame as RGB (scaled to `width` x `height` when given); seeks near the end rather than decoding
    the whole clip."""
    import av

    with _open(path) as container:
        stream = container.streams.video[0]
        last = None
        if stream.duration and stream.time_base:
            near_end = max(0, int(stream.duration - 1 / stream.time_base))  # a second before the end
            with contextlib.suppress(av.FFmpegError):
                container.seek(near_end, stream=stream, backward=True)
        for frame in container.decode(stream):
            last = frame
        if last is None:
            raise ValueError(f"{Path(path).name} has no frame")
        return last.to_ndarray(width=width, height=height, format="rgb24")


def frame_image(path: str | os.PathLike[str], index: int) -> Image.Image:
    """Frame number `index` (0-based, in the order a player shows them) of the video, as an RGB image."""
    return frame_images(path, [index])[index]


def frame_images(path: str | os.PathLike[str], indices: Iterable[int]) -> dict[int, Image.Image]:
    """The frames numbered `indices` (0-based) of the video, as RGB images, in one pass.

    Decoded from the start and counted, not sought by timestamp: a seek lands on a keyframe and a timestamp
    rounds, while a note at frame 37 must be drawn on frame 37. Takes are seconds long, so this is quick.
    ValueError when the video has no such frame.
    """
    import av

    wanted = set(indices)
    if any(i < 0 for i in wanted):
        raise ValueError("a frame number is never negative")
    found: dict[int, Image.Image] = {}
    try:
        with _open(path) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for number, frame in enumerate(container.decode(stream)):
                if number in wanted:
                    found[number] = frame.to_image()
                    if len(found) == len(wanted):
                        break
    except av.FFmpegError as exc:
        raise ValueError(f"{Path(path).name} is not a readable video: {exc}") from exc
    if missing := sorted(wanted - set(found)):
        raise ValueError(f"{Path(path).name} has no frame {missing[0]}")
    return found


def make_thumbnail(video: str | os.PathLike[str], dest: str | os.PathLike[str], *, width: int = 480) -> FileRecord:
    """A WEBP still from the video's first frame, for providers that serve no thumbnail of their own.

    Written like a download (temp file, rename) so a half-made thumbnail is never recorded.
    """
    import av

    dest = Path(dest)
    try:
        with contextlib.closing(video_frames(video)) as frames:
            frame = next(frames)
    except (av.FFmpegError, StopIteration) as exc:
        raise ValueError(f"{Path(video).name} has no frame to make a thumbnail from") from exc
    image = frame.to_image()
    image.thumbnail((width, width))
    with replaced_path(dest) as tmp:
        image.save(tmp, format="WEBP", quality=80)
    return FileRecord(path=str(dest), size=dest.stat().st_size, sha256=sha256_file(dest), content_type="image/webp")


def _open(path: str | os.PathLike[str]) -> av.container.InputContainer:
    import av

    return av.open(str(path))
