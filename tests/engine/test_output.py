"""What the engine renders, checked with PyAV: shape, determinism, continuity, motion, provenance, faults."""

from __future__ import annotations

from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from until import wait_until

from dailies.client import VideosClient
from dailies.engine import EngineConfig, Faults, serve_engine
from dailies.engine.encoding import PRESET_VAR, Encoding
from dailies.engine.render import FPS, RenderSpec, render_generate, watermark_mask


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with serve_engine(EngineConfig(data_dir=tmp_path_factory.mktemp("output"), workers=2)) as engine:
        yield engine


@pytest.fixture(scope="module")
def client(running) -> VideosClient:
    return VideosClient(running.base_url)


def finish(client: VideosClient, video: dict, timeout: float = 60) -> dict:
    video_id = video["id"]

    def final() -> dict | None:
        latest = client.retrieve(video_id)
        return latest if latest["status"] in ("completed", "failed") else None

    return wait_until(final, timeout, f"{video_id} to finish")


def fetch(client: VideosClient, video: dict, folder: Path) -> Path:
    path = folder / f"{video['id']}.mp4"
    client.download(video["id"], "video", path)
    return path


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def luma(frame: np.ndarray) -> np.ndarray:
    return frame.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)


def shift_between(a: np.ndarray, b: np.ndarray) -> tuple[int, int]:
    """The global translation from a to b, by phase correlation."""
    fa, fb = np.fft.fft2(luma(a)), np.fft.fft2(luma(b))
    cross = fa * np.conj(fb)
    peak = np.unravel_index(np.argmax(np.abs(np.fft.ifft2(cross / (np.abs(cross) + 1e-9)))), a.shape[:2])
    return tuple(int(p - s if p > s // 2 else p) for p, s in zip(peak, a.shape[:2], strict=True))  # type: ignore


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_an_mp4_of_the_requested_shape(client: VideosClient, tmp_path: Path) -> None:
    video = finish(client, client.create(prompt="a red kite, static", size="1280x720", seconds=8))
    path = fetch(client, video, tmp_path)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (1280, 720)
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        assert float(stream.average_rate) == FPS
        assert float(stream.duration * stream.time_base) == pytest.approx(8, abs=0.1)
        assert stream.frames == 8 * FPS
        meta = dict(container.metadata)
    text = " ".join(meta.values())
    assert video["id"] in text and "a red kite, static" in text and "dailies" in text.lower()
    head = path.read_bytes()[:64]
    assert b"ftyp" in head and path.read_bytes().find(b"moov") < path.read_bytes().find(b"mdat"), "faststart"


@pytest.mark.slow
def test_takes_differ_and_a_seed_repeats(client: VideosClient, tmp_path: Path) -> None:
    prompt = "a lighthouse at golden hour, slow pan left"
    made = [client.create(prompt=prompt, extra={"seed": seed}) for seed in (11, 11, 12)]
    paths = [fetch(client, finish(client, v), tmp_path) for v in made]
    a, b, c = (frames(p) for p in paths)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True)), "same seed, same frames"
    assert np.abs(a[10].astype(int) - c[10].astype(int)).mean() > 5, "another seed, another take"


@pytest.mark.slow
def test_the_prompt_drives_palette_and_motion(client: VideosClient, tmp_path: Path) -> None:
    night = frames(fetch(client, finish(client, client.create(prompt="harbour at night", extra={"seed": 3})), tmp_path))
    noon = frames(fetch(client, finish(client, client.create(prompt="harbour at noon", extra={"seed": 3})), tmp_path))
    assert luma(night[0]).mean() + 40 < luma(noon[0]).mean()
    panning = frames(
        fetch(client, finish(client, client.create(prompt="street, pan right", extra={"seed": 5})), tmp_path)
    )
    dy, dx = shift_between(panning[0], panning[24])
    assert abs(dx) >= 10 and abs(dy) <= 3


@pytest.mark.slow
def test_an_extension_continues_from_the_last_frame(client: VideosClient, tmp_path: Path) -> None:
    source = finish(client, client.create(prompt="desert road, dolly in", extra={"seed": 8}))
    extension = finish(client, client.extend(prompt="the road goes on, pan left", seconds=4, video=source["id"]))
    assert extension["seconds"] == "8"
    old, new = frames(fetch(client, source, tmp_path)), frames(fetch(client, extension, tmp_path))
    assert len(new) == len(old) + 4 * FPS
    seam = np.abs(new[len(old)].astype(int) - old[-1].astype(int)).mean()
    jump = np.abs(old[-1].astype(int) - old[0].astype(int)).mean()
    assert seam < 10 and seam < jump / 2, (seam, jump)  # resampling blur, not a cut


@pytest.mark.slow
def test_a_remix_keeps_the_motion_and_changes_the_look(client: VideosClient, tmp_path: Path) -> None:
    source = finish(client, client.create(prompt="city skyline at noon, pan left", extra={"seed": 21}))
    remix = finish(client, client.remix(source["id"], prompt="city skyline in neon"))
    assert remix["remixed_from_video_id"] == source["id"]
    a, b = frames(fetch(client, source, tmp_path)), frames(fetch(client, remix, tmp_path))
    assert shift_between(a[0], a[36]) == shift_between(b[0], b[36]) != (0, 0)
    assert np.abs(a[0].mean(axis=(0, 1)) - b[0].mean(axis=(0, 1))).max() > 30


@pytest.mark.slow
def test_edits_transform_the_source(client: VideosClient, tmp_path: Path) -> None:
    source = finish(client, client.create(prompt="orange tram, golden hour, static", extra={"seed": 2}))
    original = frames(fetch(client, source, tmp_path))
    grey = frames(fetch(client, finish(client, client.edit(prompt="black and white", video=source["id"])), tmp_path))
    spread = np.abs(grey[5].astype(int) - grey[5].mean(axis=2, keepdims=True)).mean()
    assert spread < 3, "no colour left"
    mirrored = frames(fetch(client, finish(client, client.edit(prompt="mirror it", video=source["id"])), tmp_path))
    h = original[5].shape[0]
    upper = slice(0, h // 2)  # the watermark sits at the bottom right; compare above it
    flipped_back = mirrored[5][upper, ::-1].astype(int)
    assert (
        np.abs(flipped_back - original[5][upper].astype(int)).mean()
        < np.abs(mirrored[5][upper].astype(int) - original[5][upper].astype(int)).mean() / 2
    )
    faster = frames(fetch(client, finish(client, client.edit(prompt="faster", video=source["id"])), tmp_path))
    assert len(faster) == len(original) // 2


@pytest.mark.slow
def test_every_frame_carries_the_watermark(client: VideosClient, tmp_path: Path) -> None:
    video = finish(client, client.create(prompt="snow field, zoom in", size="720x1280"))
    mask, x0, y0 = watermark_mask(720, 1280)
    text = mask > 200
    for frame in frames(fetch(client, video, tmp_path))[::12]:
        region = luma(frame)[y0 : y0 + mask.shape[0], x0 : x0 + mask.shape[1]]
        assert region[text].mean() > region[~text].mean() + 60


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_blocked_term_fails_the_job_as_moderation_blocked(tmp_path: Path) -> None:
    with serve_engine(EngineConfig(data_dir=tmp_path, faults=Faults(blocked_terms=("volcano",)))) as engine:
        client = VideosClient(engine.base_url)
        failed = finish(client, client.create(prompt="A VOLCANO at night"))
        assert failed["status"] == "failed" and failed["error"]["code"] == "moderation_blocked"
        assert finish(client, client.create(prompt="volcanic sand"))["status"] == "completed"


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_injected_job_failures_say_so(tmp_path: Path) -> None:
    with serve_engine(EngineConfig(data_dir=tmp_path, faults=Faults(rate_failed_jobs=1.0))) as engine:
        client = VideosClient(engine.base_url)
        failed = finish(client, client.create(prompt="doomed"))
        assert failed["status"] == "failed" and failed["error"]["message"]


@pytest.mark.slow  # a real process, server or render: out of the fast tier
def test_a_dropped_download_really_truncates(tmp_path: Path) -> None:
    with serve_engine(EngineConfig(data_dir=tmp_path, faults=Faults(rate_drop_download=1.0))) as engine:
        client = VideosClient(engine.base_url)
        video = finish(client, client.create(prompt="dropped"))
        url = f"{engine.base_url}/videos/{video['id']}/content"
        with pytest.raises(httpx.HTTPError), httpx.stream("GET", url) as response:
            for _ in response.iter_bytes():
                pass


@pytest.mark.slow
def test_renders_stream_frames_rather_than_holding_them(tmp_path: Path) -> None:
    """The encoder is fed one frame at a time: a 12-second render holds no list of frames."""
    from dailies.engine import render

    spec = render.RenderSpec(720, 1280, 12, 1, "ocean, orbit", "ocean, orbit")
    seen: list[float] = []
    outputs = render.render_generate(spec, tmp_path, {}, progress=seen.append)
    assert outputs.frames == 12 * FPS
    assert seen == sorted(seen) and len(seen) >= 12 * FPS // 12 - 1


@pytest.mark.parametrize("size", [(720, 1280), (1024, 1792), (1280, 720)])
def test_the_caption_fits_the_frame_in_portrait_and_landscape(size: tuple[int, int], tmp_path: Path) -> None:
    """At 720x1280 the caption was cut to "paper boat on a po": every word now shows, within the frame."""
    from PIL import Image, ImageDraw

    from dailies.engine import render
    from dailies.engine.look import caption_of

    width, height = size
    caption = caption_of("A paper boat on a pond, golden hour")
    font, lines = render.caption_layout(caption, width, height)
    assert " ".join(lines) == caption == "A paper boat on a pond"
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    widths = [probe.textbbox((0, 0), line, font=font)[2] - probe.textbbox((0, 0), line, font=font)[0]
              for line in lines]
    assert max(widths) <= width * 0.8, (size, lines, widths)
    assert font.size >= 18, "still readable"
    # And a portrait take really renders with that caption painted.
    spec = render.RenderSpec(width, height, 1, 7, "A paper boat on a pond", "A paper boat on a pond")
    world = render.paint_world(spec)
    assert world.shape[1] >= width


@pytest.mark.slow
def test_the_encoder_preset_trades_bytes_for_render_time_and_keeps_the_picture(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """`veryfast` by default, `ultrafast` when DAILIES_ENGINE_PRESET says so: the same frames, count and size (within
    the encoders' loss), a bigger file, and the preset really reached x264 (its settings ride in the bitstream)."""
    monkeypatch.delenv(PRESET_VAR, raising=False)
    assert EngineConfig(data_dir=tmp_path / "a").encoding == Encoding(1, "veryfast")
    monkeypatch.setenv(PRESET_VAR, "ultrafast")
    assert EngineConfig(data_dir=tmp_path / "b").encoding.preset == "ultrafast"
    monkeypatch.setenv(PRESET_VAR, "fastest please")
    with pytest.raises(ValueError, match="DAILIES_ENGINE_PRESET='fastest please' is not an encoder preset"):
        Encoding.from_environment()

    spec = RenderSpec(720, 1280, 1, 7, "a lighthouse at golden hour, slow pan left", "slow pan left")
    made = {}
    for preset in ("veryfast", "ultrafast"):
        out = tmp_path / preset
        out.mkdir()
        render_generate(spec, out, {"title": preset}, encoding=Encoding(preset=preset))
        made[preset] = out / "video.mp4"
    default, fast = frames(made["veryfast"]), frames(made["ultrafast"])
    assert len(default) == len(fast) == FPS and default[0].shape == fast[0].shape == (1280, 720, 3)
    assert max(float(np.abs(a.astype(np.int16) - b).mean()) for a, b in zip(default, fast, strict=True)) < 3.0
    assert made["ultrafast"].stat().st_size > made["veryfast"].stat().st_size
    assert b"cabac=1" in made["veryfast"].read_bytes() and b"cabac=0" in made["ultrafast"].read_bytes()
