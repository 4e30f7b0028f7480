"""Being told that a file changed, instead of looking at it again and again.

An idle server pays for every timer it keeps: on a small shared VM each wake-up costs milliseconds of
CPU, all day, with no tab open. A store follows other processes' writes to its journal; with inotify
(through watchdog, which Streamlit already brings) it is woken when one of them writes, and sleeps
otherwise. Where inotify is not to be had (another platform, the user's watch limit reached), `watch`
returns None and the caller keeps looking on a timer, as it did before.

One observer per process; one watch per folder, shared by every file watched in it and dropped with
the last of them, so a process that opens and closes many stores does not collect watches and threads.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers.api import BaseObserver, ObservedWatch

__all__ = ["Watch", "watch"]

log = logging.getLogger(__name__)

# A write shows as a modification (and a close after writing); a compaction as a move onto the file.
# Opening and reading are left out: the store reads the journal when told, and must not be told again.
_WRITES: list[type[FileSystemEvent]] = [FileModifiedEvent, FileClosedEvent, FileCreatedEvent, FileMovedEvent,
                                        FileDeletedEvent]

Callback = Callable[[], None]


class Watch:
    """A file being watched; `close()` stops the callbacks."""

    def __init__(self, folder: _Folder, path: str, callback: Callback) -> None:
        self._folder, self._path, self._callback = folder, path, callback

    def close(self) -> None:
        _watcher.remove(self._folder, self._path, self._callback)


class _Folder(FileSystemEventHandler):
    """The files watched in one folder, and the callbacks each one has."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.files: dict[str, list[Callback]] = {}
        self.watch: ObservedWatch | None = None

    def on_any_event(self, event: FileSystemEvent) -> None:
        paths = {os.fsdecode(event.src_path), os.fsdecode(getattr(event, "dest_path", "") or "")}
        with _watcher.lock:
            callbacks = [cb for path in paths for cb in self.files.get(path, ())]
        for callback in callbacks:
            try:
                callback()
            except Exception:  # one caller's error must not stop the others' news
                log.exception("a file watch callback failed")


class _Watcher:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.folders: dict[str, _Folder] = {}
        self.observer: BaseObserver | None = None

    def add(self, path: Path, callback: Callback) -> Watch | None:
        path = path.resolve()
        folder_name, name = str(path.parent), str(path)
        with self.lock:
            folder = self.folders.get(folder_name)
            if folder is None:
                folder = _Folder(folder_name)
                try:
                    folder.watch = self._observer().schedule(folder, folder_name, event_filter=_WRITES)
                except Exception as exc:  # no inotify here, or no watch left: the caller polls
                    log.info("not watching %s (%s); looking on a timer instead", folder_name, exc)
                    return None
                self.folders[folder_name] = folder
            folder.files.setdefault(name, []).append(callback)
            return Watch(folder, name, callback)

    def remove(self, folder: _Folder, path: str, callback: Callback) -> None:
        with self.lock:
            callbacks = folder.files.get(path, [])
            if callback in callbacks:
                callbacks.remove(callback)
            if not callbacks:
                folder.files.pop(path, None)
            if folder.files or folder.watch is None:
                return
            self.folders.pop(folder.name, None)
            watch, folder.watch = folder.watch, None
        try:
            self._observer().unschedule(watch)
        except Exception:  # already gone with its folder
            log.debug("unscheduling %s failed", watch, exc_info=True)

    def _observer(self) -> BaseObserver:
        if self.observer is None:
            from watchdog.observers.inotify import InotifyObserver  # Linux only: ImportError elsewhere

            observer = InotifyObserver()
            observer.daemon = True
            observer.name = "dailies-file-watch"
            observer.start()
            self.observer = observer
        return self.observer


class _DroppedWatchRace(logging.Filter):
    """watchdog (7.1) logs an error when a watch is dropped while its thread waits for the next event: a race
    of its own with no consequence (the thread ends), which would otherwise be printed as an error by every
    process whose store closes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "called when the thread is inactive" not in record.getMessage()


logging.getLogger("watchdog.observers.inotify").addFilter(_DroppedWatchRace())
_watcher = _Watcher()


def watch(path: Path, callback: Callback) -> Watch | None:
    """Call `callback` (from the watcher's thread) soon after a process writes, replaces or removes `path`;
    None when this platform or process cannot watch it, and the caller must look for itself."""
    return _watcher.add(path, callback)
