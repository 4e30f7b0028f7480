"""Frames and `HH:MM:SS:FF` timecode at a take's own frame rate.

A note is pinned to a frame number (0 is the first frame); timecode is how people and editing programs
read it. Timecode counts whole frames at an integer base: 24, 25 and 30 fps count as themselves, and
the NTSC rates 23.976 and 29.97 (59.94) count as non-drop-frame at the rounded base (24, 30, 60), which
is what an editor sees when a timeline is set to non-drop-frame. Drop-frame timecode is not written.
The frame rate and frame count come from `dailies.media.probe_video` (the one place that opens a video
to read its shape), cached per file and modification time.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from dailies.errors import ValidationError
from dailies.media import probe_video

__all__ = ["Clock", "FrameOutOfRange", "base_rate", "clock_of", "to_frame", "to_timecode"]

_TIMECODE = re.compile(r"^(\d{2,}):([0-5]\d):([0-5]\d)[:;](\d{2})$")


class FrameOutOfRange(ValidationError):
    """A frame before the first or past the last frame of the take: nothing is stored."""


def base_rate(fps: float) -> int:
    """The whole number of frames a timecode second counts: 23.976 → 24, 29.97 → 30 (non-drop-frame)."""
    if not fps or fps <= 0:
        raise ValueError(f"not a frame rate: {fps!r}")
    return max(1, round(fps))


def to_timecode(frame: int, fps: float) -> str:
    """`frame` (0-based) as `HH:MM:SS:FF` at `fps` (non-drop-frame at the rounded base)."""
    if frame < 0:
        raise ValueError("a frame number is never negative")
    base = base_rate(fps)
    seconds, frames = divmod(int(frame), base)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{frames:02d}"


def to_frame(timecode: str, fps: float) -> int:
    """The frame number of `HH:MM:SS:FF` at `fps`; ValidationError when it is not a timecode of that rate."""
    found = _TIMECODE.match(timecode.strip())
    base = base_rate(fps)
    if not found or int(found.group(4)) >= base:
        raise ValidationError(f"{timecode!r} is not a timecode at {base} fps (HH:MM:SS:FF, frames 00-{base - 1:02d}).")
    hours, minutes, seconds, frames = (int(part) for part in found.groups())
    return ((hours * 60 + minutes) * 60 + seconds) * base + frames


@dataclass(frozen=True)
class Clock:
    """A take's frames: how many, at what rate. The one place a frame number is checked against a take."""

    fps: float
    frames: int

    @property
    def base(self) -> int:
        return base_rate(self.fps)

    @property
    def last_frame(self) -> int:
        return self.frames - 1

    def timecode(self, frame: int) -> str:
        return to_timecode(frame, self.fps)

    def frame_at(self, timecode: str) -> int:
        return self.check(to_frame(timecode, self.fps))

    def seconds(self, frame: int) -> float:
        """Where `frame` starts, in seconds of the video."""
        return frame / self.fps

    def seek_time(self, frame: int) -> float:
        """The time a player seeks to to show `frame`: the middle of the frame, not its start, so that a
        rounded `currentTime` (browsers keep microseconds, a 29.97 fps frame is 33366.7 µs) never lands on
        the frame before."""
        return (frame + 0.5) / self.fps

    def frame_at_time(self, seconds: float) -> int:
        """The frame a player shows at `seconds` (its `currentTime`), within the take's frames."""
        return min(self.last_frame, max(0, int(seconds * self.fps + 1e-6)))

    def check(self, frame: object, what: str = "frame") -> int:
        """`frame` as a frame number of this take, or FrameOutOfRange saying which frames there are."""
        if isinstance(frame, bool) or not isinstance(frame, int):
            raise ValidationError(f"{what} must be a whole frame number, not {frame!r}.", field=what)
        if not 0 <= frame < self.frames:
            raise FrameOutOfRange(f"{what} {frame} is not in this take: its frames are 0 to {self.last_frame} "
                                  f"({self.timecode(0)} to {self.timecode(self.last_frame)} at "
                                  f"{self.fps:g} fps).", field=what)
        return frame


def clock_of(path: str | os.PathLike[str]) -> Clock:
    """The frame rate and frame count of the video at `path` (probed once per file version)."""
    where = Path(path)
    stat = where.stat()
    return _probe(str(where.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=512)
def _probe(path: str, mtime_ns: int, size: int) -> Clock:
    info = probe_video(path)
    if info.fps <= 0 or info.frames <= 0:
        raise ValueError(f"{Path(path).name} has no frames to pin a note to")
    return Clock(fps=info.fps, frames=info.frames)
