"""Inter-process file locks (`fcntl.flock`): the one way processes on a data folder take turns.

A lock lives on a small file of its own that is never replaced, because a lock taken on a file that
another process then renames over is a lock on nothing. The kernel drops a lock when its holder dies,
so a killed process never leaves a folder locked.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

__all__ = ["FileLock", "held_exclusively"]


class FileLock:
    """An exclusive lock on `path` across processes. Not re-entrant; guard it with a thread lock."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, *, blocking: bool = True) -> bool:
        """Take the lock (waiting for it unless `blocking` is false). True when this holder has it."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    @contextlib.contextmanager
    def hold(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()


def held_exclusively(path: str | os.PathLike[str]) -> bool:
    """Whether some process holds the lock on `path` now (a probe: it takes and drops the lock if free)."""
    probe = FileLock(path)
    if probe.acquire(blocking=False):
        probe.release()
        return False
    return True
