"""Handing a storyboard to an editor: an OpenTimelineIO timeline, a zip with the media, a contact sheet.

The timeline is one video track with a clip per shot, in order, each pointing at its picked take's
file with the take's real duration (an extension's clip starts where its source ended), and the
shot's name, prompt and job id as metadata under `dailies`. Both the `.otio` file on its own and
the zip's `timeline.otio` point at `media/01-<shot>.mp4`, relative to the timeline file: the zip holds
those files beside it, so it opens on another machine as it is; with the `.otio` alone, an editor puts
the takes there (or relinks by those names). An absolute `file:///` path on the server meant nothing
on the editor's machine and could not be relinked by name.

Each clip carries its take's review notes as markers at their frames, in the clip's media time
(`dailies.review.markers.note_marker`), and the take's approval status in its metadata.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import opentimelineio as otio
from PIL import Image, ImageDraw, ImageFont

from dailies.media import first_frame, probe_video
from dailies.review.markers import edl_of_markers, note_marker
from dailies.review.timecode import Clock, to_frame

if TYPE_CHECKING:
    from dailies.review.notes import Note

__all__ = ["HandoffClip", "contact_sheet_png", "markers_edl", "media_zip", "otio_json", "timeline"]

RATE = 24.0


@dataclass(frozen=True)
class HandoffClip:
    """One shot as the editor receives it."""

    name: str
    prompt: str
    job_id: str
    path: Path
    start: float = 0.0
    notes: tuple[Note, ...] = ()
    """The take's review notes, each a marker at its frame on the clip."""
    status: str = ""
    """The take's approval status (in_review, changes_requested, approved, final), or empty."""


def _file_name(index: int, clip: HandoffClip) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", clip.name.lower()).strip("-")[:40] or "shot"
    return f"{index + 1:02d}-{slug}{clip.path.suffix}"


def timeline(title: str, clips: list[HandoffClip], *, relative: bool = True) -> otio.schema.Timeline:
    """The board as an OTIO timeline pointing at `media/<file>` (the zip's layout); `relative=False` points at
    the files where they are on this machine (for tools run here, never for a hand-off)."""
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
        made = otio.schema.Clip(
            name=clip.name, media_reference=reference, source_range=used,
            metadata={"dailies": {"prompt": clip.prompt, "job_id": clip.job_id, "status": clip.status}},
        )
        clock = Clock(fps=rate, frames=max(1, round(info.duration * rate)))
        for note in clip.notes:  # in the clip's media time, like the source range: frame N of the take
            made.markers.append(note_marker(note, clock, clip.status))
        track.append(made)
    result = otio.schema.Timeline(name=title)
    result.tracks.append(track)
    return result


def markers_edl(title: str, clips: list[HandoffClip], *, timeline_start: str = "01:00:00:00") -> str:
    """Every shot's notes as one Resolve timeline-marker EDL on the cut: each note at its place in the
    sequence (the shots end to end, as in `timeline`), from `timeline_start` (Resolve's default 01:00:00:00).
    A note on a part of a take the cut leaves out (before an extension's cut point) has no place: left out."""
    rate = round(probe_video(clips[0].path).fps) if clips else int(RATE)
    offset, placed = to_frame(timeline_start, rate), []
    for clip in clips:
        info = probe_video(clip.path)
        first, length = round(clip.start * rate), round(info.duration * rate) - round(clip.start * rate)
        placed.extend((offset + note.frame - first, note) for note in clip.notes
                      if first <= note.frame < first + length)
        offset += length
    return edl_of_markers(title, rate, placed)


MEDIA_FOLDER = "media"
"""Where a hand-off timeline expects its takes, relative to the `.otio` file."""


def otio_json(title: str, clips: list[HandoffClip], *, relative: bool = True) -> str:
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
        for line_no, line in enumerate(prompt_lines(clip.prompt, small, tile_width, draw, PROMPT_LINES)):
            draw.text((x, y + tile_h + 28 + line_no * 16), line, fill=(70, 70, 70), font=small)
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()


def _middle_frame(clip: HandoffClip) -> Image.Image:
    info = probe_video(clip.path)
    middle = clip.start + (info.duration - clip.start) / 2
    return Image.fromarray(first_frame(clip.path, middle))


PROMPT_LINES = 4
"""Lines of prompt under each frame of a contact sheet; a longer prompt ends in "…"."""


def prompt_lines(text: str, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, width: int,
                 draw: ImageDraw.ImageDraw, limit: int = PROMPT_LINES) -> list[str]:
    """`text` wrapped to `width`, at most `limit` lines; what does not fit ends the last line with "…",
    so a reader knows the prompt goes on (a word wider than the tile is cut the same way)."""
    def fits(line: str) -> bool:
        return draw.textlength(line, font=font) <= width

    def cut(line: str) -> str:
        while line and not fits(f"{line}…"):
            line = line[:-1]
        return f"{line.rstrip(' ,;')}…"

    lines: list[str] = []
    for word in text.split():
        if lines and fits(f"{lines[-1]} {word}"):
            lines[-1] = f"{lines[-1]} {word}"
        elif len(lines) == limit:
            lines[-1] = cut(f"{lines[-1]} {word}")
            return lines
        else:
            lines.append(word if fits(word) else cut(word))
    return lines


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType
        return ImageFont.load_default()
