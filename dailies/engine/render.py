"""Rendering: procedural H.264 MP4s with PyAV, streamed frame by frame to the encoder.

A job's picture is a "world" canvas painted once (sky, horizon, seeded shapes, the caption), larger
than the frame, and a camera path over it; each frame is a crop that swscale scales and converts to
yuv420p, with moving particles and the watermark drawn into the luma plane. Nothing holds more than
a frame or two, so memory does not grow with duration.
"""

from __future__ import annotations

import contextlib
import math
import random
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from dailies.media import last_frame, probe_video, video_frames

from .encoding import DEFAULT as DEFAULT_ENCODING
from .encoding import Encoding
from .look import EditOps, Look, Motion, read_edit, read_look

FPS = 24
FRAME_TIME_BASE = Fraction(1, FPS)
WATERMARK = "DAILIES PREVIEW · local engine"
ENGINE_NAME = "dailies-engine (procedural preview renderer)"
WORLD_SCALE = 1.6
THUMB_MAX = 640
SPRITE_WIDTH = 160
SPRITE_COLUMNS = 4
SPRITE_FRAMES = 16

Progress = Callable[[float], None]


@dataclass(frozen=True)
class RenderSpec:
    """Everything that decides the pixels: the same spec renders the same frames."""

    width: int
    height: int
    seconds: float
    seed: int
    look_prompt: str
    motion_prompt: str

    @property
    def look(self) -> Look:
        look = read_look(self.look_prompt)
        motion = read_look(self.motion_prompt).motion
        return Look(look.palette_name, look.sky_top, look.sky_bottom, look.accent, motion, look.caption, look.words)


@dataclass(frozen=True)
class Outputs:
    video: Path
    thumbnail: Path
    spritesheet: Path
    frames: int


# -- the world --------------------------------------------------------------------------------------


def paint_world(spec: RenderSpec) -> np.ndarray:
    """The canvas the camera moves over, painted once per job."""
    look = spec.look
    ww, wh = int(spec.width * WORLD_SCALE) // 2 * 2, int(spec.height * WORLD_SCALE) // 2 * 2
    rng = random.Random(spec.seed)
    horizon = int(wh * rng.uniform(0.55, 0.7))
    rows = np.linspace(0.0, 1.0, horizon, dtype=np.float32)[:, None]
    top, bottom = np.array(look.sky_top, np.float32), np.array(look.sky_bottom, np.float32)
    sky = top * (1 - rows) + bottom * rows
    ground_top = bottom * 0.55
    ground_rows = np.linspace(0.0, 1.0, wh - horizon, dtype=np.float32)[:, None]
    ground = ground_top * (1 - ground_rows) + (ground_top * 0.35) * ground_rows
    canvas = np.concatenate([sky, ground])[:, None, :].repeat(ww, axis=1)
    # A little seeded texture, so that the encoder sees real detail and takes differ everywhere.
    noise = np.random.default_rng(spec.seed).normal(0, 6, (wh // 8 + 1, ww // 8 + 1, 1)).astype(np.float32)
    canvas += np.kron(noise, np.ones((8, 8, 1), np.float32))[:wh, :ww]
    image = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    accent = look.accent
    # A sun or moon.
    sx, sy, sr = rng.uniform(0.15, 0.85) * ww, rng.uniform(0.12, 0.4) * wh, rng.uniform(0.04, 0.09) * min(ww, wh)
    draw.ellipse((sx - sr, sy - sr, sx + sr, sy + sr), fill=_mix(accent, (255, 255, 255), 0.3))
    # Stars at night.
    if look.palette_name in ("night", "neon", "moonlight", "dusk"):
        for _ in range(160):
            x, y = rng.uniform(0, ww), rng.uniform(0, horizon * 0.9)
            draw.point((x, y), fill=(230, 230, 255))
    # Silhouettes on the horizon: buildings, trees, dunes, by seed.
    x = -rng.uniform(0, 60)
    while x < ww:
        w = rng.uniform(0.03, 0.09) * ww
        h = rng.uniform(0.05, 0.3) * wh
        shade = _mix(look.sky_bottom, (0, 0, 0), rng.uniform(0.45, 0.8))
        if rng.random() < 0.5:
            draw.rectangle((x, horizon - h, x + w, horizon + 2), fill=shade)
            for wy in np.arange(horizon - h + 10, horizon - 10, 22):
                for wx in np.arange(x + 8, x + w - 8, 18):
                    if rng.random() < 0.35:
                        draw.rectangle((wx, wy, wx + 6, wy + 9), fill=_mix(accent, shade, 0.2))
        else:
            draw.polygon([(x, horizon + 2), (x + w / 2, horizon - h), (x + w, horizon + 2)], fill=shade)
        x += w * rng.uniform(0.7, 1.3)
    # The subject's caption, in the middle of the world, so the camera frames it; wrapped and scaled
    # to the frame's width, so a portrait frame shows the whole prompt rather than its first words.
    font, lines = caption_layout(look.caption or "untitled", spec.width, spec.height)
    text = "\n".join(lines)
    spacing = max(4, font.size // 4) if isinstance(font, ImageFont.FreeTypeFont) else 4
    box = draw.multiline_textbbox((0, 0), text, font=font, spacing=spacing, align="center")
    tw, th = box[2] - box[0], box[3] - box[1]
    cx, cy = ww / 2 - tw / 2, wh * 0.5 - th / 2
    pad = max(8, (font.size if isinstance(font, ImageFont.FreeTypeFont) else 12) * 0.4)
    draw.rounded_rectangle(
        (cx - pad, cy - pad, cx + tw + pad, cy + th + pad), radius=pad, fill=_mix(look.sky_bottom, (0, 0, 0), 0.6)
    )
    draw.multiline_text((cx - box[0], cy - box[1]), text, font=font, fill=accent, spacing=spacing, align="center")
    return np.asarray(image)


CAPTION_WIDTH = 0.8
"""The share of the frame's width the caption may take, so it stays inside the frame as the camera moves."""


def caption_layout(
    text: str, width: int, height: int
) -> tuple[ImageFont.ImageFont | ImageFont.FreeTypeFont, list[str]]:
    """The caption's font and lines: words wrapped to fit the frame, the font shrunk until they do.

    The font starts from the frame's height (as before, so landscape takes look the same) and is
    shrunk for narrow frames, down to a floor that stays legible; a single word wider than the
    frame at that floor is the only thing that may still be cut.
    """
    limit = width * CAPTION_WIDTH
    words = text.split() or ["untitled"]
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    size = max(18, height // 14)
    floor = max(14, min(width, height) // 30)
    while True:
        font = _font(size)
        lines = _wrap(words, font, probe, limit)
        fits = all(_text_width(probe, line, font) <= limit for line in lines)
        if (fits and len(lines) <= 3) or size <= floor:
            return font, lines
        size = max(floor, int(size * 0.9))


def _wrap(words: list[str], font: ImageFont.ImageFont | ImageFont.FreeTypeFont, probe: ImageDraw.ImageDraw,
          limit: float) -> list[str]:
    lines: list[str] = []
    for word in words:
        if lines and _text_width(probe, f"{lines[-1]} {word}", font) <= limit:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _text_width(probe: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont) -> float:
    box = probe.textbbox((0, 0), text, font=font)
    return box[2] - box[0]


def _mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    return tuple(round(x * (1 - t) + y * t) for x, y in zip(a, b, strict=True))  # type: ignore[return-value]


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()


@lru_cache(maxsize=8)
def watermark_mask(width: int, height: int) -> tuple[np.ndarray, int, int]:
    """The watermark as an alpha mask and where it goes (bottom right, a margin in)."""
    size = max(12, height // 40)
    font = _font(size)
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    box = probe.textbbox((0, 0), WATERMARK, font=font)
    tw, th = box[2] - box[0] + 2 * size // 2, box[3] - box[1] + size
    mask = Image.new("L", (tw, th), 0)
    ImageDraw.Draw(mask).text((size // 2 - box[0], size // 2 - box[1]), WATERMARK, font=font, fill=255)
    arr = np.asarray(mask)
    x0 = max(0, width - tw - size)
    y0 = max(0, height - th - size)
    return arr[: height - y0, : width - x0], x0, y0


def stamp(luma: np.ndarray, width: int, height: int) -> None:
    """Blend the watermark into a luma plane in place: light text on a darkened plate."""
    mask, x0, y0 = watermark_mask(width, height)
    region = luma[y0 : y0 + mask.shape[0], x0 : x0 + mask.shape[1]]
    plate = (region.astype(np.uint16) * 3) // 5
    alpha = mask.astype(np.uint16)
    region[...] = ((plate * (255 - alpha) + 235 * alpha) // 255).astype(np.uint8)


# -- the camera -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Camera:
    """Centre (world fractions) and zoom (1 = a frame-sized crop of the world)."""

    cx: float
    cy: float
    zoom: float


def camera_at(t: float, motion: Motion, seed: int, start: Camera | None = None) -> Camera:
    start = start or Camera(0.5, 0.5, 1.0)
    s = motion.speed
    cx = start.cx + motion.pan_x * s * t
    cy = start.cy + motion.pan_y * s * t
    zoom = start.zoom * (1 + motion.zoom * s * t)
    if motion.orbit:
        angle = 2 * math.pi * t * s / 10
        cx += 0.07 * math.sin(angle)
        cy += 0.03 * (1 - math.cos(angle))
        zoom *= 1 + 0.03 * math.sin(angle / 2)
    if motion.handheld:
        rng = random.Random(seed)
        phases = [rng.uniform(0, 2 * math.pi) for _ in range(4)]
        cx += 0.004 * math.sin(2.1 * t + phases[0]) + 0.002 * math.sin(5.3 * t + phases[1])
        cy += 0.004 * math.sin(1.7 * t + phases[2]) + 0.002 * math.sin(4.9 * t + phases[3])
    return Camera(cx, cy, zoom)


def crop_box(camera: Camera, width: int, height: int, world_w: int, world_h: int) -> tuple[int, int, int, int]:
    zoom = max(camera.zoom, max(width / world_w, height / world_h))
    cw, ch = min(world_w, int(width / zoom)), min(world_h, int(height / zoom))
    x = round(camera.cx * world_w - cw / 2)
    y = round(camera.cy * world_h - ch / 2)
    x = min(max(0, x), world_w - cw)
    y = min(max(0, y), world_h - ch)
    return x, y, cw, ch


# -- encoding ---------------------------------------------------------------------------------------


class Encoder:
    """An MP4 writer that also keeps what the thumbnail and spritesheet need, frame by frame."""

    def __init__(
        self, path: Path, width: int, height: int, total_frames: int, metadata: dict[str, str],
        encoding: Encoding = DEFAULT_ENCODING,
    ) -> None:
        self.path = path
        self.width, self.height = width, height
        self.total = max(1, total_frames)
        self.container = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
        for key, value in metadata.items():
            self.container.metadata[key] = value
        stream = self.container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        # mbtree reads frame padding that is not initialised, which makes output vary between runs; off, renders
        # are byte-for-byte repeatable.
        stream.options = {"preset": encoding.preset, "crf": "23", "g": str(FPS * 2), "x264-params": "mbtree=0"}
        stream.codec_context.thread_count = encoding.threads
        self.stream = stream
        self.count = 0
        self.thumb: np.ndarray | None = None
        self.sprites: list[np.ndarray] = []
        picks = min(SPRITE_FRAMES, self.total)
        self._sprite_at = {int(i * self.total / picks) for i in range(picks)}

    def add(self, frame: av.VideoFrame) -> None:
        if self.count == self.total // 3 or (self.thumb is None and self.count == 0):
            self.thumb = frame.to_ndarray(format="rgb24")
        if self.count in self._sprite_at:
            sh = max(2, round(SPRITE_WIDTH * self.height / self.width))
            self.sprites.append(frame.reformat(width=SPRITE_WIDTH, height=sh, format="rgb24").to_ndarray())
        # Frames copied from a source video (an extension's first part) carry the source's time base; the
        # count is in frames of this stream, so say so, or those frames all land at time 0.
        frame.pts, frame.time_base = self.count, FRAME_TIME_BASE
        for packet in self.stream.encode(frame):
            self.container.mux(packet)
        self.count += 1

    def close(self) -> None:
        for packet in self.stream.encode():
            self.container.mux(packet)
        self.container.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):  # best effort on a render that already failed
            self.container.close()


def yuv_frame(rgb: np.ndarray, width: int, height: int) -> av.VideoFrame:
    """Scale and convert an RGB crop to a yuv420p frame (swscale does the work)."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    return frame.reformat(width=width, height=height, format="yuv420p", interpolation="BILINEAR")


def luma_plane(frame: av.VideoFrame) -> np.ndarray:
    """The frame's Y plane as a writable array view (no copy)."""
    plane = frame.planes[0]
    return np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width]


def finish_frame(frame: av.VideoFrame, particles: Particles | None, t: float) -> av.VideoFrame:
    """Draw the moving motes and the watermark into the frame's luma, in place."""
    luma = luma_plane(frame)
    if particles is not None:
        particles.draw(luma, t)
    stamp(luma, frame.width, frame.height)
    return frame


class Particles:
    """A few bright motes drifting across the frame, independent of the camera, so a still shot moves."""

    def __init__(self, seed: int, width: int, height: int, count: int = 7) -> None:
        rng = random.Random(seed * 7919 + 1)
        self.width, self.height = width, height
        self.size = max(3, min(width, height) // 120)
        self.items = [
            (rng.uniform(0, width), rng.uniform(0, height * 0.6), rng.uniform(-40, 40), rng.uniform(-10, 10))
            for _ in range(count)
        ]

    def draw(self, luma: np.ndarray, t: float) -> None:
        s = self.size
        for x0, y0, vx, vy in self.items:
            x = int((x0 + vx * t) % (self.width - s))
            y = int((y0 + vy * t) % (self.height - s))
            luma[y : y + s, x : x + s] = 230


def render_generate(
    spec: RenderSpec,
    out: Path,
    metadata: dict[str, str],
    *,
    reference: Image.Image | None = None,
    progress: Progress | None = None,
    encoding: Encoding = DEFAULT_ENCODING,
) -> Outputs:
    """Render a spec to `out`: video.mp4, thumbnail.webp and spritesheet.jpg.

    A reference image is the opening frame, dissolving into the scene over the first second.
    """
    width, height = spec.width, spec.height
    world = paint_world(spec)
    wh, ww = world.shape[:2]
    motion = spec.look.motion
    ref = _fit(reference, width, height) if reference is not None else None

    def crops() -> Iterator[np.ndarray]:
        for i in range(max(1, round(spec.seconds * FPS))):
            t = i / FPS
            x, y, cw, ch = crop_box(camera_at(t, motion, spec.seed), width, height, ww, wh)
            crop = world[y : y + ch, x : x + cw]
            if ref is not None and t < 1.0:
                scaled = yuv_frame(crop, width, height).to_ndarray(format="rgb24")
                crop = (ref * (1.0 - t) + scaled * t).astype(np.uint8)
            yield crop

    return encode(
        out,
        metadata,
        width,
        height,
        round(spec.seconds * FPS),
        crops(),
        particles=Particles(spec.seed, width, height),
        progress=progress,
        encoding=encoding,
    )


def encode(
    out: Path,
    metadata: dict[str, str],
    width: int,
    height: int,
    frames: int,
    pictures: Iterable[np.ndarray],
    *,
    prefix: Iterable[av.VideoFrame] = (),
    prefix_frames: int = 0,
    particles: Particles | None = None,
    progress: Progress | None = None,
    encoding: Encoding = DEFAULT_ENCODING,
) -> Outputs:
    """Encode `prefix` (frames, as they are) then `pictures` (RGB of any size: scaled, watermarked)."""
    total = max(1, prefix_frames + frames)
    encoder = Encoder(out / "video.mp4", width, height, total, metadata, encoding)

    def tick() -> None:
        if progress and encoder.count % 12 == 0:
            progress(min(1.0, encoder.count / total))

    try:
        for frame in prefix:
            encoder.add(frame)
            tick()
        for i, picture in enumerate(pictures):
            encoder.add(finish_frame(yuv_frame(picture, width, height), particles, (prefix_frames + i) / FPS))
            tick()
        encoder.close()
    except BaseException:
        encoder.abort()
        raise
    return write_previews(encoder, out)


def _fit(image: Image.Image, width: int, height: int) -> np.ndarray:
    """Cover-fit an image to the frame (scale, centre-crop)."""
    image = image.convert("RGB")
    scale = max(width / image.width, height / image.height)
    resized = image.resize((max(width, round(image.width * scale)), max(height, round(image.height * scale))))
    left, top = (resized.width - width) // 2, (resized.height - height) // 2
    return np.asarray(resized.crop((left, top, left + width, top + height)), dtype=np.float32)


def write_previews(encoder: Encoder, out: Path) -> Outputs:
    thumb = Image.fromarray(encoder.thumb if encoder.thumb is not None else np.zeros((8, 8, 3), np.uint8))
    thumb.thumbnail((THUMB_MAX, THUMB_MAX))
    thumb.save(out / "thumbnail.webp", "WEBP", quality=80)
    sprites = encoder.sprites or [np.zeros((90, SPRITE_WIDTH, 3), np.uint8)]
    sh, sw = sprites[0].shape[:2]
    cols = min(SPRITE_COLUMNS, len(sprites))
    rows = math.ceil(len(sprites) / cols)
    sheet = Image.new("RGB", (cols * sw, rows * sh))
    for i, sprite in enumerate(sprites):
        sheet.paste(Image.fromarray(sprite), ((i % cols) * sw, (i // cols) * sh))
    sheet.save(out / "spritesheet.jpg", "JPEG", quality=80)
    return Outputs(out / "video.mp4", out / "thumbnail.webp", out / "spritesheet.jpg", encoder.count)


# -- reading sources --------------------------------------------------------------------------------


def source_size(path: Path) -> tuple[int, int]:
    """The source's size made even (H.264 in yuv420p wants even sides)."""
    info = probe_video(path)
    return info.width // 2 * 2, info.height // 2 * 2


def decode_frames(path: Path, width: int, height: int) -> Iterator[av.VideoFrame]:
    """A source video's frames as yuv420p at the given size, one at a time, with fresh timestamps."""
    for frame in video_frames(path):
        out = frame.reformat(width=width, height=height, format="yuv420p")
        out.pts = None
        yield out


def render_extension(
    source: Path,
    spec: RenderSpec,
    out: Path,
    metadata: dict[str, str],
    *,
    progress: Progress | None = None,
    encoding: Encoding = DEFAULT_ENCODING,
) -> Outputs:
    """The source as it is, then `spec.seconds` more that start from its last frame.

    The new segment's world is the source's last frame, enlarged; the camera starts by framing all
    of it (so the first new frame is the last old one) and eases into the new prompt's motion.
    """
    width, height = source_size(source)
    last = last_frame(source, width, height)
    prefix_frames = sum(1 for _ in video_frames(source))
    world = np.asarray(
        Image.fromarray(last).resize(
            (int(width * WORLD_SCALE) // 2 * 2, int(height * WORLD_SCALE) // 2 * 2), Image.BILINEAR
        )
    )
    wh, ww = world.shape[:2]
    motion = spec.look.motion
    start_zoom = 1 / WORLD_SCALE
    frames = max(1, round(spec.seconds * FPS))

    def crops() -> Iterator[np.ndarray]:
        for i in range(frames):
            t = (i + 1) / FPS
            ease = min(1.0, t / 2.0)
            base = camera_at(t, motion, spec.seed)
            cam = Camera(
                0.5 + (base.cx - 0.5) * ease, 0.5 + (base.cy - 0.5) * ease, start_zoom + (base.zoom - start_zoom) * ease
            )
            x, y, cw, ch = crop_box(cam, width, height, ww, wh)
            yield world[y : y + ch, x : x + cw]

    return encode(
        out,
        metadata,
        width,
        height,
        frames,
        crops(),
        prefix=decode_frames(source, width, height),
        prefix_frames=prefix_frames,
        progress=progress,
        encoding=encoding,
    )


def apply_edit(rgb: np.ndarray, ops: EditOps) -> np.ndarray:
    frame = rgb.astype(np.float32)
    if ops.grade == "warm":
        frame *= np.array([1.12, 1.0, 0.82], np.float32)
    elif ops.grade == "cool":
        frame *= np.array([0.85, 0.98, 1.15], np.float32)
    if ops.brightness != 1.0:
        frame *= ops.brightness
    if ops.contrast != 1.0:
        frame = (frame - 128) * ops.contrast + 128
    if ops.grayscale:
        luma = frame @ np.array([0.299, 0.587, 0.114], np.float32)
        frame = np.repeat(luma[..., None], 3, axis=2)
    if ops.mirror:
        frame = frame[:, ::-1]
    if ops.flip:
        frame = frame[::-1]
    return np.clip(frame, 0, 255).astype(np.uint8)


def render_edit(
    source: Path,
    prompt: str,
    out: Path,
    metadata: dict[str, str],
    *,
    progress: Progress | None = None,
    encoding: Encoding = DEFAULT_ENCODING,
) -> Outputs:
    """Decode the source, transform each frame as the prompt asks, re-encode (watermarked again).

    A prompt with no edit words gets a grade toward its palette, so an edit always shows. Reversal
    goes through a memory-mapped scratch file, so a long clip never sits in memory.
    """
    ops = read_edit(prompt)
    if ops.is_identity:
        warm = read_look(prompt).palette_name in ("golden hour", "sunset", "autumn", "desert")
        ops = EditOps(grade="warm" if warm else "cool")
    width, height = source_size(source)
    count = sum(1 for _ in video_frames(source))
    frames: Iterator[np.ndarray] = _decoded_rgb(source, width, height)
    with contextlib.ExitStack() as stack:
        if ops.reverse:
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(dir=out))) / "frames.raw"
            with open(scratch, "wb") as raw:
                for rgb in frames:
                    raw.write(np.ascontiguousarray(rgb).tobytes())
            mapped = np.memmap(scratch, dtype=np.uint8, mode="r", shape=(count, height, width, 3))
            frames = (mapped[i] for i in range(count - 1, -1, -1))
        edited = (apply_edit(rgb, ops) for rgb in _respeed(frames, ops.speed))
        total = max(1, round(count / ops.speed))
        return encode(out, metadata, width, height, total, edited, progress=progress, encoding=encoding)


def _decoded_rgb(path: Path, width: int, height: int) -> Iterator[np.ndarray]:
    for frame in video_frames(path):
        yield frame.to_ndarray(width=width, height=height, format="rgb24")


def _respeed(frames: Iterator[np.ndarray], speed: float) -> Iterator[np.ndarray]:
    if speed >= 1.0:
        step = round(speed)
        for i, frame in enumerate(frames):
            if i % step == 0:
                yield frame
    else:
        repeat = round(1 / speed)
        for frame in frames:
            for _ in range(repeat):
                yield frame
