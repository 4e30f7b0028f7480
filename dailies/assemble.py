"""Joining takes into one sequence, and measuring what a cut between two of them looks like.

Both are about the frames either side of a cut, so they live together:
- `join` writes one MP4 from clips in order. When every clip has the same codec parameters (codec,
  size, pixel format, time base, frame rate, and the same SPS/PPS) and nothing has to change inside
  a clip (no trim, no crossfade), the packets are copied as they are: no decode, no quality lost, a
  few milliseconds per clip. Otherwise every frame is decoded and encoded again (H.264, yuv420p, the
  first clip's size and 24 fps), which is also how a crossfade is drawn.
- `cut_delta_e` is the mean colour difference (CIE76 ΔE in CIELAB) between the last frame of one
  clip and the first of the next: about 1-3 for a cut the eye does not see, 10 and more for a jump
  in light or grade.
Only the video stream is kept; sound is not joined yet.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

__all__ = ["Clip", "JoinResult", "cut_delta_e", "first_frame", "join", "last_frame", "mean_delta_e"]

FPS = 24
DELTA_E_WIDTH = 160
"""Frames are compared at this width: ΔE of a whole frame does not need more, and it keeps a board fast."""


@dataclass(frozen=True)
class Clip:
    """A video file to join, from `start` seconds (an extension's new part starts after its source)."""

    path: Path
    start: float = 0.0


@dataclass(frozen=True)
class JoinResult:
    path: Path
    method: str
    """"copy" (packets copied as they are) or "reencode"."""
    duration: float
    frames: int
    reason: str
    """Why the method was chosen, in a sentence (shown beside the assembly)."""


@dataclass(frozen=True)
class _Params:
    codec: str
    width: int
    height: int
    pix_fmt: str
    time_base: Fraction
    rate: Fraction | None
    extradata: bytes


def _params(path: Path) -> _Params:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        cc = stream.codec_context
        return _Params(cc.name, cc.width, cc.height, str(cc.pix_fmt), Fraction(stream.time_base),
                       Fraction(stream.average_rate) if stream.average_rate else None, bytes(cc.extradata or b""))


def copy_refusal(clips: Sequence[Clip], crossfade: float = 0.0) -> str | None:
    """Why the clips cannot be joined by copying packets, or None when they can."""
    if crossfade > 0:
        return "a crossfade draws new frames"
    if any(clip.start > 0 for clip in clips):
        return "an extension is cut after its source"
    first = _params(clips[0].path)
    for clip in clips[1:]:
        other = _params(clip.path)
        if other != first:
            differs = [name for name in first.__dataclass_fields__ if getattr(first, name) != getattr(other, name)]
            return f"{clip.path.name} differs from the first clip in {', '.join(differs)}"
    return None


def join(clips: Sequence[Clip], out: Path, *, crossfade: float = 0.0, force_reencode: bool = False) -> JoinResult:
    """Write the clips in order to `out` (written beside it first, then renamed, so it is whole or absent)."""
    if not clips:
        raise ValueError("nothing to join: no clips")
    refusal = "asked to re-encode" if force_reencode else copy_refusal(clips, crossfade)
    tmp = out.with_name(f".{out.name}.part")
    try:
        if refusal is None:
            frames, duration = _copy(clips, tmp)
            method, reason = "copy", "every clip has the same codec parameters, so packets were copied"
        else:
            frames, duration = _reencode(clips, tmp, crossfade)
            method, reason = "reencode", f"re-encoded: {refusal}"
        os.replace(tmp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return JoinResult(out, method, duration, frames, reason)


def _copy(clips: Sequence[Clip], out: Path) -> tuple[int, float]:
    """Concatenate by copying packets, each clip's timestamps moved past the end of the one before."""
    frames = 0
    offset = 0  # in the clips' (shared) time base
    with av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        ostream = None
        time_base = None
        for clip in clips:
            with av.open(str(clip.path)) as source:
                istream = source.streams.video[0]
                if ostream is None:
                    ostream = output.add_stream_from_template(istream)
                    time_base = istream.time_base
                end = offset
                start = None
                for packet in source.demux(istream):
                    if packet.dts is None or packet.pts is None:
                        continue  # the demuxer's empty packet at the end
                    if start is None:
                        start = packet.pts
                    packet.pts += offset - start
                    packet.dts += offset - start
                    end = max(end, packet.pts + (packet.duration or 0))
                    packet.stream = ostream
                    output.mux(packet)
                    frames += 1
                offset = end
    return frames, float(offset * time_base) if time_base is not None else 0.0


def _reencode(clips: Sequence[Clip], out: Path, crossfade: float) -> tuple[int, float]:
    """Decode every clip and encode one stream, blending `crossfade` seconds across each cut."""
    first = _params(clips[0].path)
    width, height = first.width // 2 * 2, first.height // 2 * 2
    overlap = max(0, round(crossfade * FPS))
    with av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        stream = output.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20", "g": str(FPS * 2)}
        count = 0

        def write(rgb: np.ndarray) -> None:
            nonlocal count
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts = count
            for packet in stream.encode(frame):
                output.mux(packet)
            count += 1

        tail: deque[np.ndarray] = deque()
        for index, clip in enumerate(clips):
            incoming = _frames(clip, width, height)
            if index and tail:  # the last frames of the clip before dissolve into this one's first
                held = list(tail)
                tail.clear()
                for i, before in enumerate(held):
                    after = next(incoming, None)
                    t = (i + 1) / (len(held) + 1)
                    write(before if after is None else
                          (before.astype(np.float32) * (1 - t) + after.astype(np.float32) * t).astype(np.uint8))
            for rgb in incoming:
                tail.append(rgb)
                if len(tail) > overlap:
                    write(tail.popleft())
        while tail:
            write(tail.popleft())
        for packet in stream.encode():
            output.mux(packet)
    return count, count / FPS


def _frames(clip: Clip, width: int, height: int) -> Iterator[np.ndarray]:
    """A clip's frames from `clip.start` on, as RGB at the given size."""
    with av.open(str(clip.path)) as container:
        for frame in container.decode(video=0):
            if frame.time is not None and frame.time < clip.start - 0.5 / FPS:
                continue
            yield frame.reformat(width=width, height=height, format="rgb24").to_ndarray()


# -- frames either side of a cut ----------------------------------------------------------------------


def first_frame(path: Path, start: float = 0.0) -> np.ndarray:
    """The first frame (from `start` seconds) as RGB."""
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            if frame.time is None or frame.time >= start - 0.5 / FPS:
                return frame.to_ndarray(format="rgb24")
    raise ValueError(f"{path.name} has no frame")


def last_frame(path: Path) -> np.ndarray:
    """The last frame as RGB; seeks near the end rather than decoding the whole clip."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        last = None
        if stream.duration and stream.time_base:
            near_end = max(0, int(stream.duration - 1 / stream.time_base))  # a second before the end
            with contextlib.suppress(av.FFmpegError):
                container.seek(near_end, stream=stream, backward=True)
        for frame in container.decode(stream):
            last = frame
        if last is None:
            raise ValueError(f"{path.name} has no frame")
        return last.to_ndarray(format="rgb24")


def _lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0-255) to CIELAB (D65)."""
    c = rgb.astype(np.float32) / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]], np.float32
    ).T
    xyz /= np.array([0.95047, 1.0, 1.08883], np.float32)
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def _small(rgb: np.ndarray, width: int = DELTA_E_WIDTH, height: int | None = None) -> np.ndarray:
    from PIL import Image

    image = Image.fromarray(rgb)
    height = height or max(1, round(width * image.height / image.width))
    return np.asarray(image.resize((width, height), Image.BILINEAR))


def mean_delta_e(a: np.ndarray, b: np.ndarray) -> float:
    """Mean CIE76 ΔE between two RGB frames (the second is scaled to the first's shape)."""
    small_a = _small(a)
    small_b = _small(b, small_a.shape[1], small_a.shape[0])
    return float(np.linalg.norm(_lab(small_a) - _lab(small_b), axis=-1).mean())


def cut_delta_e(before: Clip, after: Clip) -> float:
    """ΔE across the cut from `before` to `after`: its last frame against the other's first."""
    return mean_delta_e(last_frame(before.path), first_frame(after.path, after.start))
