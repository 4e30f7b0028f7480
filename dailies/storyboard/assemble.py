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
Sound is joined with the picture: copied along with it when every clip has the same, re-encoded
(AAC) otherwise, with silence for a clip that has none.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from dailies.files import replaced_path
from dailies.media import codec_params, first_frame, last_frame, probe_video, sound_frames, video_frames

__all__ = ["Clip", "JoinResult", "cut_delta_e", "join", "mean_delta_e"]

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


def copy_refusal(clips: Sequence[Clip], crossfade: float = 0.0) -> str | None:
    """Why the clips cannot be joined by copying packets, or None when they can."""
    if crossfade > 0:
        return "a crossfade draws new frames"
    if any(clip.start > 0 for clip in clips):
        return "an extension is cut after its source"
    first = codec_params(clips[0].path)
    for clip in clips[1:]:
        other = codec_params(clip.path)
        if other != first:
            differs = [name for name in first.__dataclass_fields__ if getattr(first, name) != getattr(other, name)]
            return f"{clip.path.name} differs from the first clip in {', '.join(differs)}"
    return None


def join(clips: Sequence[Clip], out: Path, *, crossfade: float = 0.0, force_reencode: bool = False) -> JoinResult:
    """Write the clips in order to `out` (written beside it first, then renamed, so it is whole or absent)."""
    if not clips:
        raise ValueError("nothing to join: no clips")
    refusal = "asked to re-encode" if force_reencode else copy_refusal(clips, crossfade)
    with replaced_path(out) as tmp:
        if refusal is None:
            frames, duration = _copy(clips, tmp)
            method, reason = "copy", "every clip has the same codec parameters, so packets were copied"
        else:
            frames, duration = _reencode(clips, tmp, crossfade)
            method, reason = "reencode", f"re-encoded: {refusal}"
    return JoinResult(out, method, duration, frames, reason)


def _copy(clips: Sequence[Clip], out: Path) -> tuple[int, float]:
    """Concatenate by copying packets, each clip's timestamps moved past the end of the one before.

    Sound (when every clip has the same) is moved by the same time as the picture, so it stays in
    sync; where a clip's sound runs past its picture, the overlap into the next clip is dropped.
    """
    frames = 0
    offset = Fraction(0)  # seconds: where the next clip starts
    last_sound_dts: int | None = None
    with av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        vout = aout = None
        for clip in clips:
            with av.open(str(clip.path)) as source:
                video = source.streams.video[0]
                audio = source.streams.audio[0] if source.streams.audio else None
                if vout is None:
                    vout = output.add_stream_from_template(video)
                    aout = output.add_stream_from_template(audio) if audio is not None else None
                vshift = round(offset / video.time_base) - (video.start_time or 0)
                ashift = round(offset / audio.time_base) - (audio.start_time or 0) if audio is not None else 0
                end = offset
                for packet in source.demux(*(s for s in (video, audio) if s is not None)):
                    if packet.dts is None or packet.pts is None:
                        continue  # the demuxer's empty packet at the end of a stream
                    if packet.stream is video:
                        packet.pts += vshift
                        packet.dts += vshift
                        end = max(end, (packet.pts + (packet.duration or 0)) * video.time_base)
                        packet.stream = vout
                        frames += 1
                    else:
                        packet.pts += ashift
                        packet.dts += ashift
                        if last_sound_dts is not None and packet.dts <= last_sound_dts:
                            continue
                        last_sound_dts = packet.dts
                        packet.stream = aout
                    output.mux(packet)
                offset = end
    return frames, float(offset)


SAMPLE_RATE = 48_000
AUDIO_FRAME = 1024


def _reencode(clips: Sequence[Clip], out: Path, crossfade: float) -> tuple[int, float]:
    """Decode every clip and encode one stream at 24 fps, blending `crossfade` seconds across each cut.

    With sound in any clip, the sound is re-encoded too (AAC, 48 kHz stereo): each clip's own for as
    long as its picture shows, silence for a clip without any.
    """
    first = codec_params(clips[0].path)
    width, height = first.width // 2 * 2, first.height // 2 * 2
    overlap = max(0, round(crossfade * FPS))
    lengths = [_frame_count(clip) for clip in clips]
    sound = any(codec_params(clip.path).sound for clip in clips)
    with av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"}) as output:
        stream = output.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20", "g": str(FPS * 2)}
        audio = output.add_stream("aac", rate=SAMPLE_RATE, layout="stereo") if sound else None
        count = 0
        samples = 0

        def write(rgb: np.ndarray) -> None:
            nonlocal count
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts = count
            for packet in stream.encode(frame):
                output.mux(packet)
            count += 1

        tail: deque[np.ndarray] = deque()
        for index, clip in enumerate(clips):
            if audio is not None:  # this clip's sound, for as long as its picture shows before the next cut
                shown = max(0, lengths[index] - (overlap if index < len(clips) - 1 else 0))
                samples = _write_sound(output, audio, clip, round(shown * SAMPLE_RATE / FPS), samples)
            incoming = _frames(clip, width, height, lengths[index])
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
        if audio is not None:
            for packet in audio.encode():
                output.mux(packet)
    return count, count / FPS


def _frame_count(clip: Clip) -> int:
    """How many frames at 24 fps the clip gives from `clip.start` to its end."""
    info = probe_video(clip.path)
    if info.stated_frames and info.fps:  # frames are the truth: timestamps may run short of them
        duration = info.stated_frames / info.fps
    elif info.duration:
        duration = info.duration
    else:
        duration = sum(1 for _ in video_frames(clip.path)) / (info.fps or FPS)
    return max(1, round((duration - clip.start) * FPS))


def _frames(clip: Clip, width: int, height: int, count: int) -> Iterator[np.ndarray]:
    """Exactly `count` frames of the clip from `clip.start`, at 24 fps (a frame shows until the next one's
    time), as RGB at the given size: a 30 fps clip keeps its length rather than playing 25% slower."""
    made = 0
    held: av.VideoFrame | None = None  # the latest frame decoded: what shows until the next one's time
    rgb: np.ndarray | None = None
    with contextlib.closing(video_frames(clip.path)) as frames:
        for frame in frames:
            time_ = frame.time if frame.time is not None else clip.start + made / FPS
            while held is not None and made < count and clip.start + made / FPS < time_ - 0.25 / FPS:
                if rgb is None:
                    rgb = held.reformat(width=width, height=height, format="rgb24").to_ndarray()
                yield rgb
                made += 1
            if made >= count:
                return
            held, rgb = frame, None
    while held is not None and made < count:
        if rgb is None:
            rgb = held.reformat(width=width, height=height, format="rgb24").to_ndarray()
        yield rgb
        made += 1


def _write_sound(output: av.container.OutputContainer, stream: av.AudioStream, clip: Clip, wanted: int,
                 written: int) -> int:
    """Encode `wanted` samples of the clip's sound from `clip.start` (silence where it has none or runs
    short); returns the samples written so far."""
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
    parts: list[np.ndarray] = []
    have = 0
    skip = round(clip.start * SAMPLE_RATE)
    with contextlib.closing(sound_frames(clip.path)) as frames:
        for frame in frames:
            for out in resampler.resample(frame):
                data = out.to_ndarray()
                if skip:
                    cut = min(skip, data.shape[1])
                    data, skip = data[:, cut:], skip - cut
                parts.append(data)
                have += data.shape[1]
            if have >= wanted:
                break
    pcm = np.concatenate(parts, axis=1) if parts else np.zeros((2, 0), np.float32)
    pcm = np.pad(pcm[:, :wanted], ((0, 0), (0, max(0, wanted - pcm.shape[1]))))
    for at in range(0, wanted, AUDIO_FRAME):
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[:, at:at + AUDIO_FRAME], np.float32),
                                           format="fltp", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = written
        written += frame.samples
        for packet in stream.encode(frame):
            output.mux(packet)
    return written


# -- frames either side of a cut ----------------------------------------------------------------------


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
