"""Writing a file so that it is whole or absent: the one way every part of Dailies replaces a file.

A reader (the media route, another process following a journal, a CLI reading the engine's URL) must
never see half a file, and a crash (killed process, full disk, lost power) must never leave one where
the file belongs. So every write goes to a temp file beside the target (same folder, so the rename
cannot cross file systems), is flushed and fsynced, renamed over the target in one step
(`os.replace`), and the folder is fsynced so the rename itself survives a power cut. On any error the
temp file is removed and the target keeps its old content.

Temp files are made with `tempfile.mkstemp`: readable by their user only (0600), which the target
keeps, as files holding signing secrets or tokens must.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from dailies.jobs import FileRecord

__all__ = ["replaced_file", "replaced_path", "write_bytes", "write_chunks", "write_text"]


def write_bytes(dest: str | os.PathLike[str], data: bytes, *, content_type: str = "") -> FileRecord:
    """Replace `dest` with `data`."""
    return write_chunks(dest, (data,), content_type=content_type)


def write_text(dest: str | os.PathLike[str], text: str) -> FileRecord:
    """Replace `dest` with `text` in UTF-8."""
    return write_bytes(dest, text.encode("utf-8"))


def write_chunks(dest: str | os.PathLike[str], chunks: Iterable[bytes], *, content_type: str = "") -> FileRecord:
    """Replace `dest` with the chunks in order (a download's body, streamed), hashing them on the way.

    An exception raised while the chunks are drawn (a dropped connection, a length check) leaves `dest`
    as it was.
    """
    dest = Path(dest)
    digest = hashlib.sha256()
    size = 0
    with replaced_file(dest) as out:
        for chunk in chunks:
            out.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return FileRecord(path=str(dest), size=size, sha256=digest.hexdigest(), content_type=content_type)


@contextlib.contextmanager
def replaced_file(dest: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file to write `dest`'s new content into; it replaces `dest` when the block ends without error."""
    with replaced_path(dest) as tmp, open(tmp, "wb") as out:
        yield out


@contextlib.contextmanager
def replaced_path(dest: str | os.PathLike[str]) -> Iterator[Path]:
    """A temp path beside `dest` for a writer that wants a path (PyAV, Pillow, boto3), renamed over `dest`
    when the block ends without error.

    A writer that names its format from the file's extension must be told the format: the temp name
    ends in `.part`.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync_file(tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest.parent)


def _fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make a rename or a new file in `folder` durable; a file system that cannot sync a folder is let be."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    """Flush what was written to `path` and closed (by us, PyAV or Pillow) before it is renamed into place."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
