"""Joining clips and measuring cuts, on small real MP4s rendered by the engine's renderer."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from dailies.engine.render import RenderSpec, render_generate
from dailies.media import first_frame, last_frame, probe_video
from dailies.storyboard.assemble import Clip, copy_refusal, cut_delta_e, join, mean_delta_e


def render(folder: Path, name: str, *, size=(320, 180), seconds=1.0, seed=1, prompt="a kite at golden hour",
           reference: Image.Image | None = None) -> Path:
    out = folder / name
    out.mkdir()
    return render_generate(RenderSpec(*size, seconds, seed, prompt, prompt), out, {}, reference=reference).video


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_matching_clips_are_copied_and_play_back_whole(tmp_path: Path) -> None:
    clips = [Clip(render(tmp_path, f"c{n}", seed=n)) for n in range(3)]
    assert copy_refusal(clips) is None
    result = join(clips, tmp_path / "out.mp4")
    assert result.method == "copy"
    info = probe_video(result.path)
    assert info.duration == pytest.approx(3.0, abs=1 / 24)
    assert decoded_frames(result.path) == 72  # every packet decodes: timestamps run on across the joins
    # The copy is the clips' own pictures: the joined second clip opens on the second clip's first frame.
    with av.open(str(result.path)) as container:
        frames = [f.to_ndarray(format="rgb24") for _, f in zip(range(25), container.decode(video=0), strict=False)]
    assert mean_delta_e(frames[24], first_frame(clips[1].path)) < 0.5
    assert not list(tmp_path.glob(".*.part"))


def test_different_sizes_are_re_encoded_to_the_first_clips_size(tmp_path: Path) -> None:
    clips = [Clip(render(tmp_path, "wide")), Clip(render(tmp_path, "tall", size=(180, 320)))]
    assert "width" in copy_refusal(clips)
    result = join(clips, tmp_path / "out.mp4")
    info = probe_video(result.path)
    assert (result.method, info.width, info.height, info.frames) == ("reencode", 320, 180, 48)
    assert "differs from the first clip in" in result.reason


def test_a_crossfade_overlaps_each_cut_and_a_trim_starts_late(tmp_path: Path) -> None:
    clips = [Clip(render(tmp_path, f"c{n}", seed=n)) for n in range(3)]
    faded = join(clips, tmp_path / "faded.mp4", crossfade=0.25)
    assert (faded.method, probe_video(faded.path).frames) == ("reencode", 72 - 2 * 6)
    trimmed = join([clips[0], Clip(clips[1].path, start=0.5)], tmp_path / "trimmed.mp4")
    assert (trimmed.method, probe_video(trimmed.path).frames) == ("reencode", 24 + 12)


def test_delta_e_is_zero_for_the_same_frame_and_low_for_a_chained_cut(tmp_path: Path) -> None:
    first = render(tmp_path, "first", seed=1)
    rgb = last_frame(first)
    assert mean_delta_e(rgb, rgb) == 0
    assert mean_delta_e(np.zeros_like(rgb), np.full_like(rgb, 255)) == pytest.approx(100, abs=0.5)
    chained = render(tmp_path, "chained", seed=2, prompt="the kite climbs", reference=Image.fromarray(rgb))
    unchained = render(tmp_path, "unchained", seed=3, prompt="the kite climbs")
    assert cut_delta_e(Clip(first), Clip(chained)) < 3 < cut_delta_e(Clip(first), Clip(unchained))


def clip_with(path: Path, *, seconds: float = 1.0, fps: int = 24, tone: float | None = None,
              colour: tuple[int, int, int] = (200, 80, 40)) -> Path:
    """A small MP4 as vendors send them: H.264 at `fps`, with an AAC tone when `tone` (Hz) is given."""
    with av.open(str(path), "w", format="mp4") as output:
        video = output.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = 320, 180, "yuv420p"
        audio = output.add_stream("aac", rate=48_000, layout="stereo") if tone else None
        for i in range(round(seconds * fps)):
            rgb = np.full((180, 320, 3), colour, np.uint8)
            rgb[:, (i * 5) % 320] = 255
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            frame.pts = i
            output.mux(video.encode(frame))
        output.mux(video.encode())
        if audio is not None:
            total = round(seconds * 48_000)
            wave = (0.3 * np.sin(2 * np.pi * tone * np.arange(total) / 48_000)).astype(np.float32)
            for at in range(0, total, 1024):
                chunk = np.ascontiguousarray(np.stack([wave[at:at + 1024]] * 2))
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                frame.sample_rate, frame.pts = 48_000, at
                output.mux(audio.encode(frame))
            output.mux(audio.encode())
    return path


def sound_of(path: Path) -> np.ndarray:
    """The file's sound as mono float samples at 48 kHz."""
    with av.open(str(path)) as container:
        assert container.streams.audio, "no sound in the joined file"
        resampler = av.AudioResampler(format="flt", layout="mono", rate=48_000)
        parts = [out.to_ndarray()[0] for frame in container.decode(audio=0) for out in resampler.resample(frame)]
    return np.concatenate(parts)


def test_sound_is_copied_with_the_picture_and_stays_in_step(tmp_path: Path) -> None:
    clips = [Clip(clip_with(tmp_path / f"c{n}.mp4", tone=440 + 220 * n)) for n in range(3)]
    result = join(clips, tmp_path / "out.mp4")
    assert result.method == "copy"
    sound = sound_of(result.path)
    assert len(sound) / 48_000 == pytest.approx(3.0, abs=0.05)
    assert probe_video(result.path).duration == pytest.approx(3.0, abs=1 / 24)
    # The second second is the second clip's tone (660 Hz), not the first's.
    middle = sound[60_000:84_000]
    spectrum = np.abs(np.fft.rfft(middle))
    assert np.fft.rfftfreq(len(middle), 1 / 48_000)[spectrum.argmax()] == pytest.approx(660, abs=5)


def test_a_clip_without_sound_is_silence_and_other_frame_rates_keep_their_length(tmp_path: Path) -> None:
    clips = [Clip(clip_with(tmp_path / "a.mp4", tone=440)), Clip(clip_with(tmp_path / "b.mp4", fps=30)),
             Clip(clip_with(tmp_path / "c.mp4", tone=880))]
    result = join(clips, tmp_path / "out.mp4")
    assert result.method == "reencode" and "sound" in result.reason
    info = probe_video(result.path)
    assert (info.fps, info.frames) == (24, 72)  # the 30 fps second still lasts one second
    sound = sound_of(result.path)
    assert len(sound) / 48_000 == pytest.approx(3.0, abs=0.05)
    loud = [float(np.sqrt(np.mean(sound[s * 48_000 + 4_800:(s + 1) * 48_000 - 4_800] ** 2))) for s in range(3)]
    assert loud[0] > 0.1 and loud[2] > 0.1 and loud[1] < 0.01
