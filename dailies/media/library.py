"""The media folder: where each job's video, thumbnail and spritesheet live, and how we know they're whole.

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
from pathlib import Path

from dailies.errors import ValidationError
from dailies.jobs import FileRecord

VARIANT_EXT = {"video": "mp4", "thumbnail": "webp", "spritesheet": "jpg"}
_CONTENT_EXT = {"image/webp": "webp", "image/jpeg": "jpg", "image/png": "png", "video/mp4": "mp4"}
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def check_id(value: str, what: str = "id") -> str:
    """Refuse ids that could name anything but one file or folder of ours."""
    if not isinstance(value, str) or not _SAFE_ID.match(value) or ".." in value:
        raise ValidationError(f"not a valid {what}: {value!r}")
    return value


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
