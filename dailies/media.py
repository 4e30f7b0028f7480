"""Files on disk: where each job's video, thumbnail and spritesheet live, and how we know they're whole.

Every path is built from a job id that is checked first and resolved inside the media folder, so an
id or file name that tries to leave the folder (`../`) is refused rather than followed.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dailies.errors import ValidationError
from dailies.jobs import FileRecord

if TYPE_CHECKING:
    from PIL import Image

VARIANT_EXT = {"video": "mp4", "thumbnail": "webp", "spritesheet": "jpg"}
_CONTENT_EXT = {"image/webp": "webp", "image/jpeg": "jpg", "image/png": "png", "video/mp4": "mp4"}
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def check_id(value: str, what: str = "id") -> str:
    """Refuse ids that could name anything but one file or folder of ours."""
    if not isinstance(value, str) or not _SAFE_ID.match(value) or ".." in value:
        raise ValidationError(f"not a valid {what}: {value!r}")
    return value


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    duration: float
    fps: float
    codec: str
    pix_fmt: str
    frames: int


class MediaLibrary:
    """The media folder: one subfolder per job, one file per content variant."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def job_dir(self, job_id: str) -> Path:
        return self._inside(self.root / check_id(job_id, "job id"))

    def path_for(self, job_id: str, variant: str, content_type: str = "") -> Path:
        if variant not in VARIANT_EXT:
            raise ValidationError(f"unknown content variant {variant!r}; expected one of {', '.join(VARIANT_EXT)}")
        ext = _CONTENT_EXT.get(content_type.split(";")[0].strip(), VARIANT_EXT[variant])
        return self.job_dir(job_id) / f"{variant}.{ext}"

    def resolve(self, relative: str) -> Path:
        """A stored relative path back to an absolute one, refusing anything outside the folder."""
        return self._inside(self.root / relative)

    def relative(self, path: str | os.PathLike[str]) -> str:
        return Path(path).resolve().relative_to(self.root).as_posix()

    def servable(self, relative: str | os.PathLike[str]) -> Path | None:
        """The file at `relative` (to the folder) when it may be served: a regular file that really lives
        inside the folder, not a link (to a file, or through a linked folder) to anything elsewhere, such as a
        key file someone could link into a take's folder. None for anything else (missing, a loop of links)."""
        path = self.root / relative
        try:
            if path.is_symlink():
                return None
            real = path.resolve(strict=True)
            mode = real.lstat().st_mode
        except (OSError, RuntimeError):
            return None
        return real if stat.S_ISREG(mode) and real.is_relative_to(self.root) else None

    def _inside(self, path: Path) -> Path:
        resolved = path.resolve()
        if resolved != self.root and self.root not in resolved.parents:
            raise ValidationError(f"path leaves the media folder: {path}")
        return resolved

    def verify(self, record: FileRecord) -> bool:
        """The file is there, of the recorded size and digest."""
        try:
            path = self.resolve(record.path)
        except ValidationError:
            return False
        if not path.is_file() or path.stat().st_size != record.size:
            return False
        return sha256_file(path) == record.sha256

    def present(self, record: FileRecord) -> bool:
        """A cheap check for start-up: the file is there with the recorded size."""
        try:
            path = self.resolve(record.path)
        except ValidationError:
            return False
        return path.is_file() and path.stat().st_size == record.size

    def remove_job(self, job_id: str) -> None:
        shutil.rmtree(self.job_dir(job_id), ignore_errors=True)

    def disk_usage(self) -> int:
        """Bytes of every file under the folder (os.scandir: about 4x faster than `Path.rglob` and a stat)."""
        total, folders = 0, [str(self.root)]
        while folders:
            try:
                entries = os.scandir(folders.pop())
            except OSError:
                continue  # removed while we walked
            with entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            folders.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
        return total


class UsageCounter:
    """The media folder's size, added up in a background thread.

    Walking the folder of 100,000 takes takes seconds, and Settings must open at once: a page asks for
    the size at a store version and gets the last count at once (and whether it is of that version),
    while one thread counts again.
    """

    def __init__(self, media: MediaLibrary) -> None:
        self.media = media
        self._lock = threading.Lock()
        self._counted: tuple[int, int] | None = None  # (store version, bytes)
        self._counting = False
        self._done = threading.Condition(self._lock)

    def size(self, version: int, *, wait: float = 0.0) -> tuple[int | None, bool]:
        """(bytes, current): the latest count (None before the first), and whether it was made at `version`.

        `wait`: how long to wait for a count of `version` (a small folder is counted in milliseconds, so a
        page shows its figure at once and needs no timer to show it later)."""
        with self._done:
            if not self._current(version) and not self._counting:
                self._counting = True
                threading.Thread(target=self._count, args=(version,), name="dailies-disk-usage", daemon=True).start()
            if wait > 0:  # Condition.wait_for(timeout=0) still lets the walk finish in between
                self._done.wait_for(lambda: self._current(version), timeout=wait)
            return (self._counted[1] if self._counted else None), self._current(version)

    def _current(self, version: int) -> bool:
        return bool(self._counted and self._counted[0] == version)

    def _count(self, version: int) -> None:
        try:
            total = self.media.disk_usage()
            with self._done:
                self._counted = (version, total)
        finally:
            with self._done:
                self._counting = False
                self._done.notify_all()


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF8", "image/gif"),
    (8, b"WEBP", "image/webp"),
    (4, b"ftyp", "video/mp4"),
)


def sniff_type(path: str | os.PathLike[str]) -> str | None:
    """What a file is by its first bytes, whatever the server's Content-Type said (gateways mislabel)."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    for offset, magic, kind in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return kind
    return None


def make_thumbnail(video: str | os.PathLike[str], dest: str | os.PathLike[str], *, width: int = 480) -> FileRecord:
    """A WEBP still from the video's first frame, for providers that serve no thumbnail of their own.

    Written like a download (temp file, rename) so a half-made thumbnail is never recorded.
    """
    import av

    dest = Path(dest)
    try:
        with av.open(str(video)) as container:
            frame = next(container.decode(video=0))
    except (av.FFmpegError, StopIteration) as exc:
        raise ValueError(f"{Path(video).name} has no frame to make a thumbnail from") from exc
    image = frame.to_image()
    image.thumbnail((width, width))
    tmp = dest.with_name(f".{dest.name}.part")
    image.save(tmp, format="WEBP", quality=80)
    tmp.replace(dest)
    return FileRecord(path=str(dest), size=dest.stat().st_size, sha256=sha256_file(dest), content_type="image/webp")


def probe_video(path: str | os.PathLike[str]) -> VideoInfo:
    """Read a video's shape with PyAV; raises ValueError when it is not a playable video."""
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError(f"{Path(path).name} has no video stream")
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
            )
    except av.FFmpegError as exc:
        raise ValueError(f"{Path(path).name} is not a readable video: {exc}") from exc


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
        with av.open(str(path)) as container:
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
