"""Handing a storyboard to an editor: an OpenTimelineIO timeline, a zip with the media, a contact sheet.

The timeline is one video track with a clip per shot, in order, each pointing at its picked take's
file with the take's real duration (an extension's clip starts where its source ended), and the
shot's name, prompt and job id as metadata under `dailies`. The `.otio` file on its own points at
the files where they are on this machine; the zip holds the same timeline pointing at the copies
beside it (`media/01-<shot>.mp4`), so it opens on another machine.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import opentimelineio as otio
from PIL import Image, ImageDraw, ImageFont

from dailies import assemble
from dailies.media import probe_video

__all__ = ["HandoffClip", "contact_sheet_png", "media_zip", "otio_json", "timeline"]

RATE = 24.0


@dataclass(frozen=True)
class HandoffClip:
    """One shot as the editor receives it."""

    name: str
    prompt: str
    job_id: str
    path: Path
    start: float = 0.0


def _file_name(index: int, clip: HandoffClip) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", clip.name.lower()).strip("-")[:40] or "shot"
    return f"{index + 1:02d}-{slug}{clip.path.suffix}"


def timeline(title: str, clips: list[HandoffClip], *, relative: bool = False) -> otio.schema.Timeline:
    """The board as an OTIO timeline; `relative` points the clips at `media/<file>` (the zip's layout)."""
    track = otio.schema.Track(name="Picked takes", kind=otio.schema.TrackKind.Video)
    for index, clip in enumerate(clips):
        info = probe_video(clip.path)
        rate = round(info.fps) or RATE
        available = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                            otio.opentime.RationalTime(round(info.duration * rate), rate))
        start = otio.opentime.RationalTime(round(clip.start * rate), rate)
        used = otio.opentime.TimeRange(start, available.duration - start)
        url = f"media/{_file_name(index, clip)}" if relative else clip.path.resolve().as_uri()
        reference = otio.schema.ExternalReference(target_url=url, available_range=available)
        track.append(otio.schema.Clip(
            name=clip.name, media_reference=reference, source_range=used,
            metadata={"dailies": {"prompt": clip.prompt, "job_id": clip.job_id}},
        ))
    result = otio.schema.Timeline(name=title)
    result.tracks.append(track)
    return result


def otio_json(title: str, clips: list[HandoffClip], *, relative: bool = False) -> str:
    return otio.adapters.write_to_string(timeline(title, clips, relative=relative), "otio_json")


def media_zip(title: str, clips: list[HandoffClip]) -> bytes:
    """A zip of `timeline.otio` and `media/`: the picked takes, named in order. Videos are stored, not deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("timeline.otio", otio_json(title, clips, relative=True), zipfile.ZIP_DEFLATED)
        for index, clip in enumerate(clips):
            archive.write(clip.path, f"media/{_file_name(index, clip)}", zipfile.ZIP_STORED)
    return buffer.getvalue()


def contact_sheet_png(title: str, clips: list[HandoffClip], *, tile_width: int = 360, columns: int = 3) -> bytes:
    """One PNG: a frame from the middle of each shot's take, its name and its prompt beneath."""
    font, small = _font(18), _font(13)
    frames = [_middle_frame(clip) for clip in clips]
    tile_h = max((round(tile_width * f.height / f.width) for f in frames), default=round(tile_width * 9 / 16))
    text_h, pad, head = 96, 12, 44
    columns = max(1, min(columns, len(clips) or 1))
    rows = max(1, -(-len(clips) // columns))
    sheet = Image.new("RGB", (pad + columns * (tile_width + pad), head + rows * (tile_h + text_h + pad)), "white")
    draw = ImageDraw.Draw(sheet)
    draw.text((pad, pad), title, fill="black", font=_font(22))
    for index, (clip, frame) in enumerate(zip(clips, frames, strict=True)):
        x = pad + (index % columns) * (tile_width + pad)
        y = head + (index // columns) * (tile_h + text_h + pad)
        frame.thumbnail((tile_width, tile_h))
        sheet.paste(frame, (x + (tile_width - frame.width) // 2, y))
        draw.text((x, y + tile_h + 4), f"{index + 1}. {clip.name}", fill="black", font=font)
        for line_no, line in enumerate(_wrap(clip.prompt, small, tile_width, draw)[:4]):
            draw.text((x, y + tile_h + 28 + line_no * 16), line, fill=(70, 70, 70), font=small)
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()


def _middle_frame(clip: HandoffClip) -> Image.Image:
    info = probe_video(clip.path)
    middle = clip.start + (info.duration - clip.start) / 2
    return Image.fromarray(assemble.first_frame(clip.path, middle))


def _wrap(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: int,
          draw: ImageDraw.ImageDraw) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()
