"""Notes to the editor: a take's notes as OpenTimelineIO markers, a Resolve marker EDL, CSV, annotated frames.

Every export puts a note at its own frame of the take (an in/out range as a marker that long), at the take's
frame rate, with its text as text:
- `timeline`/`otio_json`: one video track, the take as a clip, one marker per note on the clip (in the
  clip's media time, so frame 37 is `RationalTime(37, fps)`), with text, author, timecode, done flag, the
  take's approval status and the drawing under `metadata["dailies"]`. Open notes are red markers, done
  ones green.
- `fcpxml`: the same timeline as Final Cut Pro XML (OTIO's `fcpx_xml` adapter, `otio-fcpx-xml-adapter`):
  each note a `<marker>` on the clip, an open one a to-do (`completed="0"`), a done one completed.
- `resolve_edl`: the marker list DaVinci Resolve writes and reads (Timelines > Export/Import > Timeline
  Markers to EDL): one one-track event per note, `|C:ResolveColor<colour> |M:<name> |D:<frames>` on the
  line below. Record timecodes start at `timeline_start` (00:00:00:00, the take's own timecode; pass
  01:00:00:00 for a Resolve timeline that starts there). A `|` in a note would end the field: it is
  written as `/`; a line break as a space.
- `notes_csv`: one row per note, through `dailies.exports.safe_csv` (no cell runs as a formula).
- `annotated_zip`: a PNG of each noted frame with its drawing rendered (Pillow over the frame PyAV read),
  and `notes.txt` listing the notes by timecode.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import opentimelineio as otio
import pandas as pd
from PIL import Image, ImageDraw, ImageFont

from dailies.exports import safe_csv
from dailies.media import frame_images
from dailies.review.drawing import PALETTE
from dailies.review.notes import Note
from dailies.review.text import one_line
from dailies.review.timecode import Clock, to_frame, to_timecode

__all__ = ["annotated_zip", "draw_on", "edl_of_markers", "fcpxml", "note_marker", "notes_csv", "otio_json",
           "resolve_edl", "timeline"]

OPEN_COLOUR, DONE_COLOUR = "RED", "GREEN"
RESOLVE_COLOURS = {"RED": "ResolveColorRed", "GREEN": "ResolveColorGreen", "BLUE": "ResolveColorBlue"}


def _colour(note: Note) -> str:
    return DONE_COLOUR if note.done else OPEN_COLOUR


def note_marker(note: Note, clock: Clock, status: str = "") -> otio.schema.Marker:
    """One note as an OTIO marker at its frame (its range for in/out), in the take's media time."""
    rate = clock.fps
    marked = otio.opentime.TimeRange(otio.opentime.RationalTime(note.frame, rate),
                                     otio.opentime.RationalTime(note.frames if note.end_frame is not None else 0,
                                                                rate))
    view = note.view(clock)
    metadata = {"dailies": {
        "note_id": note.id, "take": note.take, "version": note.version, "frame": note.frame,
        "end_frame": note.end_frame, "timecode": view["timecode"], "end_timecode": view["end_timecode"],
        "text": note.text, "author": note.author, "author_signed_in": note.author_signed_in,
        "done": note.done, "done_by": note.done_by, "status": status, "drawing": note.drawing,
        "replies": [{"author": r.author, "text": r.text} for r in note.replies],
    }}
    name = one_line(f"{note.author}: {note.text}")[:200] if note.text else note.author
    return otio.schema.Marker(name=name, marked_range=marked, color=_colour(note), metadata=metadata)


def timeline(title: str, video: Path, clock: Clock, notes: Sequence[Note], *, status: str = "",
             take: str = "", url: str | None = None) -> otio.schema.Timeline:
    """A timeline with the take as its one clip and a marker per note. `url` is where the clip points
    (the file's name beside the `.otio` by default, so an editor relinks it by name)."""
    rate = clock.fps
    available = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate),
                                        otio.opentime.RationalTime(clock.frames, rate))
    reference = otio.schema.ExternalReference(target_url=url or video.name, available_range=available)
    clip = otio.schema.Clip(name=title, media_reference=reference, source_range=available,
                            metadata={"dailies": {"take": take, "status": status, "fps": clock.fps}})
    for note in notes:
        clip.markers.append(note_marker(note, clock, status))
    track = otio.schema.Track(name="Take", kind=otio.schema.TrackKind.Video)
    track.append(clip)
    made = otio.schema.Timeline(name=title)
    made.tracks.append(track)
    return made


def otio_json(title: str, video: Path, clock: Clock, notes: Sequence[Note], **kwargs: Any) -> str:
    return otio.adapters.write_to_string(timeline(title, video, clock, notes, **kwargs), "otio_json")


def fcpxml(title: str, video: Path, clock: Clock, notes: Sequence[Note], **kwargs: Any) -> str:
    """The timeline as FCPXML 1.8: the take as a clip, a marker per note (open red → to-do, done → completed)."""
    return otio.adapters.write_to_string(timeline(title, video, clock, notes, **kwargs), "fcpx_xml")


def _edl_field(text: str) -> str:
    return one_line(text).replace("|", "/")


def resolve_edl(title: str, clock: Clock, notes: Sequence[Note], *, timeline_start: str = "00:00:00:00") -> str:
    """The notes as DaVinci Resolve's timeline-marker EDL (see the module's docstring)."""
    start = to_frame(timeline_start, clock.fps)
    return edl_of_markers(title, clock.fps, [(start + note.frame, note) for note in notes])


def edl_of_markers(title: str, fps: float, placed: Sequence[tuple[int, Note]]) -> str:
    """Resolve's timeline-marker EDL of notes placed at record frames (a take's own frames, or a cut's)."""
    lines = [f"TITLE: {_edl_field(title)[:70]}", "FCM: NON-DROP FRAME", ""]
    for number, (first, note) in enumerate(sorted(placed, key=lambda p: p[0]), start=1):
        record_in, record_out = to_timecode(first, fps), to_timecode(first + note.frames, fps)
        lines.append(f"{number:03d}  001      V     C        {record_in} {record_out} {record_in} {record_out}  ")
        name = _edl_field(f"{note.author}: {note.text}" if note.text else note.author)
        lines.append(f" |C:{RESOLVE_COLOURS[_colour(note)]} |M:{name} |D:{note.frames}")
        lines.append("")
    return "\n".join(lines) + "\n"


def notes_csv(clock: Clock, notes: Sequence[Note], *, status: str = "") -> str:
    rows = [{
        "timecode": clock.timecode(n.frame), "end_timecode": clock.timecode(n.end_frame) if n.end_frame else "",
        "frame": n.frame, "end_frame": n.end_frame if n.end_frame is not None else "",
        "seconds": round(clock.seconds(n.frame), 3), "version": n.version, "author": n.author, "text": n.text,
        "done": n.done, "done_by": n.done_by, "replies": len(n.replies), "shapes": len(n.drawing),
        "status": status, "note_id": n.id, "take": n.take,
    } for n in notes]
    columns = ["timecode", "end_timecode", "frame", "end_frame", "seconds", "version", "author", "text", "done",
               "done_by", "replies", "shapes", "status", "note_id", "take"]
    return safe_csv(pd.DataFrame(rows, columns=columns))


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def draw_on(image: Image.Image, shapes: Sequence[dict[str, Any]]) -> Image.Image:
    """A copy of `image` with the drawing's shapes drawn over it at the image's size."""
    out = image.convert("RGB")
    pen = ImageDraw.Draw(out)
    w, h = out.size
    width = max(2, round(min(w, h) / 180))

    def at(point: Sequence[float]) -> tuple[float, float]:
        return point[0] * w, point[1] * h

    for shape in shapes:
        colour = PALETTE.get(shape.get("colour", "red"), PALETTE["red"])
        kind = shape["kind"]
        if kind in ("rect", "ellipse"):
            x0, y0, x1, y1 = shape["box"]
            box = (x0 * w, y0 * h, x1 * w, y1 * h)
            (pen.rectangle if kind == "rect" else pen.ellipse)(box, outline=colour, width=width)
        elif kind == "text":
            pen.text(at(shape["points"][0]), shape["text"], fill=colour, font=_font(max(12, h // 24)),
                     stroke_width=1, stroke_fill="#000000")
        else:
            points = [at(p) for p in shape["points"]]
            pen.line(points, fill=colour, width=width, joint="curve")
            if kind == "arrow":
                (x0, y0), (x1, y1) = points
                angle, size = math.atan2(y1 - y0, x1 - x0), width * 5
                head = [(x1, y1)] + [(x1 - size * math.cos(angle + s * 0.45), y1 - size * math.sin(angle + s * 0.45))
                                     for s in (-1, 1)]
                pen.polygon(head, fill=colour)
    return out


def annotated_zip(title: str, video: Path, clock: Clock, notes: Sequence[Note]) -> bytes:
    """A ZIP of `NNN-<timecode>.png` (each noted frame, its drawing over it) and `notes.txt`."""
    frames = frame_images(video, {note.frame for note in notes}) if notes else {}
    buffer = io.BytesIO()
    text = [f"{title}", f"{clock.fps:g} fps, {clock.frames} frames", ""]
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, note in enumerate(notes, start=1):
            timecode = clock.timecode(note.frame)
            name = f"{number:03d}-{timecode.replace(':', '-')}.png"
            png = io.BytesIO()
            draw_on(frames[note.frame], note.drawing).save(png, format="PNG")
            archive.writestr(name, png.getvalue())
            span = f"{timecode}-{clock.timecode(note.end_frame)}" if note.end_frame is not None else timecode
            state = "done" if note.done else "open"
            text.append(f"{number:03d}  {span}  (frame {note.frame}, {state})  {note.author}: {note.text}")
            text.extend(f"      reply from {r.author}: {r.text}" for r in note.replies)
            text.append(f"      image: {name}")
        archive.writestr("notes.txt", "\n".join(text) + "\n")
    return buffer.getvalue()
